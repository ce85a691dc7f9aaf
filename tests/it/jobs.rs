//! Jobs and CronJobs (issue 11): pods that start or retry a run, the Job's outcome by its
//! terminal conditions only, and the CronJob jobTemplate change blamed when the runs after it
//! fail while earlier runs completed. Hand-written traces in the shapes of the v1.31 Job and
//! CronJob controllers (`docs/controller-facts.md` §4–5).

use kblame::trace::EventType;
use serde_json::{json, Value};

use super::support::{kblame, stderr, stdout, write_trace};

const CJ: [&str; 4] = ["batch/v1", "CronJob", "backup", "cj-1"];

/// A managedFields entry of `manager` (Update) at `time` owning `fields`.
fn managed(manager: &str, time: &str, fields: Value) -> Value {
    json!([{"manager": manager, "operation": "Update", "apiVersion": "batch/v1",
        "time": time, "fieldsType": "FieldsV1", "fieldsV1": fields}])
}

/// The fields kubectl owns in a CronJob: its job template's container.
fn cronjob_fields() -> Value {
    json!({"f:spec": {"f:schedule": {}, "f:jobTemplate": {"f:spec": {"f:backoffLimit": {},
        "f:template": {"f:spec": {"f:restartPolicy": {}, "f:containers": {
            "k:{\"name\":\"app\"}": {".": {}, "f:name": {}, "f:image": {}}}}}}}}})
}

fn cronjob(image: &str, rv: &str, time: &str, last_success: Option<&str>) -> Value {
    let mut value = json!({"apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "backup", "namespace": "demo", "uid": "cj-1", "resourceVersion": rv,
            "generation": 1, "creationTimestamp": "2026-11-26T15:00:00Z",
            "managedFields": managed("kubectl-client-side-apply", time, cronjob_fields())},
        "spec": {"schedule": "*/2 * * * *", "jobTemplate": {"spec": {"backoffLimit": 1,
            "template": {"spec": {"restartPolicy": "Never",
                "containers": [{"name": "app", "image": image}]}}}}},
        "status": {}});
    if let Some(t) = last_success {
        value["status"]["lastSuccessfulTime"] = json!(t);
    }
    value
}

/// A Job with `conditions` (type, reason) all True, owned by `owner` when given.
fn job(
    name: &str,
    uid: &str,
    owner: Option<[&str; 4]>,
    scheduled: Option<&str>,
    status: Value,
) -> Value {
    let mut value = json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "namespace": "demo", "uid": uid, "resourceVersion": "1",
            "creationTimestamp": "2026-11-26T16:00:00Z",
            "managedFields": managed("kubectl-create", "2026-11-26T16:00:01Z",
                json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {}}}}}))},
        "spec": {"backoffLimit": 1, "template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "app", "image": "app:1"}]}}},
        "status": status});
    if let Some([api_version, kind, owner_name, owner_uid]) = owner {
        value["metadata"]["ownerReferences"] = json!([{"apiVersion": api_version, "kind": kind,
            "name": owner_name, "uid": owner_uid, "controller": true, "blockOwnerDeletion": true}]);
        value["metadata"]["managedFields"] = json!([]);
    }
    if let Some(t) = scheduled {
        value["metadata"]["annotations"] =
            json!({"batch.kubernetes.io/cronjob-scheduled-timestamp": t});
    }
    value
}

fn conditions(list: &[(&str, &str)]) -> Value {
    Value::Array(
        list.iter()
            .map(|(kind, reason)| {
                json!({"type": kind, "status": "True", "reason": reason,
                "message": "", "lastTransitionTime": "2026-11-26T16:00:00Z"})
            })
            .collect(),
    )
}

