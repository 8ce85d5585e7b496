"""A blog application's database and cache traffic, so the dashboard has real numbers to show.

Each pattern is a short function taking (session, redis_client or None, rng); run_workload
picks patterns at random, weighted so that the N+1 feed dominates the call counts, the way
one forgotten lazy load dominates a real application's statement list. Several sessions run
patterns at once (threads, one pooled connection each), and two episodes come now and then: a
hot-row update where one session holds a row lock for a few seconds while another waits on it
(a lock wait for the Database load and its blocking tree), and a transaction left idle for a while.
"""
from __future__ import annotations

import argparse
import json
import logging
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import redis
from opentelemetry import context as otel_context
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.metrics import get_meter
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import bindparam, create_engine, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, selectinload

from demo.models import Comment, Post, Tag, User

log = logging.getLogger(__name__)

APPLICATION_NAME = "pgpulse-demo-workload"
CACHE_PREFIX = "pgpulse:demo:"
CATEGORY_COUNT = 50
SEEDED_USERS = 10_000
TAG_NAMES = ["postgres", "redis", "python", "sqlalchemy", "docker", "kubernetes", "sql", "pytest"]
SEARCH_TERMS = ["postgres", "vacuum", "deadlock", "kubernetes", "latency", "upsert", "kafka", "sharding"]

Pattern = Callable[[Session, "redis.Redis | None", random.Random], object]


def _skewed_id(rng: random.Random, count: int, hot: int) -> int:
    """An id in 1..count where 80% of picks hit the first `hot` ids, like real popularity."""
    return rng.randint(1, hot) if rng.random() < 0.8 else rng.randint(1, count)


def _recent_posts(rng: random.Random):
    """A page (0..4) of the newest visible posts, served by ix_posts_created_at."""
    return (select(Post).where(Post.deleted_at.is_(None))
            .order_by(Post.created_at.desc()).limit(20).offset(20 * rng.randint(0, 4)))


def feed_n_plus_one(session: Session, redis_client, rng: random.Random) -> list[tuple[str, str]]:
    """The feed with lazy authors: one SELECT for the posts, then one per distinct author."""
    posts = session.scalars(_recent_posts(rng)).all()
    return [(post.title, post.author.display_name) for post in posts]


def feed_selectinload(session: Session, redis_client, rng: random.Random) -> list[tuple[str, str]]:
    """The same feed fixed: all authors in one extra SELECT ... WHERE id IN (...)."""
    posts = session.scalars(_recent_posts(rng).options(selectinload(Post.author))).all()
    return [(post.title, post.author.display_name) for post in posts]


def posts_page(session: Session, redis_client, rng: random.Random) -> int:
    """A tag page: posts with their author, category, tags, visible comments and replies."""
    visible_comments = Post.comments.and_(Comment.deleted_at.is_(None))
    stmt = (select(Post).join(Post.tags).where(Tag.name == rng.choice(TAG_NAMES), Post.deleted_at.is_(None))
            .order_by(Post.created_at.desc()).limit(10)
            .options(selectinload(Post.author), selectinload(Post.category), selectinload(Post.tags),
                     selectinload(visible_comments).selectinload(Comment.replies)))
    posts = session.scalars(stmt).all()
    return sum(len(post.comments) for post in posts)


def upsert_users(session: Session, redis_client, rng: random.Random) -> int:
    """Sync ~50 users from a (pretend) identity provider: INSERT ... ON CONFLICT DO UPDATE."""
    # Numbers beyond the seeded range create new users; sorted so concurrent runs lock in order.
    numbers = sorted(rng.sample(range(1, SEEDED_USERS + 2_000), 50))
    now = datetime.now(UTC)
    rows = [{"username": f"user_{n}", "email": f"user_{n}@example.com",
             "display_name": f"User {n}", "last_login_at": now} for n in numbers]
    stmt = insert(User).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=[User.username],
        set_={"display_name": stmt.excluded.display_name, "last_login_at": stmt.excluded.last_login_at,
              "updated_at": now})
    return session.execute(stmt).rowcount


