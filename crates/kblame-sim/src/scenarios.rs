//! The fixture scenarios: each a short script for the simulator plus what it demonstrates.

use std::io;

use kblame::trace::WriterOptions;

use super::clock::{utc, Ms, SECOND};
use super::config::{
    ContainerConfig, DeploymentConfig, HpaConfig, ImageProfile, IntOrPercent, ProbeConfig,
    Propagation, Tool,
};
use super::truth::GroundTruth;
use super::{
    CronJobConfig, DaemonSetConfig, PostgresClusterConfig, Sim, StatefulSetConfig, StsStrategy,
};

/// How a scenario's trace ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// With an END record.
    Finish,
    /// Without END, as a killed recorder leaves it.
    Abandon,
}

/// A named script for the simulator.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// The fixture name, e.g. `seed-demo`.
    pub name: &'static str,
    /// One paragraph saying what happens.
    pub description: &'static str,
    /// The random seed.
    pub seed: u64,
    /// The script: sets up the cluster, starts the trace, acts, and says how the trace ends.
    pub script: fn(&mut Sim) -> Ending,
}

/// A generated scenario: the compressed trace and its ground truth.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The scenario name.
    pub name: &'static str,
    /// The trace (zstd-framed NDJSON).
    pub trace: Vec<u8>,
    /// How many records it holds (header excluded, END included).
    pub records: u64,
    /// What the simulator did.
    pub truth: GroundTruth,
    /// The audit logs written beside the trace (JSON lines), by name (`""` for the main log);
    /// empty unless the scenario turns auditing on.
    pub audit: Vec<(String, Vec<u8>)>,
}

impl Scenario {
    /// Runs the script and returns the trace and ground truth; the same bytes every time.
    pub fn generate(&self) -> io::Result<Fixture> {
        // Framed like a live recording (a frame per second of records), so the fixtures exercise
        // multi-frame reading the way real traces do.
        let mut sim = Sim::with_output(Vec::new(), WriterOptions::default(), self.seed, 0);
        let ending = (self.script)(&mut sim);
        let records = sim.records() + u64::from(ending == Ending::Finish);
        let audit = sim.take_audit();
        let (trace, truth) = match ending {
            Ending::Finish => sim.finish(self.name, self.description)?,
            Ending::Abandon => sim.abandon(self.name, self.description)?,
        };
        Ok(Fixture {
            name: self.name,
            trace,
            records,
            truth,
            audit,
        })
    }
}

/// Every fixture scenario.
pub fn all() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "seed-demo",
            description: SEED_DEMO,
            seed: 1,
            script: seed_demo,
        },
        Scenario {
            name: "rollout-restart",
            description: ROLLOUT_RESTART,
            seed: 2,
            script: rollout_restart,
        },
        Scenario {
            name: "rollout-undo",
            description: ROLLOUT_UNDO,
            seed: 3,
            script: rollout_undo,
        },
        Scenario {
            name: "oom-helm",
            description: OOM_HELM,
            seed: 4,
            script: oom_helm,
        },
        Scenario {
            name: "liveness-ssa",
            description: LIVENESS_SSA,
            seed: 5,
            script: liveness_ssa,
        },
        Scenario {
            name: "manual-delete",
            description: MANUAL_DELETE,
            seed: 6,
            script: manual_delete,
        },
        Scenario {
            name: "scale-down",
            description: SCALE_DOWN,
            seed: 7,
            script: scale_down,
        },
        Scenario {
            name: "delete-recreate",
            description: DELETE_RECREATE,
            seed: 8,
            script: delete_recreate,
        },
        Scenario {
            name: "mid-rollout",
            description: MID_ROLLOUT,
            seed: 9,
            script: mid_rollout,
        },
        Scenario {
            name: "hpa-scale-up",
            description: HPA_SCALE_UP,
            seed: 10,
            script: hpa_scale_up,
        },
        Scenario {
            name: "cut-short",
            description: CUT_SHORT,
            seed: 11,
            script: cut_short,
        },
        Scenario {
            name: "evicted",
            description: EVICTED,
            seed: 12,
            script: evicted,
        },
        Scenario {
            name: "preempted",
            description: PREEMPTED,
            seed: 13,
            script: preempted,
        },
        Scenario {
            name: "watch-gap",
            description: WATCH_GAP,
            seed: 14,
            script: watch_gap,
        },
        Scenario {
            name: "catalog-release",
            description: CATALOG_RELEASE,
            seed: 15,
            script: catalog_release,
        },
        Scenario {
            name: "sts-rolling-update",
            description: STS_ROLLING_UPDATE,
            seed: 16,
            script: sts_rolling_update,
        },
        Scenario {
            name: "sts-stuck-ordinal",
            description: STS_STUCK_ORDINAL,
            seed: 17,
            script: sts_stuck_ordinal,
        },
        Scenario {
            name: "cronjob-template-break",
            description: CRONJOB_TEMPLATE_BREAK,
            seed: 18,
            script: cronjob_template_break,
        },
        Scenario {
            name: "ds-rolling-update",
            description: DS_ROLLING_UPDATE,
            seed: 19,
            script: ds_rolling_update,
        },
        Scenario {
            name: "operator-postgres",
            description: OPERATOR_POSTGRES,
            seed: 20,
            script: operator_postgres,
        },
        Scenario {
            name: "sts-partition-canary",
            description: STS_PARTITION_CANARY,
            seed: 20,
            script: sts_partition_canary,
        },
        Scenario {
            name: "sts-on-delete",
            description: STS_ON_DELETE,
            seed: 21,
            script: sts_on_delete,
        },
        Scenario {
            name: "config-reload-crash",
            description: CONFIG_RELOAD_CRASH,
            seed: 21,
            script: config_reload_crash,
        },
        Scenario {
            name: "config-rollout-restart",
            description: CONFIG_ROLLOUT_RESTART,
            seed: 22,
            script: config_rollout_restart,
        },
        Scenario {
            name: "config-after-failure",
            description: CONFIG_AFTER_FAILURE,
            seed: 23,
            script: config_after_failure,
        },
        Scenario {
            name: "secret-rotation-crash",
            description: SECRET_ROTATION_CRASH,
            seed: 26,
            script: secret_rotation_crash,
        },
    ]
    .into_iter()
    .chain(super::node_scenarios::all())
    .chain(super::image_scenarios::all())
    .chain(super::audit_scenarios::all())
    .collect()
}

/// A web container on `port` with a readiness probe on `/` and modest resources.
pub(crate) fn web_container(name: &str, image: &str, port: u16) -> ContainerConfig {
    ContainerConfig::new(name, image)
        .port(port)
        .request("cpu", "100m")
        .request("memory", "64Mi")
        .limit("memory", "128Mi")
        .readiness(ProbeConfig::http("/", port).period(5))
}

fn day(hour: i64, minute: i64, second: i64) -> Ms {
    utc(2026, 11, 26, hour, minute, second)
}

