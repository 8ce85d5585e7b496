-- pgpulse demo data: set-based (generate_series + INSERT ... SELECT), deterministic thanks to
-- setseed.  Runs right after schema.sql in one transaction, on empty tables, so the ids
-- of every table are 1..n and the statements below can pick random rows by id.

SELECT setseed(0.4242);

-- Building blocks for text: random sentences from a word list, then paragraphs of
-- sentences.  Posts and comments join these by id instead of generating text per row,
-- which keeps the whole seed to a few seconds.
CREATE TEMP TABLE seed_words ON COMMIT DROP AS
SELECT ordinality AS id, word
FROM unnest(string_to_array(
    'the a of to and in for with on database query index table postgres redis cache '
    'latency throughput replica primary vacuum analyze planner join scan sequential '
    'bitmap btree gin partition shard lock deadlock transaction commit rollback '
    'isolation snapshot backup restore migration schema column constraint foreign key '
    'unique performance tuning memory buffer disk ssd cpu thread connection pool '
    'timeout retry queue worker deploy release bug fix feature review test python '
    'sqlalchemy orm session lazy eager loading batch bulk upsert insert update delete '
    'select aggregate window function trigger view materialized refresh json array '
    'text search ranking cluster node cloud kubernetes docker monitoring dashboard '
    'alert metric trace log slow fast simple robust careful quickly really always '
    'never often we you they it our your team customers production staging '
    'weekend morning night coffee story lesson mistake surprise idea plan design',
    ' ')) WITH ORDINALITY AS w (word, ordinality);

CREATE TEMP TABLE seed_sentences (id integer PRIMARY KEY, sentence text NOT NULL) ON COMMIT DROP;
INSERT INTO seed_sentences
SELECT s, upper(left(t.words, 1)) || substr(t.words, 2) || '.'
FROM generate_series(0, 2999) AS s
CROSS JOIN LATERAL (
    -- the random pick sits in a subquery so it is drawn once per word, not per join pair
    SELECT string_agg(w.word, ' ') AS words
    FROM (SELECT 1 + floor(random() * (SELECT count(*) FROM seed_words))::int AS word_id
          FROM generate_series(1, 6 + s % 11)) AS k
    JOIN seed_words w ON w.id = k.word_id
) AS t;

CREATE TEMP TABLE seed_paragraphs (id integer PRIMARY KEY, paragraph text NOT NULL) ON COMMIT DROP;
INSERT INTO seed_paragraphs
SELECT p, string_agg(s.sentence, ' ')
FROM generate_series(0, 4999) AS p
CROSS JOIN LATERAL generate_series(1, 2 + p % 5) AS k
JOIN seed_sentences s ON s.id = (p * 7 + k * 1009) % 3000
GROUP BY p;

-- 10,000 users, 1% of them soft-deleted.
INSERT INTO users (username, email, display_name, bio, last_login_at, created_at, updated_at, deleted_at)
SELECT 'user_' || g,
       'user_' || g || '@example.com',
       (ARRAY['Ada','Alan','Grace','Linus','Barbara','Edgar','Margaret','Dennis','Ken','Frances',
              'Donald','Radia','Guido','Bjarne','Anita','Tim','Michael','Sophie','Yukihiro','Hedy'])[1 + g % 20]
         || ' ' ||
       (ARRAY['Lovelace','Turing','Hopper','Torvalds','Liskov','Codd','Hamilton','Ritchie','Thompson',
              'Allen','Knuth','Perlman','van Rossum','Stroustrup','Borg','Berners-Lee','Stonebraker',
              'Wilson','Matsumoto','Lamarr'])[1 + (g / 20) % 20],
       CASE WHEN g % 3 = 0 THEN NULL ELSE s.sentence END,
       u.created_at + random() * (now() - u.created_at),
       u.created_at, u.created_at,
       CASE WHEN g % 100 = 0 THEN now() - random() * interval '30 days' END
FROM (SELECT g, now() - random() * interval '3 years' AS created_at
      FROM generate_series(1, 10000) AS g) AS u
JOIN seed_sentences s ON s.id = u.g % 3000;

INSERT INTO categories (slug, name, description)
SELECT lower(replace(name, ' ', '-')), name, 'Posts about ' || lower(name) || '.'
FROM unnest(ARRAY[
    'Databases','PostgreSQL','Redis','Caching','Performance','Python','SQLAlchemy','Django',
    'Flask','FastAPI','DevOps','Kubernetes','Docker','Cloud','Security','Testing','Frontend',
    'Backend','APIs','Architecture','Data Engineering','Analytics','Machine Learning','Career',
    'Open Source','Tooling','Linux','Networking','Observability','Incidents','Migrations',
    'Replication','Backups','Indexing','Query Tuning','Concurrency','Async','Rust','Go',
    'JavaScript','TypeScript','Mobile','Design','Product','Startups','Remote Work',
    'Tutorials','Book Reviews','Conferences','Announcements']) AS name;

