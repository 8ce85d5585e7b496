-- Forget this backend's hypothetical indexes (HypoPG's hypopg_reset).
SELECT hypopg_reset()
