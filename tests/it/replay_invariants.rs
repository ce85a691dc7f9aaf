//! Replay invariants (issue 9): rewriting a fixture in ways the recorder may legitimately produce
//! never changes an answer. For every fixture:
//!
//! * (a) a LISTED…SYNCED block of the initial list is repeated right after itself;
//! * (b) a re-list that repeats what was known — GAP, LISTED of every current object of the
//!   resource as last recorded, SYNCED — is inserted somewhere in the watch. Each LISTED copy keeps
//!   the time of the record it repeats: stamped with the re-list's time it would say something
//!   new (that the object still existed then), which rightly narrows, say, the window in which a
//!   pod missing from a later re-list was deleted;
//! * (c) neighbouring object records of different resources are reordered, where their times
//!   are less than [`WATCH_SKEW`] apart (each record keeps its own `ts`: the recorder stamps a
//!   record when its watch stream delivers it, and the streams are merged in arrival order).
//!
//! What must be equal: the JSON of `analyze --pod` for every pod and of `analyze --object` for
//! every Deployment, with two things set aside. Line numbers: the rewrite moves records, so every
//! line a report cites (`line`, `record_line`, and "line N" inside sentences) is mapped back to
//! the line of the original record it copies. Warnings: they describe the trace itself (a watch
//! gap, a re-list, records out of time order), which the rewrite changes on purpose. Everything
//! else — lineage, revision, change, manager, evidence, creation and deletion reasons, restarts,
//! final state, revisions' outcomes and pods — is a conclusion about the cluster, which the
//! rewrite does not change.
//!
//! Why seeded loops rather than proptest: the inputs are fixed fixtures and each rewrite has one
//! or two parameters (which block, where), so generated cases shrink to nothing interesting; a
//! failure names its fixture, rewrite and seed, which reproduce it exactly, and the suite adds no
//! dependency.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Mutex;

use kblame::query::pod::PodQuery;
use kblame::query::rollout::RolloutQuery;
use kblame::query::select::ObjectQuery;
use kblame::trace::TraceSource;
use kblame::workload::WATCH_SKEW;
use serde_json::{json, Value};

use super::support::{fixture, SIMULATED as FIXTURES};

/// A trace as records, each with the line it had in the fixture.
#[derive(Clone)]
struct Records(Vec<(u64, Value)>);

impl Records {
    fn of_fixture(name: &str) -> Records {
        let bytes = std::fs::read(fixture(&format!("{name}.ndjson.zst"))).expect("a fixture");
        let text = zstd::decode_all(&bytes[..]).expect("fixtures decompress");
        let lines = text
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .enumerate()
            .map(|(i, line)| (i as u64 + 1, serde_json::from_slice(line).expect("JSON")))
            .collect();
        Records(lines)
    }

    /// Writes the trace (plain NDJSON) and returns, for each of its lines, the original line.
    fn write(&self, path: &Path) -> BTreeMap<u64, u64> {
        let mut text = Vec::new();
        for (_, value) in &self.0 {
            text.extend(serde_json::to_vec(value).expect("serializes"));
            text.push(b'\n');
        }
        std::fs::write(path, text).expect("written");
        (1..)
            .zip(&self.0)
            .map(|(line, (original, _))| (line, *original))
            .collect()
    }

    fn kind(&self, i: usize) -> &str {
        self.0[i].1["object"]["kind"].as_str().unwrap_or("")
    }

    fn record_type(&self, i: usize) -> &str {
        self.0[i].1["type"].as_str().unwrap_or("")
    }

