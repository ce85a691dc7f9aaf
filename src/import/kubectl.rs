//! `kblame import kubectl`: the output of `kubectl get` becomes a trace.
//!
//! Three shapes, mixed freely (each file plain, gzip or zstd; `-` for standard input):
//!
//! * `kubectl get -w -o json --output-watch-events`: concatenated, pretty-printed
//!   `{"type":"ADDED|MODIFIED|DELETED","object":{…}}` (read as a JSON stream, not as lines);
//!   several resources may interleave. `BOOKMARK` and `ERROR` events are skipped.
//! * `kubectl get -w -o json`: the same objects without the event wrapper. Objects before the
//!   first repeated UID are taken as the initial list (LISTED); after it a new UID is ADDED
//!   and a known one MODIFIED. A deletion prints the last state, so it shows as MODIFIED.
//! * List dumps (`kubectl get … -o json`, `kind: List` or `PodList` …): every item is LISTED at
//!   one time: `--time`, else the newest time found in all the items.
//!
//! kubectl prints no times. A watch record's `ts` is the newest time found in its object
//! (`metadata.creationTimestamp`, `deletionTimestamp`, `managedFields[].time`,
//! `status.conditions[]` `lastTransitionTime`/`lastUpdateTime`/`lastHeartbeatTime`,
//! an Event's `lastTimestamp`/`eventTime`), and never earlier than the record before it, so
//! times are monotone in input order. There are no SYNCED records, so deletions may be missed.

use std::collections::HashSet;

use jiff::Timestamp;
use serde_json::Value;

use super::{
    read_input, redacted, str_at, Described, ImportError, ImportOutcome, ImportSettings,
    LineCounter, Pending, PendingBody, Tally,
};
use crate::redact::Redactor;
use crate::trace::{parse_ts, EventType, ImportSource};

/// How an object was delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// In a watch event with this type.
    Event(EventType),
    /// A bare object of a plain watch stream.
    Bare,
    /// An item of a List dump.
    Item,
}

/// One object found in the input, in input order.
#[derive(Debug, Clone)]
struct Found {
    shape: Shape,
    object: Value,
}

/// Imports kubectl output into a trace.
///
/// # Errors
/// An input that cannot be read, no object in any input, a bad redaction setting, or a trace
/// that cannot be written.
pub fn import(settings: &ImportSettings) -> Result<ImportOutcome, ImportError> {
    let redactor = Redactor::new(&settings.redaction)?;
    let mut tally = Tally::default();
    let mut found = Vec::new();
    for name in &settings.inputs {
        let Some(text) = read_input(name, &mut tally)? else {
            continue;
        };
        for (line, value) in json_values(&text, name, &mut tally) {
            collect(value, name, line, &mut found, &mut tally);
        }
    }
    if found.is_empty() {
        return Err(ImportError::Empty {
            what: "Kubernetes object",
            files: settings.inputs.join(", "),
            seen: tally.seen(),
        });
    }
    let watch = found.iter().any(|f| f.shape != Shape::Item);
    let bare = found.iter().any(|f| f.shape == Shape::Bare);
    let items = found.iter().any(|f| f.shape == Shape::Item);
    let snapshot_time = settings.time.or_else(|| newest_of_all(&found));
    let (pending, inferred) = records(found, settings.time, snapshot_time, &redactor, &mut tally);
    tally.counts.used = pending.len() as u64;
    let shapes = Shapes { watch, bare, items };
    let caveats = caveats(shapes, settings.time, snapshot_time, inferred);
    let described = Described {
        kind: if watch { "kubectl-watch" } else { "snapshot" },
        import: ImportSource {
            levels: None,
            files: settings.inputs.clone(),
            counts: Some(tally.counts.clone()),
            caveats: caveats.clone(),
        },
        resources: Vec::new(),
        start: snapshot_time,
    };
    let records = super::write_trace(settings, &redactor, described, pending)?;
    Ok(ImportOutcome {
        records,
        counts: tally.counts,
        warnings: tally.warnings,
        caveats,
    })
}

