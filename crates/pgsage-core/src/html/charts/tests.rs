//! The charts against the snapshots captured from real servers: every bar is the
//! snapshot's own number (computed here from its fields or the knowledge functions, not
//! by the chart code), a chart without data is left out, server names are text, and the
//! same snapshot draws the same bytes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::*;
use crate::snapshot::Backend;

fn load(path: &Path) -> Snapshot {
    Snapshot::load(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn fixture(name: &str) -> Snapshot {
    load(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata")
            .join(name),
    )
}

fn demo() -> Snapshot {
    fixture("snapshots/demo.json")
}

fn report(snap: &Snapshot) -> Report {
    crate::audit(snap, &crate::RuleConfig::shipped().expect("packs"))
}

fn charts_of(snap: &Snapshot) -> Vec<Figure> {
    figures(snap, &report(snap))
}

fn chart<'a>(figures: &'a [Figure], id: &str) -> Option<&'a Figure> {
    figures.iter().find(|f| f.id == id)
}

fn all_captured() -> Vec<PathBuf> {
    let paths = pgsage_testkit::scenario::captured_snapshots();
    assert!(paths.len() > 10, "captured snapshots: {paths:?}");
    paths
}

/// `(label, total)` of a panel's bars.
fn bars(p: &Panel) -> Vec<(String, f64)> {
    p.bars
        .iter()
        .map(|b| (b.label.clone(), b.total()))
        .collect()
}

