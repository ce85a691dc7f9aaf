//! `kblame get`: what existed at a moment, in kubectl's columns, on the real binary.

use serde_json::Value;

use super::support::{fixture, kblame, stderr, stdout};

fn trace(scenario: &str) -> String {
    fixture(&format!("{scenario}.ndjson.zst"))
        .display()
        .to_string()
}

fn get(scenario: &str, args: &[&str]) -> String {
    let trace = trace(scenario);
    let mut all = vec!["get", trace.as_str()];
    all.extend_from_slice(args);
    let out = kblame(&all);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

fn get_json(scenario: &str, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend_from_slice(&["-o", "json"]);
    serde_json::from_str(&get(scenario, &all)).expect("JSON")
}

#[test]
fn every_kind_at_the_end_reads_like_kubectl_get_all() {
    insta::assert_snapshot!("get-all-seed-demo", get("seed-demo", &[]));
}

#[test]
fn pods_show_kubectl_status_reasons_restarts_and_their_revision() {
    let text = get("seed-demo", &["pods", "-o", "wide"]);
    insta::assert_snapshot!("get-pods-wide-seed-demo", text);
    let crashing = text
        .lines()
        .find(|l| l.starts_with("web-7cd8774fb8-znhz4"))
        .expect("the crashing pod");
    let cells: Vec<&str> = crashing
        .split("   ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        &cells[..6],
        [
            "web-7cd8774fb8-znhz4",
            "0/1",
            "CrashLoopBackOff",
            "7 (2m7s ago)",
            "12m",
            "2"
        ]
    );
}

#[test]
fn kubectl_names_of_kinds_all_work() {
    let want = get("seed-demo", &["deployments"]);
    for word in [
        "deploy",
        "deployment",
        "Deployment",
        "deployments.apps",
        "deployment.v1.apps",
    ] {
        assert_eq!(get("seed-demo", &[word]), want, "{word}");
    }
    assert!(want.starts_with("NAME   READY   UP-TO-DATE   AVAILABLE   AGE   REVISION\nweb    3/3     1            3           54m   2\n"), "{want}");
    let both = get("seed-demo", &["deploy,rs"]);
    assert!(
        both.contains("deployment.apps/web") && both.contains("replicaset.apps/web-7cd8774fb8"),
        "{both}"
    );
}

#[test]
fn at_a_moment_before_the_change_only_revision_1_existed() {
    let report = get_json("seed-demo", &["rs", "--at", "+1m"]);
    assert_eq!(report["at"], "2026-11-26T16:01:00.004Z");
    let rows = report["tables"][0]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["name"], "web-6748484658");
    assert_eq!(rows[0]["revision"], 1);
    assert_eq!(rows[0]["cells"]["READY"], "3");
    assert!(rows[0]["line"].as_u64().unwrap() > 0);
    assert!(rows[0]["object"]["metadata"].get("managedFields").is_none());
    assert_eq!(rows[0]["object"]["kind"], "ReplicaSet");
}

#[test]
fn deleted_objects_show_only_when_asked_and_say_when() {
    let alive = get_json("delete-recreate", &["deploy"]);
    assert_eq!(alive["tables"][0]["rows"].as_array().unwrap().len(), 1);
    let text = get("delete-recreate", &["deploy", "--deleted"]);
    insta::assert_snapshot!("get-deleted-delete-recreate", text);
    assert!(text.lines().next().unwrap().ends_with("DELETED"), "{text}");
    // Deleted while the watch was down: only the re-list shows it, so the time is a bound.
    let gap = get("watch-gap", &["pods", "--deleted"]);
    assert!(gap.contains("before 15:31:50 (re-list)"), "{gap}");
}

#[test]
fn namespaces_filter_and_label() {
    let all = get("seed-demo", &["deploy", "-A"]);
    assert!(all.starts_with("NAMESPACE   NAME"), "{all}");
    let shop = get("seed-demo", &["deploy", "-n", "shop"]);
    assert!(shop.starts_with("NAME "), "{shop}");
    let elsewhere = get("seed-demo", &["deploy", "-n", "nowhere"]);
    assert_eq!(
        elsewhere,
        "No resources found in namespace nowhere at 2026-11-26T16:15:00.01Z.\n"
    );
}

#[test]
fn events_and_hpas_use_their_own_columns() {
    let events = get("seed-demo", &["events"]);
    assert!(events.starts_with("LAST SEEN   TYPE"), "{events}");
    let hpa = get("hpa-scale-up", &["hpa"]);
    assert!(
        hpa.starts_with("NAME          REFERENCE                TARGETS"),
        "{hpa}"
    );
    assert!(hpa.contains("cpu: 70%/70%"), "{hpa}");
}

#[test]
fn a_kind_the_trace_did_not_record_is_unknown_not_none() {
    let text = get("seed-demo", &["statefulsets"]);
    assert!(text.starts_with("No resources found"), "{text}");
    assert!(
        text.contains("the trace did not record StatefulSets") && text.contains("unknown"),
        "{text}"
    );
}

#[test]
fn bad_kinds_and_times_are_clear_errors() {
    let out = kblame(&["get", &trace("seed-demo"), "gizmos"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("\"gizmos\" is not a kind kubectl knows or the trace holds (it holds: Deployment, Event, Pod, ReplicaSet)"),
        "{}",
        stderr(&out)
    );
    let out = kblame(&["get", &trace("seed-demo"), "pods", "--at", "+2h"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("outside the trace"),
        "{}",
        stderr(&out)
    );
    let out = kblame(&["get", &trace("seed-demo"), "-n", "shop", "-A"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_answer_is_the_same_through_the_index_and_read_whole_from_stdin() {
    let through_index = get("seed-demo", &["-o", "json"]);
    let bytes = std::fs::read(fixture("seed-demo.ndjson.zst")).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kblame"))
        .args(["get", "-", "-o", "json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let whole: Value = serde_json::from_slice(&out.stdout).unwrap();
    let indexed: Value = serde_json::from_str(&through_index).unwrap();
    assert_eq!(whole["tables"], indexed["tables"]);
}
