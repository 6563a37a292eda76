-- A warehouse operator scans a delivery: opens the picking, scans a product's barcode,
-- checks its stock, validates the moves; the on-hand quantity is updated in place.
\set picking random(1, 150000)
\set product random(1, 20000)
\set user random(1, 60)
\set location random(8, 9)
SELECT id, name, state, partner_id, scheduled_date FROM stock_picking WHERE id = :picking;
SELECT m.id, m.product_id, m.product_uom_qty, m.quantity, m.state FROM stock_move m WHERE m.picking_id = :picking ORDER BY m.id;
SELECT id, default_code FROM product_product WHERE barcode = lpad(:product::text, 13, '0');
SELECT quantity, reserved_quantity FROM stock_quant WHERE product_id = :product AND location_id = :location;
SELECT coalesce(sum(product_uom_qty), 0) AS outgoing FROM stock_move WHERE product_id = :product AND location_id = :location AND state = 'assigned';
SELECT order_id, product_uom_qty, price_unit FROM sale_order_line WHERE product_id = :product ORDER BY id DESC LIMIT 20;
BEGIN;
UPDATE stock_move_line SET qty_done = quantity, state = 'done', write_date = now() WHERE move_id IN (SELECT id FROM stock_move WHERE picking_id = :picking);
UPDATE stock_move SET quantity = product_uom_qty, state = 'done', date = now(), write_date = now() WHERE picking_id = :picking AND state <> 'done';
UPDATE stock_quant SET quantity = quantity - 1, write_date = now() WHERE product_id = :product AND location_id = :location;
UPDATE stock_picking SET state = 'done', date_done = now(), write_date = now() WHERE id = :picking;
INSERT INTO bus_bus (channel, message) VALUES ('["erp","res.partner",' || :user || ']', '{"type": "stock.picking/done", "payload": {"id": ' || :picking || '}}');
COMMIT;
