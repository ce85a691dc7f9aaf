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
        err.contains("is not a kblame trace") && err.contains("neither NDJSON nor zstd or gzip"),
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

/// Gzip-compresses `bytes` as the `gzip` tool does.
fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip in memory");
    encoder.finish().expect("gzip in memory")
}

/// Every command refuses `path` with exit 2 and a message containing `why`.
fn refused_by_every_command(path: &str, why: &str) {
    for args in [
        vec!["check", path],
        vec!["check", "--strict", path],
        vec!["analyze", path, "--pod", "x"],
        vec!["analyze", path, "--object", "deployment/x"],
        vec!["blame", path, "deployment/x"],
        vec!["tree", path, "deployment/x"],
        vec!["diff", path, "deployment/x", "--from", "1", "--to", "2"],
        vec!["timeline", path],
    ] {
        let out = kblame(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(why), "{args:?}: {err}");
        assert!(
            !err.contains("no pod") && !err.contains("no deployment"),
            "{args:?}: {err}"
        );
        assert!(stdout(&out).is_empty(), "{args:?}: {}", stdout(&out));
    }
}

#[test]
fn a_directory_is_refused_as_a_directory() {
    let dir = temp();
    let path = dir.path().to_str().unwrap();
    refused_by_every_command(path, &format!("{path} is a directory"));
}

#[test]
fn an_empty_file_is_not_a_trace() {
    let dir = temp();
    let path = dir.path().join("t.ndjson");
    std::fs::write(&path, "").unwrap();
    refused_by_every_command(path.to_str().unwrap(), "is not a kblame trace: it is empty");
    std::fs::write(&path, "\n\n\n").unwrap();
    refused_by_every_command(
        path.to_str().unwrap(),
        "is not a kblame trace: it holds only empty lines",
    );
}

#[test]
fn random_bytes_are_not_a_trace() {
    let dir = temp();
    let path = dir.path().join("t.bin");
    // Bytes that are not UTF-8, with newlines among them.
    let bytes: Vec<u8> = (0..5000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&path, &bytes).unwrap();
    refused_by_every_command(path.to_str().unwrap(), "is not a kblame trace");
}

#[test]
fn a_gzip_file_that_is_not_a_gzipped_trace_is_refused() {
    let dir = temp();
    let path = dir.path().join("notes.gz");
    std::fs::write(&path, gzip(b"hello, this is not a trace\n")).unwrap();
    refused_by_every_command(
        path.to_str().unwrap(),
        "is not a kblame trace: its gzip-compressed text is not NDJSON",
    );
    std::fs::write(
        &path,
        [
            0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff,
        ],
    )
    .unwrap();
    refused_by_every_command(
        path.to_str().unwrap(),
        "is not a kblame trace: the gzip data is corrupt",
    );
}

#[test]
fn the_not_a_trace_hint_names_only_commands_that_exist() {
    let dir = temp();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "hello\n").unwrap();
    let out = kblame(&["check", path.to_str().unwrap()]);
    let err = stderr(&out);
    assert!(err.contains("hint: "), "{err}");
    assert!(!err.contains("kblame import"), "{err}");
}

#[test]
fn a_gzipped_trace_is_read_as_the_zstd_one_is_whatever_its_name() {
    let dir = temp();
    let plain = dir.path().join("t.ndjson");
    write_trace(&plain, &two_pods(), true, false);
    // Named without .gz: the magic bytes tell.
    let gzipped = dir.path().join("t.trace");
    std::fs::write(&gzipped, gzip(&std::fs::read(&plain).unwrap())).unwrap();
    let gzipped = gzipped.to_str().unwrap();
    let out = kblame(&["check", gzipped]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("trace {gzipped} (gzip, kblame-trace/v1")),
        "{}",
        stdout(&out)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&kblame(&["check", gzipped, "-o", "json"]).stdout).unwrap();
    assert_eq!(report["compressed"], true);
    assert_eq!(report["compression"], "gzip");
    assert_eq!(report["records_by_kind"]["Pod"], 3);
    let answer = |trace: &str| {
        let out = kblame(&["analyze", trace, "--pod", "app-abc-22222", "-o", "json"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stdout(&out)
    };
    assert_eq!(answer(gzipped), answer(plain.to_str().unwrap()));
    // Also from stdin, and never with an index file.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kblame"))
        .args(["--index", "always", "check", "-"])
        .stdin(std::fs::File::open(gzipped).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = kblame(&["--index", "always", "check", gzipped]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!std::path::Path::new(&format!("{gzipped}.kbidx")).exists());
}

#[test]
fn a_cut_gzipped_trace_keeps_its_readable_prefix_and_says_so() {
    let dir = temp();
    let plain = dir.path().join("t.ndjson");
    let pods: Vec<_> = (0..400)
        .map(|i| {
            (
                i,
                EventType::Listed,
                pod(&format!("app-abc-{i:05}"), &format!("uid-{i}"), "rs-uid", 0),
            )
        })
        .collect();
    write_trace(&plain, &pods, true, false);
    let whole = gzip(&std::fs::read(&plain).unwrap());
    let cut = dir.path().join("t.ndjson.gz");
    std::fs::write(&cut, &whole[..whole.len() * 2 / 3]).unwrap();
    let out = kblame(&["check", cut.to_str().unwrap(), "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["cut_short"].as_str().unwrap().contains("cut short"),
        "{report}"
    );
    let pods = report["records_by_kind"]["Pod"].as_u64().unwrap();
    assert!(
        pods > 100 && pods < 400,
        "the records before the cut are kept: {report}"
    );
}

#[test]
fn bad_arguments_exit_2_in_every_command() {
    let seed = super::support::fixture("seed-demo.ndjson.zst")
        .display()
        .to_string();
    let seed = seed.as_str();
    for (args, why) in [
        (
            vec![
                "analyze",
                seed,
                "--object",
                "deployment/web",
                "--at",
                "tomorrow",
            ],
            "is not a time",
        ),
        (
            vec!["blame", seed, "deployment/web", "--at", "tomorrow"],
            "is not a time",
        ),
        (
            vec!["tree", seed, "deployment/web", "--at", "tomorrow"],
            "is not a time",
        ),
        (
            vec![
                "diff",
                seed,
                "deployment/web",
                "--from",
                "1",
                "--to",
                "whenever",
            ],
            "is not a time",
        ),
        (
            vec!["timeline", seed, "--since", "whenever"],
            "is not a time",
        ),
        (
            vec!["timeline", seed, "--until", "whenever"],
            "is not a time",
        ),
        (
            vec!["blame", seed, "deployment/web", "--history", "spec.[["],
            "is not a field path",
        ),
        (vec!["blame", seed, "web"], "is not KIND/NAME"),
        (
            vec![
                "analyze",
                seed,
                "--pod",
                "web-7cd8774fb8-znhz4",
                "--at",
                "+1m",
            ],
            "--at",
        ),
    ] {
        let out = kblame(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(why), "{args:?}: {err}");
    }
}
