//! The Deployment report's `changes`: every recorded write of spec or metadata in time order,
//! checked against the simulator's ground truth (revisions, their changes, rollbacks), from a
//! watch trace and from an audit log alone.

use std::io::BufRead;

use jiff::Timestamp;
use serde_json::{json, Value};

use super::scenarios::{trace, truth};
use super::support::{kblame, stderr, stdout, write_trace};
use kblame::trace::EventType;

fn report(trace: &str, object: &str, extra: &[&str]) -> Value {
    let args = [
        &["analyze", trace, "--object", object, "-o", "json"][..],
        extra,
    ]
    .concat();
    let out = kblame(&args);
    assert_eq!(out.status.code(), Some(0), "{trace}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn time(value: &Value) -> Timestamp {
    value.as_str().expect("a time").parse().expect("RFC 3339")
}

fn changes(report: &Value) -> &Vec<Value> {
    report["changes"].as_array().expect("changes")
}

/// What the truth says each in-trace revision's change made: (revision, manager, time,
/// rollback target), the target being the newest older revision of the same ReplicaSet.
fn truth_revisions(deployment: &Value) -> Vec<(i64, String, Timestamp, Option<i64>)> {
    let revisions = deployment["revisions"].as_array().expect("revisions");
    revisions
        .iter()
        .filter(|r| !r["change"].is_null() && r["change"]["before_trace"] == false)
        .map(|r| {
            let number = r["number"].as_i64().expect("number");
            let back = revisions
                .iter()
                .filter(|o| o["replicaset_uid"] == r["replicaset_uid"])
                .filter_map(|o| o["number"].as_i64())
                .filter(|&n| n < number)
                .max();
            let manager = r["change"]["manager"].as_str().expect("manager");
            (
                number,
                manager.to_string(),
                time(&r["change"]["time"]),
                back,
            )
        })
        .collect()
}

/// The template changes of a report as (new revision, manager, time, rollback target).
fn template_changes(report: &Value) -> Vec<(i64, String, Timestamp, Option<i64>)> {
    changes(report)
        .iter()
        .filter(|c| c["kind"] == "template")
        .map(|c| {
            (
                c["new_revision"].as_i64().expect("a new revision"),
                c["manager"].as_str().expect("a manager").to_string(),
                time(&c["time"]),
                c["rollback_to_revision"].as_i64(),
            )
        })
        .collect()
}

fn assert_in_time_order(report: &Value) {
    let times: Vec<Timestamp> = changes(report).iter().map(|c| time(&c["time"])).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    for change in changes(report) {
        assert!(change["generation"].as_i64().is_some(), "{change}");
        assert!(change["resource_version"].as_str().is_some(), "{change}");
        assert_eq!(change["generation"], change["evidence"]["generation"]);
        assert_eq!(change["before_trace"], false);
    }
}

#[test]
fn every_write_of_the_audit_scenario_is_listed_with_the_revision_it_made() {
    let truth = truth("audit-rollout-rollback");
    let deployment = &truth["deployments"][0];
    let name = deployment["name"].as_str().expect("name");
    let report = report(
        &trace("audit-rollout-rollback"),
        &format!("deployment/{name}"),
        &[],
    );
    assert_in_time_order(&report);
    let want = truth_revisions(deployment);
    assert_eq!(template_changes(&report), want);
    assert!(want.iter().any(|(_, _, _, back)| back.is_some()));
    // The creation made revision 1; its pods were created for it by the same manager.
    let create = &changes(&report)[0];
    assert_eq!(create["kind"], "create");
    let first = deployment["revisions"][0]["number"].as_i64();
    assert_eq!(create["new_revision"].as_i64(), first);
    let first_pod = truth["pods"]
        .as_array()
        .expect("pods")
        .iter()
        .find(|p| p["revision"].as_i64() == first)
        .expect("a pod of the first revision");
    assert_eq!(create["manager"], first_pod["created"]["change_manager"]);
    // Nothing else changed the spec or metadata: not the dry run, not the refused replace.
    assert_eq!(changes(&report).len(), want.len() + 1);
    let text = stdout(&kblame(&[
        "analyze",
        &trace("audit-rollout-rollback"),
        "--object",
        &format!("deployment/{name}"),
    ]));
    let (number, _, _, back) = want.last().expect("a rollback");
    let back = back.expect("a rollback target");
    assert!(
        text.contains(&format!("→ revision {number}, rollback to revision {back}")),
        "{text}"
    );
}

/// The audit log's `stageTimestamp` of the write that stored each resourceVersion.
fn stage_times(log: &std::path::Path) -> Vec<(String, Timestamp)> {
    let file = std::fs::File::open(log).expect("the audit log");
    let lines = std::io::BufReader::new(flate2::read::MultiGzDecoder::new(file)).lines();
    lines
        .map_while(Result::ok)
        .filter_map(|line| serde_json::from_str::<Value>(&line).ok())
        .filter(|e| e["stage"] == "ResponseComplete")
        .filter_map(|e| {
            let rv = e
                .pointer("/responseObject/metadata/resourceVersion")?
                .as_str()?;
            Some((rv.to_string(), time(&e["stageTimestamp"])))
        })
        .collect()
}

#[test]
fn from_an_audit_log_alone_a_change_is_timed_by_its_request() {
    let truth = truth("audit-rollout-rollback");
    let deployment = &truth["deployments"][0];
    let name = deployment["name"].as_str().expect("name");
    let log = super::support::fixture("audit-rollout-rollback.audit.jsonl.gz");
    let dir = tempfile::tempdir().expect("a temp dir");
    let imported = dir.path().join("audit.ndjson.zst");
    let imported = imported.to_str().expect("UTF-8");
    let out = kblame(&[
        "import",
        "audit",
        log.to_str().expect("UTF-8"),
        "-o",
        imported,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = report(imported, &format!("deployment/{name}"), &[]);
    assert_in_time_order(&report);
    let stages = stage_times(&log);
    for change in changes(&report) {
        let rv = change["resource_version"]
            .as_str()
            .expect("a resourceVersion");
        let stage = stages.iter().find(|(v, _)| v == rv).map(|(_, t)| *t);
        assert_eq!(Some(time(&change["time"])), stage, "{change}");
    }
    // The same revisions, managers and rollback as the watch saw, each timed by its request:
    // within a second of the watch's record.
    let want = truth_revisions(deployment);
    let got = template_changes(&report);
    assert_eq!(got.len(), want.len());
    for (got, want) in got.iter().zip(&want) {
        assert_eq!((got.0, &got.1, got.3), (want.0, &want.1, want.3));
        assert!((got.2 - want.2).abs().get_seconds() < 1, "{got:?} {want:?}");
    }
}

#[test]
fn a_rollout_undo_names_the_revision_it_brought_back() {
    let truth = truth("rollout-undo");
    let deployment = &truth["deployments"][0];
    let name = deployment["name"].as_str().expect("name");
    let report = report(&trace("rollout-undo"), &format!("deployment/{name}"), &[]);
    assert_in_time_order(&report);
    let want = truth_revisions(deployment);
    assert_eq!(template_changes(&report), want);
    assert_eq!(
        changes(&report).len(),
        want.len(),
        "the trace began after the creation: no create"
    );
}

#[test]
fn a_scale_by_the_autoscaler_is_a_change_without_a_revision() {
    let truth = truth("hpa-scale-up");
    let name = truth["deployments"][0]["name"].as_str().expect("name");
    let report = report(&trace("hpa-scale-up"), &format!("deployment/{name}"), &[]);
    assert_in_time_order(&report);
    let scale_ups: Vec<&Value> = truth["pods"]
        .as_array()
        .expect("pods")
        .iter()
        .filter(|p| p["created"]["reason"] == "scale-up")
        .collect();
    assert!(!scale_ups.is_empty());
    let [scale] = &changes(&report)[..] else {
        panic!("one change: {report}")
    };
    assert_eq!(scale["kind"], "scale");
    assert_eq!(scale["subresource"], "scale");
    assert_eq!(scale["manager"], scale_ups[0]["created"]["change_manager"]);
    assert!(scale["new_revision"].is_null() && scale["rollback_to_revision"].is_null());
    assert_eq!(scale["fields"][0]["path"], "spec.replicas");
    let first_pod = scale_ups.iter().map(|p| time(&p["created"]["time"])).min();
    assert!(Some(time(&scale["time"])) <= first_pod);
}

#[test]
fn changes_stop_at_the_time_asked_and_the_text_lists_them_only_when_there_are_some() {
    let seed = trace("seed-demo");
    let early = report(&seed, "deployment/web", &["--at", "+1m"]);
    assert!(changes(&early).is_empty());
    let text = stdout(&kblame(&[
        "analyze",
        &seed,
        "--object",
        "deployment/web",
        "--at",
        "+1m",
    ]));
    assert!(!text.contains("changes:"), "{text}");
    let end = report(&seed, "deployment/web", &[]);
    assert_eq!(changes(&end).len(), 1);
    assert_eq!(changes(&end)[0]["new_revision"], 2);
}

fn deployment(labels: Value, annotations: Value, entries: Value, generation: i64) -> Value {
    with_image(labels, annotations, entries, generation, "app:1")
}

fn with_image(
    labels: Value,
    annotations: Value,
    entries: Value,
    generation: i64,
    image: &str,
) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "app", "namespace": "demo", "uid": "dep-uid",
            "resourceVersion": format!("{}", 10 + generation), "generation": generation,
            "creationTimestamp": "2026-11-26T15:00:00Z", "labels": labels,
            "annotations": annotations, "managedFields": entries},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "app"}},
            "template": {"metadata": {"labels": {"app": "app"}},
                "spec": {"containers": [{"name": "app", "image": image}]}}}})
}

