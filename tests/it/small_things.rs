//! Small habits of the text output: sizes, durations, whose last record, diff defaults,
//! warnings said once.

use serde_json::Value;

use super::support::{fixture, kblame, stderr, stdout};

fn trace(scenario: &str) -> String {
    fixture(&format!("{scenario}.ndjson.zst"))
        .display()
        .to_string()
}

#[test]
fn check_gives_the_compressed_and_the_uncompressed_size() {
    let out = kblame(&["check", &trace("seed-demo")]);
    let text = stdout(&out);
    let first = text.lines().next().unwrap();
    assert_eq!(
        first,
        "trace ".to_string()
            + &trace("seed-demo")
            + " (zstd, kblame-trace/v1, 98 lines, 48.8 KiB compressed, 256.5 KiB uncompressed)"
    );
    let json: Value =
        serde_json::from_slice(&kblame(&["check", &trace("seed-demo"), "-o", "json"]).stdout)
            .unwrap();
    assert_eq!(json["file_bytes"], 49980);
    assert_eq!(json["bytes"], 262650);
}

#[test]
fn diff_without_from_and_to_compares_the_first_and_last_versions() {
    let out = kblame(&["diff", &trace("seed-demo"), "deployment/web"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let head = text.lines().next().unwrap();
    assert!(
        head.starts_with("deployment shop/web  revision 1 (16:00:00, rv 1045, line 2) → revision 2 (16:12:12, rv 1106, line 90)"),
        "{head}"
    );
    assert!(
        text.contains("spec.template.spec.containers[name=web].image  nginx:1.25 → nginx:1.26-rc1"),
        "{text}"
    );
}

#[test]
fn diff_from_before_the_first_version_uses_the_first_with_a_note() {
    // The crashing pod was created at 16:02:11, after the trace began.
    let out = kblame(&[
        "diff",
        &trace("seed-demo"),
        "pod/web-7cd8774fb8-znhz4",
        "--from",
        "+10s",
        "--to",
        "+5m",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("note: --from 2026-11-26T16:00:10.004Z is before the first record of pod shop/web-7cd8774fb8-znhz4 (2026-11-26T16:02:11"),
        "{text}"
    );
}

#[test]
fn the_last_record_of_a_pod_says_whose_write_it_shows() {
    let out = kblame(&[
        "analyze",
        &trace("seed-demo"),
        "--pod",
        "web-7cd8774fb8-znhz4",
    ]);
    let text = stdout(&out);
    assert!(
        text.contains("(last record 16:12:53, line 96: kubelet Update of status)"),
        "{text}"
    );
    let json: Value = serde_json::from_slice(
        &kblame(&[
            "analyze",
            &trace("seed-demo"),
            "--pod",
            "web-7cd8774fb8-znhz4",
            "-o",
            "json",
        ])
        .stdout,
    )
    .unwrap();
    assert_eq!(json["state"]["line"], 96);
    assert_eq!(json["state"]["event"], "MODIFIED");
    assert_eq!(json["state"]["written_by"], "kubelet Update of status");
}

#[test]
fn blame_explains_its_gutter_once_as_notes_and_not_under_history() {
    let out = kblame(&["blame", &trace("watch-gap"), "deployment/stock-api"]);
    let text = stdout(&out);
    let notes: Vec<&str> = text.lines().filter(|l| l.starts_with("note: ")).collect();
    assert_eq!(notes.len(), 2, "{text}");
    assert!(notes[0].contains("before trace"), "{text}");
    assert!(!text.contains("warning: lines marked"), "{text}");
    let mut lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("warning: ") || l.starts_with("note: "))
        .collect();
    let all = lines.len();
    lines.sort();
    lines.dedup();
    assert_eq!(lines.len(), all, "a note or warning is repeated: {text}");

    let out = kblame(&[
        "blame",
        &trace("watch-gap"),
        "deployment/stock-api",
        "--history",
        "spec.replicas",
    ]);
    let text = stdout(&out);
    assert!(!text.contains("before trace"), "{text}");
    assert!(!text.lines().any(|l| l.starts_with("note: ")), "{text}");
}
