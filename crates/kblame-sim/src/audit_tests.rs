//! Tests of the audit log against the trace of the same history.

use std::collections::BTreeMap;

use kblame::trace::WriterOptions;
use serde_json::Value;

use super::audit::{AuditLevel, AuditPolicy};
use super::scenarios::{all, Ending, Fixture};
use super::Sim;

fn generate(name: &str) -> Fixture {
    let scenario = all().into_iter().find(|s| s.name == name);
    scenario
        .expect("scenario exists")
        .generate()
        .expect("generates")
}

fn trace_lines(trace: &[u8]) -> Vec<Value> {
    let text = zstd::stream::decode_all(trace).expect("zstd");
    text.split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("JSON"))
        .collect()
}

fn audit_lines(fixture: &Fixture, log: &str) -> Vec<Value> {
    let (_, bytes) = fixture
        .audit
        .iter()
        .find(|(name, _)| name == log)
        .expect("the log exists");
    bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("every audit line is JSON"))
        .collect()
}

fn text<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn is_dry_run(e: &Value) -> bool {
    text(e, "/requestURI").contains("dryRun=All")
}

fn is_write(e: &Value) -> bool {
    matches!(text(e, "/verb"), "create" | "update" | "patch" | "delete")
}

fn code(e: &Value) -> i64 {
    e.pointer("/responseStatus/code")
        .and_then(Value::as_i64)
        .unwrap_or_default()
}

/// Every watch record after the initial list has exactly one successful, non-dry-run request
/// whose response holds its resourceVersion — or, where the response is a Status, one
/// `pods/binding` create naming the pod's UID, one DELETE whose Status names the UID, or one
/// `pods/eviction` create for the eviction's own two writes; and every such request after the
/// trace began is in the trace.
fn assert_one_request_per_write(fixture: &Fixture) {
    let trace = trace_lines(&fixture.trace);
    let audit = audit_lines(fixture, "");
    let mut by_rv: BTreeMap<String, usize> = BTreeMap::new();
    let mut bindings: BTreeMap<String, usize> = BTreeMap::new();
    let mut evictions: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    for e in audit
        .iter()
        .filter(|e| is_write(e) && code(e) < 400 && !is_dry_run(e))
    {
        if text(e, "/objectRef/subresource") == "eviction" {
            let key = (text(e, "/objectRef/namespace"), text(e, "/objectRef/name"));
            *evictions.entry((key.0.into(), key.1.into())).or_default() += 1;
            continue;
        }
        if text(e, "/responseObject/kind") == "Status" && text(e, "/verb") == "delete" {
            // A DELETE that removed the object at once answers a Status naming its UID.
            *statuses
                .entry(text(e, "/responseObject/details/uid").into())
                .or_default() += 1;
            continue;
        }
        if text(e, "/objectRef/subresource") == "binding" {
            *bindings
                .entry(text(e, "/objectRef/uid").into())
                .or_default() += 1;
            continue;
        }
        let rv = text(e, "/responseObject/metadata/resourceVersion");
        if !rv.is_empty() && e["objectRef"]["resource"] != "events" {
            *by_rv.entry(rv.to_string()).or_default() += 1;
        }
    }
    let mut traced = std::collections::BTreeSet::new();
    let mut first_rv = u64::MAX;
    let mut bound = BTreeMap::new();
    let mut events: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for line in &trace {
        let kind = text(line, "/type");
        if !matches!(kind, "ADDED" | "MODIFIED" | "DELETED") {
            continue;
        }
        let object = &line["object"];
        if object["kind"] == "Event" {
            // Logged at Metadata (no response body): counted by name below. One removed by
            // its TTL is no request.
            if kind != "DELETED" {
                let key = (
                    text(object, "/metadata/namespace"),
                    text(object, "/metadata/name"),
                );
                *events.entry(key).or_default() += 1;
            }
            continue;
        }
        let rv = text(object, "/metadata/resourceVersion").to_string();
        let uid = text(object, "/metadata/uid").to_string();
        first_rv = first_rv.min(rv.parse().unwrap_or(u64::MAX));
        traced.insert(rv.clone());
        let node = text(object, "/spec/nodeName");
        let newly_bound = object["kind"] == "Pod"
            && !node.is_empty()
            && bound.insert(uid.clone(), node.to_string()).is_none();
        match by_rv.get(&rv) {
            Some(1) => {}
            None if newly_bound => {
                assert_eq!(
                    bindings.get(&uid),
                    Some(&1),
                    "{}: binding of {uid}",
                    fixture.name
                )
            }
            None if kind == "DELETED" && statuses.get(&uid) == Some(&1) => {}
            // The eviction's own writes: its DisruptionTarget condition and graceful delete.
            None if evicted(object) => {
                let key = (
                    text(object, "/metadata/namespace").to_string(),
                    text(object, "/metadata/name").to_string(),
                );
                assert_eq!(
                    evictions.get(&key),
                    Some(&1),
                    "{}: eviction of {key:?}",
                    fixture.name
                )
            }
            other => panic!("{}: rv {rv} has {other:?} requests", fixture.name),
        }
    }
    let start = text(&trace[0], "/ts");
    let mut logged: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for e in audit
        .iter()
        .filter(|e| is_write(e) && e["objectRef"]["resource"] == "events")
    {
        if text(e, "/stageTimestamp") >= start {
            let key = (text(e, "/objectRef/namespace"), text(e, "/objectRef/name"));
            *logged.entry(key).or_default() += 1;
        }
    }
    assert_eq!(events, logged, "{}: Event writes", fixture.name);
    // A broken watch loses records the log still has.
    let gap = trace.iter().any(|l| l["type"] == "GAP");
    for rv in by_rv.keys().filter(|_| !gap) {
        if rv.parse::<u64>().unwrap_or(0) >= first_rv {
            assert!(
                traced.contains(rv),
                "{}: request rv {rv} not in the trace",
                fixture.name
            );
        }
    }
}

