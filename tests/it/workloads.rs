//! Lineage for every controller chain (issue 11): StatefulSet, DaemonSet, Job of a CronJob,
//! bare pods and custom resources, matched by UID with the ownerReferences of the time, and
//! answered honestly where kblame does not follow the kind's revisions yet.

use kblame::trace::{EventType, Header, ResourceInfo, SourceInfo, TraceWriter, WriterOptions};
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
fn a_statefulset_pod_names_its_statefulset_by_uid_and_says_why_its_revision_is_unknown() {
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
    assert!(
        why.contains("no ControllerRevisions, which number StatefulSet demo/db's revisions"),
        "{why}"
    );
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
        .contains("DaemonSet demo/agent's revisions"));
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

/// A managedFields entry of `manager` (Update) at `secs` after the trace start, owning the
/// template's container image.
fn image_owner(manager: &str, secs: i64) -> Value {
    json!({"manager": manager, "operation": "Update", "apiVersion": "apps/v1",
        "time": super::support::at(secs).to_string(), "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"app\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}}})
}

/// The pod template every workload here uses, with `image`.
fn template(image: &str) -> Value {
    json!({"metadata": {"labels": {"app": "db"}},
        "spec": {"containers": [{"name": "app", "image": image}]}})
}

/// A StatefulSet or DaemonSet `name` (`uid`) at `generation`, running `image`, last written
/// by `manager` at `written`.
fn workload(
    kind: &str,
    name: &str,
    uid: &str,
    generation: i64,
    image: &str,
    written: i64,
) -> Value {
    written_by(
        kind,
        name,
        uid,
        generation,
        image,
        ("kubectl-client-side-apply", written),
    )
}

/// [`workload`], with the image written by `manager` at a time.
fn written_by(
    kind: &str,
    name: &str,
    uid: &str,
    generation: i64,
    image: &str,
    (manager, written): (&str, i64),
) -> Value {
    let mut value = object("apps/v1", kind, name, uid, None);
    value["metadata"]["generation"] = json!(generation);
    value["metadata"]["resourceVersion"] = json!(format!("{}", 100 + generation));
    value["metadata"]["managedFields"] = json!([image_owner(manager, written)]);
    value["spec"] = json!({"replicas": 3, "template": template(image)});
    value
}

/// A ControllerRevision `name` of `owner` ([kind, name, uid]) numbered `revision`, holding the
/// template with `image`, with a `controller-revision-hash` label when `hash_label`.
fn controller_revision(
    name: &str,
    uid: &str,
    owner: [&str; 3],
    revision: i64,
    image: &str,
    hash_label: Option<&str>,
) -> Value {
    let [kind, owner_name, owner_uid] = owner;
    let mut value = object(
        "apps/v1",
        "ControllerRevision",
        name,
        uid,
        Some(["apps/v1", kind, owner_name, owner_uid]),
    );
    let mut replace = template(image);
    replace["$patch"] = json!("replace");
    value["revision"] = json!(revision);
    value["data"] = json!({"spec": {"template": replace}});
    if let Some(hash) = hash_label {
        value["metadata"]["labels"] = json!({"controller-revision-hash": hash});
    }
    value
}

/// A pod of `owner` ([kind, name, uid]) with `labels` and `image`.
fn set_pod(name: &str, uid: &str, owner: [&str; 3], labels: Value, image: &str) -> Value {
    let [kind, owner_name, owner_uid] = owner;
    let mut value = pod(name, uid, Some(["apps/v1", kind, owner_name, owner_uid]));
    value["metadata"]["labels"] = labels;
    value["spec"]["containers"][0]["image"] = json!(image);
    value
}

fn deleting(mut pod: Value) -> Value {
    pod["metadata"]["deletionTimestamp"] = json!(super::support::at(62).to_string());
    pod
}

const DB: [&str; 3] = ["StatefulSet", "db", "sts-1"];

fn db_pod(ordinal: i64, uid: &str, revision: &str, image: &str) -> Value {
    let name = format!("db-{ordinal}");
    set_pod(
        &name,
        uid,
        DB,
        json!({"app": "db", "controller-revision-hash": revision,
            "apps.kubernetes.io/pod-index": ordinal.to_string(),
            "statefulset.kubernetes.io/pod-name": name}),
        image,
    )
}