-- 200 tags: 40 topics, each alone and with four qualifiers.
INSERT INTO tags (name)
SELECT topic || coalesce('-' || qualifier, '')
FROM unnest(ARRAY['postgres','redis','python','sqlalchemy','django','flask','fastapi','docker',
                  'kubernetes','aws','gcp','azure','linux','git','ci','testing','pytest','security',
                  'oauth','graphql','rest','grpc','kafka','rabbitmq','celery','asyncio','rust','go',
                  'typescript','react','vue','css','html','sql','nosql','mongodb','sqlite','mysql',
                  'elasticsearch','grafana']) AS topic
CROSS JOIN unnest(ARRAY[NULL, 'tips', 'internals', 'performance', 'beginners']) AS qualifier;

-- 50,000 posts, recent ones denser (power of random), 2% soft-deleted.
INSERT INTO posts (author_id, category_id, title, body, view_count, created_at, updated_at, deleted_at)
SELECT 1 + floor(10000 * power(random(), 1.6))::int,  -- a few authors write most posts
       1 + floor(random() * 50)::int,
       (ARRAY['Why','How','When','What I learned about','Stop worrying about','A guide to',
              'Debugging','Scaling','Understanding','Ten tips for'])[1 + g % 10]
         || ' ' || w1.word || ' ' || w2.word,
       a.paragraph || E'\n\n' || b.paragraph,
       floor(random() * 5000)::int,
       t.created_at, t.created_at,
       CASE WHEN g % 50 = 0 THEN t.created_at + interval '1 day' END
FROM (SELECT g, now() - power(random(), 2) * interval '700 days' AS created_at
      FROM generate_series(1, 50000) AS g) AS t
JOIN seed_paragraphs a ON a.id = g % 5000
JOIN seed_paragraphs b ON b.id = (g * 13 + 7) % 5000
CROSS JOIN (SELECT count(*) - 9 AS n FROM seed_words) AS wc  -- title words skip the 9 stop words
JOIN seed_words w1 ON w1.id = 10 + g % wc.n
JOIN seed_words w2 ON w2.id = 10 + (g / wc.n + g * 7) % wc.n;

-- One to four tags per post, popular tags more often.
INSERT INTO post_tags (post_id, tag_id)
SELECT p, 1 + floor(200 * power(random(), 1.5))::int
FROM generate_series(1, 50000) AS p
CROSS JOIN LATERAL generate_series(1, 1 + p % 4) AS k
ON CONFLICT DO NOTHING;

-- 140,000 top-level comments, concentrated on popular posts, written after their post.
INSERT INTO comments (post_id, author_id, body, created_at, updated_at, deleted_at)
SELECT p.id, c.author_id, s.sentence, t.created_at, t.created_at,
       CASE WHEN c.g % 40 = 0 THEN t.created_at + interval '2 hours' END
FROM (SELECT g, 1 + floor(50000 * power(random(), 1.5))::int AS post_id,
             1 + floor(random() * 10000)::int AS author_id
      FROM generate_series(1, 140000) AS g) AS c
JOIN posts p ON p.id = c.post_id
JOIN seed_sentences s ON s.id = c.g % 3000
CROSS JOIN LATERAL (SELECT p.created_at + random() * least(now() - p.created_at, interval '60 days') AS created_at) AS t;

-- 60,000 replies to those comments, on the same post, a little later.
INSERT INTO comments (post_id, parent_id, author_id, body, created_at, updated_at)
SELECT parent.post_id, parent.id, r.author_id, s.sentence, t.created_at, t.created_at
FROM (SELECT g, 1 + floor(random() * 140000)::int AS parent_id,
             1 + floor(random() * 10000)::int AS author_id
      FROM generate_series(1, 60000) AS g) AS r
JOIN comments parent ON parent.id = r.parent_id
JOIN seed_sentences s ON s.id = (r.g * 11) % 3000
CROSS JOIN LATERAL (SELECT least(now(), parent.created_at + random() * interval '3 days') AS created_at) AS t;

-- About 100,000 likes, skewed towards popular posts.
INSERT INTO post_likes (user_id, post_id, created_at)
SELECT 1 + floor(random() * 10000)::int, 1 + floor(50000 * power(random(), 1.5))::int,
       now() - random() * interval '600 days'
FROM generate_series(1, 103000)
ON CONFLICT DO NOTHING;

-- About 50,000 follows, a few users followed by many.
INSERT INTO user_follows (follower_id, followee_id, created_at)
SELECT f.follower_id, f.followee_id, now() - random() * interval '900 days'
FROM (SELECT 1 + floor(random() * 10000)::int AS follower_id,
             1 + floor(10000 * power(random(), 3))::int AS followee_id
      FROM generate_series(1, 52000)) AS f
WHERE f.follower_id <> f.followee_id
ON CONFLICT DO NOTHING;

-- Denormalised counters, consistent with the rows above.
WITH comment_counts AS (SELECT post_id, count(*) AS n FROM comments GROUP BY post_id),
     like_counts AS (SELECT post_id, count(*) AS n FROM post_likes GROUP BY post_id)
UPDATE posts AS p
SET comment_count = coalesce(c.n, 0), like_count = coalesce(l.n, 0)
FROM posts AS p0
LEFT JOIN comment_counts AS c ON c.post_id = p0.id
LEFT JOIN like_counts AS l ON l.post_id = p0.id
WHERE p0.id = p.id AND (c.n IS NOT NULL OR l.n IS NOT NULL);

ANALYZE;
