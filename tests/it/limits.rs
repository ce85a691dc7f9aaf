//! The reading limits (issue 9): a line longer than 64 MiB is skipped and reported, a zstd frame
//! asking for a window beyond zstd's default limit is refused with its offset, a frame that lies
//! about its size or expands to gigabytes is read in bounded memory. See
//! `docs/trace-format.md`, "Limits".

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use super::fuzz::encode::{lie_about_size, rle_frame, window_frame};
use super::support::{stderr, stdout};

const LINE_LIMIT: usize = 64 << 20;

/// A header, a pod, and the END that closes the trace, as NDJSON lines.
fn lines() -> [String; 3] {
    [
        r#"{"type":"HEADER","format":"kblame-trace/v1","ts":"2026-11-26T16:00:00Z","source":{"kind":"watch"}}"#.into(),
        r#"{"ts":"2026-11-26T16:00:01Z","type":"ADDED","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-1","namespace":"shop","uid":"u1"}}}"#.into(),
        r#"{"ts":"2026-11-26T16:00:09Z","type":"END","records":3}"#.into(),
    ]
}

fn frame(text: &str) -> Vec<u8> {
    zstd::bulk::compress(format!("{text}\n").as_bytes(), 3).expect("compressed")
}

/// A zstd trace: header and pod, then `middle`, then a second pod and END.
fn trace_around(middle: &[u8]) -> Vec<u8> {
    let [header, pod, end] = lines();
    let second = pod.replace("web-1", "web-2").replace("\"u1\"", "\"u2\"");
    [
        frame(&header),
        frame(&pod),
        middle.to_vec(),
        frame(&second),
        frame(&end),
    ]
    .concat()
}

/// A frame of `len` bytes of `x` and a newline: RLE blocks, then a raw block.
fn long_line_frame(len: usize, declare_size: bool) -> Vec<u8> {
    let mut frame = rle_frame(b'x', len, declare_size);
    // Turn the last block into a non-last one and add a last raw block holding the newline.
    let last = frame.len() - 4;
    frame[last] &= !1;
    if declare_size {
        let size = (len as u64 + 1).to_le_bytes();
        frame[6..14].copy_from_slice(&size);
    }
    frame.extend([0x09, 0x00, 0x00, b'\n']);
    frame
}

fn kblame(args: &[&str], trace: &Path) -> Output {
    let mut args: Vec<&str> = args.to_vec();
    let path = trace.to_str().expect("a UTF-8 path");
    args.insert(1, path);
    Command::new("sh")
        .arg("-c")
        // A cap on address space: these traces expand to gigabytes, their reading must not.
        .arg("ulimit -v 3145728 2>/dev/null; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_kblame"))
        .args(&args)
        .env("KBLAME_INDEX", "never")
        .output()
        .expect("kblame runs")
}

fn check_json(trace: &Path, strict: bool) -> Value {
    let args: &[&str] = match strict {
        true => &["check", "--strict", "-o", "json"],
        false => &["check", "-o", "json"],
    };
    let out = kblame(args, trace);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|err| panic!("{err}: {}", stdout(&out)))
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("written");
    path
}

#[test]
fn a_line_longer_than_64_mib_is_skipped_reported_and_reading_goes_on() {
    let dir = tempfile::tempdir().expect("a temp dir");
    for (name, declared) in [("declared.ndjson.zst", true), ("unknown.ndjson.zst", false)] {
        let trace = write(
            &dir,
            name,
            &trace_around(&long_line_frame(LINE_LIMIT + 10, declared)),
        );
        for strict in [false, true] {
            let report = check_json(&trace, strict);
            assert_eq!(report["bad_lines"], 1, "{name} strict={strict}: {report}");
            assert_eq!(report["ended"], true, "{report}");
            assert_eq!(
                report["records_by_kind"]["Pod"], 2,
                "the pod after the long line is read"
            );
            let warnings = report["warnings"].to_string();
            assert!(
                warnings.contains("line 3 is longer than 64 MiB and was skipped"),
                "{warnings}"
            );
        }
        let out = kblame(&["analyze", "--pod", "web-2", "-o", "json"], &trace);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
}

#[test]
fn a_line_at_the_limit_is_read() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let trace = write(
        &dir,
        "t.ndjson.zst",
        &trace_around(&long_line_frame(LINE_LIMIT, true)),
    );
    let report = check_json(&trace, false);
    // Read whole, and rejected only because it is not JSON.
    assert!(
        report["warnings"]
            .to_string()
            .contains("line 3 skipped: expected value"),
        "{report}"
    );
}

