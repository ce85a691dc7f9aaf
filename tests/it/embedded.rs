//! The index at the end of a trace (issue 15): trusted only when it holds together, the same
//! as the index a scan builds, invisible to every reader of the text, and a first question
//! answered from it reads no more than it needs.

use std::path::{Path, PathBuf};

use kblame::index::build::build;
use kblame::index::embedded;
use kblame::index::store::{self, TraceStamp};
use kblame::index::TraceIndex;
use kblame::query::pod::{analyze_pod, PodQuery};
use kblame::query::{self, IndexMode, Opened, Scope};
use kblame::trace::TraceSource;
use serde_json::Value;

use kblame::trace::{Header, SourceInfo, TraceWriter, WriterOptions};

use super::support::{at, fixture, kblame, stderr, stdout, two_pods, write_trace};

/// An index as bytes, to compare two.
fn bytes_of(index: &TraceIndex) -> Vec<u8> {
    let stamp = TraceStamp {
        size: 0,
        modified_secs: 0,
        modified_nanos: 0,
    };
    store::encode(&stamp, index).expect("encodes")
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

fn source(path: &Path) -> TraceSource {
    TraceSource::Path(path.to_path_buf())
}

/// Opens `path` as a question does; `true` when that scanned the trace (reported progress).
fn open(path: &Path, mode: IndexMode) -> (Opened, bool) {
    let mut scanned = false;
    let opened = query::open(&source(path), mode, |_| scanned = true).expect("opens");
    (opened, scanned)
}

/// `kblame ARGS` → (exit code, stdout).
fn answer(args: &[&str]) -> (Option<i32>, String) {
    let out = kblame(args);
    assert_ne!(out.status.code(), Some(101), "panicked: {}", stderr(&out));
    (out.status.code(), stdout(&out))
}

fn index_beside(trace: &Path) -> PathBuf {
    PathBuf::from(format!("{}.kbidx", trace.display()))
}

#[test]
fn every_fixture_with_its_index_appended_answers_as_a_whole_replay() {
    let dir = tempfile::tempdir().unwrap();
    let mut appended = 0;
    let mut compared = 0;
    for name in super::support::SIMULATED {
        let original = fixture(&format!("{name}.ndjson.zst"));
        let trace = dir.path().join(format!("{name}.ndjson.zst"));
        std::fs::copy(&original, &trace).unwrap();
        let built = build(&original, "trace", &mut |_, _| {}).expect("the fixture indexes");
        if embedded::append(&trace).is_err() {
            // Only a trace that ends in a whole frame (not the cut-short fixture) takes one.
            assert!(built.summary.cut_short.is_some(), "{name}");
            assert_eq!(size(&trace), size(&original), "{name} was changed");
            continue;
        }
        appended += 1;
        let tail = embedded::load(&trace, size(&trace)).expect("the appended index loads");
        assert_eq!(
            bytes_of(&tail),
            bytes_of(&built),
            "{name}: embedded vs built"
        );
        let rebuilt = build(&trace, "trace", &mut |_, _| {}).expect("indexes with its tail");
        assert_eq!(
            bytes_of(&rebuilt),
            bytes_of(&built),
            "{name}: a scan skips the tail"
        );
        // The text is unchanged for any zstd reader.
        let text = |path: &Path| zstd::stream::decode_all(&std::fs::read(path).unwrap()[..]);
        assert_eq!(text(&trace).unwrap(), text(&original).unwrap(), "{name}");
        // check (from the index, and streamed) says the same as of the original.
        for check in [&["check"][..], &["check", "--strict"]] {
            let args = |path: &Path| {
                let mut args = vec!["--index", "never"];
                args.extend_from_slice(check);
                args.extend(["-o", "json", path.to_str().unwrap()]);
                answer(&args.iter().map(|s| &**s).collect::<Vec<_>>())
            };
            let (mut got, mut expected) = (args(&trace), args(&original));
            assert_eq!(got.0, expected.0, "{name} {check:?}");
            let mut sizes = [&mut got.1, &mut expected.1].map(|json| {
                let mut value: Value = serde_json::from_str(json).unwrap();
                if let Some(report) = value.as_object_mut() {
                    report.retain(|key, _| key != "trace" && key != "file_bytes");
                }
                value
            });
            let [a, b] = &mut sizes;
            assert_eq!(a, b, "{name} {check:?}");
        }
        // Every pod's answer from the embedded index is the whole replay's.
        let mut full = query::load(&source(&original)).expect("loads");
        let pods: Vec<(String, String)> = full
            .history
            .objects()
            .iter()
            .filter(|o| o.kind == "Pod")
            .map(|o| (o.namespace.clone(), o.name.clone()))
            .collect();
        for (namespace, name) in pods {
            let query = PodQuery {
                name: name.clone(),
                namespace: Some(namespace.clone()),
                uid: None,
            };
            let (opened, scanned) = open(&trace, IndexMode::Auto);
            assert!(!scanned && matches!(opened, Opened::Indexed { .. }));
            let mut part = opened
                .load(&Scope::Around(kblame::query::select::ObjectQuery {
                    kind: "Pod".to_string(),
                    name: name.clone(),
                    namespace: Some(namespace.clone()),
                    uid: None,
                    group: None,
                }))
                .expect("loads");
            let json = |r: Result<_, _>| match r {
                Ok(report) => serde_json::to_value(report).unwrap(),
                Err(err) => Value::String(format!("{err:?}")),
            };
            assert_eq!(
                json(analyze_pod(&mut part, &query)),
                json(analyze_pod(&mut full, &query)),
                "{name}: pod {namespace}/{name}"
            );
            compared += 1;
        }
        assert!(!index_beside(&trace).exists(), "{name}: an index file");
    }
    assert!(appended >= 25, "appended to {appended} fixtures");
    assert!(compared >= 50, "compared {compared} pods");
}

/// A trace kblame writes answers its first question from its end: no scan, no index file, even
/// with `--index always`; `--index never` scans it and gets the same answer. (A trace of less
/// than 8 MiB of text gets no index at its end by default: one is asked for here.)
#[test]
fn a_new_trace_answers_its_first_question_without_a_scan() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.ndjson.zst");
    let header = Header::new(at(0), SourceInfo::default());
    let options = WriterOptions {
        embed_index_from: 0,
        ..WriterOptions::default()
    };
    let file = std::fs::File::create(&trace).unwrap();
    let mut writer = TraceWriter::new(file, &header, options).unwrap();
    for (secs, event, object) in two_pods() {
        writer.write_object(at(secs), event, &object).unwrap();
    }
    writer.finish(at(600)).unwrap();
    let (opened, scanned) = open(&trace, IndexMode::Always);
    assert!(!scanned && matches!(opened, Opened::Indexed { .. }));
    let (_, scanned) = open(&trace, IndexMode::Never);
    assert!(scanned, "--index never reads the trace");
    // `--index always` saved the tail beside the trace: start again without it.
    std::fs::remove_file(index_beside(&trace)).unwrap();

    let path = trace.to_str().unwrap();
    let args = ["analyze", path, "--pod", "app-abc-22222", "-o", "json"];
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kblame"))
        .args(["--index", "always"])
        .args(args)
        .env("KBLAME_LOG", "debug")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("answering from the index at its end"),
        "{}",
        stderr(&out)
    );
    // The tail is saved beside the trace for the next question, which loads only the tables
    // it needs from there.
    assert!(
        index_beside(&trace).exists(),
        "the tail was not saved beside the trace"
    );
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_kblame"))
        .args(["--index", "always"])
        .args(args)
        .env("KBLAME_LOG", "debug")
        .output()
        .unwrap();
    assert!(!stderr(&again).contains("answering from the index at its end"));
    assert_eq!(stdout(&again), stdout(&out));
    let never = answer(&[&["--index", "never"][..], &args].concat());
    assert_eq!(never, (Some(0), stdout(&out)));

    // By default a small trace carries none, and is scanned.
    let small = dir.path().join("small.ndjson.zst");
    write_trace(&small, &two_pods(), true, true);
    assert!(embedded::load(&small, size(&small)).is_err());
    let (_, scanned) = open(&small, IndexMode::Auto);
    assert!(scanned);
}

