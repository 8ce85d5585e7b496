"""The chart builders are pure functions from a DataFrame to a Plotly figure: each is checked on frames made here for
what a reader sees (whole-number ticks for counts, no chart for one value, ratios on the scale where they differ)."""
import pandas as pd

from dashboard.charts import (
    calls_vs_mean_scatter,
    count_bar,
    horizontal_bar,
    ratio_gauge,
    size_treemap,
    top_statements_bar,
    wait_events_bar,
)


def test_counts_have_whole_number_ticks():
    frame = pd.DataFrame({"state": ["idle", "active", "idle"], "connection_count": [4, 1, 2]})
    figure = count_bar(frame, "state", "connection_count", "By state")
    assert figure.layout.xaxis.tickformat == ",d" and figure.layout.xaxis.dtick == 1  # never 0.5, 1.5
    assert list(figure.data[0].y) == ["active", "idle"] and list(figure.data[0].x) == [1, 6]  # the largest on top
    bars = horizontal_bar(pd.DataFrame({"table_name": ["a", "b"], "dead_rows": [3, 7]}), "table_name", "dead_rows", "Dead")
    assert bars.layout.xaxis.tickformat == ",d" and bars.layout.xaxis.dtick == 1 and list(bars.data[0].text) == ["3", "7"]


def test_one_value_or_none_above_zero_is_no_chart():
    one = pd.DataFrame({"database_name": ["app"], "size_bytes": [10_485_760]})
    assert horizontal_bar(one, "database_name", "size_bytes", "Database size", unit="bytes") is None
    zeros = pd.DataFrame({"table_name": ["a", "b", "c"], "dead_rows": [0, 5, 0]})
    assert horizontal_bar(zeros, "table_name", "dead_rows", "Dead rows by table") is None  # one bar above 0
    assert horizontal_bar(pd.DataFrame(columns=["namespace", "memory_bytes"]), "namespace", "memory_bytes", "Memory",
                          unit="bytes") is None  # no rows: its columns have no number type


def test_sizes_are_labelled_in_bytes_units():
    frame = pd.DataFrame({"database_name": ["app", "other"], "size_bytes": [10_485_760, 2048]})
    figure = horizontal_bar(frame, "database_name", "size_bytes", "Database size", unit="bytes")
    assert list(figure.data[0].text) == ["2.0 kB", "10.0 MB"] and figure.layout.xaxis.showticklabels is False
    tree = size_treemap(pd.DataFrame({"schema_name": ["public", "public"], "table_name": ["posts", "users"],
                                      "total_bytes": [3 * 1024 ** 2, 1024 ** 2]}))
    assert list(tree.data[0].marker.colors[:2]) == list(tree.data[0].values[:2])  # the tables coloured by their size
    assert {row[0] for row in tree.data[0].customdata} >= {"3.0 MB", "1.0 MB", "4.0 MB"}  # the schema's total too


def test_hit_ratios_are_drawn_on_the_scale_where_they_differ():
    assert list(ratio_gauge(0.995, "Hit ratio").data[0].gauge.axis.range) == [90, 100]
    assert list(ratio_gauge(0.5, "Hit ratio").data[0].gauge.axis.range) == [0, 100]  # below 90 % the full dial
    assert ratio_gauge(0.995, "Hit ratio").data[0].value == 99.5


def test_wait_events_split_client_sessions_from_background_processes():
    waits = pd.DataFrame({"wait_event_type": ["Lock", None, "IO"], "wait_event": ["transactionid", None, "DataFileRead"],
                          "backend_count": [3, 2, 1]})
    sessions = pd.DataFrame({"state": ["active", "active", "idle", "active"],
                             "wait_event_type": ["Lock", "Lock", "Client", "IO"],
                             "wait_event": ["transactionid", "transactionid", "ClientRead", "DataFileRead"]})
    figure = wait_events_bar(waits, sessions)
    clients, background = figure.data
    assert (clients.name, background.name) == ("client sessions", "background processes")
    assert list(clients.y) == ["IO: DataFileRead", "running (CPU)", "Lock: transactionid"]  # the busiest on top
    assert list(clients.x) == [1, 0, 2] and list(background.x) == [0, 2, 1]
    assert figure.layout.barmode == "stack" and figure.layout.xaxis.tickformat == ",d"


