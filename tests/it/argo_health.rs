//! kblame's verdicts against Argo CD's health labels (issue 11): every gitops-engine health
//! test object (`../shared/reference/gitops-engine/pkg/health/testdata`) of kind Deployment,
//! StatefulSet, DaemonSet or Job, and every custom resource there, is made a one-record trace
//! and judged by the real binary (`analyze TRACE --object KIND/NAME -o json`). Its Argo CD
//! label is read from `../shared/reference/INDEX.md` ("GROUND TRUTH health = …"), never
//! written here. Each object's row in [`TABLE`] either agrees (Argo's label maps to kblame's
//! verdict by [`argo_equivalent`]) or names the disagreement and why; a row that claims a
//! disagreement where the two in fact agree fails, as does an object without a row.
//!
//! Rules compared: kblame — `kubectl rollout status` (`polymorphichelpers/rollout_status.go`)
//! for Deployments, StatefulSets and DaemonSets, the Job controller's terminal conditions
//! (`pkg/controller/job/util/utils.go` `IsJobFinished`) for Jobs, kstatus's generic rules
//! (cli-utils `pkg/kstatus/status/generic.go`) for custom resources; Argo CD — gitops-engine
//! `pkg/health/health_{deployment,statefulset,daemonset,job}.go` and `health.go`
//! `GetResourceHealth` (nil for a kind it has no check for).
//!
//! Pods are left out: Argo CD judges a Pod (`health_pod.go`: Healthy, Progressing, Degraded
//! from phase, restart policy and waiting reasons), while `analyze --pod` reports its phase,
//! containers and restarts without a verdict, so there is nothing to compare.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use kblame::trace::EventType;
use serde_json::{json, Value};

use super::support::{kblame, stderr, write_trace};

/// What the table says about one object.
enum Judged {
    /// Argo CD's label maps to kblame's verdict.
    Agrees,
    /// kblame's verdict is not Argo CD's, and why.
    Disagrees(&'static str),
}

/// One labelled object: its file, kblame's verdict, a JSON field of kblame's report with its
/// expected text (the reason the verdict rests on), and whether Argo CD agrees.
struct Row {
    file: &'static str,
    verdict: &'static str,
    field: (&'static str, &'static str),
    judged: Judged,
}

const TABLE: &[Row] = &[
    Row {
        file: "deployment-degraded.yaml",
        verdict: "failed",
        field: (
            "/status_message",
            "ProgressDeadlineExceeded: ReplicaSet \"guestbook-ui-75dd4d49d5\" has timed out progressing.",
        ),
        judged: Judged::Agrees,
    },
    Row {
        file: "deployment-progressing.yaml",
        verdict: "progressing",
        field: ("/status_message", "1 old replicas are pending termination"),
        judged: Judged::Agrees,
    },
    Row {
        file: "deployment-suspended.yaml",
        verdict: "paused",
        field: ("/status_message", "the deployment is paused"),
        judged: Judged::Agrees,
    },
    Row {
        file: "statefulset.yaml",
        verdict: "unknown",
        field: (
            "/status_message",
            "rollout status is only available for RollingUpdate strategy type (this is OnDelete)",
        ),
        judged: Judged::Disagrees(
            "an OnDelete StatefulSet too (spec.updateStrategy.type: OnDelete): Argo CD calls it \
             Healthy with its pods ready; kubectl rollout status gives no answer for OnDelete, \
             so kblame says unknown",
        ),
    },
    Row {
        file: "statefulset-ondelete.yaml",
        verdict: "unknown",
        field: (
            "/status_message",
            "rollout status is only available for RollingUpdate strategy type (this is OnDelete)",
        ),
        judged: Judged::Disagrees(
            "Argo CD calls an OnDelete StatefulSet with its pods ready Healthy; kubectl rollout \
             status gives no answer for OnDelete (StatefulSetStatusViewer returns an error), \
             so kblame says unknown",
        ),
    },
    Row {
        file: "daemonset-ondelete.yaml",
        verdict: "unknown",
        field: (
            "/status_message",
            "rollout status is only available for RollingUpdate strategy type (this is OnDelete)",
        ),
        judged: Judged::Disagrees(
            "Argo CD calls an observed OnDelete DaemonSet Healthy whatever its counts; kubectl \
             rollout status gives no answer for OnDelete (DaemonSetStatusViewer returns an \
             error), so kblame says unknown",
        ),
    },
    Row {
        file: "job-failed.yaml",
        verdict: "failed",
        field: ("/reason", "BackoffLimitExceeded"),
        judged: Judged::Agrees,
    },
    Row {
        file: "job-running.yaml",
        verdict: "progressing",
        field: ("/failed_pods", "0"),
        judged: Judged::Agrees,
    },
    Row {
        file: "job-succeeded.yaml",
        verdict: "complete",
        field: ("/failed_pods", "0"),
        judged: Judged::Agrees,
    },
    Row {
        file: "job-suspended.yaml",
        verdict: "suspended",
        field: ("/reason", "JobSuspended"),
        judged: Judged::Agrees,
    },
    Row {
        file: "application-degraded.yaml",
        verdict: "current",
        field: ("/kstatus_reason", "Resource is current"),
        judged: Judged::Disagrees(
            "gitops-engine has no health check for argoproj.io Application (health nil); \
             kstatus's generic rules read only conditions and observedGeneration, not \
             status.health, and this record has neither, so it is Current",
        ),
    },
    Row {
        file: "application-healthy.yaml",
        verdict: "current",
        field: ("/kstatus_reason", "Resource is current"),
        judged: Judged::Disagrees(
            "gitops-engine has no health check for argoproj.io Application (health nil); \
             kstatus's generic rules find no conditions and no observedGeneration: Current",
        ),
    },
    Row {
        file: "knative-service.yaml",
        verdict: "current",
        field: ("/kstatus_reason", "Resource is current"),
        judged: Judged::Disagrees(
            "gitops-engine has no generic rule for a custom resource (health nil without a Lua \
             customisation); kstatus's generic rules find no conditions and no \
             observedGeneration: Current",
        ),
    },
];

/// The verdict kblame gives for the state an Argo CD label names, for a report of `kind`
/// (`None`: no verdict of kblame's means it, e.g. a nil health).
fn argo_equivalent(kind: &str, label: &str) -> Option<&'static str> {
    let custom = !matches!(kind, "Deployment" | "StatefulSet" | "DaemonSet" | "Job");
    match (label, custom) {
        (_, true) => None,
        ("Healthy", false) => Some("complete"),
        ("Progressing", false) => Some("progressing"),
        ("Degraded", false) => Some("failed"),
        ("Suspended", false) if kind == "Deployment" => Some("paused"),
        ("Suspended", false) if kind == "Job" => Some("suspended"),
        _ => None,
    }
}