const SEED_DEMO: &str = "Deployment shop/web (3 replicas, nginx:1.25, revision 1) has served since 15:21. At 16:02:11 \
kubectl client-side apply changes the image to nginx:1.26-rc1, which exits 1 about 2 s after starting. The new \
ReplicaSet gets one surge pod (maxSurge 1, maxUnavailable 0) that crash-loops with growing back-off and never becomes \
ready; the three revision-1 pods keep serving. About ten minutes after the last progress the Deployment reports \
Progressing=False ProgressDeadlineExceeded. The trace ends at 16:15.";

fn seed_demo(sim: &mut Sim) -> Ending {
    sim.image(
        "nginx:1.26-rc1",
        ImageProfile::healthy().crashes_after(2, 1),
    );
    sim.advance_to(day(15, 21, 0));
    let config = DeploymentConfig::new("shop", "web")
        .replicas(3)
        .container(web_container("web", "nginx:1.25", 80));
    sim.apply_deployment(&config, Tool::KubectlApply);
    sim.advance_to(day(16, 0, 0)).start_trace();
    sim.advance_to(day(16, 2, 11));
    sim.set_image("shop", "web", "web", "nginx:1.26-rc1", Tool::KubectlApply);
    sim.advance_to(day(16, 15, 0));
    Ending::Finish
}

const ROLLOUT_RESTART: &str = "Deployment payments/api (4 replicas of ghcr.io/acme/payments-api:3.4.1, healthy) runs \
since 07:52. At 09:31:20 `kubectl rollout restart` (manager kubectl-rollout) stamps \
spec.template.metadata.annotations[\"kubectl.kubernetes.io/restartedAt\"]; that is the only difference of revision 2. \
The rollout (maxSurge 1, maxUnavailable 1) replaces the four old pods two at a time and completes.";

fn rollout_restart(sim: &mut Sim) -> Ending {
    sim.advance_to(day(7, 52, 0));
    let config = DeploymentConfig::new("payments", "api")
        .replicas(4)
        .container(
            web_container("api", "ghcr.io/acme/payments-api:3.4.1", 8080)
                .readiness(ProbeConfig::http("/ready", 8080).period(5)),
        );
    sim.apply_deployment(&config, Tool::KubectlApply);
    sim.advance_to(day(9, 30, 0)).start_trace();
    sim.advance_to(day(9, 31, 20))
        .rollout_restart("payments", "api");
    sim.advance_to(day(9, 35, 30));
    Ending::Finish
}

const ROLLOUT_UNDO: &str = "Deployment catalog/search (4 replicas of registry.example.com/catalog/search:5.2.0) is \
revision 1. At 13:05:40 kubectl client-side apply sets image :5.3.0, which the registry does not have: the two new pods \
(maxSurge 1, maxUnavailable 1, so one old pod is scaled down) sit in ErrImagePull / ImagePullBackOff with Failed events. \
At 13:08:15 `kubectl rollout undo` (manager kubectl, Update) puts the old template back: revision 1's ReplicaSet becomes \
revision 3 with revision-history \"1\", the two bad pods are deleted by the rollout and one new pod of revision 3 comes up.";

fn rollout_undo(sim: &mut Sim) -> Ending {
    sim.image(
        "registry.example.com/catalog/search:5.3.0",
        ImageProfile::healthy().missing(),
    );
    sim.advance_to(day(12, 31, 0));
    let container = web_container("search", "registry.example.com/catalog/search:5.2.0", 9200)
        .limit("memory", "512Mi")
        .request("memory", "256Mi");
    let config = DeploymentConfig::new("catalog", "search")
        .replicas(4)
        .container(container);
    sim.apply_deployment(&config, Tool::KubectlApply);
    sim.advance_to(day(13, 4, 0)).start_trace();
    sim.advance_to(day(13, 5, 40));
    sim.set_image(
        "catalog",
        "search",
        "search",
        "registry.example.com/catalog/search:5.3.0",
        Tool::KubectlApply,
    );
    sim.advance_to(day(13, 8, 15))
        .rollout_undo("catalog", "search");
    sim.advance_to(day(13, 10, 30));
    Ending::Finish
}

const OOM_HELM: &str = "Deployment billing/invoice-worker (2 replicas, installed by helm at 10:34) runs \
ghcr.io/acme/invoice-worker:1.8.0, which needs about 180 MiB, with a 256Mi limit; its pods have run 26 minutes without \
a restart when the trace starts at 11:00. At 11:01:05 a helm upgrade (manager helm, Update) lowers \
resources.limits.memory to 64Mi. The new revision's surge pod is OOMKilled (exit 137) a few seconds after every start \
and crash-loops; the old pods keep serving and the rollout does not progress.";

fn oom_helm(sim: &mut Sim) -> Ending {
    sim.image(
        "ghcr.io/acme/invoice-worker:1.8.0",
        ImageProfile::healthy().memory(180),
    );
    sim.advance_to(day(10, 34, 0));
    let container = ContainerConfig::new("worker", "ghcr.io/acme/invoice-worker:1.8.0")
        .port(9090)
        .request("cpu", "250m")
        .request("memory", "128Mi")
        .limit("memory", "256Mi")
        .readiness(ProbeConfig::http("/healthz", 9090).initial_delay(8));
    let config = DeploymentConfig::new("billing", "invoice-worker")
        .replicas(2)
        .label("app.kubernetes.io/managed-by", "Helm")
        .label("helm.sh/chart", "invoice-worker-0.4.2")
        .annotation("meta.helm.sh/release-name", "invoice-worker")
        .annotation("meta.helm.sh/release-namespace", "billing")
        .container(container);
    sim.apply_deployment(&config, Tool::Helm);
    sim.advance_to(day(11, 0, 0)).start_trace();
    sim.advance_to(day(11, 1, 5));
    sim.update_deployment("billing", "invoice-worker", Tool::Helm, |c| {
        c.labels
            .insert("helm.sh/chart".into(), "invoice-worker-0.4.3".into());
        if let Some(worker) = c.container_mut("worker") {
            worker.limits.insert("memory".into(), "64Mi".into());
        }
    });
    sim.advance_to(day(11, 8, 30));
    Ending::Finish
}

const LIVENESS_SSA: &str = "Deployment auth/session (3 replicas of quay.io/acme/session:2.1.0, managed with \
server-side apply) has a liveness probe on /healthz. At 08:15:45 `kubectl apply --server-side` (manager kubectl, \
operation Apply) changes the probe path to /livez, which the app answers with 404. The new pods pass readiness, so the \
rollout completes, but each new container is killed by the kubelet after three failed liveness probes (Unhealthy, then \
Killing; lastState.terminated reason Error, exit 137) and restarted with growing back-off.";

