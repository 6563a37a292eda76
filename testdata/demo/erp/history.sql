-- What years of use left behind, replayed after the migration's VACUUM ANALYZE
-- (build.rs runs schema.sql, data.sql, post_data.sql, VACUUM ANALYZE, then this file).

-- PLANTED: the bus has numbered over two billion notifications since go-live: its
-- integer sequence is at 99.6 % of 2^31 (a high-volume table on an `integer` key), about
-- seven million ids left: weeks at the workload's rate.
SELECT setval('bus_bus_id_seq', 2139800000);

-- The bus's last weeks: notifications written, then deleted by its garbage collector.
-- With autovacuum off on the table, every deleted row is still there, dead.
INSERT INTO bus_bus (channel, message, create_date)
SELECT '["erp",' || (ARRAY['"res.partner"', '"mail.channel"', '"sale.order"'])[1 + g % 3] || ',' || (1 + g % 60) || ']',
       '{"type": "mail.record/insert", "payload": {"id": ' || g || '}}',
       now() - interval '3 days' + g * interval '1 second'
FROM generate_series(1::bigint, 200000) g;
DELETE FROM bus_bus WHERE id < (SELECT max(id) - 2000 FROM bus_bus);
