-- The store's id of a target by name; its location (host:port/dbname, never a URL) kept current.
INSERT INTO pgpulse.target (name, location) VALUES (:name, :location)
ON CONFLICT (name) DO UPDATE SET location = excluded.location
RETURNING target_id
