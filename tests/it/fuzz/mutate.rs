//! Structure-aware mutations of a trace's records: whole records cut, duplicated, dropped,
//! swapped and retyped; metadata, times and headers damaged; lines damaged as text.

use serde_json::{json, Map, Value};

use super::rng::Rng;

/// One line of a trace being mutated: a JSON record, or text that is no longer one.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    /// A record (or any JSON value).
    Json(Value),
    /// Bytes written as they are (damaged text, blank lines, huge lines).
    Text(Vec<u8>),
}

impl Line {
    /// The line's bytes, without its newline.
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Line::Json(value) => serde_json::to_vec(value).expect("JSON values serialize"),
            Line::Text(bytes) => bytes.clone(),
        }
    }

    fn object_mut(&mut self) -> Option<&mut Map<String, Value>> {
        match self {
            Line::Json(Value::Object(map)) => Some(map),
            _ => None,
        }
    }
}

/// Reads NDJSON text into lines.
pub fn parse_lines(text: &[u8]) -> Vec<Line> {
    text.split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| match serde_json::from_slice(line) {
            Ok(value) => Line::Json(value),
            Err(_) => Line::Text(line.to_vec()),
        })
        .collect()
}

/// What mutations may refer to: identities found in the trace, and how large they may make it.
#[derive(Debug, Default, Clone)]
pub struct Names {
    uids: Vec<String>,
    names: Vec<String>,
    namespaces: Vec<String>,
    /// Whether floods (copies of a record, re-lists, owner lists) may be large: in long
    /// campaigns, not in `cargo test`.
    pub big: bool,
}

impl Names {
    /// `lo..=hi`, or a tenth of `hi` when floods stay small.
    fn flood(&self, rng: &mut Rng, lo: i64, hi: i64) -> i64 {
        match self.big {
            true => rng.range(lo, hi),
            false => rng.range(lo.min(hi / 10), hi / 10),
        }
    }
}

impl Names {
    /// Collects the UIDs, names and namespaces of `lines`.
    pub fn of(lines: &[Line]) -> Names {
        let mut names = Names::default();
        for line in lines {
            let Line::Json(value) = line else { continue };
            let meta = &value["object"]["metadata"];
            for (field, list) in [
                ("uid", &mut names.uids),
                ("name", &mut names.names),
                ("namespace", &mut names.namespaces),
            ] {
                if let Some(text) = meta[field].as_str() {
                    if !list.iter().any(|known| known == text) {
                        list.push(text.to_string());
                    }
                }
            }
        }
        names
    }
}

/// Applies one to `max_steps` random mutations to `lines`.
pub fn mutate(rng: &mut Rng, lines: &mut Vec<Line>, names: &Names, max_steps: usize) {
    for _ in 0..rng.range(1, max_steps as i64) {
        step(rng, lines, names);
        if lines.is_empty() {
            lines.push(Line::Text(Vec::new()));
        }
    }
}

fn step(rng: &mut Rng, lines: &mut Vec<Line>, names: &Names) {
    let n = lines.len();
    match rng.below(27) {
        0 => lines.truncate(rng.range(1, n.max(1) as i64) as usize),
        1 => {
            let at = rng.below(n);
            let copy = lines[at].clone();
            let to = if rng.chance(50) { at } else { rng.below(n + 1) };
            lines.insert(to.min(lines.len()), copy);
        }
        2 => duplicate_block(rng, lines),
        3 => {
            let at = rng.below(n);
            lines.remove(at);
        }
        4 => {
            let at = rng.below(n);
            let len = rng.range(1, 10) as usize;
            lines.drain(at..(at + len).min(n));
        }
        5 => {
            let (a, b) = (rng.below(n), rng.below(n));
            lines.swap(a, b);
        }
        6 => {
            let at = rng.below(n);
            let to = (at as i64 + rng.range(-3, 3)).clamp(0, n as i64 - 1) as usize;
            let line = lines.remove(at);
            lines.insert(to, line);
        }
        7 | 8 => retype(rng, lines),
        9 | 10 => retime(rng, lines),
        11..=14 => damage_field(rng, lines, names),
        15 => damage_json(rng, lines, names),
        16 | 17 => damage_text(rng, lines),
        18 => damage_header(rng, lines),
        19 => ownership_cycle(rng, lines, names),
        20 => many_records_of_one_object(rng, lines, names),
        21 => relist(rng, lines, names),
        22..=24 => damage_leaf(rng, lines, Leaf::Number),
        _ => damage_leaf(rng, lines, Leaf::Time),
    }
}

