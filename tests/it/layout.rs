//! The trace layout: every committed fixture (written in the old layout, one zstd frame per
//! flush), re-encoded line for line by today's writer (one zstd stream flushed at each flush
//! point, frames of a few MiB), answers every question byte for byte the same.

use std::io::Read;
use std::path::Path;
use std::process::Command;

use jiff::Timestamp;
use kblame::trace::{TraceWriter, WriterOptions};
use serde_json::Value;

use super::support::fixture;

/// Runs `kblame ARGS` in `dir` (so the trace's name in the output is the same for both).
fn kblame_in(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kblame"))
        .current_dir(dir)
        .args(args)
        .args(["--index", "never"])
        .output()
        .expect("the kblame binary runs");
    // The one thing that differs: the file's size (`check` reports it).
    let text = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|line| !line.trim_start().starts_with("\"file_bytes\":"))
        .collect::<Vec<_>>()
        .join("\n");
    (out.status.code(), text)
}

/// The readable text of a zstd trace (a cut one: what comes before the cut).
fn text_of(path: &Path) -> Vec<u8> {
    let file = std::fs::File::open(path).expect("the fixture opens");
    let mut text = Vec::new();
    let _ = zstd::stream::read::Decoder::new(file)
        .expect("a decoder")
        .read_to_end(&mut text);
    text
}

/// Writes `text`'s whole lines to `to` through [`TraceWriter`] with `max_frame_bytes`, as a
/// recorder would have (a trace without END is abandoned, not finished).
fn re_encode(text: &[u8], to: &Path, max_frame_bytes: usize) {
    let mut lines = text.split(|&b| b == b'\n');
    let header = lines.next().expect("a header line");
    let options = WriterOptions {
        max_frame_bytes,
        ..WriterOptions::default()
    };
    let file = std::fs::File::create(to).expect("a temp file");
    let mut writer = TraceWriter::copying(file, header, options).expect("header written");
    let whole = text
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |end| end + 1);
    for line in text[..whole].split(|&b| b == b'\n').skip(1) {
        if line.is_empty() {
            continue;
        }
        let ts = serde_json::from_slice::<Value>(line)
            .ok()
            .and_then(|v| v["ts"].as_str().and_then(|t| t.parse::<Timestamp>().ok()));
        writer.copy_line(ts, line).expect("line written");
    }
    writer.abandon().expect("the last frame ends");
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |meta| meta.len())
}

/// A few pods the fixture's ground truth names (those that restarted first).
fn pods_of(name: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(fixture(&format!("{name}.expect.json"))).unwrap_or_default();
    let truth: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let mut pods: Vec<(bool, String, String)> = truth["pods"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|pod| {
            let quiet = pod["restarts"].as_array().is_none_or(Vec::is_empty);
            Some((
                quiet,
                pod["namespace"].as_str()?.to_string(),
                pod["name"].as_str()?.to_string(),
            ))
        })
        .collect();
    pods.sort();
    pods.into_iter()
        .take(3)
        .map(|(_, namespace, name)| (namespace, name))
        .collect()
}

#[test]
fn every_fixture_re_encoded_in_the_flushed_layout_answers_byte_for_byte_the_same() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut compared = 0;
    let mut names: Vec<String> = std::fs::read_dir(fixture(""))
        .expect("fixtures/")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".ndjson.zst"))
        .collect();
    names.sort();
    assert!(names.len() >= 30, "{names:?}");
    for file_name in &names {
        let original = fixture(file_name);
        let text = text_of(&original);
        let scenario = file_name.trim_end_matches(".ndjson.zst");
        // 8 MiB frames (one frame here) and 64 KiB frames (several, each with many flushes).
        for max_frame_bytes in [8 << 20, 64 << 10] {
            let copy = dir.path().join(file_name);
            re_encode(&text, &copy, max_frame_bytes);
            let (old_size, new_size) = (file_size(&original), file_size(&copy));
            assert!(
                max_frame_bytes < 1 << 20 || new_size < old_size,
                "{file_name}: {new_size} bytes re-encoded, {old_size} before"
            );
            let mut questions: Vec<Vec<String>> = vec![
                vec![
                    "check".into(),
                    file_name.clone(),
                    "-o".into(),
                    "json".into(),
                ],
                vec![
                    "report".into(),
                    file_name.clone(),
                    "--format".into(),
                    "json".into(),
                ],
            ];
            for (namespace, pod) in pods_of(scenario) {
                questions.push(vec![
                    "analyze".into(),
                    file_name.clone(),
                    "--pod".into(),
                    pod,
                    "-n".into(),
                    namespace,
                    "-o".into(),
                    "json".into(),
                ]);
            }
            for question in &questions {
                let args: Vec<&str> = question.iter().map(String::as_str).collect();
                let old = kblame_in(&fixture(""), &args);
                let new = kblame_in(dir.path(), &args);
                assert!(!old.1.is_empty(), "{args:?} answers");
                assert_eq!(new, old, "{args:?}, frames of {max_frame_bytes} bytes");
                compared += 1;
            }
        }
    }
    assert!(compared >= 200, "compared {compared} answers");
}