/// Appends the index of `original`'s copy and returns the copy's bytes and where its tail
/// starts.
fn with_tail(dir: &Path, original: &Path) -> (PathBuf, Vec<u8>, usize) {
    let trace = dir.join("trace.ndjson.zst");
    std::fs::copy(original, &trace).unwrap();
    embedded::append(&trace).expect("appended");
    let bytes = std::fs::read(&trace).unwrap();
    (trace, bytes, size(original) as usize)
}

/// What the index path and the stream say of a trace must agree, whatever its end holds.
fn assert_index_agrees_with_stream(trace: &Path, what: &str) {
    let path = trace.to_str().unwrap();
    let indexed = answer(&["check", path, "-o", "json"]);
    let streamed = answer(&["check", "--strict", path, "-o", "json"]);
    assert_eq!(indexed, streamed, "{what}");
    let object = ["--object", "deployment/search", "-o", "json"];
    let indexed = answer(&[&["analyze", path][..], &object].concat());
    let built = answer(&[&["--index", "never", "analyze", path][..], &object].concat());
    assert_eq!(indexed, built, "{what}");
}

#[test]
fn a_cut_trace_falls_back_to_a_scan_of_its_readable_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let (trace, bytes, data_end) = with_tail(dir.path(), &fixture("rollout-undo.ndjson.zst"));
    let tail = bytes.len() - data_end;
    let cuts = [
        bytes.len() - 1,
        bytes.len() - 9,
        bytes.len() - 20,
        data_end + tail / 2,
        data_end + 9,
        data_end,
        data_end - 7,
        data_end / 2,
    ];
    for cut in cuts {
        std::fs::write(&trace, &bytes[..cut]).unwrap();
        assert!(
            embedded::load(&trace, cut as u64).is_err(),
            "cut at {cut} of {}",
            bytes.len()
        );
        assert_index_agrees_with_stream(&trace, &format!("cut at {cut} of {}", bytes.len()));
    }
    // Cut just before its tail, the trace is the original again.
    std::fs::write(&trace, &bytes[..data_end]).unwrap();
    let (code, _) = answer(&["check", trace.to_str().unwrap()]);
    assert_eq!(code, Some(0));
}

