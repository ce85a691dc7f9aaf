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

/// Every workload of a fixture's ground truth, as (kind, uid, truth).
fn truth_workloads(truth: &Value) -> Vec<(&'static str, String, &Value)> {
    let mut all = Vec::new();
    for (key, kind) in [
        ("deployments", "Deployment"),
        ("statefulsets", "StatefulSet"),
        ("daemonsets", "DaemonSet"),
        ("cronjobs", "CronJob"),
        ("custom_resources", "custom"),
    ] {
        for w in truth[key].as_array().into_iter().flatten() {
            let uid = w["uid"].as_str().expect("a uid").to_string();
            all.push((kind, uid, w));
        }
    }
    all
}

/// Every change the ground truth knows of: template changes of each revision, CronJob
/// jobTemplate changes, custom resources' spec changes, and the pods' config causes.
fn truth_changes(truth: &Value) -> Vec<(String, Timestamp)> {
    let mut changes = Vec::new();
    let mut push = |c: &Value| {
        if let Some(manager) = c["manager"].as_str() {
            changes.push((manager.to_string(), time(&c["time"])));
        }
    };
    for (_, _, w) in truth_workloads(truth) {
        for rev in w["revisions"].as_array().into_iter().flatten() {
            push(&rev["change"]);
        }
        for key in ["template_changes", "spec_changes"] {
            w[key].as_array().into_iter().flatten().for_each(&mut push);
        }
    }
    for pod in truth["pod_causes"].as_array().into_iter().flatten() {
        pod["restart_causes"]
            .as_array()
            .into_iter()
            .flatten()
            .for_each(&mut push);
    }
    changes
}

