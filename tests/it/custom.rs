//! Custom resources (issue 11 item 5): `analyze --object KIND.GROUP/NAME` judged by kstatus's
//! generic rules (kubernetes-sigs/cli-utils `pkg/kstatus/status` `generic.go`,
//! `docs/controller-facts.md` §6), with the pods the resource owns through its controller
//! chain. Hand-written traces: a PostgresCluster (postgres-operator.crunchydata.com) owning a
//! StatefulSet owning pods.

use kblame::trace::EventType;
use serde_json::{json, Value};

use super::support::{kblame, stderr, stdout, write_trace};

const PGO: &str = "postgres-operator.crunchydata.com/v1beta1";

/// A PostgresCluster `hippo` at `generation`, observed at `observed`, with `conditions`.
fn cluster(rv: &str, generation: i64, observed: Option<i64>, conditions: Value) -> Value {
    let mut status = json!({"conditions": conditions});
    if let Some(o) = observed {
        status["observedGeneration"] = json!(o);
    }
    json!({"apiVersion": PGO, "kind": "PostgresCluster",
        "metadata": {"name": "hippo", "namespace": "db", "uid": "pg-1", "resourceVersion": rv,
            "generation": generation, "creationTimestamp": "2026-11-26T16:00:00Z"},
        "spec": {"postgresVersion": 16, "instances": [{"name": "instance1", "replicas": 1}]},
        "status": status})
}

fn condition(kind: &str, status: &str, reason: &str) -> Value {
    json!({"type": kind, "status": status, "reason": reason, "message": format!("{kind} {status}"),
        "lastTransitionTime": "2026-11-26T16:00:00Z"})
}

fn statefulset() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "hippo-instance1-abcd", "namespace": "db", "uid": "sts-1",
            "resourceVersion": "1", "generation": 1, "creationTimestamp": "2026-11-26T16:00:01Z",
            "ownerReferences": [{"apiVersion": PGO, "kind": "PostgresCluster", "name": "hippo",
                "uid": "pg-1", "controller": true, "blockOwnerDeletion": true}]},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "database", "image": "pg:16"}]}}},
        "status": {"replicas": 1}})
}

fn pod(ready: bool, restarts: i64) -> Value {
    let mut container = json!({"name": "database", "image": "pg:16", "imageID": "",
        "ready": ready, "restartCount": restarts,
        "state": {"running": {"startedAt": "2026-11-26T16:00:30Z"}}});
    if restarts > 0 {
        container["lastState"] = json!({"terminated": {"exitCode": 137, "reason": "OOMKilled"}});
    }
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "hippo-instance1-abcd-0", "namespace": "db", "uid": "pod-1",
            "resourceVersion": "1", "creationTimestamp": "2026-11-26T16:00:02Z",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet",
                "name": "hippo-instance1-abcd", "uid": "sts-1", "controller": true}]},
        "spec": {"containers": [{"name": "database", "image": "pg:16"}]},
        "status": {"phase": "Running",
            "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
            "containerStatuses": [container]}})
}

/// Reconciling while the pod starts, then Current with the pod Ready.
fn postgres_trace() -> Vec<(i64, EventType, Value)> {
    let reconciling = json!([
        condition("Reconciling", "True", "Progressing"),
        condition("Ready", "False", "PodsNotReady")
    ]);
    let done = json!([
        condition("Reconciling", "False", "Reconciled"),
        condition("Ready", "True", "AllReady")
    ]);
    vec![
        (1, EventType::Added, cluster("1", 1, Some(1), reconciling)),
        (2, EventType::Added, statefulset()),
        (3, EventType::Added, pod(false, 0)),
        (40, EventType::Modified, pod(true, 1)),
        (50, EventType::Modified, cluster("2", 1, Some(1), done)),
    ]
}

/// Runs kblame on a trace of `records` with `args` after the trace path; (JSON, text).
fn run(records: &[(i64, EventType, Value)], args: &[&str]) -> (Value, String) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("t.ndjson");
    write_trace(&path, records, true, false);
    let trace = path.to_str().expect("a UTF-8 path");
    let args = [&["analyze", trace][..], args].concat();
    let json_out = kblame(&[&args[..], &["-o", "json"]].concat());
    assert_eq!(json_out.status.code(), Some(0), "{}", stderr(&json_out));
    let text_out = kblame(&args);
    assert_eq!(text_out.status.code(), Some(0), "{}", stderr(&text_out));
    let report = serde_json::from_slice(&json_out.stdout).expect("a JSON report");
    (report, stdout(&text_out))
}

