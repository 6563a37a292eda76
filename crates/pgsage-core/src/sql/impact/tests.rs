//! One test per statement kind the rules write (and the ones a DBA is most often bitten
//! by): its lock and what it blocks, rewrite, phase, destructiveness and whether it may
//! run in a transaction block.

use super::*;

fn one(sql: &str) -> Impact {
    let s = statements(sql);
    assert_eq!(s.len(), 1, "{sql}: {s:#?}");
    s.into_iter()
        .next()
        .map(|s| s.impact)
        .expect("one statement")
}

fn lock(i: &Impact) -> (LockMode, &str) {
    let l = i.lock.as_ref().expect("a lock");
    (l.mode, l.relation.as_str())
}

#[test]
fn create_index_concurrently_lets_reads_and_writes_continue() {
    let i = one("CREATE INDEX CONCURRENTLY prv_idx ON public.prv_order_line (order_id);");
    assert_eq!(i.kind, Kind::CreateIndex);
    assert_eq!(
        lock(&i),
        (LockMode::ShareUpdateExclusive, "public.prv_order_line")
    );
    assert!(!i.in_transaction && !i.rewrites_table);
    assert_eq!(i.phase(), Phase::Online);
    assert!(i.runs_in_script());
    assert_eq!(i.work, vec![Work::Table("public.prv_order_line".into())]);
    // Unnamed, unique, IF NOT EXISTS.
    let i = one("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ON ONLY s.\"T\" (id);");
    assert_eq!(lock(&i), (LockMode::ShareUpdateExclusive, "s.\"T\""));
}

#[test]
fn create_index_without_concurrently_blocks_writes_for_the_build() {
    let i = one("CREATE INDEX t_a_idx ON t (a);");
    assert_eq!(lock(&i), (LockMode::Share, "t"));
    assert!(i.in_transaction);
    assert_eq!(i.phase(), Phase::Maintenance);
}

#[test]
fn drop_index_is_destructive_and_concurrently_is_online() {
    let i = one("DROP INDEX CONCURRENTLY indexing_problems.sale_order_name_idx;");
    assert_eq!(
        lock(&i),
        (
            LockMode::ShareUpdateExclusive,
            "indexing_problems.sale_order_name_idx"
        )
    );
    assert!(i.lock.as_ref().is_some_and(|l| l.via_index));
    assert_eq!(i.phase(), Phase::Online);
    assert!(!i.in_transaction);
    assert!(i
        .destructive
        .as_deref()
        .is_some_and(|d| d.starts_with("drops index indexing_problems.sale_order_name_idx")));
    assert!(!i.runs_in_script());
    let i = one("DROP INDEX IF EXISTS public.t_idx;");
    assert_eq!(lock(&i), (LockMode::AccessExclusive, "public.t_idx"));
    assert_eq!(i.phase(), Phase::Maintenance);
}

#[test]
fn reindex_concurrently_rebuilds_online() {
    let i = one("REINDEX INDEX CONCURRENTLY public.t_idx;");
    assert_eq!(lock(&i), (LockMode::ShareUpdateExclusive, "public.t_idx"));
    assert_eq!(i.phase(), Phase::Online);
    assert!(!i.in_transaction);
    assert_eq!(i.work, vec![Work::Index("public.t_idx".into())]);
    let i = one("REINDEX (VERBOSE) TABLE CONCURRENTLY public.t;");
    assert_eq!(i.work, vec![Work::TableAndIndexes("public.t".into())]);
    let i = one("REINDEX INDEX public.t_idx;");
    assert_eq!(lock(&i), (LockMode::Share, "public.t_idx"));
    assert_eq!(i.phase(), Phase::Maintenance);
}

