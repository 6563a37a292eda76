-- The application enqueues a job (send an invoice to the e-invoicing network); a job
-- runner takes the oldest pending one, then marks the one it started done.
\set move random(1, 400000)
INSERT INTO queue_job (uuid, name, model_name, method_name, record_ids, channel, state, priority, date_created) VALUES (md5(random()::text || clock_timestamp()::text), 'Send invoice ' || :move || ' to the e-invoicing network', 'account.move', '_edi_send', '[' || :move || ']', 'root.edi', 'pending', 10, now());
UPDATE queue_job SET state = 'started', date_started = now(), worker_pid = pg_backend_pid() WHERE id = (SELECT id FROM queue_job WHERE state = 'pending' ORDER BY priority, date_created LIMIT 1 FOR UPDATE SKIP LOCKED);
UPDATE queue_job SET state = 'done', date_done = now() WHERE id = (SELECT id FROM queue_job WHERE state = 'started' ORDER BY date_started LIMIT 1 FOR UPDATE SKIP LOCKED);
