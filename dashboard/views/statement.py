"""One statement over time: its load by wait event, calls, mean time, rows, blocks, temp and WAL, from the history store
(?queryid=N)."""
from urllib.parse import urlencode

import streamlit as st

from dashboard.components import panel, rerun_if_unreachable
from dashboard.history import bucket_of, history_note, range_read, setting_markers
from dashboard.history_charts import series_chart
from dashboard.load_panels import statement_load
from dashboard.sidebar import current

context = current()
st.title("Statement")
raw_queryid = st.query_params.get("queryid", "")
try:
    queryid = int(raw_queryid)
except ValueError:
    st.info("Open a statement from the Queries page (its *History* link), or add `?queryid=` with a pg_stat_statements "
            "queryid to this page's address.", icon=":material/info:")
    st.stop()

note = history_note(context)
if note:
    st.info(note, icon=":material/history:")
    st.stop()


def statement_text() -> str | None:
    # the range's statements include its text; a statement that did not run in the range has none here
    frame = range_read("statements_over_range", context, limit=100_000, include_nested=True)
    row = frame[frame["queryid"] == queryid]
    return None if row.empty else str(row["query"].iloc[0])


@st.fragment(run_every=context.run_every)
def statement_page() -> None:
    rerun_if_unreachable(context)
    with panel():
        text = statement_text()
        st.caption(f"queryid {queryid} · {context.time_range.label} · times in UTC")
        if text is None:
            st.info(f"This statement did not run during the {context.time_range.label}; pick a longer time range in "
                    "the sidebar.", icon=":material/history:")
            return
        st.code(text, language="sql", wrap_lines=True)
        st.markdown(f"[Explain this statement](explain?{urlencode({'sql': text})})")
        series = range_read("statement_series", context, queryid=queryid, include_nested=True)
        bucket = bucket_of(series)
        charts = [
            ({"calls_per_s": "calls / s"}, "Calls per second", "calls/s", False),
            ({"mean_exec_time_ms": "mean"}, "Mean execution time", "ms", False),
            ({"rows_per_call": "rows / call"}, "Rows per call", "rows", False),
            ({"shared_blks_hit": "hit", "shared_blks_read": "read"}, "Shared blocks", "blocks", True),
            ({"temp_blks_read": "read", "temp_blks_written": "written"}, "Temp blocks", "blocks", True),
            ({"wal_bytes": "WAL"}, "WAL generated", "bytes", True),
        ]
        statement_load(context, queryid)
        columns, markers = st.columns(2), setting_markers(context)
        for position, (lines, title, unit, integer) in enumerate(charts):
            columns[position % 2].plotly_chart(series_chart(series, lines, title, unit=unit, integer=integer, bucket_s=bucket,
                                                            markers=markers), key=f"st_chart_{position}")


statement_page()
