//! `kblame report` (issue 14): which workloads a fixture lists, their verdicts, blamed changes
//! and exit codes, checked against each fixture's `expect.json` ground truth.

use jiff::Timestamp;
use serde_json::Value;

use super::support::{kblame, stderr, stdout};

fn fixture(name: &str) -> String {
    format!("fixtures/{name}.ndjson.zst")
}

fn expect(name: &str) -> Value {
    let path = format!("fixtures/{name}.expect.json");
    let text = std::fs::read_to_string(&path).expect("the fixture's expect.json");
    serde_json::from_str(&text).expect("expect.json is JSON")
}

/// The JSON report and the exit code.
fn report(name: &str, args: &[&str]) -> (Value, i32) {
    let trace = fixture(name);
    let mut all = vec!["report", trace.as_str(), "--format", "json"];
    all.extend_from_slice(args);
    let output = kblame(&all);
    let json = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("a JSON report: {e}\n{}", stderr(&output)));
    (json, output.status.code().unwrap_or(-1))
}

fn workload<'a>(report: &'a Value, kind: &str, name: &str) -> &'a Value {
    report["workloads"]
        .as_array()
        .expect("workloads")
        .iter()
        .find(|w| w["object"]["kind"] == kind && w["object"]["name"] == name)
        .unwrap_or_else(|| panic!("{kind}/{name} is listed: {report:#}"))
}

fn listed(report: &Value) -> Vec<String> {
    report["workloads"]
        .as_array()
        .expect("workloads")
        .iter()
        .map(|w| format!("{}/{}", w["object"]["kind"], w["object"]["name"]).replace('"', ""))
        .collect()
}

fn time(value: &Value) -> Timestamp {
    value
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("a time: {value}"))
}

