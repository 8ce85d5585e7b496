"""Where a statement comes from: the sqlcommenter comment an application appends to its SQL.

`SELECT ... /*controller='feed',route='%2Ffeed',file='app.py%3A42'*/` is the format of google/sqlcommenter and of
OpenTelemetry's SQLAlchemy instrumentation (enable_commenter=True): key='value' pairs, comma-separated, keys and
values URL-encoded, a quote inside a value escaped with a backslash, the comment at the end of the statement.
pg_stat_statements keeps the text of an entry's first call only: the tags shown are that call's (one route among
several sharing a statement, if the comment is not part of what makes them distinct).
"""
from __future__ import annotations

import re
from urllib.parse import unquote

import pandas as pd

TAG_COLUMNS = ("route", "controller", "action", "file")  # the keys shown as their own columns; all are in comment_tags
_LAST_COMMENT = re.compile(r"/\*(?P<body>(?:[^*]|\*(?!/))*)\*/\s*;?\s*$")
_PAIR = re.compile(r"\s*(?P<key>[^=,'\s]+)='(?P<value>(?:[^'\\]|\\.)*)'\s*(?:,|$)")


def comment_tags(query: str | None) -> dict[str, str]:
    """The key -> value pairs of the sqlcommenter comment ending `query`; {} when there is none (or it is prose)."""
    match = _LAST_COMMENT.search(query or "")
    if not match:
        return {}
    body, tags, position = match["body"].strip(), {}, 0
    while position < len(body):
        pair = _PAIR.match(body, position)
        if pair is None:  # not key='value',... all the way: an ordinary comment such as /* pgpulse */
            return {}
        tags[unquote(pair["key"])] = unquote(re.sub(r"\\(.)", r"\1", pair["value"]))
        position = pair.end()
    return tags


def with_comment_tags(frame: pd.DataFrame, column: str = "query") -> pd.DataFrame:
    """The frame with route, controller, action and file columns (None when absent) and comment_tags, every pair
    as 'key=value, ...', read from the statement text in `column`."""
    tags = [comment_tags(query) for query in frame[column]] if not frame.empty else []
    extra = {key: pd.Series([found.get(key) for found in tags], index=frame.index, dtype=object) for key in TAG_COLUMNS}
    extra["comment_tags"] = pd.Series([", ".join(f"{k}={v}" for k, v in found.items()) or None for found in tags],
                                      index=frame.index, dtype=object)
    return frame.assign(**extra)