/// The JSON values of a kubectl output: a stream of (pretty-printed) documents. Where the
/// stream breaks, the break is reported with its line and reading resumes at the next line
/// that starts with `{` (kubectl starts every document at column 0). Text that does not start
/// like JSON is read as YAML documents (`kubectl get -o yaml`).
fn json_values(text: &str, name: &str, tally: &mut Tally) -> Vec<(u64, Value)> {
    let trimmed = text.trim_start();
    if !trimmed.is_empty() && !trimmed.starts_with('{') && !trimmed.starts_with('[') {
        if let Some(values) = super::yaml_documents(text) {
            return values;
        }
    }
    let mut values = Vec::new();
    let mut lines = LineCounter::default();
    let mut base = 0;
    while base < text.len() {
        let rest = text.get(base..).unwrap_or_default();
        let base_line = lines.line_at(text, base);
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
        let mut start = 0;
        let mut broke = None;
        while let Some(next) = stream.next() {
            match next {
                Ok(value) => {
                    let tail = rest.get(start..).unwrap_or_default();
                    let begin = base + start + tail.len() - tail.trim_start().len();
                    values.push((lines.line_at(text, begin), value));
                }
                Err(err) => {
                    broke = Some(err);
                    break;
                }
            }
            start = stream.byte_offset();
        }
        let Some(err) = broke else { break };
        let at = base + start;
        // serde counts lines from where this stream began.
        let line = base_line + err.line().saturating_sub(1) as u64;
        tally.read();
        tally.skip(
            "malformed",
            Some(format!(
                "{name} line {line}: not JSON ({}), skipped",
                super::json_error(&err)
            )),
        );
        match text.get(at + 1..).and_then(|t| t.find("\n{")) {
            Some(next) => base = at + 1 + next + 1,
            None => break,
        }
    }
    values
}