fn evicted(pod: &Value) -> bool {
    pod["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["reason"] == "EvictionByEvictionAPI")
}

#[test]
fn every_trace_write_has_exactly_one_request_in_the_audit_log() {
    for name in ["audit-rollout-rollback", "sidecar-injection"] {
        assert_one_request_per_write(&generate(name));
    }
}

#[test]
fn the_dry_run_the_conflict_and_the_reads_are_logged_and_marked() {
    let fixture = generate("audit-rollout-rollback");
    let audit = audit_lines(&fixture, "");
    let dry: Vec<&Value> = audit.iter().filter(|e| is_dry_run(e)).collect();
    assert_eq!(dry.len(), 1);
    assert_eq!(text(dry[0], "/verb"), "patch");
    assert_eq!(code(dry[0]), 200);
    assert_eq!(text(dry[0], "/user/username"), "bob@example.com");
    let image = text(
        dry[0],
        "/responseObject/spec/template/spec/containers/0/image",
    );
    assert!(image.ends_with(":1.6.0"), "{image}");
    let failed: Vec<&Value> = audit.iter().filter(|e| code(e) >= 400).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(code(failed[0]), 409);
    assert_eq!(text(failed[0], "/responseStatus/reason"), "Conflict");
    assert_eq!(text(failed[0], "/responseObject/kind"), "Status");
    let reads: Vec<&str> = audit
        .iter()
        .map(|e| text(e, "/verb"))
        .filter(|v| matches!(*v, "get" | "list"))
        .collect();
    assert_eq!(reads, vec!["get", "list"]);
    // The dry run's response carries the live resourceVersion: only the dryRun mark tells it
    // from a change.
    let rv = text(dry[0], "/responseObject/metadata/resourceVersion");
    let traced = trace_lines(&fixture.trace)
        .iter()
        .any(|l| text(l, "/object/metadata/resourceVersion") == rv);
    assert!(traced, "the dry run answers with the live object's rv {rv}");
}

#[test]
fn the_metadata_log_holds_the_same_requests_without_bodies() {
    let fixture = generate("audit-rollout-rollback");
    let full = audit_lines(&fixture, "");
    let meta = audit_lines(&fixture, "metadata");
    let ids = |log: &[Value]| -> Vec<String> {
        log.iter()
            .map(|e| text(e, "/auditID").to_string())
            .collect()
    };
    assert_eq!(ids(&full), ids(&meta));
    for e in &meta {
        assert_eq!(e["level"], "Metadata");
        assert!(e.get("requestObject").is_none() && e.get("responseObject").is_none());
    }
    assert!(full.iter().any(|e| e["level"] == "RequestResponse"));
}

#[test]
fn two_users_apply_with_the_same_manager_and_the_truth_names_each() {
    let fixture = generate("audit-rollout-rollback");
    let revisions = &fixture.truth.deployments[0].revisions;
    let change = |n: usize| revisions[n].change.as_ref().expect("a change");
    assert_eq!(change(1).manager, "kubectl-client-side-apply");
    assert_eq!(change(1).user.as_deref(), Some("alice@example.com"));
    assert_eq!(change(2).manager, "kubectl-client-side-apply");
    assert_eq!(change(2).user.as_deref(), Some("bob@example.com"));
    assert_eq!(change(3).manager, "kubectl");
    let audit = audit_lines(&fixture, "");
    let undo = audit
        .iter()
        .find(|e| e["requestObject"].is_array())
        .expect("the undo's JSON patch");
    assert_eq!(text(undo, "/user/username"), "alice@example.com");
    assert_eq!(text(undo, "/requestObject/0/path"), "/spec/template");
}

#[test]
fn injected_pods_create_requests_carry_the_webhook_annotations() {
    let fixture = generate("sidecar-injection");
    let audit = audit_lines(&fixture, "");
    let creates: Vec<&Value> = audit
        .iter()
        .filter(|e| e["verb"] == "create" && e["objectRef"]["resource"] == "pods")
        .filter(|e| e["objectRef"].get("subresource").is_none())
        .collect();
    assert_eq!(creates.len(), 6);
    for e in creates {
        let ns = text(e, "/objectRef/namespace");
        // generateName: the request body has no name, so neither has objectRef.
        assert!(e["objectRef"].get("name").is_none());
        let names = |p: &str| -> Vec<String> {
            e.pointer(p)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|c| text(c, "/name").to_string())
                .collect()
        };
        assert_eq!(names("/requestObject/spec/containers").len(), 1);
        let mutation = &e["annotations"]["mutation.webhook.admission.k8s.io/round_0_index_2"];
        let patch = &e["annotations"]["patch.webhook.admission.k8s.io/round_0_index_2"];
        if ns == "shop" {
            assert!(names("/responseObject/spec/containers").contains(&"istio-proxy".into()));
            let m: Value = serde_json::from_str(mutation.as_str().expect("mutation")).unwrap();
            assert_eq!(m["webhook"], "namespace.sidecar-injector.istio.io");
            assert_eq!(m["mutated"], true);
            let p: Value = serde_json::from_str(patch.as_str().expect("patch")).unwrap();
            assert_eq!(p["patchType"], "JSONPatch");
            assert!(p["patch"].as_array().is_some_and(|ops| ops.len() > 10));
        } else {
            assert_eq!(names("/responseObject/spec/containers").len(), 1);
            assert!(mutation.is_null() && patch.is_null());
        }
    }
    for pod in &fixture.truth.pods {
        let injected: Vec<&str> = pod.injected.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(
            injected.contains(&"spec.containers[name=istio-proxy]"),
            pod.namespace == "shop",
            "{}",
            pod.name
        );
        assert!(!pod.builtin_admission.is_empty());
        let modified: Vec<&str> = pod.modified.iter().map(|m| m.path.as_str()).collect();
        if pod.namespace == "shop" {
            let probe = "spec.containers[name=checkout].readinessProbe.httpGet.path";
            assert_eq!(
                modified,
                vec![probe, probe.replace(".path", ".port").as_str()]
            );
        } else {
            assert!(modified.is_empty());
        }
    }
}

