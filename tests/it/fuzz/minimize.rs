//! Shrinking a failing input to a small regression fixture: plain text when the failure does not
//! need zstd, then fewer lines (delta debugging), then smaller JSON in each line, then (for
//! zstd that must stay) fewer bytes.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::run::{run_alone, Failure, Step, Workdir};

/// An input being shrunk, and how to test it.
struct Shrinker<'a> {
    step: Step,
    kind: String,
    limit: Duration,
    deadline: Instant,
    workdir: &'a mut Workdir,
}

impl Shrinker<'_> {
    /// Whether `bytes` still fails the same way (false once the time is up).
    fn fails(&mut self, bytes: &[u8], zstd: bool) -> bool {
        if Instant::now() > self.deadline {
            return false;
        }
        let path = self.workdir.write(bytes, zstd);
        let failure = run_alone(&path, &self.step, self.limit);
        self.workdir.remove(&path);
        failure.is_some_and(|f| f.kind() == self.kind)
    }
}

/// Shrinks the input at `trace` that made `failure`, spending at most `budget`; returns the
/// smallest failing input found and whether it is zstd.
pub fn minimize(
    trace: &Path,
    failure: &Failure,
    limit: Duration,
    budget: Duration,
) -> (Vec<u8>, bool) {
    let bytes = std::fs::read(trace).expect("the failing trace");
    let zstd = bytes.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]);
    let Some(step) = failure.step.clone() else {
        return (bytes, zstd);
    };
    let mut workdir = Workdir::new();
    let mut shrinker = Shrinker {
        step,
        kind: failure.kind(),
        limit,
        deadline: Instant::now() + budget,
        workdir: &mut workdir,
    };
    if !shrinker.fails(&bytes, zstd) {
        return (bytes, zstd);
    }
    if zstd {
        let plain = readable_text(&bytes);
        if shrinker.fails(&plain, false) {
            return (shrink_text(&mut shrinker, plain), false);
        }
        return (shrink_bytes(&mut shrinker, bytes), true);
    }
    (shrink_text(&mut shrinker, bytes), false)
}

/// As much of a zstd file as decompresses.
fn readable_text(bytes: &[u8]) -> Vec<u8> {
    let mut text = Vec::new();
    if let Ok(decoder) = zstd::stream::read::Decoder::new(bytes) {
        let _ = std::io::Read::read_to_end(&mut std::io::Read::take(decoder, 256 << 20), &mut text);
    }
    text
}

fn shrink_text(shrinker: &mut Shrinker<'_>, text: Vec<u8>) -> Vec<u8> {
    let lines: Vec<Vec<u8>> = text.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    let join = |lines: &[Vec<u8>]| lines.join(&b'\n');
    let mut lines = ddmin(lines, |candidate| shrinker.fails(&join(candidate), false));
    for i in 0..lines.len() {
        let Ok(mut value) = serde_json::from_slice::<Value>(&lines[i]) else {
            continue;
        };
        let mut fails = |value: &Value| {
            let mut candidate = lines.clone();
            candidate[i] = serde_json::to_vec(value).expect("serializes");
            shrinker.fails(&join(&candidate), false)
        };
        shrink_value(&mut value, &mut Vec::new(), &mut fails);
        lines[i] = serde_json::to_vec(&value).expect("serializes");
    }
    join(&lines)
}

/// Removes keys and list items from `root` (at `path`, recursively) while `fails` still holds.
fn shrink_value(root: &mut Value, path: &mut Vec<String>, fails: &mut impl FnMut(&Value) -> bool) {
    let keys: Vec<String> = match node(root, path) {
        Some(Value::Object(map)) => map.keys().cloned().collect(),
        Some(Value::Array(items)) => (0..items.len()).rev().map(|i| i.to_string()).collect(),
        Some(Value::String(text)) if text.len() > 40 => {
            let mut candidate = root.clone();
            if let Some(Value::String(text)) = node_mut(&mut candidate, path) {
                let cut: String = text.chars().take(20).collect();
                *text = cut;
            }
            if fails(&candidate) {
                *root = candidate;
            }
            return;
        }
        _ => return,
    };
    for key in keys {
        let mut candidate = root.clone();
        match node_mut(&mut candidate, path) {
            Some(Value::Object(map)) => {
                map.shift_remove(&key);
            }
            Some(Value::Array(items)) => {
                if let Ok(index) = key.parse::<usize>() {
                    if index < items.len() {
                        items.remove(index);
                    }
                }
            }
            _ => continue,
        }
        if fails(&candidate) {
            *root = candidate;
            continue;
        }
        path.push(key);
        shrink_value(root, path, fails);
        path.pop();
    }
}

fn node<'v>(value: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, key| match v {
        Value::Object(map) => map.get(key),
        Value::Array(items) => items.get(key.parse::<usize>().ok()?),
        _ => None,
    })
}

fn node_mut<'v>(value: &'v mut Value, path: &[String]) -> Option<&'v mut Value> {
    path.iter().try_fold(value, |v, key| match v {
        Value::Object(map) => map.get_mut(key),
        Value::Array(items) => items.get_mut(key.parse::<usize>().ok()?),
        _ => None,
    })
}

fn shrink_bytes(shrinker: &mut Shrinker<'_>, bytes: Vec<u8>) -> Vec<u8> {
    let chunks: Vec<Vec<u8>> = bytes.chunks(64).map(<[u8]>::to_vec).collect();
    let kept = ddmin(chunks, |candidate| {
        shrinker.fails(&candidate.concat(), true)
    });
    kept.concat()
}

/// Delta debugging (Zeller): removes ever smaller runs of items while `fails` still holds.
fn ddmin<T: Clone>(mut items: Vec<T>, mut fails: impl FnMut(&[T]) -> bool) -> Vec<T> {
    let mut chunk = items.len().div_ceil(2).max(1);
    loop {
        let mut start = 0;
        let mut removed_any = false;
        while start < items.len() {
            let end = (start + chunk).min(items.len());
            let candidate: Vec<T> = items[..start]
                .iter()
                .chain(&items[end..])
                .cloned()
                .collect();
            if !candidate.is_empty() && fails(&candidate) {
                items = candidate;
                removed_any = true;
            } else {
                start = end;
            }
        }
        if chunk == 1 && !removed_any {
            return items;
        }
        chunk = (chunk / 2).max(1);
    }
}