#[test]
fn alter_column_type_rewrites_the_table_under_access_exclusive() {
    let i = one("ALTER TABLE public.stock_lot ALTER COLUMN id TYPE bigint;");
    assert_eq!(lock(&i), (LockMode::AccessExclusive, "public.stock_lot"));
    assert!(i.rewrites_table);
    assert_eq!(i.phase(), Phase::Maintenance);
    assert_eq!(
        i.work,
        vec![Work::TableAndIndexes("public.stock_lot".into())]
    );
    assert!(i.runs_in_script() && i.in_transaction);
    let i = one("ALTER TABLE t ALTER id SET DATA TYPE bigint, ALTER b TYPE text;");
    assert!(i.rewrites_table);
}

#[test]
fn autovacuum_and_fillfactor_storage_parameters_take_share_update_exclusive() {
    for sql in [
        "ALTER TABLE public.t SET (autovacuum_vacuum_scale_factor = 0.017, autovacuum_analyze_scale_factor = 0.0085);",
        "ALTER TABLE public.t RESET (autovacuum_enabled);",
        "ALTER TABLE public.t SET (fillfactor = 90);",
        "ALTER TABLE public.t SET (toast.autovacuum_enabled = true);",
    ] {
        let i = one(sql);
        assert_eq!(lock(&i), (LockMode::ShareUpdateExclusive, "public.t"), "{sql}");
        assert_eq!(i.phase(), Phase::Online, "{sql}");
        assert!(!i.rewrites_table && i.work.is_empty(), "{sql}");
    }
    // Any other storage parameter: ACCESS EXCLUSIVE.
    let i = one("ALTER TABLE public.t SET (user_catalog_table = true);");
    assert_eq!(lock(&i).0, LockMode::AccessExclusive);
}

#[test]
fn constraints_validate_online_and_attach_an_index_under_access_exclusive() {
    let i = one("ALTER TABLE public.t VALIDATE CONSTRAINT t_qty_positive;");
    assert_eq!(lock(&i), (LockMode::ShareUpdateExclusive, "public.t"));
    assert_eq!(i.held, Held::Scan);
    assert_eq!(i.phase(), Phase::Online);
    assert_eq!(i.work, vec![Work::Table("public.t".into())]);
    let i = one("ALTER TABLE public.t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_pkey;");
    assert_eq!(lock(&i), (LockMode::AccessExclusive, "public.t"));
    assert_eq!(i.phase(), Phase::Maintenance);
    let i = one("ALTER TABLE c ADD CONSTRAINT c_p_fk FOREIGN KEY (p) REFERENCES p (id) NOT VALID;");
    assert_eq!(
        (lock(&i).0, i.held),
        (LockMode::ShareRowExclusive, Held::Brief)
    );
    assert_eq!(i.phase(), Phase::Online);
    let i = one("ALTER TABLE c ADD CONSTRAINT c_chk CHECK (q > 0);");
    assert_eq!(
        (lock(&i).0, i.held),
        (LockMode::AccessExclusive, Held::Scan)
    );
}

#[test]
fn adding_a_column_filled_at_the_change_rewrites_the_table() {
    for sql in [
        "ALTER TABLE public.h ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;",
        "ALTER TABLE h ADD COLUMN k uuid DEFAULT gen_random_uuid();",
        "ALTER TABLE h ADD id bigserial;",
    ] {
        let i = one(sql);
        assert!(i.rewrites_table, "{sql}");
        assert_eq!(i.phase(), Phase::Maintenance, "{sql}");
    }
    let i = one("ALTER TABLE h ADD COLUMN note text DEFAULT 'x';");
    assert!(!i.rewrites_table);
    assert_eq!(
        (lock(&i).0, i.held),
        (LockMode::AccessExclusive, Held::Brief)
    );
}

#[test]
fn triggers_block_writes_briefly() {
    let i = one("ALTER TABLE public.t ENABLE TRIGGER t_stamp;");
    assert_eq!(
        (lock(&i).0, i.held),
        (LockMode::ShareRowExclusive, Held::Brief)
    );
    assert_eq!(i.phase(), Phase::Online);
}