STATEMENTS = pd.DataFrame({
    "query": ["SELECT posts.id, posts.title FROM posts WHERE posts.deleted_at IS NULL AND posts.title ILIKE $1",
              "SELECT 1"],
    "calls": [18, 3000], "mean_exec_time_ms": [211.0, 0.015], "total_exec_time_ms": [3800.0, 45.0],
    "rows_per_call": [20.0, 1.0]})


def test_statement_bars_have_short_labels_and_the_full_text_on_hover():
    figure = top_statements_bar(STATEMENTS, "total_exec_time_ms")
    assert list(figure.data[0].y) == ["#2 SELECT 1", "#1 SELECT posts.id, posts.title FROM…"]
    assert figure.data[0].customdata[1][0].endswith("posts.title<br>ILIKE $1")  # all of it, wrapped
    assert figure.layout.xaxis.title.text == "Total time (ms)"


def test_the_scatter_says_what_a_bubble_size_means():
    figure = calls_vs_mean_scatter(STATEMENTS)
    assert "bubble area: total time (the largest: 3.8 s)" in figure.layout.title.text
    assert figure.layout.xaxis.type == "log" and figure.layout.yaxis.type == "log"


def _series(**columns) -> pd.DataFrame:
    minutes = len(next(iter(columns.values())))
    return pd.DataFrame({"bucket_start": pd.date_range("2026-01-01", periods=minutes, freq="min", tz="UTC"), **columns})


def test_counts_over_time_have_whole_ticks_even_when_all_zero():
    from dashboard.history_charts import series_chart

    zeros = series_chart(_series(temp_blks_read=[0, 0, 0]), {"temp_blks_read": "read"}, "Temp blocks", unit="blocks",
                         integer=True, bucket_s=60)
    assert zeros.layout.yaxis.tickformat == ",d" and zeros.layout.yaxis.dtick == 1 and list(zeros.layout.yaxis.range) == [0, 1]
    few = series_chart(_series(connections=[2, 4, 3]), {"connections": "connections"}, "Connections", integer=True)
    assert few.layout.yaxis.dtick == 1


def test_bytes_over_time_read_in_kb_and_mb():
    from dashboard.history_charts import series_chart

    figure = series_chart(_series(wal_bytes=[15_000, 7_680, 10_240]), {"wal_bytes": "WAL"}, "WAL generated",
                          unit="bytes", integer=True, bucket_s=60)
    assert figure.layout.yaxis.title.text == "kB" and list(figure.data[0].y) == [15_000 / 1024, 7.5, 10.0]
    big = series_chart(_series(wal_bytes=[3 * 1024 ** 2, 0, 1024 ** 2]), {"wal_bytes": "WAL"}, "WAL", unit="bytes")
    assert big.layout.yaxis.title.text == "MB" and list(big.data[0].y) == [3.0, 0.0, 1.0]


def test_hit_ratios_over_time_stay_on_their_scale_and_times_read_level():
    from dashboard.history_charts import series_chart

    steady = series_chart(_series(hit_ratio=[0.9, 0.9, 0.9]), {"hit_ratio": "hit ratio"}, "Hit ratio", percent=True)
    assert list(steady.layout.yaxis.range) == [0.85, 1.0]  # never 0-150 % around a flat line
    high = series_chart(_series(hit_ratio=[0.991, 0.999, 0.995]), {"hit_ratio": "hit ratio"}, "Hit ratio", percent=True)
    assert list(high.layout.yaxis.range) == [0.9, 1.0]
    assert high.layout.xaxis.tickangle == 0 and high.layout.xaxis.tickformatstops[0].value == "%H:%M"
