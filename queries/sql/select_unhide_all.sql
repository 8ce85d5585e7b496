-- Show the planner every index HypoPG hid in this backend again (hypopg_unhide_all_indexes, HypoPG 1.4+).
SELECT hypopg_unhide_all_indexes() AS unhidden
