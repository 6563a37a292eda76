-- Statement corpus for the fingerprint tests, the fingerprint benchmark and
-- scripts/pglast-fingerprint.py: one statement per line (lines starting with `--` are
-- comments). Shapes from pgbench, ORMs (Django, Odoo, Hibernate, Rails), pg_dump and
-- monitoring tools, with PostgreSQL's literal syntaxes.
SELECT abalance FROM pgbench_accounts WHERE aid = 48213;
UPDATE pgbench_accounts SET abalance = abalance + -2319 WHERE aid = 48213;
UPDATE pgbench_tellers SET tbalance = tbalance + 4077 WHERE tid = 7;
UPDATE pgbench_branches SET bbalance = bbalance + 4077 WHERE bid = 1;
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (7, 1, 48213, 4077, CURRENT_TIMESTAMP);
BEGIN;
COMMIT;
SELECT "res_partner"."id", "res_partner"."name", "res_partner"."email" FROM "res_partner" WHERE ("res_partner"."active" = true) AND ("res_partner"."company_id" IN (1, 2, 3)) ORDER BY "res_partner"."display_name" LIMIT 80 OFFSET 0
SELECT sum(qty) FROM stock_move_line WHERE product_id = 42 AND state IN ('done', 'assigned') AND date >= '2024-01-01 00:00:00'::timestamp
INSERT INTO sale_order_line (order_id, product_id, qty, price_unit, name) VALUES (1001, 7, 3, 19.90, E'Widget \'deluxe\''), (1001, 8, 1, 5.5, 'Bolt'), (1001, 9, 12, 0.25, 'Nut') RETURNING id
SELECT u.id, u.email, count(o.id) AS orders FROM users u LEFT JOIN orders o ON o.user_id = u.id WHERE u.created_at > now() - interval '30 days' GROUP BY u.id, u.email HAVING count(o.id) > 5 ORDER BY orders DESC NULLS LAST
DELETE FROM session WHERE expire_date < '2024-06-01T12:00:00Z'
select * from T where ID = 42
SELECT * FROM t WHERE id = ANY(ARRAY[1, 2, 3, 4])
SELECT * FROM t WHERE id = ANY($1) AND status <> 'archived'
SELECT * FROM t WHERE id != 5
SELECT $$it's a dollar quote$$ || $fn$ with $ inside $fn$ AS body
SELECT x'1F'::int, B'1010'::bit(4), 1.5e-3, .75, 0x1F, 1_000_000
SELECT CASE WHEN amount > 1000 THEN 'big' WHEN amount < -1000 THEN 'refund' ELSE 'small' END FROM invoice
UPDATE account_move SET state = 'posted', write_date = now() AT TIME ZONE 'UTC' WHERE id IN (SELECT id FROM account_move WHERE state = 'draft' LIMIT 100) RETURNING id
WITH recent AS (SELECT * FROM events WHERE at > now() - interval '1 hour') SELECT kind, count(*) FROM recent GROUP BY kind
WITH moved AS (DELETE FROM queue WHERE id IN (SELECT id FROM queue ORDER BY id LIMIT 10 FOR UPDATE SKIP LOCKED) RETURNING *) INSERT INTO done SELECT * FROM moved
SELECT data->>'name', data @> '{"active": true}'::jsonb FROM docs WHERE data ? 'name' AND tags && ARRAY['a', 'b']
SELECT pg_advisory_xact_lock(12345)
SELECT nextval('order_id_seq'::regclass)
SELECT 1
SELECT * FROM "Mixed Case" WHERE "Column" IS NULL AND other IS NOT NULL
INSERT INTO audit_log (at, who, payload) VALUES (now(), 'admin', '{"k": [1, 2, 3]}') ON CONFLICT (who) DO UPDATE SET payload = EXCLUDED.payload, at = EXCLUDED.at
SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a WHERE a.attrelid = 16384 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
SELECT id FROM product WHERE name ILIKE '%chair%' AND price BETWEEN 10 AND 250.75 ORDER BY price LIMIT 20
COPY stock_quant (id, product_id, quantity) FROM STDIN
SELECT date '2024-03-01', timestamp with time zone '2024-03-01 10:00+01', interval '2 hours 30 minutes'
SELECT * FROM measurements WHERE sensor_id = 9 AND ts >= $1 AND ts < $2 ORDER BY ts DESC LIMIT $3
SELECT count(*) FROM orders WHERE customer_id IN ($1, $2, $3, $4, $5, $6)
SET application_name = 'billing-worker-3'
SELECT t.* FROM (VALUES (1, 'one'), (2, 'two'), (3, 'three')) AS t (n, word)
SELECT substring(note FROM 1 FOR 40), position('x' IN note) FROM notes WHERE id = 77
SELECT row_number() OVER (PARTITION BY dept ORDER BY salary DESC) FROM emp WHERE salary > 50000.00
VACUUM (VERBOSE, ANALYZE) stock_move
SELECT * FROM t1 JOIN t2 USING (id) WHERE t1.flag = false AND t2.n % 7 = 3
SELECT * FROM items WHERE price * 1.2 > 100 AND -price < -10 AND qty - 1 >= 0