/// A StatefulSet rolling update from postgres:15 to postgres:16, as `stateful_set_control.go`
/// does it: highest ordinal first, each pod deleted and recreated under its name with a new UID.
fn statefulset_rollout(with_revisions: bool) -> Vec<(i64, EventType, Value)> {
    let (old, new) = ("db-5d8f7c6b9", "db-7b8f75b98");
    let mut records = vec![(
        0,
        EventType::Listed,
        workload("StatefulSet", "db", "sts-1", 1, "postgres:15", -3600),
    )];
    if with_revisions {
        records.push((
            0,
            EventType::Listed,
            controller_revision(old, "cr-1", DB, 1, "postgres:15", None),
        ));
    }
    for (ordinal, uid) in [(0, "old-0"), (1, "old-1"), (2, "old-2")] {
        records.push((
            0,
            EventType::Listed,
            db_pod(ordinal, uid, old, "postgres:15"),
        ));
    }
    records.push((
        60,
        EventType::Modified,
        workload("StatefulSet", "db", "sts-1", 2, "postgres:16", 60),
    ));
    if with_revisions {
        records.push((
            61,
            EventType::Added,
            controller_revision(new, "cr-2", DB, 2, "postgres:16", None),
        ));
    }
    records.extend([
        (
            62,
            EventType::Modified,
            deleting(db_pod(2, "old-2", old, "postgres:15")),
        ),
        (
            70,
            EventType::Deleted,
            deleting(db_pod(2, "old-2", old, "postgres:15")),
        ),
        (72, EventType::Added, db_pod(2, "new-2", new, "postgres:16")),
    ]);
    records
}

#[test]
fn a_statefulset_pod_recreated_under_its_name_at_a_new_revision_is_a_rollout_of_the_image_change() {
    let records = statefulset_rollout(true);
    let (new, text) = analyze(&records, "db-2", None);
    assert_eq!(
        new["pod"]["uid"], "new-2",
        "without --uid, the latest incarnation"
    );
    assert_eq!(new["ordinal"], 2);
    assert!(new["pod_template_generation"].is_null());
    let revision = &new["revision"];
    assert_eq!(revision["number"], 2);
    assert_eq!(revision["current_number"], 2);
    assert_eq!(revision["template_hash"], "7b8f75b98");
    assert_eq!(
        revision["controller_revision"],
        json!({"name": "db-7b8f75b98", "uid": "cr-2", "hash": "7b8f75b98"})
    );
    let created = &new["created"];
    assert_eq!(created["reason"], "rollout");
    assert_eq!(created["replaced"], json!({"name": "db-2", "uid": "old-2"}));
    let change = &created["change"];
    assert_eq!(change, &revision["change"]);
    assert_eq!(change["revision"], 2);
    assert_eq!(change["kind"], "template");
    assert_eq!(change["manager"], "kubectl-client-side-apply");
    assert_eq!(change["operation"], "Update");
    assert_eq!(change["before_trace"], false);
    assert_eq!(change["evidence"]["confidence"], "high");
    assert_eq!(
        change["fields"],
        json!([{"path": "spec.template.spec.containers[name=app].image",
            "from": "postgres:15", "to": "postgres:16"}])
    );
    assert!(
        text.starts_with("pod demo/db-2  revision 2 of statefulset demo/db\n"),
        "{text}"
    );
    assert!(
        text.contains("by the rollout of revision 2, in place of db-2 (old-2)"),
        "{text}"
    );
    assert!(
        text.contains("controller revision db-7b8f75b98 (hash 7b8f75b98), ordinal 2"),
        "{text}"
    );
    assert!(
        text.contains("spec.template.spec.containers[name=app].image  postgres:15 → postgres:16"),
        "{text}"
    );

    let (old, text) = analyze(&records, "db-2", Some("old-2"));
    assert_eq!(old["revision"]["number"], 1);
    assert_eq!(old["revision"]["change"]["before_trace"], true);
    assert_eq!(old["created"]["reason"], "unknown", "it predates the trace");
    let deleted = &old["deleted"];
    assert_eq!(deleted["reason"], "rollout");
    assert_eq!(deleted["change"]["revision"], 2);
    assert_eq!(deleted["change"]["manager"], "kubectl-client-side-apply");
    assert_eq!(
        deleted["replaced_by"],
        json!({"name": "db-2", "uid": "new-2"})
    );
    assert!(text.contains("went away"), "{text}");
    assert!(text.contains("for the rollout of revision 2"), "{text}");
    let warnings = old["warnings"].to_string();
    assert!(
        warnings.contains("revision 1 was made before the trace began"),
        "{warnings}"
    );

    let (untouched, _) = analyze(&records, "db-0", None);
    assert_eq!(untouched["revision"]["number"], 1);
    assert_eq!(untouched["ordinal"], 0);
    assert!(untouched["deleted"].is_null());
}

