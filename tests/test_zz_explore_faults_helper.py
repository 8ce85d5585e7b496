import psycopg, pytest
from tests.test_faults import *  # noqa
from tests.test_faults import cluster, database, fresh_caches, migration  # noqa

def dump(app, page):
    print("=====", page, "exc:", [str(e.value)[:300] for e in app.exception])
    for e in errors(app): print("  ERR", e[:300])
    for w in app.warning: print("  WARN", str(w.value)[:300])
    for i in app.info: print("  INFO", str(i.value)[:300])
    for l in page_links(app): print("  LINK", l[:200])

def test_lock(database, migration, monkeypatch, tmp_path, fresh_caches):
    configure(monkeypatch, tmp_path, database, PGPULSE_LOCK_TIMEOUT_MS=300)
    for page in PAGES:
        dump(open_page(page), page)

def test_timeout(database, monkeypatch, tmp_path, fresh_caches):
    configure(monkeypatch, tmp_path, database, PGPULSE_STATEMENT_TIMEOUT_MS=1)
    for page in PAGES:
        dump(open_page(page), page)

def test_nopriv(cluster, database, monkeypatch, tmp_path, fresh_caches):
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("CREATE ROLE nopriv_x LOGIN")
    url = database.replace("postgres@", "nopriv_x@")
    with psycopg.connect(url, autocommit=True) as conn:
        for i in range(3): conn.execute("SELECT count(*) FROM pg_class WHERE oid < %s", (i,))
    configure(monkeypatch, tmp_path, url)
    for page in PAGES:
        dump(open_page(page), page)