/// The blamed change is the one the fixture's ground truth names: manager, operation, time
/// and the changed fields.
fn assert_same_change(blamed: &Value, truth: &Value) {
    assert_eq!(blamed["manager"], truth["manager"], "{blamed:#}");
    assert_eq!(blamed["operation"], truth["operation"], "{blamed:#}");
    assert_eq!(time(&blamed["time"]), time(&truth["time"]));
    let paths: Vec<&Value> = blamed["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| &f["path"])
        .collect();
    let truth_paths: Vec<&Value> = truth["fields"].as_array().expect("fields").iter().collect();
    assert_eq!(paths, truth_paths);
}

#[test]
fn the_seed_demo_reports_its_failed_rollout_blamed_on_revision_2s_change_and_exits_1() {
    let (report, code) = report("seed-demo", &[]);
    assert_eq!(code, 1, "a failed workload matches --fail-on failed");
    assert_eq!(report["verdict"], "failed");
    assert_eq!(report["trace"]["whole"], true);
    assert_eq!(listed(&report), ["Deployment/web"]);
    let truth = &expect("seed-demo")["deployments"][0];
    let web = workload(&report, "Deployment", "web");
    assert_eq!(web["object"]["uid"], truth["uid"]);
    assert_eq!(web["verdict"], truth["final_outcome"]);
    assert_eq!(web["status"], "failed");
    assert_eq!(web["blamed_change"]["revision"], 2);
    assert_same_change(&web["blamed_change"], &truth["revisions"][1]["change"]);
    let pods = web["failing_pods"].as_array().expect("failing pods");
    assert_eq!(pods.len(), 1);
    assert_eq!(pods[0]["name"], "web-7cd8774fb8-znhz4");
    assert_eq!(pods[0]["revision"], 2);
    assert_eq!(pods[0]["restarts"], 7);
    assert_eq!(pods[0]["last_exit_code"], 1);
    assert_eq!(pods[0]["last_reason"], "Error");
    assert_eq!(pods[0]["waiting_reason"], "CrashLoopBackOff");
    assert_eq!(web["serving_revisions"], serde_json::json!([1]));
}

#[test]
fn fail_on_never_exits_0_and_fail_on_failing_counts_failing_pods() {
    assert_eq!(report("seed-demo", &["--fail-on", "never"]).1, 0);
    // The StatefulSet has no deadline: it is failing, not failed.
    assert_eq!(report("sts-stuck-ordinal", &[]).1, 0);
    assert_eq!(report("sts-stuck-ordinal", &["--fail-on", "failing"]).1, 1);
}

#[test]
fn a_rollout_that_completed_is_healthy_and_exits_0() {
    let (report, code) = report("mid-rollout", &[]);
    let truth = &expect("mid-rollout")["deployments"][0];
    assert_eq!(truth["final_outcome"], "complete");
    assert_eq!(code, 0);
    assert_eq!(report["verdict"], "ok");
    // Its change was made a minute before the trace began: healthy and unchanged in the window.
    assert_eq!(report["healthy_unchanged"], 1);
    assert!(listed(&report).is_empty(), "{report:#}");
}

#[test]
fn a_stuck_statefulset_is_failing_with_its_crash_looping_ordinal_blamed_on_revision_2() {
    let (report, _) = report("sts-stuck-ordinal", &[]);
    let truth = &expect("sts-stuck-ordinal")["statefulsets"][0];
    let sts = workload(&report, "StatefulSet", "postgres");
    assert_eq!(sts["verdict"], truth["verdict"]);
    assert_eq!(sts["status"], "failing");
    assert_eq!(report["verdict"], "failing");
    assert_same_change(&sts["blamed_change"], &truth["revisions"][1]["change"]);
    let pods = sts["failing_pods"].as_array().expect("failing pods");
    let names: Vec<&Value> = pods.iter().map(|p| &p["name"]).collect();
    assert_eq!(names, ["postgres-2"]);
    assert_eq!(pods[0]["revision"], 2);
}

#[test]
fn a_cronjob_whose_last_run_failed_is_failed_and_blames_the_jobtemplate_change() {
    let (report, code) = report("cronjob-template-break", &[]);
    assert_eq!(code, 1);
    let truth = &expect("cronjob-template-break")["cronjobs"][0];
    let cronjob = workload(&report, "CronJob", "invoice-export");
    assert_eq!(cronjob["verdict"], "failed");
    assert_eq!(cronjob["reason"], "BackoffLimitExceeded");
    assert_same_change(&cronjob["blamed_change"], &truth["failing_since_change"]);
    let groups = cronjob["pod_groups"].as_array().expect("groups");
    assert_eq!(groups.len(), 1, "the run's failed pods are one group");
    assert_eq!(groups[0]["reason"], "Failed");
    assert_eq!(groups[0]["pods"].as_array().map(Vec::len), Some(3));
    // Jobs a CronJob owns are reported through it, not each on its own.
    assert!(listed(&report).iter().all(|w| !w.starts_with("Job/")));
}

#[test]
fn an_operators_resource_is_failed_by_kstatus_and_its_statefulset_is_listed_too() {
    let (report, code) = report("operator-postgres", &[]);
    assert_eq!(code, 1);
    let truth = &expect("operator-postgres")["custom_resources"][0];
    let cr = workload(&report, "PostgresCluster", "hippo");
    assert_eq!(cr["verdict"], truth["kstatus"]);
    assert_same_change(&cr["blamed_change"], &truth["spec_changes"][0]);
    let sts = workload(&report, "StatefulSet", "hippo-instance1-6ccb");
    assert_eq!(sts["status"], "failing");
    assert_eq!(
        sts["blamed_change"]["manager"],
        "postgrescluster-controller"
    );
    // The pod question goes one step behind the operator's write: the user's spec change.
    let causes = sts["root_causes"].as_array().expect("root causes");
    assert!(
        causes
            .iter()
            .any(|c| c["object"]["kind"] == "PostgresCluster"),
        "{causes:#?}"
    );
}

#[test]
fn a_config_change_is_blamed_when_the_revision_predates_the_trace() {
    let (report, _) = report("config-reload-crash", &[]);
    let cart = workload(&report, "Deployment", "cart");
    assert_eq!(cart["status"], "failing");
    assert_eq!(cart["blamed_change"]["object"]["kind"], "ConfigMap");
    assert_eq!(cart["blamed_change"]["object"]["name"], "cart-config");
    assert_eq!(cart["blamed_change"]["manager"], "helm");
}

#[test]
fn a_report_on_a_cut_short_trace_says_so_first() {
    let trace = fixture("cut-short");
    let output = kblame(&["report", &trace]);
    let text = stdout(&output);
    let first = text.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("warning: ") && first.contains("cut short"),
        "{text}"
    );
    let (json, code) = report("cut-short", &[]);
    assert_eq!(code, 0);
    assert_eq!(json["trace"]["whole"], false);
    assert_eq!(json["trace"]["ended"], false);
    let truth = &expect("cut-short")["deployments"][0];
    let runner = workload(&json, "Deployment", "runner");
    assert_eq!(runner["verdict"], truth["final_outcome"]);
    assert_eq!(runner["changes"].as_array().map(Vec::len), Some(1));
    let markdown = stdout(&kblame(&["report", &trace, "--format", "markdown"]));
    assert!(markdown.starts_with("> **Warning:**"), "{markdown}");
}

