//! A deterministic simulator of a Kubernetes API server's watch stream while users and controllers work.
//!
//! [`Sim`] runs users' tools (kubectl client- and server-side apply, helm, rollout restart/undo,
//! scale, delete), the deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob,
//! garbage-collector and HPA controllers, an operator for a custom resource (`PostgresCluster`), the scheduler (with CPU capacity, priorities, node
//! affinity to a node name and preemption) and the kubelet (with memory-pressure eviction and
//! `restartPolicy: Never`) on a simulated clock with a fixed seed, and writes what a watch would deliver as a
//! kblame trace, including broken watches and re-lists. It also keeps ground truth
//! ([`GroundTruth`]) of why each pod was created, restarted and removed. [`scenarios::all`] lists
//! the fixture scenarios; [`cluster`] generates large traces of a busy cluster.
#![deny(missing_docs)]

mod admission;
mod audit;
mod audit_scenarios;
mod churn;
mod clock;
pub mod cluster;
mod config;
mod config_reads;
mod configmap;
mod deploy_ctrl;
mod ds_ctrl;
mod eviction;
mod fields;
mod gc;
mod hpa;
mod image_scenarios;
mod image_tags;
mod job_ctrl;
mod kubelet;
mod model;
mod node_life;
mod node_scenarios;
mod operator;
mod pdb;
mod requests;
mod rng;
mod rs_ctrl;
pub mod scenarios;
mod scheduler;
mod secret;
mod sts_ctrl;
mod truth;
mod user;
mod watch;
mod world;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod audit_tests;

use std::io::{self, Write};

pub use audit::{AuditLevel, AuditPolicy, AuditRule};
pub use clock::{parse_time, record_time, to_timestamp, utc, whole_seconds, Ms, MINUTE, SECOND};
pub use config::{
    ContainerConfig, DeploymentConfig, HpaConfig, ImageProfile, IntOrPercent, ProbeConfig,
    Propagation, Tool,
};
pub use ds_ctrl::DaemonSetConfig;
pub use fields::fields_v1;
pub use job_ctrl::CronJobConfig;
pub use operator::{
    ConditionChangeTruth, ConditionTruth, CustomResourceTruth, PostgresClusterConfig, OPERATOR,
    PROGRESS_DEADLINE,
};
pub use pdb::BudgetRule;
pub use sts_ctrl::{StatefulSetConfig, StsStrategy};
pub use truth::{
    BudgetTruth, BuiltinTruth, CauseTruth, DigestsTruth, InjectedTruth, ModifiedTruth,
    PodCausesTruth,
};
pub use truth::{
    ChangeTruth, CreatedTruth, CronJobTruth, DeletedTruth, DeploymentTruth, FinishedTruth,
    GroundTruth, JobDeletedTruth, JobTruth, LineageTruth, PodRevisionTruth, PodTruth, RestartTruth,
    RevisionTruth, RootCauseTruth, StatefulSetTruth, StsRevisionTruth,
};

use kblame::trace::{EventType, Header, ResourceInfo, SourceInfo, TraceWriter, WriterOptions};

use world::World;

/// Where the trace goes: not started yet, being written, or finished.
enum Sink<W: Write> {
    Waiting(W, WriterOptions),
    Writing(Box<TraceWriter<W>>),
    Closed,
}

/// The simulator: a cluster on a simulated clock, writing a trace once [`Sim::start_trace`] is called.
///
/// Everything before `start_trace` happens unrecorded (its results show up in the initial
/// LISTED records); everything after is written as the watch would deliver it.
pub struct Sim<W: Write = Vec<u8>> {
    world: World,
    sink: Sink<W>,
    error: Option<io::Error>,
    seed: u64,
    cluster: Option<String>,
}

impl Sim<Vec<u8>> {
    /// A simulator with 3 nodes whose clock starts at `start`, writing a zstd trace into memory.
    pub fn new(seed: u64, start: Ms) -> Sim<Vec<u8>> {
        Sim::with_output(Vec::new(), WriterOptions::default(), seed, start)
    }
}