#[test]
fn dropping_the_key_a_new_primary_key_replaces_is_not_destructive() {
    let sql = "CREATE UNIQUE INDEX CONCURRENTLY b_pkey ON public.b (barcode);
ALTER TABLE public.b ADD CONSTRAINT b_pkey PRIMARY KEY USING INDEX b_pkey;
ALTER TABLE public.b DROP CONSTRAINT b_barcode_key;";
    let s = statements(sql);
    assert!(s[2].impact.destructive.is_none(), "{:?}", s[2].impact);
    // Alone, or on another table, it is.
    assert!(one("ALTER TABLE public.b DROP CONSTRAINT b_barcode_key;")
        .destructive
        .is_some());
    let s = statements(
        "ALTER TABLE public.a ADD PRIMARY KEY (id);\nALTER TABLE public.b DROP CONSTRAINT b_key;",
    );
    assert!(s[1].impact.destructive.is_some());
}

#[test]
fn dropping_a_column_is_destructive() {
    let i = one("ALTER TABLE public.t DROP COLUMN IF EXISTS notes;");
    assert_eq!(
        i.destructive.as_deref(),
        Some("drops column notes of public.t: its data is lost")
    );
}

#[test]
fn vacuum_is_online_and_vacuum_full_rewrites() {
    let i = one("VACUUM (ANALYZE, VERBOSE) public.t;");
    assert_eq!(lock(&i), (LockMode::ShareUpdateExclusive, "public.t"));
    assert_eq!(i.phase(), Phase::Online);
    assert!(!i.in_transaction && !i.rewrites_table);
    assert_eq!(i.work, vec![Work::TableAndIndexes("public.t".into())]);
    let i = one("VACUUM (FREEZE, VERBOSE);");
    assert_eq!(i.work, vec![Work::Database]);
    assert_eq!(i.phase(), Phase::Online);
    for sql in [
        "VACUUM (FULL, ANALYZE) public.t;",
        "VACUUM FULL VERBOSE public.t;",
    ] {
        let i = one(sql);
        assert_eq!(lock(&i), (LockMode::AccessExclusive, "public.t"), "{sql}");
        assert!(i.rewrites_table, "{sql}");
        assert_eq!(i.phase(), Phase::Maintenance, "{sql}");
    }
}

#[test]
fn analyze_runs_online_in_a_transaction_too() {
    let i = one("ANALYZE connections_lock_chain.con_stock_quant;");
    assert_eq!(
        lock(&i),
        (
            LockMode::ShareUpdateExclusive,
            "connections_lock_chain.con_stock_quant"
        )
    );
    assert!(i.in_transaction && i.work.is_empty());
}

#[test]
fn alter_system_needs_a_reload_outside_a_transaction() {
    let i = one("ALTER SYSTEM SET max_wal_size = '4GB';");
    assert_eq!(
        i.kind,
        Kind::AlterSystem {
            setting: "max_wal_size".into(),
            value: Some("4GB".into())
        }
    );
    assert!(i.lock.is_none() && !i.in_transaction);
    assert_eq!(i.phase(), Phase::Reload);
    assert!(i.runs_in_script());
    assert!(one("ALTER SYSTEM SET fsync = 'off';").destructive.is_some());
    assert!(one("ALTER SYSTEM SET fsync = 'on';").destructive.is_none());
    assert!(one("ALTER SYSTEM RESET ALL;").destructive.is_some());
    let i = one("SELECT pg_reload_conf();");
    assert_eq!(
        (i.kind.clone(), i.phase()),
        (Kind::ReloadConf, Phase::Reload)
    );
    assert!(i.runs_in_script());
}

#[test]
fn role_database_sequence_and_extension_changes_are_online() {
    for sql in [
        "ALTER ROLE con_app_bare SET lock_timeout = '10s';",
        "ALTER ROLE postgres CONNECTION LIMIT 240;",
        "ALTER ROLE odoo_report RESET enable_seqscan;",
        "ALTER DATABASE app SET work_mem = '16MB';",
        "CREATE EXTENSION IF NOT EXISTS pg_stat_statements;",
        "ALTER SEQUENCE public.stock_lot_id_seq AS bigint;",
    ] {
        let i = one(sql);
        assert_eq!(i.phase(), Phase::Online, "{sql}");
        assert!(i.runs_in_script(), "{sql}");
    }
    // A sequence is not a table: nextval() waits a moment, nothing else.
    assert!(one("ALTER SEQUENCE public.s AS bigint;").lock.is_none());
}

