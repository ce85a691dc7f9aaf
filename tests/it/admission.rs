//! Where a pod's fields came from (issue 13): the sidecar-injection fixture answered with the
//! trace alone (candidates, inferred) and with its audit log (the webhook the create request's
//! annotations name), checked against the simulator's ground truth for every pod; and the
//! audit-rollout-rollback fixture answered from its audit log alone.

use std::collections::BTreeSet;

use serde_json::Value;

use super::scenarios::truth;
use super::support::{fixture, kblame, stderr};

fn analyze(args: &[&str]) -> Value {
    let out = kblame(args);
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "{args:?}: {}",
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

fn paths(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["path"].as_str().map(str::to_string))
        .collect()
}

/// Checks every pod's injected and modified paths and their webhook against the truth.
fn check_sidecar_pods(audit: bool) {
    let trace = fixture("sidecar-injection.ndjson.zst")
        .display()
        .to_string();
    let log = fixture("sidecar-injection.audit.jsonl.gz")
        .display()
        .to_string();
    let truth = truth("sidecar-injection");
    let pods = truth["pods"].as_array().expect("pods");
    let mut injected_pods = 0;
    for pod in pods {
        let name = pod["name"].as_str().expect("name");
        let uid = pod["uid"].as_str().expect("uid");
        let mut args = vec!["analyze", &trace, "--pod", name, "--uid", uid, "-o", "json"];
        if audit {
            args.extend(["--audit", &log]);
        }
        let report = analyze(&args);
        assert_eq!(
            paths(&report["injected"]),
            paths(&pod["injected"]),
            "{name} injected"
        );
        assert_eq!(
            paths(&report["modified"]),
            paths(&pod["modified"]),
            "{name} modified"
        );
        for (got, want) in [
            (&report["injected"], &pod["injected"]),
            (&report["modified"], &pod["modified"]),
        ] {
            for item in got.as_array().into_iter().flatten() {
                let path = &item["path"];
                let truth_item = want
                    .as_array()
                    .and_then(|w| w.iter().find(|t| &t["path"] == path))
                    .expect("in the truth");
                assert_eq!(item["webhook"], truth_item["webhook"], "{name} {path}");
                assert_eq!(item["configuration"], truth_item["configuration"]);
                // Evidence from the audit log, or inference said as such.
                assert_eq!(item["inferred"], !audit, "{name} {path}");
                let evidence = item["evidence"].as_str().unwrap_or_default();
                match audit {
                    true => assert!(evidence.contains("audit ID"), "{evidence}"),
                    false => {
                        assert!(evidence.starts_with("inferred"), "{evidence}");
                        assert!(!evidence.contains("audit ID"), "{evidence}");
                    }
                }
            }
        }
        if !paths(&pod["injected"]).is_empty() {
            injected_pods += 1;
        }
        // Built-in admission is never taken for a webhook's work.
        let builtin = paths(&report["builtin_admission"]);
        // (The truth names a list whole where the report names its items, and volume mounts
        // by mountPath where the report uses their name.)
        for want in paths(&pod["builtin_admission"]) {
            if !want.contains("volumeMounts") {
                assert!(
                    builtin.iter().any(|got| got.starts_with(&want)),
                    "{name}: {want} in {builtin:?}"
                );
            }
        }
        match audit {
            true => {
                let calls = report["webhooks_called"].as_array();
                // The first pods' create requests precede the trace but not the log.
                if let Some(calls) = calls {
                    let mutated = calls.iter().filter(|c| c["mutated"] == true).count();
                    assert_eq!(mutated > 0, !paths(&pod["injected"]).is_empty(), "{name}");
                }
                assert!(report["webhook_candidates"].is_null());
            }
            false => {
                assert!(report["webhooks_called"].is_null(), "{name}");
                let candidates = report["webhook_candidates"].as_array().expect("candidates");
                let excluded = report["webhook_candidates_excluded"]
                    .as_array()
                    .expect("excluded");
                // The unlabelled namespace matches no webhook; every exclusion has a reason.
                assert_eq!(
                    candidates.is_empty(),
                    paths(&pod["injected"]).is_empty(),
                    "{name}"
                );
                for e in excluded {
                    let why = e["why"].as_str().unwrap_or_default();
                    assert!(
                        ["rules", "objectSelector", "namespaceSelector"].contains(&why),
                        "{e}"
                    );
                }
            }
        }
    }
    assert!(injected_pods >= 2, "the fixture injects pods");
}

#[test]
fn a_sidecar_injection_is_attributed_by_inference_from_the_trace_alone() {
    check_sidecar_pods(false);
}

#[test]
fn a_sidecar_injection_is_attributed_from_the_create_request_s_audit_annotations() {
    check_sidecar_pods(true);
}

#[test]
fn the_text_names_the_injected_sidecar_and_the_webhook() {
    let trace = fixture("sidecar-injection.ndjson.zst")
        .display()
        .to_string();
    let log = fixture("sidecar-injection.audit.jsonl.gz")
        .display()
        .to_string();
    let truth = truth("sidecar-injection");
    let pod = truth["pods"]
        .as_array()
        .and_then(|p| p.iter().rev().find(|p| !paths(&p["injected"]).is_empty()))
        .expect("an injected pod");
    let name = pod["name"].as_str().expect("name");
    let out = kblame(&["analyze", &trace, "--pod", name, "--audit", &log]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("  + spec.containers[name=istio-proxy]  by namespace.sidecar-injector.istio.io (istio-sidecar-injector)\n"),
        "{text}"
    );
    assert!(text.contains("webhooks called: "), "{text}");
    let out = kblame(&["analyze", &trace, "--pod", name]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("? inferred"), "{text}");
}
