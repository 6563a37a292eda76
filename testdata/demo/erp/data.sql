-- The demo ERP's data: about three years of a mid-sized distributor (100,000 partners,
-- 20,000 products, 150,000 sales orders, 400,000 journal entries with 5.2 million
-- journal items, half a million chatter messages, 1.2 GB of attachments).
--
-- Generated, not random: every value is a function of the row number, so two builds
-- hold the same data. Ids come from the tables' sequences, in row order (1, 2, ...),
-- which the formulas below rely on (e.g. order g's lines are 4g-3 .. 4g).
-- Run after schema.sql and before post_data.sql.

INSERT INTO res_company (name, currency_code) VALUES ('Demo Distribution SA', 'EUR');

INSERT INTO res_partner (name, display_name, ref, email, phone, vat, street, city, zip,
                         country_code, is_company, customer_rank, supplier_rank,
                         create_date, write_date)
SELECT 'Partner ' || g,
       'Partner ' || g,
       'C' || lpad(g::text, 6, '0'),
       'contact' || g || '@example.com',
       '+32 2 ' || lpad((g * 7919 % 1000000)::text, 6, '0'),
       CASE WHEN g % 3 = 0 THEN 'BE0' || lpad((g * 104729 % 1000000000)::text, 9, '0') END,
       g || ' Rue du Commerce',
       (ARRAY['Brussels', 'Liège', 'Gent', 'Antwerpen', 'Namur', 'Lille', 'Paris', 'Köln'])[1 + g % 8],
       (1000 + g % 8999)::text,
       (ARRAY['BE', 'BE', 'BE', 'FR', 'NL', 'DE'])[1 + g % 6],
       g % 3 = 0,
       CASE WHEN g % 10 < 9 THEN 1 ELSE 0 END,
       CASE WHEN g % 10 = 9 THEN 1 ELSE 0 END,
       timestamp '2023-01-01' + (g * interval '10 minutes'),
       timestamp '2023-01-01' + (g * interval '10 minutes')
FROM generate_series(1::bigint, 100000) g;

INSERT INTO res_users (login, partner_id)
SELECT 'user' || g || '@demo.example', g FROM generate_series(1::bigint, 60) g;

INSERT INTO product_template (name, type, list_price, standard_price)
SELECT 'Product ' || g,
       CASE WHEN g % 20 = 0 THEN 'service' ELSE 'product' END,
       round((5 + g % 497 * 1.37)::numeric, 2),
       round((3 + g % 497 * 0.91)::numeric, 2)
FROM generate_series(1::bigint, 20000) g;

INSERT INTO product_product (product_tmpl_id, default_code, barcode)
SELECT g, 'SKU-' || lpad(g::text, 5, '0'), lpad(g::text, 13, '0')
FROM generate_series(1::bigint, 20000) g;

-- One order every ten minutes for three years; the last ones are still quotations.
-- Four lines per order: order g's lines are 4g-3 .. 4g. Orders get explicit ids (their
-- totals are summed from the lines), then the sequence continues after them.
INSERT INTO sale_order_line (order_id, product_id, name, product_uom_qty, price_unit,
                             price_subtotal, qty_delivered, qty_invoiced, create_date, write_date)
SELECT (g - 1) / 4 + 1,
       1 + g * 104729 % 20000,
       'Product ' || (1 + g * 104729 % 20000),
       1 + g % 12,
       round((5 + (g * 104729 % 20000) % 497 * 1.37)::numeric, 2),
       round(((1 + g % 12) * (5 + (g * 104729 % 20000) % 497 * 1.37))::numeric, 2),
       1 + g % 12,
       1 + g % 12,
       timestamp '2023-01-01' + (((g - 1) / 4 + 1) * interval '10 minutes'),
       timestamp '2023-01-01' + (((g - 1) / 4 + 1) * interval '10 minutes')
FROM generate_series(1::bigint, 600000) g;

INSERT INTO sale_order (id, name, partner_id, user_id, state, date_order, amount_untaxed,
                        amount_total, create_date, write_date)
