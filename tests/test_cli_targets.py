"""Where the CLI finds its database and Redis: flags, REDIS_URL, configuration, else the running `make run` demo."""
import json
import os
import subprocess
import sys

import pandas as pd
import psycopg
import redis

from tests.test_cli import run_cli

REDIS_FILES = {"redis_info", "redis_commandstats", "redis_slowlog", "redis_keyspace"}


def _stems(folder) -> set[str]:
    return {path.stem for path in folder.glob("*.csv")}


def _write_state(data_dir, **state) -> dict:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "state.json").write_text(json.dumps(state))
    return {"PGPULSE_DATA_DIR": str(data_dir)}


def test_report_with_database_url_takes_redis_from_redis_url(fresh_db, redis_url, tmp_path):
    redis.Redis.from_url(redis_url).set("pgpulse:test:cli_env", "1")
    result = run_cli("report", "--out", str(tmp_path / "with"), "--database-url", fresh_db,
                     env_extra={"REDIS_URL": redis_url, "PGPULSE_DATA_DIR": str(tmp_path / "no_demo")})
    assert result.returncode == 0, result.stderr
    assert REDIS_FILES <= _stems(tmp_path / "with")
    assert "set" in set(pd.read_csv(tmp_path / "with" / "redis_commandstats.csv")["command"])
    without = run_cli("report", "--out", str(tmp_path / "without"), "--database-url", fresh_db,
                      env_extra={"PGPULSE_DATA_DIR": str(tmp_path / "no_demo")})
    assert without.returncode == 0, without.stderr
    assert not REDIS_FILES & _stems(tmp_path / "without")


def test_without_configuration_report_and_explain_use_the_running_demo(fresh_db, redis_url, tmp_path):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE demo_probe (id int)")
        conn.execute("SELECT count(*) FROM demo_probe WHERE id = 7")
    # a launcher that is alive (this test's own process stands in for it) recorded a real server's URLs
    env = _write_state(tmp_path / "data", launcher_pid=os.getpid(), port=8501, database_url=fresh_db, redis_url=redis_url)
    result = run_cli("report", "--out", str(tmp_path / "out"), env_extra=env)
    assert result.returncode == 0, result.stderr
    statements = pd.read_csv(tmp_path / "out" / "statements.csv")
    assert "SELECT count(*) FROM demo_probe WHERE id = $1" in set(statements["query"])
    assert REDIS_FILES <= _stems(tmp_path / "out")
    explained = run_cli("explain", "--json", "SELECT * FROM demo_probe", env_extra=env)
    assert explained.returncode == 0, explained.stderr
    assert json.loads(explained.stdout)["nodes"][0]["relation"].endswith("demo_probe")


def test_configuration_wins_over_the_running_demo(fresh_db, pg_admin_url, tmp_path):
    env = _write_state(tmp_path / "data", launcher_pid=os.getpid(), database_url=pg_admin_url)
    result = run_cli("report", "--out", str(tmp_path), "--only", "settings", env_extra={**env, "DATABASE_URL": fresh_db})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(fresh_db.rsplit("/", 1)[1])  # "... reports from host:port/<fresh db>"


def test_a_stopped_demo_is_not_used_and_the_error_says_how(fresh_db, tmp_path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    env = _write_state(tmp_path / "data", launcher_pid=int(finished.stdout), database_url=fresh_db)
    result = run_cli("report", "--out", str(tmp_path), env_extra=env)
    assert result.returncode == 2
    assert "pass --database-url URL, set DATABASE_URL, or start the demo with `make run`" in result.stderr