/// Which leaves [`damage_leaf`] picks.
#[derive(Clone, Copy, PartialEq)]
enum Leaf {
    /// Numbers: counters, replicas, generations, exit codes.
    Number,
    /// Strings that hold times.
    Time,
}

/// Replaces a random number (or time) anywhere in a record with an extreme one.
fn damage_leaf(rng: &mut Rng, lines: &mut [Line], which: Leaf) {
    let at = rng.below(lines.len());
    let Line::Json(root) = &mut lines[at] else {
        return;
    };
    let mut count = 0;
    visit_leaves(root, which, &mut |_| count += 1);
    if count == 0 {
        return;
    }
    let target = rng.below(count);
    let new = match which {
        Leaf::Number => json!(*rng.pick(&[
            i64::MAX,
            i64::MIN,
            i64::MAX - 1,
            i32::MAX as i64,
            i32::MAX as i64 + 1,
            i32::MIN as i64,
            9_007_199_254_740_993,
            1_000_000_000_000,
            -1,
            0,
            2_000_000,
        ])),
        Leaf::Time => json!(rng.pick(TIMES)),
    };
    let mut seen = 0;
    visit_leaves(root, which, &mut |leaf| {
        if seen == target {
            *leaf = new.clone();
        }
        seen += 1;
    });
}

fn visit_leaves(value: &mut Value, which: Leaf, f: &mut impl FnMut(&mut Value)) {
    match value {
        Value::Object(map) => map.values_mut().for_each(|v| visit_leaves(v, which, f)),
        Value::Array(items) => items.iter_mut().for_each(|v| visit_leaves(v, which, f)),
        Value::Number(_) if which == Leaf::Number => f(value),
        Value::String(text)
            if which == Leaf::Time && text.len() >= 20 && text.as_bytes()[10] == b'T' =>
        {
            f(value)
        }
        _ => {}
    }
}

fn duplicate_block(rng: &mut Rng, lines: &mut Vec<Line>) {
    let n = lines.len();
    let start = rng.below(n);
    let end = (start + rng.range(1, 20) as usize).min(n);
    let block: Vec<Line> = lines[start..end].to_vec();
    let at = if rng.chance(50) {
        end
    } else {
        rng.below(n + 1)
    };
    lines.splice(at..at, block);
}

const TYPES: &[&str] = &[
    "ADDED", "MODIFIED", "DELETED", "LISTED", "SYNCED", "GAP", "END", "HEADER", "BOOKMARK", "",
    "added", "ERROR",
];

fn retype(rng: &mut Rng, lines: &mut [Line]) {
    let at = rng.below(lines.len());
    let value = if rng.chance(80) {
        json!(rng.pick(TYPES))
    } else {
        odd_value(rng, &Names::default())
    };
    if let Some(map) = lines[at].object_mut() {
        if rng.chance(10) {
            map.remove("type");
        } else {
            map.insert("type".into(), value);
        }
    }
}

const TIMES: &[&str] = &[
    "",
    "not a time",
    "2026-13-45T99:99:99Z",
    "0001-01-01T00:00:00Z",
    "1970-01-01T00:00:00Z",
    "-009999-01-02T01:59:59Z",
    "9999-12-30T22:00:00.999999999Z",
    "9999-12-31T23:59:59.999999999Z",
    "2026-11-26T16:00:00+14:00",
    "2026-11-26T23:59:60Z",
    "2026-11-26T16:00:00.1234567891234Z",
    "2026-11-26",
];

fn retime(rng: &mut Rng, lines: &mut [Line]) {
    let at = rng.below(lines.len());
    let shift = rng.chance(60);
    let Some(map) = lines[at].object_mut() else {
        return;
    };
    let new = if shift {
        let Some(ts) = map
            .get("ts")
            .and_then(Value::as_str)
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        else {
            return;
        };
        let secs = match rng.below(4) {
            0 => rng.range(-2, 2),
            1 => rng.range(-120, 120),
            2 => rng.range(-86_400 * 400, 86_400 * 400),
            _ => rng.range(-300_000_000_000, 300_000_000_000),
        };
        match ts.checked_add(jiff::SignedDuration::from_secs(secs)) {
            Ok(ts) => json!(ts.to_string()),
            Err(_) => json!(rng.pick(TIMES)),
        }
    } else if rng.chance(85) {
        json!(rng.pick(TIMES))
    } else {
        odd_value(rng, &Names::default())
    };
    if rng.chance(5) {
        map.remove("ts");
    } else {
        map.insert("ts".into(), new);
    }
}

