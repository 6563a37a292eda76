-- Finance runs its reports on the primary, during the day: the trial balance by
-- account and month, the aged receivable by partner, a partner ledger with running
-- balances, the general ledger export of a quarter, the sales analysis and the sales
-- dashboard of the month. All but the dashboard sort hundreds of thousands of rows;
-- with work_mem at 1 MB they spill.
SELECT account_id, date_trunc('month', date) AS month, sum(debit) AS debit, sum(credit) AS credit, sum(balance) AS balance FROM account_move_line WHERE parent_state = 'posted' AND date >= date '2025-01-01' GROUP BY account_id, date_trunc('month', date) ORDER BY account_id, month;
SELECT partner_id, sum(amount_residual) AS residual, sum(balance) AS balance FROM account_move_line WHERE account_id <= 20 AND parent_state = 'posted' GROUP BY partner_id ORDER BY partner_id;
SELECT partner_id, date, balance, sum(balance) OVER (PARTITION BY partner_id ORDER BY date, id) AS running_balance FROM account_move_line WHERE account_id <= 20 AND parent_state = 'posted' ORDER BY partner_id, date, id;
SELECT account_id, date, move_id, name, partner_id, debit, credit, balance FROM account_move_line WHERE parent_state = 'posted' AND date BETWEEN date '2025-04-01' AND date '2025-06-30' ORDER BY account_id, date, move_id;
SELECT l.product_id, o.partner_id, sum(l.price_subtotal) AS revenue, sum(l.product_uom_qty) AS quantity FROM sale_order_line l JOIN sale_order o ON o.id = l.order_id WHERE o.state = 'sale' GROUP BY l.product_id, o.partner_id ORDER BY revenue DESC LIMIT 100;
SELECT date_trunc('day', date_order) AS day, count(*) AS orders, sum(amount_total) AS revenue FROM sale_order WHERE date_order >= timestamp '2025-10-01' AND state IN ('sale', 'draft') GROUP BY 1 ORDER BY 1;
\sleep 20 s