#[test]
fn a_postgrescluster_is_in_progress_while_reconciling_then_current_with_its_pods() {
    let records = postgres_trace();
    let object = "postgrescluster.postgres-operator.crunchydata.com/hippo";
    let (early, _) = run(
        &records,
        &["--object", object, "--at", "2026-11-26T16:00:10Z"],
    );
    assert_eq!(early["verdict"], "in-progress");
    assert!(early["kstatus_reason"]
        .as_str()
        .is_some_and(|r| r.starts_with("Progressing")));
    assert_eq!(early["pods"][0]["ready"], false);

    let (end, text) = run(&records, &["--object", object]);
    assert_eq!(end["object"]["kind"], "PostgresCluster");
    assert_eq!(end["object"]["uid"], "pg-1");
    assert_eq!(end["verdict"], "current");
    assert_eq!(end["kstatus_reason"], "Resource is Ready");
    assert_eq!(end["generation"], 1);
    assert_eq!(end["observed_generation"], 1);
    let ready = end["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "Ready"))
        .expect("a Ready condition");
    assert_eq!(ready["status"], "True");
    // The header is line 1: the cluster's second record (the fifth record) is line 6.
    assert_eq!(ready["first_seen_line"], 6);
    let pods = end["pods"].as_array().expect("pods");
    assert_eq!(pods.len(), 1);
    assert_eq!(pods[0]["name"], "hippo-instance1-abcd-0");
    assert_eq!(pods[0]["uid"], "pod-1");
    assert_eq!(pods[0]["phase"], "Running");
    assert_eq!(pods[0]["ready"], true);
    assert_eq!(pods[0]["restarts"], 1);
    assert_eq!(pods[0]["last_exit_code"], 137);
    assert_eq!(pods[0]["last_terminated_reason"], "OOMKilled");
    assert_eq!(
        pods[0]["via"],
        json!(["StatefulSet/hippo-instance1-abcd", "PostgresCluster/hippo"])
    );
    assert!(
        text.contains("current (kstatus: Resource is Ready)"),
        "{text}"
    );
    assert!(
        text.contains("pod hippo-instance1-abcd-0 Running ready=true restarts=1"),
        "{text}"
    );
}

#[test]
fn a_stalled_custom_resource_is_failed() {
    let stalled = json!([
        condition("Stalled", "True", "InvalidSpec"),
        condition("Ready", "False", "InvalidSpec")
    ]);
    let records = vec![(1, EventType::Added, cluster("1", 1, Some(1), stalled))];
    let (report, _) = run(
        &records,
        &[
            "--object",
            "postgrescluster.postgres-operator.crunchydata.com/hippo",
        ],
    );
    assert_eq!(report["verdict"], "failed");
    assert_eq!(report["kstatus_reason"], "InvalidSpec: Stalled True");
    assert_eq!(report["pods"], json!([]));
}

#[test]
fn ready_decides_only_when_reconciling_and_stalled_do_not() {
    // kstatus `Compute` falls back to `checkReadyCondition`: Ready=False is InProgress.
    let object = "postgrescluster.postgres-operator.crunchydata.com/hippo";
    let waiting = json!([condition("Ready", "False", "Waiting")]);
    let records = vec![(1, EventType::Added, cluster("1", 1, Some(1), waiting))];
    let (report, _) = run(&records, &["--object", object]);
    assert_eq!(report["verdict"], "in-progress");
    assert!(report["kstatus_reason"]
        .as_str()
        .is_some_and(|r| r.starts_with("Waiting")));
    let ready = json!([condition("Ready", "True", "AllReady")]);
    let records = vec![(1, EventType::Added, cluster("1", 1, Some(1), ready))];
    let (report, _) = run(&records, &["--object", object]);
    assert_eq!(report["verdict"], "current");
    assert_eq!(report["kstatus_reason"], "Resource is Ready");
}

#[test]
fn a_custom_resource_whose_observed_generation_lags_is_in_progress() {
    let records = vec![(1, EventType::Added, cluster("1", 3, Some(2), json!([])))];
    let (report, _) = run(
        &records,
        &[
            "--object",
            "postgrescluster.postgres-operator.crunchydata.com/hippo",
        ],
    );
    assert_eq!(report["verdict"], "in-progress");
    assert_eq!(
        report["kstatus_reason"],
        "LatestGenerationNotObserved: PostgresCluster generation is 3, but latest observed generation is 2"
    );
    assert_eq!(report["generation"], 3);
    assert_eq!(report["observed_generation"], 2);
}

#[test]
fn kind_slash_name_without_a_group_resolves_when_the_kind_is_unique_in_the_trace() {
    let records = postgres_trace();
    let (report, _) = run(&records, &["--object", "postgrescluster/hippo"]);
    assert_eq!(report["object"]["uid"], "pg-1");
    assert_eq!(report["verdict"], "current");
    assert_eq!(report["pods"][0]["uid"], "pod-1");
}

#[test]
fn a_group_that_does_not_match_the_recorded_resource_is_not_found() {
    let records = postgres_trace();
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("t.ndjson");
    write_trace(&path, &records, true, false);
    let out = kblame(&[
        "analyze",
        path.to_str().expect("a UTF-8 path"),
        "--object",
        "postgrescluster.example.com/hippo",
    ]);
    assert_ne!(out.status.code(), Some(0), "{}", stdout(&out));
}

/// The gitops-engine labelled custom resource without conditions (`knative-service.yaml`,
/// Argo CD health nil: no generic rule) is `current` by kstatus, and a CR named like a
/// built-in kind (`Service`) is judged as the custom resource, not the built-in.
#[test]
fn the_gitops_engine_knative_service_is_current_by_kstatus() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/reference/gitops-engine/pkg/health/testdata/knative-service.yaml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("skipped: ../shared/reference is absent");
        return;
    };
    let mut object: Value = yaml_serde::from_str(&text).expect("a YAML object");
    // The test data has no namespace or UID; a recorded object has both.
    object["metadata"]["namespace"] = json!("default");
    object["metadata"]["uid"] = json!("ksvc-1");
    let records = vec![(0, EventType::Listed, object)];
    let (report, _) = run(
        &records,
        &["--object", "service.serving.knative.dev/helloworld"],
    );
    assert_eq!(report["verdict"], "current");
    assert_eq!(report["group"], "serving.knative.dev");
    assert_eq!(report["conditions"], json!([]));
    assert!(report["warnings"].as_array().is_some_and(|w| w
        .iter()
        .any(|w| w.as_str().is_some_and(|w| w.contains("observedGeneration")))));
}