def bump_post_counters(session: Session, redis_client, rng: random.Random) -> int:
    """Flush buffered view counts: one UPDATE executed for many parameter sets."""
    posts = Post.__table__
    # Core table, not the ORM entity: an ORM update() with a list would be a bulk
    # UPDATE by primary key, which cannot increment.
    stmt = (update(posts).where(posts.c.id == bindparam("post_id"))
            .values(view_count=posts.c.view_count + bindparam("views"), updated_at=bindparam("now")))
    now = datetime.now(UTC)
    ids = sorted(rng.sample(range(1, 50_001), 25))
    rows = [{"post_id": post_id, "views": rng.randint(1, 40), "now": now} for post_id in ids]
    return session.connection().execute(stmt, rows).rowcount


def soft_delete_post(session: Session, redis_client, rng: random.Random) -> int:
    """Moderation: hide a post and its comments by setting deleted_at (rows stay)."""
    post_id = rng.randint(1, 50_000)
    now = datetime.now(UTC)
    session.execute(update(Post).where(Post.id == post_id, Post.deleted_at.is_(None))
                    .values(deleted_at=now, updated_at=now))
    result = session.execute(update(Comment).where(Comment.post_id == post_id, Comment.deleted_at.is_(None))
                             .values(deleted_at=now, updated_at=now))
    return result.rowcount


USER_ENGAGEMENT_SQL = text("""
WITH target AS (
    SELECT id, username FROM users WHERE id = ANY(:user_ids) AND deleted_at IS NULL
), authored AS (
    SELECT p.id, p.author_id FROM posts p JOIN target t ON t.id = p.author_id
    WHERE p.deleted_at IS NULL
), comments_received AS (
    SELECT a.author_id, count(*) AS n FROM comments c JOIN authored a ON a.id = c.post_id
    WHERE c.deleted_at IS NULL GROUP BY a.author_id
), likes_received AS (
    SELECT a.author_id, count(*) AS n FROM post_likes l JOIN authored a ON a.id = l.post_id
    GROUP BY a.author_id
)
SELECT t.id, t.username,
       (SELECT count(*) FROM authored a WHERE a.author_id = t.id) AS posts,
       coalesce(c.n, 0) AS comments_received,
       coalesce(l.n, 0) AS likes_received
FROM target t
LEFT JOIN comments_received c ON c.author_id = t.id
LEFT JOIN likes_received l ON l.author_id = t.id
ORDER BY likes_received DESC
""")


def user_engagement(session: Session, redis_client, rng: random.Random) -> list:
    """Engagement of a batch of users (posts, comments and likes received) in one CTE."""
    user_ids = rng.sample(range(1, SEEDED_USERS + 1), 10)
    return session.execute(USER_ENGAGEMENT_SQL, {"user_ids": user_ids}).all()


def search_posts(session: Session, redis_client, rng: random.Random) -> list:
    """Full-text search done naively: ILIKE '%word%' on the unindexed body (a seq scan)."""
    pattern = f"%{rng.choice(SEARCH_TERMS)}%"
    stmt = (select(Post.id, Post.title).where(Post.deleted_at.is_(None), Post.body.ilike(pattern))
            .order_by(Post.like_count.desc()).limit(20))
    return session.execute(stmt).all()


def _cached(redis_client, key: str, rng: random.Random, compute: Callable[[], object]) -> object:
    """Query-result cache: GET, and on a miss compute and SET ... EX with a random 30-300 s TTL."""
    if redis_client is None:
        return compute()
    cached = redis_client.get(key)
    if cached is not None:
        return json.loads(cached)
    value = compute()
    # Random TTLs spread expirations out, so entries do not all go cold at once.
    redis_client.set(key, json.dumps(value), ex=rng.randint(30, 300))
    return value


def popular_posts_cached(session: Session, redis_client, rng: random.Random) -> object:
    """Top posts of a category, cached in Redis under pgpulse:demo:popular_posts:<category>."""
    category_id = _skewed_id(rng, CATEGORY_COUNT, hot=3)

    def compute() -> list[dict]:
        stmt = (select(Post.id, Post.title, Post.like_count)
                .where(Post.category_id == category_id, Post.deleted_at.is_(None))
                .order_by(Post.like_count.desc()).limit(10))
        return [row._asdict() for row in session.execute(stmt)]

    return _cached(redis_client, f"{CACHE_PREFIX}popular_posts:{category_id}", rng, compute)


