//! `kblame import`: audit logs and kubectl output become traces that every command reads, on
//! hand-written inputs and on the real files of `../shared/reference`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use super::support::{kblame, stderr, stdout};

/// A Deployment as the API server answers a write: managedFields name the manager.
fn deployment(rv: &str, image: &str, manager: &str, time: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "uid": "d-1", "generation": 1,
            "resourceVersion": rv, "creationTimestamp": "2026-11-26T16:00:00Z",
            "managedFields": [{"manager": manager, "operation": "Update", "apiVersion": "apps/v1",
                "time": time, "fieldsType": "FieldsV1",
                "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {}}}}}}]},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": image}]}}}
    })
}

/// An audit event of a write to deployment `web` by `user` at `time` (seconds after 16:00).
fn write_event(
    verb: &str,
    user: &str,
    secs: u32,
    code: u32,
    uri: &str,
    body: Option<Value>,
) -> Value {
    let time = format!("2026-11-26T16:00:{secs:02}.000000Z");
    let mut event = json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
        "auditID": format!("audit-{secs}"), "stage": "ResponseComplete",
        "requestURI": uri, "verb": verb,
        "user": {"username": user, "groups": ["system:authenticated"]},
        "sourceIPs": ["10.0.0.9"], "userAgent": "kubectl/v1.31.0 (linux/amd64)",
        "objectRef": {"resource": "deployments", "namespace": "shop", "name": "web",
                      "apiGroup": "apps", "apiVersion": "v1"},
        "responseStatus": {"metadata": {}, "code": code},
        "requestReceivedTimestamp": time, "stageTimestamp": time,
        "annotations": {"authorization.k8s.io/decision": "allow"}
    });
    if let Some(body) = body {
        event["responseObject"] = body;
    }
    event
}

/// A small audit log: alice creates web, a dry run and a forbidden patch change nothing, bob
/// changes the image; a RequestReceived stage and a get are noise.
fn audit_log() -> String {
    let uri = "/apis/apps/v1/namespaces/shop/deployments/web";
    let events = [
        write_event(
            "create",
            "alice",
            1,
            201,
            "/apis/apps/v1/namespaces/shop/deployments",
            Some(deployment(
                "10",
                "web:1",
                "kubectl-client-side-apply",
                "2026-11-26T16:00:01Z",
            )),
        ),
        write_event(
            "patch",
            "carol",
            3,
            200,
            &format!("{uri}?dryRun=All"),
            Some(deployment(
                "10",
                "web:3",
                "kubectl-client-side-apply",
                "2026-11-26T16:00:03Z",
            )),
        ),
        write_event("patch", "mallory", 4, 403, uri, None),
        write_event(
            "get",
            "alice",
            5,
            200,
            uri,
            Some(deployment(
                "10",
                "web:1",
                "kubectl-client-side-apply",
                "2026-11-26T16:00:01Z",
            )),
        ),
        write_event(
            "patch",
            "bob",
            6,
            200,
            uri,
            Some(deployment(
                "11",
                "web:2",
                "kubectl-client-side-apply",
                "2026-11-26T16:00:06Z",
            )),
        ),
    ];
    let mut early = events[4].clone();
    early["stage"] = json!("RequestReceived");
    let mut lines: Vec<String> = events.iter().map(Value::to_string).collect();
    lines.insert(2, early.to_string());
    lines.join("\n") + "\n"
}

fn gzip(text: &str) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(text.as_bytes()).expect("gzip in memory");
    encoder.finish().expect("gzip in memory")
}

/// Runs `kblame ARGS` with `input` on stdin.
fn kblame_with_stdin(args: &[&str], input: &[u8]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kblame"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the kblame binary runs");
    child
        .stdin
        .take()
        .expect("a stdin pipe")
        .write_all(input)
        .expect("stdin written");
    child.wait_with_output().expect("kblame ends")
}

