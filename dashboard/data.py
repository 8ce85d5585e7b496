"""Cached access to the data layer, shared by every viewer of this process.

Results are keyed by the refresh interval's time bucket, so however many people watch, the
monitored database sees one set of monitoring queries per interval.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
import streamlit as st

from dashboard.config import Settings, Target, load_settings
from queries.connection import make_engine


@st.cache_resource(max_entries=32, show_spinner=False)
def engine_for(database_url: str, pool_size: int) -> sa.Engine:
    """One pooled engine per target and process; the pool bounds our connections."""
    return make_engine(database_url, pool_size=pool_size)


@st.cache_data(ttl=3600, max_entries=512, show_spinner=False)
def _cached_call(function_path: str, database_url: str, pool_size: int, bucket: int,
                 kwargs_items: tuple[tuple[str, Any], ...]) -> Any:
    function = _resolve(function_path)
    return function(engine_for(database_url, pool_size), **dict(kwargs_items))


def _resolve(function_path: str) -> Callable:
    import importlib

    module_name, _, name = function_path.rpartition(".")
    if not module_name.startswith("queries."):
        raise ValueError(f"only queries.* functions can be loaded, not {function_path}")
    return getattr(importlib.import_module(module_name), name)


def load(function: Callable, target: Target, refresh_seconds: int, **kwargs: Any) -> Any:
    """Call queries.<module>.<function>(engine, **kwargs), cached for the refresh interval."""
    bucket = int(time.time() // max(refresh_seconds, 1))
    path = f"{function.__module__}.{function.__name__}"
    pool_size = settings().pool_size
    return _cached_call(path, target.database_url, pool_size, bucket, tuple(sorted(kwargs.items())))


@st.cache_resource(show_spinner=False)
def _settings() -> Settings:
    return load_settings()


def settings() -> Settings:
    return _settings()