/// Fields worth damaging, as paths under a record's `object` (numbers index lists).
const FIELDS: &[&str] = &[
    "metadata.uid",
    "metadata.name",
    "metadata.namespace",
    "kind",
    "apiVersion",
    "metadata",
    "metadata.ownerReferences",
    "metadata.ownerReferences.0.uid",
    "metadata.ownerReferences.0.controller",
    "metadata.ownerReferences.0.kind",
    "metadata.ownerReferences.0.name",
    "metadata.resourceVersion",
    "metadata.generation",
    "metadata.labels",
    "metadata.labels.pod-template-hash",
    "metadata.annotations",
    "metadata.annotations.deployment.kubernetes.io/revision",
    "metadata.annotations.deployment.kubernetes.io/revision-history",
    "metadata.managedFields",
    "metadata.managedFields.0",
    "metadata.managedFields.0.fieldsV1",
    "metadata.managedFields.0.fieldsV1.f:spec",
    "metadata.managedFields.0.time",
    "metadata.managedFields.0.manager",
    "metadata.managedFields.0.operation",
    "metadata.managedFields.0.subresource",
    "metadata.managedFields.0.fieldsType",
    "metadata.managedFields.1.time",
    "metadata.creationTimestamp",
    "metadata.deletionTimestamp",
    "metadata.deletionGracePeriodSeconds",
    "spec",
    "spec.replicas",
    "spec.template",
    "spec.template.spec.containers",
    "spec.template.spec.containers.0.image",
    "spec.template.spec.containers.0.name",
    "spec.template.metadata.labels",
    "spec.paused",
    "spec.nodeName",
    "spec.containers",
    "status",
    "status.replicas",
    "status.readyReplicas",
    "status.availableReplicas",
    "status.updatedReplicas",
    "status.observedGeneration",
    "status.conditions",
    "status.conditions.0.type",
    "status.conditions.0.status",
    "status.conditions.0.reason",
    "status.conditions.0.lastUpdateTime",
    "status.phase",
    "status.reason",
    "status.containerStatuses",
    "status.containerStatuses.0.restartCount",
    "status.containerStatuses.0.name",
    "status.containerStatuses.0.state",
    "status.containerStatuses.0.state.running.startedAt",
    "status.containerStatuses.0.lastState.terminated.exitCode",
    "status.containerStatuses.0.lastState.terminated.finishedAt",
    "status.containerStatuses.0.lastState.terminated.reason",
    "involvedObject",
    "involvedObject.uid",
    "involvedObject.fieldPath",
    "regarding",
    "count",
    "series.count",
    "reason",
    "message",
    "firstTimestamp",
    "eventTime",
];

fn damage_field(rng: &mut Rng, lines: &mut [Line], names: &Names) {
    let at = rng.below(lines.len());
    let field = *rng.pick(FIELDS);
    let path: Vec<&str> = split_path(field);
    let value = odd_value(rng, names);
    let remove = rng.chance(15);
    let Some(map) = lines[at].object_mut() else {
        return;
    };
    let Some(object) = map.get_mut("object") else {
        return;
    };
    set_path(object, &path, value, remove);
}

/// `metadata.annotations.deployment.kubernetes.io/revision` → its three keys.
fn split_path(path: &str) -> Vec<&str> {
    if let Some(rest) = path.strip_prefix("metadata.annotations.") {
        return vec!["metadata", "annotations", rest];
    }
    path.split('.').collect()
}

fn set_path(value: &mut Value, path: &[&str], new: Value, remove: bool) {
    let Some((first, rest)) = path.split_first() else {
        *value = new;
        return;
    };
    let child = match (value, first.parse::<usize>()) {
        (Value::Array(items), Ok(index)) => items.get_mut(index),
        (Value::Object(map), _) if rest.is_empty() && remove => {
            map.shift_remove(*first);
            return;
        }
        (Value::Object(map), _) => Some(map.entry(first.to_string()).or_insert(Value::Null)),
        (slot @ Value::Null, _) => {
            *slot = json!({});
            slot.as_object_mut()
                .map(|m| m.entry(first.to_string()).or_insert(Value::Null))
        }
        _ => None,
    };
    if let Some(child) = child {
        set_path(child, rest, new, remove);
    }
}