#[test]
fn a_statefulset_without_recorded_controller_revisions_says_its_pods_revision_is_unknown_and_why() {
    let records = statefulset_rollout(false);
    let (new, _) = analyze(&records, "db-2", None);
    assert_eq!(new["pod"]["uid"], "new-2");
    assert!(new["revision"].is_null(), "never guessed");
    assert_eq!(new["ordinal"], 2, "the ordinal needs no ControllerRevision");
    assert_eq!(new["created"]["reason"], "unknown");
    assert_eq!(
        new["created"]["replaced"],
        json!({"name": "db-2", "uid": "old-2"})
    );
    let why = new["created"]["evidence"].as_str().unwrap_or("");
    assert!(why.contains("whether for a rollout is unknown"), "{why}");
    assert!(why.contains("no ControllerRevisions"), "{why}");
    let warnings = new["warnings"].to_string();
    assert!(
        warnings.contains("the pod's revision is unknown"),
        "{warnings}"
    );
    let (old, _) = analyze(&records, "db-2", Some("old-2"));
    assert_eq!(old["deleted"]["reason"], "unknown");
    assert!(old["deleted"]["evidence"]
        .as_str()
        .unwrap_or("")
        .contains("no ControllerRevisions"));
}

#[test]
fn a_trace_that_did_not_record_controller_revisions_says_so() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("t.ndjson");
    let mut header = Header::new(
        super::support::at(0),
        SourceInfo {
            kind: "watch".into(),
            ..SourceInfo::default()
        },
    );
    for (group, resource, kind) in [("apps", "statefulsets", "StatefulSet"), ("", "pods", "Pod")] {
        header.resources.push(ResourceInfo {
            group: group.into(),
            version: "v1".into(),
            resource: resource.into(),
            kind: kind.into(),
            namespaced: true,
        });
    }
    let file = std::fs::File::create(&path).expect("a temp file");
    let mut writer =
        TraceWriter::new(file, &header, WriterOptions::default()).expect("header written");
    for (secs, event, object) in statefulset_rollout(false) {
        writer
            .write_object(super::support::at(secs), event, &object)
            .expect("record written");
    }
    writer.finish(super::support::at(600)).expect("END written");
    let trace = path.to_str().expect("a UTF-8 path");
    let out = kblame(&["analyze", trace, "--pod", "db-2", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let why = report["created"]["evidence"].as_str().unwrap_or("");
    assert!(
        why.contains("the trace did not record controllerrevisions"),
        "{why}"
    );
}

#[test]
fn a_daemonset_pod_is_joined_to_its_controller_revision_by_hash_and_paired_by_node() {
    const AGENT: [&str; 3] = ["DaemonSet", "agent", "ds-1"];
    let agent_pod = |name: &str, uid: &str, hash: &str, generation: &str, image: &str| {
        let mut pod = set_pod(
            name,
            uid,
            AGENT,
            json!({"app": "db", "controller-revision-hash": hash,
                "pod-template-generation": generation}),
            image,
        );
        pod["spec"]["nodeName"] = json!("node-1");
        pod
    };
    let mut old = agent_pod("agent-x7k2p", "old-1", "6c9f5d4b7", "1", "agent:1");
    let records = vec![
        (
            0,
            EventType::Listed,
            workload("DaemonSet", "agent", "ds-1", 1, "agent:1", -3600),
        ),
        (
            0,
            EventType::Listed,
            controller_revision(
                "agent-6c9f5d4b7",
                "cr-1",
                AGENT,
                1,
                "agent:1",
                Some("6c9f5d4b7"),
            ),
        ),
        (0, EventType::Listed, old.clone()),
        (
            30,
            EventType::Modified,
            workload("DaemonSet", "agent", "ds-1", 2, "agent:2", 30),
        ),
        (
            31,
            EventType::Added,
            controller_revision(
                "agent-8d7c6b5f4",
                "cr-2",
                AGENT,
                2,
                "agent:2",
                Some("8d7c6b5f4"),
            ),
        ),
        (32, EventType::Modified, deleting(old.clone())),
        (40, EventType::Deleted, {
            old = deleting(old);
            old
        }),
        (
            41,
            EventType::Added,
            agent_pod("agent-q4m8z", "new-1", "8d7c6b5f4", "2", "agent:2"),
        ),
    ];
    let (report, text) = analyze(&records, "agent-q4m8z", None);
    assert_eq!(report["revision"]["number"], 2);
    assert_eq!(
        report["revision"]["controller_revision"],
        json!({"name": "agent-8d7c6b5f4", "uid": "cr-2", "hash": "8d7c6b5f4"})
    );
    assert_eq!(report["pod_template_generation"], "2");
    assert!(report["ordinal"].is_null());
    assert_eq!(report["created"]["reason"], "rollout");
    assert_eq!(
        report["created"]["replaced"],
        json!({"name": "agent-x7k2p", "uid": "old-1"})
    );
    assert_eq!(report["created"]["change"]["fields"][0]["to"], "agent:2");
    assert!(report["created"]["evidence"]
        .as_str()
        .unwrap_or("")
        .contains("same node node-1"));
    assert!(
        text.contains("revision 2 of daemonset demo/agent"),
        "{text}"
    );
    let (gone, _) = analyze(&records, "agent-x7k2p", None);
    assert_eq!(gone["deleted"]["reason"], "rollout");
    assert_eq!(
        gone["deleted"]["replaced_by"],
        json!({"name": "agent-q4m8z", "uid": "new-1"})
    );
}

#[test]
fn a_statefulset_rollback_renumbers_the_old_controller_revision_and_its_new_pod_names_the_undo() {
    let (a, b) = ("db-5d8f7c6b9", "db-7b8f75b98");
    let mut renumbered = controller_revision(a, "cr-1", DB, 1, "postgres:15", None);
    renumbered["revision"] = json!(3);
    let records = vec![
        (
            0,
            EventType::Listed,
            workload("StatefulSet", "db", "sts-1", 2, "postgres:16", -600),
        ),
        (
            0,
            EventType::Listed,
            controller_revision(a, "cr-1", DB, 1, "postgres:15", None),
        ),
        (
            0,
            EventType::Listed,
            controller_revision(b, "cr-2", DB, 2, "postgres:16", None),
        ),
        (0, EventType::Listed, db_pod(0, "old-0", b, "postgres:16")),
        (
            60,
            EventType::Modified,
            written_by(
                "StatefulSet",
                "db",
                "sts-1",
                3,
                "postgres:15",
                ("kubectl-rollout", 60),
            ),
        ),
        (61, EventType::Modified, renumbered),
        (
            62,
            EventType::Modified,
            deleting(db_pod(0, "old-0", b, "postgres:16")),
        ),
        (
            70,
            EventType::Deleted,
            deleting(db_pod(0, "old-0", b, "postgres:16")),
        ),
        (72, EventType::Added, db_pod(0, "new-0", a, "postgres:15")),
    ];
    let (new, _) = analyze(&records, "db-0", None);
    assert_eq!(
        new["revision"]["number"], 3,
        "the number it had when the pod was made"
    );
    assert_eq!(new["revision"]["controller_revision"]["name"], a);
    assert_eq!(new["created"]["reason"], "rollout");
    let change = &new["created"]["change"];
    assert_eq!(change["revision"], 3);
    assert_eq!(change["manager"], "kubectl-rollout");
    assert_eq!(change["fields"][0]["from"], "postgres:16");
    assert_eq!(change["fields"][0]["to"], "postgres:15");

    let (old, _) = analyze(&records, "db-0", Some("old-0"));
    assert_eq!(old["revision"]["number"], 2);
    let made = &old["revision"]["change"];
    assert_eq!(made["before_trace"], true);
    assert_eq!(made["manager"], "kubectl-client-side-apply");
    assert_eq!(
        made["fields"][0]["from"], "postgres:15",
        "diffed against the previous ControllerRevision"
    );
    assert_eq!(old["deleted"]["reason"], "rollout");
    assert_eq!(old["deleted"]["change"]["revision"], 3);
}

#[test]
fn a_statefulset_scaled_up_then_down_names_the_scale_changes() {
    let rev = "db-5d8f7c6b9";
    let scaled = |generation: i64, replicas: i64, secs: i64| {
        let mut value = workload(
            "StatefulSet",
            "db",
            "sts-1",
            generation,
            "postgres:15",
            -600,
        );
        value["spec"]["replicas"] = json!(replicas);
        if let Some(entries) = value["metadata"]["managedFields"].as_array_mut() {
            entries.push(json!({"manager": "kubectl-scale", "operation": "Update",
                "subresource": "scale", "time": super::support::at(secs).to_string(),
                "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}}));
        }
        value
    };
    let records = vec![
        (
            0,
            EventType::Listed,
            workload("StatefulSet", "db", "sts-1", 1, "postgres:15", -600),
        ),
        (
            0,
            EventType::Listed,
            controller_revision(rev, "cr-1", DB, 1, "postgres:15", None),
        ),
        (0, EventType::Listed, db_pod(2, "pod-2", rev, "postgres:15")),
        (100, EventType::Modified, scaled(2, 4, 100)),
        (
            101,
            EventType::Added,
            db_pod(3, "pod-3", rev, "postgres:15"),
        ),
        (200, EventType::Modified, scaled(3, 3, 200)),
        (
            201,
            EventType::Modified,
            deleting(db_pod(3, "pod-3", rev, "postgres:15")),
        ),
        (
            210,
            EventType::Deleted,
            deleting(db_pod(3, "pod-3", rev, "postgres:15")),
        ),
    ];
    let (report, _) = analyze(&records, "db-3", None);
    assert_eq!(report["ordinal"], 3);
    assert_eq!(report["created"]["reason"], "scale-up");
    assert_eq!(report["created"]["change"]["kind"], "scale");
    assert_eq!(report["created"]["change"]["manager"], "kubectl-scale");
    assert_eq!(
        report["created"]["change"]["revision"], 1,
        "a scale keeps the revision"
    );
    assert_eq!(report["deleted"]["reason"], "scale-down");
    assert_eq!(report["deleted"]["change"]["fields"][0]["to"], 3);
}

/// `analyze --object OBJECT [EXTRA…] -o json` and its text, on a trace of `records`.
fn object_report(
    records: &[(i64, EventType, Value)],
    object: &str,
    extra: &[&str],
) -> (Value, String) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("t.ndjson");
    write_trace(&path, records, true, false);
    let trace = path.to_str().expect("a UTF-8 path");
    let args = [&["analyze", trace, "--object", object][..], extra].concat();
    let json_out = kblame(&[&args[..], &["-o", "json"]].concat());
    assert_eq!(json_out.status.code(), Some(0), "{}", stderr(&json_out));
    let text_out = kblame(&args);
    assert_eq!(text_out.status.code(), Some(0), "{}", stderr(&text_out));
    let report = serde_json::from_slice(&json_out.stdout).expect("a JSON report");
    (report, stdout(&text_out))
}

/// `pod`, Running with Ready True.
fn ready(mut pod: Value) -> Value {
    pod["status"]["conditions"] = json!([{"type": "Ready", "status": "True"}]);
    pod
}

/// `pod`, Running but crash-looping (exit 1, Error), not Ready, restarted `restarts` times.
fn crash_looping(mut pod: Value, restarts: i64) -> Value {
    pod["status"]["conditions"] = json!([{"type": "Ready", "status": "False"}]);
    pod["status"]["containerStatuses"][0]["ready"] = json!(false);
    pod["status"]["containerStatuses"][0]["restartCount"] = json!(restarts);
    pod["status"]["containerStatuses"][0]["state"] =
        json!({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}});
    pod["status"]["containerStatuses"][0]["lastState"] = json!({"terminated": {
        "exitCode": 1, "reason": "Error", "startedAt": "2026-11-26T15:01:30Z",
        "finishedAt": "2026-11-26T15:01:31Z"}});
    pod
}

/// The StatefulSet db at `generation` running `image`, with a status as
/// `stateful_set_control.go` `updateStatus` writes it: (ready, updated, current, current
/// revision, update revision).
fn db_with_status(
    generation: i64,
    image: &str,
    written: i64,
    (ready, updated, current, current_revision, update_revision): (i64, i64, i64, &str, &str),
) -> Value {
    let mut set = workload("StatefulSet", "db", "sts-1", generation, image, written);
    set["status"] = json!({"observedGeneration": generation, "replicas": 3,
        "readyReplicas": ready, "availableReplicas": ready, "updatedReplicas": updated,
        "currentReplicas": current, "currentRevision": current_revision,
        "updateRevision": update_revision});
    set
}

const OLD_REV: &str = "db-5d8f7c6b9";
const NEW_REV: &str = "db-7b8f75b98";

/// The StatefulSet db before its update: three ready pods at revision 1 (postgres:15), then
/// the template changed to postgres:16 at 60 s, revision 2 made at 61 s, and db-2 deleted
/// and recreated at revision 2 at 72 s.
fn statefulset_update_start() -> Vec<(i64, EventType, Value)> {
    let mut records = vec![
        (
            0,
            EventType::Listed,
            db_with_status(1, "postgres:15", -3600, (3, 3, 3, OLD_REV, OLD_REV)),
        ),
        (
            0,
            EventType::Listed,
            controller_revision(OLD_REV, "cr-1", DB, 1, "postgres:15", None),
        ),
    ];
    for (ordinal, uid) in [(0, "old-0"), (1, "old-1"), (2, "old-2")] {
        records.push((
            0,
            EventType::Listed,
            ready(db_pod(ordinal, uid, OLD_REV, "postgres:15")),
        ));
    }
    records.extend([
        (
            60,
            EventType::Modified,
            db_with_status(2, "postgres:16", 60, (3, 0, 3, OLD_REV, NEW_REV)),
        ),
        (
            61,
            EventType::Added,
            controller_revision(NEW_REV, "cr-2", DB, 2, "postgres:16", None),
        ),
        (
            62,
            EventType::Modified,
            ready(deleting(db_pod(2, "old-2", OLD_REV, "postgres:15"))),
        ),
        (
            70,
            EventType::Deleted,
            ready(deleting(db_pod(2, "old-2", OLD_REV, "postgres:15"))),
        ),
    ]);
    records
}

#[test]
fn a_statefulset_rolled_out_to_every_ordinal_is_complete_and_before_the_update_it_was_too() {
    let mut records = statefulset_update_start();
    records.push((
        72,
        EventType::Added,
        ready(db_pod(2, "new-2", NEW_REV, "postgres:16")),
    ));
    for (ordinal, old, new, secs) in [(1, "old-1", "new-1", 80), (0, "old-0", "new-0", 100)] {
        let gone = ready(deleting(db_pod(ordinal, old, OLD_REV, "postgres:15")));
        records.extend([
            (secs, EventType::Modified, gone.clone()),
            (secs + 5, EventType::Deleted, gone),
            (
                secs + 7,
                EventType::Added,
                ready(db_pod(ordinal, new, NEW_REV, "postgres:16")),
            ),
        ]);
    }
    records.push((
        120,
        EventType::Modified,
        db_with_status(2, "postgres:16", 60, (3, 3, 3, NEW_REV, NEW_REV)),
    ));
    let (report, text) = object_report(&records, "sts/db", &[]);
    assert_eq!(report["object"]["kind"], "StatefulSet");
    assert_eq!(report["verdict"], "complete", "{report:#}");
    assert_eq!(report["rollout_halted"], false);
    assert_eq!(report["not_updated_ordinals"], json!([]));
    assert_eq!(report["serving_revisions"], json!([2]));
    let revisions = report["revisions"].as_array().expect("revisions");
    assert_eq!(revisions.len(), 2);
    let new = &revisions[0];
    assert_eq!(new["number"], 2);
    assert_eq!(
        new["controller_revision"],
        json!({"name": NEW_REV, "uid": "cr-2", "hash": "7b8f75b98"})
    );
    assert_eq!(new["outcome"], "complete");
    assert_eq!(new["change"]["manager"], "kubectl-client-side-apply");
    let pods: Vec<(&str, &str)> = new["pods"]
        .as_array()
        .expect("pods")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or("?"),
                p["uid"].as_str().unwrap_or("?"),
            )
        })
        .collect();
    assert_eq!(
        pods,
        [("db-0", "new-0"), ("db-1", "new-1"), ("db-2", "new-2")]
    );
    assert_eq!(new["pods"][0]["ready"], true);
    assert!(new["pods"][0]["last_exit_code"].is_null());
    assert_eq!(revisions[1]["number"], 1);
    assert_eq!(revisions[1]["outcome"], "superseded");
    assert_eq!(revisions[1]["pods"], json!([]));
    assert!(
        text.starts_with("statefulset demo/db  complete at "),
        "{text}"
    );
    assert!(
        text.contains("statefulset rolling update complete 3 pods at revision db-7b8f75b98")
            || text.contains("partitioned roll out complete: 3 new pods have been updated"),
        "{text}"
    );
    assert!(
        text.contains("  revision 2  db-7b8f75b98  complete  (3/3 ready)"),
        "{text}"
    );
    assert!(text.contains("serving: revision 2\n"), "{text}");

    // Before the template change: one revision, complete, serving.
    let at = super::support::at(30).to_string();
    let (before, _) = object_report(&records, "statefulset/db", &["--at", &at]);
    assert_eq!(before["verdict"], "complete");
    assert_eq!(before["revisions"].as_array().map(Vec::len), Some(1));
    assert_eq!(before["revisions"][0]["outcome"], "complete");
    assert_eq!(before["serving_revisions"], json!([1]));
}

