//! Traces shaped to make a careless algorithm quadratic or deeply recursive (issue 9): thousands
//! of records of one object, many re-lists, long ownership chains and cycles, wide ReplicaSets,
//! huge lists inside bodies. Every command must answer within a time limit.
//!
//! Sizes are small enough for a debug `cargo test` and still far beyond real clusters; the
//! quadratic code these tests were written against took seconds to minutes at them, and tens of
//! minutes (or a stack overflow) at `KBLAME_SHAPE_SCALE=4`, which `scripts/fuzz.sh` runs on a
//! release build.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::fuzz::run::{run_alone, Command, Reading, Step};

/// A trace being built: NDJSON lines, with times one millisecond apart.
struct Shape {
    lines: Vec<String>,
    millis: i64,
}

impl Shape {
    fn new(resources: &[(&str, &str, &str)]) -> Shape {
        let resources: Vec<Value> = resources
            .iter()
            .map(|(group, resource, kind)| {
                json!({"group": group, "version": "v1", "resource": resource, "kind": kind, "namespaced": true})
            })
            .collect();
        let header = json!({"type": "HEADER", "format": "kblame-trace/v1", "ts": "2026-11-26T16:00:00Z",
            "source": {"kind": "watch"}, "resources": resources});
        Shape {
            lines: vec![header.to_string()],
            millis: 0,
        }
    }

    fn ts(&mut self) -> String {
        self.millis += 1;
        let ts = "2026-11-26T16:00:00Z"
            .parse::<jiff::Timestamp>()
            .expect("a time")
            + jiff::SignedDuration::from_millis(self.millis);
        ts.to_string()
    }

    fn object(&mut self, event: &str, object: Value) {
        let ts = self.ts();
        self.lines
            .push(json!({"ts": ts, "type": event, "object": object}).to_string());
    }

    fn control(&mut self, record: &str, resource: &str) {
        let ts = self.ts();
        self.lines.push(
            json!({"ts": ts, "type": record, "resource": resource, "reason": "410 Gone"})
                .to_string(),
        );
    }

    fn end(mut self) -> Vec<u8> {
        let ts = self.ts();
        self.lines
            .push(json!({"ts": ts, "type": "END"}).to_string());
        let mut text = self.lines.join("\n");
        text.push('\n');
        text.into_bytes()
    }
}

fn meta(name: &str, uid: &str, owner: Option<(&str, &str)>) -> Value {
    let owners: Vec<Value> = owner
        .map(|(kind, uid)| json!({"apiVersion": "apps/v1", "kind": kind, "name": uid, "uid": uid, "controller": true}))
        .into_iter()
        .collect();
    json!({"name": name, "namespace": "ns", "uid": uid, "resourceVersion": "1",
           "creationTimestamp": "2026-11-26T15:00:00Z", "ownerReferences": owners})
}

fn pod(name: &str, uid: &str, rs: &str, restarts: i64) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta(name, uid, Some(("ReplicaSet", rs))),
           "spec": {"containers": [{"name": "app", "image": "app:1"}]},
           "status": {"phase": "Running", "containerStatuses": [{"name": "app", "image": "app:1", "imageID": "",
               "ready": true, "restartCount": restarts, "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}},
               "state": {"running": {"startedAt": "2026-11-26T15:00:05Z"}}}]}})
}

fn replicaset(
    name: &str,
    uid: &str,
    owner: Option<(&str, &str)>,
    replicas: i64,
    revision: i64,
) -> Value {
    let mut meta = meta(name, uid, owner);
    meta["annotations"] = json!({"deployment.kubernetes.io/revision": revision.to_string()});
    json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta,
           "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "app", "image": format!("app:{revision}")}]}}},
           "status": {"replicas": replicas, "readyReplicas": replicas}})
}