impl<W: Write> Sim<W> {
    /// A simulator writing to `out` with `options`; the clock starts at `start`.
    pub fn with_output(out: W, options: WriterOptions, seed: u64, start: Ms) -> Sim<W> {
        Sim {
            world: World::new(seed, start, 3),
            sink: Sink::Waiting(out, options),
            error: None,
            seed,
            cluster: None,
        }
    }

    /// Names the cluster in the trace's header (`source.cluster`), as `kblame record` does
    /// from its kubeconfig; call before [`Sim::start_trace`].
    pub fn cluster(&mut self, name: &str) -> &mut Self {
        self.cluster = Some(name.to_string());
        self
    }

    /// Writes an audit log of every request from now on under `policy`, beside the trace (see
    /// [`Sim::take_audit`]). Off by default; it draws from its own randomness, so the trace is
    /// the same with or without it.
    pub fn audit(&mut self, policy: AuditPolicy) -> &mut Self {
        if self.world.core.audit.is_none() {
            self.world.core.audit = Some(Box::new(audit::Audit::new(self.seed, policy)));
        }
        self
    }

    /// Also writes the same requests as a second log named `name` under `policy` (e.g. every
    /// request at Metadata level); call after [`Sim::audit`].
    pub fn audit_also(&mut self, name: &str, policy: AuditPolicy) -> &mut Self {
        if let Some(audit) = self.world.core.audit.as_mut() {
            audit.add_sink(name, policy);
        }
        self
    }

    /// The audit logs written so far (the main one named `""`), as JSON lines; empty without
    /// [`Sim::audit`].
    pub fn take_audit(&mut self) -> Vec<(String, Vec<u8>)> {
        self.world
            .core
            .audit
            .as_mut()
            .map(|a| a.take())
            .unwrap_or_default()
    }

    /// The human behind the following kubectl commands (default `alice@example.com`, group
    /// `developers`), as the audit log names them; helm runs as the CI service account.
    pub fn as_user(&mut self, username: &str) -> &mut Self {
        if let Some(audit) = self.world.core.audit.as_mut() {
            audit.human = audit::Human::named(username);
        }
        self
    }

    /// `kubectl create namespace NAME` with `labels` (e.g. `istio-injection=enabled`), recorded
    /// as a `v1/namespaces` object.
    pub fn namespace(&mut self, name: &str, labels: &[(&str, &str)]) -> &mut Self {
        self.world.create_namespace(name, labels);
        self.drain()
    }

    /// Installs Istio's sidecar injector: the MutatingWebhookConfiguration
    /// `istio-sidecar-injector` (recorded), whose webhook adds `istio-proxy`, `istio-init`, volumes,
    /// labels and annotations to every pod created in a namespace labelled
    /// `istio-injection=enabled` (see `admission.rs`).
    pub fn istio_sidecar_injector(&mut self) -> &mut Self {
        let mut proxy = ImageProfile::healthy();
        proxy.healthy_paths.push("/healthz/ready".into());
        self.world
            .images
            .insert(admission::PROXY_IMAGE.to_string(), proxy);
        self.world.install_istio_injector();
        self.drain()
    }

    /// `kubectl diff` of a changed configuration of a Deployment (a dry run: audit log only).
    pub fn kubectl_diff(
        &mut self,
        namespace: &str,
        name: &str,
        tool: Tool,
        change: impl FnOnce(&mut DeploymentConfig),
    ) -> &mut Self {
        self.world.kubectl_diff(namespace, name, tool, change);
        self
    }

    /// `kubectl replace -f` of a Deployment manifest saved before its latest change, edited by
    /// `change`: refused with 409 Conflict (audit log only).
    pub fn stale_replace(
        &mut self,
        namespace: &str,
        name: &str,
        change: impl FnOnce(&mut serde_json::Value),
    ) -> &mut Self {
        self.world.stale_replace(namespace, name, change);
        self
    }

    /// `kubectl get RESOURCE -n NAMESPACE` (`pods` or `deployments`): a list (audit log only).
    pub fn kubectl_get(&mut self, namespace: &str, resource: &str) -> &mut Self {
        self.world.kubectl_get(namespace, resource);
        self
    }