/// A value of a surprising type or size.
fn odd_value(rng: &mut Rng, names: &Names) -> Value {
    match rng.below(30) {
        0 => Value::Null,
        1 => json!(rng.chance(50)),
        2 => json!(0),
        3 => json!(-1),
        4 => json!(i64::MAX),
        5 => json!(i64::MIN),
        6 => json!(u64::MAX),
        7 => json!(1e308),
        8 => json!(-2.5),
        9 => json!(9_007_199_254_740_993u64),
        10 => json!(""),
        11 => json!(rng.pick(&[
            "ünïcödé",
            "🦀🦀",
            "\u{202e}evil",
            "\u{0}",
            "a\nb\tc",
            "\\\"",
            "e\u{301}\u{301}\u{301}"
        ])),
        12 => json!("x".repeat(rng.range(1_000, 100_000) as usize)),
        13 => json!("é".repeat(rng.range(100, 5_000) as usize)),
        14 => json!(rng.pick(&[
            "123",
            "-5",
            " 7 ",
            "99999999999999999999",
            "1,2,3",
            "3,x,-1",
            "0x10",
            "1e3"
        ])),
        15 => json!(rng.pick(TIMES)),
        16 => json!({}),
        17 => json!([]),
        18 => deep(rng.range(10, 140) as usize),
        19 => json!({"a": 1, "uid": "x", "controller": true}),
        20 => json!([1, "two", null, {"three": 3}]),
        21 | 22 if !names.uids.is_empty() => json!(rng.pick(&names.uids)),
        23 if !names.names.is_empty() => json!(rng.pick(&names.names)),
        24 if !names.namespaces.is_empty() => json!(rng.pick(&names.namespaces)),
        25 => owner_list(rng, names),
        26 => json!(rng.range(-1000, 100_000)),
        27 => json!(rng.range(i32::MAX as i64 - 5, i32::MAX as i64 + 5)),
        28 => {
            json!([{"manager": "m", "operation": "Update", "time": "2026-11-26T16:00:00Z", "fieldsType": "FieldsV1",
                      "fieldsV1": {"f:spec": {"k:{bad": {}, "v:1": {}, "i:x": {}, "z:": {}}}}])
        }
        _ => json!(rng.range(-3, 3).to_string()),
    }
}

fn deep(depth: usize) -> Value {
    let mut value = json!("leaf");
    for i in 0..depth {
        value = if i % 2 == 0 {
            json!([value])
        } else {
            json!({"d": value})
        };
    }
    value
}

fn owner_list(rng: &mut Rng, names: &Names) -> Value {
    let count = match rng.below(3) {
        0 => 0,
        1 => rng.range(1, 4),
        _ => names.flood(rng, 100, 2_000),
    };
    let owners: Vec<Value> = (0..count)
        .map(|i| {
            let uid = match names.uids.is_empty() {
                true => format!("owner-{i}"),
                false => rng.pick(&names.uids).clone(),
            };
            json!({"apiVersion": "apps/v1", "kind": rng.pick(&["ReplicaSet", "Deployment", "Pod", ""]),
                   "name": format!("owner-{i}"), "uid": uid, "controller": rng.chance(70)})
        })
        .collect();
    Value::Array(owners)
}

/// Replaces a random node anywhere in a record with an odd value, or removes it.
fn damage_json(rng: &mut Rng, lines: &mut [Line], names: &Names) {
    let at = rng.below(lines.len());
    let new = odd_value(rng, names);
    if let Line::Json(root) = &mut lines[at] {
        let depth = rng.range(1, 8);
        damage_node(rng, root, depth, new);
    }
}

