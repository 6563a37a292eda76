//! Whole outputs of the commands a user runs first, compared with reviewed insta snapshots
//! (`crates/pgsage-cli/tests/snapshots/`): the README's first command, the audit with host
//! facts in every format and as a fix script, `tune` and its script, the rule catalogue and one rule's page,
//! a plan and a workload from the bundled test data. Any change to what these print shows
//! as a snapshot diff to review (`cargo insta review`, or `INSTA_UPDATE=always` then
//! `git diff`); `CI=true` fails on a difference.

mod common;

use common::{demo, pgsage, stderr, stdout};
use pgsage_testkit::scenario::repo_root;

/// Runs `pgsage`, checks the exit status and returns standard output whole.
fn output(args: &[&str], status: i32) -> String {
    let o = pgsage(args);
    assert_eq!(o.status.code(), Some(status), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

fn data(rel: &str) -> String {
    repo_root().join("testdata").join(rel).display().to_string()
}

const HOST: [&str; 6] = ["--ram", "16GiB", "--cpus", "4", "--storage", "ssd"];

#[test]
fn the_readme_first_command() {
    let d = demo();
    insta::assert_snapshot!(
        "audit_demo",
        output(&["audit", "--snapshot", &d, "--width", "100"], 0)
    );
}

#[test]
fn audit_with_host_facts_in_every_format() {
    let d = demo();
    for (name, format) in [
        ("audit_demo_host_table", "table"),
        ("audit_demo_host_markdown", "markdown"),
        ("audit_demo_host_json", "json"),
    ] {
        let mut args = vec![
            "audit",
            "--snapshot",
            &d,
            "--width",
            "100",
            "--format",
            format,
        ];
        args.extend(HOST);
        insta::assert_snapshot!(name, output(&args, 0));
    }
    let mut args = vec!["audit", "--snapshot", &d, "--script"];
    args.extend(HOST);
    insta::assert_snapshot!("audit_demo_host_script", output(&args, 0));
}

#[test]
fn tune_and_its_script() {
    let d = demo();
    let mut args = vec!["tune", "--snapshot", &d, "--width", "100"];
    args.extend(HOST);
    insta::assert_snapshot!("tune_demo_host", output(&args, 0));
    args.push("--script");
    insta::assert_snapshot!("tune_demo_host_script", output(&args, 0));
}

#[test]
fn the_rule_catalogue_and_one_rule() {
    insta::assert_snapshot!("rules", output(&["rules"], 0));
    insta::assert_snapshot!("rule_vac001", output(&["rule", "VAC001"], 0));
}

#[test]
fn a_plan_and_a_workload() {
    insta::assert_snapshot!(
        "plan_fk_trigger_delete",
        output(
            &[
                "plan",
                &data("plans/pg17/fk_trigger_delete.json"),
                "--tree",
                "--width",
                "100"
            ],
            0
        )
    );
    insta::assert_snapshot!(
        "workload_pg17_default_log",
        output(
            &["workload", &data("logs/pg17/default.log"), "--width", "100"],
            0
        )
    );
}
