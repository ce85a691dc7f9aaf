//! The audit fixture scenarios (issue 13): the same history as a watch trace and as the API
//! server's audit log, with users, dry runs, a refused request and a sidecar-injecting webhook.

use super::audit::{AuditLevel, AuditPolicy};
use super::clock::{utc, Ms};
use super::config::{DeploymentConfig, ImageProfile, IntOrPercent, Tool};
use super::scenarios::{web_container, Ending, Scenario};
use super::Sim;

/// The audit scenarios, appended to [`super::scenarios::all`].
pub(crate) fn all() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "audit-rollout-rollback",
            description: AUDIT_ROLLOUT_ROLLBACK,
            seed: 26,
            script: audit_rollout_rollback,
        },
        Scenario {
            name: "sidecar-injection",
            description: SIDECAR_INJECTION,
            seed: 27,
            script: sidecar_injection,
        },
    ]
}

fn day(hour: i64, minute: i64, second: i64) -> Ms {
    utc(2026, 11, 29, hour, minute, second)
}

const FRONTEND: &str = "registry.example.com/store/frontend";

const AUDIT_ROLLOUT_ROLLBACK: &str = "Deployment store/frontend, recorded by both a watch and the API \
server's audit log (policy: reads, Events and Leases at Metadata; apps, batch and pods at RequestResponse; \
the rest at Request; a second log holds every request at Metadata). At 09:00:30 alice@example.com creates it with \
`kubectl apply` (3 replicas of frontend:1.4.0, maxSurge 1, maxUnavailable 1; revision 1). At 09:04:00 alice applies :1.5.0 (revision 2, completes). \
At 09:08:00 bob@example.com runs `kubectl diff` with :1.6.0 (a PATCH with dryRun=All, answered 200 with the object \
it would store; nothing changes), and at 09:08:40 bob applies :1.6.0 with the same field manager \
(kubectl-client-side-apply), which exits 1 two seconds after starting: revision 3's two pods crash-loop and one revision-2 pod is scaled \
away. At \
09:10:10 alice's `kubectl replace` of a manifest saved before bob's change is refused (409 Conflict), and she lists \
the pods. At 09:11:30 alice runs `kubectl rollout undo` (manager kubectl, a JSON patch): revision 2's template \
returns as revision 4 (ReplicaSet frontend-747fd8755f again), which creates one pod and completes. The trace ends at 09:16.";

fn audit_rollout_rollback(sim: &mut Sim) -> Ending {
    sim.image(
        &format!("{FRONTEND}:1.6.0"),
        ImageProfile::healthy().crashes_after(2, 1),
    );
    sim.audit(AuditPolicy::workloads())
        .audit_also("metadata", AuditPolicy::uniform(AuditLevel::Metadata));
    sim.advance_to(day(9, 0, 0)).start_trace();
    let config = DeploymentConfig::new("store", "frontend")
        .replicas(3)
        .rolling(IntOrPercent::Int(1), IntOrPercent::Int(1))
        .container(web_container(
            "frontend",
            &format!("{FRONTEND}:1.4.0"),
            8080,
        ));
    sim.advance_to(day(9, 0, 30))
        .as_user("alice@example.com")
        .apply_deployment(&config, Tool::KubectlApply);
    let image = |tag: &str| format!("{FRONTEND}:{tag}");
    sim.advance_to(day(9, 4, 0)).set_image(
        "store",
        "frontend",
        "frontend",
        &image("1.5.0"),
        Tool::KubectlApply,
    );
    sim.advance_to(day(9, 8, 0))
        .as_user("bob@example.com")
        .kubectl_diff("store", "frontend", Tool::KubectlApply, |c| {
            if let Some(c) = c.container_mut("frontend") {
                c.image = image("1.6.0");
            }
        });
    sim.advance_to(day(9, 8, 40)).set_image(
        "store",
        "frontend",
        "frontend",
        &image("1.6.0"),
        Tool::KubectlApply,
    );
    sim.advance_to(day(9, 10, 10))
        .as_user("alice@example.com")
        .stale_replace("store", "frontend", |body| {
            body["spec"]["replicas"] = serde_json::json!(4);
        })
        .kubectl_get("store", "pods");
    sim.advance_to(day(9, 11, 30))
        .rollout_undo("store", "frontend");
    sim.advance_to(day(9, 16, 0));
    Ending::Finish
}

const SIDECAR_INJECTION: &str = "Istio's sidecar injector (MutatingWebhookConfiguration istio-sidecar-injector, \
installed by helm at 13:00, recorded) and two namespaces, also recorded: shop, labelled istio-injection=enabled, \
and legacy, unlabelled. The audit log (reads, Events and Leases at Metadata; apps, batch and pods at \
RequestResponse; the rest at Request) starts at 13:00, the trace at 14:00. Deployment shop/checkout (2 replicas of \
ghcr.io/acme/checkout:2.4.0, applied by alice@example.com at 13:30): the webhook namespace.sidecar-injector.istio.io \
(index 2 of the four) adds istio-init, istio-proxy (docker.io/istio/proxyv2:1.23.2), six volumes, three labels and \
seven annotations to each pod; the pod's create request in the audit log holds the pod as the ReplicaSet controller \
sent it, the response the pod as stored, and the annotations mutation.webhook.admission.k8s.io/round_0_index_2 \
and patch.webhook.admission.k8s.io/round_0_index_2 (the JSON patch). At 14:01:00 alice applies :2.5.0: revision 2's \
pods are injected too. At 14:03:00 alice creates Deployment legacy/billing (2 replicas of \
ghcr.io/acme/billing:1.2.0), whose pods no webhook selects. Built-in admission (the kube-api-access token volume, \
default tolerations, priority) and the scheduler's nodeName are in every pod. The trace ends at 14:08.";

fn sidecar_injection(sim: &mut Sim) -> Ending {
    sim.audit(AuditPolicy::workloads());
    sim.advance_to(day(13, 0, 0))
        .istio_sidecar_injector()
        .namespace("shop", &[("istio-injection", "enabled")])
        .namespace("legacy", &[]);
    let checkout = DeploymentConfig::new("shop", "checkout")
        .replicas(2)
        .container(web_container(
            "checkout",
            "ghcr.io/acme/checkout:2.4.0",
            8080,
        ));
    sim.advance_to(day(13, 30, 0))
        .as_user("alice@example.com")
        .apply_deployment(&checkout, Tool::KubectlApply);
    sim.advance_to(day(14, 0, 0)).start_trace();
    sim.advance_to(day(14, 1, 0)).set_image(
        "shop",
        "checkout",
        "checkout",
        "ghcr.io/acme/checkout:2.5.0",
        Tool::KubectlApply,
    );
    let billing = DeploymentConfig::new("legacy", "billing")
        .replicas(2)
        .container(web_container("billing", "ghcr.io/acme/billing:1.2.0", 8080));
    sim.advance_to(day(14, 3, 0))
        .apply_deployment(&billing, Tool::KubectlApply);
    sim.advance_to(day(14, 8, 0));
    Ending::Finish
}
