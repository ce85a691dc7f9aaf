//! Bad input gets a clear message and a sensible exit code, never a panic; what is readable is used.

use std::io::Write;

use kblame::trace::EventType;

use super::support::{kblame, pod, stderr, stdout, two_pods, write_trace};

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temp dir")
}

#[test]
fn a_missing_file_is_an_error_with_exit_2() {
    let out = kblame(&["check", "/nonexistent/trace.ndjson.zst"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot open /nonexistent/trace.ndjson.zst"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("panicked"));
}

#[test]
fn a_file_that_is_neither_zstd_nor_json_is_rejected_with_a_hint() {
    let dir = temp();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "hello, this is not a trace\n").unwrap();
    let out = kblame(&["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("is not a kblame trace") && err.contains("neither zstd nor NDJSON"),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
}

#[test]
fn a_truncated_final_frame_keeps_the_readable_prefix_and_says_so() {
    let dir = temp();
    let path = dir.path().join("t.ndjson.zst");
    write_trace(&path, &two_pods(), true, true);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 7]).unwrap();
    let out = kblame(&["check", path.to_str().unwrap(), "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ended"], false);
    assert!(
        report["cut_short"].as_str().unwrap().contains("cut short"),
        "{report}"
    );
    assert_eq!(
        report["records_by_kind"]["Pod"], 3,
        "the frames before the cut are kept"
    );
}

#[test]
fn a_partial_last_line_is_skipped_with_a_warning() {
    let dir = temp();
    let path = dir.path().join("t.ndjson");
    write_trace(&path, &two_pods(), false, false);
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    file.write_all(br#"{"ts":"2026-11-26T16:01:00Z","type":"MODIFIED","object":{"kind":"Po"#)
        .unwrap();
    let out = kblame(&["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("the last line (5) is partial"), "{text}");
    assert!(text.contains("Pod 3"), "{text}");
}

#[test]
fn a_corrupt_line_in_the_middle_is_counted_and_reading_carries_on() {
    let dir = temp();
    let path = dir.path().join("t.ndjson");
    write_trace(&path, &two_pods(), true, false);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(2, "{this is not json");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let out = kblame(&["check", path.to_str().unwrap(), "-o", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["bad_lines"], 1);
    assert_eq!(report["ended"], true);
    assert_eq!(report["records_by_kind"]["Pod"], 3);
    let analyzed = kblame(&[
        "analyze",
        path.to_str().unwrap(),
        "--pod",
        "app-abc-22222",
        "-o",
        "json",
    ]);
    assert_eq!(analyzed.status.code(), Some(0), "{}", stderr(&analyzed));
    let report: serde_json::Value = serde_json::from_slice(&analyzed.stdout).unwrap();
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("1 unreadable line(s) were skipped"),
        "{warnings}"
    );
}

#[test]
fn damage_inside_a_body_is_reported_by_the_question_that_reads_it_and_by_check_strict() {
    let dir = temp();
    let path = dir.path().join("t.ndjson");
    write_trace(&path, &two_pods(), true, false);
    let text = std::fs::read(&path).unwrap();
    // A byte that is not UTF-8 inside the second pod's status (its metadata stays readable).
    let at = text
        .windows(9)
        .rposition(|w| w == b"\"Running\"")
        .expect("a pod status");
    let mut damaged = text.clone();
    damaged[at + 1] = 0xff;
    std::fs::write(&path, &damaged).unwrap();
    let path = path.to_str().unwrap();
    let strict = kblame(&["check", "--strict", path, "-o", "json"]);
    assert_eq!(strict.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&strict.stdout).unwrap();
    assert_eq!(report["bad_lines"], 1, "{report}");
    assert!(
        report["warnings"].to_string().contains("not UTF-8"),
        "{report}"
    );
    let analyzed = kblame(&["analyze", path, "--pod", "app-abc-22222", "-o", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&analyzed.stdout).unwrap();
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("1 unreadable line(s) were skipped"),
        "{warnings}"
    );
}

#[test]
fn a_header_from_a_future_format_is_refused() {
    let dir = temp();
    let path = dir.path().join("t.ndjson");
    std::fs::write(
        &path,
        "{\"type\":\"HEADER\",\"format\":\"kblame-trace/v2\",\"ts\":\"2026-11-26T16:00:00Z\"}\n",
    )
    .unwrap();
    let out = kblame(&["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("kblame-trace/v2"), "{}", stderr(&out));
}

#[test]
fn records_out_of_time_order_are_reported() {
    let dir = temp();
    let path = dir.path().join("t.ndjson");
    let mut records = two_pods();
    records.push((
        10,
        EventType::Modified,
        pod("app-abc-11111", "uid-1", "rs-uid", 0),
    ));
    write_trace(&path, &records, true, false);
    let out = kblame(&["check", path.to_str().unwrap()]);
    assert!(
        stdout(&out).contains("earlier than the one before it"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn an_unknown_pod_lists_near_matches() {
    let dir = temp();
    let path = dir.path().join("t.ndjson.zst");
    write_trace(&path, &two_pods(), true, true);
    let out = kblame(&["analyze", path.to_str().unwrap(), "--pod", "app-abc-2222"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("no pod app-abc-2222 in the trace; did you mean demo/app-abc-22222"),
        "{err}"
    );
}

#[test]
fn an_ambiguous_name_answers_for_the_newest_and_uid_chooses() {
    let dir = temp();
    let path = dir.path().join("t.ndjson");
    let mut records = two_pods();
    records.push((
        40,
        EventType::Added,
        pod("app-abc-22222", "uid-3", "rs-uid", 0),
    ));
    write_trace(&path, &records, true, false);
    let out = kblame(&[
        "analyze",
        path.to_str().unwrap(),
        "--pod",
        "app-abc-22222",
        "-o",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["pod"]["uid"], "uid-3");
    assert!(report["warnings"]
        .to_string()
        .contains("2 pods are named app-abc-22222"));
    let chosen = kblame(&[
        "analyze",
        path.to_str().unwrap(),
        "--pod",
        "app-abc-22222",
        "--uid",
        "uid-2",
        "-o",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&chosen.stdout).unwrap();
    assert_eq!(report["pod"]["uid"], "uid-2");
    assert_eq!(report["restarts"].as_array().unwrap().len(), 1);
}

#[test]
fn owners_that_never_appear_are_named_and_the_answer_says_unknown() {
    let dir = temp();
    let path = dir.path().join("t.ndjson");
    write_trace(&path, &two_pods(), true, false);
    let out = kblame(&[
        "analyze",
        path.to_str().unwrap(),
        "--pod",
        "app-abc-22222",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["lineage"][1]["name"], "app-abc");
    assert_eq!(report["lineage"][1]["recorded"], false);
    assert_eq!(report["created"]["reason"], "unknown");
    assert!(report["restart_cause"].is_null());
    assert!(report["warnings"]
        .to_string()
        .contains("never appears in the trace"));
}

#[test]
fn stdin_is_read_when_the_trace_is_a_dash() {
    let dir = temp();
    let path = dir.path().join("t.ndjson.zst");
    write_trace(&path, &two_pods(), true, true);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kblame"))
        .args(["check", "-"])
        .stdin(std::fs::File::open(&path).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("whole: END present"));
}

#[test]
fn a_wrong_namespace_suggests_the_same_name_in_its_real_namespace() {
    let dir = temp();
    let path = dir.path().join("t.ndjson.zst");
    write_trace(&path, &two_pods(), true, true);
    let out = kblame(&[
        "analyze",
        path.to_str().unwrap(),
        "--pod",
        "app-abc-22222",
        "-n",
        "prod",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("no pod prod/app-abc-22222 in the trace; did you mean demo/app-abc-22222?"),
        "{err}"
    );
}

#[test]
fn a_trace_without_lists_treats_pods_first_seen_modified_as_already_there() {
    let dir = temp();
    let path = dir.path().join("t.ndjson");
    let records = vec![
        (
            5,
            EventType::Modified,
            pod("app-abc-11111", "uid-1", "rs-uid", 0),
        ),
        (
            9,
            EventType::Modified,
            pod("app-abc-11111", "uid-1", "rs-uid", 1),
        ),
    ];
    write_trace(&path, &records, true, false);
    let out = kblame(&[
        "analyze",
        path.to_str().unwrap(),
        "--pod",
        "app-abc-11111",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["created"]["reason"], "unknown");
    assert_eq!(
        report["created"]["time"], "2026-11-26T15:00:00Z",
        "dated by creationTimestamp"
    );
    assert_eq!(report["restarts"].as_array().unwrap().len(), 1);
}