USER_STATS_SQL = text("""
SELECT u.id, u.username,
       (SELECT count(*) FROM posts p WHERE p.author_id = u.id AND p.deleted_at IS NULL) AS posts,
       (SELECT count(*) FROM comments c WHERE c.author_id = u.id AND c.deleted_at IS NULL) AS comments,
       (SELECT count(*) FROM user_follows f WHERE f.followee_id = u.id) AS followers,
       (SELECT count(*) FROM user_follows f WHERE f.follower_id = u.id) AS following
FROM users u
WHERE u.id = :user_id
""")


def user_stats_cached(session: Session, redis_client, rng: random.Random) -> object:
    """A profile's counters, cached in Redis under pgpulse:demo:user_stats:<id>."""
    user_id = _skewed_id(rng, SEEDED_USERS, hot=10)

    def compute() -> dict | None:
        row = session.execute(USER_STATS_SQL, {"user_id": user_id}).mappings().first()
        return dict(row) if row else None

    return _cached(redis_client, f"{CACHE_PREFIX}user_stats:{user_id}", rng, compute)


# Weights: the N+1 feed runs most, so its per-author SELECT tops the call counts.
PATTERNS: dict[str, tuple[Pattern, int]] = {
    "feed_n_plus_one": (feed_n_plus_one, 8),
    "feed_selectinload": (feed_selectinload, 3),
    "posts_page": (posts_page, 2),
    "upsert_users": (upsert_users, 1),
    "bump_post_counters": (bump_post_counters, 2),
    "soft_delete_post": (soft_delete_post, 1),
    "user_engagement": (user_engagement, 1),
    "search_posts": (search_posts, 1),
    "popular_posts_cached": (popular_posts_cached, 4),
    "user_stats_cached": (user_stats_cached, 3),
}


# Where each pattern would live in a web app: its sqlcommenter route, controller and action, so the dashboard can
# tell statements (and N+1 suspects) apart by the page that runs them.
ROUTES: dict[str, dict[str, str]] = {
    "feed_n_plus_one": {"route": "/feed", "controller": "feed", "action": "index"},
    "feed_selectinload": {"route": "/feed-fixed", "controller": "feed", "action": "index_fixed"},
    "posts_page": {"route": "/posts", "controller": "posts", "action": "by_tag"},
    "upsert_users": {"route": "/users/sync", "controller": "users", "action": "sync"},
    "bump_post_counters": {"route": "/posts/views", "controller": "posts", "action": "flush_views"},
    "soft_delete_post": {"route": "/posts/delete", "controller": "moderation", "action": "soft_delete"},
    "user_engagement": {"route": "/users/engagement", "controller": "users", "action": "engagement"},
    "search_posts": {"route": "/search", "controller": "search", "action": "posts"},
    "popular_posts_cached": {"route": "/popular", "controller": "posts", "action": "popular"},
    "user_stats_cached": {"route": "/users/stats", "controller": "users", "action": "stats"},
}
# The episodes (run now and then, beside the patterns) have their routes too.
EPISODE_ROUTES: dict[str, dict[str, str]] = {
    "hot_row_update": {"route": "/posts/like", "controller": "posts", "action": "like"},
    "idle_in_transaction": {"route": "/reports/export", "controller": "reports", "action": "export"},
}
HOT_POST_ID = 1  # the viral post every like goes to
# The demo's defaults (python -m demo.workload, as make run starts it): bounded so the machine stays light.
DEMO_SESSIONS = 4
DEMO_PAUSE = (0.2, 1.2)  # per session: about as many rounds a second as one session with (0.05, 0.4) ran before
DEMO_LOCK_EVERY_S = 60
DEMO_IDLE_EVERY_S = 120
# The context key web-framework instrumentations (Flask, Django) fill for the SQLAlchemy commenter to append.
SQLCOMMENTER_TAGS_KEY = "SQLCOMMENTER_ORM_TAGS_AND_VALUES"


def _choose_pattern(round_number: int, rng: random.Random) -> str:
    """Every pattern once in the first rounds (a short run shows them all), then weighted."""
    names = list(PATTERNS)
    if round_number < len(names):
        return names[round_number]
    return rng.choices(names, weights=[weight for _, weight in PATTERNS.values()])[0]