/// A pod of Job `job_name`/`job_uid` in `phase`; a terminated container exits `exit` then.
fn pod(
    name: &str,
    uid: &str,
    job_name: &str,
    job_uid: &str,
    phase: &str,
    exit: Option<i64>,
) -> Value {
    let state = match exit {
        None => json!({"running": {"startedAt": "2026-11-26T16:00:05Z"}}),
        Some(code) => json!({"terminated": {"exitCode": code,
            "reason": if code == 0 { "Completed" } else { "Error" },
            "startedAt": "2026-11-26T16:00:05Z", "finishedAt": "2026-11-26T16:00:09Z"}}),
    };
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "demo", "uid": uid, "resourceVersion": "1",
            "creationTimestamp": "2026-11-26T16:00:00Z",
            "labels": {"batch.kubernetes.io/controller-uid": job_uid, "batch.kubernetes.io/job-name": job_name},
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": job_name,
                "uid": job_uid, "controller": true, "blockOwnerDeletion": true}]},
        "spec": {"restartPolicy": "Never", "containers": [{"name": "app", "image": "app:1"}]},
        "status": {"phase": phase, "containerStatuses": [{"name": "app", "image": "app:1",
            "imageID": "", "ready": exit.is_none(), "restartCount": 0, "state": state}]}})
}

/// A CronJob whose first run completes; kubectl changes its jobTemplate image at 16:01:40; the
/// next run's pod fails, its retry fails, the Job reaches FailureTarget at 16:02:31 and
/// Failed at 16:02:35 (BackoffLimitExceeded, backoffLimit 1).
fn cronjob_trace() -> Vec<(i64, EventType, Value)> {
    let (j1, j2) = ("backup-29400000", "backup-29400002");
    let s1 = Some("2026-11-26T16:00:00Z");
    let s2 = Some("2026-11-26T16:02:00Z");
    vec![
        (
            0,
            EventType::Listed,
            cronjob("app:1", "1", "2026-11-26T15:00:00Z", None),
        ),
        (
            10,
            EventType::Added,
            job(j1, "job-1", Some(CJ), s1, json!({})),
        ),
        (
            11,
            EventType::Added,
            pod("backup-29400000-aaaaa", "p-1", j1, "job-1", "Running", None),
        ),
        (
            30,
            EventType::Modified,
            pod(
                "backup-29400000-aaaaa",
                "p-1",
                j1,
                "job-1",
                "Succeeded",
                Some(0),
            ),
        ),
        (
            31,
            EventType::Modified,
            job(
                j1,
                "job-1",
                Some(CJ),
                s1,
                json!({"conditions": conditions(&[("SuccessCriteriaMet", "")]), "uncountedTerminatedPods": {"succeeded": ["p-1"]}}),
            ),
        ),
        (
            32,
            EventType::Modified,
            job(
                j1,
                "job-1",
                Some(CJ),
                s1,
                json!({"succeeded": 1, "conditions": conditions(&[("SuccessCriteriaMet", ""), ("Complete", "")])}),
            ),
        ),
        (
            33,
            EventType::Modified,
            cronjob(
                "app:1",
                "2",
                "2026-11-26T15:00:00Z",
                Some("2026-11-26T16:00:32Z"),
            ),
        ),
        (
            100,
            EventType::Modified,
            cronjob(
                "app:2",
                "3",
                "2026-11-26T16:01:40Z",
                Some("2026-11-26T16:00:32Z"),
            ),
        ),
        (
            120,
            EventType::Added,
            job(j2, "job-2", Some(CJ), s2, json!({})),
        ),
        (
            121,
            EventType::Added,
            pod("backup-29400002-bbbbb", "p-2", j2, "job-2", "Running", None),
        ),
        (
            130,
            EventType::Modified,
            pod(
                "backup-29400002-bbbbb",
                "p-2",
                j2,
                "job-2",
                "Failed",
                Some(1),
            ),
        ),
        (
            131,
            EventType::Modified,
            job(j2, "job-2", Some(CJ), s2, json!({"failed": 1})),
        ),
        (
            141,
            EventType::Added,
            pod("backup-29400002-ccccc", "p-3", j2, "job-2", "Running", None),
        ),
        (
            150,
            EventType::Modified,
            pod(
                "backup-29400002-ccccc",
                "p-3",
                j2,
                "job-2",
                "Failed",
                Some(1),
            ),
        ),
        (
            151,
            EventType::Modified,
            job(
                j2,
                "job-2",
                Some(CJ),
                s2,
                json!({"failed": 2, "conditions": conditions(&[("FailureTarget", "BackoffLimitExceeded")])}),
            ),
        ),
        (
            155,
            EventType::Modified,
            job(
                j2,
                "job-2",
                Some(CJ),
                s2,
                json!({"failed": 2, "conditions": conditions(&[("FailureTarget", "BackoffLimitExceeded"), ("Failed", "BackoffLimitExceeded")])}),
            ),
        ),
    ]
}