fn deployment(generation: i64, image: &str, containers: usize) -> Value {
    let mut meta = meta("web", "dep", None);
    meta["generation"] = json!(generation);
    let mut list = vec![json!({"name": "app", "image": image})];
    list.extend(
        (1..containers)
            .map(|i| json!({"name": format!("c{i}"), "image": format!("{image}-{}", i % 7)})),
    );
    // A manager owning every container: blame looks each changed field up in its field set.
    let owned: serde_json::Map<String, Value> = (1..containers)
        .map(|i| {
            (
                format!("k:{{\"name\":\"c{i}\"}}"),
                json!({".": {}, "f:image": {}, "f:name": {}}),
            )
        })
        .collect();
    meta["managedFields"] = json!([{"manager": "kubectl", "operation": "Update", "time": "2026-11-26T15:00:00Z",
        "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": owned}}}}}]);
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
           "spec": {"replicas": 1, "template": {"spec": {"containers": list}}},
           "status": {"observedGeneration": generation}})
}

fn killing_event(i: usize, pod_uid: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Event", "metadata": meta(&format!("kill.{i}"), &format!("ev-{i}"), None),
           "involvedObject": {"kind": "Pod", "name": "p", "uid": pod_uid, "fieldPath": "spec.containers{app}"},
           "reason": "Killing", "message": "Container app failed liveness probe, will be restarted", "count": 1, "type": "Normal"})
}

const PODS: (&str, &str, &str) = ("", "pods", "Pod");
const RSS: (&str, &str, &str) = ("apps", "replicasets", "ReplicaSet");
const DEPLOYMENTS: (&str, &str, &str) = ("apps", "deployments", "Deployment");
const EVENTS: (&str, &str, &str) = ("", "events", "Event");

/// How many times the base sizes: `KBLAME_SHAPE_SCALE`, default 1.
fn scale(base: usize) -> usize {
    let factor = std::env::var("KBLAME_SHAPE_SCALE")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1);
    base * factor.max(1)
}

/// Runs `commands` on `trace` (as `kblame` reads a file: through its index), each within `limit`.
fn answers_in_time(name: &str, trace: Vec<u8>, commands: &[Command], limit: Duration) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join(format!("{name}.ndjson"));
    std::fs::write(&path, trace).expect("written");
    for command in commands {
        let started = Instant::now();
        let step = Step::Run(command.clone(), Reading::Indexed, false);
        if let Some(failure) = run_alone(&path, &step, limit) {
            panic!("{name}: {failure}");
        }
        eprintln!("{name}: {command:?} in {:?}", started.elapsed());
    }
}

fn pod_query(name: &str) -> Command {
    Command::Pod {
        name: name.into(),
        namespace: None,
        uid: None,
    }
}

fn timeline(object: Option<&str>) -> Command {
    Command::Timeline {
        object: object.map(str::to_string),
        namespace: None,
        since: None,
        until: None,
    }
}

fn on_deployment() -> Vec<Command> {
    let object = "deployment/web".to_string();
    vec![
        Command::Rollout {
            object: object.clone(),
            at: None,
        },
        Command::Blame {
            object: object.clone(),
            at: None,
            history: Some("spec.template".into()),
        },
        Command::Tree {
            object: object.clone(),
            at: None,
            deleted: true,
        },
        Command::Diff {
            object: object.clone(),
            from: "+0s".into(),
            to: "-0s".into(),
        },
        timeline(Some(&object)),
    ]
}

/// Limit per command: linear work on these traces takes well under a second in a debug build.
const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn thousands_of_relists_of_thousands_of_pods_answer_in_time() {
    let mut shape = Shape::new(&[PODS, RSS]);
    let n = scale(1500);
    shape.object("LISTED", replicaset("rs", "rs", None, n as i64, 1));
    for i in 0..n {
        shape.object("LISTED", pod(&format!("p{i}"), &format!("u{i}"), "rs", 0));
    }
    shape.control("SYNCED", "v1/pods");
    for _ in 0..n {
        shape.control("GAP", "v1/pods");
        shape.control("SYNCED", "v1/pods");
    }
    let commands = [
        Command::Check,
        Command::CheckStrict,
        pod_query("p7"),
        timeline(None),
    ];
    answers_in_time("relists", shape.end(), &commands, LIMIT);
}