SELECT l.order_id,
       'S' || lpad(l.order_id::text, 6, '0'),
       1 + l.order_id::bigint * 7919 % 100000,
       1 + l.order_id % 60,
       CASE WHEN l.order_id > 148000 THEN 'draft' WHEN l.order_id % 50 = 0 THEN 'cancel' ELSE 'sale' END,
       timestamp '2023-01-01' + (l.order_id * interval '10 minutes'),
       l.total,
       round(l.total * 1.21, 2),
       timestamp '2023-01-01' + (l.order_id * interval '10 minutes'),
       timestamp '2023-01-01' + (l.order_id * interval '10 minutes')
FROM (SELECT order_id, sum(price_subtotal) AS total FROM sale_order_line GROUP BY order_id) l
ORDER BY l.order_id;
SELECT setval('sale_order_id_seq', (SELECT max(id) FROM sale_order));

INSERT INTO stock_location (name, complete_name, usage)
SELECT n, 'WH/' || n, u
FROM (VALUES ('Partners/Vendors', 'supplier'), ('Partners/Customers', 'customer'),
             ('Virtual/Inventory adjustment', 'inventory'), ('Virtual/Scrap', 'inventory'),
             ('WH', 'view'), ('WH/Input', 'internal'), ('WH/Quality', 'internal'),
             ('WH/Stock', 'internal'), ('WH/Stock/Shelf 1', 'internal'),
             ('WH/Output', 'internal'), ('WH/Packing', 'internal')) v(n, u);

-- One delivery per order (from WH/Stock, 8, and its Shelf 1, 9, to Customers, 2).
INSERT INTO stock_picking (name, origin, partner_id, sale_id, location_id, location_dest_id,
                           state, scheduled_date, date_done, create_date, write_date)
SELECT 'WH/OUT/' || lpad(g::text, 6, '0'),
       'S' || lpad(g::text, 6, '0'),
       1 + g * 7919 % 100000,
       g, 8, 2,
       CASE WHEN g > 147000 THEN 'assigned' WHEN g % 50 = 0 THEN 'cancel' ELSE 'done' END,
       timestamp '2023-01-02' + (g * interval '10 minutes'),
       CASE WHEN g <= 147000 THEN timestamp '2023-01-02' + (g * interval '10 minutes') END,
       timestamp '2023-01-01' + (g * interval '10 minutes'),
       timestamp '2023-01-02' + (g * interval '10 minutes')
FROM generate_series(1::bigint, 150000) g;

INSERT INTO stock_move (picking_id, product_id, location_id, location_dest_id, product_uom_qty,
                        quantity, state, origin, date, create_date, write_date)
SELECT (g - 1) / 4 + 1,
       1 + g * 104729 % 20000,
       8 + g % 2, 2,
       1 + g % 12,
       CASE WHEN (g - 1) / 4 + 1 <= 147000 THEN 1 + g % 12 ELSE 0 END,
       CASE WHEN (g - 1) / 4 + 1 > 147000 THEN 'assigned' ELSE 'done' END,
       'S' || lpad(((g - 1) / 4 + 1)::text, 6, '0'),
       timestamp '2023-01-02' + (((g - 1) / 4 + 1) * interval '10 minutes'),
       timestamp '2023-01-01' + (((g - 1) / 4 + 1) * interval '10 minutes'),
       timestamp '2023-01-02' + (((g - 1) / 4 + 1) * interval '10 minutes')
FROM generate_series(1::bigint, 600000) g;

INSERT INTO stock_move_line (move_id, product_id, location_id, location_dest_id, quantity,
                             qty_done, state, date, create_date, write_date)
SELECT g, 1 + g * 104729 % 20000, 8 + g % 2, 2, 1 + g % 12,
       CASE WHEN (g - 1) / 4 + 1 <= 147000 THEN 1 + g % 12 ELSE 0 END,
       CASE WHEN (g - 1) / 4 + 1 > 147000 THEN 'assigned' ELSE 'done' END,
       timestamp '2023-01-02' + (((g - 1) / 4 + 1) * interval '10 minutes'),
       timestamp '2023-01-01' + (((g - 1) / 4 + 1) * interval '10 minutes'),
       timestamp '2023-01-02' + (((g - 1) / 4 + 1) * interval '10 minutes')