/// The health test data directory and INDEX.md's text, or `None` (with a notice) without them.
fn reference() -> Option<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference");
    let dir = root.join("gitops-engine/pkg/health/testdata");
    match (dir.is_dir(), std::fs::read_to_string(root.join("INDEX.md"))) {
        (true, Ok(index)) => Some((dir, index)),
        _ => {
            println!("skipped: ../shared/reference is absent");
            None
        }
    }
}

/// Argo CD's label of a health test file, from its INDEX.md line (`nil` for no health).
fn argo_label(index: &str, file: &str) -> String {
    let entry = format!("`gitops-engine/pkg/health/testdata/{file}`");
    let line = index
        .lines()
        .find(|l| l.contains(&entry))
        .unwrap_or_else(|| panic!("INDEX.md lists {file}"));
    let (_, label) = line
        .split_once("GROUND TRUTH health = ")
        .unwrap_or_else(|| panic!("INDEX.md gives {file} a health label: {line}"));
    label
        .split_whitespace()
        .next()
        .unwrap_or_else(|| panic!("an empty label for {file}"))
        .to_string()
}

/// Whether an apiVersion's group is a custom resource's (dotted, not Kubernetes' own).
fn custom_group(api_version: &str) -> Option<&str> {
    let (group, _) = api_version.split_once('/')?;
    (group.contains('.') && !group.ends_with(".k8s.io")).then_some(group)
}

/// The test files judged here: Deployments, StatefulSets, DaemonSets, Jobs and custom
/// resources, by file name.
fn judged_objects(dir: &Path) -> Vec<(String, Value)> {
    let mut found: Vec<(String, Value)> = std::fs::read_dir(dir)
        .expect("the health test data directory reads")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).expect("a test file reads");
            let value: Value = yaml_serde::from_str(&text).expect("a YAML object");
            let kind = value["kind"].as_str().unwrap_or_default();
            let api_version = value["apiVersion"].as_str().unwrap_or_default();
            let judged = custom_group(api_version).is_some()
                || matches!(
                    (api_version, kind),
                    ("apps/v1", "Deployment" | "StatefulSet" | "DaemonSet") | ("batch/v1", "Job")
                );
            let name = path.file_name()?.to_string_lossy().into_owned();
            judged.then_some((name, value))
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