fn liveness_ssa(sim: &mut Sim) -> Ending {
    sim.advance_to(day(7, 44, 0));
    let container = ContainerConfig::new("session", "quay.io/acme/session:2.1.0")
        .port(8443)
        .request("cpu", "50m")
        .limit("memory", "96Mi")
        .liveness(ProbeConfig::http("/healthz", 8443))
        .readiness(ProbeConfig::http("/ready", 8443).period(5));
    let config = DeploymentConfig::new("auth", "session")
        .replicas(3)
        .container(container);
    sim.apply_deployment(&config, Tool::KubectlServerSideApply);
    sim.advance_to(day(8, 15, 0)).start_trace();
    sim.advance_to(day(8, 15, 45));
    sim.set_liveness_path(
        "auth",
        "session",
        "session",
        "/livez",
        Tool::KubectlServerSideApply,
    );
    sim.advance_to(day(8, 20, 0));
    Ending::Finish
}

const MANUAL_DELETE: &str = "Deployment web/frontend (3 replicas of nginx:1.27) is healthy and unchanged. At \
14:01:30 someone runs `kubectl delete pod` on its second-oldest pod; the pod terminates gracefully and the ReplicaSet \
controller creates a replacement at once. No spec change, no new revision.";

fn manual_delete(sim: &mut Sim) -> Ending {
    sim.nodes(2);
    sim.advance_to(day(13, 12, 0));
    let config = DeploymentConfig::new("web", "frontend")
        .replicas(3)
        .container(web_container("nginx", "nginx:1.27", 80));
    sim.apply_deployment(&config, Tool::KubectlApply);
    sim.advance_to(day(14, 0, 0)).start_trace();
    sim.advance_to(day(14, 1, 30));
    let victim = sim
        .pod_names("web", "frontend")
        .get(1)
        .cloned()
        .unwrap_or_default();
    sim.delete_pod("web", &victim);
    sim.advance_to(day(14, 3, 30));
    Ending::Finish
}

const SCALE_DOWN: &str = "Deployment jobs/worker (5 replicas of ghcr.io/acme/worker:4.0.2, which exits 143 on \
SIGTERM) is healthy. At 17:41:00 `kubectl scale --replicas=2` (manager kubectl, Update through the scale subresource, \
so its managedFields entry has no time) makes the ReplicaSet controller delete the three newest pods.";

fn scale_down(sim: &mut Sim) -> Ending {
    sim.nodes(4);
    sim.image(
        "ghcr.io/acme/worker:4.0.2",
        ImageProfile::healthy().sigterm_exit(143),
    );
    sim.advance_to(day(16, 58, 0));
    let mut config = DeploymentConfig::new("jobs", "worker")
        .replicas(3)
        .container(
            ContainerConfig::new("worker", "ghcr.io/acme/worker:4.0.2")
                .request("cpu", "500m")
                .limit("memory", "1Gi"),
        );
    sim.apply_deployment(&config, Tool::KubectlApply);
    sim.advance_to(day(17, 10, 0));
    config = config.replicas(5);
    sim.apply_deployment(&config, Tool::KubectlApply);
    sim.advance_to(day(17, 40, 0)).start_trace();
    sim.advance_to(day(17, 41, 0)).scale("jobs", "worker", 2);
    sim.advance_to(day(17, 43, 0));
    Ending::Finish
}

const DELETE_RECREATE: &str = "Deployment blog/ghost (2 replicas of ghost:5.96) is deleted at 20:01:00 \
(`kubectl delete deployment`, background propagation): the garbage collector deletes its ReplicaSet and then its \
pods. At 20:02:30 the same manifest is applied again: a new Deployment with the same name and template, so its \
ReplicaSet has the same name (same pod-template-hash) and the new pods share the name prefix, but every UID differs.";

fn delete_recreate(sim: &mut Sim) -> Ending {
    sim.advance_to(day(19, 40, 0));
    let config = DeploymentConfig::new("blog", "ghost")
        .replicas(2)
        .container(web_container("ghost", "ghost:5.96", 2368).limit("memory", "512Mi"));
    sim.apply_deployment(&config, Tool::KubectlApply);
    sim.advance_to(day(20, 0, 0)).start_trace();
    sim.advance_to(day(20, 1, 0))
        .delete_deployment("blog", "ghost", Propagation::Background);
    sim.advance_to(day(20, 2, 30))
        .apply_deployment(&config, Tool::KubectlApply);
    sim.advance_to(day(20, 4, 0));
    Ending::Finish
}

const MID_ROLLOUT: &str = "Deployment orders/checkout (6 replicas, maxSurge 2, maxUnavailable 1) was changed from \
ghcr.io/acme/checkout:7.1.0 to :7.2.0 by kubectl client-side apply at 06:59:00, a minute before the trace starts. The \
change itself is only visible through the managedFields time and the two ReplicaSets' revision annotations in the \
LISTED records (old and new template both present, some pods of each). The rollout then completes during the trace; \
new pods take about 50 s to become ready.";

fn mid_rollout(sim: &mut Sim) -> Ending {
    sim.image(
        "ghcr.io/acme/checkout:7.2.0",
        ImageProfile {
            pull_seconds: 9,
            ..ImageProfile::healthy()
        },
    );
    sim.nodes(4);
    sim.advance_to(day(5, 45, 0));
    let container = ContainerConfig::new("checkout", "ghcr.io/acme/checkout:7.1.0")
        .port(8080)
        .request("cpu", "200m")
        .limit("memory", "256Mi")
        .readiness(ProbeConfig::http("/ready", 8080).initial_delay(45));
    let config = DeploymentConfig::new("orders", "checkout")
        .replicas(6)
        .rolling(IntOrPercent::Int(2), IntOrPercent::Int(1))
        .container(container);
    sim.apply_deployment(&config, Tool::KubectlApply);
    sim.advance_to(day(6, 59, 0));
    sim.set_image(
        "orders",
        "checkout",
        "checkout",
        "ghcr.io/acme/checkout:7.2.0",
        Tool::KubectlApply,
    );
    sim.advance_to(day(7, 0, 0)).start_trace();
    sim.advance_to(day(7, 3, 0));
    Ending::Finish
}

const HPA_SCALE_UP: &str = "Deployment media/thumbnailer (2 replicas of ghcr.io/acme/thumbnailer:0.9.3) has an \
autoscaling/v2 HorizontalPodAutoscaler (min 2, max 6, 70% CPU). At 10:01:00 CPU load rises to 140% of requests; at its \
next sync the HPA scales the Deployment 2 → 4 through the scale subresource (manager kube-controller-manager, Update, \
subresource scale, no time in that managedFields entry). The two new pods are scale-ups of the current revision; no new \
revision is made.";

