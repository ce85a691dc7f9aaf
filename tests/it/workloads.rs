//! Lineage for every controller chain (issue 11): StatefulSet, DaemonSet, Job of a CronJob,
//! bare pods and custom resources, matched by UID with the ownerReferences of the time, and
//! answered honestly where kblame does not follow the kind's revisions yet.

use kblame::trace::EventType;
use serde_json::{json, Value};

use super::support::{kblame, stderr, stdout, write_trace};

/// An object of `kind` named `name` with UID `uid`, controlled by `owner` (apiVersion, kind,
/// name, UID) when given.
fn object(api_version: &str, kind: &str, name: &str, uid: &str, owner: Option<[&str; 4]>) -> Value {
    let mut value = json!({"apiVersion": api_version, "kind": kind,
        "metadata": {"name": name, "namespace": "demo", "uid": uid, "resourceVersion": "1",
            "creationTimestamp": "2026-11-26T15:00:00Z"}});
    if let Some([api_version, kind, name, uid]) = owner {
        value["metadata"]["ownerReferences"] = json!([{"apiVersion": api_version, "kind": kind,
            "name": name, "uid": uid, "controller": true, "blockOwnerDeletion": true}]);
    }
    value
}

/// A running pod controlled by `owner`, or bare.
fn pod(name: &str, uid: &str, owner: Option<[&str; 4]>) -> Value {
    let mut value = object("v1", "Pod", name, uid, owner);
    value["spec"] = json!({"containers": [{"name": "app", "image": "app:1"}]});
    value["status"] = json!({"phase": "Running", "containerStatuses": [{"name": "app",
        "image": "app:1", "imageID": "", "ready": true, "restartCount": 0,
        "state": {"running": {"startedAt": "2026-11-26T15:00:05Z"}}}]});
    value
}

/// `analyze --pod NAME -o json` on a trace of `records`, with the report and its text.
fn analyze(records: &[(i64, EventType, Value)], name: &str, uid: Option<&str>) -> (Value, String) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("t.ndjson");
    write_trace(&path, records, true, false);
    let trace = path.to_str().expect("a UTF-8 path");
    let mut args = vec!["analyze", trace, "--pod", name];
    if let Some(uid) = uid {
        args.extend(["--uid", uid]);
    }
    let json_out = kblame(&[&args[..], &["-o", "json"]].concat());
    assert_eq!(json_out.status.code(), Some(0), "{}", stderr(&json_out));
    let text_out = kblame(&args);
    assert_eq!(text_out.status.code(), Some(0), "{}", stderr(&text_out));
    let report = serde_json::from_slice(&json_out.stdout).expect("a JSON report");
    (report, stdout(&text_out))
}

/// The lineage as (kind, group, name, uid), pod first.
fn chain(report: &Value) -> Vec<(String, String, String, String)> {
    report["lineage"]
        .as_array()
        .expect("a lineage")
        .iter()
        .map(|entry| {
            let field = |key: &str| entry[key].as_str().unwrap_or("?").to_string();
            (field("kind"), field("group"), field("name"), field("uid"))
        })
        .collect()
}

fn link(kind: &str, group: &str, name: &str, uid: &str) -> (String, String, String, String) {
    (kind.into(), group.into(), name.into(), uid.into())
}

#[test]
fn a_statefulset_pod_names_its_statefulset_by_uid_and_says_its_revisions_are_not_followed_yet() {
    let records = vec![
        (
            0,
            EventType::Listed,
            object("apps/v1", "StatefulSet", "db", "sts-1", None),
        ),
        (
            1,
            EventType::Added,
            pod(
                "db-0",
                "pod-1",
                Some(["apps/v1", "StatefulSet", "db", "sts-1"]),
            ),
        ),
    ];
    let (report, text) = analyze(&records, "db-0", None);
    assert_eq!(
        chain(&report),
        [
            link("Pod", "", "db-0", "pod-1"),
            link("StatefulSet", "apps", "db", "sts-1")
        ]
    );
    assert_eq!(report["lineage"][1]["api_version"], "apps/v1");
    assert_eq!(report["lineage"][0]["line"], Value::Null);
    assert_eq!(
        report["lineage"][1]["line"], 3,
        "the pod's record names the StatefulSet"
    );
    assert_eq!(report["created"]["reason"], "unknown");
    let why = report["created"]["evidence"].as_str().unwrap_or("");
    assert!(why.contains("StatefulSet revisions"), "{why}");
    assert!(!why.contains("ReplicaSet"), "{why}");
    assert!(text.contains("owned by statefulset db"), "{text}");
}

