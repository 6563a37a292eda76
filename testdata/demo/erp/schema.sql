-- The demo ERP database: the core tables of an Odoo 16/17 installation (partners,
-- products, sales, stock, accounting, chatter, attachments, job queue, notification
-- bus, crons), with the columns and indexes Odoo gives them, trimmed to what the
-- workload (workload/*.sql) reads and writes.
--
-- Planted problems are marked `-- PLANTED:` and listed, with the rule that should find
-- each, in README.md ("The story"). Everything else is meant to be healthy.
--
-- Loaded the way a restore does it (pg_restore's sections): the tables here, then
-- data.sql, then post_data.sql (indexes and foreign keys), as the application role
-- `odoo` that owns the database. `scripts/make-demo-snapshot.sh` runs it all.

-- Odoo's catalog: the modules installed, the models, the system parameters. pgsage
-- recognises an Odoo database by the first two and res_users.
CREATE TABLE ir_module_module (
    id serial PRIMARY KEY,
    name varchar NOT NULL UNIQUE,
    state varchar,
    latest_version varchar
);

CREATE TABLE ir_model (
    id serial PRIMARY KEY,
    model varchar NOT NULL UNIQUE,
    name jsonb NOT NULL
);

-- PLANTED (with ir_attachment below): `ir_attachment.location = db`, set by the
-- go-live's integrator "so that backups are complete".
CREATE TABLE ir_config_parameter (
    id serial PRIMARY KEY,
    key varchar NOT NULL UNIQUE,
    value text NOT NULL
);

CREATE TABLE res_company (
    id serial PRIMARY KEY,
    name varchar NOT NULL,
    currency_code varchar NOT NULL
);

CREATE TABLE res_partner (
    id serial PRIMARY KEY,
    name varchar,
    display_name varchar,
    ref varchar,
    email varchar,
    phone varchar,
    vat varchar,
    street varchar,
    city varchar,
    zip varchar,
    country_code varchar(2),
    is_company boolean NOT NULL DEFAULT false,
    customer_rank integer NOT NULL DEFAULT 0,
    supplier_rank integer NOT NULL DEFAULT 0,
    active boolean NOT NULL DEFAULT true,
    create_date timestamp NOT NULL DEFAULT now(),
    write_date timestamp NOT NULL DEFAULT now()
);

CREATE TABLE res_users (
    id serial PRIMARY KEY,
    login varchar NOT NULL UNIQUE,
    partner_id integer NOT NULL,
    active boolean NOT NULL DEFAULT true
);

CREATE TABLE product_template (
    id serial PRIMARY KEY,
    name varchar NOT NULL,
    type varchar NOT NULL,
    list_price numeric NOT NULL,
    standard_price numeric NOT NULL,
    active boolean NOT NULL DEFAULT true,
    create_date timestamp NOT NULL DEFAULT now(),
    write_date timestamp NOT NULL DEFAULT now()
);

CREATE TABLE product_product (
    id serial PRIMARY KEY,
    product_tmpl_id integer NOT NULL,
    default_code varchar,
    barcode varchar UNIQUE,
    active boolean NOT NULL DEFAULT true,
    create_date timestamp NOT NULL DEFAULT now(),
    write_date timestamp NOT NULL DEFAULT now()
);

CREATE TABLE sale_order (
    id serial PRIMARY KEY,
    name varchar NOT NULL,
    partner_id integer NOT NULL,
    user_id integer,
    state varchar NOT NULL,
    date_order timestamp NOT NULL,
    amount_untaxed numeric,
    amount_total numeric,
    note text,
    create_date timestamp NOT NULL DEFAULT now(),
    write_date timestamp NOT NULL DEFAULT now()
);

CREATE TABLE sale_order_line (
    id serial PRIMARY KEY,
    order_id integer NOT NULL,
    product_id integer,
    name text NOT NULL,
    product_uom_qty numeric NOT NULL,
    price_unit numeric NOT NULL,
    price_subtotal numeric,
    qty_delivered numeric NOT NULL DEFAULT 0,
    qty_invoiced numeric NOT NULL DEFAULT 0,
    create_date timestamp NOT NULL DEFAULT now(),
    write_date timestamp NOT NULL DEFAULT now()
);

CREATE TABLE stock_location (
    id serial PRIMARY KEY,
    name varchar NOT NULL,
    complete_name varchar,
    usage varchar NOT NULL,
    active boolean NOT NULL DEFAULT true
);

CREATE TABLE stock_picking (
    id serial PRIMARY KEY,
    name varchar NOT NULL,
    origin varchar,
    partner_id integer,
    sale_id integer,
    location_id integer NOT NULL,
    location_dest_id integer NOT NULL,
    state varchar NOT NULL,
    scheduled_date timestamp NOT NULL,
    date_done timestamp,
    create_date timestamp NOT NULL DEFAULT now(),
    write_date timestamp NOT NULL DEFAULT now()
);

CREATE TABLE stock_move (
    id serial PRIMARY KEY,
    picking_id integer,
    product_id integer NOT NULL,
    location_id integer NOT NULL,
    location_dest_id integer NOT NULL,
    product_uom_qty numeric NOT NULL,
    quantity numeric NOT NULL DEFAULT 0,
    state varchar NOT NULL,
    origin varchar,
    date timestamp NOT NULL,
    create_date timestamp NOT NULL DEFAULT now(),
    write_date timestamp NOT NULL DEFAULT now()
);

CREATE TABLE stock_move_line (
    id serial PRIMARY KEY,
    move_id integer,
    product_id integer NOT NULL,
    location_id integer NOT NULL,
    location_dest_id integer NOT NULL,
    quantity numeric NOT NULL,
    qty_done numeric NOT NULL DEFAULT 0,
    lot_name varchar,
    state varchar,
    date timestamp NOT NULL,
    create_date timestamp NOT NULL DEFAULT now(),
    write_date timestamp NOT NULL DEFAULT now()
);

-- On-hand quantities, updated at every scan: room on each page for HOT updates.
CREATE TABLE stock_quant (
    id serial PRIMARY KEY,
    product_id integer NOT NULL,
    location_id integer NOT NULL,
    quantity numeric NOT NULL DEFAULT 0,
    reserved_quantity numeric NOT NULL DEFAULT 0,
    in_date timestamp,
    write_date timestamp NOT NULL DEFAULT now()
) WITH (fillfactor = 80);

CREATE TABLE account_account (
    id serial PRIMARY KEY,
    code varchar NOT NULL,
    name varchar NOT NULL,
    account_type varchar NOT NULL,
    reconcile boolean NOT NULL DEFAULT false
);

CREATE TABLE account_journal (
    id serial PRIMARY KEY,
    code varchar NOT NULL,
    name varchar NOT NULL,
    type varchar NOT NULL
);

CREATE TABLE account_move (
    id serial PRIMARY KEY,
    name varchar NOT NULL,
    ref varchar,
    move_type varchar NOT NULL,
    state varchar NOT NULL,
    journal_id integer NOT NULL,
    partner_id integer,
    date date NOT NULL,
    invoice_date_due date,
    amount_total numeric,
    amount_residual numeric,
    payment_state varchar,
    create_date timestamp NOT NULL DEFAULT now(),
    write_date timestamp NOT NULL DEFAULT now()
);

CREATE TABLE account_full_reconcile (
    id serial PRIMARY KEY,
    name varchar NOT NULL,
    create_date timestamp NOT NULL DEFAULT now()
);

-- The largest table of an ERP: a few lines per invoice, payment and stock valuation.
-- PLANTED: left on the server-wide autovacuum_vacuum_scale_factor (0.2): with 5 million
-- rows, autovacuum waits for a million dead rows.
CREATE TABLE account_move_line (
    id serial NOT NULL,  -- primary key added after the load (post_data.sql)
    move_id integer NOT NULL,
    account_id integer NOT NULL,
    partner_id integer,
    name varchar,
    date date NOT NULL,
    parent_state varchar NOT NULL,
    debit numeric NOT NULL DEFAULT 0,
    credit numeric NOT NULL DEFAULT 0,
    balance numeric NOT NULL DEFAULT 0,
    amount_residual numeric NOT NULL DEFAULT 0,
    reconciled boolean NOT NULL DEFAULT false,
    -- PLANTED: a foreign key without an index. Unreconciling a payment deletes its
    -- account_full_reconcile row, and PostgreSQL then looks for referencing lines
    -- (ON DELETE SET NULL) with a sequential scan of the whole table, under lock.
    full_reconcile_id integer,
    write_date timestamp NOT NULL DEFAULT now()
);

-- Chatter: one row per message or tracked change on any record (polymorphic: model, res_id).
-- PLANTED: the (model, res_id) index Odoo creates was lost in the migration (the
-- post-data script that recreated indexes failed on this table and nobody noticed; see
-- post_data.sql): every chatter read scans the table.
CREATE TABLE mail_message (
    id serial PRIMARY KEY,
    model varchar,
    res_id integer,
    parent_id integer,
    author_id integer,
    subject varchar,
    body text,
    message_type varchar NOT NULL,
    subtype_id integer,
    date timestamp NOT NULL,
    create_date timestamp NOT NULL DEFAULT now()
);

-- Healthy twin: the same polymorphic lookup, indexed (Odoo's unique constraint).
CREATE TABLE mail_followers (
    id serial PRIMARY KEY,
    res_model varchar NOT NULL,
    res_id integer NOT NULL,
    partner_id integer NOT NULL,
    CONSTRAINT mail_followers_res_partner_res_model_id_uniq UNIQUE (res_model, res_id, partner_id)
);

CREATE TABLE mail_tracking_value (
    id serial PRIMARY KEY,
    mail_message_id integer NOT NULL,
    field_name varchar NOT NULL,
    old_value_char varchar,
    new_value_char varchar,
    create_date timestamp NOT NULL DEFAULT now()
);

-- Outgoing emails, queued by the application and sent by the "Mail: email queue manager"
-- cron (deleted once sent).
CREATE TABLE mail_mail (
    id serial PRIMARY KEY,
    mail_message_id integer NOT NULL,
    email_to varchar,
    subject varchar,
    state varchar NOT NULL,
    failure_reason text,
    create_date timestamp NOT NULL DEFAULT now()
);

-- PLANTED: attachments stored in the database (ir_attachment.location = 'db'), about
-- 1.1 GB of PDFs and images. Files are already compressed: STORAGE EXTERNAL keeps the
-- generated bytes as they are, as TOAST would for a PDF.
CREATE TABLE ir_attachment (
    id serial PRIMARY KEY,
    name varchar NOT NULL,
    res_model varchar,
    res_id integer,
    type varchar NOT NULL DEFAULT 'binary',
    mimetype varchar,
    file_size integer,
    checksum varchar(40),
    db_datas bytea,
    store_fname varchar,
    create_date timestamp NOT NULL DEFAULT now()
);
ALTER TABLE ir_attachment ALTER COLUMN db_datas SET STORAGE EXTERNAL;

-- OCA queue_job: jobs enqueued by the application, taken by job runners. Healthy twin
-- of bus_bus: the same churn, with autovacuum left on.
CREATE TABLE queue_job (
    id serial PRIMARY KEY,
    uuid varchar NOT NULL UNIQUE,
    name varchar,
    model_name varchar,
    method_name varchar,
    record_ids text,
    channel varchar,
    state varchar NOT NULL,
    priority integer NOT NULL DEFAULT 10,
    eta timestamp,
    date_created timestamp NOT NULL,
    date_started timestamp,
    date_done timestamp,
    worker_pid integer,
    exc_info text
);

-- The notification bus (longpolling/websocket): a message per notification, deleted by
-- the bus garbage collector once read.
-- PLANTED: someone switched autovacuum off on it "because vacuum kept locking it": its
-- dead rows are never removed. And its integer id has been counting for years: the
-- sequence is close to 2^31.
CREATE TABLE bus_bus (
    id serial PRIMARY KEY,
    channel varchar,
    message varchar,
    create_date timestamp NOT NULL DEFAULT now()
) WITH (autovacuum_enabled = false);

CREATE TABLE ir_cron (
    id serial PRIMARY KEY,
    cron_name varchar NOT NULL,
    model varchar NOT NULL,
    method varchar NOT NULL,
    interval_number integer NOT NULL,
    interval_type varchar NOT NULL,
    nextcall timestamp NOT NULL,
    lastcall timestamp,
    priority integer NOT NULL DEFAULT 5,
    active boolean NOT NULL DEFAULT true
);

-- A many2many relation table, as Odoo creates them (composite primary key).
CREATE TABLE account_move_line_account_tax_rel (
    account_move_line_id integer NOT NULL,
    account_tax_id integer NOT NULL,
    PRIMARY KEY (account_move_line_id, account_tax_id)
);

-- PLANTED: a table left by the customer import of the go-live (loaded from CSV with
-- COPY, never given a primary key, still read by a custom report).
CREATE TABLE x_legacy_customer_import (
    legacy_code varchar,
    name varchar,
    vat varchar,
    email varchar,
    balance_eur numeric,
    imported_at timestamp
);