#[test]
fn an_unreadable_trace_exits_2() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("junk.ndjson");
    // No header, and the one line is of no known record type.
    std::fs::write(
        &path,
        "{\"ts\":\"2026-11-26T16:00:00Z\",\"type\":\"BOGUS\"}\n",
    )
    .expect("write");
    let output = kblame(&["report", path.to_str().expect("a UTF-8 path")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("unreadable"),
        "{}",
        stderr(&output)
    );
    let output = kblame(&["report", "fixtures/no-such-trace.ndjson.zst"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_namespace_filter_lists_only_that_namespace() {
    let (elsewhere, code) = report("operator-postgres", &["-n", "elsewhere"]);
    assert_eq!(code, 0);
    assert!(listed(&elsewhere).is_empty());
    assert_eq!(elsewhere["namespace"], "elsewhere");
    let (db, _) = report("operator-postgres", &["-n", "db"]);
    assert_eq!(listed(&db).len(), 2, "{db:#}");
}

#[test]
fn until_judges_an_earlier_moment() {
    // At +1m the seed demo's change had not been made: nothing to list, exit 0.
    let (report, code) = report("seed-demo", &["--until", "+1m"]);
    assert_eq!(code, 0);
    assert_eq!(report["healthy_unchanged"], 1);
}

#[test]
fn o_writes_the_report_to_a_file() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("report.md");
    let file = path.to_str().expect("a UTF-8 path");
    let output = kblame(&[
        "report",
        &fixture("seed-demo"),
        "--format",
        "markdown",
        "-o",
        file,
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).is_empty());
    let written = std::fs::read_to_string(&path).expect("the report file");
    assert!(
        written.contains("| shop | deployment/web | failed |"),
        "{written}"
    );
}

#[test]
fn markdown_has_a_table_and_one_details_section_per_failing_workload() {
    let output = kblame(&[
        "report",
        &fixture("operator-postgres"),
        "--format",
        "markdown",
    ]);
    let text = stdout(&output);
    let first = text.lines().next().unwrap_or_default();
    assert!(first.starts_with("**kblame report — failed"), "{text}");
    assert!(text.contains("| namespace | workload | verdict | blamed change | failing pods |"));
    let rows = text.lines().filter(|l| l.starts_with("| db |")).count();
    assert_eq!(rows, 2, "{text}");
    assert_eq!(text.matches("<details>").count(), 2, "{text}");
    assert_eq!(text.matches("</details>").count(), 2, "{text}");
    // The table's cells hold no raw HTML.
    for row in text.lines().filter(|l| l.starts_with("| db |")) {
        assert!(!row.contains('<'), "{row}");
    }
}

#[test]
fn the_seed_demo_text_report() {
    let output = kblame(&["report", &fixture("seed-demo")]);
    insta::assert_snapshot!("report-seed-demo", stdout(&output));
}

#[test]
fn the_seed_demo_markdown_report() {
    let output = kblame(&["report", &fixture("seed-demo"), "--format", "markdown"]);
    insta::assert_snapshot!("report-seed-demo-markdown", stdout(&output));
}

#[test]
fn a_watch_gap_is_said_before_the_verdict_even_when_a_relist_closed_it() {
    let output = kblame(&["report", &fixture("watch-gap")]);
    let text = stdout(&output);
    let first = text.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("warning: watch gap for v1/pods"),
        "{text}"
    );
    let (json, _) = report("watch-gap", &[]);
    assert_eq!(json["trace"]["gaps"], 1);
    assert_eq!(json["trace"]["relists"], 1);
    // A scale is a change, but no revision is made by it.
    let stock = workload(&json, "Deployment", "stock-api");
    assert_eq!(stock["changes"][0]["kind"], "scale");
    assert!(
        text.contains("deployment inventory/stock-api scaled 15:30:25"),
        "{text}"
    );
}