FROM generate_series(1::bigint, 600000) g;

INSERT INTO stock_quant (product_id, location_id, quantity, in_date)
SELECT p, l, 500 + p % 300, timestamp '2023-01-01'
FROM generate_series(1::bigint, 20000) p, (VALUES (8), (9)) v(l);

INSERT INTO account_journal (code, name, type)
VALUES ('INV', 'Customer Invoices', 'sale'), ('BILL', 'Vendor Bills', 'purchase'),
       ('BNK1', 'Bank', 'bank'), ('CSH1', 'Cash', 'cash'), ('MISC', 'Miscellaneous', 'general'),
       ('STJ', 'Inventory Valuation', 'general');

INSERT INTO account_account (code, name, account_type, reconcile)
SELECT (400000 + g * 10)::text, 'Account ' || g,
       CASE WHEN g <= 20 THEN 'asset_receivable' WHEN g <= 40 THEN 'liability_payable'
            WHEN g <= 120 THEN 'income' ELSE 'expense' END,
       g <= 40
FROM generate_series(1::bigint, 200) g;

INSERT INTO account_full_reconcile (name, create_date)
SELECT 'R' || lpad(g::text, 6, '0'), timestamp '2023-01-15' + (g * interval '15 minutes')
FROM generate_series(1::bigint, 100000) g;

-- 400 entries a day: invoices, payments and stock valuation entries.
INSERT INTO account_move (name, ref, move_type, state, journal_id, partner_id, date,
                          invoice_date_due, amount_total, amount_residual, payment_state,
                          create_date, write_date)
SELECT (ARRAY['INV', 'BNK1', 'STJ', 'INV'])[1 + g % 4] || '/' || (2023 + g / 146000) || '/' || lpad(g::text, 6, '0'),
       'S' || lpad((1 + g % 150000)::text, 6, '0'),
       (ARRAY['out_invoice', 'entry', 'entry', 'out_invoice'])[1 + g % 4],
       CASE WHEN g > 398000 THEN 'draft' ELSE 'posted' END,
       (ARRAY[1, 3, 6, 1])[1 + g % 4],
       1 + g * 7919 % 100000,
       date '2023-01-01' + (g / 400)::int,
       date '2023-01-31' + (g / 400)::int,
       round((100 + g % 9973 * 0.37)::numeric, 2),
       CASE WHEN g % 4 IN (0, 3) AND g > 380000 THEN round((100 + g % 9973 * 0.37)::numeric, 2) ELSE 0 END,
       CASE WHEN g % 4 IN (0, 3) THEN CASE WHEN g > 380000 THEN 'not_paid' ELSE 'paid' END END,
       timestamp '2023-01-01' + (g * interval '216 seconds'),
       timestamp '2023-01-01' + (g * interval '216 seconds')
FROM generate_series(1::bigint, 400000) g;

-- 13 items per entry. Receivable items of paid invoices point to their reconciliation.
INSERT INTO account_move_line (move_id, account_id, partner_id, name, date, parent_state,
                               debit, credit, balance, amount_residual, reconciled,
                               full_reconcile_id, write_date)