    fn ts(&self, i: usize) -> jiff::Timestamp {
        self.0[i].1["ts"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .expect("fixture times parse")
    }

    /// The first line of the watch: after the last SYNCED of the initial lists.
    fn watch_start(&self) -> usize {
        let mut last_sync = 0;
        for i in 0..self.0.len() {
            match self.record_type(i) {
                "SYNCED" => last_sync = i,
                "HEADER" | "LISTED" => {}
                _ => break,
            }
        }
        last_sync + 1
    }
}

/// The resource a kind is recorded as, from the header.
fn resource_of(records: &Records, kind: &str) -> Option<String> {
    records.0[0].1["resources"]
        .as_array()?
        .iter()
        .find(|r| r["kind"] == kind)
        .and_then(|r| {
            let (version, resource) = (r["version"].as_str()?, r["resource"].as_str()?);
            Some(match r["group"].as_str().unwrap_or("") {
                "" => format!("{version}/{resource}"),
                group => format!("{group}/{version}/{resource}"),
            })
        })
}

/// (a) Repeats the LISTED…SYNCED block of one resource of the initial list right after itself.
fn duplicate_list(records: &Records, which: usize) -> Option<Records> {
    let start = records.watch_start();
    let syncs: Vec<usize> = (0..start)
        .filter(|&i| records.record_type(i) == "SYNCED")
        .collect();
    let end = *syncs.get(which % syncs.len().max(1))?;
    let begin = syncs.iter().rev().find(|&&s| s < end).map_or(1, |&s| s + 1);
    let mut out = records.0[..=end].to_vec();
    out.extend_from_slice(&records.0[begin..=end]);
    out.extend_from_slice(&records.0[end + 1..]);
    Some(Records(out))
}

/// (b) Inserts, before record `at`, a GAP of `kind`'s resource, a LISTED record of every object of
/// that kind as last recorded before `at` (unless deleted, and with that record's time), and the
/// SYNCED that ends the re-list.
fn relist_known(records: &Records, at: usize, kind: &str) -> Option<Records> {
    let resource = resource_of(records, kind)?;
    let mut current: BTreeMap<String, (u64, Value)> = BTreeMap::new();
    for (line, value) in &records.0[..at] {
        if value["object"]["kind"] != kind {
            continue;
        }
        let uid = value["object"]["metadata"]["uid"].as_str()?.to_string();
        match value["type"].as_str() {
            Some("DELETED") => {
                current.remove(&uid);
            }
            _ => {
                current.insert(uid, (*line, value.clone()));
            }
        }
    }
    let ts = records.0[at - 1].1["ts"].clone();
    let gap_line = records.0[at - 1].0;
    let mut out = records.0[..at].to_vec();
    out.push((
        gap_line,
        json!({"ts": ts, "type": "GAP", "resource": resource, "reason": "410 Gone"}),
    ));
    let mut listed: Vec<(u64, Value)> = current.into_values().collect();
    listed.sort_by_key(|(line, _)| *line);
    for (line, mut value) in listed {
        value["type"] = json!("LISTED");
        out.push((line, value));
    }
    out.push((
        gap_line,
        json!({"ts": ts, "type": "SYNCED", "resource": resource, "resourceVersion": "1"}),
    ));
    out.extend_from_slice(&records.0[at..]);
    Some(Records(out))
}

/// (c) Swaps neighbouring object records of different kinds less than [`WATCH_SKEW`] apart, from
/// `from` on, every `every`-th chance; returns how many were swapped.
fn reorder(records: &Records, from: usize, every: usize) -> (Records, usize) {
    let mut out = records.clone();
    let mut swapped = 0;
    let mut i = from.max(records.watch_start());
    let mut candidate = 0;
    while i + 1 < out.0.len() {
        let objects = out.0[i].1["object"].is_object() && out.0[i + 1].1["object"].is_object();
        let apart = out.ts(i).duration_until(out.ts(i + 1)).abs();
        if objects && out.kind(i) != out.kind(i + 1) && apart < WATCH_SKEW {
            candidate += 1;
            if candidate % every == 0 {
                out.0.swap(i, i + 1);
                swapped += 1;
                i += 2;
                continue;
            }
        }
        i += 1;
    }
    (out, swapped)
}

/// Every answer the invariants compare: `analyze --pod` for each pod and `analyze --object` for
/// each Deployment, by UID, as normalized JSON.
fn answers(path: &Path, lines: &BTreeMap<u64, u64>) -> BTreeMap<String, Value> {
    let source = TraceSource::Path(path.to_path_buf());
    // One replay answers every question: a question adds revision and change nodes to the graph,
    // which no question reads (each builds its models afresh), so the answers are those of one
    // replay per question, at a third of the cost.
    let mut loaded = kblame::query::load(&source).expect("the rewritten trace reads");
    let mut targets: BTreeSet<(String, String, String)> = BTreeSet::new();
    for object in loaded.history.objects() {
        if object.kind == "Pod" || object.kind == "Deployment" {
            targets.insert((object.kind.clone(), object.name.clone(), object.uid.clone()));
        }
    }
    let mut out = BTreeMap::new();
    for (kind, name, uid) in targets {
        let answer = match kind.as_str() {
            "Pod" => {
                let query = PodQuery {
                    name: name.clone(),
                    namespace: None,
                    uid: Some(uid.clone()),
                };
                serde_json::to_value(
                    kblame::query::pod::analyze_pod(&mut loaded, &query).expect("answered"),
                )
            }
            _ => {
                let query = RolloutQuery {
                    object: ObjectQuery {
                        kind: "Deployment".into(),
                        name: name.clone(),
                        namespace: None,
                        uid: Some(uid.clone()),
                        group: None,
                    },
                    at: None,
                };
                serde_json::to_value(
                    kblame::query::rollout::rollout(&mut loaded, &query).expect("answered"),
                )
            }
        };
        let mut answer = answer.expect("reports serialize");
        if let Some(map) = answer.as_object_mut() {
            map.remove("warnings");
        }
        normalize_lines(&mut answer, lines);
        out.insert(format!("{kind} {name} {uid}"), answer);
    }
    out
}

/// Maps every line number the answer cites back to the original record's line.
fn normalize_lines(value: &mut Value, lines: &BTreeMap<u64, u64>) {
    let map = |n: u64| lines.get(&n).copied().unwrap_or(n);
    match value {
        Value::Object(fields) => {
            for (key, field) in fields.iter_mut() {
                match (key.as_str(), field.as_u64()) {
                    ("line" | "record_line", Some(n)) => *field = json!(map(n)),
                    _ => normalize_lines(field, lines),
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| normalize_lines(item, lines)),
        Value::String(text) => *text = normalize_text(text, &map),
        _ => {}
    }
}

/// "… (line 57) …" with 57 mapped.
fn normalize_text(text: &str, map: &impl Fn(u64) -> u64) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("line ") {
        out.push_str(&rest[..at + 5]);
        rest = &rest[at + 5..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if let Ok(n) = rest[..digits].parse::<u64>() {
            out.push_str(&map(n).to_string());
        } else {
            out.push_str(&rest[..digits]);
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

/// The differences between two sets of answers, for the failure message.
fn differences(base: &BTreeMap<String, Value>, other: &BTreeMap<String, Value>) -> Vec<String> {
    let mut found = Vec::new();
    for (key, answer) in base {
        match other.get(key) {
            None => found.push(format!("{key}: missing")),
            Some(changed) if changed != answer => {
                let mut paths = Vec::new();
                diff_paths(answer, changed, String::new(), &mut paths);
                found.push(format!("{key}: {}", paths.join("; ")));
            }
            Some(_) => {}
        }
    }
    found
}

fn diff_paths(a: &Value, b: &Value, at: String, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for key in keys {
                let null = Value::Null;
                diff_paths(
                    x.get(key).unwrap_or(&null),
                    y.get(key).unwrap_or(&null),
                    format!("{at}.{key}"),
                    out,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                diff_paths(p, q, format!("{at}[{i}]"), out);
            }
        }
        _ if a != b => out.push(format!("{at}: {a} → {b}")),
        _ => {}
    }
}

fn check_invariant(
    name: &str,
    what: &str,
    base: &BTreeMap<String, Value>,
    variant: &Records,
    dir: &Path,
) {
    let path = dir.join(format!("{name}-{}.ndjson", what.replace(' ', "-")));
    let lines = variant.write(&path);
    let answers = answers(&path, &lines);
    let found = differences(base, &answers);
    assert!(
        found.is_empty(),
        "{name}, {what}: answers changed:\n{}",
        found.join("\n")
    );
}

/// The fixture's records and its answers (computed once for all three tests).
fn baseline(name: &str, dir: &Path) -> (Records, BTreeMap<String, Value>) {
    type Answers = BTreeMap<String, Value>;
    static CACHE: Mutex<BTreeMap<String, Answers>> = Mutex::new(BTreeMap::new());
    let records = Records::of_fixture(name);
    if let Some(answers) = CACHE.lock().ok().and_then(|c| c.get(name).cloned()) {
        return (records, answers);
    }
    let path = dir.join(format!("{name}.ndjson"));
    let lines = records.write(&path);
    let answers = answers(&path, &lines);
    if let Ok(mut cache) = CACHE.lock() {
        cache.insert(name.to_string(), answers.clone());
    }
    (records, answers)
}

#[test]
fn repeating_a_list_block_changes_no_answer() {
    let dir = tempfile::tempdir().expect("a temp dir");
    for (seed, name) in FIXTURES.iter().enumerate() {
        let (records, base) = baseline(name, dir.path());
        let variant = duplicate_list(&records, seed).expect("an initial list");
        check_invariant(
            name,
            &format!("list block {seed} repeated"),
            &base,
            &variant,
            dir.path(),
        );
    }
}

#[test]
fn a_relist_of_what_was_known_changes_no_answer() {
    let dir = tempfile::tempdir().expect("a temp dir");
    for (seed, name) in FIXTURES.iter().enumerate() {
        let (records, base) = baseline(name, dir.path());
        let start = records.watch_start();
        let span = records.0.len() - start;
        let kinds = ["Pod", "ReplicaSet", "Deployment", "Event"];
        for (i, kind) in [kinds[seed % 4], kinds[(seed + 1) % 4]].iter().enumerate() {
            let at = start + 1 + (seed * 7 + i * 13) % span.max(1);
            let at = at.min(records.0.len() - 1);
            let Some(variant) = relist_known(&records, at, kind) else {
                continue;
            };
            check_invariant(
                name,
                &format!("re-list of {kind}s before record {at}"),
                &base,
                &variant,
                dir.path(),
            );
        }
    }
}

#[test]
fn reordering_records_within_the_watch_skew_changes_no_answer() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut swaps = 0;
    for name in FIXTURES {
        let (records, base) = baseline(name, dir.path());
        for every in [1, 2, 3] {
            let (variant, swapped) = reorder(&records, 0, every);
            swaps += swapped;
            if swapped > 0 {
                check_invariant(
                    name,
                    &format!("every {every} neighbours swapped"),
                    &base,
                    &variant,
                    dir.path(),
                );
            }
        }
    }
    assert!(
        swaps > 50,
        "only {swaps} records were reordered: the fixtures changed?"
    );
}