class _Rounds:
    """The rounds the sessions share: the next round's number and pattern, and the runs per pattern (+ errors)."""

    def __init__(self, rounds: int | None, rng: random.Random):
        self.limit, self.rng, self.number = rounds, rng, 0
        self.counts: Counter[str] = Counter()
        self.guard = threading.Lock()

    def next(self) -> str | None:
        with self.guard:
            if self.limit is not None and self.number >= self.limit:
                return None
            name = _choose_pattern(self.number, self.rng)
            self.number += 1
            return name

    def count(self, outcome: str) -> None:
        with self.guard:
            self.counts[outcome] += 1


@contextmanager
def _transaction(engine, route: dict[str, str]) -> Iterator[Session]:
    """A session in one transaction, committed at the end, its statements tagged with the route (this thread's)."""
    token = otel_context.attach(otel_context.set_value(SQLCOMMENTER_TAGS_KEY, route))
    try:
        with Session(engine) as session, session.begin():
            yield session
    finally:
        otel_context.detach(token)


def _run_round(engine, redis_client, name: str, rng: random.Random) -> None:
    """One pattern in its own transaction, committed at the end, its statements tagged with its route."""
    with _transaction(engine, ROUTES[name]) as session:
        PATTERNS[name][0](session, redis_client, rng)


def _like_hot_post(session: Session) -> None:
    session.execute(update(Post).where(Post.id == HOT_POST_ID).values(like_count=Post.like_count + 1))


def hot_row_update(engine, stop: threading.Event, hold_s: float) -> None:
    """Two sessions like the same post: the first holds the row lock hold_s (work done in the application inside the
    transaction: idle in transaction), the second waits on it (wait event Lock: transactionid) until the first commits."""
    with _transaction(engine, EPISODE_ROUTES["hot_row_update"]) as holder:
        _like_hot_post(holder)
        waiter = threading.Thread(target=_wait_on_hot_post, args=(engine,), name="workload-waiter", daemon=True)
        waiter.start()
        stop.wait(hold_s)
    waiter.join(timeout=30)


def _wait_on_hot_post(engine) -> None:
    try:
        with _transaction(engine, EPISODE_ROUTES["hot_row_update"]) as waiter:
            _like_hot_post(waiter)
    except Exception as error:  # noqa: BLE001 - a server restart mid-wait: the next episode tries again
        log.warning("hot row waiter failed: %s", type(error).__name__)


def idle_in_transaction(engine, stop: threading.Event, idle_s: float) -> None:
    """An export that reads, then leaves its transaction open idle_s while the application does other work."""
    with _transaction(engine, EPISODE_ROUTES["idle_in_transaction"]) as session:
        session.execute(select(Post.category_id, func.count()).group_by(Post.category_id)).all()
        stop.wait(idle_s)
        session.execute(select(func.count()).select_from(Tag)).scalar()


def _episode_loop(stop: threading.Event, rounds: _Rounds, name: str, run: Callable[[], None], every_s: float,
                  rng: random.Random) -> None:
    """Run an episode every every_s (give or take a quarter), the first a few seconds after the start."""
    delay = min(every_s, 3.0)
    while not stop.wait(delay):
        try:
            run()
            outcome = name
        except Exception as error:  # noqa: BLE001 - the workload must outlive restarts
            outcome = "errors"
            log.warning("workload episode %s failed: %s", name, type(error).__name__)
        rounds.count(outcome)
        delay = every_s * rng.uniform(0.75, 1.25)


def _tag_statements(engine) -> None:
    """Append sqlcommenter comments (route, controller, action, db_driver, db_framework) to the engine's SQL.

    OpenTelemetry's SQLAlchemy tracer on this engine alone (the global instrumentor would patch every
    create_engine in the process, the dashboard's too). It comments only statements of a recording span, hence
    the SDK's tracer provider, kept private and without exporters. No traceparent: it differs on every call."""
    tracer = TracerProvider(shutdown_on_exit=False).get_tracer(__name__)  # nothing to flush: no exporter
    connections = get_meter(__name__).create_up_down_counter("db.client.connections.usage")
    EngineTracer(tracer, engine, connections, enable_commenter=True, commenter_options={"opentelemetry_values": False})


def _engine(database_url: str, sessions: int = 1):
    """A psycopg 3 engine tagged with our application_name (pg_stat_activity) and its SQL with sqlcommenter routes:
    a connection per session, and three for the episodes (a lock holder, its waiter, an idle transaction)."""
    url = make_url(database_url).set(drivername="postgresql+psycopg")
    # pre_ping: after a server restart the pool hands out a fresh connection, not a dead one.
    engine = create_engine(url, pool_size=sessions + 3, max_overflow=0, pool_pre_ping=True,
                           connect_args={"application_name": APPLICATION_NAME})
    _tag_statements(engine)
    return engine


