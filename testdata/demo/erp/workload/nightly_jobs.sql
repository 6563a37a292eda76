-- The cron worker: takes the next due cron job, runs the batches Odoo's crons run
-- (bus and job queue garbage collection, recomputing residual amounts of a range of
-- journal entries, unreconciling a cancelled payment), then waits for the next one.
-- The recomputation writes tens of thousands of journal items per run: the WAL volume
-- that makes a small max_wal_size request checkpoints.
\set first_move random(1, 390000)
\set reconcile random(1, 100000)
UPDATE ir_cron SET lastcall = now(), nextcall = now() + interval '1 minute' WHERE id = (SELECT id FROM ir_cron WHERE active AND nextcall <= now() ORDER BY priority LIMIT 1 FOR UPDATE SKIP LOCKED);
DELETE FROM bus_bus WHERE id < (SELECT max(id) - 2000 FROM bus_bus);
DELETE FROM queue_job WHERE id IN (SELECT id FROM queue_job WHERE state = 'done' AND date_done < now() - interval '7 days' ORDER BY id LIMIT 2000);
UPDATE account_move_line SET amount_residual = CASE WHEN reconciled THEN 0 ELSE balance END, write_date = now() WHERE move_id BETWEEN :first_move AND :first_move + 3000;
DELETE FROM account_full_reconcile WHERE id = :reconcile;
\sleep 15 s