/// The values a figure's rows carry in the rendered SVG (`<g class="row" data-value=…>`).
fn rendered_rows(html: &str, id: &str) -> Vec<f64> {
    let start = html
        .find(&format!("<figure id=\"{id}\""))
        .unwrap_or_else(|| panic!("{id} not rendered"));
    let end = start + html[start..].find("</figure>").expect("figure closed");
    html[start..end]
        .split("<g class=\"row\" data-value=\"")
        .skip(1)
        .map(|s| {
            let v = &s[..s.find('"').expect("attribute closed")];
            v.parse().unwrap_or_else(|e| panic!("{v}: {e}"))
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn the_demo_draws_every_chart_its_data_allows() {
    let figs = charts_of(&demo());
    let ids: Vec<&str> = figs.iter().map(|f| f.id).collect();
    for id in [
        "chart-statements",
        "chart-tables",
        "chart-connections-state",
        "chart-connections-origin",
        "chart-temp",
        "chart-checkpoints",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    // The demo has one sample: no rates.
    assert!(!ids.contains(&"chart-rates"), "{ids:?}");
}

#[test]
fn top_statements_are_the_workloads_by_total_time() {
    for path in all_captured() {
        let snap = load(&path);
        let figs = charts_of(&snap);
        let Ok(w) = crate::workload::from_snapshot(&snap) else {
            assert!(chart(&figs, "chart-statements").is_none(), "{path:?}");
            continue;
        };
        let mut expected: Vec<(String, f64)> = w
            .queries
            .iter()
            .filter(|q| q.total_ms > 0.0)
            .map(|q| (q.query.clone(), q.total_ms))
            .collect();
        expected.sort_by(|a, b| b.1.total_cmp(&a.1));
        expected.truncate(TOP);
        match chart(&figs, "chart-statements") {
            Some(f) => {
                let got = bars(&f.panels[0]);
                assert_eq!(got.len(), expected.len(), "{path:?}");
                for ((gl, gv), (el, ev)) in got.iter().zip(&expected) {
                    assert!(close(*gv, *ev), "{path:?}: {gl} {gv} vs {el} {ev}");
                }
                // Ties aside, the same statements.
                let labels: Vec<&String> = got.iter().map(|g| &g.0).collect();
                assert!(
                    expected
                        .iter()
                        .all(|(l, v)| labels.contains(&l)
                            || close(*v, expected[expected.len() - 1].1)),
                    "{path:?}"
                );
                for (b, q) in f.panels[0].bars.iter().zip(&w.queries) {
                    assert!(
                        b.detail
                            .contains(&crate::units::counted(q.calls, "call", "calls")),
                        "{}",
                        b.detail
                    );
                }
            }
            None => assert!(expected.is_empty(), "{path:?}: statements not drawn"),
        }
    }
}

#[test]
fn largest_tables_are_drawn_with_their_sizes_dead_rows_and_bloat() {
    let (min_pages, max_mod) = tables::bloat_gates().expect("VAC009's gates");
    let mut some_bloat = false;
    for path in all_captured() {
        let snap = load(&path);
        let figs = charts_of(&snap);
        let mut expected: Vec<(String, i64)> = snap
            .tables
            .iter()
            .map(|t| {
                (
                    t.qualified_name(),
                    t.heap_bytes + t.toast_bytes + t.indexes_bytes,
                )
            })
            .filter(|(_, b)| *b > 0)
            .collect();
        expected.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        expected.truncate(TOP);
        let Some(f) = chart(&figs, "chart-tables") else {
            assert!(expected.is_empty(), "{path:?}: tables not drawn");
            continue;
        };
        let got: Vec<(String, i64)> = bars(&f.panels[0])
            .into_iter()
            .map(|(l, v)| (l, v as i64))
            .collect();
        assert_eq!(got, expected, "{path:?}");
        for b in &f.panels[0].bars {
            let t = snap
                .tables
                .iter()
                .find(|t| t.qualified_name() == b.label)
                .expect("a table of the snapshot");
            let part = |name: &str| b.parts.iter().find(|p| p.name == name).expect(name).value;
            let wasted =
                crate::rules::vacuum::table_bloat::estimate_table(&snap, t, min_pages, max_mod)
                    .map(|e| {
                        e.bloat.wasted_pages()
                            * crate::rules::vacuum::bloat_estimate::block_size(&snap)
                    })
                    .unwrap_or(0.0)
                    .min(t.heap_bytes as f64);
            some_bloat |= wasted > 0.0;
            assert!(
                close(part("estimated bloat"), wasted),
                "{path:?} {}",
                b.label
            );
            assert!(close(
                part("heap in use") + part("estimated bloat"),
                t.heap_bytes as f64
            ));
            assert_eq!(
                part("TOAST and indexes") as i64,
                t.toast_bytes + t.indexes_bytes
            );
            if t.n_dead_tup > 0 {
                assert!(
                    b.value.contains(&crate::units::count(t.n_dead_tup)),
                    "{}",
                    b.value
                );
            }
        }
    }
    assert!(some_bloat, "no captured snapshot draws an estimated bloat");
}

/// The sessions pgsage counts as client connections, from the snapshot's fields: client
/// backends but the collector's own, and other roles' sessions of hidden type.
fn client_sessions(snap: &Snapshot) -> Vec<&Backend> {
    snap.activity
        .iter()
        .filter(|b| {
            let collector = b.application_name.as_deref() == Some("pgsage")
                && b.user.as_deref() == Some(snap.server.user.as_str())
                && b.database.as_deref() == Some(snap.server.database.as_str());
            let hidden = !snap.server.can_read_all_stats
                && b.backend_type.is_empty()
                && b.state.is_none()
                && b.database.is_some()
                && b.user.is_some();
            (b.backend_type == "client backend" && !collector) || hidden
        })
        .collect()
}

#[test]
fn connections_are_counted_by_state_role_and_database() {
    let mut hidden_seen = false;
    for path in all_captured() {
        let snap = load(&path);
        assert!(
            snap.provider_roles.is_empty(),
            "{path:?}: a provider's operators would not count"
        );
        let sessions = client_sessions(&snap);
        let figs = charts_of(&snap);
        let (Some(state), Some(origin)) = (
            chart(&figs, "chart-connections-state"),
            chart(&figs, "chart-connections-origin"),
        ) else {
            assert!(sessions.is_empty(), "{path:?}: connections not drawn");
            continue;
        };
        let count = |key: &dyn Fn(&Backend) -> Option<String>| {
            let mut m: BTreeMap<String, f64> = BTreeMap::new();
            for b in &sessions {
                *m.entry(key(b).unwrap_or_default()).or_default() += 1.0;
            }
            m
        };
        let by_state = count(&|b: &Backend| b.state.clone());
        let drawn: BTreeMap<String, f64> = bars(&state.panels[0])
            .into_iter()
            .map(|(l, v)| {
                (
                    if l.starts_with("not visible") {
                        String::new()
                    } else {
                        l
                    },
                    v,
                )
            })
            .collect();
        hidden_seen |= drawn.contains_key("");
        assert_eq!(drawn, by_state, "{path:?}");
        let by_role = count(&|b: &Backend| b.user.clone());
        let by_db = count(&|b: &Backend| b.database.clone());
        for (panel, expected) in [(&origin.panels[1], by_role), (&origin.panels[2], by_db)] {
            let drawn: BTreeMap<String, f64> = bars(panel).into_iter().collect();
            if expected.len() <= TOP_NAMES + 1 {
                assert_eq!(drawn, expected, "{path:?}");
            } else {
                assert_eq!(drawn.values().sum::<f64>(), sessions.len() as f64);
            }
        }
        let apps: f64 = bars(&origin.panels[0]).iter().map(|b| b.1).sum();
        assert_eq!(apps, sessions.len() as f64, "{path:?}");
    }
    assert!(
        hidden_seen,
        "no captured snapshot has sessions of hidden state"
    );
}

#[test]
fn temporary_bytes_and_checkpoints_are_the_counters_over_the_window() {
    let mut interval_seen = false;
    for path in all_captured() {
        let snap = load(&path);
        let figs = charts_of(&snap);
        let before = |name: &str, f: fn(&crate::snapshot::DatabaseStats) -> i64| {
            snap.baseline.as_ref().map_or(0, |b| {
                b.databases.iter().find(|d| d.name == name).map_or(0, f)
            })
        };
        let mut temp: Vec<(String, f64)> = snap
            .databases
            .iter()
            .filter(|d| d.allow_connections)
            .map(|d| {
                (
                    d.name.clone(),
                    (d.temp_bytes - before(&d.name, |x| x.temp_bytes)) as f64,
                )
            })
            .filter(|(_, b)| *b > 0.0)
            .collect();
        temp.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let drawn = chart(&figs, "chart-temp")
            .and_then(|f| {
                f.panels.iter().find(|p| {
                    p.heading
                        .as_deref()
                        .is_some_and(|h| h.starts_with("By database"))
                })
            })
            .map(bars)
            .unwrap_or_default();
        assert_eq!(drawn, temp, "{path:?}");

        let c = snap.checkpointer.as_ref().expect("checkpointer");
        let (timed, req) = match snap.baseline.as_ref().and_then(|b| b.checkpointer.as_ref()) {
            Some(b) => {
                interval_seen = true;
                (
                    c.checkpoints_timed - b.checkpoints_timed,
                    c.checkpoints_req - b.checkpoints_req,
                )
            }
            None => (c.checkpoints_timed, c.checkpoints_req),
        };
        match chart(&figs, "chart-checkpoints") {
            Some(f) => assert_eq!(
                bars(&f.panels[0]),
                vec![
                    ("timed".to_owned(), timed as f64),
                    ("requested".to_owned(), req as f64)
                ],
                "{path:?}"
            ),
            None => assert_eq!(timed + req, 0, "{path:?}"),
        }
    }
    assert!(interval_seen, "no captured snapshot has two samples");
}

#[test]
fn rates_are_drawn_over_a_sampled_interval_only() {
    for path in all_captured() {
        let snap = load(&path);
        let figs = charts_of(&snap);
        let Some(b) = &snap.baseline else {
            assert!(chart(&figs, "chart-rates").is_none(), "{path:?}");
            continue;
        };
        let f = chart(&figs, "chart-rates").unwrap_or_else(|| panic!("{path:?}: no rates"));
        let seconds = (snap.collected_at - b.collected_at).num_milliseconds() as f64 / 1000.0;
        let unit = crate::knowledge::counters::RateUnit::for_window(seconds);
        let mut expected: Vec<(String, f64)> = snap
            .databases
            .iter()
            .filter(|d| d.allow_connections)
            .map(|d| {
                let old = b.databases.iter().find(|o| o.oid == d.oid);
                let tx = d.xact_commit + d.xact_rollback
                    - old.map_or(0, |o| o.xact_commit + o.xact_rollback);
                (d.name.clone(), tx as f64 / seconds * unit.seconds())
            })
            .filter(|(_, r)| *r > 0.0)
            .collect();
        expected.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let got = bars(&f.panels[0]);
        assert_eq!(got.len(), expected.len(), "{path:?}");
        for ((gl, gv), (el, ev)) in got.iter().zip(&expected) {
            assert_eq!(gl, el, "{path:?}");
            assert!(close(*gv, *ev), "{path:?}: {gv} vs {ev}");
        }
        let total: f64 = expected.iter().map(|e| e.1).sum();
        let shown = format!(
            "{}/{} transactions",
            crate::units::number(total),
            unit.symbol()
        );
        assert!(
            f.facts.contains(&shown),
            "{path:?}: {:?} lacks {shown}",
            f.facts
        );
    }
}

#[test]
fn the_svg_carries_the_bars_values() {
    for path in all_captured() {
        let snap = load(&path);
        let report = report(&snap);
        let html = for_snapshot(&snap, &report).into_string();
        for f in figures(&snap, &report) {
            let drawn: Vec<f64> = f
                .panels
                .iter()
                .flat_map(|p| p.bars.iter().map(|b| b.total()))
                .collect();
            assert_eq!(rendered_rows(&html, f.id), drawn, "{path:?} {}", f.id);
            assert!(html.contains(&format!("<figcaption>{}</figcaption>", f.title)));
        }
        // Small whatever the snapshot: top items only.
        assert!(
            html.len() < 60_000,
            "{path:?}: {} bytes of charts",
            html.len()
        );
    }
}

#[test]
fn hostile_names_are_text_in_the_svg() {
    let mut snap = demo();
    let evil = "<script>alert(1)</script>";
    let biggest = snap
        .tables
        .iter_mut()
        .max_by_key(|t| t.heap_bytes + t.toast_bytes + t.indexes_bytes)
        .expect("tables");
    biggest.name = evil.into();
    for b in snap
        .activity
        .iter_mut()
        .filter(|b| b.backend_type == "client backend")
    {
        b.application_name = Some(format!("{evil}\"'&"));
        b.user = Some("<img src=x onerror=alert(2)>".into());
    }
    if let Some(st) = &mut snap.statements {
        for s in &mut st.top {
            s.query = Some(format!("SELECT '{evil}' FROM \"<b>\""));
        }
    }
    let report = report(&snap);
    let html = for_snapshot(&snap, &report).into_string();
    assert!(!html.contains("<script>"), "unescaped script");
    assert!(!html.contains("<img"), "unescaped img");
    assert!(!html.contains("<b>"), "unescaped b");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    for id in [
        "chart-tables",
        "chart-connections-origin",
        "chart-statements",
    ] {
        let start = html.find(&format!("<figure id=\"{id}\"")).expect(id);
        let fig = &html[start..start + html[start..].find("</figure>").expect("closed")];
        assert!(fig.contains("&lt;"), "{id} does not show the hostile name");
    }
}

#[test]
fn a_snapshot_without_the_data_draws_no_frame() {
    let mut snap = demo();
    snap.statements = None;
    snap.tables.clear();
    snap.activity.clear();
    snap.checkpointer = None;
    let figs = charts_of(&snap);
    let ids: Vec<&str> = figs.iter().map(|f| f.id).collect();
    for id in [
        "chart-statements",
        "chart-tables",
        "chart-connections-state",
        "chart-connections-origin",
        "chart-checkpoints",
    ] {
        assert!(!ids.contains(&id), "{id} drawn without data");
    }
    // The temporary bytes of pg_stat_database remain; without them, nothing at all.
    for d in &mut snap.databases {
        d.temp_bytes = 0;
    }
    let report = report(&snap);
    assert!(figures(&snap, &report).is_empty());
    assert_eq!(for_snapshot(&snap, &report).into_string(), "");
}

#[test]
fn the_same_snapshot_draws_the_same_bytes() {
    let snap = demo();
    let report = report(&snap);
    let first = for_snapshot(&snap, &report).into_string();
    let mut shuffled = snap.clone();
    shuffled.tables.reverse();
    shuffled.activity.reverse();
    shuffled.databases.reverse();
    assert_eq!(first, for_snapshot(&snap, &report).into_string());
    assert_eq!(
        first,
        for_snapshot(&shuffled, &report).into_string(),
        "order of the snapshot's lists matters"
    );
}

/// What the demo's charts say, for review: titles, captions, and each bar's label, value
/// and details.
#[test]
fn the_demo_charts_read_as_reviewed() {
    let snap = demo();
    let mut out = String::new();
    for f in charts_of(&snap) {
        out.push_str(&format!("## {} ({})\n{}\n", f.title, f.id, f.caption));
        for x in &f.facts {
            out.push_str(&format!("- {x}\n"));
        }
        for p in &f.panels {
            if let Some(h) = &p.heading {
                out.push_str(&format!("### {h}\n"));
            }
            for b in &p.bars {
                out.push_str(&format!(
                    "{} | {} | {}\n",
                    svg::shorten(&b.label, 60),
                    b.value,
                    svg::breakdown(b)
                ));
            }
        }
        out.push('\n');
    }
    insta::assert_snapshot!(out);
}

#[test]
fn databases_with_more_temporary_bytes_come_first() {
    // The captured servers spill in one database; give the demo's `postgres` more.
    let mut snap = demo();
    let most = snap
        .databases
        .iter()
        .map(|d| d.temp_bytes)
        .max()
        .unwrap_or(0)
        * 2
        + 1;
    let postgres = snap
        .databases
        .iter_mut()
        .find(|d| d.name == "postgres")
        .expect("postgres");
    postgres.temp_bytes = most;
    let figs = charts_of(&snap);
    let f = chart(&figs, "chart-temp").expect("temp chart");
    let drawn = bars(&f.panels[0]);
    assert_eq!(drawn[0], ("postgres".to_owned(), most as f64), "{drawn:?}");
    assert!(drawn.windows(2).all(|w| w[0].1 >= w[1].1), "{drawn:?}");
}

#[test]
fn two_thousand_tables_and_sessions_draw_as_small_as_a_few() {
    let snap = demo();
    let small = for_snapshot(&snap, &report(&snap)).into_string();
    let mut big = snap.clone();
    big.tables = (0..2000)
        .map(|i| {
            let mut t = snap.tables[i % snap.tables.len()].clone();
            t.name = format!("{}_{i}", t.name);
            t.oid = 1_000_000 + i as u32;
            t
        })
        .collect();
    let client = snap
        .activity
        .iter()
        .find(|b| b.backend_type == "client backend" && b.state.as_deref() == Some("idle"))
        .expect("an idle client")
        .clone();
    big.activity.extend((0..2000).map(|i| Backend {
        pid: 100_000 + i,
        application_name: Some(format!("worker-{i}")),
        ..client.clone()
    }));
    let figs = charts_of(&big);
    assert_eq!(
        chart(&figs, "chart-tables").expect("tables").panels[0]
            .bars
            .len(),
        TOP
    );
    let apps = &chart(&figs, "chart-connections-origin")
        .expect("origin")
        .panels[0];
    assert_eq!(apps.bars.len(), TOP_NAMES + 1);
    let html = for_snapshot(&big, &report(&big)).into_string();
    assert!(
        html.len() < small.len() + 4_000,
        "{} bytes for 2,000 tables against {} for {}",
        html.len(),
        small.len(),
        snap.tables.len()
    );
}
