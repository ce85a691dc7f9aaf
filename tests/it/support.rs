//! Shared helpers: run the binary, and write small hand-made traces.

use std::path::{Path, PathBuf};
use std::process::Output;

use jiff::Timestamp;
use kblame::trace::{EventType, Header, SourceInfo, TraceWriter, WriterOptions};
use serde_json::{json, Value};

/// Runs `kblame ARGS` and returns its output.
pub fn kblame(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_kblame"))
        .args(args)
        .output()
        .expect("the kblame binary runs")
}

/// stdout as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The simulator's fixture scenarios (`fixtures/NAME.ndjson.zst`), in the simulator's order.
pub const SIMULATED: &[&str] = &[
    "seed-demo",
    "rollout-restart",
    "rollout-undo",
    "oom-helm",
    "liveness-ssa",
    "manual-delete",
    "scale-down",
    "delete-recreate",
    "mid-rollout",
    "hpa-scale-up",
    "evicted",
    "preempted",
    "watch-gap",
    "cut-short",
    "catalog-release",
    "sts-rolling-update",
    "sts-stuck-ordinal",
    "cronjob-template-break",
    "ds-rolling-update",
    "operator-postgres",
    "sts-partition-canary",
    "sts-on-delete",
    "config-reload-crash",
    "config-rollout-restart",
    "config-after-failure",
    "node-drain",
    "node-drain-pdb",
    "node-lost",
    "node-cordon-elsewhere",
    "image-tag-moved",
    "secret-rotation-crash",
];

/// The fixtures directory.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// A time `secs` after 2026-11-26T16:00:00Z.
pub fn at(secs: i64) -> Timestamp {
    let base: Timestamp = "2026-11-26T16:00:00Z".parse().expect("a valid time");
    base + jiff::SignedDuration::from_secs(secs)
}

/// A minimal pod owned by ReplicaSet `rs_uid`.
pub fn pod(name: &str, uid: &str, rs_uid: &str, restarts: i64) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "demo", "uid": uid, "resourceVersion": "10",
            "creationTimestamp": "2026-11-26T15:00:00Z",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "app-abc", "uid": rs_uid, "controller": true}]},
        "spec": {"containers": [{"name": "app", "image": "app:1"}]},
        "status": {"phase": "Running", "containerStatuses": [{"name": "app", "image": "app:1", "imageID": "", "ready": true, "restartCount": restarts,
            "state": {"running": {"startedAt": "2026-11-26T15:00:05Z"}}}]}})
}

/// Writes a small trace of `records` (time offset, type, object) to `path`.
pub fn write_trace(path: &Path, records: &[(i64, EventType, Value)], end: bool, compress: bool) {
    let file = std::fs::File::create(path).expect("a temp file");
    let header = Header::new(
        at(0),
        SourceInfo {
            kind: "watch".into(),
            ..SourceInfo::default()
        },
    );
    let options = WriterOptions {
        compress,
        ..WriterOptions::default()
    };
    let mut writer = TraceWriter::new(file, &header, options).expect("header written");
    for (secs, event, object) in records {
        writer
            .write_object(at(*secs), *event, object)
            .expect("record written");
    }
    if end {
        writer.finish(at(600)).expect("END written");
    } else {
        writer.abandon().expect("frame flushed");
    }
}

/// Two pods of one (unrecorded) ReplicaSet, the second restarting once.
pub fn two_pods() -> Vec<(i64, EventType, Value)> {
    vec![
        (
            0,
            EventType::Listed,
            pod("app-abc-11111", "uid-1", "rs-uid", 0),
        ),
        (
            0,
            EventType::Listed,
            pod("app-abc-22222", "uid-2", "rs-uid", 0),
        ),
        (
            30,
            EventType::Modified,
            pod("app-abc-22222", "uid-2", "rs-uid", 1),
        ),
    ]
}
