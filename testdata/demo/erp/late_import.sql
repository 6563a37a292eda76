-- The supplier price list import, run just before the audit: the integration script
-- creates its staging table, loads 150,000 prices into it, and has no ANALYZE step.
-- Autovacuum would analyse it within a minute or so; the audit comes first (as a DBA's
-- often does, right after the customer's "we just imported the new prices").
-- PLANTED: a table of 150,000 rows that was never analysed.
CREATE TABLE x_supplier_price_import (
    id serial PRIMARY KEY,
    partner_id integer NOT NULL,
    product_code varchar NOT NULL,
    min_qty numeric NOT NULL DEFAULT 0,
    price numeric NOT NULL,
    delay integer NOT NULL DEFAULT 1,
    date_start date
);
INSERT INTO x_supplier_price_import (partner_id, product_code, min_qty, price, delay, date_start)
SELECT 1 + g * 7919 % 10000 * 10 + 9, 'SKU-' || lpad((1 + g % 20000)::text, 5, '0'), (g % 4) * 10,
       round((3 + g % 497 * 0.91)::numeric, 2), 1 + g % 14, date '2026-01-01'
FROM generate_series(1::bigint, 150000) g;
