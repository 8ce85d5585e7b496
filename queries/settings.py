"""The server settings that decide performance, as pg_settings reports them."""
from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from queries.connection import fetch_frame

# Memory, planner costs, WAL and checkpoints, autovacuum, parallelism and timeouts.
# Names this server does not know (io_method before 18) or hides from the role just do not come back.
PERFORMANCE_SETTINGS = (
    "shared_buffers", "effective_cache_size", "work_mem", "maintenance_work_mem", "max_connections",
    "random_page_cost", "seq_page_cost", "effective_io_concurrency", "track_io_timing",
    "wal_buffers", "min_wal_size", "max_wal_size", "checkpoint_timeout", "checkpoint_completion_target",
    "wal_compression", "synchronous_commit",
    "autovacuum", "autovacuum_max_workers", "autovacuum_naptime", "autovacuum_vacuum_scale_factor",
    "autovacuum_vacuum_threshold", "autovacuum_analyze_scale_factor", "autovacuum_vacuum_cost_limit",
    "autovacuum_freeze_max_age", "default_statistics_target",
    "max_parallel_workers_per_gather", "max_worker_processes", "jit", "huge_pages", "io_method",
    "shared_preload_libraries", "statement_timeout", "idle_in_transaction_session_timeout",
)


def performance_settings(engine: sa.Engine) -> pd.DataFrame:
    """The settings in PERFORMANCE_SETTINGS, in that order (pg_settings)."""
    return fetch_frame(engine, "select_settings", {"names": list(PERFORMANCE_SETTINGS)})