fn hpa_scale_up(sim: &mut Sim) -> Ending {
    sim.advance_to(day(9, 28, 0));
    let container = ContainerConfig::new("thumbnailer", "ghcr.io/acme/thumbnailer:0.9.3")
        .port(8000)
        .request("cpu", "200m")
        .limit("memory", "384Mi")
        .readiness(ProbeConfig::http("/healthz", 8000).period(5));
    let config = DeploymentConfig::new("media", "thumbnailer")
        .replicas(2)
        .container(container);
    sim.apply_deployment(&config, Tool::KubectlApply);
    sim.advance(40);
    sim.apply_hpa(&HpaConfig {
        namespace: "media".into(),
        name: "thumbnailer".into(),
        target: "thumbnailer".into(),
        min_replicas: 2,
        max_replicas: 6,
        cpu_utilization: 70,
    });
    sim.advance_to(day(10, 0, 0)).start_trace();
    sim.advance_to(day(10, 1, 0))
        .set_cpu_load("media", "thumbnailer", 140);
    sim.advance_to(day(10, 3, 0));
    Ending::Finish
}

const CUT_SHORT: &str = "Deployment ci/runner (2 replicas) gets image ghcr.io/acme/runner:2.4.0 by kubectl \
client-side apply at 22:10:40. The rollout is under way when the recorder is killed at 22:11:05, after the first new pod became ready: the trace has no END \
record and its last frame stops mid-rollout.";

fn cut_short(sim: &mut Sim) -> Ending {
    sim.image(
        "ghcr.io/acme/runner:2.4.0",
        ImageProfile {
            pull_seconds: 12,
            ..ImageProfile::healthy()
        },
    );
    sim.advance_to(day(21, 55, 0));
    let config = DeploymentConfig::new("ci", "runner")
        .replicas(2)
        .container(web_container("runner", "ghcr.io/acme/runner:2.3.0", 8080));
    sim.apply_deployment(&config, Tool::KubectlApply);
    sim.advance_to(day(22, 10, 0)).start_trace();
    sim.advance_to(day(22, 10, 40));
    sim.set_image(
        "ci",
        "runner",
        "runner",
        "ghcr.io/acme/runner:2.4.0",
        Tool::KubectlApply,
    );
    sim.advance_to(day(22, 10, 40) + 25 * SECOND);
    Ending::Abandon
}

const EVICTED: &str = "Deployment reports/pdf-render (4 replicas of ghcr.io/acme/pdf-render:2.7.1, which uses about \
180 MiB while its container `app` requests 64Mi) is healthy. At 12:03:17 node-1 runs low on memory (91Mi available, \
below the kubelet's 100Mi hard-eviction threshold): the kubelet reports EvictionThresholdMet and evicts the node's pod \
using the most memory above its request (Evicted event, then the pod's status: phase Failed, reason Evicted, \
DisruptionTarget TerminationByKubelet, containers terminated). The pod is not deleted; the ReplicaSet controller no \
longer counts it and creates a replacement, scheduled away from the tainted node. The pressure ends five minutes later.";

fn evicted(sim: &mut Sim) -> Ending {
    sim.image(
        "ghcr.io/acme/pdf-render:2.7.1",
        ImageProfile::healthy().memory(180),
    );
    sim.advance_to(day(11, 12, 0));
    let container = ContainerConfig::new("app", "ghcr.io/acme/pdf-render:2.7.1")
        .port(8080)
        .request("cpu", "150m")
        .request("memory", "64Mi")
        .limit("memory", "512Mi")
        .readiness(ProbeConfig::http("/healthz", 8080).period(5));
    let config = DeploymentConfig::new("reports", "pdf-render")
        .replicas(4)
        .container(container);
    sim.apply_deployment(&config, Tool::KubectlServerSideApply);
    sim.advance_to(day(12, 0, 0)).start_trace();
    sim.advance_to(day(12, 3, 17)).memory_pressure("node-1", 91);
    sim.advance_to(day(12, 9, 0));
    Ending::Finish
}

const PREEMPTED: &str = "Two nodes with 1930m allocatable CPU each run Deployment warehouse/etl-runner (4 replicas \
requesting 800m, no PriorityClass, priority 0), two pods per node. At 06:02:05 helm installs \
checkout/payment-gateway (1 replica requesting 500m, priorityClassName business-critical = 1000000). No node has room, \
so the scheduler preempts the newest etl-runner pod on the node whose victims started last: a status patch adds \
DisruptionTarget PreemptionByScheduler, the pod is deleted (graceful, 30 s) with a Preempted event, and the gateway pod \
gets nominatedNodeName. The ReplicaSet creates a replacement at once, which stays Pending (FailedScheduling: \
Insufficient cpu, no preemption victims); the gateway pod is bound once the victim is gone.";

fn preempted(sim: &mut Sim) -> Ending {
    sim.nodes(2)
        .allocatable_cpu(1930)
        .priority_class("business-critical", 1_000_000);
    sim.image(
        "ghcr.io/acme/etl-runner:5.0.3",
        ImageProfile::healthy().sigterm_exit(143),
    );
    sim.advance_to(day(5, 10, 0));
    let runner = ContainerConfig::new("runner", "ghcr.io/acme/etl-runner:5.0.3")
        .request("cpu", "800m")
        .request("memory", "512Mi")
        .limit("memory", "1Gi");
    let etl = DeploymentConfig::new("warehouse", "etl-runner")
        .replicas(4)
        .container(runner);
    sim.apply_deployment(&etl, Tool::KubectlApply);
    sim.advance_to(day(6, 0, 0)).start_trace();
    sim.advance_to(day(6, 2, 5));
    let gateway =
        web_container("gateway", "ghcr.io/acme/payment-gateway:3.2.0", 8443).request("cpu", "500m");
    let config = DeploymentConfig::new("checkout", "payment-gateway")
        .priority_class("business-critical")
        .container(gateway);
    sim.apply_deployment(&config, Tool::Helm);
    sim.advance_to(day(6, 5, 0));
    Ending::Finish
}

const WATCH_GAP: &str = "Deployment inventory/stock-api (server-side applied) is scaled from 2 to 3 replicas at \
15:30:25. At 15:31:10 the recorder's pod watch breaks: GAP for v1/pods (410 Gone, its resourceVersion was compacted \
away), and its re-list only succeeds 40 s later. Meanwhile, at 15:31:22, `kubectl delete pod` removes the oldest pod \
and the ReplicaSet creates a replacement: no pod record shows either (the Deployment, ReplicaSet and Event watches \
keep recording). At 15:31:50 the recorder lists pods again (LISTED for the three pods that exist, then SYNCED): the \
deleted pod is simply missing from the list and the replacement first appears there. Ground truth marks both \
`hidden_by_gap`.";

