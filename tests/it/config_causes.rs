//! ConfigMap changes as causes (issue 12), on the simulator's config fixtures: every pod's
//! restart causes and `created.root_cause` against the ground truth (checked for every pod by
//! [`scenario`]), and what each story hinges on.

use serde_json::Value;

use super::scenarios::{scenario, truth};

/// The reports of the pods that restarted.
fn failing(reports: &[(String, Value)]) -> Vec<&Value> {
    let failing: Vec<&Value> = reports
        .iter()
        .map(|(_, r)| r)
        .filter(|r| !r["restarts"].as_array().unwrap().is_empty())
        .collect();
    assert!(!failing.is_empty(), "some pod restarted");
    failing
}

fn names(causes: &Value) -> Vec<String> {
    causes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("{} {}", c["kind"], c["object"]["name"]))
        .collect()
}

#[test]
fn a_live_mounted_configmap_change_is_the_cause_of_a_crash_loop_without_a_new_revision() {
    let reports = scenario("config-reload-crash");
    let truth = truth("config-reload-crash");
    assert_eq!(
        truth["deployments"][0]["revisions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(failing(&reports).len(), 3, "every pod crash-loops");
    for report in failing(&reports) {
        let cause = &report["restart_causes"][0];
        assert_eq!(cause["kind"], "config");
        assert_eq!(cause["object"]["kind"], "ConfigMap");
        assert_eq!(cause["object"]["name"], "cart-config");
        assert_eq!(cause["change"]["manager"], "helm");
        assert_eq!(cause["change"]["fields"][0]["path"], r#"data["app.yaml"]"#);
        assert_eq!(cause["confidence"], "high", "the other pods failed too");
        let evidence = cause["evidence"].as_str().unwrap();
        assert!(
            evidence.contains("volume config (updated live)"),
            "{evidence}"
        );
        // The change to a ConfigMap no cart pod reads is not a candidate.
        assert!(!names(&report["restart_causes"])
            .iter()
            .any(|n| n.contains("banner-config")));
        // Nothing changed the template: no revision change to blame, and no root cause.
        assert!(report["restart_cause"].is_null());
        assert!(report["created"]["root_cause"].is_null());
    }
}

#[test]
fn a_rollout_restart_after_a_config_change_has_the_config_change_as_root_cause() {
    let reports = scenario("config-rollout-restart");
    for (name, report) in &reports {
        let restarted = !report["restarts"].as_array().unwrap().is_empty();
        assert_eq!(restarted, report["revision"]["number"] == 2, "{name}");
        if !restarted {
            // Revision 1 read the environment before the change and kept running.
            assert!(report["created"]["root_cause"].is_null(), "{name}");
            continue;
        }
        let root = &report["created"]["root_cause"];
        assert_eq!(root["kind"], "config");
        assert_eq!(root["object"]["name"], "ledger-env");
        assert_eq!(root["change"]["manager"], "kubectl-client-side-apply");
        assert_eq!(root["change"]["fields"][0]["path"], "data.DB_POOL_SIZE");
        assert_eq!(root["confidence"], "high", "envFrom is read only at start");
        // The config change ranks above the restart stamp, which stays `restart_cause`.
        assert_eq!(
            names(&report["restart_causes"]),
            [r#""config" "ledger-env""#, r#""template" "ledger""#]
        );
        let evidence = report["restart_causes"][0]["evidence"].as_str().unwrap();
        assert!(evidence.contains("kept running"), "{evidence}");
        assert_eq!(report["restart_cause"]["manager"], "kubectl-rollout");
        assert_eq!(report["restart_cause"]["revision"], 2);
    }
}

#[test]
fn a_config_change_after_the_failures_began_is_not_a_cause() {
    let reports = scenario("config-after-failure");
    for report in failing(&reports) {
        let kinds: Vec<&str> = report["restart_causes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["template"]);
        assert_eq!(
            report["restart_causes"][0]["change"]["manager"],
            "kubectl-client-side-apply"
        );
        assert!(report["created"]["root_cause"].is_null());
    }
}