/// `records` with each object's resourceVersion the record's place, as the API server numbers.
fn numbered(records: &[(i64, EventType, Value)]) -> Vec<(i64, EventType, Value)> {
    let mut records = records.to_vec();
    for (n, (_, _, object)) in records.iter_mut().enumerate() {
        object["metadata"]["resourceVersion"] = json!((n + 1).to_string());
    }
    records
}

/// Runs kblame on a trace of `records` with `args` after the trace path; (JSON, text).
fn run(records: &[(i64, EventType, Value)], args: &[&str]) -> (Value, String) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("t.ndjson");
    write_trace(&path, &numbered(records), true, false);
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
fn a_failed_cronjob_pod_blames_the_jobtemplate_change_after_which_the_runs_fail() {
    let records = cronjob_trace();
    let (first, _) = run(&records, &["--pod", "backup-29400002-bbbbb"]);
    assert_eq!(first["created"]["reason"], "job-start");
    assert_eq!(first["created"]["change"]["object"]["kind"], "CronJob");
    assert_eq!(
        first["created"]["change"]["fields"][0]["path"],
        "spec.jobTemplate.spec.template.spec.containers[name=app].image"
    );
    assert_eq!(first["job"]["name"], "backup-29400002");
    assert_eq!(first["job"]["uid"], "job-2");
    assert_eq!(first["job"]["cronjob"], "backup");
    assert_eq!(first["job"]["scheduled_time"], "2026-11-26T16:02:00Z");
    assert_eq!(first["job"]["outcome"]["status"], "failed");
    assert_eq!(first["job"]["outcome"]["reason"], "BackoffLimitExceeded");
    assert_eq!(first["job"]["outcome"]["failed_pods"], 2);
    assert_eq!(first["terminated"]["phase"], "Failed");
    assert_eq!(first["terminated"]["reason"], "Error");
    assert_eq!(first["terminated"]["exit_code"], 1);
    assert!(
        first["deleted"].is_null(),
        "a Job's ended pod is kept, not deleted"
    );
    let cause = &first["failure_cause"];
    assert_eq!(cause["manager"], "kubectl-client-side-apply");
    assert_eq!(cause["operation"], "Update");
    assert_eq!(cause["time"], "2026-11-26T16:01:40Z");
    assert_eq!(cause["fields"][0]["from"], "app:1");
    assert_eq!(cause["fields"][0]["to"], "app:2");
    assert_eq!(cause["evidence"]["confidence"], "high");
    assert!(cause["fields"][0]["path"]
        .as_str()
        .unwrap_or("")
        .starts_with("spec.jobTemplate."));

    let (retry, text) = run(&records, &["--pod", "backup-29400002-ccccc"]);
    assert_eq!(retry["created"]["reason"], "job-retry");
    assert_eq!(
        retry["created"]["replaced"]["name"],
        "backup-29400002-bbbbb"
    );
    assert_eq!(retry["failure_cause"]["time"], "2026-11-26T16:01:40Z");
    assert!(
        text.contains("created 16:02:21 as a retry after backup-29400002-bbbbb failed"),
        "{text}"
    );
    assert!(text.contains("job backup-29400002 of cronjob backup, scheduled 16:02:00: failed (BackoffLimitExceeded), 2 failed pod(s)"), "{text}");
    assert!(text.contains("this pod failed 16:02:"), "{text}");
    assert!(text.contains("(Error, exit 1; line "), "{text}");
    assert!(
        text.contains("kept by its Job after it ended, not deleted"),
        "{text}"
    );
    assert!(
        text.contains("failure blamed on the jobTemplate change"),
        "{text}"
    );
    assert!(text.contains("app:1 → app:2"), "{text}");

    let (ok, _) = run(&records, &["--pod", "backup-29400000-aaaaa"]);
    assert_eq!(ok["created"]["reason"], "job-start");
    assert_eq!(ok["created"]["change"]["kind"], "create");
    assert_eq!(ok["job"]["outcome"]["status"], "complete");
    assert_eq!(ok["terminated"]["phase"], "Succeeded");
    assert_eq!(ok["terminated"]["exit_code"], 0);
    assert!(ok["failure_cause"].is_null());
}