    /// Uses `count` nodes (call before anything is scheduled).
    pub fn nodes(&mut self, count: usize) -> &mut Self {
        if self.world.pods.is_empty() {
            self.world.nodes = world::make_nodes(count);
        }
        self
    }

    /// Gives every node `millicores` of allocatable CPU (call after [`Sim::nodes`]); without it
    /// nodes never run out of room.
    pub fn allocatable_cpu(&mut self, millicores: i64) -> &mut Self {
        for node in &mut self.world.nodes {
            node.allocatable_cpu = Some(millicores);
        }
        self
    }

    /// Defines a PriorityClass (not recorded): pods whose template names it get its value as
    /// `spec.priority` and may preempt lower-priority pods.
    pub fn priority_class(&mut self, name: &str, value: i32) -> &mut Self {
        self.world.priority_classes.insert(name.to_string(), value);
        self
    }

    /// The kubelet of `node` sees only `available_mib` MiB of memory left. Below its 100Mi
    /// hard-eviction threshold it reports MemoryPressure and evicts one pod, which stays
    /// `Failed` / `Evicted`; the pressure ends five minutes later.
    pub fn memory_pressure(&mut self, node: &str, available_mib: i64) -> &mut Self {
        if let Some(index) = self.world.nodes.iter().position(|n| n.name == node) {
            self.world.memory_pressure(index, available_mib);
        }
        self.drain()
    }

    /// Records the nodes as Node objects (a `v1/nodes` watch), with their conditions, taints and
    /// `spec.unschedulable`; call before [`Sim::start_trace`].
    pub fn record_nodes(&mut self) -> &mut Self {
        if self.world.node_objects.is_empty() {
            self.world.record_nodes();
        }
        self
    }

    /// `kubectl cordon NODE` (manager `kubectl`, Update).
    pub fn cordon(&mut self, node: &str) -> &mut Self {
        self.world.user_cordon(node);
        self.drain()
    }

    /// `kubectl drain NODE --ignore-daemonsets`: cordons it if needed, then evicts its pods
    /// through the eviction API.
    pub fn drain_node(&mut self, node: &str) -> &mut Self {
        self.world.drain(node);
        self.drain()
    }

    /// `kubectl apply` of a policy/v1 PodDisruptionBudget `namespace/name` selecting the pods
    /// labelled `selector` (`key=value` pairs); the disruption controller keeps its status.
    pub fn apply_budget(
        &mut self,
        namespace: &str,
        name: &str,
        rule: BudgetRule,
        selector: &[(&str, &str)],
    ) -> &mut Self {
        let selector = selector
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.world.apply_budget(namespace, name, rule, selector);
        self.drain()
    }

    /// The node's kubelet stops reporting (power loss): the node lifecycle controller and the
    /// taint manager take over, and its pods are never confirmed gone.
    pub fn lose_node(&mut self, node: &str) -> &mut Self {
        self.world.lose_node(node);
        self.drain()
    }

    /// Registers how an image behaves (unregistered images are healthy web servers).
    pub fn image(&mut self, image: &str, profile: ImageProfile) -> &mut Self {
        self.world.images.insert(image.to_string(), profile);
        self
    }

    /// Pushes a new build to the registry under the tag `image`: the tag now resolves to a new
    /// digest (depending on the image and the push count) that behaves as `profile`. Pods keep
    /// the digest they pulled; see `image_tags` for when the kubelet resolves it again.
    pub fn push_image(&mut self, image: &str, profile: ImageProfile) -> &mut Self {
        self.world.push_image(image, profile);
        self
    }

    /// The simulated time now.
    pub fn now(&self) -> Ms {
        self.world.core.now
    }

    /// Lets `seconds` of simulated time pass.
    pub fn advance(&mut self, seconds: i64) -> &mut Self {
        self.advance_to(self.world.core.now + seconds * SECOND)
    }