/// A tail that lies (sizes that do not add up, an absurd frame count, a damaged or foreign
/// index) is never trusted: no panic, no huge allocation, the answer of a scan.
#[test]
fn a_lying_tail_is_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let (trace, bytes, data_end) = with_tail(dir.path(), &fixture("rollout-undo.ndjson.zst"));
    let len = bytes.len();
    let put = |bytes: &mut Vec<u8>, at: usize, word: u32| {
        bytes[at..at + 4].copy_from_slice(&word.to_le_bytes())
    };
    let frames = u32::from_le_bytes(bytes[len - 9..len - 5].try_into().unwrap()) as usize;
    let table_at = len - 9 - 8 * frames - 8;
    type Lie = Box<dyn Fn(&mut Vec<u8>)>;
    let lies: Vec<(&str, Lie)> = vec![
        (
            "a huge frame count",
            Box::new(move |b| put(b, len - 9, u32::MAX)),
        ),
        (
            "one frame fewer",
            Box::new(move |b| put(b, len - 9, frames as u32 - 1)),
        ),
        (
            "reserved descriptor bits",
            Box::new(move |b| b[len - 5] = 0x04),
        ),
        ("checksums claimed", Box::new(move |b| b[len - 5] = 0x80)),
        (
            "a data frame's size",
            Box::new(move |b| put(b, table_at + 8, 1 << 30)),
        ),
        (
            "sizes that add up but split the frames elsewhere",
            Box::new(move |b| {
                let first = u32::from_le_bytes(b[table_at + 8..table_at + 12].try_into().unwrap());
                let second =
                    u32::from_le_bytes(b[table_at + 16..table_at + 20].try_into().unwrap());
                put(b, table_at + 8, first + 1);
                put(b, table_at + 16, second - 1);
            }),
        ),
        (
            "a decompressed size",
            Box::new(move |b| put(b, table_at + 12, 12345)),
        ),
        (
            "the index frame's size",
            Box::new(move |b| put(b, data_end + 4, u32::MAX)),
        ),
        (
            "the index frame's content",
            Box::new(move |b| b[data_end + 30] ^= 0x5a),
        ),
        (
            "the index's layout",
            Box::new(move |b| put(b, data_end + 16, 99)),
        ),
    ];
    for (what, lie) in lies {
        let mut lying = bytes.clone();
        lie(&mut lying);
        std::fs::write(&trace, &lying).unwrap();
        assert!(embedded::load(&trace, len as u64).is_err(), "{what}");
        assert_index_agrees_with_stream(&trace, what);
    }

    // Another trace's tail: its sizes cannot add up to this file's.
    let other = dir.path().join("other.ndjson.zst");
    std::fs::copy(fixture("seed-demo.ndjson.zst"), &other).unwrap();
    embedded::append(&other).unwrap();
    let other = std::fs::read(&other).unwrap();
    let mut foreign = bytes[..data_end].to_vec();
    foreign.extend_from_slice(&other[size(&fixture("seed-demo.ndjson.zst")) as usize..]);
    std::fs::write(&trace, &foreign).unwrap();
    assert!(embedded::load(&trace, foreign.len() as u64).is_err());
    assert_index_agrees_with_stream(&trace, "another trace's tail");
}

