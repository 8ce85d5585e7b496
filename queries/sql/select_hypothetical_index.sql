-- Create a hypothetical index with HypoPG (backend memory only: nothing is written) and read its estimated size.
SELECT indexrelid, hypopg_relation_size(indexrelid) AS estimated_size_bytes
FROM hypopg_create_index(CAST(:create_index AS text))