#[test]
fn a_label_change_is_a_metadata_change_and_a_status_write_is_not() {
    let apply = json!({"manager": "kubectl-client-side-apply", "operation": "Update",
        "time": "2026-11-26T15:00:00Z", "fieldsV1": {"f:metadata": {"f:labels": {"f:app": {}}}, "f:spec": {}}});
    let status = json!({"manager": "kube-controller-manager", "operation": "Update",
        "subresource": "status", "time": "2026-11-26T16:00:20Z",
        "fieldsV1": {"f:metadata": {"f:annotations": {"f:deployment.kubernetes.io/revision": {}}}}});
    let label = json!({"manager": "kubectl-label", "operation": "Update",
        "time": "2026-11-26T16:00:40Z", "fieldsV1": {"f:metadata": {"f:labels": {"f:team": {}}}}});
    let records = vec![
        (
            0,
            EventType::Listed,
            deployment(json!({"app": "app"}), json!({}), json!([apply]), 1),
        ),
        (
            20,
            EventType::Modified,
            deployment(
                json!({"app": "app"}),
                json!({"deployment.kubernetes.io/revision": "1"}),
                json!([apply, status]),
                1,
            ),
        ),
        (
            40,
            EventType::Modified,
            deployment(
                json!({"app": "app", "team": "search"}),
                json!({"deployment.kubernetes.io/revision": "1"}),
                json!([apply, status, label]),
                1,
            ),
        ),
    ];
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("labels.ndjson.zst");
    write_trace(&path, &records, true, true);
    let trace = path.to_str().expect("UTF-8");
    let report = report(trace, "deployment/app", &[]);
    let [change] = &changes(&report)[..] else {
        panic!("one change: {report}")
    };
    assert_eq!(change["kind"], "metadata");
    assert_eq!(change["manager"], "kubectl-label");
    assert_eq!(
        change["fields"],
        json!([{"path": "metadata.labels.team", "from": null, "to": "search"}])
    );
    assert_eq!(change["generation"], 1);
    let text = stdout(&kblame(&["analyze", trace, "--object", "deployment/app"]));
    assert!(
        text.contains("kubectl-label (Update)  metadata  metadata.labels.team (none) → search"),
        "{text}"
    );
}

#[test]
fn a_first_record_that_is_an_update_is_not_a_creation() {
    let apply = |time: &str| {
        json!({"manager": "kubectl-client-side-apply", "operation": "Update", "time": time,
            "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {"f:image": {}}}}}}}})
    };
    let labels = json!({"app": "app"});
    let records = vec![
        (
            0,
            EventType::Modified,
            with_image(
                labels.clone(),
                json!({}),
                json!([apply("2026-11-26T16:00:00Z")]),
                1,
                "app:1",
            ),
        ),
        (
            30,
            EventType::Modified,
            with_image(
                labels,
                json!({}),
                json!([apply("2026-11-26T16:00:30Z")]),
                2,
                "app:2",
            ),
        ),
    ];
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("update-first.ndjson");
    write_trace(&path, &records, true, false);
    let report = report(path.to_str().expect("UTF-8"), "deployment/app", &[]);
    let kinds: Vec<&Value> = changes(&report).iter().map(|c| &c["kind"]).collect();
    assert_eq!(kinds, [&json!("template")], "{report}");
    assert_eq!(changes(&report)[0]["manager"], "kubectl-client-side-apply");
}
