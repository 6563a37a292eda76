-- Someone opens a sales order's form: the order, its lines and deliveries, then the
-- chatter (messages, their tracked values, followers, attachments), and an invoice.
\set order random(1, 150000)
\set move random(1, 400000)
SELECT id, name, partner_id, state, date_order, amount_total FROM sale_order WHERE id = :order;
SELECT id, product_id, name, product_uom_qty, price_unit, price_subtotal FROM sale_order_line WHERE order_id = :order ORDER BY id;
SELECT id, name, state FROM stock_picking WHERE sale_id = :order;
SELECT id, author_id, body, message_type, date FROM mail_message WHERE model = 'sale.order' AND res_id = :order ORDER BY id DESC LIMIT 30;
SELECT field_name, old_value_char, new_value_char FROM mail_tracking_value WHERE mail_message_id = :move;
SELECT partner_id FROM mail_followers WHERE res_model = 'sale.order' AND res_id = :order;
SELECT id, name, mimetype, file_size FROM ir_attachment WHERE res_model = 'sale.order' AND res_id = :order;
SELECT id, account_id, name, debit, credit, reconciled FROM account_move_line WHERE move_id = :move ORDER BY id;
