//! The index: a question answered from the index (reading only the records it needs) gets the
//! same answer as from a whole replay, and saved indexes are used only when they still match.

use std::path::{Path, PathBuf};

use kblame::query::pod::{analyze_pod, PodQuery};
use kblame::query::rollout::{rollout, RolloutQuery};
use kblame::query::select::ObjectQuery;
use kblame::query::{self, IndexMode, Loaded, Scope};
use kblame::trace::TraceSource;
use serde_json::Value;

use super::support::{fixture, kblame, stderr, stdout};

fn fixtures() -> Vec<PathBuf> {
    let mut traces: Vec<PathBuf> = std::fs::read_dir(fixture(""))
        .expect("fixtures/")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.to_string_lossy().ends_with(".ndjson.zst"))
        .collect();
    traces.sort();
    assert!(traces.len() >= 14, "{traces:?}");
    traces
}

fn whole(trace: &Path) -> Loaded {
    query::load(&TraceSource::Path(trace.to_path_buf())).expect("fixture loads")
}

fn scoped(trace: &Path, scope: &Scope) -> Loaded {
    query::open(
        &TraceSource::Path(trace.to_path_buf()),
        IndexMode::Never,
        |_| {},
    )
    .expect("fixture opens")
    .load(scope)
    .expect("scope loads")
}

fn json<T: serde::Serialize, E: std::fmt::Debug>(result: Result<T, E>) -> Value {
    match result {
        Ok(report) => serde_json::to_value(report).expect("serializes"),
        Err(err) => Value::String(format!("{err:?}")),
    }
}

/// A repeat question: the first fills the record cache beside a copy of the trace, the second
/// reads its records from there.
fn cached(trace: &Path, scope: &Scope) -> Loaded {
    let open = || {
        query::open(
            &TraceSource::Path(trace.to_path_buf()),
            IndexMode::Always,
            |_| {},
        )
        .expect("fixture opens")
    };
    open().load(scope).expect("scope loads");
    open().load(scope).expect("scope loads from the cache")
}

#[test]
fn every_pod_and_rollout_answer_is_the_same_from_the_index_as_from_a_whole_replay() {
    every_pod_and_rollout_answer_is_the_same(fixtures(), scoped);
}

/// Issue 15: records read from the record cache answer as records read from the trace.
#[test]
fn every_pod_and_rollout_answer_is_the_same_through_the_record_cache() {
    let dir = tempfile::tempdir().unwrap();
    let copies: Vec<PathBuf> = fixtures()
        .iter()
        .map(|trace| {
            let copy = dir.path().join(trace.file_name().unwrap());
            std::fs::copy(trace, &copy).unwrap();
            copy
        })
        .collect();
    every_pod_and_rollout_answer_is_the_same(copies.clone(), cached);
    for copy in copies {
        let cache = PathBuf::from(format!("{}.kbcache", copy.display()));
        assert!(cache.exists(), "no record cache beside {}", copy.display());
    }
}

fn every_pod_and_rollout_answer_is_the_same(
    traces: Vec<PathBuf>,
    scoped: impl Fn(&Path, &Scope) -> Loaded,
) {
    let mut compared = 0;
    for trace in traces {
        let mut full = whole(&trace);
        let objects: Vec<(String, String, String, String)> = full
            .history
            .objects()
            .iter()
            .filter(|o| o.kind == "Pod" || o.kind == "Deployment")
            .map(|o| {
                (
                    o.kind.clone(),
                    o.namespace.clone(),
                    o.name.clone(),
                    o.uid.clone(),
                )
            })
            .collect();
        for (kind, namespace, name, uid) in objects {
            let object = ObjectQuery {
                kind: kind.clone(),
                name: name.clone(),
                namespace: Some(namespace.clone()),
                uid: None,
                group: None,
            };
            let (expected, got) = if kind == "Pod" {
                // By name (the newest of that name) and by UID.
                for uid in [None, Some(uid)] {
                    let query = PodQuery {
                        name: name.clone(),
                        namespace: Some(namespace.clone()),
                        uid,
                    };
                    let mut part = scoped(
                        &trace,
                        &Scope::Around(ObjectQuery {
                            uid: query.uid.clone(),
                            ..object.clone()
                        }),
                    );
                    assert_eq!(
                        json(analyze_pod(&mut part, &query)),
                        json(analyze_pod(&mut full, &query)),
                        "{} pod {namespace}/{name}",
                        trace.display()
                    );
                }
                continue;
            } else {
                let mut part = scoped(&trace, &Scope::Around(object.clone()));
                let query = RolloutQuery { object, at: None };
                (
                    json(rollout(&mut full, &query)),
                    json(rollout(&mut part, &query)),
                )
            };
            assert_eq!(
                got,
                expected,
                "{} {kind} {namespace}/{name}",
                trace.display()
            );
            compared += 1;
        }
    }
    assert!(compared >= 16, "compared {compared} rollouts");
}

