"""Maintenance: vacuum and analyze state, dead rows, wraparound and overflow danger."""
import streamlit as st

from dashboard.charts import horizontal_bar
from dashboard.columns import progress
from dashboard.components import (
    confirm_analyze,
    panel,
    read_age_caption,
    refresh_now_button,
    rerun_if_unreachable,
    table_with_csv,
)
from dashboard.data import engine_for, load, settings
from dashboard.sidebar import current
from queries.advisors.statistics import stale_statistics
from queries.catalogue import metric_of
from queries.maintenance import (
    database_wraparound,
    integer_column_overflow,
    sequence_overflow,
    table_wraparound,
    tables_past_autovacuum_threshold,
    vacuum_stats,
)

context = current()
st.title("Maintenance")
refresh_now_button(context.target, "m_refresh")
# from the catalogue: the health check's threshold, so the page lists what the check counts
DEFAULT_MIN_RATIO = metric_of(sequence_overflow).defaults["min_ratio"]
min_percent = st.slider("Show sequences and integer columns at least this full", 0, 100, round(DEFAULT_MIN_RATIO * 100), 5,
                        format="%d %%", key="m_ratio", help="Share of the range already used; the health check warns from "
                        f"{DEFAULT_MIN_RATIO:.0%}. Move it to 0 % to list every sequence.")
min_ratio = min_percent / 100
RATIOS = {name: progress(name) for name in ("dead_row_ratio", "used_ratio")}


@st.fragment(run_every=context.run_every)
def maintenance_page() -> None:
    rerun_if_unreachable(context)
    with panel("Tables past their autovacuum threshold"):
        table_with_csv(load(tables_past_autovacuum_threshold, context),
                       "autovacuum_due", column_config=RATIOS, empty="No table is past its autovacuum threshold.")
        read_age_caption(tables_past_autovacuum_threshold, context)
    with panel("Stale statistics"):
        table_with_csv(load(stale_statistics, context), "stale_statistics",
                       first=["schema_name", "table_name", "rows_modified_since_analyze", "analyze_threshold_rows",
                              "fix_sql", "misestimated_statements", "worst_misestimate_factor", "last_analyzed"],
                       empty="No table changed past its analyze threshold since its last ANALYZE.")
        read_age_caption(stale_statistics, context)
    with panel("Vacuum and analyze"):
        stats = load(vacuum_stats, context)
        if chart := horizontal_bar(stats, "table_name", "dead_rows", "Dead rows by table"):
            st.plotly_chart(chart, key="m_dead")
        table_with_csv(stats, "maintenance", column_config=RATIOS,
                       first=["schema_name", "table_name", "dead_rows", "dead_row_ratio", "last_autovacuum"])
    with panel("Transaction-ID wraparound"):
        st.caption("By database")
        table_with_csv(load(database_wraparound, context), "wraparound")
        st.caption("By table, the oldest first: what an anti-wraparound vacuum has to freeze")
        table_with_csv(load(table_wraparound, context), "table_wraparound")
    with panel("Sequences close to their maximum"):
        table_with_csv(load(sequence_overflow, context, min_ratio=min_ratio),
                       "sequences", column_config=RATIOS, first=["schema_name", "sequence_name", "used_ratio"],
                       empty=f"No sequence has used {min_percent} % of its range or more.")
    with panel("Integer columns close to overflow"):
        table_with_csv(load(integer_column_overflow, context, min_ratio=min_ratio),
                       "integer_overflow", column_config=RATIOS,
                       first=["schema_name", "table_name", "column_name", "used_ratio", "fix_sql"],
                       empty=f"No integer column has used {min_percent} % of its range or more.")


maintenance_page()
if settings().allow_actions and not (stale := load(stale_statistics, context)).empty:
    with panel("Analyze a table"):
        confirm_analyze(engine_for(context.target.database_url, settings().pool_size), context.target,
                        list(stale["fix_sql"]), list(zip(stale["schema_name"], stale["table_name"], strict=True)))