SELECT m,
       CASE WHEN i = 0 THEN 1 + m % 20 ELSE 41 + (m * 31 + i * 7) % 160 END,
       1 + m * 7919 % 100000,
       CASE WHEN i = 0 THEN 'INV/' || lpad(m::text, 6, '0') ELSE 'Product ' || (1 + (m * 13 + i) * 104729 % 20000) END,
       date '2023-01-01' + (m / 400)::int,
       CASE WHEN m > 398000 THEN 'draft' ELSE 'posted' END,
       CASE WHEN i = 0 THEN round((12 * (10 + m % 997 * 0.11))::numeric, 2) ELSE 0 END,
       CASE WHEN i = 0 THEN 0 ELSE round((10 + m % 997 * 0.11)::numeric, 2) END,
       CASE WHEN i = 0 THEN round((12 * (10 + m % 997 * 0.11))::numeric, 2) ELSE -round((10 + m % 997 * 0.11)::numeric, 2) END,
       CASE WHEN i = 0 AND m > 380000 THEN round((12 * (10 + m % 997 * 0.11))::numeric, 2) ELSE 0 END,
       i = 0 AND m <= 380000,
       CASE WHEN i = 0 AND m <= 380000 AND m % 4 IN (0, 3) THEN 1 + m % 100000 END,
       timestamp '2023-01-01' + (m * interval '216 seconds')
FROM generate_series(1::bigint, 400000) m, generate_series(0::bigint, 12) i;

INSERT INTO account_move_line_account_tax_rel (account_move_line_id, account_tax_id)
SELECT g * 13 + 2, 1 + g % 3 FROM generate_series(1::bigint, 300000) g;

-- Chatter: creation messages and tracked changes on orders, invoices, deliveries, partners.
INSERT INTO mail_message (model, res_id, parent_id, author_id, subject, body, message_type,
                          subtype_id, date, create_date)
SELECT (ARRAY['sale.order', 'account.move', 'stock.picking', 'res.partner', 'sale.order'])[1 + g % 5],
       CASE g % 5 WHEN 1 THEN 1 + g * 7 % 400000 WHEN 3 THEN 1 + g * 7 % 100000
                  ELSE 1 + g * 7 % 150000 END,
       NULL,
       1 + g % 60,
       NULL,
       '<p>' || (ARRAY['Quotation sent', 'Order confirmed', 'Invoice validated',
                        'Delivery done', 'Customer called about the delivery date'])[1 + g % 5] || '</p>',
       CASE WHEN g % 5 = 4 THEN 'comment' ELSE 'notification' END,
       1 + g % 4,
       timestamp '2023-01-01' + (g * interval '3 minutes'),
       timestamp '2023-01-01' + (g * interval '3 minutes')
FROM generate_series(1::bigint, 500000) g;

INSERT INTO mail_followers (res_model, res_id, partner_id)
SELECT (ARRAY['sale.order', 'account.move', 'stock.picking'])[1 + g % 3],
       1 + g / 3, 1 + g * 7919 % 100000
FROM generate_series(0::bigint, 299999) g;

INSERT INTO mail_tracking_value (mail_message_id, field_name, old_value_char, new_value_char, create_date)
SELECT 1 + (g - 1) % 500000, (ARRAY['state', 'user_id', 'amount_total'])[1 + g % 3],
       'draft', 'sale', timestamp '2023-01-01' + (g * interval '3 minutes')
FROM generate_series(1::bigint, 600000) g;

-- Attachments in the database: 1,200 scanned delivery slips of 1 MiB each, and 30,000
-- small images. Already-compressed content: repeated hashes, stored EXTERNAL.
INSERT INTO ir_attachment (name, res_model, res_id, mimetype, file_size, checksum, db_datas, create_date)
SELECT 'WH-OUT-' || lpad(g::text, 6, '0') || '.pdf', 'stock.picking', g, 'application/pdf',
       1048576, md5(g::text) || '00000000', decode(repeat(md5(g::text), 65536), 'hex'),
       timestamp '2023-01-02' + (g * interval '10 minutes')
FROM generate_series(1::bigint, 1200) g;
INSERT INTO ir_attachment (name, res_model, res_id, mimetype, file_size, checksum, db_datas, create_date)
SELECT 'image_' || g || '.png', 'res.partner', 1 + g * 3, 'image/png', 2048,
       md5(g::text) || 'ffffffff', decode(repeat(md5((g + 7)::text), 128), 'hex'),
       timestamp '2023-01-01' + (g * interval '30 minutes')
FROM generate_series(1::bigint, 30000) g;

