-- A salesperson enters a quotation: finds the customer, checks their open invoices and
-- last orders, adds three lines, saves. Odoo writes the chatter message, its tracking,
-- the followers and a bus notification in the same transaction.
\set partner random(1, 100000)
\set p1 random(1, 20000)
\set p2 random(1, 20000)
\set p3 random(1, 20000)
\set user random(1, 60)
SELECT id, display_name, email FROM res_partner WHERE display_name LIKE 'Partner ' || :partner || '%' ORDER BY display_name LIMIT 8;
SELECT id, name, amount_total, amount_residual, invoice_date_due FROM account_move WHERE partner_id = :partner AND state = 'posted' AND payment_state = 'not_paid' ORDER BY invoice_date_due;
SELECT coalesce(sum(amount_residual), 0) AS credit_used FROM account_move_line WHERE partner_id = :partner AND reconciled = false AND parent_state = 'posted' AND account_id <= 20;
SELECT id, name, date_order, amount_total, state FROM sale_order WHERE partner_id = :partner ORDER BY date_order DESC LIMIT 10;
SELECT id, name, partner_id, date_order, amount_total FROM sale_order WHERE user_id = :user AND state = 'draft' ORDER BY date_order DESC LIMIT 80;
BEGIN;
INSERT INTO sale_order (id, name, partner_id, user_id, state, date_order) SELECT n, 'S' || lpad(n::text, 6, '0'), :partner, :user, 'draft', now() FROM nextval('sale_order_id_seq') n RETURNING id AS order_id \gset
INSERT INTO sale_order_line (order_id, product_id, name, product_uom_qty, price_unit, price_subtotal) SELECT :order_id, p.id, t.name, 2, t.list_price, 2 * t.list_price FROM product_product p JOIN product_template t ON t.id = p.product_tmpl_id WHERE p.id IN (:p1, :p2, :p3);
UPDATE sale_order SET amount_untaxed = l.total, amount_total = round(l.total * 1.21, 2), write_date = now() FROM (SELECT sum(price_subtotal) AS total FROM sale_order_line WHERE order_id = :order_id) l WHERE id = :order_id;
INSERT INTO mail_message (model, res_id, author_id, body, message_type, subtype_id, date) VALUES ('sale.order', :order_id, :user, '<p>Quotation created</p>', 'notification', 1, now()) RETURNING id AS message_id \gset
INSERT INTO mail_tracking_value (mail_message_id, field_name, old_value_char, new_value_char) VALUES (:message_id, 'state', NULL, 'draft');
INSERT INTO mail_followers (res_model, res_id, partner_id) VALUES ('sale.order', :order_id, :partner);
INSERT INTO bus_bus (channel, message) VALUES ('["erp","res.partner",' || :user || ']', '{"type": "mail.record/insert", "payload": {"model": "sale.order", "id": ' || :order_id || '}}');
COMMIT;