#[test]
fn a_job_is_failed_only_after_its_terminal_failed_condition() {
    let records = cronjob_trace();
    let (end, text) = run(&records, &["--object", "job/backup-29400002"]);
    assert_eq!(end["verdict"], "failed");
    assert_eq!(end["reason"], "BackoffLimitExceeded");
    assert_eq!(end["failed_pods"], 2);
    let reasons: Vec<&str> = end["pods"]
        .as_array()
        .expect("pods")
        .iter()
        .map(|p| p["reason"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(reasons, ["job-start", "job-retry"]);
    assert_eq!(end["pods"][0]["last_exit_code"], 1);
    assert!(text.starts_with("job demo/backup-29400002 at "), "{text}");
    assert!(
        text.contains(": failed (BackoffLimitExceeded), 2 failed pod(s)"),
        "{text}"
    );

    let (interim, _) = run(
        &records,
        &[
            "--object",
            "job/backup-29400002",
            "--at",
            "2026-11-26T16:02:33Z",
        ],
    );
    assert_eq!(
        interim["verdict"], "progressing",
        "FailureTarget is not terminal"
    );
    assert!(interim["reason"]
        .as_str()
        .unwrap_or("")
        .starts_with("BackoffLimitExceeded (FailureTarget"));
}

#[test]
fn a_cronjob_lists_its_runs_and_is_failing_since_the_jobtemplate_change() {
    let (report, text) = run(&cronjob_trace(), &["--object", "cj/backup"]);
    assert_eq!(report["object"]["kind"], "CronJob");
    let jobs = report["jobs"].as_array().expect("jobs");
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0]["name"], "backup-29400000");
    assert_eq!(jobs[0]["verdict"], "complete");
    assert_eq!(jobs[0]["template_change"]["kind"], "create");
    assert_eq!(jobs[1]["verdict"], "failed");
    assert_eq!(jobs[1]["reason"], "BackoffLimitExceeded");
    assert_eq!(jobs[1]["scheduled_time"], "2026-11-26T16:02:00Z");
    assert_eq!(jobs[1]["template_change"]["time"], "2026-11-26T16:01:40Z");
    let since = &report["failing_since_change"];
    assert_eq!(since["manager"], "kubectl-client-side-apply");
    assert_eq!(since["fields"][0]["to"], "app:2");
    assert_eq!(report["last_successful_time"], "2026-11-26T16:00:32Z");
    assert!(
        text.contains("failing since the jobTemplate change of 16:01:40"),
        "{text}"
    );

    // Before the second run, nothing is failing.
    let (before, _) = run(
        &cronjob_trace(),
        &["--object", "cronjob/backup", "--at", "2026-11-26T16:01:50Z"],
    );
    assert_eq!(before["jobs"].as_array().map(Vec::len), Some(1));
    assert!(before["failing_since_change"].is_null());
}