fn watch_gap(sim: &mut Sim) -> Ending {
    sim.advance_to(day(14, 47, 0));
    let config = DeploymentConfig::new("inventory", "stock-api")
        .replicas(2)
        .container(web_container("api", "ghcr.io/acme/stock-api:1.14.2", 8080));
    sim.apply_deployment(&config, Tool::KubectlServerSideApply);
    sim.advance_to(day(15, 30, 0)).start_trace();
    sim.advance_to(day(15, 30, 25))
        .scale("inventory", "stock-api", 3);
    sim.advance_to(day(15, 31, 10));
    let reason = sim.expired_watch_reason("v1/pods");
    sim.break_watch("v1/pods", &reason);
    sim.advance_to(day(15, 31, 22));
    let victim = sim
        .pod_names("inventory", "stock-api")
        .first()
        .cloned()
        .unwrap_or_default();
    sim.delete_pod("inventory", &victim);
    sim.advance_to(day(15, 31, 50)).resume_watch("v1/pods");
    sim.advance_to(day(15, 33, 30));
    Ending::Finish
}

const CATALOG_RELEASE: &str = "Deployment shop/catalog-web (3 replicas of \
123456789012.dkr.ecr.eu-central-1.amazonaws.com/catalog-web:v5.3.2) and its ConfigMap shop/catalog-web-config \
(key application.yaml, a 13-line YAML file, and LOG_LEVEL) were applied with kubectl client-side apply on 2026-11-06 \
at 10:31:06, twenty days before the trace starts at 09:00 on 2026-11-26: revision 1 and its pods are that old. At \
09:02:10 the ConfigMap is applied again with one line of application.yaml changed (database maxPoolSize 20 → 50). At \
09:04:30 kubectl client-side apply changes the image to the same registry path with tag v5.4.0; the rollout \
(maxSurge 25%, maxUnavailable 25%) replaces the pods one at a time and completes.";

/// The registry path of catalog-web's images.
const CATALOG_IMAGE: &str = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/catalog-web";

/// catalog-web's `application.yaml` with the database pool size given.
fn catalog_config(pool: u32) -> String {
    format!(
        "server:\n  port: 8080\n  shutdown: graceful\nspring:\n  datasource:\n    url: jdbc:postgresql://catalog-db.shop.svc:5432/catalog\n    hikari:\n      maxPoolSize: {pool}\n      connectionTimeout: 3000\nmanagement:\n  endpoints:\n    web:\n      exposure: health,prometheus\n"
    )
}

fn catalog_release(sim: &mut Sim) -> Ending {
    sim.advance_to(utc(2026, 11, 6, 10, 31, 6));
    let config = catalog_config(20);
    sim.apply_configmap(
        "shop",
        "catalog-web-config",
        &[("LOG_LEVEL", "info"), ("application.yaml", &config)],
    );
    let container = web_container("web", &format!("{CATALOG_IMAGE}:v5.3.2"), 8080)
        .readiness(ProbeConfig::http("/healthz", 8080).period(5));
    let deployment = DeploymentConfig::new("shop", "catalog-web")
        .replicas(3)
        .container(container);
    sim.apply_deployment(&deployment, Tool::KubectlApply);
    sim.advance_to(day(9, 0, 0)).start_trace();
    sim.advance_to(day(9, 2, 10));
    let config = catalog_config(50);
    sim.apply_configmap(
        "shop",
        "catalog-web-config",
        &[("LOG_LEVEL", "info"), ("application.yaml", &config)],
    );
    sim.advance_to(day(9, 4, 30));
    sim.set_image(
        "shop",
        "catalog-web",
        "web",
        &format!("{CATALOG_IMAGE}:v5.4.0"),
        Tool::KubectlApply,
    );
    sim.advance_to(day(9, 8, 0));
    Ending::Finish
}

const STS_ROLLING_UPDATE: &str = "StatefulSet orders/redis (3 replicas of redis:7.2.4, OrderedReady, RollingUpdate \
with partition 0, governing Service redis) has run since 09:12 at ControllerRevision redis-<hash> revision 1. At \
10:01:10 kubectl client-side apply sets image redis:7.2.5. The StatefulSet controller creates ControllerRevision \
revision 2, then replaces one pod at a time from the highest ordinal down: it deletes redis-2, recreates it under the \
same name with a new UID at the new revision once the old pod is gone, waits until it is Running and Ready, then does \
the same for redis-1 and redis-0. Its last status write sets currentRevision to the new revision. The trace ends at 10:06.";

fn sts_rolling_update(sim: &mut Sim) -> Ending {
    sim.advance_to(day(9, 12, 0));
    let pods = DeploymentConfig::new("orders", "redis")
        .replicas(3)
        .container(web_container("redis", "redis:7.2.4", 6379));
    sim.apply_statefulset(&StatefulSetConfig::new(pods, "redis"), Tool::KubectlApply);
    sim.advance_to(day(10, 0, 0)).start_trace();
    sim.advance_to(day(10, 1, 10));
    sim.update_statefulset("orders", "redis", Tool::KubectlApply, |config| {
        if let Some(c) = config.pods.container_mut("redis") {
            c.image = "redis:7.2.5".into();
        }
    });
    sim.advance_to(day(10, 6, 0));
    Ending::Finish
}

const STS_STUCK_ORDINAL: &str = "StatefulSet ledger/postgres (3 replicas of \
registry.example.com/ledger/postgres:16.3, OrderedReady, RollingUpdate with partition 0) has run since 08:40 at \
revision 1. At 09:20:30 kubectl server-side apply (manager kubectl, Apply) sets image :16.4, which exits 1 about 3 s \
after starting. The controller creates ControllerRevision revision 2, deletes postgres-2 and recreates it at revision 2; \
the new postgres-2 crash-loops (CrashLoopBackOff, restartCount growing) and never becomes Ready, so the ordered rolling \
update halts there: postgres-0 and postgres-1 stay at revision 1, currentRevision stays revision 1, and nothing else \
happens (a StatefulSet has no progress deadline and sets no conditions). The trace ends at 09:32.";

fn sts_stuck_ordinal(sim: &mut Sim) -> Ending {
    sim.image(
        "registry.example.com/ledger/postgres:16.4",
        ImageProfile::healthy().crashes_after(3, 1),
    );
    sim.advance_to(day(8, 40, 0));
    let pods = DeploymentConfig::new("ledger", "postgres")
        .replicas(3)
        .container(web_container(
            "postgres",
            "registry.example.com/ledger/postgres:16.3",
            5432,
        ));
    sim.apply_statefulset(
        &StatefulSetConfig::new(pods, "postgres"),
        Tool::KubectlServerSideApply,
    );
    sim.advance_to(day(9, 19, 0)).start_trace();
    sim.advance_to(day(9, 20, 30));
    sim.update_statefulset(
        "ledger",
        "postgres",
        Tool::KubectlServerSideApply,
        |config| {
            if let Some(c) = config.pods.container_mut("postgres") {
                c.image = "registry.example.com/ledger/postgres:16.4".into();
            }
        },
    );
    sim.advance_to(day(9, 32, 0));
    Ending::Finish
}