    /// Lets simulated time pass until `at`.
    pub fn advance_to(&mut self, at: Ms) -> &mut Self {
        self.world.run_until(at);
        self.drain()
    }

    /// Creates or updates a Deployment as `tool` would.
    pub fn apply_deployment(&mut self, config: &DeploymentConfig, tool: Tool) -> &mut Self {
        self.world.apply_deployment(config, tool);
        self.drain()
    }

    /// Changes the last applied configuration of a Deployment and applies it with `tool`.
    pub fn update_deployment(
        &mut self,
        namespace: &str,
        name: &str,
        tool: Tool,
        change: impl FnOnce(&mut DeploymentConfig),
    ) -> &mut Self {
        self.world.update_deployment(namespace, name, tool, change);
        self.drain()
    }

    /// Sets a container's image with `tool`.
    pub fn set_image(
        &mut self,
        namespace: &str,
        name: &str,
        container: &str,
        image: &str,
        tool: Tool,
    ) -> &mut Self {
        self.update_deployment(namespace, name, tool, |config| {
            if let Some(c) = config.container_mut(container) {
                c.image = image.to_string();
            }
        })
    }

    /// Sets a container's memory limit with `tool`.
    pub fn set_memory_limit(
        &mut self,
        namespace: &str,
        name: &str,
        container: &str,
        quantity: &str,
        tool: Tool,
    ) -> &mut Self {
        self.update_deployment(namespace, name, tool, |config| {
            if let Some(c) = config.container_mut(container) {
                c.limits.insert("memory".into(), quantity.to_string());
            }
        })
    }

    /// Sets the path of a container's liveness probe with `tool`.
    pub fn set_liveness_path(
        &mut self,
        namespace: &str,
        name: &str,
        container: &str,
        path: &str,
        tool: Tool,
    ) -> &mut Self {
        self.update_deployment(namespace, name, tool, |config| {
            if let Some(probe) = config
                .container_mut(container)
                .and_then(|c| c.liveness.as_mut())
            {
                probe.path = path.to_string();
            }
        })
    }

    /// Creates or updates a StatefulSet as `tool` would.
    pub fn apply_statefulset(&mut self, config: &StatefulSetConfig, tool: Tool) -> &mut Self {
        self.world.apply_statefulset(config, tool);
        self.drain()
    }

    /// Changes the last applied configuration of a StatefulSet and applies it with `tool`.
    pub fn update_statefulset(
        &mut self,
        namespace: &str,
        name: &str,
        tool: Tool,
        change: impl FnOnce(&mut StatefulSetConfig),
    ) -> &mut Self {
        self.world.update_statefulset(namespace, name, tool, change);
        self.drain()
    }

    /// Creates or updates a DaemonSet as `tool` would.
    pub fn apply_daemonset(&mut self, config: &DaemonSetConfig, tool: Tool) -> &mut Self {
        self.world.apply_daemonset(config, tool);
        self.drain()
    }

    /// Changes the last applied configuration of a DaemonSet and applies it with `tool`.
    pub fn update_daemonset(
        &mut self,
        namespace: &str,
        name: &str,
        tool: Tool,
        change: impl FnOnce(&mut DaemonSetConfig),
    ) -> &mut Self {
        self.world.update_daemonset(namespace, name, tool, change);
        self.drain()
    }

    /// Creates or updates a CronJob as `tool` would.
    pub fn apply_cronjob(&mut self, config: &CronJobConfig, tool: Tool) -> &mut Self {
        self.world.apply_cronjob(config, tool);
        self.drain()
    }

    /// Changes the last applied configuration of a CronJob and applies it with `tool`.
    pub fn update_cronjob(
        &mut self,
        namespace: &str,
        name: &str,
        tool: Tool,
        change: impl FnOnce(&mut CronJobConfig),
    ) -> &mut Self {
        self.world.update_cronjob(namespace, name, tool, change);
        self.drain()
    }

    /// Creates or updates a `PostgresCluster` (postgres-operator.crunchydata.com) as `tool`
    /// would; its operator then applies the instance set's StatefulSet and reports status.
    pub fn apply_postgres_cluster(
        &mut self,
        config: &PostgresClusterConfig,
        tool: Tool,
    ) -> &mut Self {
        self.world.apply_postgres(config, tool);
        self.drain()
    }

