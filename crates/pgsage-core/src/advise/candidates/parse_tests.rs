//! Statement analysis on Odoo-style SQL texts.

use super::*;
use crate::advise::candidates::predicates::{Comparison, Operand};

fn col(q: Option<&str>, name: &str) -> RawColumn {
    RawColumn {
        qualifier: q.map(str::to_owned),
        name: name.to_owned(),
    }
}

fn preds(p: &Parsed, scope: usize) -> Vec<(RawColumn, Comparison)> {
    p.scopes[scope]
        .predicates
        .iter()
        .map(|p| (p.column.clone(), p.comparison))
        .collect()
}

#[test]
fn joins_with_aliases_and_collapsed_in_lists() {
    let p = parse(
        r#"SELECT "sale_order_line"."id", sol.product_uom_qty FROM "sale_order_line" sol
           JOIN sale_order so ON so.id = sol.order_id
           WHERE so.state IN ($1 /*, ... */) AND sol.company_id = $2 AND so.partner_id = ANY($3)"#,
    )
    .expect("parses");
    assert_eq!(p.scopes.len(), 1);
    let s = &p.scopes[0];
    assert_eq!(
        s.relations,
        vec![
            Relation::Named {
                schema: None,
                name: "sale_order_line".into(),
                alias: Some("sol".into())
            },
            Relation::Named {
                schema: None,
                name: "sale_order".into(),
                alias: Some("so".into())
            },
        ]
    );
    let found = preds(&p, 0);
    // The join gives an equality on each side.
    assert!(found.contains(&(col(Some("so"), "id"), Comparison::Equality)));
    assert!(found.contains(&(col(Some("sol"), "order_id"), Comparison::Equality)));
    assert!(found.contains(&(col(Some("so"), "state"), Comparison::Equality)));
    assert!(found.contains(&(col(Some("sol"), "company_id"), Comparison::Equality)));
    assert!(found.contains(&(col(Some("so"), "partner_id"), Comparison::Equality)));
    assert!(s.reads.contains(&col(Some("sol"), "product_uom_qty")));
}

#[test]
fn order_by_limit_and_ranges() {
    let p = parse(
        "SELECT id FROM stock_move WHERE state = 'done' AND date >= $1 AND date < $2 \
         AND qty BETWEEN 1 AND 5 ORDER BY date DESC, id DESC LIMIT 80",
    )
    .expect("parses");
    let s = &p.scopes[0];
    assert!(s.limit);
    assert_eq!(
        s.order_by,
        vec![(col(None, "date"), true), (col(None, "id"), true)]
    );
    let found = preds(&p, 0);
    assert!(found.contains(&(col(None, "date"), Comparison::RangeOneSided)));
    assert!(found.contains(&(col(None, "qty"), Comparison::RangeTwoSided)));
    // The literal is kept for partial indexes.
    let state = s
        .predicates
        .iter()
        .find(|p| p.column.name == "state")
        .expect("state");
    assert_eq!(state.other, Operand::Constant(Some("'done'".into())));
    // A non-default NULLS order needs an index built with it.
    let p = parse("SELECT id FROM t ORDER BY date DESC NULLS LAST LIMIT 1").expect("parses");
    assert!(!p.scopes[0].order_by_complete);
    let p = parse("SELECT id FROM t ORDER BY date DESC NULLS FIRST, id LIMIT 1").expect("parses");
    assert!(p.scopes[0].order_by_complete);
    // An ORDER BY on an expression cannot come from an index.
    let p = parse("SELECT id FROM t ORDER BY lower(name) LIMIT 1").expect("parses");
    assert!(!p.scopes[0].order_by_complete);
}

#[test]
fn update_and_delete_search_their_rows() {
    let p = parse("UPDATE stock_quant SET quantity = quantity + $1, reserved = $2 WHERE product_id = $3 AND location_id = $4")
        .expect("parses");
    let s = &p.scopes[0];
    assert_eq!(s.kind, ScopeKind::Update);
    assert_eq!(s.updated, vec!["quantity", "reserved"]);
    assert_eq!(preds(&p, 0).len(), 2);
    let p = parse("DELETE FROM mail_message WHERE res_id = $1 AND model = $2").expect("parses");
    assert_eq!(p.scopes[0].kind, ScopeKind::Delete);
    assert_eq!(preds(&p, 0).len(), 2);
}