fn damage_node(rng: &mut Rng, node: &mut Value, depth: i64, new: Value) {
    if depth == 0 || rng.chance(20) {
        *node = new;
        return;
    }
    match node {
        Value::Object(map) if !map.is_empty() => {
            let index = rng.below(map.len());
            if depth == 1 && rng.chance(30) {
                if let Some(key) = map.keys().nth(index).cloned() {
                    map.shift_remove(&key);
                }
                return;
            }
            if let Some(child) = map.values_mut().nth(index) {
                damage_node(rng, child, depth - 1, new);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let index = rng.below(items.len());
            damage_node(rng, &mut items[index], depth - 1, new);
        }
        _ => *node = new,
    }
}

fn damage_text(rng: &mut Rng, lines: &mut Vec<Line>) {
    let at = rng.below(lines.len());
    let mut bytes = lines[at].bytes();
    match rng.below(12) {
        0 if !bytes.is_empty() => {
            for _ in 0..rng.range(1, 4) {
                let i = rng.below(bytes.len());
                bytes[i] ^= 1 << rng.below(8);
            }
        }
        1 => bytes.insert(
            rng.below(bytes.len() + 1),
            *rng.pick(&[0xff, 0xc3, 0x80, 0xed, 0x00]),
        ),
        2 => bytes.truncate(rng.below(bytes.len() + 1)),
        3 => {
            lines.insert(
                at,
                Line::Text(
                    rng.pick(&[&b""[..], b"   ", b"\t", b"\r", b"\xef\xbb\xbf"])
                        .to_vec(),
                ),
            );
            return;
        }
        4 => {
            let junks: [&[u8]; 10] = [
                b"{",
                b"null",
                b"42",
                b"[]",
                b"\"just a string\"",
                b"{\"type\":\"ADDED\"}",
                b"{\"type\":\"ADDED\",\"ts\":\"2026-11-26T16:00:00Z\",\"object\":null}",
                b"{\"type\":\"ADDED\",\"ts\":\"2026-11-26T16:00:00Z\",\"object\":[]}",
                b"{\"type\":\"SYNCED\",\"ts\":\"2026-11-26T16:00:00Z\",\"resource\":5}",
                b"{\"type\":\"END\",\"ts\":\"2026-11-26T16:00:00Z\",\"records\":-1}",
            ];
            let junk = *rng.pick(&junks);
            lines.insert(at, Line::Text(junk.to_vec()));
            return;
        }
        5 => bytes = [&b"\xef\xbb\xbf"[..], &bytes].concat(),
        6 => bytes.extend_from_slice(b"\r"),
        7 => {
            let depth = rng.range(100, 3_000) as usize;
            lines.insert(
                at,
                Line::Text([b"[".repeat(depth), b"]".repeat(depth)].concat()),
            );
            return;
        }
        8 => {
            // A duplicated key: serde refuses it, the fast scan must leave it to serde.
            let text =
                String::from_utf8_lossy(&bytes).replacen("\"uid\":", "\"uid\":\"dup\",\"uid\":", 1);
            bytes = text.into_bytes();
        }
        9 => {
            let text = String::from_utf8_lossy(&bytes).replacen(
                "\"name\":\"",
                "\"name\":\"\\u00e9\\\"",
                1,
            );
            bytes = text.into_bytes();
        }
        10 => {
            let len = rng.range(10_000, 300_000) as usize;
            lines.insert(at, Line::Text(vec![b'x'; len]));
            return;
        }
        _ => bytes.extend_from_slice(b" trailing"),
    }
    lines[at] = Line::Text(bytes);
}

fn damage_header(rng: &mut Rng, lines: &mut Vec<Line>) {
    let header = lines
        .iter()
        .position(|l| matches!(l, Line::Json(v) if v["type"] == "HEADER"));
    match (rng.below(6), header) {
        (0, Some(at)) => {
            lines.remove(at);
        }
        (1, Some(at)) => {
            let header = lines.remove(at);
            let to = rng.below(lines.len() + 1);
            lines.insert(to, header);
        }
        (2, Some(at)) => {
            let copy = lines[at].clone();
            let to = rng.below(lines.len() + 1);
            lines.insert(to, copy);
        }
        (3, Some(at)) => {
            let value = match rng.below(4) {
                0 => json!("kblame-trace/v2"),
                1 => json!(""),
                2 => json!(5),
                _ => Value::Null,
            };
            if let Some(map) = lines[at].object_mut() {
                map.insert("format".into(), value);
            }
        }
        (4, Some(at)) => {
            let value = match rng.below(4) {
                0 => json!([{"group": 5}]),
                1 => json!([{"group": "", "version": "v1", "resource": "pods", "kind": "Pod", "namespaced": true},
                            {"group": "", "version": "v1", "resource": "pods", "kind": "Pod", "namespaced": true},
                            {"group": "apps", "version": "v1", "resource": "pods", "kind": "ReplicaSet"}]),
                2 => json!("pods"),
                _ => json!([{"kind": "", "resource": ""}]),
            };
            if let Some(map) = lines[at].object_mut() {
                map.insert("resources".into(), value);
            }
        }
        (_, Some(at)) => {
            let field = *rng.pick(&["ts", "source", "namespaces", "redacted"]);
            let value = odd_value(rng, &Names::default());
            if let Some(map) = lines[at].object_mut() {
                map.insert(field.into(), value);
            }
        }
        (_, None) => lines.insert(
            0,
            Line::Json(json!({"type": "HEADER", "format": "kblame-trace/v1", "ts": "2026-11-26T16:00:00Z"})),
        ),
    }
}

/// Makes two objects each other's controller (or an object its own).
fn ownership_cycle(rng: &mut Rng, lines: &mut [Line], names: &Names) {
    if names.uids.is_empty() {
        return;
    }
    let a = rng.pick(&names.uids).clone();
    let b = if rng.chance(20) {
        a.clone()
    } else {
        rng.pick(&names.uids).clone()
    };
    for line in lines.iter_mut() {
        let Line::Json(value) = line else { continue };
        let uid = value["object"]["metadata"]["uid"]
            .as_str()
            .map(str::to_string);
        let owner = match uid.as_deref() {
            Some(u) if u == a => &b,
            Some(u) if u == b => &a,
            _ => continue,
        };
        let refs = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "cycle", "uid": owner, "controller": true}]);
        set_path(
            &mut value["object"],
            &["metadata", "ownerReferences"],
            refs,
            false,
        );
    }
}