#[test]
fn the_patch_annotation_needs_level_request_and_the_mutation_one_metadata() {
    let script = all()
        .into_iter()
        .find(|s| s.name == "sidecar-injection")
        .expect("scenario")
        .script;
    let mut sim = Sim::with_output(Vec::new(), WriterOptions::default(), 27, 0);
    sim.audit(AuditPolicy::uniform(AuditLevel::Metadata))
        .audit_also("request", AuditPolicy::uniform(AuditLevel::Request));
    assert_eq!(script(&mut sim), Ending::Finish);
    let logs = sim.take_audit();
    let injected = |log: &[u8]| -> Vec<Value> {
        log.split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice::<Value>(l).unwrap())
            .filter(|e| {
                e["annotations"]
                    .get("mutation.webhook.admission.k8s.io/round_0_index_2")
                    .is_some()
            })
            .collect()
    };
    let metadata = injected(&logs[0].1);
    let request = injected(&logs[1].1);
    assert_eq!(metadata.len(), 4);
    assert_eq!(request.len(), 4);
    for e in &metadata {
        assert!(e["annotations"]
            .get("patch.webhook.admission.k8s.io/round_0_index_2")
            .is_none());
    }
    for e in &request {
        assert!(e["annotations"]
            .get("patch.webhook.admission.k8s.io/round_0_index_2")
            .is_some());
        assert!(e.get("requestObject").is_some() && e.get("responseObject").is_none());
    }
}

