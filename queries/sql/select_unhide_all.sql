-- Show the planner every index HypoPG hid in this backend again (hypopg_unhide_all).
SELECT hypopg_unhide_all() AS unhidden