/// A kind served by two groups in the trace needs its group; with it, each is found, and a
/// `Deployment` of another group is judged as a custom resource, not as the built-in.
#[test]
fn a_kind_in_two_groups_needs_its_group_and_a_namesake_of_a_built_in_is_custom() {
    let widget = |group: &str, uid: &str| {
        json!({"apiVersion": format!("{group}/v1"), "kind": "Deployment",
            "metadata": {"name": "w", "namespace": "demo", "uid": uid, "resourceVersion": "1",
                "generation": 1},
            "status": {"observedGeneration": 1,
                "conditions": [{"type": "Stalled", "status": "True", "reason": "Broken"}]}})
    };
    let records = vec![
        (0, EventType::Listed, widget("a.example.com", "w-a")),
        (0, EventType::Listed, widget("b.example.com", "w-b")),
    ];
    let (report, _) = run(&records, &["--object", "deployment.b.example.com/w"]);
    assert_eq!(report["object"]["uid"], "w-b");
    assert_eq!(report["verdict"], "failed");
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("t.ndjson");
    write_trace(&path, &records, true, false);
    let out = kblame(&[
        "analyze",
        path.to_str().expect("a UTF-8 path"),
        "--object",
        "deployment/w",
    ]);
    assert_ne!(out.status.code(), Some(0), "{}", stdout(&out));
}