#[test]
fn ctes_subqueries_and_unions_are_scopes() {
    let p = parse(
        "WITH recent AS (SELECT order_id FROM sale_order_line WHERE create_date > now() - interval '1 day') \
         SELECT o.name FROM sale_order o WHERE o.id IN (SELECT order_id FROM recent) \
         AND EXISTS (SELECT 1 FROM stock_picking p WHERE p.sale_id = o.id) \
         UNION ALL SELECT name FROM purchase_order WHERE state = $1",
    )
    .expect("parses");
    assert_eq!(p.ctes, vec!["recent"]);
    // CTE, main block, IN subquery, EXISTS subquery, UNION branch.
    assert_eq!(p.scopes.len(), 5, "{:#?}", p.scopes);
    let cte = &p.scopes[0];
    assert_eq!(
        preds(&p, 0),
        vec![(col(None, "create_date"), Comparison::RangeOneSided)],
        "{cte:?}"
    );
    let exists = p
        .scopes
        .iter()
        .position(|s| {
            s.relations
                .iter()
                .any(|r| matches!(r, Relation::Named { name, .. } if name == "stock_picking"))
        })
        .expect("EXISTS scope");
    // Correlated: the subquery's scope points to the outer block.
    assert!(p.scopes[exists].parent.is_some());
    assert!(preds(&p, exists).contains(&(col(Some("p"), "sale_id"), Comparison::Equality)));
}

#[test]
fn insert_select_reads_its_source() {
    let p = parse(
        "INSERT INTO stock_move_line (move_id, qty) SELECT id, qty FROM stock_move WHERE picking_id = $1",
    )
    .expect("parses");
    assert_eq!(p.scopes.len(), 1);
    assert_eq!(
        preds(&p, 0),
        vec![(col(None, "picking_id"), Comparison::Equality)]
    );
    // A plain INSERT … VALUES searches nothing.
    let p = parse("INSERT INTO t (a) VALUES ($1)").expect("parses");
    assert!(p.scopes.is_empty());
}

#[test]
fn or_of_different_columns_and_functions_give_nothing() {
    let p =
        parse("SELECT * FROM res_partner WHERE (email = $1 OR phone = $2) AND lower(name) = $3")
            .expect("parses");
    assert!(preds(&p, 0).is_empty(), "{:?}", preds(&p, 0));
    assert_eq!(p.scopes[0].reads_all, vec![None]);
    // The same column: an IN list.
    let p = parse("SELECT id FROM t WHERE state = 'a' OR state = 'b'").expect("parses");
    assert_eq!(
        preds(&p, 0),
        vec![(col(None, "state"), Comparison::Equality)]
    );
}

#[test]
fn like_prefix_only_with_a_literal_prefix() {
    let p = parse("SELECT id FROM t WHERE code LIKE 'WH/%' AND name LIKE '%x' AND ref LIKE $1")
        .expect("parses");
    assert_eq!(
        preds(&p, 0),
        vec![(col(None, "code"), Comparison::LikePrefix)]
    );
}

#[test]
fn foreign_key_check_texts() {
    // pg_stat_statements' text of the RI trigger's lookup.
    let p = parse(
        r#"SELECT $2 FROM ONLY "public"."sale_order_line" x WHERE $1 OPERATOR(pg_catalog.=) "order_id" FOR KEY SHARE OF x"#,
    )
    .expect("parses");
    assert_eq!(
        preds(&p, 0),
        vec![(col(None, "order_id"), Comparison::Equality)]
    );
    // Odoo's row locks.
    let p = parse("SELECT id FROM stock_move WHERE id IN ($1) FOR NO KEY UPDATE SKIP LOCKED")
        .expect("parses");
    assert_eq!(preds(&p, 0), vec![(col(None, "id"), Comparison::Equality)]);
}

#[test]
fn junk_does_not_parse() {
    for junk in [
        "SELEC id FROM",
        "\u{0}\u{1}garbage ((((",
        "SELECT 'unterminated",
        "",
    ] {
        let p = parse(junk);
        assert!(
            p.is_err() || p.as_ref().is_ok_and(|p| p.scopes.is_empty()),
            "{junk:?}: {p:?}"
        );
    }
}

#[test]
fn odoo_orm_statements() {
    let p = parse(
        r#"SELECT "stock_move".id FROM "stock_move" LEFT JOIN "stock_picking" AS "stock_move__picking_id" ON ("stock_move"."picking_id" = "stock_move__picking_id"."id") WHERE (("stock_move"."state" not in ($1,$2)) AND ("stock_move"."product_id" in ($3))) AND ("stock_move__picking_id"."partner_id" = $4) ORDER BY "stock_move"."date" ,"stock_move"."id" LIMIT $5"#,
    )
    .expect("parses");
    let s = &p.scopes[0];
    assert!(s.limit);
    assert_eq!(
        s.order_by,
        vec![
            (col(Some("stock_move"), "date"), false),
            (col(Some("stock_move"), "id"), false)
        ]
    );
    let found = preds(&p, 0);
    assert!(found.contains(&(col(Some("stock_move"), "product_id"), Comparison::Equality)));
    assert!(found.contains(&(
        col(Some("stock_move__picking_id"), "partner_id"),
        Comparison::Equality
    )));
    assert!(found.contains(&(col(Some("stock_move"), "picking_id"), Comparison::Equality)));
    // NOT IN gives nothing.
    assert!(!found.iter().any(|(c, _)| c.name == "state"), "{found:?}");
}