const CRONJOB_TEMPLATE_BREAK: &str = "CronJob billing/invoice-export (schedule */5 * * * *, Job template \
backoffLimit 2, restartPolicy Never, image registry.example.com/billing/invoice-export:2.0, which finishes in about 20 s) \
has run since 09:41. The trace starts at 09:57 with the Jobs of 09:45, 09:50 and 09:55 complete. The 10:00 Job \
completes too (pod Succeeded, SuccessCriteriaMet then Complete, SawCompletedJob), and the CronJob deletes the 09:45 Job \
(successfulJobsHistoryLimit 3); its pod goes by garbage collection. At 10:02:30 kubectl client-side apply changes \
spec.jobTemplate's image to :2.1, which exits 1 about 2 s after starting. The 10:05 Job's pod fails and is kept; \
replacements follow after the pod failure back-off (10 s, then 20 s); the third failure exceeds the backoff limit: \
FailureTarget then Failed BackoffLimitExceeded. The 10:10 Job fails the same way, and the 10:05 Job is deleted \
(failedJobsHistoryLimit 1). The trace ends at 10:12.";

fn cronjob_template_break(sim: &mut Sim) -> Ending {
    sim.image(
        "registry.example.com/billing/invoice-export:2.0",
        ImageProfile::healthy().crashes_after(20, 0),
    );
    sim.image(
        "registry.example.com/billing/invoice-export:2.1",
        ImageProfile::healthy().crashes_after(2, 1),
    );
    sim.advance_to(day(9, 41, 0));
    let pods = DeploymentConfig::new("billing", "invoice-export").container(
        ContainerConfig::new("export", "registry.example.com/billing/invoice-export:2.0")
            .request("cpu", "200m")
            .request("memory", "128Mi"),
    );
    let config = CronJobConfig::new(pods, "*/5 * * * *", 2);
    sim.apply_cronjob(&config, Tool::KubectlApply);
    sim.advance_to(day(9, 57, 0)).start_trace();
    sim.advance_to(day(10, 2, 30));
    sim.update_cronjob("billing", "invoice-export", Tool::KubectlApply, |config| {
        if let Some(c) = config.pods.container_mut("export") {
            c.image = "registry.example.com/billing/invoice-export:2.1".into();
        }
    });
    sim.advance_to(day(10, 12, 0));
    Ending::Finish
}

const DS_ROLLING_UPDATE: &str = "DaemonSet monitoring/node-exporter (prom/node-exporter:v1.8.1, \
RollingUpdate with maxUnavailable 1 and maxSurge 0) has run one pod on each of the 3 nodes since 07:05, template \
generation 1. At 08:10:05 kubectl client-side apply sets image v1.8.2: the API server bumps the annotation \
deprecated.daemonset.template.generation to 2, and the DaemonSet controller creates ControllerRevision revision 2. \
Node by node, in no fixed order, it deletes the old pod, creates a new pod (a new name) pinned to that node by node \
affinity once the old one is gone, and waits until it is available before the next node. The pods' \
controller-revision-hash label holds the hash alone and pod-template-generation the generation. The trace ends at 08:13.";

fn ds_rolling_update(sim: &mut Sim) -> Ending {
    sim.advance_to(day(7, 5, 0));
    let pods = DeploymentConfig::new("monitoring", "node-exporter").container(web_container(
        "node-exporter",
        "prom/node-exporter:v1.8.1",
        9100,
    ));
    sim.apply_daemonset(&DaemonSetConfig::new(pods), Tool::KubectlApply);
    sim.advance_to(day(8, 9, 0)).start_trace();
    sim.advance_to(day(8, 10, 5));
    sim.update_daemonset(
        "monitoring",
        "node-exporter",
        Tool::KubectlApply,
        |config| {
            if let Some(c) = config.pods.container_mut("node-exporter") {
                c.image = "prom/node-exporter:v1.8.2".into();
            }
        },
    );
    sim.advance_to(day(8, 13, 0));
    Ending::Finish
}

const OPERATOR_POSTGRES: &str = "PostgresCluster db/hippo (postgres-operator.crunchydata.com/v1beta1; \
postgresVersion 16, image registry.developers.crunchydata.com/crunchydata/crunchy-postgres:ubi8-16.3-1, one instance set \
instance1 of 3 replicas) was applied with kubectl client-side apply at 08:40. Its operator (field manager \
postgrescluster-controller) owns StatefulSet hippo-instance1-<4 characters> (ownerReference controller: true), written \
by server-side apply, and reports kstatus conditions through the status subresource: Ready=True since the three pods \
came up. At 09:20:30 kubectl client-side apply sets spec.image to :ubi8-16.4-0 (generation 2), which exits 1 about 3 s \
after starting. The operator applies the new image to the StatefulSet's template and writes observedGeneration 2, \
Reconciling=True (Progressing) and Ready=False. The StatefulSet controller creates revision 2, deletes the highest \
ordinal and recreates it at revision 2; that pod crash-loops and the OrderedReady rolling update halts there. Ten \
minutes after the rollout's last progress the operator removes Reconciling and sets Stalled=True (RolloutStalled): \
kstatus says Failed. The trace ends at 09:33.";

/// The image tag the operator-postgres scenario rolls out, which crash-loops.
const CRUNCHY_POSTGRES: &str = "registry.developers.crunchydata.com/crunchydata/crunchy-postgres";

/// A crunchy-postgres image: Patroni answers its readiness endpoint `/readiness`.
fn crunchy_postgres() -> ImageProfile {
    let mut profile = ImageProfile::healthy();
    profile.healthy_paths.push("/readiness".into());
    profile
}

fn operator_postgres(sim: &mut Sim) -> Ending {
    let broken = format!("{CRUNCHY_POSTGRES}:ubi8-16.4-0");
    sim.image(&broken, crunchy_postgres().crashes_after(3, 1));
    sim.advance_to(day(8, 40, 0));
    let image = format!("{CRUNCHY_POSTGRES}:ubi8-16.3-1");
    sim.image(&image, crunchy_postgres());
    let config = PostgresClusterConfig::new("db", "hippo", 16, &image).replicas(3);
    sim.apply_postgres_cluster(&config, Tool::KubectlApply);
    sim.advance_to(day(9, 19, 0)).start_trace();
    sim.advance_to(day(9, 20, 30));
    sim.update_postgres_cluster("db", "hippo", Tool::KubectlApply, |c| {
        c.image = broken.clone();
    });
    sim.advance_to(day(9, 33, 0));
    Ending::Finish
}