#[test]
fn a_statefulset_halted_on_a_crash_looping_ordinal_is_progressing_with_revision_2_failing() {
    let mut records = statefulset_update_start();
    records.extend([
        (
            72,
            EventType::Added,
            db_pod(2, "new-2", NEW_REV, "postgres:16"),
        ),
        (
            95,
            EventType::Modified,
            crash_looping(db_pod(2, "new-2", NEW_REV, "postgres:16"), 3),
        ),
        (
            96,
            EventType::Modified,
            db_with_status(2, "postgres:16", 60, (2, 1, 2, OLD_REV, NEW_REV)),
        ),
    ]);
    let (report, text) = object_report(&records, "statefulset/db", &[]);
    assert_eq!(report["verdict"], "progressing", "{report:#}");
    assert_eq!(report["rollout_halted"], true);
    assert_eq!(report["not_updated_ordinals"], json!([0, 1]));
    assert_eq!(report["serving_revisions"], json!([1]));
    let new = &report["revisions"][0];
    assert_eq!(new["number"], 2);
    assert_eq!(new["outcome"], "failing");
    assert!(
        new["reason"]
            .as_str()
            .unwrap_or("")
            .contains("CrashLoopBackOff"),
        "{new:#}"
    );
    let pod = &new["pods"][0];
    assert_eq!(pod["name"], "db-2");
    assert_eq!(pod["uid"], "new-2");
    assert_eq!(pod["ready"], false);
    assert_eq!(pod["restarts"], 3);
    assert_eq!(pod["last_exit_code"], 1);
    assert_eq!(pod["last_terminated_reason"], "Error");
    let old = &report["revisions"][1];
    assert_eq!(old["outcome"], "superseded");
    assert_eq!(old["pods"].as_array().map(Vec::len), Some(2));
    assert!(
        text.starts_with("statefulset demo/db  progressing at "),
        "{text}"
    );
    assert!(text.contains("waiting for 1 pods to be ready"), "{text}");
    assert!(text.contains("ordinals not updated: 0, 1"), "{text}");
    assert!(
        text.contains("  revision 2  db-7b8f75b98  failing, failing since "),
        "{text}"
    );
    assert!(
        text.contains("    pod db-2 (new-2)  Running not ready, 3 restarts, last exit 1 (Error)"),
        "{text}"
    );
}

