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

/// A Helm-style release: Deployment `shop/api` mounts ConfigMap `api-config` live; helm
/// changes the ConfigMap at 10:02:00, then, `gap` seconds later, stamps the template's
/// `checksum/config` annotation (and sets a new image too when `image` is given). Returns the
/// JSON report of the newest revision's pod.
fn helm_checksum(gap: i64, image: Option<&str>) -> Value {
    use kblame_sim::{utc, ContainerConfig, DeploymentConfig, Sim, Tool};
    let day = |h, m, s| utc(2026, 11, 26, h, m, s);
    let mut sim = Sim::new(31, day(9, 0, 0));
    sim.apply_configmap("shop", "api-config", &[("LOG_LEVEL", "info")]);
    let container =
        ContainerConfig::new("api", "ghcr.io/acme/api:1.0.0").mount("config", "/etc/api");
    let config = DeploymentConfig::new("shop", "api")
        .replicas(2)
        .configmap_volume("config", "api-config")
        .container(container);
    sim.apply_deployment(&config, Tool::Helm);
    sim.advance_to(day(10, 0, 0)).start_trace();
    sim.advance_to(day(10, 2, 0));
    sim.set_configmap_key("shop", "api-config", "LOG_LEVEL", "debug", "helm");
    sim.advance(gap);
    sim.update_deployment("shop", "api", Tool::Helm, |c| {
        c.pod_annotations
            .insert("checksum/config".into(), "5f1d0c9e".into());
        if let (Some(image), Some(api)) = (image, c.container_mut("api")) {
            api.image = image.into();
        }
    });
    sim.advance(120);
    let (trace, truth) = sim.finish("helm-checksum", "").expect("simulates");
    let newest = truth.pods.iter().max_by_key(|p| p.revision).expect("pods");
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("helm.ndjson.zst");
    std::fs::write(&path, trace).expect("trace written");
    let args = [
        "analyze",
        path.to_str().unwrap(),
        "--pod",
        &newest.name,
        "-o",
        "json",
    ];
    let out = super::support::kblame(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        super::support::stderr(&out)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

#[test]
fn a_checksum_annotation_after_a_config_change_has_it_as_root_cause() {
    let report = helm_checksum(45, None);
    assert_eq!(
        report["created"]["change"]["fields"][0]["path"],
        r#"spec.template.metadata.annotations["checksum/config"]"#
    );
    let root = &report["created"]["root_cause"];
    assert_eq!(root["object"]["name"], "api-config");
    assert_eq!(root["change"]["manager"], "helm");
    // A live volume gets the new data without a restart: the stamp is likely, not certain, to
    // be for it.
    assert_eq!(root["confidence"], "medium");
}

#[test]
fn a_config_change_long_before_the_stamp_is_a_weak_root_cause() {
    let report = helm_checksum(1500, None);
    assert_eq!(
        report["created"]["root_cause"]["object"]["name"],
        "api-config"
    );
    assert_eq!(report["created"]["root_cause"]["confidence"], "low");
}

#[test]
fn a_template_change_that_changes_what_runs_has_no_root_cause() {
    let report = helm_checksum(45, Some("ghcr.io/acme/api:1.1.0"));
    assert_eq!(report["created"]["reason"], "rollout");
    assert!(report["created"]["root_cause"].is_null());
}

/// The fixture's Secret values (`crates/kblame-sim/src/scenarios.rs`), which must never show.
const SECRET_VALUES: [&str; 3] = [
    "sk_live_51Hq2fPZ8kQ0old",
    "rk_live_51Hq2fPZ8kQ0new",
    "whsec_7fG2kLm9Qx",
];

#[test]
fn a_rotated_secret_is_blamed_by_its_hash_alone_and_never_for_a_subpath_reader() {
    use super::support::{fixture, kblame, stderr};
    let reports = scenario("secret-rotation-crash");
    let checkout: Vec<&Value> = failing(&reports)
        .into_iter()
        .filter(|r| r["pod"]["name"].as_str().unwrap().starts_with("checkout-"))
        .collect();
    assert_eq!(checkout.len(), 3, "every checkout pod crash-loops");
    for report in &checkout {
        let cause = &report["restart_causes"][0];
        assert_eq!(cause["kind"], "config");
        assert_eq!(cause["object"]["kind"], "Secret");
        assert_eq!(cause["object"]["name"], "payment-keys");
        assert_eq!(cause["change"]["manager"], "kubectl-client-side-apply");
        // Only the key that changed, and only that its hash did.
        let fields = cause["change"]["fields"].as_array().unwrap();
        assert_eq!(fields.len(), 1, "{fields:?}");
        assert_eq!(fields[0]["to"], "(hash changed)");
    }
    // The webhooks pods mount the key with subPath: their running containers never saw the
    // new key, so it is no cause of the one unrelated restart (exit 2), nor of anything else.
    for (name, report) in reports.iter().filter(|(n, _)| n.starts_with("webhooks-")) {
        assert_eq!(report["restart_causes"], serde_json::json!([]), "{name}");
    }
    // No value, base64 or not, anywhere; no hash of one in the text answers.
    let trace = fixture("secret-rotation-crash.ndjson.zst")
        .display()
        .to_string();
    for (name, report) in &reports {
        let json = report.to_string();
        let out = kblame(&["analyze", &trace, "--pod", name]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        for value in SECRET_VALUES {
            let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, value);
            for shown in [&json, &text] {
                assert!(!shown.contains(value), "{name} shows a value");
                assert!(!shown.contains(&encoded), "{name} shows a value's base64");
            }
        }
        assert!(!text.contains("hmac-sha256"), "{name}: {text}");
        if name.starts_with("checkout-") {
            assert!(
                text.contains("data.api-key  (hash) → (hash changed)"),
                "{text}"
            );
        }
    }
    // The timeline tells the Secret's change the same way.
    let out = kblame(&["timeline", &trace, "--object", "deploy/checkout"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("secret shop/payment-keys"), "{text}");
    assert!(text.contains("(hash changed)"), "{text}");
    assert!(!text.contains("hmac-sha256"), "{text}");
}