/// Sorts one JSON value into watch events, bare objects and List items.
fn collect(value: Value, name: &str, line: u64, out: &mut Vec<Found>, tally: &mut Tally) {
    let Value::Object(mut map) = value else {
        tally.read();
        tally.skip(
            "not-an-object",
            Some(format!(
                "{name} line {line}: not a Kubernetes object, skipped"
            )),
        );
        return;
    };
    let event_type = map.get("type").and_then(Value::as_str).map(str::to_string);
    if let (Some(event_type), true) = (event_type, map.contains_key("object")) {
        tally.read();
        let object = map.remove("object").unwrap_or_default();
        match EventType::from_type(&event_type) {
            Some(event) if event != EventType::Listed => {
                keep(Shape::Event(event), object, name, line, out, tally)
            }
            _ => tally.skip(
                "not-a-change",
                Some(format!(
                    "{name} line {line}: a {event_type} watch event, skipped"
                )),
            ),
        }
        return;
    }
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or_default();
    if kind.ends_with("List") && map.get("items").is_some_and(Value::is_array) {
        let item_kind = kind.strip_suffix("List").unwrap_or_default().to_string();
        let api_version = map.get("apiVersion").cloned().unwrap_or_default();
        let items = match map.remove("items") {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        for mut item in items {
            tally.read();
            if let (Value::Object(fields), false) = (&mut item, item_kind.is_empty()) {
                fields
                    .entry("kind")
                    .or_insert_with(|| Value::from(item_kind.clone()));
                fields
                    .entry("apiVersion")
                    .or_insert_with(|| api_version.clone());
            }
            keep(Shape::Item, item, name, line, out, tally);
        }
        return;
    }
    tally.read();
    keep(Shape::Bare, Value::Object(map), name, line, out, tally);
}

/// Keeps an object that has a kind and a UID (replay knows objects by UID).
fn keep(
    shape: Shape,
    object: Value,
    name: &str,
    line: u64,
    out: &mut Vec<Found>,
    tally: &mut Tally,
) {
    let kind = str_at(&object, "/kind").unwrap_or_default();
    if kind.is_empty() || str_at(&object, "/metadata/uid").is_none() {
        tally.skip(
            "no-kind-or-uid",
            Some(format!(
                "{name} line {line}: an object without kind or metadata.uid, skipped"
            )),
        );
        return;
    }
    out.push(Found { shape, object });
}

/// The records in input order, with their times; and whether any time had to be inferred
/// without a time in the object.
fn records(
    found: Vec<Found>,
    given: Option<Timestamp>,
    snapshot_time: Option<Timestamp>,
    redactor: &Redactor,
    tally: &mut Tally,
) -> (Vec<Pending>, bool) {
    let fallback = given.or(snapshot_time).unwrap_or_else(Timestamp::now);
    let mut seen: HashSet<String> = HashSet::new();
    let mut initial = true;
    let mut last: Option<Timestamp> = None;
    let mut without_time = false;
    let mut pending = Vec::new();
    for Found { shape, object } in found {
        let uid = str_at(&object, "/metadata/uid")
            .unwrap_or_default()
            .to_string();
        let repeated = !seen.insert(uid);
        let event = match shape {
            Shape::Event(event) => event,
            Shape::Item => EventType::Listed,
            Shape::Bare if repeated => {
                initial = false;
                EventType::Modified
            }
            Shape::Bare if initial => EventType::Listed,
            Shape::Bare => EventType::Added,
        };
        let ts = match shape {
            Shape::Item => snapshot_time.unwrap_or(fallback),
            _ => {
                let own = newest_time(&object);
                without_time |= own.is_none();
                let ts = match (own, last) {
                    (Some(own), Some(last)) => own.max(last),
                    (Some(own), None) => own,
                    (None, Some(last)) => last,
                    (None, None) => fallback,
                };
                last = Some(ts);
                ts
            }
        };
        match redacted(redactor, object, "") {
            Ok(object) => pending.push(Pending {
                ts,
                body: PendingBody::Object { event, object },
                request: None,
                resource: None,
            }),
            Err(why) => tally.skip(
                "not-redactable",
                Some(format!(
                    "an object could not be redacted ({why}) and was not written"
                )),
            ),
        }
    }
    (pending, without_time)
}

/// The newest time written in an object (see the module doc).
fn newest_time(object: &Value) -> Option<Timestamp> {
    let mut times = Vec::new();
    for pointer in [
        "/metadata/creationTimestamp",
        "/metadata/deletionTimestamp",
        "/lastTimestamp",
        "/eventTime",
    ] {
        times.extend(str_at(object, pointer));
    }
    let list = |pointer: &str| {
        object
            .pointer(pointer)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
    };
    for entry in list("/metadata/managedFields") {
        times.extend(str_at(entry, "/time"));
    }
    for condition in list("/status/conditions") {
        for field in [
            "/lastTransitionTime",
            "/lastUpdateTime",
            "/lastHeartbeatTime",
        ] {
            times.extend(str_at(condition, field));
        }
    }
    times.into_iter().filter_map(parse_ts).max()
}

/// The newest time in any object: a List dump's time when `--time` is not given.
fn newest_of_all(found: &[Found]) -> Option<Timestamp> {
    found.iter().filter_map(|f| newest_time(&f.object)).max()
}

/// Which shapes the input held.
#[derive(Debug, Clone, Copy)]
struct Shapes {
    watch: bool,
    bare: bool,
    items: bool,
}

fn caveats(
    Shapes { watch, bare, items }: Shapes,
    given: Option<Timestamp>,
    snapshot_time: Option<Timestamp>,
    without_time: bool,
) -> Vec<String> {
    let mut caveats = vec![
        "no SYNCED records: kubectl output has no list boundaries, so deletions that the output did not show are missing".to_string(),
        "no users: kubectl output does not say who made a change (managedFields name only the manager)".to_string(),
    ];
    if watch {
        caveats.push("record times are inferred: kubectl prints no times, so each record's ts is the newest time found in its object (creation, deletion, managedFields, conditions), never earlier than the record before it".to_string());
    }
    if without_time {
        caveats.push(
            "some objects hold no time at all: they take the time of the record before them"
                .to_string(),
        );
    }
    if bare {
        caveats.push("a plain object stream (no --output-watch-events): objects before the first repeated UID are taken as the initial list (LISTED), later ones as ADDED or MODIFIED; a deletion prints the last state and shows as MODIFIED".to_string());
    }
    let time = snapshot_time.map_or("unknown".to_string(), |t| t.to_string());
    if !items {
        return caveats;
    }
    match given {
        Some(_) => caveats.push(format!("List items are LISTED at {time} (--time)")),
        None => caveats.push(format!(
            "List items are LISTED at {time}, the newest time found in the objects (set it with --time)"
        )),
    }
    caveats
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::RedactSettings;
    use serde_json::json;

    fn pod(uid: &str, created: &str, phase: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": format!("p-{uid}"), "namespace": "shop", "uid": uid,
                            "creationTimestamp": created},
               "status": {"phase": phase}})
    }

    fn import_text(text: &str, time: Option<Timestamp>) -> (ImportOutcome, Vec<Value>) {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("watch.json");
        std::fs::write(&input, text).unwrap();
        let output = dir.path().join("t.ndjson");
        let settings = ImportSettings {
            inputs: vec![input.display().to_string()],
            output: output.clone(),
            redaction: RedactSettings::default(),
            time,
        };
        let outcome = import(&settings).unwrap();
        let lines = std::fs::read_to_string(output).unwrap();
        let lines = lines
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (outcome, lines)
    }

    fn types(lines: &[Value]) -> Vec<String> {
        lines[1..]
            .iter()
            .map(|l| l["type"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn watch_events_pretty_printed_and_interleaved_keep_their_types_and_times_are_monotone() {
        let events = [
            json!({"type": "ADDED", "object": pod("a", "2026-11-26T16:00:05Z", "Pending")}),
            json!({"type": "ADDED", "object": pod("b", "2026-11-26T16:00:01Z", "Pending")}),
            json!({"type": "MODIFIED", "object": pod("a", "2026-11-26T16:00:05Z", "Running")}),
            json!({"type": "DELETED", "object": pod("b", "2026-11-26T16:00:01Z", "Running")}),
        ];
        let text: String = events.iter().map(|e| format!("{e:#}\n")).collect();
        let (outcome, lines) = import_text(&text, None);
        assert_eq!(outcome.counts.read, 4);
        assert_eq!(
            types(&lines),
            ["ADDED", "ADDED", "MODIFIED", "DELETED", "END"]
        );
        // b's own time is earlier than a's: it takes the record before it.
        assert_eq!(lines[2]["ts"], lines[1]["ts"]);
        assert_eq!(lines[0]["source"]["kind"], "kubectl-watch");
        assert!(lines[0]["source"]["caveats"][0]
            .as_str()
            .unwrap()
            .contains("no SYNCED"));
    }

    #[test]
    fn a_plain_object_stream_lists_until_the_first_repeated_uid() {
        let objects = [
            pod("a", "2026-11-26T16:00:00Z", "Running"),
            pod("b", "2026-11-26T16:00:00Z", "Running"),
            pod("a", "2026-11-26T16:00:00Z", "Failed"),
            pod("c", "2026-11-26T16:00:09Z", "Pending"),
        ];
        let text: String = objects.iter().map(|o| format!("{o:#}\n")).collect();
        let (_, lines) = import_text(&text, None);
        assert_eq!(
            types(&lines),
            ["LISTED", "LISTED", "MODIFIED", "ADDED", "END"]
        );
    }

    #[test]
    fn a_list_dump_is_listed_at_the_given_time_or_the_newest_one_found() {
        let list = json!({"apiVersion": "v1", "kind": "List",
            "items": [pod("a", "2026-11-26T16:00:00Z", "Running"), pod("b", "2026-11-26T17:00:00Z", "Running")]});
        let (_, lines) = import_text(&format!("{list:#}"), None);
        assert_eq!(types(&lines), ["LISTED", "LISTED", "END"]);
        assert_eq!(lines[1]["ts"], "2026-11-26T17:00:00.000000000Z");
        assert_eq!(lines[0]["source"]["kind"], "snapshot");
        let at: Timestamp = "2026-11-27T00:00:00Z".parse().unwrap();
        let (_, lines) = import_text(&format!("{list:#}"), Some(at));
        assert_eq!(lines[2]["ts"], "2026-11-27T00:00:00.000000000Z");
    }

    #[test]
    fn a_broken_document_is_reported_with_its_line_and_reading_resumes_at_the_next() {
        let first = format!(
            "{:#}",
            json!({"type": "ADDED", "object": pod("a", "2026-11-26T16:00:00Z", "Running")})
        );
        let last = format!(
            "{:#}",
            json!({"type": "MODIFIED", "object": pod("a", "2026-11-26T16:00:00Z", "Failed")})
        );
        let broken = "{\n  \"type\": \"ADDED\",\n  oops\n}";
        let text = format!("{first}\n{broken}\n{first}\n{broken}\n{last}\n");
        let (outcome, lines) = import_text(&text, None);
        assert_eq!(types(&lines), ["ADDED", "ADDED", "MODIFIED", "END"]);
        assert_eq!(outcome.counts.skipped["malformed"], 2);
        let n = first.lines().count();
        let want = [
            format!("line {}: not JSON", n + 3),
            format!("line {}: not JSON", 2 * n + 4 + 3),
        ];
        for (warning, want) in outcome.warnings.iter().zip(&want) {
            assert!(warning.contains(want.as_str()), "{warning} (want {want})");
        }
        assert_eq!(outcome.warnings.len(), 2);
    }

    #[test]
    fn list_items_without_kind_take_the_lists_and_secret_values_are_redacted() {
        let list = json!({"apiVersion": "v1", "kind": "SecretList", "items": [
            {"metadata": {"name": "db", "namespace": "shop", "uid": "s1",
                          "creationTimestamp": "2026-11-26T16:00:00Z"},
             "data": {"password": "c2VjcmV0LXZhbHVl"}, "stringData": {"token": "plain-token"}}]});
        let (outcome, lines) = import_text(&list.to_string(), None);
        assert_eq!(outcome.records, 1);
        let secret = &lines[1]["object"];
        assert_eq!(secret["kind"], "Secret");
        assert_eq!(secret["apiVersion"], "v1");
        let text = secret.to_string();
        assert!(
            !text.contains("c2VjcmV0LXZhbHVl") && !text.contains("plain-token"),
            "{text}"
        );
        assert!(text.contains("<redacted hmac-sha256:"), "{text}");
    }
}
