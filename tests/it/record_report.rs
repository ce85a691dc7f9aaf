//! `kblame record --report FORMAT[:FILE] -- COMMAND` against the loopback API server: when the
//! command fails, the closed trace's report is written as `kblame report` writes it, and kblame
//! still exits with the command's code (issue 14, item 5).
#![cfg(feature = "record")]

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::apiserver::ApiServer;
use super::record::record_once;
use super::support::{kblame, stderr, stdout};

/// A Deployment whose rollout has given up: its report verdict is `failed`.
fn stuck_deployment() -> Value {
    json!({"metadata": {"name": "web", "namespace": "shop"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "web:2"}]}}},
        "status": {"observedGeneration": 1, "replicas": 1, "unavailableReplicas": 1,
            "conditions": [{"type": "Progressing", "status": "False",
                "reason": "ProgressDeadlineExceeded",
                "message": "ReplicaSet \"web-1\" has timed out progressing."}]}})
}

/// A server holding the stuck Deployment.
fn server() -> ApiServer {
    let server = ApiServer::start();
    server.create("apps/v1/deployments", stuck_deployment());
    server
}

/// `record -n shop --resources deployments,pods ARGS` to completion.
fn record(server: &ApiServer, args: &[&str]) -> (std::process::Output, PathBuf, tempfile::TempDir) {
    let mut all = vec!["-n", "shop", "--resources", "deployments,pods"];
    all.extend_from_slice(args);
    record_once(server, "t.ndjson.zst", &all)
}

/// What `kblame report TRACE --format FORMAT` prints.
fn report(trace: &Path, format: &str) -> String {
    let out = kblame(&["report", trace.to_str().unwrap(), "--format", format]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    stdout(&out)
}

fn path(dir: &tempfile::TempDir, name: &str) -> String {
    dir.path().join(name).display().to_string()
}

#[test]
fn a_failing_command_leaves_the_markdown_report_of_the_whole_trace_and_its_exit_code() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let summary = path(&dir, "summary.md");
    let report_arg = format!("markdown:{summary}");
    let (out, trace, _trace_dir) = record(
        &server,
        &["--report", &report_arg, "--", "sh", "-c", "exit 3"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let check = kblame(&["check", trace.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
    let written = std::fs::read_to_string(&summary).expect("the report is written");
    assert!(
        written.starts_with("**kblame report — failed: 1 failed,"),
        "{written}"
    );
    assert!(written.contains("deployment/web"), "{written}");
    assert_eq!(written, report(&trace, "markdown"));
    // Like the trace, the report is its owner's only (see src/files.rs).
    assert_eq!(kblame::files::mode_of(Path::new(&summary)), Some(0o600));
    assert!(
        stderr(&out).contains(&format!(
            "wrote the markdown report of {} to {summary}",
            trace.display()
        )),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_succeeding_command_writes_no_report_unless_report_always() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let summary = path(&dir, "summary.md");
    let report_arg = format!("markdown:{summary}");
    let (out, _, _trace_dir) = record(&server, &["--report", &report_arg, "--", "true"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!Path::new(&summary).exists());
    let (out, trace, _trace_dir) = record(
        &server,
        &["--report", &report_arg, "--report-always", "--", "true"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let written = std::fs::read_to_string(&summary).expect("--report-always writes it");
    assert_eq!(written, report(&trace, "markdown"));
}

#[test]
fn every_report_asked_for_is_written_a_bare_format_to_stdout() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let (markdown, json) = (path(&dir, "r.md"), path(&dir, "r.json"));
    let args = [
        "--report",
        &format!("markdown:{markdown}"),
        "--report",
        &format!("json:{json}"),
        "--report",
        "text",
        "--",
        "false",
    ];
    let (out, trace, _trace_dir) = record(&server, &args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&markdown).unwrap(),
        report(&trace, "markdown")
    );
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(json["verdict"], "failed");
    assert_eq!(json["workloads"][0]["object"]["name"], "web");
    assert_eq!(stdout(&out), report(&trace, "text"));
}

#[test]
fn a_bad_report_format_is_an_argument_error_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (trace, marker) = (path(&dir, "t.ndjson.zst"), path(&dir, "ran"));
    let out = kblame(&[
        "record",
        "-o",
        &trace,
        "--report",
        "markdwon:r.md",
        "--",
        "touch",
        &marker,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("\"markdwon\" is not a report format (text, markdown, json"),
        "{}",
        stderr(&out)
    );
    assert!(!Path::new(&marker).exists(), "the command ran");
    assert!(!Path::new(&trace).exists(), "a trace was written");
}

#[test]
fn a_report_that_cannot_be_written_is_a_warning_and_the_exit_code_stays_the_commands() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let unwritable = path(&dir, "no-such-dir/r.md");
    let report_arg = format!("markdown:{unwritable}");
    let (out, trace, _trace_dir) = record(
        &server,
        &["--report", &report_arg, "--", "sh", "-c", "exit 5"],
    );
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "warning: no markdown report of {} to {unwritable}: cannot write {unwritable}",
            trace.display()
        )),
        "{}",
        stderr(&out)
    );
}