-- Jobs done over the last weeks (the queue keeps them 7 days, then the cron removes them).
INSERT INTO queue_job (uuid, name, model_name, method_name, record_ids, channel, state, priority,
                       date_created, date_started, date_done)
SELECT md5('job' || g), 'Send invoice ' || g || ' to the e-invoicing network', 'account.move',
       '_edi_send', '[' || g || ']', 'root.edi', 'done', 10,
       now() - interval '21 days' + g * interval '90 seconds',
       now() - interval '21 days' + g * interval '90 seconds',
       now() - interval '21 days' + g * interval '90 seconds' + interval '2 seconds'
FROM generate_series(1::bigint, 20000) g;

-- Odoo's catalog: what is installed (the base module records the series), the models the
-- scheduled jobs run on, the system parameters.
INSERT INTO ir_module_module (name, state, latest_version)
VALUES ('base', 'installed', '17.0.1.3'), ('web', 'installed', '17.0.1.0'),
       ('bus', 'installed', '17.0.1.0'), ('mail', 'installed', '17.0.1.15'),
       ('sale', 'installed', '17.0.1.2'), ('stock', 'installed', '17.0.1.1'),
       ('account', 'installed', '17.0.1.2'), ('purchase', 'installed', '17.0.1.2'),
       ('queue_job', 'installed', '17.0.1.1.0'), ('website', 'uninstalled', NULL);
INSERT INTO ir_model (model, name)
SELECT m, jsonb_build_object('en_US', initcap(replace(m, '.', ' ')))
FROM unnest(ARRAY['ir.autovacuum', 'bus.bus', 'queue.job', 'account.move.line', 'mail.mail',
                  'procurement.group', 'sale.order', 'stock.picking', 'res.partner']) m;
INSERT INTO ir_config_parameter (key, value)
VALUES ('ir_attachment.location', 'db'), ('web.base.url', 'https://erp.demo.example'),
       ('database.secret', 'demo-secret-pgsage-never-reads');

-- PLANTED: the outgoing mail server's password expired nine days ago: every email since
-- (invoices, delivery notices) waits in the queue. The queue manager still runs and fails.
INSERT INTO mail_mail (mail_message_id, email_to, subject, state, failure_reason, create_date)
SELECT 1 + g * 37 % 500000, 'customer' || g % 5000 || '@example.com', 'Invoice INV/2026/' || g,
       'outgoing', NULL, (now() AT TIME ZONE 'UTC') - interval '9 days' + g * interval '1 minute'
FROM generate_series(1::bigint, 12000) g;

INSERT INTO ir_cron (cron_name, model, method, interval_number, interval_type, nextcall, priority)
SELECT n, m, f, i, t, now() - interval '1 minute', p
FROM (VALUES ('Base: Auto-vacuum internal data', 'ir.autovacuum', '_run_vacuum_cleaner', 1, 'days', 5),
             ('Bus: garbage collect notifications', 'bus.bus', '_gc_messages', 1, 'days', 5),
             ('Jobs: vacuum done jobs', 'queue.job', 'autovacuum', 1, 'days', 5),
             ('Accounting: recompute residual amounts', 'account.move.line', '_compute_amount_residual', 1, 'days', 10),
             ('Mail: email queue manager', 'mail.mail', 'process_email_queue', 1, 'minutes', 5),
             ('Stock: procurement scheduler', 'procurement.group', 'run_scheduler', 1, 'days', 5),
             ('Sales: send quotation reminders', 'sale.order', '_cron_send_reminders', 1, 'days', 10)) v(n, m, f, i, t, p);

-- The go-live's customer import, kept "for reference".
INSERT INTO x_legacy_customer_import (legacy_code, name, vat, email, balance_eur, imported_at)
SELECT 'OLD' || g, 'Partner ' || g, 'BE0' || lpad((g * 104729 % 1000000000)::text, 9, '0'),
       'contact' || g || '@example.com', round((g % 5000 * 1.5)::numeric, 2), timestamp '2022-12-31'
FROM generate_series(1::bigint, 120000) g;
