//! Node causes (issue 12): a drain's evictions and a lost node's taint evictions, with the
//! cordon or the node's Ready condition as the root cause of each deletion and of its
//! replacement, checked against the simulator's ground truth — and a cordon on another node
//! that explains nothing.

use serde_json::Value;

use super::scenarios::{scenario, truth};
use super::support::{fixture, kblame, stderr};

/// Checks every pod's `deleted.root_cause` and `created.root_cause` against the ground truth:
/// a node cause on the right node at the right time (the cordon with its manager and field,
/// or the Ready condition going Unknown), and none where the truth has none.
fn check_root_causes(name: &str, reports: &[(String, Value)]) -> usize {
    let truth = truth(name);
    let mut checked = 0;
    for pod in truth["pods"].as_array().expect("pods") {
        let pod_name = pod["name"].as_str().expect("name");
        let report = &reports
            .iter()
            .find(|(n, _)| n == pod_name)
            .unwrap_or_else(|| panic!("no report for {pod_name}"))
            .1;
        for part in ["deleted", "created"] {
            let got = &report[part]["root_cause"];
            let want = &pod[part]["root_cause"];
            if want.is_null() {
                assert!(got.is_null(), "{name} {pod_name} {part}: unexpected {got}");
                continue;
            }
            checked += 1;
            assert_eq!(got["kind"], "node", "{name} {pod_name} {part}");
            assert_eq!(got["object"]["kind"], "Node", "{name} {pod_name} {part}");
            assert_eq!(
                got["object"]["name"], want["node"],
                "{name} {pod_name} {part}"
            );
            // As instants: the analyzer trims trailing zeros (`10:02:00.01Z`), the truth does not.
            let instant = |v: &Value| v.as_str().and_then(|t| t.parse::<jiff::Timestamp>().ok());
            assert_eq!(
                instant(&got["time"]),
                instant(&want["time"]),
                "{name} {pod_name} {part} time"
            );
            match want["what"].as_str() {
                Some("cordon") => {
                    let change = &got["change"];
                    assert_eq!(change["manager"], want["manager"], "{name} {pod_name}");
                    assert_eq!(change["operation"], "Update");
                    assert_eq!(change["fields"][0]["path"], "spec.unschedulable");
                    assert_eq!(change["fields"][0]["to"], true);
                    assert_eq!(got["confidence"], "high");
                }
                Some("ready-unknown") => {
                    assert!(got["change"].is_null(), "{name} {pod_name}");
                    let evidence = got["evidence"].as_str().unwrap_or_default();
                    assert!(
                        evidence.contains("Ready condition went Unknown"),
                        "{evidence}"
                    );
                    assert!(evidence.contains("DeletionByTaintManager"), "{evidence}");
                    assert_eq!(got["confidence"], "high");
                }
                Some("preemption") => {
                    assert!(got["change"].is_null(), "{name} {pod_name}");
                    let preemptor = &got["preemptor"];
                    assert_eq!(preemptor["pod"]["name"], want["preemptor"], "{name}");
                    let evidence = got["evidence"].as_str().unwrap_or_default();
                    assert!(evidence.contains("PreemptionByScheduler"), "{evidence}");
                    assert!(evidence.contains("Event Preempted"), "{evidence}");
                    assert_eq!(got["confidence"], "high");
                }
                Some("node-pressure") => {
                    assert!(got["change"].is_null(), "{name} {pod_name}");
                    let evidence = got["evidence"].as_str().unwrap_or_default();
                    assert!(evidence.contains("TerminationByKubelet"), "{evidence}");
                    assert!(evidence.contains("low on resource"), "{evidence}");
                    assert_eq!(got["confidence"], "high");
                }
                other => panic!("{name} {pod_name}: unknown root cause {other:?}"),
            }
        }
    }
    checked
}