#[test]
fn a_missing_object_gets_the_same_near_matches_from_the_index() {
    let trace = fixture("seed-demo.ndjson.zst");
    let mut full = whole(&trace);
    let query = PodQuery {
        name: "web-7d".to_string(),
        namespace: None,
        uid: None,
    };
    let object = ObjectQuery {
        kind: "Pod".to_string(),
        name: query.name.clone(),
        namespace: None,
        uid: None,
        group: None,
    };
    let mut part = scoped(&trace, &Scope::Around(object));
    let expected = json(analyze_pod(&mut full, &query));
    assert!(
        expected.as_str().is_some_and(|e| e.contains("NotFound")),
        "{expected}"
    );
    assert_eq!(json(analyze_pod(&mut part, &query)), expected);
}

#[test]
fn check_counts_the_whole_trace_from_the_index() {
    for trace in fixtures() {
        let full = query::check::check(&whole(&trace));
        let indexed = query::check::check(&scoped(&trace, &Scope::Nothing));
        assert_eq!(
            serde_json::to_value(indexed).unwrap(),
            serde_json::to_value(full).unwrap(),
            "{}",
            trace.display()
        );
    }
}

fn index_of(trace: &Path) -> PathBuf {
    PathBuf::from(format!("{}.kbidx", trace.display()))
}