#[test]
fn a_daemonset_pod_names_its_daemonset() {
    let records = vec![
        (
            0,
            EventType::Listed,
            object("apps/v1", "DaemonSet", "agent", "ds-1", None),
        ),
        (
            1,
            EventType::Added,
            pod(
                "agent-x7k2p",
                "pod-1",
                Some(["apps/v1", "DaemonSet", "agent", "ds-1"]),
            ),
        ),
    ];
    let (report, _) = analyze(&records, "agent-x7k2p", None);
    assert_eq!(
        chain(&report),
        [
            link("Pod", "", "agent-x7k2p", "pod-1"),
            link("DaemonSet", "apps", "agent", "ds-1")
        ]
    );
    assert!(report["created"]["evidence"]
        .as_str()
        .unwrap_or("")
        .contains("DaemonSet revisions"));
    assert!(report["revision"].is_null());
}

#[test]
fn a_job_pod_of_a_cronjob_has_the_lineage_pod_job_cronjob() {
    let records = vec![
        (
            0,
            EventType::Listed,
            object("batch/v1", "CronJob", "backup", "cj-1", None),
        ),
        (
            1,
            EventType::Added,
            object(
                "batch/v1",
                "Job",
                "backup-29400000",
                "job-1",
                Some(["batch/v1", "CronJob", "backup", "cj-1"]),
            ),
        ),
        (
            2,
            EventType::Added,
            pod(
                "backup-29400000-abcde",
                "pod-1",
                Some(["batch/v1", "Job", "backup-29400000", "job-1"]),
            ),
        ),
    ];
    let (report, text) = analyze(&records, "backup-29400000-abcde", None);
    assert_eq!(
        chain(&report),
        [
            link("Pod", "", "backup-29400000-abcde", "pod-1"),
            link("Job", "batch", "backup-29400000", "job-1"),
            link("CronJob", "batch", "backup", "cj-1"),
        ]
    );
    assert_eq!(
        report["lineage"][1]["line"], 4,
        "the pod's record names the Job"
    );
    assert_eq!(
        report["lineage"][2]["line"], 3,
        "the Job's record names the CronJob"
    );
    assert_eq!(
        report["created"]["reason"], "job-start",
        "the first pod of its Job (see jobs.rs)"
    );
    assert_eq!(report["job"]["cronjob"], "backup");
    assert!(
        text.contains("owned by job backup-29400000 ← cronjob backup"),
        "{text}"
    );
}

#[test]
fn a_bare_pod_has_only_itself_in_its_lineage_and_says_so() {
    let records = vec![(1, EventType::Added, pod("debug", "pod-1", None))];
    let (report, text) = analyze(&records, "debug", None);
    assert_eq!(chain(&report), [link("Pod", "", "debug", "pod-1")]);
    assert_eq!(report["created"]["reason"], "unknown");
    assert!(report["created"]["evidence"]
        .as_str()
        .unwrap_or("")
        .contains("bare pod"));
    assert!(text.contains("bare pod"), "{text}");
}

#[test]
fn a_custom_resource_above_a_statefulset_is_in_the_lineage() {
    let records = vec![
        (
            0,
            EventType::Listed,
            object(
                "postgres-operator.crunchydata.com/v1beta1",
                "PostgresCluster",
                "hippo",
                "pg-1",
                None,
            ),
        ),
        (
            0,
            EventType::Listed,
            object(
                "apps/v1",
                "StatefulSet",
                "hippo-instance1",
                "sts-1",
                Some([
                    "postgres-operator.crunchydata.com/v1beta1",
                    "PostgresCluster",
                    "hippo",
                    "pg-1",
                ]),
            ),
        ),
        (
            1,
            EventType::Added,
            pod(
                "hippo-instance1-0",
                "pod-1",
                Some(["apps/v1", "StatefulSet", "hippo-instance1", "sts-1"]),
            ),
        ),
    ];
    let (report, _) = analyze(&records, "hippo-instance1-0", None);
    assert_eq!(
        chain(&report),
        [
            link("Pod", "", "hippo-instance1-0", "pod-1"),
            link("StatefulSet", "apps", "hippo-instance1", "sts-1"),
            link(
                "PostgresCluster",
                "postgres-operator.crunchydata.com",
                "hippo",
                "pg-1"
            ),
        ]
    );
    assert_eq!(
        report["lineage"][2]["api_version"],
        "postgres-operator.crunchydata.com/v1beta1"
    );
}