#[test]
fn a_long_line_running_across_frames_is_read_as_one_stream_and_skipped() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let half = LINE_LIMIT / 2 + 10;
    let pieces = [
        rle_frame(b'x', half, true),
        rle_frame(b'x', half, true),
        frame(""),
    ]
    .concat();
    let trace = write(&dir, "t.ndjson.zst", &trace_around(&pieces));
    let report = check_json(&trace, false);
    assert_eq!(report["bad_lines"], 1, "{report}");
    assert_eq!(report["records_by_kind"]["Pod"], 2, "{report}");
}

#[test]
fn a_plain_trace_with_a_long_line_is_read_past_it() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let [header, pod, end] = lines();
    let mut text = format!("{header}\n{pod}\n").into_bytes();
    text.extend(std::iter::repeat_n(b'x', LINE_LIMIT + 1));
    text.extend(format!("\n{}\n{end}\n", pod.replace("web-1", "web-2")).into_bytes());
    let trace = write(&dir, "t.ndjson", &text);
    let report = check_json(&trace, false);
    assert_eq!(report["bad_lines"], 1, "{report}");
    assert_eq!(report["records_by_kind"]["Pod"], 2, "{report}");
}

#[test]
fn a_frame_asking_for_a_window_beyond_zstds_limit_is_refused_with_its_offset() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let [header, pod, _] = lines();
    let before = [frame(&header), frame(&pod)].concat();
    let trace = write(&dir, "t.ndjson.zst", &trace_around(&window_frame(31)));
    for strict in [false, true] {
        let report = check_json(&trace, strict);
        let cut = report["cut_short"].as_str().unwrap_or_default().to_string();
        assert!(
            cut.contains(&format!(
                "the zstd frame at byte {} was refused",
                before.len()
            )) && cut.contains("2 GiB window"),
            "strict={strict}: {report}"
        );
        assert_eq!(
            report["records_by_kind"]["Pod"], 1,
            "what comes before is kept"
        );
    }
    // A 128 MiB window is what zstd accepts by default, and so does kblame.
    let trace = write(&dir, "ok.ndjson.zst", &trace_around(&window_frame(27)));
    assert_eq!(check_json(&trace, false)["cut_short"], Value::Null);
}

#[test]
fn a_frame_that_lies_about_its_size_is_damaged_and_allocates_nothing_for_it() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let [header, pod, _] = lines();
    let before = [frame(&header), frame(&pod)].concat();
    for size in [1u64 << 40, u64::MAX - 1, 3] {
        let liar = lie_about_size(
            &frame("{\"ts\":\"2026-11-26T16:00:02Z\",\"type\":\"SYNCED\"}"),
            size,
        );
        let trace = write(&dir, "t.ndjson.zst", &trace_around(&liar));
        for strict in [false, true] {
            let report = check_json(&trace, strict);
            let cut = report["cut_short"].as_str().unwrap_or_default().to_string();
            assert!(
                cut.contains(&format!("zstd frame at byte {}", before.len())),
                "size {size} strict={strict}: {report}"
            );
            assert_eq!(report["records_by_kind"]["Pod"], 1, "{report}");
        }
    }
}

#[test]
fn a_zip_bomb_is_read_in_bounded_memory() {
    let dir = tempfile::tempdir().expect("a temp dir");
    // A gigabyte of text in a few kilobytes: declared (too large to decompress whole), and not
    // declared (found too large while decompressing); both are read as one stream.
    for declared in [true, false] {
        let bomb = long_line_frame(1 << 30, declared);
        assert!(bomb.len() < 64 << 10);
        let trace = write(&dir, "bomb.ndjson.zst", &trace_around(&bomb));
        let report = check_json(&trace, false);
        assert_eq!(report["bad_lines"], 1, "{report}");
        assert_eq!(report["records_by_kind"]["Pod"], 2, "{report}");
    }
}

#[test]
fn millions_of_empty_lines_are_counted_cheaply() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let empty = rle_frame(b'\n', 20 << 20, true);
    let trace = write(&dir, "t.ndjson.zst", &trace_around(&empty));
    for strict in [false, true] {
        let report = check_json(&trace, strict);
        assert_eq!(report["lines"], (20 << 20) + 4, "{report}");
        assert_eq!(report["whole"], true, "{report}");
    }
}