    /// Changes the last applied configuration of a `PostgresCluster` and applies it with `tool`.
    pub fn update_postgres_cluster(
        &mut self,
        namespace: &str,
        name: &str,
        tool: Tool,
        change: impl FnOnce(&mut PostgresClusterConfig),
    ) -> &mut Self {
        self.world.update_postgres(namespace, name, tool, change);
        self.drain()
    }

    /// `kubectl rollout restart deployment/<name>`.
    pub fn rollout_restart(&mut self, namespace: &str, name: &str) -> &mut Self {
        self.world.rollout_restart(namespace, name);
        self.drain()
    }

    /// `kubectl rollout undo deployment/<name>` (to the previous revision).
    pub fn rollout_undo(&mut self, namespace: &str, name: &str) -> &mut Self {
        self.world.rollout_undo(namespace, name);
        self.drain()
    }

    /// `kubectl scale deployment/<name> --replicas=<replicas>`.
    pub fn scale(&mut self, namespace: &str, name: &str, replicas: i32) -> &mut Self {
        self.world.scale(namespace, name, replicas, "kubectl");
        self.drain()
    }

    /// `kubectl delete pod <name>`.
    pub fn delete_pod(&mut self, namespace: &str, name: &str) -> &mut Self {
        self.world.delete_pod_by_name(namespace, name);
        self.drain()
    }

    /// `kubectl delete deployment <name>` with the given propagation.
    pub fn delete_deployment(
        &mut self,
        namespace: &str,
        name: &str,
        propagation: Propagation,
    ) -> &mut Self {
        self.world
            .delete_deployment_by_name(namespace, name, propagation);
        self.drain()
    }

    /// `kubectl apply` of ConfigMap `namespace/name` holding `data` (key, value): creates it, or
    /// replaces its data.
    pub fn apply_configmap(
        &mut self,
        namespace: &str,
        name: &str,
        data: &[(&str, &str)],
    ) -> &mut Self {
        let data = data
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        self.world.apply_configmap(namespace, name, data);
        self.drain()
    }

    /// `kubectl apply` of an Opaque Secret `namespace/name` holding `data` (key, plain value):
    /// creates it, or replaces its data. The trace holds only keyed hashes of the values.
    pub fn apply_secret(
        &mut self,
        namespace: &str,
        name: &str,
        data: &[(&str, &str)],
    ) -> &mut Self {
        let data = data
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        self.world.apply_secret(namespace, name, data);
        self.drain()
    }

    /// Sets one key of an existing ConfigMap, written by field manager `manager` (Update), e.g.
    /// `helm` for a `helm upgrade` that changes one value.
    pub fn set_configmap_key(
        &mut self,
        namespace: &str,
        name: &str,
        key: &str,
        value: &str,
        manager: &str,
    ) -> &mut Self {
        self.world
            .set_configmap_key(namespace, name, key, value, manager);
        self.drain()
    }

    /// Creates a HorizontalPodAutoscaler (client-side apply).
    pub fn apply_hpa(&mut self, config: &HpaConfig) -> &mut Self {
        self.world.create_hpa(config);
        self.drain()
    }

    /// Sets the load an HPA sees: each current replica runs at `utilization` % of its CPU request.
    pub fn set_cpu_load(&mut self, namespace: &str, hpa: &str, utilization: i32) -> &mut Self {
        self.world.set_cpu_load(namespace, hpa, utilization);
        self
    }

    /// Turns on the event spam filter of client-go's recorders (`EventSourceObjectSpamFilter`):
    /// per reporter and involved object, `burst` Events, then one more per `refill`; a dropped
    /// repeat still adds to its Event's `count`. Off by default.
    pub fn event_spam_filter(&mut self, burst: u32, refill: Ms) -> &mut Self {
        self.world.set_spam_filter(burst, refill);
        self
    }

