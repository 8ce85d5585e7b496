"""Alembic's environment for the history store: always run programmatically (queries.history.schema.migrate) on a
connection the caller opened, so users need no alembic.ini."""
from alembic import context

from queries.history.schema import SCHEMA

connection = context.config.attributes["connection"]
context.configure(connection=connection, version_table_schema=SCHEMA, transactional_ddl=True)
with context.begin_transaction():
    # several collectors may start at once on one store: one migrates, the others then find the schema at head
    connection.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('pgpulse.migrate'))")
    connection.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")  # alembic_version lives in it
    context.run_migrations()
