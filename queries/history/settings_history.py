"""Setting changes over a range, from the collector's pg_settings readings kept as changes (pgpulse.setting_change):
the Settings page's timeline and the markers on every history chart."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
import sqlalchemy as sa

from queries.history.reads import _checked_range, _read, _target

SETTING_CHANGE_COLUMNS = ["changed_at", "changed_after", "name", "old_value", "new_value", "pending_restart"]


def setting_changes(store: sa.Engine, target: str, start: datetime, end: datetime) -> pd.DataFrame:
    """Each setting whose value or pending-restart flag changed, seen by a collection in [start, end), oldest first:
    changed_at (the collection that saw it), changed_after (the one before: it changed in between), name,
    old_value, new_value (as SHOW prints them; None when the setting appeared or went), pending_restart (the new
    value waits for a restart). The collector's first reading is the base, not a change."""
    start, end = _checked_range(start, end)
    target_id = _target(store, target)
    if target_id is None:
        return pd.DataFrame(columns=SETTING_CHANGE_COLUMNS)
    return _read(store, "select_setting_changes", {"target_id": target_id, "start": start, "end": end})[
        SETTING_CHANGE_COLUMNS]
