//! `get`, `tree`, `blame`, `diff` and `timeline` for every workload kind (issue 11, item 6): the
//! real binary on the simulator's fixtures, checked against their ground truth.

use std::collections::HashMap;

use serde_json::Value;

use super::support::{fixture, kblame, stderr, stdout};

/// Runs `kblame ARGS -o json` (exit 0) and parses the report.
fn json(args: &[&str]) -> Value {
    let out = kblame(&[args, &["-o", "json"]].concat());
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

fn trace(name: &str) -> String {
    fixture(&format!("{name}.ndjson.zst"))
        .to_str()
        .expect("a UTF-8 path")
        .to_string()
}

/// The ground truth of a fixture.
fn truth(name: &str) -> Value {
    let path = fixture(&format!("{name}.expect.json"));
    let text = std::fs::read_to_string(&path).expect("the truth file");
    serde_json::from_str(&text).expect("truth JSON")
}

/// Each truth pod's revision, by UID.
fn truth_revisions(name: &str) -> HashMap<String, i64> {
    truth(name)["pods"]
        .as_array()
        .expect("pods in the truth")
        .iter()
        .filter_map(|p| Some((p["uid"].as_str()?.to_string(), p["revision"].as_i64()?)))
        .collect()
}

#[test]
fn get_shows_each_statefulset_and_daemonset_pods_revision_as_the_truth_has_it() {
    for name in [
        "sts-rolling-update",
        "sts-stuck-ordinal",
        "ds-rolling-update",
    ] {
        let want = truth_revisions(name);
        let trace = trace(name);
        // At the end, and with the pods already replaced listed too.
        for extra in [&[][..], &["--deleted"][..]] {
            let report = json(&[&["get", &trace, "pods"][..], extra].concat());
            let rows = report["tables"][0]["rows"].as_array().expect("pod rows");
            assert!(!rows.is_empty(), "{name}: no pods");
            for row in rows {
                let uid = row["uid"].as_str().expect("a UID");
                assert_eq!(
                    row["revision"].as_i64(),
                    want.get(uid).copied(),
                    "{name}: pod {} ({uid})",
                    row["name"]
                );
            }
        }
    }
}

#[test]
fn get_pods_loads_what_tells_their_revisions() {
    // `get pods` alone must read the StatefulSet and its ControllerRevisions, not show them.
    let out = kblame(&["get", &trace("sts-rolling-update"), "pods"]);
    let text = stdout(&out);
    assert!(text.starts_with("NAME      READY   STATUS"), "{text}");
    assert!(!text.contains("<unknown>"), "{text}");
    assert!(!text.contains("controllerrevision"), "{text}");
}

#[test]
fn diff_by_revision_number_works_for_statefulsets_and_daemonsets() {
    for (name, object, image) in [
        (
            "sts-rolling-update",
            "sts/redis",
            ("redis:7.2.4", "redis:7.2.5"),
        ),
        (
            "ds-rolling-update",
            "ds/node-exporter",
            ("prom/node-exporter:v1.8.1", "prom/node-exporter:v1.8.2"),
        ),
    ] {
        let report = json(&["diff", &trace(name), object, "--from", "1", "--to", "2"]);
        assert_eq!(report["from"]["revision"], 1, "{name}");
        assert_eq!(report["to"]["revision"], 2, "{name}");
        let image_change = report["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .find(|f| {
                f["path"].as_str().is_some_and(|p| {
                    p.starts_with("spec.template.spec.containers[") && p.ends_with("].image")
                })
            })
            .unwrap_or_else(|| panic!("{name}: no image change in {report}"));
        assert_eq!(image_change["from"], image.0, "{name}");
        assert_eq!(image_change["to"], image.1, "{name}");
        // Revision 2 was made in the trace: its side is the record of the change, the one the
        // truth's pods of revision 2 name as their change.
        let notes = report["notes"].as_array().expect("notes");
        assert!(
            notes.iter().any(|n| n.as_str().is_some_and(
                |n| n.starts_with("--from 1: revision 1 was made before the trace began")
            )),
            "{name}: {notes:?}"
        );
    }
}