const STS_PARTITION_CANARY: &str = "StatefulSet ingest/kafka (4 replicas of \
registry.example.com/ingest/kafka:3.7.0, ordinals.start 1 so its pods are kafka-1 to kafka-4, podManagementPolicy \
Parallel, RollingUpdate with partition 3) has run since 07:30 at revision 1. At 08:02:00 kubectl server-side apply \
(manager kubectl) sets image :3.7.1: the controller creates ControllerRevision revision 2 and updates only the ordinals \
at or above start + partition = 4, so it deletes kafka-4 and recreates it at revision 2 (the canary); kafka-1 to \
kafka-3 stay at revision 1 and kubectl rollout status says the partitioned roll out is complete. At 08:04:00 someone \
deletes kafka-1 (kubectl delete pod): the controller recreates it at the current revision 1, since its ordinal is below \
the partition. At 08:06:00 the same manager lowers the partition to 0: the update goes on one pod at a time from the \
highest ordinal down (Parallel does not parallelize updates while MaxUnavailableStatefulSet is off): kafka-3, kafka-2, \
then kafka-1, and currentRevision moves to revision 2. At 08:10:00 it sets replicas 6: being Parallel, the controller \
creates kafka-5 and kafka-6 in the same sync. The trace ends at 08:13.";

fn sts_partition_canary(sim: &mut Sim) -> Ending {
    sim.advance_to(day(7, 30, 0));
    let pods = DeploymentConfig::new("ingest", "kafka")
        .replicas(4)
        .container(web_container(
            "kafka",
            "registry.example.com/ingest/kafka:3.7.0",
            9092,
        ));
    let config = StatefulSetConfig::new(pods, "kafka")
        .parallel()
        .start_ordinal(1)
        .strategy(StsStrategy::Partition(3));
    sim.apply_statefulset(&config, Tool::KubectlServerSideApply);
    sim.advance_to(day(8, 0, 0)).start_trace();
    sim.advance_to(day(8, 2, 0));
    sim.update_statefulset("ingest", "kafka", Tool::KubectlServerSideApply, |config| {
        if let Some(c) = config.pods.container_mut("kafka") {
            c.image = "registry.example.com/ingest/kafka:3.7.1".into();
        }
    });
    sim.advance_to(day(8, 4, 0));
    sim.delete_pod("ingest", "kafka-1");
    sim.advance_to(day(8, 6, 0));
    sim.update_statefulset("ingest", "kafka", Tool::KubectlServerSideApply, |config| {
        config.strategy = StsStrategy::Partition(0);
    });
    sim.advance_to(day(8, 10, 0));
    sim.update_statefulset("ingest", "kafka", Tool::KubectlServerSideApply, |config| {
        config.pods.replicas = 6;
    });
    sim.advance_to(day(8, 13, 0));
    Ending::Finish
}

const STS_ON_DELETE: &str = "StatefulSet ops/etcd (3 replicas of registry.example.com/ops/etcd:3.5.14, \
OrderedReady, updateStrategy OnDelete) has run since 06:00 at revision 1. At 06:31:00 kubectl client-side apply sets \
image :3.5.15: the controller creates ControllerRevision revision 2 but deletes no pod (OnDelete), so all three pods \
stay at revision 1 and currentRevision never moves; kubectl rollout status gives no verdict for OnDelete. At 06:35:00 \
someone deletes etcd-2 (kubectl delete pod): the controller recreates it under the same name at the update revision 2. \
etcd-0 and etcd-1 wait at revision 1 for someone to delete them. The trace ends at 06:40.";

fn sts_on_delete(sim: &mut Sim) -> Ending {
    sim.advance_to(day(6, 0, 0));
    let pods = DeploymentConfig::new("ops", "etcd")
        .replicas(3)
        .container(web_container(
            "etcd",
            "registry.example.com/ops/etcd:3.5.14",
            2379,
        ));
    let config = StatefulSetConfig::new(pods, "etcd").strategy(StsStrategy::OnDelete);
    sim.apply_statefulset(&config, Tool::KubectlApply);
    sim.advance_to(day(6, 30, 0)).start_trace();
    sim.advance_to(day(6, 31, 0));
    sim.update_statefulset("ops", "etcd", Tool::KubectlApply, |config| {
        if let Some(c) = config.pods.container_mut("etcd") {
            c.image = "registry.example.com/ops/etcd:3.5.15".into();
        }
    });
    sim.advance_to(day(6, 35, 0));
    sim.delete_pod("ops", "etcd-2");
    sim.advance_to(day(6, 40, 0));
    Ending::Finish
}

const CONFIG_RELOAD_CRASH: &str = "Deployment shop/cart (3 replicas of ghcr.io/acme/cart:2.3.0) mounts ConfigMap \
shop/cart-config (key app.yaml) as volume config at /etc/cart, without subPath, so the kubelet rewrites the files in \
place; the app reloads them when they change. Both were applied with kubectl client-side apply at 09:10. At 10:01:00 \
kubectl client-side apply changes ConfigMap shop/banner-config (key message), which no cart pod reads. At 10:02:00 \
helm (manager helm, Update) changes app.yaml of shop/cart-config: payments.timeout 5s -> 0s, which the app rejects. \
At each pod's next sync, 8 to 70 s later, the kubelet rewrites the volume; the app reloads, exits 1 about 2 s later \
and crash-loops (CrashLoopBackOff) with no new revision and no Deployment change. The trace ends at 10:08.";

/// cart's `app.yaml` with the given payment timeout.
fn cart_config(timeout: &str) -> String {
    format!(
        "server:\n  port: 8080\npayments:\n  provider: stripe\n  timeout: {timeout}\ncache:\n  ttl: 60s\n"
    )
}

fn config_reload_crash(sim: &mut Sim) -> Ending {
    sim.image(
        "ghcr.io/acme/cart:2.3.0",
        ImageProfile::healthy().rejects("app.yaml", &cart_config("0s")),
    );
    sim.advance_to(day(9, 10, 0));
    sim.apply_configmap("shop", "cart-config", &[("app.yaml", &cart_config("5s"))]);
    sim.apply_configmap(
        "shop",
        "banner-config",
        &[("message", "Free shipping over 50 EUR")],
    );
    let container =
        web_container("cart", "ghcr.io/acme/cart:2.3.0", 8080).mount("config", "/etc/cart");
    let config = DeploymentConfig::new("shop", "cart")
        .replicas(3)
        .configmap_volume("config", "cart-config")
        .container(container);
    sim.apply_deployment(&config, Tool::KubectlApply);
    sim.advance_to(day(10, 0, 0)).start_trace();
    sim.advance_to(day(10, 1, 0));
    sim.apply_configmap(
        "shop",
        "banner-config",
        &[("message", "Free shipping over 40 EUR")],
    );
    sim.advance_to(day(10, 2, 0));
    sim.set_configmap_key(
        "shop",
        "cart-config",
        "app.yaml",
        &cart_config("0s"),
        "helm",
    );
    sim.advance_to(day(10, 8, 0));
    Ending::Finish
}

/// The payment provider key before and after the rotation: fixture values, never in the trace.
const OLD_API_KEY: &str = "sk_live_51Hq2fPZ8kQ0old";
const NEW_API_KEY: &str = "rk_live_51Hq2fPZ8kQ0new";