#[test]
fn a_drain_evicts_the_pods_of_the_cordoned_node_and_names_the_cordon_as_root_cause() {
    let reports = scenario("node-drain");
    // Two evicted pods and their two replacements.
    assert_eq!(check_root_causes("node-drain", &reports), 4);
    let evicted: Vec<&Value> = reports
        .iter()
        .map(|(_, r)| r)
        .filter(|r| r["deleted"]["reason"] == "evicted")
        .collect();
    assert_eq!(evicted.len(), 2);
    for report in evicted {
        let evidence = report["deleted"]["evidence"].as_str().unwrap_or_default();
        assert!(evidence.contains("EvictionByEvictionAPI"), "{evidence}");
    }
}

#[test]
fn a_lost_node_s_pod_is_taint_evicted_and_reported_deleted_though_never_removed() {
    let reports = scenario("node-lost");
    // The taint-evicted pod and its replacement.
    assert_eq!(check_root_causes("node-lost", &reports), 2);
    let truth = truth("node-lost");
    let lost = truth["pods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["deleted"]["reason"] == "taint-eviction")
        .expect("a taint-evicted pod");
    let name = lost["name"].as_str().unwrap();
    let report = &reports.iter().find(|(n, _)| n == name).unwrap().1;
    // Reported deleted at the request, though the pod still exists (Terminating) at the end.
    assert_eq!(
        report["deleted"]["time"].as_str().map(|t| &t[..23]),
        lost["deleted"]["time"].as_str().map(|t| &t[..23])
    );
    assert_eq!(report["state"]["exists"], true);
    assert_eq!(report["state"]["terminating"], true);
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("its removal was never recorded"),
        "{warnings}"
    );
    // Pods that stayed on healthy nodes have no such warning and no node cause.
    for (other, report) in reports.iter().filter(|(n, _)| n != name) {
        assert!(
            !report["warnings"]
                .to_string()
                .contains("removal was never recorded"),
            "{other}"
        );
    }
}

#[test]
fn a_cordon_on_another_node_is_not_the_cause_of_a_deleted_pod_or_its_replacement() {
    let reports = scenario("node-cordon-elsewhere");
    assert_eq!(check_root_causes("node-cordon-elsewhere", &reports), 0);
    for (name, report) in &reports {
        let text = report.to_string();
        assert!(!text.contains("\"kind\":\"node\""), "{name}: {text}");
        assert!(!text.contains("unschedulable"), "{name}: {text}");
    }
    let deleted: Vec<&Value> = reports
        .iter()
        .map(|(_, r)| r)
        .filter(|r| !r["deleted"].is_null())
        .collect();
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0]["deleted"]["reason"], "external-delete");
}