/// `report` on every fixture agrees with the simulator's ground truth: a failed rollout is
/// failed and blamed on its failing revision's change, a completed one is not failing, a
/// halted StatefulSet is failing and blamed on its update revision, every blamed change is a
/// change the simulator made, every failing pod is a live pod of the trace with the restarts
/// and last exit code the simulator gave it, every crash-looping pod is listed, and the exit
/// code follows `--fail-on failed`.
#[test]
fn every_fixture_reports_what_its_ground_truth_says() {
    let mut names: Vec<String> = std::fs::read_dir("fixtures")
        .expect("fixtures/")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".expect.json").map(str::to_string)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 30, "{names:?}");
    for name in &names {
        let truth = expect(name);
        let (report, code) = report(name, &[]);
        let listed: Vec<&Value> = report["workloads"]
            .as_array()
            .expect("workloads")
            .iter()
            .collect();
        let by_uid = |uid: &str| listed.iter().find(|w| w["object"]["uid"] == uid).copied();
        let workloads = truth_workloads(&truth);
        let healthy = report["healthy_unchanged"].as_u64().expect("a count") as usize;
        assert!(
            listed.len() + healthy <= workloads.len(),
            "{name}: more workloads judged than the simulator made"
        );
        for w in &listed {
            let uid = w["object"]["uid"].as_str().expect("uid");
            assert!(
                workloads.iter().any(|(_, u, _)| u == uid),
                "{name}: {uid} is not a workload of the simulation"
            );
        }
        for (kind, uid, w) in &workloads {
            let got = by_uid(uid);
            let status = got.map_or("ok", |g| g["status"].as_str().expect("status"));
            let outcome = w["final_outcome"]
                .as_str()
                .or(w["verdict"].as_str())
                .or(w["kstatus"].as_str());
            match (*kind, outcome) {
                ("Deployment", Some("failed")) | ("custom", Some("failed")) => {
                    assert_eq!(status, "failed", "{name}: {uid}");
                    let changes = w["revisions"]
                        .as_array()
                        .or(w["spec_changes"].as_array())
                        .expect("changes");
                    let last = changes
                        .iter()
                        .rev()
                        .map(|c| {
                            if c["change"].is_object() {
                                &c["change"]
                            } else {
                                c
                            }
                        })
                        .find(|c| c.is_object())
                        .expect("a change");
                    let blamed = &got.expect("listed")["blamed_change"];
                    assert_eq!(blamed["manager"], last["manager"], "{name}");
                    assert_eq!(time(&blamed["time"]), time(&last["time"]), "{name}");
                }
                ("Deployment" | "DaemonSet" | "StatefulSet", Some("complete")) => {
                    assert_eq!(status, "ok", "{name}: {uid} completed")
                }
                ("StatefulSet", Some("progressing")) if w["rollout_halted"] == true => {
                    assert_eq!(status, "failing", "{name}: {uid} is halted");
                    let update = w["revisions"]
                        .as_array()
                        .expect("revisions")
                        .iter()
                        .find(|r| r["name"] == w["update_revision"])
                        .expect("the update revision");
                    let blamed = &got.expect("listed")["blamed_change"];
                    assert_eq!(blamed["manager"], update["change"]["manager"], "{name}");
                }
                ("CronJob", _) if w["failing_since_change"].is_object() => {
                    assert_eq!(status, "failed", "{name}: {uid}");
                    let blamed = &got.expect("listed")["blamed_change"];
                    assert_eq!(blamed["manager"], w["failing_since_change"]["manager"]);
                }
                _ => {}
            }
            // A template change inside the trace lists the workload.
            let changed = w["revisions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|r| r["change"]["before_trace"] == false);
            if changed {
                assert!(got.is_some(), "{name}: {uid} changed but is not listed");
            }
        }
        let changes = truth_changes(&truth);
        let pods = truth["pods"].as_array().expect("pods");
        for w in &listed {
            let blamed = &w["blamed_change"];
            if blamed.is_object() && !changes.is_empty() {
                let key = (
                    blamed["manager"].as_str().unwrap_or_default().to_string(),
                    time(&blamed["time"]),
                );
                assert!(
                    changes.contains(&key),
                    "{name}: blamed {key:?} is not a change the simulator made: {changes:?}"
                );
            }
            for failing in w["failing_pods"].as_array().expect("failing pods") {
                let pod = pods
                    .iter()
                    .find(|p| p["uid"] == failing["uid"])
                    .unwrap_or_else(|| panic!("{name}: {failing} is a simulated pod"));
                assert!(pod["deleted"].is_null(), "{name}: {failing} was deleted");
                let restarts = pod["restarts"].as_array().map_or(0, Vec::len);
                assert_eq!(failing["restarts"], restarts as i64, "{name}: {failing}");
                if let Some(last) = pod["restarts"].as_array().and_then(|r| r.last()) {
                    assert_eq!(failing["last_exit_code"], last["exit_code"], "{name}");
                }
            }
        }
        // A live pod that restarted at least three times, the last within the kubelet's longest
        // back-off (5 min) and its run before the trace's end, is crash-looping: its workload
        // lists it as failing.
        let end = time(&report["trace"]["end"]);
        for pod in pods.iter().filter(|p| p["deleted"].is_null()) {
            let recent = pod["restarts"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|r| end.duration_since(time(&r["time"])).as_secs() <= 330)
                .count();
            let total = pod["restarts"].as_array().map_or(0, Vec::len);
            if total >= 3 && recent >= 1 {
                assert!(
                    listed.iter().any(|w| w["failing_pods"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|f| f["uid"] == pod["uid"])),
                    "{name}: crash-looping pod {} is not reported failing",
                    pod["name"]
                );
            }
        }
        let failed = listed.iter().any(|w| w["status"] == "failed");
        assert_eq!(code, i32::from(failed), "{name}: exit code");
        assert_eq!(
            report["verdict"],
            if failed {
                "failed"
            } else if listed.iter().any(|w| w["status"] == "failing") {
                "failing"
            } else {
                "ok"
            },
            "{name}"
        );
    }
}

