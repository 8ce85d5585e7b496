-- Keeps a relation's names once per target and relid, renamed in place (pgpulse.relation_name).
INSERT INTO pgpulse.relation_name (target_id, relid, kind, schema_name, relation_name, table_name, droppable, first_seen_at)
VALUES (:target_id, :relid, :kind, :schema_name, :relation_name, :table_name, :droppable, :sampled_at)
ON CONFLICT (target_id, relid) DO UPDATE
SET kind = excluded.kind, schema_name = excluded.schema_name, relation_name = excluded.relation_name,
    table_name = excluded.table_name, droppable = excluded.droppable
WHERE (relation_name.kind, relation_name.schema_name, relation_name.relation_name, relation_name.table_name,
       relation_name.droppable)
      IS DISTINCT FROM (excluded.kind, excluded.schema_name, excluded.relation_name, excluded.table_name, excluded.droppable)
