-- The post-data section of the migration's restore: indexes and foreign keys, created
-- once the data is loaded (schema.sql, then data.sql, then this file).
--
-- PLANTED (by absence): mail_message's (model, res_id) index is not here. Odoo creates
-- `mail_message_model_res_id_idx`; the migration's script lost it.

ALTER TABLE account_move_line ADD PRIMARY KEY (id);
-- The partner autocompletion of every many2one field (`display_name LIKE 'abc%'`).
CREATE INDEX res_partner_display_name_index ON res_partner (display_name);
ALTER TABLE res_users ADD FOREIGN KEY (partner_id) REFERENCES res_partner;
ALTER TABLE product_product ADD FOREIGN KEY (product_tmpl_id) REFERENCES product_template ON DELETE CASCADE;
CREATE INDEX product_product_product_tmpl_id_index ON product_product (product_tmpl_id);
CREATE INDEX product_product_default_code_index ON product_product (default_code);
ALTER TABLE sale_order ADD FOREIGN KEY (partner_id) REFERENCES res_partner;
ALTER TABLE sale_order ADD FOREIGN KEY (user_id) REFERENCES res_users;
CREATE INDEX sale_order_partner_id_index ON sale_order (partner_id);
CREATE INDEX sale_order_date_order_index ON sale_order (date_order);
-- PLANTED: a customisation module ("sale_speedup") added the index Odoo already has:
-- a duplicate of sale_order_partner_id_index.
CREATE INDEX sale_order_partner_idx ON sale_order (partner_id);
-- Small (user_id has a few dozen values): below any size worth reporting.
CREATE INDEX sale_order_user_id_index ON sale_order (user_id);
ALTER TABLE sale_order_line ADD FOREIGN KEY (order_id) REFERENCES sale_order ON DELETE CASCADE;
ALTER TABLE sale_order_line ADD FOREIGN KEY (product_id) REFERENCES product_product;
CREATE INDEX sale_order_line_order_id_index ON sale_order_line (order_id);
CREATE INDEX sale_order_line_product_id_index ON sale_order_line (product_id);
ALTER TABLE stock_picking ADD FOREIGN KEY (sale_id) REFERENCES sale_order;
CREATE INDEX stock_picking_sale_id_index ON stock_picking (sale_id);
ALTER TABLE stock_move ADD FOREIGN KEY (picking_id) REFERENCES stock_picking;
ALTER TABLE stock_move ADD FOREIGN KEY (product_id) REFERENCES product_product;
CREATE INDEX stock_move_picking_id_index ON stock_move (picking_id);
CREATE INDEX stock_move_product_location_index ON stock_move (product_id, location_id);
-- PLANTED: left by a module upgrade that replaced it with the two-column index above,
-- which serves every lookup it served (a redundant prefix).
CREATE INDEX stock_move_product_id_index ON stock_move (product_id);
-- PLANTED: added for a search view of a module that was uninstalled; nothing reads it.
CREATE INDEX stock_move_origin_index ON stock_move (origin);
ALTER TABLE stock_move_line ADD FOREIGN KEY (move_id) REFERENCES stock_move ON DELETE CASCADE;
CREATE INDEX stock_move_line_move_id_index ON stock_move_line (move_id);
CREATE UNIQUE INDEX stock_quant_product_location_index ON stock_quant (product_id, location_id);
ALTER TABLE account_move ADD FOREIGN KEY (partner_id) REFERENCES res_partner;
CREATE INDEX account_move_partner_id_index ON account_move (partner_id);
ALTER TABLE account_move_line ADD FOREIGN KEY (move_id) REFERENCES account_move ON DELETE CASCADE;
ALTER TABLE account_move_line ADD FOREIGN KEY (full_reconcile_id) REFERENCES account_full_reconcile ON DELETE SET NULL;
CREATE INDEX account_move_line_move_id_index ON account_move_line (move_id);
CREATE INDEX account_move_line_partner_id_index ON account_move_line (partner_id);
ALTER TABLE mail_tracking_value ADD FOREIGN KEY (mail_message_id) REFERENCES mail_message ON DELETE CASCADE;
CREATE INDEX mail_tracking_value_mail_message_id_index ON mail_tracking_value (mail_message_id);
CREATE INDEX ir_attachment_res_idx ON ir_attachment (res_model, res_id);
CREATE INDEX queue_job_state_index ON queue_job (state);