#[test]
fn a_daemonset_updated_on_one_node_of_two_is_progressing_and_both_revisions_serve() {
    const AGENT: [&str; 3] = ["DaemonSet", "agent", "ds-1"];
    let agent_pod =
        |name: &str, uid: &str, (hash, generation): (&str, &str), node: &str, image: &str| {
            let mut pod = set_pod(
                name,
                uid,
                AGENT,
                json!({"app": "db", "controller-revision-hash": hash,
                "pod-template-generation": generation}),
                image,
            );
            pod["spec"]["nodeName"] = json!(node);
            ready(pod)
        };
    let daemonset =
        |generation: i64, image: &str, written: i64, (updated, available): (i64, i64)| {
            let mut ds = workload("DaemonSet", "agent", "ds-1", generation, image, written);
            ds["status"] = json!({"observedGeneration": generation, "desiredNumberScheduled": 2,
            "currentNumberScheduled": 2, "numberReady": available,
            "numberAvailable": available, "updatedNumberScheduled": updated});
            ds
        };
    let (old, new) = (("6c9f5d4b7", "1"), ("8d7c6b5f4", "2"));
    let gone = deleting(agent_pod("agent-x7k2p", "old-1", old, "node-1", "agent:1"));
    let records = vec![
        (0, EventType::Listed, daemonset(1, "agent:1", -3600, (2, 2))),
        (
            0,
            EventType::Listed,
            controller_revision(
                "agent-6c9f5d4b7",
                "cr-1",
                AGENT,
                1,
                "agent:1",
                Some("6c9f5d4b7"),
            ),
        ),
        (
            0,
            EventType::Listed,
            agent_pod("agent-x7k2p", "old-1", old, "node-1", "agent:1"),
        ),
        (
            0,
            EventType::Listed,
            agent_pod("agent-b5n9t", "old-2", old, "node-2", "agent:1"),
        ),
        (30, EventType::Modified, daemonset(2, "agent:2", 30, (0, 2))),
        (
            31,
            EventType::Added,
            controller_revision(
                "agent-8d7c6b5f4",
                "cr-2",
                AGENT,
                2,
                "agent:2",
                Some("8d7c6b5f4"),
            ),
        ),
        (32, EventType::Modified, gone.clone()),
        (40, EventType::Deleted, gone),
        (
            41,
            EventType::Added,
            agent_pod("agent-q4m8z", "new-1", new, "node-1", "agent:2"),
        ),
        (50, EventType::Modified, daemonset(2, "agent:2", 30, (1, 2))),
    ];
    let (report, text) = object_report(&records, "ds/agent", &[]);
    assert_eq!(report["object"]["kind"], "DaemonSet");
    assert_eq!(report["verdict"], "progressing", "{report:#}");
    assert_eq!(
        report["status_message"],
        "1 out of 2 new pods have been updated"
    );
    assert!(report.get("rollout_halted").is_none(), "{report:#}");
    assert!(report.get("not_updated_ordinals").is_none());
    assert_eq!(report["serving_revisions"], json!([2, 1]));
    let new = &report["revisions"][0];
    assert_eq!(new["number"], 2);
    assert_eq!(
        new["controller_revision"],
        json!({"name": "agent-8d7c6b5f4", "uid": "cr-2", "hash": "8d7c6b5f4"})
    );
    assert_eq!(new["outcome"], "progressing");
    assert_eq!(new["pods"][0]["uid"], "new-1");
    let old = &report["revisions"][1];
    assert_eq!(old["outcome"], "superseded");
    assert_eq!(old["pods"][0]["name"], "agent-b5n9t");
    assert!(
        text.starts_with("daemonset demo/agent  progressing at "),
        "{text}"
    );
    assert!(text.contains("serving: revision 2, revision 1\n"), "{text}");
}