    /// Makes the CPU utilization each HPA reports stray by up to `points` percentage points
    /// from the load, with a new sample every minute; scaling still follows the load. Off (0)
    /// by default.
    pub fn cpu_metric_jitter(&mut self, points: i32) -> &mut Self {
        self.world.churn.metric_jitter = points.max(0);
        self
    }

    /// The readiness probe of the pod's first container starts failing: after its failure
    /// threshold the pod is not ready, and `seconds` later it is ready again. Does nothing to a
    /// pod that is not ready.
    pub fn fail_readiness(&mut self, namespace: &str, pod: &str, seconds: i64) -> &mut Self {
        if let Some(uid) = self.world.find_pod(namespace, pod) {
            self.world.fail_readiness(&uid, 0, seconds * SECOND);
        }
        self.drain()
    }

    /// The pod's first container exits by itself once, with `code` (OOM-killed when `None`),
    /// and the kubelet restarts it. Does nothing to a container that is not running.
    pub fn crash_container(&mut self, namespace: &str, pod: &str, code: Option<i32>) -> &mut Self {
        if let Some(uid) = self.world.find_pod(namespace, pod) {
            self.world.crash_container(&uid, 0, code);
        }
        self.drain()
    }

    /// An agent running in the pod sets the pod's annotation `key` to `value` with field
    /// manager `manager` (an Update), as Patroni keeps its member status there.
    pub fn annotate_pod(
        &mut self,
        namespace: &str,
        pod: &str,
        manager: &str,
        key: &str,
        value: &str,
    ) -> &mut Self {
        if let Some(uid) = self.world.find_pod(namespace, pod) {
            self.world.annotate_pod(&uid, manager, key, value);
        }
        self.drain()
    }

    /// The names of a Deployment's live pods, oldest first.
    pub fn pod_names(&self, namespace: &str, deployment: &str) -> Vec<String> {
        let Some(uid) = self.world.find_deployment(namespace, deployment) else {
            return Vec::new();
        };
        let mut pods: Vec<(Ms, String)> = self
            .world
            .owned_replicasets(&uid)
            .iter()
            .flat_map(|rs| self.world.active_pods(rs))
            .filter_map(|p| {
                self.world
                    .pods
                    .get(&p)
                    .map(|p| (p.meta.created, p.meta.name.clone()))
            })
            .collect();
        pods.sort();
        pods.into_iter().map(|(_, name)| name).collect()
    }

    /// Starts recording: the header, a LISTED record per existing object, SYNCED per resource.
    pub fn start_trace(&mut self) -> &mut Self {
        let Sink::Waiting(out, options) = std::mem::replace(&mut self.sink, Sink::Closed) else {
            return self;
        };
        self.world.expire_events();
        let header = self.header();
        match TraceWriter::new(out, &header, options) {
            Ok(writer) => self.sink = Sink::Writing(Box::new(writer)),
            Err(error) => self.error = Some(error),
        }
        self.list_everything();
        self.world.core.recording = true;
        self.mark_visible();
        self
    }

    fn header(&self) -> Header {
        let source = SourceInfo {
            kind: "watch".into(),
            tool: Some("kblame-sim 0.1.0".into()),
            server: Some("https://10.0.0.1:6443".into()),
            server_version: Some("v1.31.2".into()),
            cluster: self.cluster.clone(),
        };
        let mut header = Header::new(to_timestamp(self.world.core.now), source);
        header.resources = self.resources().into_iter().map(|(info, _)| info).collect();
        if !self.world.secrets.is_empty() {
            // As `kblame record` does: Secret values replaced by keyed hashes (`secret`).
            if let Some((rules, info)) = secret::redaction_info() {
                header.redacted = rules;
                header.redaction = Some(info);
            }
        }
        header
    }