fn analyze(trace: &Path) -> String {
    let out = kblame(&[
        "--index",
        "always",
        "analyze",
        trace.to_str().unwrap(),
        "--object",
        "deployment/search",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    stdout(&out)
}

#[test]
fn a_saved_index_is_reused_and_rebuilt_when_stale_or_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.ndjson.zst");
    std::fs::copy(fixture("rollout-undo.ndjson.zst"), &trace).unwrap();
    let first = analyze(&trace);
    let index = index_of(&trace);
    let saved = std::fs::read(&index).expect("--index always saves an index beside the trace");

    // Reused: the same answer, and the file is not rewritten.
    let modified = std::fs::metadata(&index).unwrap().modified().unwrap();
    assert_eq!(analyze(&trace), first);
    assert_eq!(
        std::fs::metadata(&index).unwrap().modified().unwrap(),
        modified
    );

    // Damaged anywhere (head, record table, UID table): the answer never changes, and damage
    // the question runs into makes kblame build and save the index again.
    for eighth in 1..8 {
        let mut damaged = saved.clone();
        let at = damaged.len() * eighth / 8;
        damaged[at] ^= 0xff;
        std::fs::write(&index, &damaged).unwrap();
        assert_eq!(
            analyze(&trace),
            first,
            "byte {at} of {} flipped",
            saved.len()
        );
    }
    let mut damaged = saved.clone();
    damaged[30] ^= 0xff;
    std::fs::write(&index, &damaged).unwrap();
    assert_eq!(analyze(&trace), first);
    assert_eq!(
        std::fs::read(&index).unwrap(),
        saved,
        "a damaged head is written again"
    );
    std::fs::write(&index, &saved[..saved.len() - 1]).unwrap();
    assert_eq!(analyze(&trace), first);
    assert_eq!(
        std::fs::read(&index).unwrap(),
        saved,
        "a cut index is written again"
    );

    // Not an index at all: the same.
    std::fs::write(&index, b"garbage").unwrap();
    assert_eq!(analyze(&trace), first);
    assert_eq!(std::fs::read(&index).unwrap(), saved);

    // Stale: the trace changed (another trace of another size); the answer follows the trace.
    std::fs::copy(fixture("seed-demo.ndjson.zst"), &trace).unwrap();
    let out = kblame(&[
        "--index",
        "always",
        "check",
        trace.to_str().unwrap(),
        "-o",
        "json",
    ]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let direct = kblame(&[
        "--index",
        "never",
        "check",
        fixture("seed-demo.ndjson.zst").to_str().unwrap(),
        "-o",
        "json",
    ]);
    let expected: Value = serde_json::from_slice(&direct.stdout).unwrap();
    assert_eq!(report["records_by_type"], expected["records_by_type"]);
    assert_ne!(std::fs::read(&index).unwrap(), saved);
}

#[test]
fn small_traces_are_not_indexed_on_disk_by_default_and_never_means_never() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.ndjson.zst");
    std::fs::copy(fixture("seed-demo.ndjson.zst"), &trace).unwrap();
    for mode in ["auto", "never"] {
        let out = kblame(&["--index", mode, "check", trace.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0));
        assert!(!index_of(&trace).exists(), "--index {mode} wrote an index");
        let pod = ["--pod", "web-7cd8774fb8-znhz4"];
        let out = kblame(&[
            "--index",
            mode,
            "analyze",
            trace.to_str().unwrap(),
            pod[0],
            pod[1],
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(
            !cache_of(&trace).exists(),
            "--index {mode} wrote a record cache"
        );
    }
}

fn cache_of(trace: &Path) -> PathBuf {
    PathBuf::from(format!("{}.kbcache", trace.display()))
}

/// Issue 15: a repeat question reads its records from the record cache; a cache that is damaged,
/// cut or stale is never trusted, only read around and written again.
#[cfg(unix)]
#[test]
fn a_record_cache_is_reused_and_rewritten_when_damaged_cut_or_stale() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.ndjson.zst");
    std::fs::copy(fixture("rollout-undo.ndjson.zst"), &trace).unwrap();
    set_mode(&trace, 0o600);
    let first = analyze(&trace);
    let cache = cache_of(&trace);
    let saved = std::fs::read(&cache).expect("--index always saves a record cache");
    assert_eq!(
        mode_of(&cache),
        0o600,
        "the cache holds what the trace does"
    );
    let modified = std::fs::metadata(&cache).unwrap().modified().unwrap();
    assert_eq!(analyze(&trace), first);
    assert_eq!(
        std::fs::metadata(&cache).unwrap().modified().unwrap(),
        modified,
        "a question the cache holds does not write it"
    );
    for eighth in 0..8 {
        let mut damaged = saved.clone();
        let at = (damaged.len() * eighth / 8).max(1);
        damaged[at] ^= 0xff;
        std::fs::write(&cache, &damaged).unwrap();
        assert_eq!(
            analyze(&trace),
            first,
            "byte {at} of {} flipped",
            saved.len()
        );
        assert_eq!(
            std::fs::read(&cache).unwrap(),
            saved,
            "byte {at}: written again"
        );
    }
    std::fs::write(&cache, &saved[..saved.len() - 1]).unwrap();
    assert_eq!(analyze(&trace), first);
    assert_eq!(
        std::fs::read(&cache).unwrap(),
        saved,
        "a cut cache is written again"
    );
    std::fs::write(&cache, b"garbage").unwrap();
    assert_eq!(analyze(&trace), first);
    assert_eq!(std::fs::read(&cache).unwrap(), saved);
    // Stale: the trace was touched (same bytes, another stamp).
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    let file = std::fs::File::options().write(true).open(&trace).unwrap();
    file.set_modified(later).unwrap();
    drop(file);
    assert_eq!(analyze(&trace), first);
    let rewritten = std::fs::read(&cache).unwrap();
    assert_ne!(
        rewritten, saved,
        "a stale cache is written again for the new stamp"
    );

    // Questions running at once each replace the cache whole: every answer is right, and what
    // is left is a cache the next question uses as it is.
    std::fs::remove_file(&cache).unwrap();
    let path = trace.to_str().unwrap().to_string();
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || analyze(Path::new(&path)))
        })
        .collect();
    for run in runs {
        assert_eq!(run.join().unwrap(), first);
    }
    let modified = std::fs::metadata(&cache).unwrap().modified().unwrap();
    assert_eq!(analyze(&trace), first);
    assert_eq!(
        std::fs::metadata(&cache).unwrap().modified().unwrap(),
        modified,
        "the cache concurrent questions left is whole"
    );
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(unix)]
fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// `--index` is a global option: kubectl users type options after the subcommand, and it means
/// the same there (issue 15).
#[test]
fn index_is_accepted_after_the_subcommand_too() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.ndjson.zst");
    std::fs::copy(fixture("seed-demo.ndjson.zst"), &trace).unwrap();
    let path = trace.to_str().unwrap();
    let out = kblame(&["check", path, "--index", "always"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        index_of(&trace).exists(),
        "--index always after check wrote no index"
    );
    std::fs::remove_file(index_of(&trace)).unwrap();
    let pod = ["--pod", "web-7cd8774fb8-znhz4"];
    let after = kblame(&["analyze", path, pod[0], pod[1], "--index", "never"]);
    let before = kblame(&["--index", "never", "analyze", path, pod[0], pod[1]]);
    assert_eq!(after.status.code(), Some(0), "{}", stderr(&after));
    assert_eq!(stdout(&after), stdout(&before));
    assert!(!index_of(&trace).exists(), "--index never wrote an index");
}