/// The `zstd` tool reads a trace with its index at the end as any other (skipped when the tool
/// is not installed; the library's decoder is checked above either way).
#[test]
fn the_zstd_tool_reads_a_trace_with_its_index_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let (trace, _, _) = with_tail(dir.path(), &fixture("seed-demo.ndjson.zst"));
    let Ok(test) = std::process::Command::new("zstd")
        .args(["-t", "-q"])
        .arg(&trace)
        .output()
    else {
        return;
    };
    assert!(test.status.success(), "{}", stderr(&test));
    let decoded = std::process::Command::new("zstd")
        .args(["-d", "-c", "-q"])
        .arg(&trace)
        .output()
        .unwrap();
    let expected =
        zstd::stream::decode_all(&std::fs::read(fixture("seed-demo.ndjson.zst")).unwrap()[..])
            .unwrap();
    assert_eq!(decoded.stdout, expected);
}

#[test]
fn a_damaged_data_frame_behind_a_valid_tail_answers_from_the_readable_prefix() {
    // The tail holds, but bytes in the middle of the data do not: a question whose records
    // lie past the damage must answer as a scan of the same damaged trace without a tail does
    // (from the readable prefix, saying where it broke), not fail on the index's word.
    let dir = tempfile::tempdir().unwrap();
    let (trace, mut bytes, data_end) = with_tail(dir.path(), &fixture("rollout-undo.ndjson.zst"));
    bytes[data_end / 2..data_end / 2 + 64].fill(0);
    let questions = [
        &["report", "--format", "json", "--fail-on", "never"][..],
        &["get", "pods", "-A", "-o", "json"][..],
    ];
    let ask =
        |args: &[&str]| answer(&[&args[..1], &[trace.to_str().unwrap()], &args[1..]].concat());
    std::fs::write(&trace, &bytes).unwrap();
    let damaged: Vec<_> = questions.iter().map(|args| ask(args)).collect();
    std::fs::write(&trace, &bytes[..data_end]).unwrap();
    let scanned: Vec<_> = questions.iter().map(|args| ask(args)).collect();
    assert_eq!(damaged, scanned);
    assert!(
        damaged[0].1.contains("\"whole\": false"),
        "the report does not say the trace is damaged: {}",
        damaged[0].1
    );
}