    fn resources(&self) -> Vec<(ResourceInfo, &'static str)> {
        let info = |group: &str, version: &str, resource: &str, kind: &str| ResourceInfo {
            group: group.into(),
            version: version.into(),
            resource: resource.into(),
            kind: kind.into(),
            namespaced: true,
        };
        let mut list = vec![
            (
                info("apps", "v1", "deployments", "Deployment"),
                "deployments",
            ),
            (
                info("apps", "v1", "replicasets", "ReplicaSet"),
                "replicasets",
            ),
            (info("", "v1", "pods", "Pod"), "pods"),
            (info("", "v1", "events", "Event"), "events"),
        ];
        if !self.world.hpas.is_empty() {
            let hpa = info(
                "autoscaling",
                "v2",
                "horizontalpodautoscalers",
                "HorizontalPodAutoscaler",
            );
            list.push((hpa, "hpas"));
        }
        if !self.world.configmaps.is_empty() {
            list.push((info("", "v1", "configmaps", "ConfigMap"), "configmaps"));
        }
        if !self.world.secrets.is_empty() {
            list.push((info("", "v1", "secrets", "Secret"), "secrets"));
        }
        if !self.world.daemonsets.is_empty() {
            list.push((info("apps", "v1", "daemonsets", "DaemonSet"), "daemonsets"));
        }
        if !self.world.statefulsets.is_empty() {
            list.push((
                info("apps", "v1", "statefulsets", "StatefulSet"),
                "statefulsets",
            ));
        }
        if !self.world.statefulsets.is_empty() || !self.world.daemonsets.is_empty() {
            list.push((
                info("apps", "v1", "controllerrevisions", "ControllerRevision"),
                "controllerrevisions",
            ));
        }
        if !self.world.cronjobs.is_empty() {
            list.push((info("batch", "v1", "cronjobs", "CronJob"), "cronjobs"));
            list.push((info("batch", "v1", "jobs", "Job"), "jobs"));
        }
        if !self.world.postgres.is_empty() {
            let group = "postgres-operator.crunchydata.com";
            let kind = "PostgresCluster";
            list.push((
                info(group, "v1beta1", "postgresclusters", kind),
                "postgresclusters",
            ));
        }
        if !self.world.budgets.is_empty() {
            let pdb = info(
                "policy",
                "v1",
                "poddisruptionbudgets",
                "PodDisruptionBudget",
            );
            list.push((pdb, "poddisruptionbudgets"));
        }
        if !self.world.node_objects.is_empty() {
            let nodes = ResourceInfo {
                namespaced: false,
                ..info("", "v1", "nodes", "Node")
            };
            list.push((nodes, "nodes"));
        }
        if !self.world.namespaces.is_empty() {
            let namespaces = ResourceInfo {
                namespaced: false,
                ..info("", "v1", "namespaces", "Namespace")
            };
            list.push((namespaces, "namespaces"));
        }
        if !self.world.webhook_configs.is_empty() {
            let webhooks = ResourceInfo {
                namespaced: false,
                ..info(
                    "admissionregistration.k8s.io",
                    "v1",
                    "mutatingwebhookconfigurations",
                    "MutatingWebhookConfiguration",
                )
            };
            list.push((webhooks, "mutatingwebhookconfigurations"));
        }
        list
    }

    fn mark_visible(&mut self) {
        self.mark_deployments_visible();
        self.mark_pods_visible();
    }

    fn mark_deployments_visible(&mut self) {
        let book = &mut self.world.book;
        for s in self.world.statefulsets.values() {
            if let Some(entry) = book.statefulsets.get_mut(s.truth) {
                entry.1 = true;
            }
        }
        for d in self.world.daemonsets.values() {
            if let Some(entry) = book.daemonsets.get_mut(d.truth) {
                entry.1 = true;
            }
        }
        for c in self.world.cronjobs.values() {
            if let Some(entry) = book.cronjobs.get_mut(c.truth) {
                entry.1 = true;
            }
        }
        for j in self.world.jobs.values() {
            if let Some(entry) = book.jobs.get_mut(j.truth) {
                entry.1 = true;
            }
        }
        for c in self.world.postgres.values() {
            if let Some(entry) = book.custom.get_mut(c.truth()) {
                entry.1 = true;
            }
        }
        for d in self.world.deployments.values() {
            if let Some(entry) = book.deployments.get_mut(d.truth) {
                entry.1 = true;
            }
        }
    }

