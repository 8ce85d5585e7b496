"""AppTest of the Maintenance page's overflow sections: the health check's threshold by default, in %."""
from queries.catalogue import metric
from queries.health import Thresholds
from tests.conftest import run_and_flush
from tests.test_app import run_page


def _frame_listing(app, name: str):
    """The table that names this sequence (the sequences section), or None."""
    for element in app.dataframe:
        if element.value.isin([name]).any().any():
            return element.value
    return None


def test_overflow_sections_default_to_the_health_checks_threshold_in_percent(app_env):
    run_and_flush(app_env,
                  "CREATE SEQUENCE nearly_full AS smallint", "SELECT setval('nearly_full', 31000)",  # 95 %
                  "CREATE SEQUENCE roomy AS smallint", "SELECT setval('roomy', 3000)",  # 9 %
                  "CREATE TABLE events (id bigserial)", "SELECT nextval('events_id_seq')")  # bigint: once failed
    page_defaults = {metric(name).defaults["min_ratio"] for name in ("sequences", "integer_overflow")}
    assert page_defaults == {Thresholds().max_overflow_ratio} == {0.9}  # the page lists what the health check counts
    app = run_page("views/maintenance.py")
    assert not app.exception and not app.error, [error.value for error in app.error]
    slider = app.slider(key="m_ratio")
    assert slider.value == 90 and "%" in slider.format
    listed = _frame_listing(app, "nearly_full")
    assert listed is not None and _frame_listing(app, "roomy") is None and _frame_listing(app, "events_id_seq") is None
    slider.set_value(0).run()
    assert not app.error, [error.value for error in app.error]
    every = _frame_listing(app, "nearly_full")
    assert {"nearly_full", "roomy", "events_id_seq"} <= set(every.astype(str).stack())