#[test]
fn diff_names_a_revision_the_workload_never_had_and_refuses_numbers_for_cronjobs() {
    let out = kblame(&[
        "diff",
        &trace("sts-rolling-update"),
        "sts/redis",
        "--from",
        "7",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("has no revision 7 in the trace (revisions seen: 1, 2)"),
        "{}",
        stderr(&out)
    );
    let out = kblame(&[
        "diff",
        &trace("cronjob-template-break"),
        "cj/invoice-export",
        "--from",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("revision numbers only apply to workloads that number revisions"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn blame_numbers_statefulset_and_daemonset_lines_by_revision() {
    for (name, object, image_line, label_line) in [
        (
            "sts-rolling-update",
            "sts/redis",
            "image: redis:7.2.5",
            "app: redis",
        ),
        (
            "ds-rolling-update",
            "ds/node-exporter",
            "image: prom/node-exporter:v1.8.2",
            "app: node-exporter",
        ),
    ] {
        // JSON is the list of lines.
        let report = json(&["blame", &trace(name), object]);
        let lines = report.as_array().expect("lines");
        let line = |text: &str| {
            lines
                .iter()
                .find(|l| l["text"].as_str().is_some_and(|t| t.trim() == text))
                .unwrap_or_else(|| panic!("{name}: no line {text}"))
        };
        let image = line(image_line);
        assert_eq!(image["revision"], 2, "{name}");
        assert_eq!(image["manager"], "kubectl-client-side-apply", "{name}");
        // Set before the trace, with revision 1.
        assert_eq!(line(label_line)["revision"], 1, "{name}");
        let text = stdout(&kblame(&["blame", &trace(name), object]));
        assert!(text.contains("rev 2"), "{name}: {text}");
        assert!(!text.contains("gen "), "{name}: {text}");
    }
    // Kinds without revisions keep generations.
    let text = stdout(&kblame(&[
        "blame",
        &trace("cronjob-template-break"),
        "cj/invoice-export",
    ]));
    assert!(text.contains("gen 2"), "{text}");
    assert!(!text.contains("rev "), "{text}");
}

#[test]
fn timeline_tells_the_revision_each_workload_change_made() {
    let report = json(&[
        "timeline",
        &trace("sts-rolling-update"),
        "--object",
        "sts/redis",
    ]);
    let summaries: Vec<&str> = report["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["kind"] == "spec-change")
        .filter_map(|e| e["summary"].as_str())
        .collect();
    assert!(
        summaries.contains(&"revision 2 by kubectl-client-side-apply (Update)"),
        "{summaries:?}"
    );
    assert!(
        summaries
            .iter()
            .any(|s| s.starts_with("created (revision 1) by kubectl-client-side-apply")),
        "{summaries:?}"
    );
    // The ControllerRevision made for it says which revision it holds.
    assert!(summaries.contains(&"created (revision 2)"), "{summaries:?}");
}

#[test]
fn timeline_shows_a_jobs_terminal_condition_as_a_failure() {
    let report = json(&["timeline", &trace("cronjob-template-break")]);
    let entries = report["entries"].as_array().expect("entries");
    let failed: Vec<&Value> = entries
        .iter()
        .filter(|e| e["kind"] == "condition")
        .filter(|e| {
            e["summary"]
                .as_str()
                .is_some_and(|s| s.starts_with("Failed=True BackoffLimitExceeded"))
        })
        .collect();
    // Every Job the truth says failed.
    let truth = truth("cronjob-template-break");
    let failed_jobs: Vec<&str> = truth["jobs"]
        .as_array()
        .expect("jobs in the truth")
        .iter()
        .filter(|j| j["outcome"] == "failed")
        .filter_map(|j| j["name"].as_str())
        .collect();
    assert!(!failed_jobs.is_empty(), "{truth}");
    for job in &failed_jobs {
        let entry = failed
            .iter()
            .find(|e| e["object"]["name"] == *job)
            .unwrap_or_else(|| panic!("no Failed=True entry for {job}"));
        assert_eq!(entry["severity"], "failure");
    }
    // FailureTarget alone is not terminal: shown, but not as a failure.
    assert!(entries
        .iter()
        .filter(|e| e["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with("FailureTarget=True")))
        .all(|e| e["severity"] != "failure"));
}

#[test]
fn tree_tells_each_kinds_status_in_its_own_terms() {
    let text = stdout(&kblame(&[
        "tree",
        &trace("cronjob-template-break"),
        "cj/invoice-export",
    ]));
    assert!(
        text.contains("CronJob/invoice-export                 schedule */5 * * * *"),
        "{text}"
    );
    assert!(
        text.contains("failed (BackoffLimitExceeded), 0/1 succeeded, 3 failed"),
        "{text}"
    );
    assert!(text.contains("complete, 1/1 succeeded"), "{text}");

    let text = stdout(&kblame(&[
        "tree",
        &trace("sts-stuck-ordinal"),
        "sts/postgres",
    ]));
    assert!(
        text.contains("2/3 ready, updating 1/3 to postgres-"),
        "{text}"
    );
    assert!(text.contains("rev 1"), "{text}");
    assert!(text.contains("rev 2"), "{text}");

    let text = stdout(&kblame(&[
        "tree",
        &trace("ds-rolling-update"),
        "ds/node-exporter",
        "--at",
        "08:10:30",
    ]));
    assert!(
        text.contains("DaemonSet/node-exporter                        2/3 ready"),
        "{text}"
    );
}

#[test]
fn an_operators_statefulset_and_its_pods_name_the_resource_above_them() {
    let trace = trace("operator-postgres");
    let truth = truth("operator-postgres");
    let cluster = &truth["custom_resources"][0];
    let cluster_name = cluster["name"].as_str().expect("the cluster's name");
    let pod = truth["pods"]
        .as_array()
        .and_then(|pods| pods.last())
        .expect("a pod in the truth");
    let sts = pod["lineage"][0]["name"].as_str().expect("the StatefulSet");
    let report = json(&["analyze", &trace, "--object", &format!("sts/{sts}")]);
    assert_eq!(report["controlled_by"]["kind"], "PostgresCluster");
    assert_eq!(report["controlled_by"]["name"], cluster_name);
    let text = stdout(&kblame(&[
        "analyze",
        &trace,
        "--pod",
        pod["name"].as_str().expect("a pod name"),
    ]));
    let headline = text.lines().next().unwrap_or("");
    assert!(
        headline.ends_with(&format!("← postgrescluster {cluster_name}")),
        "{headline}"
    );
}