fn decompressed_lines(path: &Path) -> Vec<Value> {
    let bytes = std::fs::read(path).expect("the trace");
    let text = zstd::stream::decode_all(&bytes[..]).expect("zstd");
    String::from_utf8(text)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[test]
fn a_gzipped_audit_log_on_stdin_becomes_a_whole_trace_that_blame_and_timeline_read() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let trace = dir.path().join("audit.ndjson.zst");
    let trace_arg = trace.to_str().expect("a UTF-8 path");
    let out = kblame_with_stdin(
        &["import", "audit", "-", "-o", trace_arg],
        &gzip(&audit_log()),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stderr(&out).trim(),
        "read 6 event(s), used 2, skipped 1 dry-run, 1 failed, 1 read, 1 stage; wrote 2 record(s) to "
            .to_string()
            + trace_arg
    );
    #[cfg(unix)]
    assert_eq!(kblame::files::mode_of(&trace), Some(0o600));
    let lines = decompressed_lines(&trace);
    assert_eq!(lines[0]["source"]["kind"], "audit");
    assert_eq!(lines[0]["source"]["levels"], json!(["RequestResponse"]));
    assert_eq!(lines[0]["source"]["files"], json!(["-"]));
    assert_eq!(lines[0]["source"]["counts"]["skipped"]["dry-run"], 1);
    assert_eq!(lines[1]["type"], "ADDED");
    assert_eq!(lines[1]["request"]["user"], "alice");
    assert_eq!(lines[2]["type"], "MODIFIED");
    assert_eq!(lines[2]["ts"], "2026-11-26T16:00:06.000000000Z");
    assert_eq!(lines[2]["request"]["auditID"], "audit-6");
    assert_eq!(lines[2]["request"]["code"], 200);
    assert_eq!(lines[3]["type"], "END");

    let check = kblame(&["check", trace_arg]);
    assert!(check.status.success(), "{}", stdout(&check));
    let text = stdout(&check);
    assert!(
        text.contains("written by kblame 0.1.0 from audit"),
        "{text}"
    );
    assert!(
        text.contains("caveat: an audit log holds requests, not states"),
        "{text}"
    );
    assert!(!text.contains("warning"), "{text}");

    let timeline = kblame(&["timeline", trace_arg]);
    assert!(timeline.status.success(), "{}", stderr(&timeline));
    assert!(
        stdout(&timeline).contains("deployment shop/web"),
        "{}",
        stdout(&timeline)
    );
    let blame = kblame(&["blame", trace_arg, "deployment/web", "-n", "shop"]);
    assert!(blame.status.success(), "{}", stderr(&blame));
    assert!(
        stdout(&blame).contains("image: web:2"),
        "{}",
        stdout(&blame)
    );
}

#[test]
fn request_records_are_read_without_a_warning() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let input = dir.path().join("metadata.log");
    let mut event = write_event(
        "patch",
        "bob",
        6,
        200,
        "/apis/apps/v1/namespaces/shop/deployments/web",
        None,
    );
    event["level"] = json!("Metadata");
    std::fs::write(&input, format!("{event}\n")).expect("input written");
    let trace = dir.path().join("t.ndjson");
    let out = kblame(&[
        "import",
        "audit",
        input.to_str().unwrap(),
        "-o",
        trace.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&trace).expect("plain NDJSON for a .ndjson name");
    let request: Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
    assert_eq!(request["type"], "REQUEST");
    assert_eq!(request["objectRef"]["name"], "web");
    assert_eq!(request["request"]["level"], "Metadata");
    // Both ways of reading: in full (--strict) and through the index scan.
    for strict in [true, false] {
        let mut args = vec!["check", trace.to_str().unwrap()];
        if strict {
            args.push("--strict");
        }
        let check = kblame(&args);
        let report = stdout(&check);
        assert!(check.status.success(), "{report}");
        assert!(report.contains("records: END 1, REQUEST 1"), "{report}");
        assert!(!report.contains("unknown record type"), "{report}");
    }
}