/// The fixture's trace with `edit` applied to every recorded object, written as plain NDJSON.
fn doctored(scenario: &str, edit: impl Fn(&mut Value)) -> (tempfile::TempDir, String) {
    let bytes = std::fs::read(fixture(&format!("{scenario}.ndjson.zst"))).expect("fixture");
    let text = String::from_utf8(zstd::decode_all(&bytes[..]).expect("zstd")).expect("UTF-8");
    let mut out = String::new();
    for line in text.lines() {
        let mut record: Value = serde_json::from_str(line).expect("a JSON record");
        if let Some(object) = record.get_mut("object") {
            edit(object);
        }
        out.push_str(&record.to_string());
        out.push('\n');
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join(format!("{scenario}.ndjson"));
    std::fs::write(&path, out).expect("trace written");
    (dir, path.display().to_string())
}

/// Drops the pods' `DisruptionTarget` conditions.
fn without_disruption_target(object: &mut Value) {
    if let Some(conditions) = object
        .pointer_mut("/status/conditions")
        .and_then(Value::as_array_mut)
    {
        conditions.retain(|c| c["type"] != "DisruptionTarget");
    }
}

fn analyze_json(trace: &str, pod: &str) -> Value {
    let out = kblame(&["analyze", trace, "--pod", pod, "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

#[test]
fn without_the_condition_a_deletion_when_the_toleration_ran_out_is_still_a_taint_eviction() {
    let (_dir, trace) = doctored("node-lost", without_disruption_target);
    let report = analyze_json(&trace, "ledger-cd488c57d-z6tqh");
    assert_eq!(report["deleted"]["reason"], "taint-eviction");
    let evidence = report["deleted"]["evidence"].as_str().unwrap_or_default();
    assert!(evidence.contains("tolerated it for 300 s"), "{evidence}");
    let cause = &report["deleted"]["root_cause"];
    assert_eq!(cause["object"]["name"], "node-2");
    // Timing alone is less certain than the taint manager's own condition.
    assert_eq!(cause["confidence"], "medium");
    let evidence = cause["evidence"].as_str().unwrap_or_default();
    assert!(
        evidence.contains("Ready condition went Unknown"),
        "{evidence}"
    );
    let replacement = analyze_json(&trace, "ledger-cd488c57d-qlxmg");
    assert_eq!(
        replacement["created"]["root_cause"]["object"]["name"],
        "node-2"
    );
}

#[test]
fn a_drain_that_deletes_instead_of_evicting_is_not_tied_to_the_cordon() {
    // What kblame cannot see: without the eviction API's condition, a delete on a cordoned node
    // could be anyone's.
    let (_dir, trace) = doctored("node-drain", without_disruption_target);
    let report = analyze_json(&trace, "cart-57d48b5dc5-km56r");
    assert_eq!(report["deleted"]["reason"], "external-delete");
    assert!(report["deleted"]["root_cause"].is_null());
    let replacement = analyze_json(&trace, "cart-57d48b5dc5-nd7xl");
    assert!(replacement["created"]["root_cause"].is_null());
}

#[test]
fn a_preempted_pod_names_the_preemptor_and_the_change_that_made_it() {
    let reports = scenario("preempted");
    // The victim and its replacement.
    assert_eq!(check_root_causes("preempted", &reports), 2);
    let (_, victim) = reports
        .iter()
        .find(|(_, r)| r["deleted"]["reason"] == "preempted")
        .expect("a preempted pod");
    let preemptor = &victim["deleted"]["root_cause"]["preemptor"];
    assert_eq!(preemptor["priority"], 1_000_000);
    assert_eq!(preemptor["priority_class"], "business-critical");
    assert_eq!(preemptor["workload"]["kind"], "Deployment");
    assert_eq!(preemptor["workload"]["name"], "payment-gateway");
    // helm installed the preemptor's Deployment: the change behind the preemption.
    assert_eq!(preemptor["change"]["manager"], "helm");
    assert_eq!(preemptor["change"]["kind"], "create");
}

#[test]
fn a_preempted_pod_s_preemptor_is_read_through_the_index_as_whole() {
    // The preemptor lives in another namespace: a pod question reads it because the
    // `Preempted` Event names it as related, with or without an index.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let trace = dir.path().join("preempted.ndjson.zst");
    std::fs::copy(fixture("preempted.ndjson.zst"), &trace).expect("copies the fixture");
    let trace = trace.to_string_lossy().to_string();
    let victim = "etl-runner-64d8c57786-mt4sq";
    let mut answers = Vec::new();
    for index in ["never", "always", "always"] {
        let out = kblame(&[
            "--index",
            index,
            "analyze",
            &trace,
            "--pod",
            victim,
            "-n",
            "warehouse",
            "-o",
            "json",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let report: Value = serde_json::from_slice(&out.stdout).expect("json");
        answers.push(report["deleted"]["root_cause"].clone());
    }
    // Whole, while building the index, and from the saved index.
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0], answers[2]);
    assert_eq!(
        answers[0]["preemptor"]["pod"]["name"],
        "payment-gateway-6b7fc89656-vvz5n"
    );
}

#[test]
fn a_pod_the_kubelet_evicted_has_the_node_s_pressure_as_root_cause() {
    let reports = scenario("evicted");
    // The evicted pod and its replacement.
    assert_eq!(check_root_causes("evicted", &reports), 2);
    let (_, evicted) = reports
        .iter()
        .find(|(_, r)| r["deleted"]["reason"] == "evicted")
        .expect("an evicted pod");
    let cause = &evicted["deleted"]["root_cause"];
    assert_eq!(
        cause["summary"],
        "node node-1 ran low on memory: its kubelet evicted the pod"
    );
    // Nodes were not recorded in this trace: the node is named, without a UID.
    assert_eq!(cause["object"]["uid"], "");
}

#[test]
fn a_drain_held_by_a_disruption_budget_says_how_long_from_the_budget_s_status() {
    let reports = scenario("node-drain-pdb");
    // Two evicted pods and their two replacements, the cordon behind each.
    assert_eq!(check_root_causes("node-drain-pdb", &reports), 4);
    let report = |name: &str| &reports.iter().find(|(n, _)| n == name).expect(name).1;
    // The first eviction went through at once: the budget allowed it.
    let first = &report("cart-57d48b5dc5-7q2ln")["deleted"]["disruption_budget"];
    assert_eq!(first["name"], "cart-pdb");
    assert_eq!(first["namespace"], "shop");
    assert_eq!(first["rule"], "minAvailable 3");
    assert_eq!(first["held"], false);
    assert!(first["held_seconds"].is_null());
    let evidence = first["evidence"].as_str().unwrap_or_default();
    assert!(evidence.contains("allowed its eviction"), "{evidence}");
    assert!(evidence.contains("written by kube-apiserver"), "{evidence}");
    // The second waited until the replacement was Ready: 0 from line 46 until line 67.
    let second = &report("cart-57d48b5dc5-xbtfw")["deleted"]["disruption_budget"];
    assert_eq!(second["held"], true);
    let held = second["held_seconds"].as_f64().expect("held_seconds");
    assert!((10.0..10.2).contains(&held), "{held}");
    assert_eq!(second["zero_since"], "2026-11-27T10:02:00.081Z");
    assert_eq!(second["allowed_at"], "2026-11-27T10:02:07.102Z");
    let evidence = second["evidence"].as_str().unwrap_or_default();
    assert!(evidence.contains("(line 46, when the eviction of cart-57d48b5dc5-7q2ln"));
    assert!(evidence.contains("line 67, written by kube-controller-manager"));
    // It says what it rests on, and claims no refusal it did not see.
    assert!(evidence.contains("not on a seen refusal"), "{evidence}");
    let out = kblame(&[
        "analyze",
        &fixture("node-drain-pdb.ndjson.zst").display().to_string(),
        "--pod",
        "cart-57d48b5dc5-xbtfw",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "  disruption budget: PodDisruptionBudget shop/cart-pdb (minAvailable 3) held this eviction 10.1 s"
        ),
        "{text}"
    );
}

#[test]
fn without_the_other_pod_s_eviction_a_budget_hold_has_no_length() {
    // The budget's zero no longer begins with an eviction from the same node: when this pod's
    // eviction was first asked for is unknown, so is how long it waited.
    let (_dir, trace) = doctored("node-drain-pdb", |object| {
        if let Some(status) = object.pointer_mut("/status").and_then(Value::as_object_mut) {
            if object_kind_is_budget(status) {
                status.remove("disruptedPods");
            }
        }
    });
    let report = analyze_json(&trace, "cart-57d48b5dc5-xbtfw");
    let budget = &report["deleted"]["disruption_budget"];
    assert_eq!(budget["held"], true);
    assert!(budget["held_seconds"].is_null(), "{budget}");
    let evidence = budget["evidence"].as_str().unwrap_or_default();
    assert!(
        evidence.contains("how long it waited is unknown"),
        "{evidence}"
    );
}

/// Budget statuses are the only ones with `disruptionsAllowed`.
fn object_kind_is_budget(status: &serde_json::Map<String, Value>) -> bool {
    status.contains_key("disruptionsAllowed")
}

#[test]
fn a_drain_without_a_budget_names_none() {
    let reports = scenario("node-drain");
    for (name, report) in &reports {
        assert!(
            report["deleted"]["disruption_budget"].is_null(),
            "{name}: {}",
            report["deleted"]
        );
    }
}