const SECRET_ROTATION_CRASH: &str = "Secret shop/payment-keys (Opaque: api-key, webhook-secret; recorded as \
kblame record does, every value a keyed hash) was applied with kubectl client-side apply at 09:10. Deployment \
shop/checkout (3 replicas of ghcr.io/acme/checkout:5.1.0) mounts it as a volume at /etc/payment-keys and reloads it \
when the kubelet rewrites it; Deployment shop/webhooks (2 replicas of ghcr.io/acme/webhooks:1.4.0) mounts only its \
api-key file with subPath, which the kubelet never updates. At 10:02:00 a user rotates api-key with kubectl apply \
(manager kubectl-client-side-apply); the checkout app cannot use the new key (a restricted key): each checkout pod \
exits 1 about 2 s after its next sync rewrote the volume (8-70 s later), and crash-loops. The webhooks pods keep \
running the old key. At 10:05:00 one webhooks container exits 2 for an unrelated reason and restarts, now reading \
the new key, which webhooks accepts: the Secret is no cause of that restart. The trace ends at 10:08.";

fn secret_rotation_crash(sim: &mut Sim) -> Ending {
    sim.image(
        "ghcr.io/acme/checkout:5.1.0",
        ImageProfile::healthy().rejects("api-key", NEW_API_KEY),
    );
    sim.advance_to(day(9, 10, 0));
    let keys = |api_key| [("api-key", api_key), ("webhook-secret", "whsec_7fG2kLm9Qx")];
    sim.apply_secret("shop", "payment-keys", &keys(OLD_API_KEY));
    let checkout = web_container("checkout", "ghcr.io/acme/checkout:5.1.0", 8080)
        .mount("keys", "/etc/payment-keys");
    let config = DeploymentConfig::new("shop", "checkout")
        .replicas(3)
        .secret_volume("keys", "payment-keys")
        .container(checkout);
    sim.apply_deployment(&config, Tool::KubectlApply);
    let webhooks = web_container("webhooks", "ghcr.io/acme/webhooks:1.4.0", 8081).mount_sub_path(
        "keys",
        "/etc/webhooks/api-key",
        "api-key",
    );
    let config = DeploymentConfig::new("shop", "webhooks")
        .replicas(2)
        .secret_volume("keys", "payment-keys")
        .container(webhooks);
    sim.apply_deployment(&config, Tool::KubectlApply);
    sim.advance_to(day(10, 0, 0)).start_trace();
    sim.advance_to(day(10, 2, 0));
    sim.apply_secret("shop", "payment-keys", &keys(NEW_API_KEY));
    sim.advance_to(day(10, 5, 0));
    let victim = sim
        .pod_names("shop", "webhooks")
        .first()
        .cloned()
        .unwrap_or_default();
    sim.crash_container("shop", &victim, Some(2));
    sim.advance_to(day(10, 8, 0));
    Ending::Finish
}

const CONFIG_ROLLOUT_RESTART: &str = "Deployment payments/ledger (3 replicas of ghcr.io/acme/ledger:1.9.2) reads \
ConfigMap payments/ledger-env through envFrom, so each container reads it once, when it starts. Both were applied with \
kubectl client-side apply at 13:20. At 14:01:30 kubectl client-side apply changes DB_POOL_SIZE from 20 to 0 in the \
ConfigMap, which the app cannot start with; the running pods do not see it. At 14:03:00 `kubectl rollout restart` \
(manager kubectl-rollout, Update) stamps the template's restartedAt annotation: revision 2. Its pod (maxSurge 25% = 1, \
maxUnavailable 25% = 0) reads the new environment at start, exits 1 about 2 s later and crash-loops; the rollout \
stalls, and the three revision-1 pods, which read the old values before the change, keep running. The trace ends at \
14:10.";

fn config_rollout_restart(sim: &mut Sim) -> Ending {
    sim.image(
        "ghcr.io/acme/ledger:1.9.2",
        ImageProfile::healthy().rejects("DB_POOL_SIZE", "0"),
    );
    sim.advance_to(day(13, 20, 0));
    let env = [("DB_POOL_SIZE", "20"), ("LEDGER_MODE", "strict")];
    sim.apply_configmap("payments", "ledger-env", &env);
    let container =
        web_container("ledger", "ghcr.io/acme/ledger:1.9.2", 8080).env_from_configmap("ledger-env");
    let config = DeploymentConfig::new("payments", "ledger")
        .replicas(3)
        .container(container);
    sim.apply_deployment(&config, Tool::KubectlApply);
    sim.advance_to(day(14, 0, 0)).start_trace();
    sim.advance_to(day(14, 1, 30));
    let env = [("DB_POOL_SIZE", "0"), ("LEDGER_MODE", "strict")];
    sim.apply_configmap("payments", "ledger-env", &env);
    sim.advance_to(day(14, 3, 0))
        .rollout_restart("payments", "ledger");
    sim.advance_to(day(14, 10, 0));
    Ending::Finish
}

const CONFIG_AFTER_FAILURE: &str = "Deployment search/indexer (2 replicas of ghcr.io/acme/indexer:4.1.0) mounts \
ConfigMap search/indexer-config (key BATCH_SIZE) as volume config at /etc/indexer, without subPath. Both were applied \
with kubectl client-side apply at 10:40. At 11:02:00 kubectl client-side apply sets image :4.2.0, which exits 1 about \
3 s after starting: revision 2's surge pod crash-loops and the rollout stalls. At 11:05:00, with the failures under \
way, someone applies the ConfigMap with BATCH_SIZE 100 -> 200, hoping it helps; the kubelet rewrites the volumes, \
the apps accept the value and nothing changes. The ConfigMap change is not the cause: the failures began before it. \
The trace ends at 11:10.";

fn config_after_failure(sim: &mut Sim) -> Ending {
    sim.image(
        "ghcr.io/acme/indexer:4.2.0",
        ImageProfile::healthy().crashes_after(3, 1),
    );
    sim.advance_to(day(10, 40, 0));
    sim.apply_configmap("search", "indexer-config", &[("BATCH_SIZE", "100")]);
    let container = web_container("indexer", "ghcr.io/acme/indexer:4.1.0", 8080)
        .mount("config", "/etc/indexer");
    let config = DeploymentConfig::new("search", "indexer")
        .replicas(2)
        .configmap_volume("config", "indexer-config")
        .container(container);
    sim.apply_deployment(&config, Tool::KubectlApply);
    sim.advance_to(day(11, 0, 0)).start_trace();
    sim.advance_to(day(11, 2, 0));
    sim.set_image(
        "search",
        "indexer",
        "indexer",
        "ghcr.io/acme/indexer:4.2.0",
        Tool::KubectlApply,
    );
    sim.advance_to(day(11, 5, 0));
    sim.apply_configmap("search", "indexer-config", &[("BATCH_SIZE", "200")]);
    sim.advance_to(day(11, 10, 0));
    Ending::Finish
}