/// A failing pod carries its failed probes from the kubelet's Unhealthy Events: the probe,
/// the container, how often in the window, and the last message; the group sums them.
#[test]
fn failing_pods_carry_their_failed_probes() {
    let (whole, _) = report("liveness-ssa", &[]);
    let session = workload(&whole, "Deployment", "session");
    let pods = session["failing_pods"].as_array().expect("failing pods");
    assert_eq!(pods.len(), 3, "{session:#}");
    let mut total = 0;
    for pod in pods {
        let probes = pod["probe_failures"].as_array().expect("probe failures");
        assert_eq!(probes.len(), 1, "{pod:#}");
        assert_eq!(probes[0]["probe"], "liveness");
        assert_eq!(probes[0]["container"], "session");
        assert!(probes[0]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Liveness probe failed: HTTP probe failed")));
        let count = probes[0]["count"].as_i64().expect("count");
        // The kubelet restarts a container after failureThreshold (3) failures: each restart
        // rests on at least three.
        assert!(
            count >= 3 * pod["restarts"].as_i64().expect("restarts"),
            "{pod:#}"
        );
        total += count;
    }
    let group = &session["pod_groups"][0];
    assert_eq!(group["probe_failures"][0]["count"], total);
    // A window that starts after the last failure counts none.
    let (late, _) = report("liveness-ssa", &["--since", "-1s"]);
    for w in late["workloads"].as_array().expect("workloads") {
        for pod in w["failing_pods"].as_array().expect("pods") {
            assert_eq!(pod["probe_failures"], serde_json::json!([]), "{pod:#}");
        }
    }
    let text = stdout(&kblame(&["report", &fixture("liveness-ssa")]));
    assert!(
        text.contains(&format!("liveness probe failed {total}×")),
        "{text}"
    );
}

/// A pending pod the scheduler cannot place is failing: the PodScheduled condition's reason
/// and message, the FailedScheduling attempts, and the root cause of its creation (its
/// predecessor was preempted by a higher-priority pod).
#[test]
fn an_unschedulable_pod_is_failing_with_the_schedulers_message_and_its_preemptor() {
    let (report, code) = report("preempted", &[]);
    assert_eq!(code, 0, "failing is not failed");
    let etl = workload(&report, "Deployment", "etl-runner");
    assert_eq!(etl["status"], "failing");
    let pod = &etl["failing_pods"][0];
    assert_eq!(pod["phase"], "Pending");
    let scheduling = &pod["scheduling"];
    assert_eq!(scheduling["reason"], "Unschedulable");
    assert!(scheduling["message"]
        .as_str()
        .is_some_and(|m| m.contains("Insufficient cpu")));
    assert!(scheduling["attempts"].as_i64().is_some_and(|n| n >= 1));
    assert_eq!(etl["pod_groups"][0]["reason"], "Unschedulable");
    let cause = &etl["root_causes"][0];
    assert_eq!(cause["preemptor"]["pod"]["namespace"], "checkout");
    assert!(cause["preemptor"]["pod"]["name"]
        .as_str()
        .is_some_and(|n| n.starts_with("payment-gateway-")));
}

/// A failing workload whose blame is a ConfigMap change (text), and a pending pod's
/// scheduling failure with its preemption root cause (Markdown).
#[test]
fn the_config_crash_text_and_preemption_markdown_reports() {
    let output = kblame(&["report", &fixture("config-reload-crash")]);
    insta::assert_snapshot!("report-config-reload-crash", stdout(&output));
    let output = kblame(&["report", &fixture("preempted"), "--format", "markdown"]);
    insta::assert_snapshot!("report-preempted-markdown", stdout(&output));
}

/// A namespace the trace does not hold is said, not reported as healthy in silence; a window
/// whose start is after its end is an argument error (exit 2).
#[test]
fn an_unknown_namespace_warns_and_a_reversed_window_is_refused() {
    let (json, code) = report("preempted", &["-n", "nope"]);
    assert_eq!(code, 0);
    assert!(
        json["warnings"][0]
            .as_str()
            .is_some_and(|w| w.contains("namespace nope: nothing of it is in the trace")),
        "{json:#}"
    );
    let (json, _) = report("preempted", &["-n", "checkout"]);
    assert_eq!(json["warnings"], serde_json::json!([]));
    let output = kblame(&[
        "report",
        &fixture("seed-demo"),
        "--since",
        "16:10:00",
        "--until",
        "16:05:00",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--since 2026-11-26T16:10:00Z is after --until"));
}

/// Pods no judged workload controls — a bare e2e test pod, a pod of an owner the trace did not
/// record — are judged as their own workloads: a Failed one is failed (exit 1), a
/// crash-looping one failing, a healthy one counted.
/// A trace of pods no workload controls: a bare e2e pod that ends Failed (exit 2), a healthy
/// bare pod, and a crash-looping pod of a ReplicaSet the trace did not record.
pub(super) fn write_bare_pods_trace(path: &std::path::Path) {
    use super::support::{pod, write_trace};
    use kblame::trace::EventType;
    let mut bare = pod("e2e-runner", "uid-e2e", "none", 0);
    bare["metadata"]
        .as_object_mut()
        .expect("metadata")
        .remove("ownerReferences");
    let mut failed = bare.clone();
    failed["metadata"]["resourceVersion"] = "11".into();
    failed["status"] = serde_json::json!({"phase": "Failed", "containerStatuses": [{
        "name": "app", "image": "app:1", "imageID": "", "ready": false, "restartCount": 0,
        "state": {"terminated": {"exitCode": 2, "reason": "Error",
            "startedAt": "2026-11-26T16:00:05Z", "finishedAt": "2026-11-26T16:01:00Z"}}}]});
    let mut healthy = pod("debug-shell", "uid-debug", "none", 0);
    healthy["metadata"]
        .as_object_mut()
        .expect("metadata")
        .remove("ownerReferences");
    let mut looping = pod("orphan-abc-1", "uid-orphan", "rs-not-recorded", 3);
    looping["metadata"]["resourceVersion"] = "12".into();
    looping["status"]["containerStatuses"][0]["ready"] = false.into();
    looping["status"]["containerStatuses"][0]["state"] =
        serde_json::json!({"waiting": {"reason": "CrashLoopBackOff"}});
    looping["status"]["containerStatuses"][0]["lastState"] = serde_json::json!({"terminated": {
        "exitCode": 137, "reason": "OOMKilled",
        "startedAt": "2026-11-26T16:00:40Z", "finishedAt": "2026-11-26T16:00:50Z"}});
    let records = vec![
        (0, EventType::Listed, bare),
        (0, EventType::Listed, healthy),
        (
            0,
            EventType::Listed,
            pod("orphan-abc-1", "uid-orphan", "rs-not-recorded", 0),
        ),
        (50, EventType::Modified, looping),
        (60, EventType::Modified, failed),
    ];
    write_trace(path, &records, true, false);
}

#[test]
fn pods_no_workload_controls_are_judged_themselves() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("bare.ndjson");
    write_bare_pods_trace(&path);
    let output = kblame(&["report", path.to_str().expect("utf-8"), "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let json: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(json["verdict"], "failed");
    let runner = workload(&json, "Pod", "e2e-runner");
    assert_eq!(runner["status"], "failed");
    assert_eq!(runner["failing_pods"][0]["last_exit_code"], 2);
    let orphan = workload(&json, "Pod", "orphan-abc-1");
    assert_eq!(orphan["status"], "failing");
    assert_eq!(
        orphan["failing_pods"][0]["waiting_reason"],
        "CrashLoopBackOff"
    );
    assert_eq!(orphan["failing_pods"][0]["last_reason"], "OOMKilled");
    assert_eq!(json["healthy_unchanged"], 1, "debug-shell is counted");
}

/// `-o $GITHUB_STEP_SUMMARY` appends, as every step's writer does, and leaves the runner's
/// file mode alone; any other file is replaced and made 0600.
#[test]
fn the_github_step_summary_is_appended_to_not_replaced() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("a temp dir");
    let summary = dir.path().join("step_summary");
    std::fs::write(&summary, "## e2e\n\nearlier output\n").expect("written");
    std::fs::set_permissions(&summary, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let run = |target: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_kblame"))
            .args([
                "report",
                &fixture("mid-rollout"),
                "--format",
                "markdown",
                "-o",
            ])
            .arg(target)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .output()
            .expect("kblame runs")
    };
    assert_eq!(run(&summary).status.code(), Some(0));
    assert_eq!(run(&summary).status.code(), Some(0));
    let text = std::fs::read_to_string(&summary).expect("read");
    assert!(
        text.starts_with("## e2e\n\nearlier output\n**kblame report — ok"),
        "{text}"
    );
    assert_eq!(text.matches("**kblame report").count(), 2, "{text}");
    assert_eq!(kblame::files::mode_of(&summary), Some(0o644));
    let other = dir.path().join("report.md");
    std::fs::write(&other, "old").expect("written");
    assert_eq!(run(&other).status.code(), Some(0));
    let text = std::fs::read_to_string(&other).expect("read");
    assert!(text.starts_with("**kblame report — ok"), "{text}");
    assert_eq!(kblame::files::mode_of(&other), Some(0o600));
}