#[test]
fn a_statefulset_without_recorded_controller_revisions_has_no_halt_answer_and_says_why() {
    let (report, text) = object_report(&statefulset_rollout(false), "sts/db", &[]);
    assert!(report["rollout_halted"].is_null(), "{report:#}");
    assert!(report["not_updated_ordinals"].is_null());
    assert_eq!(report["revisions"], json!([]));
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("revisions are unknown"), "{warnings}");
    assert!(text.contains("ordinals not updated: unknown"), "{text}");
}

/// A StatefulSet at one revision whose pod db-1 is deleted at 62 s while it still wants it;
/// with `event`, the controller's `SuccessfulDelete` Event naming db-1 is recorded too.
fn db_pod_deleted(event: bool) -> Vec<(i64, EventType, Value)> {
    let rev = "db-5d8f7c6b9";
    let mut records = vec![
        (
            0,
            EventType::Listed,
            workload("StatefulSet", "db", "sts-1", 1, "postgres:15", -3600),
        ),
        (
            0,
            EventType::Listed,
            controller_revision(rev, "cr-1", DB, 1, "postgres:15", None),
        ),
        (0, EventType::Listed, db_pod(1, "old-1", rev, "postgres:15")),
        (
            62,
            EventType::Modified,
            deleting(db_pod(1, "old-1", rev, "postgres:15")),
        ),
        (
            70,
            EventType::Deleted,
            deleting(db_pod(1, "old-1", rev, "postgres:15")),
        ),
        (72, EventType::Added, db_pod(1, "new-1", rev, "postgres:15")),
    ];
    if event {
        let meta = object("v1", "Event", "db.1", "ev-1", None)["metadata"].clone();
        records.insert(
            4,
            (
                62,
                EventType::Added,
                json!({"apiVersion": "v1", "kind": "Event", "metadata": meta,
                    "involvedObject": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db",
                        "namespace": "demo", "uid": "sts-1"},
                    "reason": "SuccessfulDelete", "message": "delete Pod db-1 in StatefulSet db successful",
                    "count": 1, "type": "Normal"}),
            ),
        );
    }
    records
}

/// Issue 11: the only thing a watch trace shows about who deleted a StatefulSet pod is the
/// controller's own `SuccessfulDelete` Event (`stateful_pod_control.go` `recordPodEvent`).
#[test]
fn a_statefulset_pod_deleted_with_no_reason_is_external_unless_the_controllers_event_names_it() {
    let (report, _) = analyze(&db_pod_deleted(false), "db-1", Some("old-1"));
    assert_eq!(report["deleted"]["reason"], "external-delete", "{report:#}");
    let evidence = report["deleted"]["evidence"].as_str().unwrap();
    assert!(
        evidence.contains("the trace records no Events"),
        "{evidence}"
    );
    let (new, _) = analyze(&db_pod_deleted(false), "db-1", Some("new-1"));
    assert_eq!(new["created"]["reason"], "replacement");

    let (report, _) = analyze(&db_pod_deleted(true), "db-1", Some("old-1"));
    assert_eq!(report["deleted"]["reason"], "unknown", "{report:#}");
    let evidence = report["deleted"]["evidence"].as_str().unwrap();
    assert!(
        evidence.contains("SuccessfulDelete \"delete Pod db-1 in StatefulSet db successful\""),
        "{evidence}"
    );
}