#[test]
fn kubectl_watch_output_on_stdin_says_its_limits_in_check() {
    let pod = |phase: &str| {
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-1", "namespace": "shop", "uid": "p-1",
                "creationTimestamp": "2026-11-26T16:00:00Z"},
            "spec": {"containers": [{"name": "web", "image": "web:1"}]},
            "status": {"phase": phase}})
    };
    let text = format!(
        "{:#}\n{:#}\n",
        json!({"type": "ADDED", "object": pod("Pending")}),
        json!({"type": "MODIFIED", "object": pod("Running")})
    );
    let dir = tempfile::tempdir().expect("a temp dir");
    let trace = dir.path().join("watch.ndjson.zst");
    let trace_arg = trace.to_str().expect("a UTF-8 path");
    let out = kblame_with_stdin(
        &["import", "kubectl", "-", "-o", trace_arg],
        text.as_bytes(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let check = kblame(&["check", trace_arg]);
    assert!(check.status.success(), "{}", stdout(&check));
    let report = stdout(&check);
    assert!(report.contains("from kubectl-watch"), "{report}");
    assert!(report.contains("caveat: no SYNCED records"), "{report}");
    assert!(
        report.contains("caveat: record times are inferred"),
        "{report}"
    );
    let timeline = kblame(&["timeline", trace_arg]);
    assert!(timeline.status.success(), "{}", stderr(&timeline));
}

#[test]
fn an_input_without_any_audit_event_is_an_error() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let input = dir.path().join("notes.txt");
    std::fs::write(&input, "just: [text\n").expect("input written");
    let trace = dir.path().join("t.ndjson.zst");
    let out = kblame(&[
        "import",
        "audit",
        input.to_str().unwrap(),
        "-o",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no audit event found"),
        "{}",
        stderr(&out)
    );
    let missing = kblame(&[
        "import",
        "audit",
        "/nonexistent/audit.log",
        "-o",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("cannot read /nonexistent/audit.log"));
}

/// `../shared/reference`, or `None` (with a notice) when it is absent.
fn reference() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference");
    if root.is_dir() {
        Some(root)
    } else {
        println!("skipped: ../shared/reference is absent");
        None
    }
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Imports `files` with `importer`; returns the exit code, the last stderr line and the
/// number of warnings.
fn import_reference(importer: &str, files: &[PathBuf], trace: &Path) -> (i32, String, usize) {
    let mut args = vec!["import".to_string(), importer.to_string()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    args.extend(["-o".to_string(), trace.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = kblame(&args);
    let err = stderr(&out);
    assert!(
        !err.contains("internal error"),
        "{importer} {files:?}: {err}"
    );
    let last = err.lines().last().unwrap_or_default().to_string();
    let warnings = err.lines().filter(|l| l.starts_with("warning:")).count();
    (out.status.code().unwrap_or(-1), last, warnings)
}

#[test]
fn every_reference_file_imports_without_a_panic_and_what_imports_checks_whole() {
    let Some(root) = reference() else { return };
    let dir = tempfile::tempdir().expect("a temp dir");
    let trace = dir.path().join("t.ndjson.zst");
    let mut files = Vec::new();
    for project in ["khi", "falco", "audit2rbac"] {
        files_under(&root.join(project), &mut files);
    }
    assert!(files.len() >= 70, "{} reference files", files.len());
    let mut imported = [0, 0];
    for file in &files {
        for (slot, importer) in ["audit", "kubectl"].into_iter().enumerate() {
            let (code, last, _) = import_reference(importer, std::slice::from_ref(file), &trace);
            assert!(
                code == 0 || code == 2,
                "{importer} {}: exit {code}: {last}",
                file.display()
            );
            if code == 2 {
                assert!(
                    last.contains("nothing to import"),
                    "{}: {last}",
                    file.display()
                );
                continue;
            }
            imported[slot] += 1;
            let check = kblame(&["check", "--strict", trace.to_str().unwrap()]);
            assert!(
                check.status.success(),
                "{}: {}",
                file.display(),
                stdout(&check)
            );
        }
    }
    // Audit: the 46 Falco traces that hold an audit event (all but `{"kind": 0}`), demo.log,
    // KHI's three GKE entries and its OSS event. kubectl: KHI's Pod and its three manifests.
    assert_eq!(imported, [51, 4]);
}

#[test]
fn reference_audit_logs_give_these_counts() {
    let Some(root) = reference() else { return };
    let dir = tempfile::tempdir().expect("a temp dir");
    let trace = dir.path().join("t.ndjson.zst");
    let trace_name = trace.display().to_string();
    let mut falco = Vec::new();
    files_under(&root.join("falco/test/trace_files/k8s_audit"), &mut falco);
    let khi = ["1_1", "1_2", "1_3"].map(|n| {
        root.join(format!(
            "khi/test/logs/k8s_audit/container_recorder_test_{n}.yaml"
        ))
    });
    let mut gke_operations = Vec::new();
    files_under(&root.join("khi/test/logs/gke_audit"), &mut gke_operations);
    let cases: [(&[PathBuf], i32, &str, usize); 4] = [
        // Metadata level, every request a list or get by impersonated bob (many 403s).
        (&[root.join("audit2rbac/testdata/demo.log")], 0,
            "read 37 event(s), used 0, skipped 37 read; wrote 0 record(s)", 0),
        // `fal_01_003.json` is `{"kind": 0}`; attach and exec stop at ResponseStarted.
        (&falco, 0,
            "read 52 event(s), used 48, skipped 1 not-an-audit-event, 1 read, 2 stage; wrote 48 record(s)", 1),
        (&khi, 0, "read 3 event(s), used 3, skipped none; wrote 3 record(s)", 0),
        // GKE's own cluster and node-pool operations are not Kubernetes API requests.
        (&gke_operations, 2,
            "nothing to import (9 document(s): 9 not-kubernetes-api)", 0),
    ];
    for (files, code, summary, warnings) in cases {
        let (got_code, last, got_warnings) = import_reference("audit", files, &trace);
        assert_eq!(got_code, code, "{last}");
        assert!(last.contains(summary), "{last}");
        if code == 0 {
            assert!(last.ends_with(&trace_name), "{last}");
        }
        // The error says why; warnings are printed only for what was imported.
        assert_eq!(
            got_warnings,
            if code == 0 { warnings } else { 0 },
            "{files:?}"
        );
    }
    // The KHI pod create by the ReplicaSet controller keeps its webhook annotations.
    import_reference("audit", &khi[..1], &trace);
    let lines = decompressed_lines(&trace);
    let request = &lines[1]["request"];
    assert_eq!(
        request["user"],
        "system:serviceaccount:kube-system:replicaset-controller"
    );
    assert_eq!(request["verb"], "create");
    assert!(
        request["annotations"]["mutation.webhook.admission.k8s.io/round_0_index_3"]
            .as_str()
            .is_some_and(|a| a.contains("pod-ready.common-webhooks.networking.gke.io"))
    );
    assert_eq!(
        lines[1]["object"]["metadata"]["name"],
        "nginx-deployment-surge-8655b4b8c5-xf5f4"
    );
}

/// A real GKE pod create (KHI's k8s_audit test log) names the two mutating webhooks GKE called,
/// neither of which mutated the pod: the pod report says so, from the imported request alone.
#[test]
fn a_real_gke_pod_create_names_the_webhooks_that_ran() {
    let Some(root) = reference() else { return };
    let log = root.join("khi/test/logs/k8s_audit/container_recorder_test_1_1.yaml");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let trace = dir.path().join("khi.ndjson.zst");
    let out = kblame(&[
        "import",
        "audit",
        &log.display().to_string(),
        "-o",
        &trace.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = kblame(&[
        "analyze",
        &trace.display().to_string(),
        "--pod",
        "nginx-deployment-surge-8655b4b8c5-xf5f4",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let calls = report["webhooks_called"]
        .as_array()
        .expect("the create's calls");
    let named: Vec<(&str, i64, bool)> = calls
        .iter()
        .map(|c| {
            (
                c["webhook"].as_str().unwrap_or_default(),
                c["index"].as_i64().unwrap_or(-1),
                c["mutated"].as_bool().unwrap_or(true),
            )
        })
        .collect();
    assert_eq!(
        named,
        [
            ("pod-ready.common-webhooks.networking.gke.io", 3, false),
            (
                "warden-mutating.common-webhooks.networking.gke.io",
                4,
                false
            ),
        ]
    );
    // No template (its ReplicaSet is not in the log): nothing is claimed injected.
    assert_eq!(report["injected"], serde_json::json!([]));
}