#[test]
fn ending_sessions_dropping_slots_and_prepared_transactions_are_destructive() {
    for sql in [
        "SELECT pg_terminate_backend(4242);",
        "SELECT pg_cancel_backend(4242);",
        "SELECT pg_drop_replication_slot('replica_a');",
        "ROLLBACK PREPARED 'erp_batch_42';",
        "COMMIT PREPARED 'erp_batch_42';",
    ] {
        let i = one(sql);
        assert!(i.destructive.is_some(), "{sql}");
        assert!(!i.runs_in_script(), "{sql}");
    }
    assert!(one("SELECT pg_terminate_backend(4242);")
        .destructive
        .is_some_and(|d| d.starts_with("ends session 4242")));
    assert!(!one("ROLLBACK PREPARED 'x';").in_transaction);
}

#[test]
fn queries_session_settings_templates_and_unknown_statements_are_not_run() {
    let cases = [
        (
            "SELECT failed_count FROM pg_stat_archiver;",
            "a query to look at",
        ),
        ("SHOW max_standby_streaming_delay;", "a query to look at"),
        ("SET LOCAL work_mem = '16MB';", "a session setting"),
        (
            "CREATE INDEX CONCURRENTLY <partition_index> ON <partition> (…);",
            "a template",
        ),
        ("LOCK TABLE t;", "pgsage does not know"),
        ("SELECT pg_wal_replay_resume();", "changes server state"),
    ];
    for (sql, why) in cases {
        let i = one(sql);
        assert!(i.destructive.is_none(), "{sql}");
        assert!(
            i.skip.as_deref().is_some_and(|s| s.starts_with(why)),
            "{sql}: {:?}",
            i.skip
        );
    }
    let i = one("CREATE INDEX CONCURRENTLY <partition_index> ON <partition> (…);");
    assert_eq!(lock(&i).1, "<partition>");
    // A comparison is not a placeholder.
    assert!(one("SELECT 1 WHERE 2 < 3 AND 4 > 1;")
        .skip
        .is_some_and(|s| s.starts_with("a query")));
    assert!(placeholder("SELECT a<b, c>d FROM t;").is_none());
    assert_eq!(
        placeholder("CREATE INDEX ON t (a) WHERE a = <rare value>;").as_deref(),
        Some("a template: replace <rare value> first")
    );
}

#[test]
fn a_note_that_makes_a_statement_conditional_keeps_it_from_running() {
    let s = statements("SELECT pg_reload_conf();  -- if the values look right");
    assert!(s[0]
        .impact
        .skip
        .as_deref()
        .is_some_and(|w| w.starts_with("conditional (if the values look right)")));
    let s = statements("ANALYZE t;  -- ordered by size");
    assert!(s[0].impact.runs_in_script());
}

#[test]
fn text_sqlparser_cannot_read_is_one_statement_not_run() {
    let s = statements("SELECT 'unterminated;");
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].impact.kind, Kind::Unknown);
    assert!(!s[0].impact.runs_in_script());
}

#[test]
fn lock_modes_order_by_strength_and_say_what_they_block() {
    assert!(LockMode::AccessExclusive > LockMode::Share);
    assert!(LockMode::Share.blocks_writes());
    assert!(!LockMode::ShareUpdateExclusive.blocks_writes());
    assert_eq!(
        serde_json::to_string(&LockMode::ShareUpdateExclusive)
            .ok()
            .as_deref(),
        Some("\"SHARE UPDATE EXCLUSIVE\"")
    );
    assert!(LockMode::AccessExclusive
        .blocks()
        .contains("reads included"));
    assert!(Phase::Maintenance > Phase::Restart && Phase::Restart > Phase::Reload);
}