#[test]
fn auditing_leaves_the_trace_unchanged() {
    let seed_demo = &all()[0];
    let plain = seed_demo.generate().expect("generates");
    let mut sim = Sim::with_output(Vec::new(), WriterOptions::default(), seed_demo.seed, 0);
    sim.audit(AuditPolicy::workloads());
    assert_eq!((seed_demo.script)(&mut sim), Ending::Finish);
    let logs = sim.take_audit();
    assert!(!logs[0].1.is_empty());
    let (trace, truth) = sim.finish(seed_demo.name, seed_demo.description).unwrap();
    assert_eq!(trace, plain.trace);
    assert_eq!(truth.pods, plain.truth.pods);
}

#[test]
fn a_drain_logs_one_eviction_request_per_pod() {
    let scenario = all()
        .into_iter()
        .find(|s| s.name == "node-drain")
        .expect("scenario");
    let mut sim = Sim::with_output(Vec::new(), WriterOptions::default(), scenario.seed, 0);
    sim.audit(AuditPolicy::uniform(AuditLevel::RequestResponse));
    assert_eq!((scenario.script)(&mut sim), Ending::Finish);
    let audit = sim.take_audit();
    let (trace, truth) = sim.finish(scenario.name, scenario.description).unwrap();
    let fixture = Fixture {
        name: scenario.name,
        trace,
        records: 0,
        truth,
        audit,
    };
    let log = audit_lines(&fixture, "");
    let evictions: Vec<&Value> = log
        .iter()
        .filter(|e| text(e, "/objectRef/subresource") == "eviction")
        .collect();
    assert_eq!(evictions.len(), 2);
    for e in &evictions {
        assert_eq!(text(e, "/verb"), "create");
        assert_eq!(code(e), 201);
        assert_eq!(text(e, "/requestObject/kind"), "Eviction");
        assert_eq!(text(e, "/user/username"), "alice@example.com");
    }
    assert_one_request_per_write(&fixture);
}

#[test]
fn every_scenario_audited_in_full_has_one_request_per_trace_write() {
    for scenario in all() {
        let mut sim = Sim::with_output(Vec::new(), WriterOptions::default(), scenario.seed, 0);
        sim.audit(AuditPolicy::uniform(AuditLevel::RequestResponse));
        let ending = (scenario.script)(&mut sim);
        let audit = sim.take_audit();
        let (trace, truth) = match ending {
            Ending::Finish => sim.finish(scenario.name, scenario.description),
            Ending::Abandon => sim.abandon(scenario.name, scenario.description),
        }
        .unwrap();
        let fixture = Fixture {
            name: scenario.name,
            trace,
            records: 0,
            truth,
            audit,
        };
        assert_one_request_per_write(&fixture);
    }
}