#[test]
fn a_replicaset_of_an_argo_rollout_says_the_rollout_kind_is_not_known() {
    let records = vec![
        (
            0,
            EventType::Listed,
            object("argoproj.io/v1alpha1", "Rollout", "web", "ro-1", None),
        ),
        (
            0,
            EventType::Listed,
            object(
                "apps/v1",
                "ReplicaSet",
                "web-6d4f8",
                "rs-1",
                Some(["argoproj.io/v1alpha1", "Rollout", "web", "ro-1"]),
            ),
        ),
        (
            1,
            EventType::Added,
            pod(
                "web-6d4f8-q2x9z",
                "pod-1",
                Some(["apps/v1", "ReplicaSet", "web-6d4f8", "rs-1"]),
            ),
        ),
    ];
    let (report, _) = analyze(&records, "web-6d4f8-q2x9z", None);
    assert_eq!(
        chain(&report),
        [
            link("Pod", "", "web-6d4f8-q2x9z", "pod-1"),
            link("ReplicaSet", "apps", "web-6d4f8", "rs-1"),
            link("Rollout", "argoproj.io", "web", "ro-1"),
        ]
    );
    let why = report["created"]["evidence"].as_str().unwrap_or("");
    assert!(why.contains("Rollout web (argoproj.io)"), "{why}");
    assert!(!why.contains("no recorded ReplicaSet"), "{why}");
    assert!(
        report["restart_evidence"].is_null(),
        "no restarts, nothing to blame"
    );
}

#[test]
fn an_adopted_pod_keeps_the_controller_of_its_first_record_and_a_note_says_what_came_after() {
    let old = ["apps/v1", "StatefulSet", "db", "sts-old"];
    let new = ["apps/v1", "StatefulSet", "db", "sts-new"];
    let records = vec![
        (
            0,
            EventType::Listed,
            object("apps/v1", "StatefulSet", "db", "sts-old", None),
        ),
        (1, EventType::Added, pod("db-0", "pod-1", Some(old))),
        // The StatefulSet is deleted with --cascade=orphan: the pod is released, then adopted
        // by a new StatefulSet of the same name (a different UID).
        (
            10,
            EventType::Deleted,
            object("apps/v1", "StatefulSet", "db", "sts-old", None),
        ),
        (11, EventType::Modified, pod("db-0", "pod-1", None)),
        (
            12,
            EventType::Added,
            object("apps/v1", "StatefulSet", "db", "sts-new", None),
        ),
        (13, EventType::Modified, pod("db-0", "pod-1", Some(new))),
    ];
    let (report, _) = analyze(&records, "db-0", None);
    assert_eq!(report["lineage"][1]["uid"], "sts-old");
    assert_eq!(report["lineage"][1]["line"], 3);
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("it was released (no controller)"),
        "{warnings}"
    );
    assert!(
        warnings.contains("adopted by statefulset demo/db (sts-new)"),
        "{warnings}"
    );
}

#[test]
fn a_pod_name_reused_by_a_new_statefulset_pod_is_told_apart_by_uid() {
    let first = ["apps/v1", "StatefulSet", "db", "sts-1"];
    let second = ["apps/v1", "StatefulSet", "db", "sts-2"];
    let records = vec![
        (
            0,
            EventType::Listed,
            object("apps/v1", "StatefulSet", "db", "sts-1", None),
        ),
        (1, EventType::Added, pod("db-0", "pod-1", Some(first))),
        (5, EventType::Deleted, pod("db-0", "pod-1", Some(first))),
        (
            6,
            EventType::Added,
            object("apps/v1", "StatefulSet", "db", "sts-2", None),
        ),
        (7, EventType::Added, pod("db-0", "pod-2", Some(second))),
    ];
    let (old, _) = analyze(&records, "db-0", Some("pod-1"));
    assert_eq!(old["lineage"][1]["uid"], "sts-1");
    assert_eq!(
        old["deleted"]["reason"], "unknown",
        "seen deleted; why is not followed yet"
    );
    let (new, _) = analyze(&records, "db-0", Some("pod-2"));
    assert_eq!(new["lineage"][1]["uid"], "sts-2");
    assert!(new["deleted"].is_null());
}

#[test]
fn a_finished_job_pod_is_not_reported_deleted() {
    let mut done = pod(
        "once-abcde",
        "pod-1",
        Some(["batch/v1", "Job", "once", "job-1"]),
    );
    done["status"] = json!({"phase": "Succeeded"});
    let records = vec![
        (
            0,
            EventType::Listed,
            object("batch/v1", "Job", "once", "job-1", None),
        ),
        (
            1,
            EventType::Added,
            pod(
                "once-abcde",
                "pod-1",
                Some(["batch/v1", "Job", "once", "job-1"]),
            ),
        ),
        (9, EventType::Modified, done),
    ];
    let (report, _) = analyze(&records, "once-abcde", None);
    assert_eq!(
        chain(&report),
        [
            link("Pod", "", "once-abcde", "pod-1"),
            link("Job", "batch", "once", "job-1")
        ]
    );
    assert!(
        report["deleted"].is_null(),
        "Job pods are kept after they end"
    );
}