#[test]
fn check_and_check_strict_agree_on_every_fixture() {
    for trace in fixtures() {
        let trace = trace.to_str().unwrap();
        let quick = kblame(&["--index", "never", "check", trace, "-o", "json"]);
        let strict = kblame(&["check", "--strict", trace, "-o", "json"]);
        assert_eq!(quick.status.code(), strict.status.code(), "{trace}");
        assert_eq!(stdout(&quick), stdout(&strict), "{trace}");
    }
}

#[test]
fn a_pod_chosen_by_uid_is_found_through_a_saved_index() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.ndjson.zst");
    std::fs::copy(fixture("manual-delete.ndjson.zst"), &trace).unwrap();
    let full = whole(&trace);
    let pod = full
        .history
        .objects()
        .iter()
        .find(|o| o.kind == "Pod")
        .expect("a pod");
    let (name, uid) = (pod.name.clone(), pod.uid.clone());
    let path = trace.to_str().unwrap();
    let args = |mode: &'static str| {
        let out = kblame(&[
            "--index", mode, "analyze", path, "--pod", &name, "--uid", &uid, "-o", "json",
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
        stdout(&out)
    };
    let expected = args("never");
    assert_eq!(args("always"), expected, "building the index");
    assert!(index_of(&trace).exists());
    assert_eq!(args("always"), expected, "from the saved index");
}

/// Issue 9: a checksum says an index file is as written, not that it was written by kblame. A
/// saved index whose tables point nowhere (written with good checksums, as a hostile file could
/// be) is rebuilt, never trusted: no panic, no huge allocation, the same answer.
#[test]
fn a_saved_index_pointing_nowhere_is_rebuilt_not_trusted() {
    use kblame::index::build::build;
    use kblame::index::store::{self, TraceStamp};
    use kblame::index::{RecordLoc, NO_OBJECT};

    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.ndjson.zst");
    std::fs::copy(fixture("rollout-undo.ndjson.zst"), &trace).unwrap();
    let first = analyze(&trace);
    let stamp = TraceStamp::of(&trace).unwrap();
    let clean = build(&trace, "trace", &mut |_, _| {}).expect("the fixture indexes");
    let objects = clean.objects.len() as u32;
    type Damage<'a> = Box<dyn Fn(&mut kblame::index::TraceIndex) + 'a>;
    let hostile: Vec<(&str, Damage)> = vec![
        (
            "an object id past the table",
            Box::new(|index| {
                index
                    .object_of_uid
                    .iter_mut()
                    .for_each(|id| *id = objects + 7)
            }),
        ),
        (
            "a child that does not exist",
            Box::new(|index| {
                index
                    .children
                    .iter_mut()
                    .for_each(|(_, id)| *id = u32::MAX - 1)
            }),
        ),
        (
            "record ranges past the record table",
            Box::new(|index| {
                index
                    .objects
                    .iter_mut()
                    .for_each(|o| o.records = (0, u32::MAX))
            }),
        ),
        (
            "a frame past the end of the trace",
            Box::new(|index| {
                index
                    .frames
                    .iter_mut()
                    .for_each(|f| f.offset = u64::MAX / 2)
            }),
        ),
        (
            "records past the end of their frame",
            Box::new(|index| {
                index.records.iter_mut().for_each(|r| {
                    *r = RecordLoc {
                        offset: u32::MAX - 1,
                        len: u32::MAX - 1,
                        ..*r
                    }
                })
            }),
        ),
    ];
    for (what, damage) in hostile {
        let mut index = clean.clone();
        damage(&mut index);
        store::save(&trace, &stamp, &index).expect("saved");
        assert_eq!(analyze(&trace), first, "{what}");
    }
    assert_ne!(NO_OBJECT, objects + 7);
}
