//! Every fixture scenario: the analyzer's answers match the simulator's ground truth, and the
//! text answer for the scenario's most telling pod is a reviewed snapshot.

use serde_json::Value;

use super::support::{fixture, kblame, stderr};

/// The ground truth written beside a fixture by `gen-fixtures`.
pub(super) fn truth(scenario: &str) -> Value {
    let text = std::fs::read_to_string(fixture(&format!("{scenario}.expect.json")))
        .expect("expect.json exists");
    serde_json::from_str(&text).expect("expect.json parses")
}

pub(super) fn trace(scenario: &str) -> String {
    fixture(&format!("{scenario}.ndjson.zst"))
        .display()
        .to_string()
}

/// Runs `analyze --pod` for the pod with this UID and returns the JSON report.
/// Runs `analyze --pod` on any trace file.
fn analyze_trace(trace: &str, name: &str, uid: &str) -> Value {
    let args = ["analyze", trace, "--pod", name, "--uid", uid, "-o", "json"];
    let out = kblame(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{trace} {name}: {}",
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

fn text(scenario: &str, name: &str, uid: &str) -> String {
    let out = kblame(&["analyze", &trace(scenario), "--pod", name, "--uid", uid]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

/// Compares one pod's report with its ground truth; returns the differences.
fn differences(report: &Value, truth: &Value) -> Vec<String> {
    let mut diffs = Vec::new();
    let same = |diffs: &mut Vec<String>, what: &str, got: Option<&str>, want: Option<&str>| {
        if got != want {
            diffs.push(format!("{what}: got {got:?}, want {want:?}"));
        }
    };
    let revision = report.pointer("/revision/number").and_then(Value::as_i64);
    if revision != truth["revision"].as_i64() {
        diffs.push(format!(
            "revision: got {revision:?}, want {}",
            truth["revision"]
        ));
    }
    let created = match str_at(truth, "/created/reason") {
        Some("before-trace") => Some("unknown"),
        other => other,
    };
    same(
        &mut diffs,
        "created.reason",
        str_at(report, "/created/reason"),
        created,
    );
    if created != Some("unknown") {
        same(
            &mut diffs,
            "created.change.manager",
            str_at(report, "/created/change/manager"),
            str_at(truth, "/created/change_manager"),
        );
        same(
            &mut diffs,
            "created.replaced",
            str_at(report, "/created/replaced/name"),
            str_at(truth, "/created/replaces"),
        );
    }
    let restarts = |v: &Value| -> Vec<(String, String, i64)> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                (
                    r["container"].to_string(),
                    r["reason"].to_string(),
                    r["exit_code"].as_i64().unwrap_or(-1),
                )
            })
            .collect()
    };
    if restarts(&report["restarts"]) != restarts(&truth["restarts"]) {
        diffs.push(format!(
            "restarts: got {}, want {}",
            report["restarts"], truth["restarts"]
        ));
    }
    // A deletion the watch missed cannot be explained: the honest answer is `unknown`.
    let hidden = truth["hidden_by_gap"] == true;
    let deleted = match str_at(truth, "/deleted/reason") {
        Some(_) if hidden => Some("unknown"),
        other => other,
    };
    same(
        &mut diffs,
        "deleted.reason",
        str_at(report, "/deleted/reason"),
        deleted,
    );
    if !truth["deleted"].is_null() && !hidden {
        same(
            &mut diffs,
            "deleted.change.manager",
            str_at(report, "/deleted/change/manager"),
            str_at(truth, "/deleted/change_manager"),
        );
    }
    // Workload kinds beyond Deployments: the controller chain by UID (nearest first), the
    // ControllerRevision, the ordinal and how the pod ended.
    if let Some(want) = truth["lineage"].as_array() {
        let uids = |entries: &[Value]| -> Vec<String> {
            entries.iter().map(|e| e["uid"].to_string()).collect()
        };
        let got = report["lineage"].as_array().map_or(&[][..], |l| &l[..]);
        let got = uids(got.get(1..).unwrap_or(&[]));
        if got != uids(want) {
            diffs.push(format!("lineage: got {got:?}, want {:?}", uids(want)));
        }
    }
    if let Some(want) = truth.get("controller_revision").filter(|v| !v.is_null()) {
        same(
            &mut diffs,
            "revision.controller_revision.name",
            str_at(report, "/revision/controller_revision/name"),
            want["name"].as_str(),
        );
    }
    if let Some(want) = truth.get("ordinal").and_then(Value::as_i64) {
        if report["ordinal"].as_i64() != Some(want) {
            diffs.push(format!("ordinal: got {}, want {want}", report["ordinal"]));
        }
    }
    if let Some(want) = truth.get("finished").filter(|v| !v.is_null()) {
        same(
            &mut diffs,
            "terminated.phase",
            str_at(report, "/terminated/phase"),
            want["phase"].as_str(),
        );
        if report.pointer("/terminated/exit_code") != want.get("exit_code") {
            diffs.push(format!(
                "terminated.exit_code: got {:?}, want {:?}",
                report.pointer("/terminated/exit_code"),
                want.get("exit_code")
            ));
        }
    }
    if !truth["deleted"].is_null() {
        same(
            &mut diffs,
            "deleted.replaced_by",
            str_at(report, "/deleted/replaced_by/name"),
            str_at(truth, "/deleted/replaced_by"),
        );
    }
    if !hidden {
        diffs.extend(budget_diffs(report, truth));
    }
    diffs
}

/// `deleted.disruption_budget` against the truth (issue 12): the budget an eviction went
/// through, whether it held the eviction (the simulator counted its 429s), and for how long
/// (from the first refusal to the eviction, within a second).
fn budget_diffs(report: &Value, truth: &Value) -> Vec<String> {
    let got = &report["deleted"]["disruption_budget"];
    let want = &truth["deleted"]["disruption_budget"];
    if want.is_null() || got.is_null() {
        return match want.is_null() == got.is_null() {
            true => Vec::new(),
            false => vec![format!("deleted.disruption_budget: got {got}, want {want}")],
        };
    }
    let mut diffs = Vec::new();
    if got["name"] != want["name"] || got["namespace"] != want["namespace"] {
        diffs.push(format!("deleted.disruption_budget: got {got}, want {want}"));
    }
    let held = want["refusals"].as_u64().unwrap_or(0) > 0;
    if got["held"] != held {
        diffs.push(format!(
            "deleted.disruption_budget.held: got {got}, want {want}"
        ));
    }
    let parse = |v: &Value| v.as_str().and_then(|t| t.parse::<jiff::Timestamp>().ok());
    let span = parse(&want["first_refused"])
        .zip(parse(&truth["deleted"]["time"]))
        .map(|(a, b)| a.duration_until(b).as_secs_f64());
    if let (Some(got), Some(want)) = (got["held_seconds"].as_f64(), span) {
        if (got - want).abs() > 1.0 {
            diffs.push(format!(
                "deleted.disruption_budget.held_seconds: got {got}, want {want}"
            ));
        }
    }
    diffs
}

/// Compares a pod's config causes with what the simulator knows (issue 12): the first restart
/// cause and `created.root_cause` name the ConfigMap change it acted on (object, manager, time
/// to the second), and a pod the simulator did not break through a ConfigMap has no config
/// cause at all: every fixture, old or new, is checked for false causes.
/// `node_root`: the pod's ground truth names a node root cause for its creation (checked in
/// full by tests/it/node_causes.rs) or an autoscaler's scale-up; here it only excuses a `node`
/// or `scale` root cause.
fn cause_differences(report: &Value, truth: Option<&Value>, node_root: bool) -> Vec<String> {
    let mut diffs = Vec::new();
    let key = |c: &Value| -> Option<(String, String, String, String)> {
        let time = c["time"].as_str().or(c["change"]["time"].as_str())?;
        Some((
            c["kind"].as_str()?.to_string(),
            c["object"]["name"]
                .as_str()
                .or(c["name"].as_str())?
                .to_string(),
            // An image-digest cause has no change and no manager (a push is not an API write).
            c["change"]["manager"]
                .as_str()
                .or(c["manager"].as_str())
                .unwrap_or_default()
                .to_string(),
            time.get(..19)?.to_string(),
        ))
    };
    let want_restart = truth.and_then(|t| t["restart_causes"].get(0)).and_then(key);
    let got_restart = report["restart_causes"].get(0).and_then(key);
    match &want_restart {
        Some(_) if got_restart != want_restart => diffs.push(format!(
            "restart_causes[0]: got {got_restart:?}, want {want_restart:?}"
        )),
        None => {
            let config = report["restart_causes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|c| c["kind"] == "config")
                .filter_map(key)
                .collect::<Vec<_>>();
            if !config.is_empty() {
                diffs.push(format!("false config causes: {config:?}"));
            }
        }
        _ => {}
    }
    let want_root = truth.and_then(|t| key(&t["root_cause"]));
    let got_root = key(&report["created"]["root_cause"]);
    let node_excused = node_root
        && want_root.is_none()
        && got_root
            .as_ref()
            .is_some_and(|(kind, ..)| kind == "node" || kind == "scale");
    if got_root != want_root && !node_excused {
        diffs.push(format!(
            "created.root_cause: got {got_root:?}, want {want_root:?}"
        ));
    }
    diffs
}

/// Checks every pod of a scenario against the ground truth; returns the reports by pod name.
fn check_all_pods(scenario: &str) -> Vec<(String, Value)> {
    check_pods_of(scenario, &trace(scenario))
}

fn check_pods_of(scenario: &str, trace: &str) -> Vec<(String, Value)> {
    let truth = truth(scenario);
    let pods = truth["pods"].as_array().expect("pods");
    assert!(!pods.is_empty(), "{scenario} has pods");
    let mut failures = Vec::new();
    let mut reports = Vec::new();
    for pod in pods {
        let name = pod["name"].as_str().expect("name");
        let report = analyze_trace(trace, name, pod["uid"].as_str().expect("uid"));
        for diff in differences(&report, pod) {
            failures.push(format!("{name}: {diff}"));
        }
        let causes = truth["pod_causes"]
            .as_array()
            .and_then(|list| list.iter().find(|c| c["uid"] == pod["uid"]));
        // The truth names node root causes (checked in full by node_causes.rs); an HPA's
        // scale-up (kube-controller-manager through /scale) has the HPA behind it.
        let node_root = !pod["created"]["root_cause"].is_null()
            || (pod["created"]["reason"] == "scale-up"
                && pod["created"]["change_manager"] == "kube-controller-manager");
        for diff in cause_differences(&report, causes, node_root) {
            failures.push(format!("{name}: {diff}"));
        }
        reports.push((name.to_string(), report));
    }
    assert!(failures.is_empty(), "{scenario}:\n{}", failures.join("\n"));
    reports
}

/// Checks each in-trace revision change (manager, operation, subresource, fields, time).
fn check_revision_changes(scenario: &str, reports: &[(String, Value)]) {
    let truth = truth(scenario);
    for deployment in truth["deployments"].as_array().expect("deployments") {
        for revision in deployment["revisions"].as_array().expect("revisions") {
            let Some(want) = revision["change"].as_object() else {
                continue;
            };
            let number = revision["number"].as_i64();
            let got = reports
                .iter()
                .map(|(_, r)| r)
                .filter(|r| {
                    r.pointer("/lineage")
                        .and_then(Value::as_array)
                        .and_then(|l| l.last())
                        .map(|d| &d["uid"])
                        == Some(&deployment["uid"])
                })
                .find_map(|r| {
                    r.pointer("/revision/change")
                        .filter(|c| c["revision"].as_i64() == number)
                })
                .unwrap_or_else(|| {
                    panic!("{scenario}: no pod reports revision {number:?}'s change")
                });
            for key in ["manager", "operation", "subresource", "before_trace"] {
                assert_eq!(got[key], want[key], "{scenario} revision {number:?} {key}");
            }
            let mut fields: Vec<&str> = got["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["path"].as_str().unwrap())
                .collect();
            let mut wanted: Vec<&str> = want["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap())
                .collect();
            fields.sort_unstable();
            wanted.sort_unstable();
            assert_eq!(fields, wanted, "{scenario} revision {number:?} fields");
            assert_eq!(
                got["time"].as_str().map(|t| &t[..19]),
                want["time"].as_str().map(|t| &t[..19]),
                "{scenario} revision {number:?} time"
            );
        }
    }
}

/// The pod whose story tells the scenario best: restarts first, then a departure, then a new pod.
fn telling_pod(scenario: &str) -> (String, String) {
    let truth = truth(scenario);
    let pods = truth["pods"].as_array().expect("pods");
    let pick = pods
        .iter()
        .find(|p| !p["restarts"].as_array().unwrap().is_empty())
        .or_else(|| {
            pods.iter()
                .find(|p| !p["deleted"].is_null() && p["created"]["reason"] != "before-trace")
        })
        .or_else(|| pods.iter().find(|p| !p["deleted"].is_null()))
        .or_else(|| {
            pods.iter()
                .find(|p| p["created"]["reason"] != "before-trace")
        })
        .unwrap_or(&pods[0]);
    (
        pick["name"].as_str().unwrap().to_string(),
        pick["uid"].as_str().unwrap().to_string(),
    )
}

pub(super) fn scenario(name: &str) -> Vec<(String, Value)> {
    let reports = check_all_pods(name);
    check_revision_changes(name, &reports);
    let (pod, uid) = telling_pod(name);
    insta::assert_snapshot!(name, text(name, &pod, &uid));
    reports
}

fn report_for<'a>(reports: &'a [(String, Value)], name: &str) -> &'a Value {
    &reports
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no report for {name}"))
        .1
}

#[test]
fn seed_demo_blames_the_crash_loop_on_the_image_change_and_revision_1_keeps_serving() {
    let reports = scenario("seed-demo");
    let truth = truth("seed-demo");
    let crashing = truth["pods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["revision"] == 2)
        .unwrap();
    let report = report_for(&reports, crashing["name"].as_str().unwrap());
    let change = &report["created"]["change"];
    assert_eq!(
        change["fields"][0]["path"],
        "spec.template.spec.containers[name=web].image"
    );
    assert_eq!(change["fields"][0]["from"], "nginx:1.25");
    assert_eq!(change["fields"][0]["to"], "nginx:1.26-rc1");
    assert_eq!(report["restart_cause"]["revision"], 2);
    assert_eq!(report["restart_evidence"]["confidence"], "high");
    assert_eq!(report["serving"][0]["revision"], 1);
    assert_eq!(report["serving"][0]["ready"], 3);
    assert!(report["deleted"].is_null());
}

#[test]
fn rollout_restart_replaces_every_pod_for_the_restarted_at_annotation() {
    let reports = scenario("rollout-restart");
    let rolled: Vec<&Value> = reports
        .iter()
        .map(|(_, r)| r)
        .filter(|r| r["deleted"]["reason"] == "rollout")
        .collect();
    assert!(!rolled.is_empty());
    for report in rolled {
        let path = report["deleted"]["change"]["fields"][0]["path"]
            .as_str()
            .unwrap();
        assert!(
            path.contains(r#"annotations["kubectl.kubernetes.io/restartedAt"]"#),
            "{path}"
        );
    }
}

#[test]
fn rollout_undo_numbers_the_restored_revision_3_and_credits_the_undo() {
    let reports = scenario("rollout-undo");
    let restored = reports
        .iter()
        .map(|(_, r)| r)
        .find(|r| r["revision"]["number"] == 3)
        .expect("a pod of revision 3");
    assert_eq!(restored["created"]["reason"], "rollout");
    assert_eq!(restored["created"]["change"]["manager"], "kubectl");
}

#[test]
fn oom_helm_blames_the_oom_kills_on_the_helm_memory_limit() {
    let reports = scenario("oom-helm");
    let oom = reports
        .iter()
        .map(|(_, r)| r)
        .find(|r| r["restarts"][0]["reason"] == "OOMKilled")
        .expect("an OOMKilled pod");
    assert_eq!(oom["restarts"][0]["exit_code"], 137);
    assert_eq!(oom["restart_cause"]["manager"], "helm");
    let path = oom["restart_cause"]["fields"][0]["path"].as_str().unwrap();
    assert!(path.ends_with("resources.limits.memory"), "{path}");
}

#[test]
fn liveness_ssa_names_the_probe_kills_and_the_server_side_apply() {
    let reports = scenario("liveness-ssa");
    let killed = reports
        .iter()
        .map(|(_, r)| r)
        .find(|r| r["restarts"][0]["reason"] == "LivenessProbe")
        .expect("a probe kill");
    assert_eq!(killed["restart_cause"]["operation"], "Apply");
}

#[test]
fn manual_delete_is_an_external_delete_with_its_replacement() {
    let reports = scenario("manual-delete");
    let deleted = reports
        .iter()
        .map(|(_, r)| r)
        .find(|r| r["deleted"]["reason"] == "external-delete")
        .expect("a deleted pod");
    assert!(deleted["deleted"]["change"].is_null());
    assert!(deleted["deleted"]["replaced_by"]["name"].is_string());
}

#[test]
fn scale_down_credits_the_scale_subresource_write() {
    let reports = scenario("scale-down");
    let gone = reports
        .iter()
        .map(|(_, r)| r)
        .find(|r| r["deleted"]["reason"] == "scale-down")
        .expect("a scaled-down pod");
    assert_eq!(gone["deleted"]["change"]["subresource"], "scale");
    assert_eq!(gone["deleted"]["change"]["kind"], "scale");
}

#[test]
fn delete_recreate_tells_the_two_deployments_apart_by_uid() {
    let reports = scenario("delete-recreate");
    let deployments: std::collections::BTreeSet<String> = reports
        .iter()
        .map(|(_, r)| r["lineage"][2]["uid"].to_string())
        .collect();
    assert_eq!(deployments.len(), 2, "pods of both deployments");
    assert!(reports
        .iter()
        .any(|(_, r)| r["deleted"]["reason"] == "cascade-delete"));
}

#[test]
fn mid_rollout_says_the_change_came_before_the_trace() {
    let reports = scenario("mid-rollout");
    let new_pod = reports
        .iter()
        .map(|(_, r)| r)
        .find(|r| r["revision"]["number"] == 2)
        .expect("a pod of the new revision");
    let change = &new_pod["revision"]["change"];
    assert_eq!(change["before_trace"], true);
    assert_eq!(change["manager"], "kubectl-client-side-apply");
    assert!(change["fields"][0]["path"]
        .as_str()
        .unwrap()
        .ends_with(".image"));
    assert!(new_pod["warnings"]
        .to_string()
        .contains("before the trace began"));
    let old_pod = reports
        .iter()
        .map(|(_, r)| r)
        .find(|r| r["deleted"]["reason"] == "rollout")
        .expect("an old pod scaled away during the trace");
    assert_eq!(old_pod["deleted"]["change"]["before_trace"], true);
    assert_eq!(old_pod["deleted"]["change"]["revision"], 2);
}

#[test]
fn hpa_scale_up_pods_are_scale_ups_through_the_scale_subresource() {
    let reports = scenario("hpa-scale-up");
    let scaled = reports
        .iter()
        .map(|(_, r)| r)
        .find(|r| r["created"]["reason"] == "scale-up")
        .expect("a scaled-up pod");
    assert_eq!(scaled["created"]["change"]["subresource"], "scale");
    assert_eq!(
        scaled["created"]["change"]["manager"],
        "kube-controller-manager"
    );
}

#[test]
fn cut_short_trace_is_reported_as_such_by_check_and_analyze() {
    let reports = scenario("cut-short");
    assert!(reports[0].1["warnings"].to_string().contains("cut short"));
    let out = kblame(&["check", &trace("cut-short")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("not whole: cut short"));
}

/// Rewrites a fixture as a recorder with a lagging ReplicaSet watch would have received it: every
/// pod record received within `window_ms` after a ReplicaSet record is moved just before it.
fn with_lagging_replicaset_watch(scenario: &str, window_ms: i64, dir: &std::path::Path) -> String {
    use std::io::Read;
    let mut text = String::new();
    let file = std::fs::File::open(trace(scenario)).unwrap();
    zstd::stream::read::Decoder::new(file)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    let mut lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ts = |v: &Value| {
        v["ts"]
            .as_str()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
    };
    let kind = |v: &Value| v["object"]["kind"].as_str().map(str::to_string);
    let mut moved = 0;
    let mut i = 1;
    while i < lines.len() {
        let is_rs =
            kind(&lines[i]).as_deref() == Some("ReplicaSet") && lines[i]["type"] != "LISTED";
        if !is_rs {
            i += 1;
            continue;
        }
        let rs_ts = ts(&lines[i]).unwrap();
        let mut j = i + 1;
        while j < lines.len() {
            let Some(t) = ts(&lines[j]) else { break };
            if rs_ts.duration_until(t).as_millis() as i64 > window_ms {
                break;
            }
            if kind(&lines[j]).as_deref() == Some("Pod") {
                let mut pod = lines.remove(j);
                let earlier = rs_ts - jiff::SignedDuration::from_millis(1);
                pod["ts"] = Value::from(kblame::trace::format_ts(earlier));
                lines.insert(i, pod);
                i += 1;
                moved += 1;
            }
            j += 1;
        }
        i += 1;
    }
    assert!(moved > 0, "{scenario}: the perturbation moved nothing");
    let path = dir.join(format!("{scenario}-lagging.ndjson"));
    let body: Vec<String> = lines.iter().map(|v| v.to_string()).collect();
    std::fs::write(&path, body.join("\n") + "\n").unwrap();
    path.display().to_string()
}

#[test]
fn pod_records_received_before_the_replicaset_update_that_caused_them_keep_their_causes() {
    let dir = tempfile::tempdir().unwrap();
    for scenario in [
        "scale-down",
        "rollout-restart",
        "hpa-scale-up",
        "manual-delete",
        "rollout-undo",
    ] {
        let lagging = with_lagging_replicaset_watch(scenario, 300, dir.path());
        check_pods_of(scenario, &lagging);
    }
}

#[test]
fn an_evicted_pod_is_named_evicted_and_its_replacement_a_replacement() {
    let reports = scenario("evicted");
    let evicted = reports
        .iter()
        .map(|(_, r)| r)
        .find(|r| r["deleted"]["reason"] == "evicted")
        .expect("an evicted pod");
    assert!(evicted["deleted"]["evidence"]
        .as_str()
        .unwrap()
        .contains("Evicted"));
    let replacement = evicted["deleted"]["replaced_by"]["name"]
        .as_str()
        .expect("a replacement");
    let report = report_for(&reports, replacement);
    assert_eq!(report["created"]["reason"], "replacement");
}

#[test]
fn a_preempted_pod_is_named_preempted() {
    let reports = scenario("preempted");
    let victim = reports
        .iter()
        .map(|(_, r)| r)
        .find(|r| r["deleted"]["reason"] == "preempted")
        .expect("a victim");
    assert!(victim["deleted"]["evidence"]
        .as_str()
        .unwrap()
        .contains("PreemptionByScheduler"));
}

#[test]
fn a_pod_deleted_during_a_watch_gap_is_unknown_but_its_replacement_is_found() {
    let reports = scenario("watch-gap");
    let truth = truth("watch-gap");
    let hidden: Vec<&Value> = truth["pods"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["hidden_by_gap"] == true)
        .collect();
    assert_eq!(hidden.len(), 2);
    let gone = hidden.iter().find(|p| !p["deleted"].is_null()).unwrap();
    let report = report_for(&reports, gone["name"].as_str().unwrap());
    assert_eq!(report["deleted"]["reason"], "unknown");
    assert!(report["deleted"]["evidence"]
        .as_str()
        .unwrap()
        .contains("watch was down"));
    assert!(report["warnings"]
        .to_string()
        .contains("watch gap for v1/pods"));
    let replacement = report_for(
        &reports,
        report["deleted"]["replaced_by"]["name"].as_str().unwrap(),
    );
    assert_eq!(replacement["created"]["reason"], "replacement");
    assert!(replacement["warnings"]
        .to_string()
        .contains("created while its watch was down"));
}

#[test]
fn catalog_release_rolls_out_the_new_tag_over_pods_twenty_days_old() {
    let reports = scenario("catalog-release");
    let old = reports
        .iter()
        .map(|(_, r)| r)
        .find(|r| r["deleted"]["reason"] == "rollout")
        .expect("a revision-1 pod rolled away");
    assert_eq!(old["revision"]["change"]["before_trace"], true);
    assert_eq!(old["revision"]["change"]["time"], "2026-11-06T10:31:06Z");
    let change = &old["deleted"]["change"];
    assert_eq!(change["revision"], 2);
    assert_eq!(
        change["fields"][0]["to"],
        "123456789012.dkr.ecr.eu-central-1.amazonaws.com/catalog-web:v5.4.0"
    );
}

#[test]
fn sts_rolling_update_recreates_each_ordinal_at_revision_2_under_its_name() {
    let reports = scenario("sts-rolling-update");
    let truth = truth("sts-rolling-update");
    // Every ordinal was recreated: two incarnations per name, told apart by UID.
    for ordinal in 0..3 {
        let name = format!("redis-{ordinal}");
        let incarnations: Vec<&Value> = truth["pods"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["name"] == name.as_str())
            .collect();
        assert_eq!(incarnations.len(), 2, "{name}");
    }
    assert!(reports
        .iter()
        .any(|(_, r)| r["created"]["reason"] == "rollout" && r["revision"]["number"] == 2));
}

#[test]
fn sts_stuck_ordinal_crash_loops_at_the_highest_ordinal_and_the_rest_stay_at_revision_1() {
    let reports = scenario("sts-stuck-ordinal");
    for (name, report) in &reports {
        let number = report["revision"]["number"].as_i64();
        let want = if name == "postgres-2" && report["deleted"].is_null() {
            2
        } else {
            1
        };
        assert_eq!(number, Some(want), "{name}");
    }
}

#[test]
fn cronjob_template_break_blames_the_failed_runs_on_the_job_template_change() {
    let reports = scenario("cronjob-template-break");
    let failed: Vec<&Value> = reports
        .iter()
        .map(|(_, r)| r)
        .filter(|r| r["terminated"]["phase"] == "Failed")
        .collect();
    assert!(!failed.is_empty());
    for report in failed {
        let cause = &report["failure_cause"];
        assert_eq!(cause["manager"], "kubectl-client-side-apply", "{report}");
        assert!(cause["fields"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["path"].as_str().unwrap().starts_with("spec.jobTemplate.")));
        assert!(matches!(
            report["created"]["reason"].as_str(),
            Some("job-start" | "job-retry")
        ));
    }
}

#[test]
fn ds_rolling_update_replaces_each_node_pod_at_the_new_revision() {
    let reports = scenario("ds-rolling-update");
    assert!(reports
        .iter()
        .any(|(_, r)| r["created"]["reason"] == "rollout"
            && r["pod_template_generation"] == "2"
            && r["revision"]["controller_revision"]["hash"].is_string()));
}

/// Issue 11: a partition keeps the ordinals below `spec.ordinals.start` + partition at the old
/// revision (a canary, not a halt); a pod deleted there by someone else comes back at the
/// current revision; lowering the partition updates the rest one at a time even under
/// `Parallel`, and a Parallel scale-up makes several pods in one sync.
#[test]
fn sts_partition_canary_updates_only_from_start_plus_partition_until_the_partition_is_lowered() {
    let reports = scenario("sts-partition-canary");
    let truth = truth("sts-partition-canary");
    let pods = truth["pods"].as_array().unwrap();
    assert_eq!(reports.len(), pods.len());
    let by_uid = |uid: &str| -> (&Value, &Value) {
        let i = pods.iter().position(|p| p["uid"] == uid).expect("a pod");
        (&pods[i], &reports[i].1)
    };
    // Ordinals run from spec.ordinals.start = 1: kafka-1 … kafka-6, never kafka-0.
    let mut ordinals: Vec<i64> = reports
        .iter()
        .map(|(_, r)| r["ordinal"].as_i64().unwrap())
        .collect();
    ordinals.sort_unstable();
    ordinals.dedup();
    assert_eq!(ordinals, vec![1, 2, 3, 4, 5, 6]);
    // The canary: kafka-4 (start + partition = 4) was the only pod the image change replaced.
    let canary = pods
        .iter()
        .find(|p| p["name"] == "kafka-4" && p["revision"] == 2)
        .unwrap();
    let (_, report) = by_uid(canary["uid"].as_str().unwrap());
    assert_eq!(report["created"]["reason"], "rollout");
    let time = |v: &Value| v.as_str().map(|t| t[..23].to_string());
    assert_eq!(
        time(&report["created"]["time"]),
        time(&canary["created"]["time"])
    );
    // kafka-1, deleted by someone while below the partition: external-delete, and its
    // replacement is at revision 1 again; that replacement later goes for the rollout.
    let held = pods
        .iter()
        .find(|p| p["name"] == "kafka-1" && p["created"]["reason"] == "replacement")
        .unwrap();
    let (_, report) = by_uid(held["uid"].as_str().unwrap());
    assert_eq!(report["revision"]["number"], 1);
    assert_eq!(report["deleted"]["reason"], "rollout");
    let original = pods
        .iter()
        .find(|p| p["name"] == "kafka-1" && p["created"]["reason"] == "before-trace")
        .unwrap();
    let (_, report) = by_uid(original["uid"].as_str().unwrap());
    assert_eq!(report["deleted"]["reason"], "external-delete");
    let evidence = report["deleted"]["evidence"].as_str().unwrap_or_default();
    assert!(evidence.contains("below the partition"), "{evidence}");
    // The Parallel scale-up: kafka-5 and kafka-6 in the same second, both scale-up.
    let grown: Vec<&Value> = reports
        .iter()
        .map(|(_, r)| r)
        .filter(|r| r["created"]["reason"] == "scale-up")
        .collect();
    assert_eq!(grown.len(), 2);
    let second = |r: &Value| r["created"]["time"].as_str().map(|t| t[..19].to_string());
    assert_eq!(second(grown[0]), second(grown[1]));
}

/// Issue 11: with OnDelete the controller replaces no pod by itself; a pod someone deletes
/// comes back at the update revision as a `replacement`, and its predecessor is an
/// `external-delete`, not a rollout.
#[test]
fn sts_on_delete_recreates_a_deleted_pod_at_the_update_revision_as_a_replacement() {
    let reports = scenario("sts-on-delete");
    let truth = truth("sts-on-delete");
    let pods = truth["pods"].as_array().unwrap();
    let new = pods
        .iter()
        .position(|p| p["name"] == "etcd-2" && p["revision"] == 2)
        .unwrap();
    let report = &reports[new].1;
    assert_eq!(report["created"]["reason"], "replacement");
    assert_eq!(report["revision"]["number"], 2);
    let old = pods
        .iter()
        .position(|p| p["name"] == "etcd-2" && p["revision"] == 1)
        .unwrap();
    let report = &reports[old].1;
    assert_eq!(report["deleted"]["reason"], "external-delete");
    let evidence = report["deleted"]["evidence"].as_str().unwrap_or_default();
    assert!(evidence.contains("OnDelete"), "{evidence}");
}

/// The `analyze --object sts/NAME` text of a fixture, optionally `--at` a time.
fn object_text(scenario: &str, object: &str, at: Option<&str>) -> String {
    let trace = trace(scenario);
    let mut args = vec!["analyze", &trace, "--object", object];
    if let Some(at) = at {
        args.extend(["--at", at]);
    }
    let out = kblame(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn a_partitioned_canary_is_complete_and_says_which_ordinals_the_partition_holds() {
    insta::assert_snapshot!(
        "sts-partition-canary-object-canary",
        object_text("sts-partition-canary", "sts/kafka", Some("08:03:00"))
    );
    insta::assert_snapshot!(
        "sts-partition-canary-object-end",
        object_text("sts-partition-canary", "sts/kafka", None)
    );
    insta::assert_snapshot!(
        "sts-on-delete-object",
        object_text("sts-on-delete", "sts/etcd", None)
    );
}

/// `analyze --object` on a StatefulSet or DaemonSet fixture agrees with the simulator's own
/// verdict at the end of the trace: kubectl rollout status's answer, the halt and the ordinals
/// the ordered update has not reached, every revision by its ControllerRevision.
#[test]
fn statefulset_and_daemonset_verdicts_match_the_simulator() {
    for (scenario, section, kind) in [
        ("sts-rolling-update", "statefulsets", "statefulset"),
        ("sts-stuck-ordinal", "statefulsets", "statefulset"),
        ("operator-postgres", "statefulsets", "statefulset"),
        ("ds-rolling-update", "daemonsets", "daemonset"),
        ("sts-partition-canary", "statefulsets", "statefulset"),
        ("sts-on-delete", "statefulsets", "statefulset"),
    ] {
        let truth = truth(scenario);
        for set in truth[section].as_array().expect("sets") {
            let object = format!("{kind}/{}", set["name"].as_str().unwrap());
            let out = kblame(&[
                "analyze",
                &trace(scenario),
                "--object",
                &object,
                "-o",
                "json",
            ]);
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            let report: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(report["verdict"], set["verdict"], "{scenario} {object}");
            if kind == "statefulset" {
                assert_eq!(
                    report["rollout_halted"], set["rollout_halted"],
                    "{scenario}"
                );
                assert_eq!(
                    report["not_updated_ordinals"], set["not_updated_ordinals"],
                    "{scenario}"
                );
                let held = set
                    .get("partition_held_ordinals")
                    .cloned()
                    .unwrap_or_else(|| serde_json::json!([]));
                assert_eq!(report["partition_held_ordinals"], held, "{scenario}");
            }
            let mut got: Vec<String> = report["revisions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["controller_revision"]["name"].to_string())
                .collect();
            let mut want: Vec<String> = set["revisions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["name"].to_string())
                .collect();
            got.sort();
            want.sort();
            assert_eq!(got, want, "{scenario} {object} revisions");
        }
    }
}

#[test]
fn audit_rollout_rollback_pods_answer_like_the_truth_from_the_watch_trace() {
    let reports = scenario("audit-rollout-rollback");
    let restored = reports
        .iter()
        .map(|(_, r)| r)
        .filter(|r| r["revision"]["number"] == 2)
        .count();
    assert!(restored > 0, "revision 2's pods are answered");
}

#[test]
fn sidecar_injection_pods_answer_like_the_truth_with_their_sidecars() {
    let reports = scenario("sidecar-injection");
    assert!(reports
        .iter()
        .any(|(name, _)| name.starts_with("checkout-")));
}