/// kblame's JSON report on `object` as the one record of a trace.
fn judge(file: &str, mut object: Value) -> Value {
    // A recorded object has a name, a namespace and a UID; some test objects lack them.
    let stem = file.trim_end_matches(".yaml");
    let metadata = &mut object["metadata"];
    if metadata["name"].is_null() {
        metadata["name"] = json!(stem);
    }
    if metadata["namespace"].is_null() {
        metadata["namespace"] = json!("default");
    }
    if metadata["uid"].is_null() {
        metadata["uid"] = json!(format!("uid-{stem}"));
    }
    let kind = object["kind"].as_str().expect("a kind").to_lowercase();
    let name = object["metadata"]["name"].as_str().expect("a name");
    let target = match custom_group(object["apiVersion"].as_str().expect("an apiVersion")) {
        Some(group) => format!("{kind}.{group}/{name}"),
        None => format!("{kind}/{name}"),
    };
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("t.ndjson");
    write_trace(&path, &[(0, EventType::Listed, object)], true, false);
    let out = kblame(&[
        "analyze",
        path.to_str().expect("a UTF-8 path"),
        "--object",
        &target,
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{file}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

#[test]
fn kblame_and_argo_cd_agree_on_the_labelled_objects_or_the_table_says_why_not() {
    let Some((dir, index)) = reference() else {
        return;
    };
    let objects = judged_objects(&dir);
    let readme = readme();
    let files: BTreeSet<&str> = objects.iter().map(|(f, _)| f.as_str()).collect();
    let rows: BTreeSet<&str> = TABLE.iter().map(|r| r.file).collect();
    assert_eq!(
        files, rows,
        "every judged test object has one row, and no more"
    );
    for (file, object) in objects {
        let row = TABLE.iter().find(|r| r.file == file).expect("a row");
        let label = argo_label(&index, &file);
        let kind = object["kind"].as_str().expect("a kind").to_string();
        let kind = match custom_group(object["apiVersion"].as_str().unwrap_or_default()) {
            Some(_) => format!("{kind} (custom)"),
            None => kind,
        };
        let report = judge(&file, object);
        assert_eq!(report["verdict"], row.verdict, "{file}: {report}");
        let (pointer, text) = row.field;
        let found = report.pointer(pointer).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        assert_eq!(found.as_deref(), Some(text), "{file} {pointer}: {report}");
        let shown = if label == "nil" {
            "none"
        } else {
            label.as_str()
        };
        assert_eq!(
            readme_row(&readme, &file)[1],
            shown,
            "{file}: README's Argo CD health"
        );
        let equivalent = argo_equivalent(&kind, &label);
        match row.judged {
            Judged::Agrees => assert_eq!(
                equivalent,
                Some(row.verdict),
                "{file}: Argo CD says {label}, kblame {}",
                row.verdict
            ),
            Judged::Disagrees(why) => {
                assert!(!why.is_empty());
                assert_ne!(
                    equivalent,
                    Some(row.verdict),
                    "{file}: listed as a disagreement, but Argo CD's {label} is kblame's {}",
                    row.verdict
                );
            }
        }
    }
}

#[test]
fn the_argo_cd_labels_are_read_from_the_index() {
    let Some((_, index)) = reference() else {
        return;
    };
    assert_eq!(argo_label(&index, "statefulset-ondelete.yaml"), "Healthy");
    assert_eq!(argo_label(&index, "deployment-suspended.yaml"), "Suspended");
    assert_eq!(argo_label(&index, "knative-service.yaml"), "nil");
}

/// The cells of the README table's row for `file` (under "Where kblame and Argo CD
/// disagree"): object, Argo CD health, kblame verdict, agree/disagree, why.
fn readme_row(readme: &str, file: &str) -> Vec<String> {
    let entry = format!("`{file}`");
    let line = readme
        .lines()
        .find(|l| l.starts_with('|') && l.contains(&entry))
        .unwrap_or_else(|| panic!("the README table has a row for {file}"));
    line.trim_matches('|')
        .split('|')
        .map(|c| c.trim().to_string())
        .collect()
}

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md")
}

/// The README's table says what [`TABLE`] proves: each object's row gives kblame's verdict
/// and whether Argo CD agrees (its Argo CD column is checked against INDEX.md by
/// `kblame_and_argo_cd_agree_on_the_labelled_objects_or_the_table_says_why_not`).
#[test]
fn the_readme_table_matches_the_tested_verdicts() {
    let readme = readme();
    for row in TABLE {
        let cells = readme_row(&readme, row.file);
        assert!(
            cells[2].starts_with(&format!("`{}`", row.verdict)),
            "README row of {}: {cells:?}",
            row.file
        );
        let agreement = match row.judged {
            Judged::Agrees => "agree",
            Judged::Disagrees(_) => "disagree",
        };
        assert_eq!(cells[3], agreement, "README row of {}: {cells:?}", row.file);
    }
}
