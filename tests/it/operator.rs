//! The operator-postgres fixture (issue 11 item 7): a PostgresCluster
//! (postgres-operator.crunchydata.com) whose operator owns a StatefulSet. Every pod's lineage
//! runs through the custom resource by UID, the StatefulSet change is credited to the
//! operator's field manager, and `analyze --object` on the resource and on its StatefulSet
//! agrees with the simulator's ground truth.

use serde_json::{json, Value};

use super::scenarios::{scenario, trace, truth};
use super::support::{kblame, stderr};

const FIXTURE: &str = "operator-postgres";
const OPERATOR: &str = "postgrescluster-controller";

/// The ground truth's only custom resource.
fn custom_resource() -> Value {
    let truth = truth(FIXTURE);
    let resources = truth["custom_resources"]
        .as_array()
        .expect("custom_resources");
    assert_eq!(resources.len(), 1);
    resources[0].clone()
}

/// `analyze --object` on the PostgresCluster as JSON, with `extra` arguments.
fn cluster_report(extra: &[&str]) -> Value {
    let cr = custom_resource();
    let object = format!(
        "postgrescluster.postgres-operator.crunchydata.com/{}",
        cr["name"].as_str().expect("a name")
    );
    let trace = trace(FIXTURE);
    let args = [
        &["analyze", &trace, "--object", &object, "-o", "json"][..],
        extra,
    ]
    .concat();
    let out = kblame(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

/// Every pod, by name and UID, against the truth (lineage through the resource, revision,
/// created reason, change manager, restarts, deletion), plus what this fixture is about: the
/// revision-2 pod was made by the rollout of the operator's change, and each lineage ends at
/// the PostgresCluster with its real apiVersion.
#[test]
fn every_operator_postgres_pod_traces_through_the_statefulset_to_the_postgrescluster() {
    let reports = scenario(FIXTURE);
    let cr = custom_resource();
    let truth = truth(FIXTURE);
    for pod in truth["pods"].as_array().expect("pods") {
        let name = pod["name"].as_str().expect("a name");
        let uid = pod["uid"].as_str().expect("a uid");
        let report = reports
            .iter()
            .map(|(_, r)| r)
            .find(|r| r["pod"]["uid"] == uid)
            .unwrap_or_else(|| panic!("no report for {name} {uid}"));
        let lineage = report["lineage"].as_array().expect("a lineage");
        let top = lineage.last().expect("a lineage entry");
        assert_eq!(top["kind"], "PostgresCluster", "{name}");
        assert_eq!(top["uid"], cr["uid"], "{name}");
        assert_eq!(top["api_version"], cr["api_version"], "{name}");
        assert_eq!(top["recorded"], true, "{name}");
    }
    let rolled = truth["pods"]
        .as_array()
        .expect("pods")
        .iter()
        .find(|p| p["created"]["reason"] == "rollout")
        .expect("a pod made by the rollout");
    assert_eq!(rolled["created"]["change_manager"], OPERATOR);
    let report = reports
        .iter()
        .find(|(_, r)| r["pod"]["uid"] == rolled["uid"])
        .map(|(_, r)| r)
        .expect("its report");
    assert_eq!(report["revision"]["number"], 2);
    let change = &report["created"]["change"];
    assert_eq!(change["manager"], OPERATOR);
    assert_eq!(change["operation"], "Apply");
    assert_eq!(
        change["fields"][0]["path"],
        "spec.template.spec.containers[name=database].image"
    );
    // The pod it replaced went for that same rollout, credited to the operator too.
    let replaced = truth["pods"]
        .as_array()
        .expect("pods")
        .iter()
        .find(|p| p["deleted"]["reason"] == "rollout")
        .expect("a pod deleted by the rollout");
    assert_eq!(replaced["deleted"]["change_manager"], OPERATOR);
    let old = reports
        .iter()
        .find(|(_, r)| r["pod"]["uid"] == replaced["uid"])
        .map(|(_, r)| r)
        .expect("its report");
    assert_eq!(old["deleted"]["reason"], "rollout");
    assert_eq!(old["deleted"]["change"]["manager"], OPERATOR);
}

/// `analyze --object postgrescluster.postgres-operator.crunchydata.com/hippo` at the end:
/// kstatus's verdict, the generations, every condition with the record that began its run, and
/// the live pods with their chain, all as the simulator recorded them.
#[test]
fn the_postgrescluster_verdict_conditions_and_pods_match_the_simulator() {
    let cr = custom_resource();
    let report = cluster_report(&[]);
    assert_eq!(report["object"]["uid"], cr["uid"]);
    assert_eq!(report["group"], "postgres-operator.crunchydata.com");
    assert_eq!(report["verdict"], cr["kstatus"]);
    assert_eq!(report["verdict"], "failed");
    assert_eq!(report["generation"], cr["generation"]);
    assert_eq!(report["observed_generation"], cr["observed_generation"]);
    let got: Vec<(String, String, String)> = report["conditions"]
        .as_array()
        .expect("conditions")
        .iter()
        .map(|c| {
            (
                c["type"].to_string(),
                c["status"].to_string(),
                c["reason"].to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String, String)> = cr["conditions"]
        .as_array()
        .expect("conditions")
        .iter()
        .map(|c| {
            (
                c["type"].to_string(),
                c["status"].to_string(),
                c["reason"].to_string(),
            )
        })
        .collect();
    assert_eq!(got, want);
    for (got, want) in report["conditions"]
        .as_array()
        .expect("conditions")
        .iter()
        .zip(cr["conditions"].as_array().expect("conditions"))
    {
        // The truth's `since` has fractional seconds when a record in the trace began the
        // run; kblame prints milliseconds.
        let since = want["since"].as_str().expect("since");
        let first_seen = got["first_seen"].as_str().expect("first_seen");
        assert_eq!(first_seen[..23], since[..23], "{}", want["type"]);
    }
    let truth = truth(FIXTURE);
    let mut live: Vec<&str> = truth["pods"]
        .as_array()
        .expect("pods")
        .iter()
        .filter(|p| p["deleted"].is_null())
        .map(|p| p["uid"].as_str().expect("a uid"))
        .collect();
    let mut got: Vec<&str> = report["pods"]
        .as_array()
        .expect("pods")
        .iter()
        .map(|p| p["uid"].as_str().expect("a uid"))
        .collect();
    live.sort_unstable();
    got.sort_unstable();
    assert_eq!(got, live);
    let set = &cr["owns"][0];
    let via = json!([
        format!("StatefulSet/{}", set["name"].as_str().expect("a name")),
        format!("PostgresCluster/{}", cr["name"].as_str().expect("a name"))
    ]);
    for pod in report["pods"].as_array().expect("pods") {
        assert_eq!(pod["via"], via, "{}", pod["name"]);
    }
}

/// The resource's report names the user's spec change the operator then acted on: the
/// simulator's last spec change of the cluster, by manager, operation, fields and time.
#[test]
fn the_postgrescluster_report_credits_its_spec_change_to_the_user() {
    let cr = custom_resource();
    let want = cr["spec_changes"]
        .as_array()
        .and_then(|c| c.last())
        .expect("a spec change in the trace");
    let report = cluster_report(&[]);
    let got = &report["spec_change"];
    assert_eq!(got["manager"], want["manager"]);
    assert_eq!(got["operation"], want["operation"]);
    assert_eq!(got["before_trace"], false);
    assert_eq!(got["evidence"]["generation"], cr["generation"]);
    let paths: Vec<&Value> = got["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| &f["path"])
        .collect();
    let wanted: Vec<&Value> = want["fields"].as_array().expect("fields").iter().collect();
    assert_eq!(paths, wanted);
    let (got, want) = (
        got["time"].as_str().expect("a time"),
        want["time"].as_str().expect("a time"),
    );
    assert_eq!(got[..19], want[..19]);
}

/// Before the operator gave up, the same resource was in progress: `--at` between the
/// Reconciling=True write and the Stalled=True write answers kstatus's InProgress, and before
/// the user's change (Ready=True, nothing abnormal) Current.
#[test]
fn the_postgrescluster_was_reconciling_before_it_stalled_and_current_before_the_change() {
    let cr = custom_resource();
    let history = cr["condition_history"].as_array().expect("history");
    let time = |kind: &str, status: &str| -> String {
        history
            .iter()
            .find(|h| h["type"] == kind && h["status"] == status)
            .and_then(|h| h["time"].as_str())
            .unwrap_or_else(|| panic!("no {kind}={status} in the history"))
            .to_string()
    };
    let reconciling: jiff::Timestamp = time("Reconciling", "True").parse().expect("a time");
    let stalled: jiff::Timestamp = time("Stalled", "True").parse().expect("a time");
    assert!(reconciling < stalled);
    let between = reconciling + reconciling.duration_until(stalled) / 2;
    let report = cluster_report(&["--at", &between.to_string()]);
    assert_eq!(report["verdict"], "in-progress");
    assert!(
        report["kstatus_reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("Progressing")),
        "{report}"
    );
    let before = reconciling - jiff::SignedDuration::from_secs(30);
    let report = cluster_report(&["--at", &before.to_string()]);
    assert_eq!(report["verdict"], "current");
    assert_eq!(report["generation"], 1);
    // Nothing in the trace changed its spec yet.
    assert_eq!(report["spec_change"], Value::Null);
    // Ready=True is first seen at the resource's first record: it may be older than that.
    let warns = |report: &Value, text: &str| {
        report["warnings"].as_array().is_some_and(|w| {
            w.iter()
                .any(|w| w.as_str().is_some_and(|w| w.contains(text)))
        })
    };
    assert!(
        warns(&report, "Ready=True first seen at its first record"),
        "{report}"
    );
    // At the end every condition was first seen at a later record: no such warning.
    let end = cluster_report(&[]);
    assert!(!warns(&end, "existed before the trace began"), "{end}");
}

/// The text answer on the resource, reviewed.
#[test]
fn the_postgrescluster_text_report_is_a_reviewed_snapshot() {
    let cr = custom_resource();
    let object = format!(
        "postgrescluster.postgres-operator.crunchydata.com/{}",
        cr["name"].as_str().expect("a name")
    );
    let out = kblame(&["analyze", &trace(FIXTURE), "--object", &object]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    insta::assert_snapshot!("operator-postgres-postgrescluster", text);
}