    fn mark_pods_visible(&mut self) {
        let book = &mut self.world.book;
        for p in self.world.pods.values() {
            if let Some(entry) = book.pods.get_mut(p.truth) {
                entry.1 = true;
            }
        }
    }

    fn write<T: serde::Serialize + ?Sized>(&mut self, ms: Ms, event: EventType, object: &T) {
        if self.error.is_some() {
            return;
        }
        if let Sink::Writing(writer) = &mut self.sink {
            if let Err(error) = writer.write_object(to_timestamp(ms), event, object) {
                self.error = Some(error);
            }
        }
    }

    fn drain(&mut self) -> &mut Self {
        let out = std::mem::take(&mut self.world.core.out);
        for record in out {
            self.write(record.ts, record.event, &*record.object);
        }
        self
    }

    /// How many records have been written so far (header excluded).
    pub fn records(&self) -> u64 {
        match &self.sink {
            Sink::Writing(writer) => writer.records(),
            _ => 0,
        }
    }

    /// What the simulator knows happened, for the objects visible in the trace.
    pub fn ground_truth(&self, scenario: &str, description: &str) -> GroundTruth {
        let mut deployments = Vec::new();
        for (truth, visible) in &self.world.book.deployments {
            if !visible {
                continue;
            }
            let mut truth = truth.clone();
            if self.world.deployments.contains_key(&truth.uid) {
                truth.final_outcome = self.world.outcome(&truth.uid);
            }
            deployments.push(truth);
        }
        let mut pods: Vec<PodTruth> = self
            .world
            .book
            .pods
            .iter()
            .filter(|(_, v)| *v)
            .map(|(p, _)| self.world.pod_end_state(p))
            .collect();
        node_life::link_root_causes(&mut pods);
        let statefulsets = self
            .world
            .book
            .statefulsets
            .iter()
            .filter(|(_, v)| *v)
            .map(|(s, _)| self.world.statefulset_truth(s))
            .collect();
        let daemonsets = self
            .world
            .book
            .daemonsets
            .iter()
            .filter(|(_, v)| *v)
            .map(|(d, _)| self.world.daemonset_truth(d))
            .collect();
        let cronjobs = self
            .world
            .book
            .cronjobs
            .iter()
            .filter(|(_, v)| *v)
            .map(|(c, _)| self.world.cronjob_truth(c))
            .collect();
        let jobs = self
            .world
            .book
            .jobs
            .iter()
            .filter(|(_, v)| *v)
            .map(|(j, _)| j.clone())
            .collect();
        let custom_resources = self
            .world
            .book
            .custom
            .iter()
            .filter(|(_, v)| *v)
            .map(|(c, _)| self.world.custom_truth(c))
            .collect();
        GroundTruth {
            scenario: scenario.into(),
            description: description.into(),
            deployments,
            pods,
            statefulsets,
            daemonsets,
            cronjobs,
            jobs,
            custom_resources,
            pod_causes: self.world.pod_causes_truth(),
        }
    }

    /// Writes END and returns the output with the ground truth.
    pub fn finish(mut self, scenario: &str, description: &str) -> io::Result<(W, GroundTruth)> {
        self.world.core.now += self.world.core.jitter(5, 40);
        let truth = self.ground_truth(scenario, description);
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        match std::mem::replace(&mut self.sink, Sink::Closed) {
            Sink::Writing(writer) => Ok((writer.finish(to_timestamp(self.world.core.now))?, truth)),
            _ => Err(io::Error::other("the trace was never started")),
        }
    }

    /// Stops without END, as a recorder that was killed would; returns the output and ground truth.
    pub fn abandon(mut self, scenario: &str, description: &str) -> io::Result<(W, GroundTruth)> {
        let truth = self.ground_truth(scenario, description);
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        match std::mem::replace(&mut self.sink, Sink::Closed) {
            Sink::Writing(writer) => Ok((writer.abandon()?, truth)),
            _ => Err(io::Error::other("the trace was never started")),
        }
    }
}