#[test]
fn a_standalone_job_that_completes_was_made_by_its_creation() {
    let records = vec![
        (
            1,
            EventType::Added,
            job("migrate", "job-m", None, None, json!({})),
        ),
        (
            2,
            EventType::Added,
            pod("migrate-xyz12", "pm-1", "migrate", "job-m", "Running", None),
        ),
        (
            20,
            EventType::Modified,
            pod(
                "migrate-xyz12",
                "pm-1",
                "migrate",
                "job-m",
                "Succeeded",
                Some(0),
            ),
        ),
        (
            21,
            EventType::Modified,
            job(
                "migrate",
                "job-m",
                None,
                None,
                json!({"conditions": conditions(&[("SuccessCriteriaMet", "")])}),
            ),
        ),
        (
            22,
            EventType::Modified,
            job(
                "migrate",
                "job-m",
                None,
                None,
                json!({"succeeded": 1, "conditions": conditions(&[("SuccessCriteriaMet", ""), ("Complete", "")])}),
            ),
        ),
    ];
    let (pod, text) = run(&records, &["--pod", "migrate-xyz12"]);
    assert_eq!(pod["created"]["reason"], "job-start");
    assert_eq!(pod["created"]["change"]["object"]["kind"], "Job");
    assert_eq!(pod["created"]["change"]["kind"], "create");
    assert_eq!(pod["created"]["change"]["manager"], "kubectl-create");
    assert!(pod["job"]["cronjob"].is_null());
    assert!(pod["job"]["scheduled_time"].is_null());
    assert_eq!(pod["job"]["outcome"]["status"], "complete");
    assert_eq!(pod["terminated"]["phase"], "Succeeded");
    assert!(pod["failure_cause"].is_null());
    assert!(pod["revision"].is_null());
    assert!(text.contains("job migrate's template made"), "{text}");

    let (object, _) = run(&records, &["--object", "job/migrate"]);
    assert_eq!(object["verdict"], "complete");
    assert_eq!(object["failed_pods"], 0);
    let (interim, _) = run(
        &records,
        &["--object", "job/migrate", "--at", "2026-11-26T16:00:21Z"],
    );
    assert_eq!(
        interim["verdict"], "progressing",
        "SuccessCriteriaMet is not terminal"
    );
}

#[test]
fn a_suspended_job_is_suspended() {
    let mut suspended = job(
        "later",
        "job-s",
        None,
        None,
        json!({"conditions": conditions(&[("Suspended", "JobSuspended")])}),
    );
    suspended["spec"]["suspend"] = json!(true);
    let (report, text) = run(
        &[(1, EventType::Added, suspended)],
        &["--object", "job/later"],
    );
    assert_eq!(report["verdict"], "suspended");
    assert_eq!(report["reason"], "JobSuspended");
    assert_eq!(report["pods"], json!([]));
    assert!(text.contains("job demo/later at "), "{text}");
    assert!(
        text.contains(": suspended (JobSuspended), 0 failed pod(s)"),
        "{text}"
    );
}

#[test]
fn a_run_deleted_by_history_cleanup_takes_its_pods_by_cascade_and_stays_in_the_list() {
    let mut records = cronjob_trace();
    let s1 = Some("2026-11-26T16:00:00Z");
    records.push((
        200,
        EventType::Deleted,
        job(
            "backup-29400000",
            "job-1",
            Some(CJ),
            s1,
            json!({"succeeded": 1,
            "conditions": conditions(&[("SuccessCriteriaMet", ""), ("Complete", "")])}),
        ),
    ));
    records.push((
        201,
        EventType::Deleted,
        pod(
            "backup-29400000-aaaaa",
            "p-1",
            "backup-29400000",
            "job-1",
            "Succeeded",
            Some(0),
        ),
    ));
    let (pod, text) = run(&records, &["--pod", "backup-29400000-aaaaa"]);
    assert_eq!(pod["deleted"]["reason"], "cascade-delete");
    assert!(text.contains("because its owner was deleted"), "{text}");
    let (cronjob, _) = run(&records, &["--object", "cronjob/backup"]);
    assert_eq!(cronjob["jobs"][0]["verdict"], "complete");
    assert_eq!(
        cronjob["failing_since_change"]["time"],
        "2026-11-26T16:01:40Z"
    );
}

#[test]
fn without_an_earlier_completed_run_no_template_change_is_blamed() {
    let records: Vec<(i64, EventType, Value)> = cronjob_trace()
        .into_iter()
        .filter(|(_, _, o)| {
            let name = o["metadata"]["name"].as_str().unwrap_or("");
            !name.starts_with("backup-29400000")
        })
        .collect();
    let (pod, text) = run(&records, &["--pod", "backup-29400002-bbbbb"]);
    assert_eq!(pod["job"]["outcome"]["status"], "failed");
    assert!(
        pod["failure_cause"].is_null(),
        "nothing shows the old template worked"
    );
    assert!(!text.contains("failure blamed"), "{text}");
    let (cronjob, text) = run(&records, &["--object", "cronjob/backup"]);
    assert!(cronjob["failing_since_change"].is_null());
    assert!(text.contains("no jobTemplate change is blamed"), "{text}");
}
