//! Audit logs answering questions (issue 13): `--audit` on a watch trace names the user of
//! each change (two users with the same field manager told apart), a trace imported from the
//! audit log alone answers the pod questions like the watch trace of the same history, and a
//! `kubectl diff` (a dry-run PATCH) is not a change — all against the simulator's ground truth.

use serde_json::Value;

use super::scenarios::truth;
use super::support::{fixture, kblame, stderr};

const SCENARIO: &str = "audit-rollout-rollback";

fn json(args: &[&str]) -> Value {
    let out = kblame(args);
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "{args:?}: {}",
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

/// The revision changes' users the truth names, by revision number.
fn truth_users() -> Vec<(i64, String, String)> {
    let truth = truth(SCENARIO);
    truth["deployments"][0]["revisions"]
        .as_array()
        .expect("revisions")
        .iter()
        .filter_map(|r| {
            let change = r["change"].as_object()?;
            Some((
                r["number"].as_i64()?,
                change["user"].as_str()?.to_string(),
                change["manager"].as_str()?.to_string(),
            ))
        })
        .collect()
}

/// For each pod of the truth: its revision's change's user, manager and time as `trace`
/// (with `extra` arguments) answers them.
fn revision_changes(trace: &str, extra: &[&str]) -> Vec<(String, Option<i64>, Value)> {
    let truth = truth(SCENARIO);
    truth["pods"]
        .as_array()
        .expect("pods")
        .iter()
        .map(|pod| {
            let name = pod["name"].as_str().expect("name");
            let mut args = vec!["analyze", trace, "--pod", name, "-o", "json"];
            args.extend(extra);
            let report = json(&args);
            (
                name.to_string(),
                report["revision"]["number"].as_i64(),
                report["revision"]["change"].clone(),
            )
        })
        .collect()
}

#[test]
fn the_audit_log_names_the_user_of_each_change_even_with_the_same_manager() {
    let trace = fixture(&format!("{SCENARIO}.ndjson.zst"))
        .display()
        .to_string();
    let log = fixture(&format!("{SCENARIO}.audit.jsonl.gz"))
        .display()
        .to_string();
    let users = truth_users();
    assert!(users.len() >= 3, "{users:?}");
    // Two people, one field manager: only the audit log tells them apart.
    let same_manager: Vec<_> = users
        .iter()
        .filter(|(_, _, m)| m == "kubectl-client-side-apply")
        .collect();
    assert!(same_manager.iter().any(|(_, u, _)| u.starts_with("alice")));
    assert!(same_manager.iter().any(|(_, u, _)| u.starts_with("bob")));
    let mut checked = 0;
    for (pod, number, change) in revision_changes(&trace, &["--audit", &log]) {
        let Some((_, user, manager)) = users.iter().find(|(n, _, _)| Some(*n) == number) else {
            continue;
        };
        assert_eq!(change["user"], user.as_str(), "{pod} revision {number:?}");
        assert_eq!(change["manager"], manager.as_str(), "{pod}");
        assert!(change["audit_id"].is_string(), "{pod}");
        assert!(change["user_agent"].is_string(), "{pod}");
        checked += 1;
    }
    assert!(checked >= 5, "{checked}");
    // Without the log, nobody is named.
    for (pod, _, change) in revision_changes(&trace, &[]) {
        if change.is_object() {
            assert!(change["user"].is_null(), "{pod}");
            assert!(change["audit_id"].is_null(), "{pod}");
        }
    }
}

#[test]
fn a_trace_imported_from_the_audit_log_alone_answers_like_the_watch_trace() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let imported = dir.path().join("from-audit.ndjson.zst");
    let imported = imported.display().to_string();
    let log = fixture(&format!("{SCENARIO}.audit.jsonl.gz"))
        .display()
        .to_string();
    let out = kblame(&["import", "audit", &log, "-o", &imported]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let watch = fixture(&format!("{SCENARIO}.ndjson.zst"))
        .display()
        .to_string();
    let users = truth_users();
    let from_watch = revision_changes(&watch, &[]);
    let from_audit = revision_changes(&imported, &[]);
    for ((pod, number, watched), (_, audit_number, audited)) in from_watch.iter().zip(&from_audit) {
        assert_eq!(number, audit_number, "{pod}: the same revision");
        if !watched.is_object() {
            continue;
        }
        assert_eq!(audited["manager"], watched["manager"], "{pod}");
        assert_eq!(audited["fields"], watched["fields"], "{pod}");
        // The audit log alone: the change is dated by the request's stageTimestamp, which the
        // watch saw moments later, and names its user.
        let at = |c: &Value| {
            c["time"]
                .as_str()
                .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                .expect("a time")
        };
        let lag = at(watched).duration_since(at(audited));
        assert!(
            lag >= jiff::SignedDuration::ZERO && lag < jiff::SignedDuration::from_secs(1),
            "{pod}: {lag:?}"
        );
        if let Some((_, user, _)) = users.iter().find(|(n, _, _)| Some(*n) == *number) {
            assert_eq!(audited["user"], user.as_str(), "{pod}");
        }
    }
    // The dry-run `kubectl diff` made no revision: four revisions, as the watch saw.
    let history = |trace: &str| -> Vec<i64> {
        let report = json(&[
            "analyze",
            trace,
            "--object",
            "deployment/frontend",
            "-o",
            "json",
        ]);
        let mut numbers: Vec<i64> = report["revisions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["number"].as_i64())
            .collect();
        numbers.sort_unstable();
        numbers
    };
    assert_eq!(history(&imported), history(&watch));
    assert_eq!(history(&imported).last(), Some(&4));
}

#[test]
fn a_metadata_level_log_still_names_who_and_when() {
    let trace = fixture(&format!("{SCENARIO}.ndjson.zst"))
        .display()
        .to_string();
    let log = fixture(&format!("{SCENARIO}.metadata.audit.jsonl"))
        .display()
        .to_string();
    let users = truth_users();
    let mut named = 0;
    for (pod, number, change) in revision_changes(&trace, &["--audit", &log]) {
        let Some((_, user, _)) = users.iter().find(|(n, _, _)| Some(*n) == number) else {
            continue;
        };
        // Matched by object and time (no bodies at this level): the right user, or none.
        if !change["user"].is_null() {
            assert_eq!(change["user"], user.as_str(), "{pod}");
            named += 1;
        }
    }
    assert!(named >= 3, "{named}");
}

#[test]
fn blame_and_timeline_show_the_user_beside_the_manager() {
    let trace = fixture(&format!("{SCENARIO}.ndjson.zst"))
        .display()
        .to_string();
    let log = fixture(&format!("{SCENARIO}.audit.jsonl.gz"))
        .display()
        .to_string();
    let path = "spec.template.spec.containers[name=frontend].image";
    let out = kblame(&[
        "blame",
        &trace,
        "deployment/frontend",
        "--history",
        path,
        "--audit",
        &log,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    for (_, user, manager) in truth_users() {
        assert!(text.contains(&format!("{user} with {manager}")), "{text}");
    }
    let out = kblame(&[
        "timeline",
        &trace,
        "--object",
        "deployment/frontend",
        "--audit",
        &log,
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("revision 3 by kubectl-client-side-apply (Update), user bob@example.com"),
        "{text}"
    );
    // Without the log: managers only.
    let out = kblame(&["timeline", &trace, "--object", "deployment/frontend"]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("user "));
}