/// Repeats one object record many times, its counters climbing.
fn many_records_of_one_object(rng: &mut Rng, lines: &mut Vec<Line>, names: &Names) {
    let objects: Vec<usize> = (0..lines.len())
        .filter(|&i| matches!(&lines[i], Line::Json(v) if v["object"].is_object()))
        .collect();
    if objects.is_empty() {
        return;
    }
    let at = *rng.pick(&objects);
    let count = names.flood(rng, 20, 400) as usize;
    let template = lines[at].clone();
    let mut copies = Vec::with_capacity(count);
    for i in 0..count {
        let mut copy = template.clone();
        if let Line::Json(value) = &mut copy {
            value["type"] = json!("MODIFIED");
            let object = &mut value["object"];
            set_path(object, &["metadata", "generation"], json!(i), false);
            set_path(
                object,
                &["metadata", "resourceVersion"],
                json!(format!("{}", 100_000 + i)),
                false,
            );
            if rng.chance(50) {
                set_path(
                    object,
                    &["spec", "replicas"],
                    json!(rng.range(0, 50)),
                    false,
                );
            }
            if rng.chance(30) {
                set_path(
                    object,
                    &["spec", "template", "spec", "containers", "0", "image"],
                    json!(format!("img:{i}")),
                    false,
                );
            }
            if let Some(statuses) = object.pointer_mut("/status/containerStatuses/0") {
                statuses["restartCount"] = json!(i);
            }
        }
        copies.push(copy);
    }
    lines.splice(at + 1..at + 1, copies);
}

/// Inserts a watch gap and a re-list of some objects, or a flood of SYNCED records.
fn relist(rng: &mut Rng, lines: &mut Vec<Line>, names: &Names) {
    let at = rng.below(lines.len() + 1);
    let resource = *rng.pick(&[
        "v1/pods",
        "apps/v1/replicasets",
        "apps/v1/deployments",
        "v1/events",
        "",
    ]);
    let ts = "2026-11-26T16:05:00Z";
    let mut block = vec![Line::Json(
        json!({"ts": ts, "type": "GAP", "resource": resource, "reason": "410 Gone"}),
    )];
    let listed: Vec<Line> = lines
        .iter()
        .filter(|l| matches!(l, Line::Json(v) if v["object"].is_object()))
        .filter(|_| rng.chance(40))
        .map(|l| {
            let mut l = l.clone();
            if let Line::Json(v) = &mut l {
                v["type"] = json!("LISTED");
            }
            l
        })
        .collect();
    block.extend(listed);
    let syncs = if rng.chance(20) {
        names.flood(rng, 50, 500)
    } else {
        1
    };
    for _ in 0..syncs {
        block.push(Line::Json(
            json!({"ts": ts, "type": "SYNCED", "resource": resource, "resourceVersion": "1"}),
        ));
    }
    lines.splice(at..at, block);
}