#[test]
fn a_pod_with_thousands_of_restarts_and_probe_kills_answers_in_time() {
    let mut shape = Shape::new(&[PODS, EVENTS]);
    for i in 0..scale(3000) as i64 {
        let event = if i == 0 { "ADDED" } else { "MODIFIED" };
        shape.object(event, pod("p", "pod", "rs", i));
        shape.object("ADDED", killing_event(i as usize, "pod"));
    }
    let commands = [
        pod_query("p"),
        timeline(None),
        Command::Blame {
            object: "pod/p".into(),
            at: None,
            history: Some("status".into()),
        },
    ];
    answers_in_time("restarts", shape.end(), &commands, LIMIT);
}

#[test]
fn a_deployment_changed_thousands_of_times_answers_in_time() {
    let mut shape = Shape::new(&[DEPLOYMENTS, RSS, PODS]);
    let n = scale(1000) as i64;
    for i in 0..n {
        let event = if i == 0 { "ADDED" } else { "MODIFIED" };
        shape.object(event, deployment(i + 1, &format!("app:{i}"), 1));
        shape.object(
            "ADDED",
            replicaset(
                &format!("web-{i}"),
                &format!("rs-{i}"),
                Some(("Deployment", "dep")),
                1,
                i + 1,
            ),
        );
    }
    shape.object(
        "ADDED",
        pod("web-last-x", "pod", &format!("rs-{}", n - 1), 0),
    );
    let mut commands = on_deployment();
    commands.push(pod_query("web-last-x"));
    answers_in_time("changes", shape.end(), &commands, LIMIT);
}

#[test]
fn a_long_ownership_chain_and_a_cycle_answer_in_time() {
    let mut shape = Shape::new(&[DEPLOYMENTS, RSS, PODS]);
    shape.object("ADDED", deployment(1, "app:1", 1));
    let mut owner = ("Deployment", "dep".to_string());
    for i in 0..scale(2000) {
        let uid = format!("rs-{i}");
        shape.object(
            "ADDED",
            replicaset(&format!("chain-{i}"), &uid, Some((owner.0, &owner.1)), 1, 1),
        );
        owner = ("ReplicaSet", uid);
    }
    shape.object("ADDED", pod("leaf", "pod", &owner.1, 0));
    // Two ReplicaSets that control each other.
    shape.object(
        "ADDED",
        replicaset("loop-a", "loop-a", Some(("ReplicaSet", "loop-b")), 1, 1),
    );
    shape.object(
        "ADDED",
        replicaset("loop-b", "loop-b", Some(("ReplicaSet", "loop-a")), 1, 1),
    );
    shape.object("ADDED", pod("looped", "pod-2", "loop-a", 0));
    let mut commands = on_deployment();
    commands.extend([pod_query("leaf"), pod_query("looped"), timeline(None)]);
    commands.push(Command::Tree {
        object: "rs/loop-a".into(),
        at: None,
        deleted: true,
    });
    answers_in_time("chain", shape.end(), &commands, LIMIT);
}

#[test]
fn a_replicaset_with_thousands_of_pods_answers_in_time() {
    let mut shape = Shape::new(&[DEPLOYMENTS, RSS, PODS]);
    shape.object("ADDED", deployment(1, "app:1", 1));
    shape.object(
        "ADDED",
        replicaset("web-1", "rs", Some(("Deployment", "dep")), 1, 1),
    );
    let n = scale(2000);
    for i in 0..n {
        shape.object("ADDED", pod(&format!("p{i}"), &format!("u{i}"), "rs", 0));
    }
    for i in 0..n {
        shape.object("DELETED", pod(&format!("p{i}"), &format!("u{i}"), "rs", 0));
    }
    let mut commands = on_deployment();
    commands.extend([pod_query(&format!("p{}", n - 1)), timeline(None)]);
    answers_in_time("wide", shape.end(), &commands, LIMIT);
}

#[test]
fn huge_lists_inside_a_body_answer_in_time() {
    let mut shape = Shape::new(&[DEPLOYMENTS, RSS]);
    for i in 0..3 {
        let event = if i == 0 { "ADDED" } else { "MODIFIED" };
        shape.object(event, deployment(i + 1, &format!("app:{i}"), scale(5_000)));
    }
    answers_in_time("lists", shape.end(), &on_deployment(), LIMIT);
}