def _session_loop(engine, redis_client, rounds: _Rounds, stop: threading.Event, pause: tuple[float, float],
                  rng: random.Random) -> None:
    """One application session: patterns one after the other, a pause between them."""
    while not stop.is_set() and (name := rounds.next()) is not None:
        try:
            _run_round(engine, redis_client, name, rng)
            rounds.count(name)
        except Exception as error:  # noqa: BLE001 - the workload must outlive restarts
            rounds.count("errors")
            # First line only: SQLAlchemy appends the statement and its parameters.
            first_line = str(error).splitlines()[0] if str(error) else ""
            log.warning("workload round %s failed: %s: %s", name, type(error).__name__, first_line)
            stop.wait(max(pause[1], 1.0))  # back off while the server comes back
            continue
        stop.wait(rng.uniform(*pause))


def run_workload(database_url: str, redis_url: str | None, *, stop: threading.Event | None = None,
                 rounds: int | None = None, pause: tuple[float, float] = (0.05, 0.4), seed: int | None = None,
                 sessions: int = 1, lock_every_s: float | None = None, hold_s: float = 3.0,
                 idle_every_s: float | None = None, idle_s: float = 10.0) -> dict[str, int]:
    """Run patterns in `sessions` concurrent sessions until `stop` is set or `rounds` are done (in all), with a hot-row
    lock wait every lock_every_s and a transaction idle idle_s every idle_every_s (None: never); return runs per
    pattern and episode (+ errors)."""
    rng, stop = random.Random(seed), stop or threading.Event()
    engine = _engine(database_url, sessions)
    redis_client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2) if redis_url else None
    shared = _Rounds(rounds, rng)
    workers = [threading.Thread(target=_session_loop, name=f"workload-{number}", daemon=True,
                                args=(engine, redis_client, shared, stop, pause, random.Random(rng.random())))
               for number in range(sessions)]
    episodes_stop = threading.Event()  # episodes run while the sessions do
    episodes = [threading.Thread(target=_episode_loop, name=f"workload-{name}", daemon=True,
                                 args=(episodes_stop, shared, name, run, every_s, random.Random(rng.random())))
                for name, run, every_s in (
                    ("hot_row_update", lambda: hot_row_update(engine, episodes_stop, hold_s), lock_every_s),
                    ("idle_in_transaction", lambda: idle_in_transaction(engine, episodes_stop, idle_s), idle_every_s))
                if every_s]
    try:
        for thread in [*workers, *episodes]:
            thread.start()
        for worker in workers:
            worker.join()
    finally:
        stop.set()
        episodes_stop.set()
        for episode in episodes:
            episode.join()
        engine.dispose()
        if redis_client is not None:
            redis_client.close()
    return dict(shared.counts)


def main(argv: list[str] | None = None) -> None:
    """Command line: python -m demo.workload --database-url URL [--redis-url URL] [--rounds N] [--sessions N]
    [--lock-every S] [--idle-every S]."""
    parser = argparse.ArgumentParser(description="Run the pgpulse demo workload.")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url")
    parser.add_argument("--rounds", type=int, help="stop after N rounds (default: run until Ctrl-C)")
    parser.add_argument("--seed", type=int, help="random seed, for a reproducible run")
    parser.add_argument("--sessions", type=int, default=DEMO_SESSIONS, help="concurrent sessions (default %(default)s)")
    parser.add_argument("--lock-every", type=float, default=DEMO_LOCK_EVERY_S,
                        help="seconds between hot-row lock waits (0: none; default %(default)s)")
    parser.add_argument("--idle-every", type=float, default=DEMO_IDLE_EVERY_S,
                        help="seconds between transactions left idle (0: none; default %(default)s)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    try:
        counts = run_workload(args.database_url, args.redis_url, stop=stop, rounds=args.rounds, seed=args.seed,
                              pause=DEMO_PAUSE, sessions=args.sessions, lock_every_s=args.lock_every or None,
                              idle_every_s=args.idle_every or None)
    except KeyboardInterrupt:
        return
    log.info("done: %s", json.dumps(counts, sort_keys=True))


if __name__ == "__main__":
    main()
