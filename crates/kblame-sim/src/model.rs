//! The simulated API objects and how each renders to the JSON the API server would send.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde_json::{json, Map, Value};

use super::clock::{whole_seconds, Ms};
use super::config::{DeploymentConfig, IntOrPercent, ProbeConfig};
use super::fields::ManagedFields;

/// An object kind the simulator stores.
pub(crate) trait Object {
    /// `kind`, e.g. `Deployment`.
    const KIND: &'static str;
    /// `apiVersion`, e.g. `apps/v1`.
    const API_VERSION: &'static str;
    /// The watched resource, as trace records name it, e.g. `apps/v1/deployments`.
    const RESOURCE: &'static str;
    /// Whether spec changes bump `metadata.generation`.
    const HAS_GENERATION: bool = false;
    /// The object's metadata.
    fn meta(&self) -> &Meta;
    /// The object's metadata, to change it.
    fn meta_mut(&mut self) -> &mut Meta;
    /// Everything after `metadata`, in API field order.
    fn body(&self, out: &mut Map<String, Value>);

    /// The whole JSON, with `resourceVersion` and `managedFields` left for the commit to fill.
    fn render(&self) -> Value {
        let mut map = Map::new();
        map.insert("kind".into(), json!(Self::KIND));
        map.insert("apiVersion".into(), json!(Self::API_VERSION));
        map.insert("metadata".into(), self.meta().to_json());
        self.body(&mut map);
        Value::Object(map)
    }
}

/// An owner reference with `controller: true`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OwnerRef {
    pub(crate) api_version: &'static str,
    pub(crate) kind: &'static str,
    pub(crate) name: String,
    pub(crate) uid: String,
}

/// Object metadata plus the simulator's bookkeeping of the last written form.
#[derive(Debug, Clone, Default)]
pub(crate) struct Meta {
    pub(crate) name: String,
    pub(crate) generate_name: Option<String>,
    pub(crate) namespace: String,
    pub(crate) uid: String,
    pub(crate) rv: u64,
    pub(crate) generation: i64,
    pub(crate) created: Ms,
    pub(crate) deletion: Option<Ms>,
    pub(crate) grace: Option<i64>,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) annotations: BTreeMap<String, String>,
    pub(crate) owner: Option<OwnerRef>,
    pub(crate) finalizers: Vec<String>,
    pub(crate) managed: ManagedFields,
    /// The JSON of the last write (`Null` before the first).
    pub(crate) last: Value,
}

impl Meta {
    /// Metadata of a new object.
    pub(crate) fn new(namespace: &str, name: &str, uid: String, created: Ms) -> Meta {
        Meta {
            name: name.to_string(),
            namespace: namespace.to_string(),
            uid,
            created,
            last: Value::Null,
            ..Meta::default()
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("name".into(), json!(self.name));
        if let Some(prefix) = &self.generate_name {
            map.insert("generateName".into(), json!(prefix));
        }
        map.insert("namespace".into(), json!(self.namespace));
        map.insert("uid".into(), json!(self.uid));
        map.insert("resourceVersion".into(), json!(""));
        if self.generation > 0 {
            map.insert("generation".into(), json!(self.generation));
        }
        map.insert(
            "creationTimestamp".into(),
            json!(whole_seconds(self.created)),
        );
        if let Some(deletion) = self.deletion {
            map.insert("deletionTimestamp".into(), json!(whole_seconds(deletion)));
        }
        if let Some(grace) = self.grace {
            map.insert("deletionGracePeriodSeconds".into(), json!(grace));
        }
        if !self.labels.is_empty() {
            map.insert("labels".into(), json!(self.labels));
        }
        if !self.annotations.is_empty() {
            map.insert("annotations".into(), json!(self.annotations));
        }
        if let Some(owner) = &self.owner {
            map.insert("ownerReferences".into(), owner_json(owner));
        }
        if !self.finalizers.is_empty() {
            map.insert("finalizers".into(), json!(self.finalizers));
        }
        map.insert("managedFields".into(), json!([]));
        Value::Object(map)
    }

    /// Whether the object is being deleted.
    pub(crate) fn deleting(&self) -> bool {
        self.deletion.is_some()
    }
}

fn owner_json(owner: &OwnerRef) -> Value {
    json!([{
        "apiVersion": owner.api_version,
        "kind": owner.kind,
        "name": owner.name,
        "uid": owner.uid,
        "controller": true,
        "blockOwnerDeletion": true
    }])
}

/// A status condition of a Deployment or HPA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Condition {
    pub(crate) kind: &'static str,
    pub(crate) status: bool,
    pub(crate) last_update: Option<Ms>,
    pub(crate) last_transition: Ms,
    pub(crate) reason: &'static str,
    pub(crate) message: String,
}

impl Condition {
    fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("type".into(), json!(self.kind));
        map.insert(
            "status".into(),
            json!(if self.status { "True" } else { "False" }),
        );
        if let Some(update) = self.last_update {
            map.insert("lastUpdateTime".into(), json!(whole_seconds(update)));
        }
        map.insert(
            "lastTransitionTime".into(),
            json!(whole_seconds(self.last_transition)),
        );
        map.insert("reason".into(), json!(self.reason));
        map.insert("message".into(), json!(self.message));
        Value::Object(map)
    }
}

/// Sets a condition the way `SetDeploymentCondition` does: same status and reason is a no-op;
/// a changed reason keeps the transition time; the new condition goes last.
pub(crate) fn set_condition(conditions: &mut Vec<Condition>, mut condition: Condition) {
    if let Some(current) = conditions.iter().find(|c| c.kind == condition.kind) {
        if current.status == condition.status && current.reason == condition.reason {
            return;
        }
        if current.status == condition.status {
            condition.last_transition = current.last_transition;
        }
    }
    conditions.retain(|c| c.kind != condition.kind);
    conditions.push(condition);
}

/// What made the simulator write a change to a Deployment (used for ground truth).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChangeRef {
    pub(crate) manager: String,
    pub(crate) operation: &'static str,
    pub(crate) subresource: Option<&'static str>,
    pub(crate) at: Ms,
    pub(crate) recorded: bool,
    pub(crate) fields: Vec<String>,
    /// Whether this change created the Deployment.
    pub(crate) creation: bool,
    /// Who made it, when an audit log is written.
    pub(crate) user: Option<String>,
}

impl ChangeRef {
    /// The ground-truth time: the record ts if recorded, else the managedFields time.
    pub(crate) fn truth_time(&self) -> String {
        if self.recorded {
            super::clock::record_time(self.at)
        } else {
            whole_seconds(self.at)
        }
    }
}

/// Why a controller scales a ReplicaSet: pods it makes or removes inherit this cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cause {
    /// Rolling out a revision made by a change of this manager.
    Rollout(String),
    /// Following a change of `spec.replicas` by this manager.
    Scale(String),
}

/// The Deployment status fields the controller writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DeploymentStatus {
    pub(crate) observed_generation: i64,
    pub(crate) replicas: i32,
    pub(crate) updated: i32,
    pub(crate) ready: i32,
    pub(crate) available: i32,
    pub(crate) unavailable: i32,
    pub(crate) conditions: Vec<Condition>,
}

impl DeploymentStatus {
    fn to_json(&self) -> Value {
        let mut map = Map::new();
        let counts = [
            ("observedGeneration", self.observed_generation),
            ("replicas", i64::from(self.replicas)),
            ("updatedReplicas", i64::from(self.updated)),
            ("readyReplicas", i64::from(self.ready)),
            ("availableReplicas", i64::from(self.available)),
            ("unavailableReplicas", i64::from(self.unavailable)),
        ];
        for (key, value) in counts {
            if value != 0 {
                map.insert(key.into(), json!(value));
            }
        }
        if !self.conditions.is_empty() {
            let list = self.conditions.iter().map(Condition::to_json).collect();
            map.insert("conditions".into(), Value::Array(list));
        }
        Value::Object(map)
    }

    /// The condition of `kind`, if set.
    pub(crate) fn condition(&self, kind: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.kind == kind)
    }
}

/// A simulated Deployment.
#[derive(Debug, Clone)]
pub(crate) struct Deployment {
    pub(crate) meta: Meta,
    pub(crate) replicas: i32,
    pub(crate) selector: BTreeMap<String, String>,
    pub(crate) template: Value,
    /// The pod-template-hash of `template`, kept current by the writers of `template`.
    pub(crate) template_hash: String,
    pub(crate) max_surge: IntOrPercent,
    pub(crate) max_unavailable: IntOrPercent,
    pub(crate) progress_deadline: i64,
    pub(crate) status: DeploymentStatus,
    /// The last configuration a tool applied.
    pub(crate) config: DeploymentConfig,
    /// The change whose revision is being rolled out.
    pub(crate) rollout: Option<ChangeRef>,
    /// The manager of the last `spec.replicas` change.
    pub(crate) scaler: String,
    /// Index into the ground-truth deployments.
    pub(crate) truth: usize,
    /// Whether a foreground deletion is pending.
    pub(crate) foreground: bool,
    /// Whether a new revision is still being rolled out.
    pub(crate) rolling: bool,
    /// When a progress-deadline re-check is queued.
    pub(crate) deadline_at: Ms,
}

impl Deployment {
    /// maxSurge resolved against the desired replicas.
    pub(crate) fn surge(&self) -> i32 {
        self.fenceposts().0
    }

    /// maxUnavailable resolved against the desired replicas.
    pub(crate) fn unavailable(&self) -> i32 {
        self.fenceposts().1
    }

    fn fenceposts(&self) -> (i32, i32) {
        let surge = self.max_surge.resolve(self.replicas, true);
        let unavailable = self.max_unavailable.resolve(self.replicas, false);
        if surge == 0 && unavailable == 0 {
            (0, 1)
        } else {
            (surge, unavailable)
        }
    }
}

impl Object for Deployment {
    const KIND: &'static str = "Deployment";
    const API_VERSION: &'static str = "apps/v1";
    const RESOURCE: &'static str = "apps/v1/deployments";
    const HAS_GENERATION: bool = true;

    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }

    fn body(&self, out: &mut Map<String, Value>) {
        let spec = json!({
            "replicas": self.replicas,
            "selector": {"matchLabels": self.selector},
            "template": self.template,
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {
                    "maxUnavailable": self.max_unavailable.to_json(),
                    "maxSurge": self.max_surge.to_json()
                }
            },
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": self.progress_deadline
        });
        out.insert("spec".into(), spec);
        out.insert("status".into(), self.status.to_json());
    }
}

/// The ReplicaSet status fields its controller writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RsStatus {
    pub(crate) replicas: i32,
    pub(crate) ready: i32,
    pub(crate) available: i32,
    pub(crate) observed_generation: i64,
}

/// A simulated ReplicaSet.
#[derive(Debug, Clone)]
pub(crate) struct ReplicaSet {
    pub(crate) meta: Meta,
    pub(crate) replicas: i32,
    pub(crate) selector: BTreeMap<String, String>,
    pub(crate) template: Value,
    pub(crate) hash: String,
    pub(crate) status: RsStatus,
    pub(crate) owner_uid: String,
    /// Why its replica count last changed.
    pub(crate) cause: Cause,
    /// Names of pods removed by others, each owed a replacement.
    pub(crate) debts: VecDeque<String>,
    /// Uids of its pods.
    pub(crate) pods: BTreeSet<String>,
}

impl ReplicaSet {
    /// The `deployment.kubernetes.io/revision` number.
    pub(crate) fn revision(&self) -> i64 {
        self.meta
            .annotations
            .get("deployment.kubernetes.io/revision")
            .and_then(|r| r.parse().ok())
            .unwrap_or(0)
    }
}

impl Object for ReplicaSet {
    const KIND: &'static str = "ReplicaSet";
    const API_VERSION: &'static str = "apps/v1";
    const RESOURCE: &'static str = "apps/v1/replicasets";
    const HAS_GENERATION: bool = true;

    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }

    fn body(&self, out: &mut Map<String, Value>) {
        let spec = json!({
            "replicas": self.replicas,
            "selector": {"matchLabels": self.selector},
            "template": self.template
        });
        out.insert("spec".into(), spec);
        let mut status = Map::new();
        status.insert("replicas".into(), json!(self.status.replicas));
        if self.status.replicas > 0 {
            status.insert("fullyLabeledReplicas".into(), json!(self.status.replicas));
        }
        if self.status.ready > 0 {
            status.insert("readyReplicas".into(), json!(self.status.ready));
        }
        if self.status.available > 0 {
            status.insert("availableReplicas".into(), json!(self.status.available));
        }
        if self.status.observed_generation > 0 {
            status.insert(
                "observedGeneration".into(),
                json!(self.status.observed_generation),
            );
        }
        out.insert("status".into(), Value::Object(status));
    }
}

/// How a container's process behaves, derived from its image and spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Behaviour {
    /// Runs until stopped.
    Healthy,
    /// The image cannot be pulled.
    PullFails,
    /// Exits with `code` after `after` seconds.
    Crashes { after: i64, code: i32 },
    /// Exceeds its memory limit after `after` seconds.
    OomKilled { after: i64 },
    /// Its liveness probe fails.
    LivenessFails,
}

/// Why a container stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ExitKind {
    /// The process exited by itself with this code.
    Crashed(i32),
    /// The kernel OOM killer.
    OomKilled,
    /// The kubelet killed it for a failed liveness probe.
    Liveness,
}

impl ExitKind {
    /// `(reason, exitCode)` as containerStatuses show them.
    pub(crate) fn status(self) -> (&'static str, i32) {
        match self {
            ExitKind::Crashed(0) => ("Completed", 0),
            ExitKind::Crashed(code) => ("Error", code),
            ExitKind::OomKilled => ("OOMKilled", 137),
            ExitKind::Liveness => ("Error", 137),
        }
    }

    /// The ground-truth restart reason.
    pub(crate) fn truth_reason(self) -> &'static str {
        match self {
            ExitKind::Liveness => "LivenessProbe",
            other => other.status().0,
        }
    }
}

/// A finished container run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Terminated {
    pub(crate) exit_code: i32,
    pub(crate) reason: &'static str,
    pub(crate) started_at: Ms,
    pub(crate) finished_at: Ms,
    pub(crate) container_id: String,
}

impl Terminated {
    fn to_json(&self) -> Value {
        json!({"terminated": {
            "exitCode": self.exit_code,
            "reason": self.reason,
            "startedAt": whole_seconds(self.started_at),
            "finishedAt": whole_seconds(self.finished_at),
            "containerID": self.container_id
        }})
    }
}

/// A container's current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ContainerState {
    /// Not running: `reason` such as ContainerCreating or CrashLoopBackOff.
    Waiting {
        reason: &'static str,
        message: Option<String>,
    },
    /// Running since `started_at`.
    Running { started_at: Ms },
    /// Stopped.
    Terminated(Terminated),
}

/// A container in a simulated pod: status plus the kubelet's bookkeeping.
#[derive(Debug, Clone)]
pub(crate) struct Container {
    pub(crate) name: String,
    pub(crate) image: String,
    pub(crate) image_id: String,
    pub(crate) pull_policy: &'static str,
    pub(crate) behaviour: Behaviour,
    pub(crate) liveness: Option<ProbeConfig>,
    pub(crate) readiness: Option<(ProbeConfig, bool)>,
    pub(crate) state: ContainerState,
    pub(crate) last: Option<Terminated>,
    pub(crate) ready: bool,
    pub(crate) started: bool,
    pub(crate) restarts: i32,
    pub(crate) container_id: Option<String>,
    /// Bumped at each start and stop; tasks of older epochs are stale.
    pub(crate) epoch: u32,
    pub(crate) exits: u32,
    pub(crate) backoff: i64,
    pub(crate) probe_failures: i64,
    /// When the current pull began.
    pub(crate) pull_started: Ms,
    /// The record time of the last termination, for ground truth.
    pub(crate) last_exit: Option<(ExitKind, Ms, bool)>,
    /// How long a failing readiness probe keeps failing once the container is not ready.
    pub(crate) unready_for: Ms,
}

impl Container {
    fn to_json(&self) -> Value {
        let state = match &self.state {
            ContainerState::Waiting { reason, message } => {
                let mut waiting = Map::new();
                waiting.insert("reason".into(), json!(reason));
                if let Some(message) = message {
                    waiting.insert("message".into(), json!(message));
                }
                json!({"waiting": waiting})
            }
            ContainerState::Running { started_at } => {
                json!({"running": {"startedAt": whole_seconds(*started_at)}})
            }
            ContainerState::Terminated(t) => t.to_json(),
        };
        let last = self
            .last
            .as_ref()
            .map_or_else(|| json!({}), Terminated::to_json);
        let mut map = Map::new();
        map.insert("name".into(), json!(self.name));
        map.insert("state".into(), state);
        map.insert("lastState".into(), last);
        map.insert("ready".into(), json!(self.ready));
        map.insert("restartCount".into(), json!(self.restarts));
        map.insert("image".into(), json!(normalize_image(&self.image)));
        map.insert("imageID".into(), json!(self.image_id));
        if let Some(id) = &self.container_id {
            map.insert("containerID".into(), json!(id));
        }
        map.insert("started".into(), json!(self.started));
        Value::Object(map)
    }

    /// Whether the process is running.
    pub(crate) fn running(&self) -> bool {
        matches!(self.state, ContainerState::Running { .. })
    }
}

/// `nginx:1.25` → `docker.io/library/nginx:1.25`, as containerd reports images.
pub(crate) fn normalize_image(image: &str) -> String {
    match image.split_once('/') {
        None => format!("docker.io/library/{image}"),
        Some((host, _)) if host.contains('.') || host.contains(':') || host == "localhost" => {
            image.to_string()
        }
        Some(_) => format!("docker.io/{image}"),
    }
}

/// A pod condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PodCondition {
    pub(crate) kind: &'static str,
    pub(crate) status: bool,
    pub(crate) last_transition: Ms,
    pub(crate) reason: Option<&'static str>,
    pub(crate) message: Option<String>,
}

/// A simulated Pod.
#[derive(Debug, Clone)]
pub(crate) struct Pod {
    pub(crate) meta: Meta,
    /// The pod spec without `nodeName`.
    pub(crate) spec: Value,
    pub(crate) node: Option<usize>,
    pub(crate) node_name: Option<String>,
    pub(crate) phase: &'static str,
    pub(crate) conditions: Vec<PodCondition>,
    pub(crate) host_ip: Option<String>,
    pub(crate) pod_ip: Option<String>,
    pub(crate) start_time: Option<Ms>,
    pub(crate) containers: Vec<Container>,
    pub(crate) kubelet_started: bool,
    pub(crate) qos: &'static str,
    pub(crate) rs_uid: String,
    pub(crate) ready_since: Option<Ms>,
    pub(crate) truth: usize,
    /// `spec.priority`.
    pub(crate) priority: i32,
    /// The CPU its containers request, in millicores.
    pub(crate) cpu_millis: i64,
    /// `status.reason` and `status.message` (e.g. `Evicted`), once terminal.
    pub(crate) reason: Option<&'static str>,
    /// See `reason`.
    pub(crate) message: Option<String>,
    /// `status.nominatedNodeName`, set when it preempted pods on that node.
    pub(crate) nominated: Option<String>,
    /// The kubelet's eviction message while it stops the pod's containers.
    pub(crate) eviction: Option<String>,
}

impl Pod {
    /// Whether every container is ready.
    pub(crate) fn is_ready(&self) -> bool {
        !self.containers.is_empty() && self.containers.iter().all(|c| c.ready)
    }

    /// Whether it reached `Succeeded` or `Failed`.
    pub(crate) fn is_terminal(&self) -> bool {
        matches!(self.phase, "Succeeded" | "Failed")
    }

    /// Appends a condition set by another component (e.g. the scheduler's `DisruptionTarget`)
    /// as `UpdatePodCondition` does; the kubelet's next write moves it before its own.
    pub(crate) fn append_condition(
        &mut self,
        kind: &'static str,
        reason: &'static str,
        message: String,
        now: Ms,
    ) {
        self.conditions.retain(|c| c.kind != kind);
        self.conditions.push(PodCondition {
            kind,
            status: true,
            last_transition: now,
            reason: Some(reason),
            message: Some(message),
        });
    }

    /// Sets a condition, keeping its transition time when the status does not change.
    pub(crate) fn set_condition(
        &mut self,
        kind: &'static str,
        status: bool,
        now: Ms,
        reason: Option<&'static str>,
        message: Option<String>,
    ) {
        let order = [
            "PodReadyToStartContainers",
            "Initialized",
            "Ready",
            "ContainersReady",
            "PodScheduled",
        ];
        let transition = match self.conditions.iter().find(|c| c.kind == kind) {
            Some(current) if current.status == status => current.last_transition,
            _ => now,
        };
        self.conditions.retain(|c| c.kind != kind);
        self.conditions.push(PodCondition {
            kind,
            status,
            last_transition: transition,
            reason,
            message,
        });
        self.conditions
            .sort_by_key(|c| order.iter().position(|o| *o == c.kind));
    }

    /// Sets Ready and ContainersReady from the containers.
    pub(crate) fn refresh_readiness(&mut self, now: Ms) {
        let unready: Vec<&str> = self
            .containers
            .iter()
            .filter(|c| !c.ready)
            .map(|c| c.name.as_str())
            .collect();
        let ready = unready.is_empty() && !self.containers.is_empty();
        let message =
            (!ready).then(|| format!("containers with unready status: [{}]", unready.join(" ")));
        let reason = (!ready).then_some("ContainersNotReady");
        self.set_condition("Ready", ready, now, reason, message.clone());
        self.set_condition("ContainersReady", ready, now, reason, message);
        match (ready, self.ready_since) {
            (true, None) => self.ready_since = Some(now),
            (false, _) => self.ready_since = None,
            _ => {}
        }
    }

    fn spec_json(&self) -> Value {
        let Some(node) = &self.node_name else {
            return self.spec.clone();
        };
        let mut spec = self.spec.as_object().cloned().unwrap_or_default();
        let at = spec
            .keys()
            .position(|k| k == "securityContext")
            .unwrap_or(spec.len());
        spec.shift_insert(at, "nodeName".into(), json!(node));
        Value::Object(spec)
    }

    /// An init container that ran to completion in the second after the sandbox started (the
    /// kubelet here runs init containers only as far as their status says).
    fn init_status(&self, spec: &Value) -> Value {
        let name = spec["name"].as_str().unwrap_or_default();
        let image = spec["image"].as_str().unwrap_or_default();
        let started = self.start_time.unwrap_or(self.meta.created);
        let id = format!(
            "containerd://{}",
            super::rng::stable_hex(&format!("{}/{name}", self.meta.uid), 64)
        );
        let terminated = json!({"exitCode": 0, "reason": "Completed",
            "startedAt": whole_seconds(started), "finishedAt": whole_seconds(started + 1000),
            "containerID": id});
        json!({"name": name, "state": {"terminated": terminated}, "lastState": {}, "ready": true,
            "restartCount": 0, "image": normalize_image(image),
            "imageID": super::image_tags::image_id_at(image, 0), "containerID": id,
            "started": false})
    }

    fn status_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("phase".into(), json!(self.phase));
        if !self.conditions.is_empty() {
            let list = self.conditions.iter().map(pod_condition_json).collect();
            map.insert("conditions".into(), Value::Array(list));
        }
        if let Some(message) = &self.message {
            map.insert("message".into(), json!(message));
        }
        if let Some(reason) = self.reason {
            map.insert("reason".into(), json!(reason));
        }
        if let Some(node) = &self.nominated {
            map.insert("nominatedNodeName".into(), json!(node));
        }
        if let Some(ip) = &self.host_ip {
            map.insert("hostIP".into(), json!(ip));
            map.insert("hostIPs".into(), json!([{"ip": ip}]));
        }
        if let Some(ip) = &self.pod_ip {
            map.insert("podIP".into(), json!(ip));
            map.insert("podIPs".into(), json!([{"ip": ip}]));
        }
        if let Some(start) = self.start_time {
            map.insert("startTime".into(), json!(whole_seconds(start)));
        }
        if let (true, Some(inits)) = (self.kubelet_started, self.spec["initContainers"].as_array())
        {
            let list = inits.iter().map(|c| self.init_status(c)).collect();
            map.insert("initContainerStatuses".into(), Value::Array(list));
        }
        if self.kubelet_started {
            let list = self.containers.iter().map(Container::to_json).collect();
            map.insert("containerStatuses".into(), Value::Array(list));
        }
        map.insert("qosClass".into(), json!(self.qos));
        Value::Object(map)
    }
}

fn pod_condition_json(c: &PodCondition) -> Value {
    let mut map = Map::new();
    map.insert("type".into(), json!(c.kind));
    map.insert(
        "status".into(),
        json!(if c.status { "True" } else { "False" }),
    );
    map.insert("lastProbeTime".into(), Value::Null);
    map.insert(
        "lastTransitionTime".into(),
        json!(whole_seconds(c.last_transition)),
    );
    if let Some(reason) = c.reason {
        map.insert("reason".into(), json!(reason));
    }
    if let Some(message) = &c.message {
        map.insert("message".into(), json!(message));
    }
    Value::Object(map)
}

impl Object for Pod {
    const KIND: &'static str = "Pod";
    const API_VERSION: &'static str = "v1";
    const RESOURCE: &'static str = "v1/pods";

    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }

    fn body(&self, out: &mut Map<String, Value>) {
        out.insert("spec".into(), self.spec_json());
        out.insert("status".into(), self.status_json());
    }
}

/// Who reports an Event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reporter {
    /// The kubelet of a node.
    Kubelet(String),
    /// A controller of kube-controller-manager, e.g. `deployment-controller`.
    Controller(&'static str),
    /// The default scheduler.
    Scheduler,
}

impl Reporter {
    /// The field manager of its Event writes.
    pub(crate) fn manager(&self) -> &'static str {
        match self {
            Reporter::Kubelet(_) => "kubelet",
            Reporter::Controller(_) => "kube-controller-manager",
            Reporter::Scheduler => "kube-scheduler",
        }
    }
}

/// The object an Event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Involved {
    pub(crate) kind: &'static str,
    pub(crate) api_version: &'static str,
    pub(crate) namespace: String,
    pub(crate) name: String,
    pub(crate) uid: String,
    pub(crate) rv: u64,
    pub(crate) field_path: Option<String>,
}

impl Involved {
    /// The Event `involvedObject` of `object`.
    pub(crate) fn of<O: Object>(object: &O, field_path: Option<String>) -> Involved {
        let meta = object.meta();
        Involved {
            kind: O::KIND,
            api_version: O::API_VERSION,
            namespace: meta.namespace.clone(),
            name: meta.name.clone(),
            uid: meta.uid.clone(),
            rv: meta.rv,
            field_path,
        }
    }

    /// The kubelet's reference to its Node (cluster-scoped; the UID is the node name).
    pub(crate) fn node(name: &str) -> Involved {
        Involved {
            kind: "Node",
            api_version: "",
            namespace: String::new(),
            name: name.to_string(),
            uid: name.to_string(),
            rv: 0,
            field_path: None,
        }
    }

    /// The namespace of Events about it: its own, or `default` for cluster-scoped objects.
    pub(crate) fn event_namespace(&self) -> &str {
        if self.namespace.is_empty() {
            "default"
        } else {
            &self.namespace
        }
    }
}

/// A core/v1 Event.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub(crate) meta: Meta,
    pub(crate) involved: Involved,
    /// The second object an events.k8s.io recorder names (`related`).
    pub(crate) related: Option<Involved>,
    pub(crate) reason: &'static str,
    pub(crate) message: String,
    pub(crate) reporter: Reporter,
    pub(crate) first: Ms,
    pub(crate) last_seen: Ms,
    pub(crate) count: i32,
    pub(crate) warning: bool,
}

impl Object for Event {
    const KIND: &'static str = "Event";
    const API_VERSION: &'static str = "v1";
    const RESOURCE: &'static str = "v1/events";

    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }

    fn body(&self, out: &mut Map<String, Value>) {
        out.insert("involvedObject".into(), involved_json(&self.involved));
        if let Some(related) = &self.related {
            out.insert("related".into(), involved_json(related));
        }
        out.insert("reason".into(), json!(self.reason));
        out.insert("message".into(), json!(self.message));
        let (component, host, instance) = match &self.reporter {
            Reporter::Kubelet(node) => ("kubelet", Some(node.as_str()), node.as_str()),
            Reporter::Controller(name) => (*name, None, ""),
            Reporter::Scheduler => ("default-scheduler", None, "default-scheduler-control-plane"),
        };
        let source = match host {
            Some(host) => json!({"component": component, "host": host}),
            None => json!({"component": component}),
        };
        out.insert("source".into(), source);
        out.insert("firstTimestamp".into(), json!(whole_seconds(self.first)));
        out.insert("lastTimestamp".into(), json!(whole_seconds(self.last_seen)));
        out.insert("count".into(), json!(self.count));
        out.insert(
            "type".into(),
            json!(if self.warning { "Warning" } else { "Normal" }),
        );
        out.insert("eventTime".into(), Value::Null);
        out.insert("reportingComponent".into(), json!(component));
        out.insert("reportingInstance".into(), json!(instance));
    }
}

/// An `involvedObject`, leaving out what a cluster-scoped reference lacks.
fn involved_json(i: &Involved) -> Value {
    let mut involved = Map::new();
    involved.insert("kind".into(), json!(i.kind));
    if !i.namespace.is_empty() {
        involved.insert("namespace".into(), json!(i.namespace));
    }
    involved.insert("name".into(), json!(i.name));
    involved.insert("uid".into(), json!(i.uid));
    if !i.api_version.is_empty() {
        involved.insert("apiVersion".into(), json!(i.api_version));
    }
    if i.rv > 0 {
        involved.insert("resourceVersion".into(), json!(i.rv.to_string()));
    }
    if let Some(path) = &i.field_path {
        involved.insert("fieldPath".into(), json!(path));
    }
    Value::Object(involved)
}

/// The HPA status fields its controller writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct HpaStatus {
    pub(crate) current: i32,
    pub(crate) desired: i32,
    pub(crate) utilization: Option<i32>,
    pub(crate) last_scale: Option<Ms>,
    pub(crate) conditions: Vec<Condition>,
}

/// A simulated autoscaling/v2 HorizontalPodAutoscaler.
#[derive(Debug, Clone)]
pub(crate) struct Hpa {
    pub(crate) meta: Meta,
    pub(crate) target: String,
    pub(crate) min: i32,
    pub(crate) max: i32,
    pub(crate) target_utilization: i32,
    pub(crate) status: HpaStatus,
    /// Total CPU demand in "percent of one pod's request" units.
    pub(crate) demand: i64,
}

impl Object for Hpa {
    const KIND: &'static str = "HorizontalPodAutoscaler";
    const API_VERSION: &'static str = "autoscaling/v2";
    const RESOURCE: &'static str = "autoscaling/v2/horizontalpodautoscalers";

    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }

    fn body(&self, out: &mut Map<String, Value>) {
        out.insert("spec".into(), json!({
            "scaleTargetRef": {"kind": "Deployment", "name": self.target, "apiVersion": "apps/v1"},
            "minReplicas": self.min,
            "maxReplicas": self.max,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": self.target_utilization}}}]
        }));
        let s = &self.status;
        let mut status = Map::new();
        if let Some(at) = s.last_scale {
            status.insert("lastScaleTime".into(), json!(whole_seconds(at)));
        }
        status.insert("currentReplicas".into(), json!(s.current));
        status.insert("desiredReplicas".into(), json!(s.desired));
        if let Some(util) = s.utilization {
            let milli = i64::from(util) * 2;
            status.insert(
                "currentMetrics".into(),
                json!([{"type": "Resource", "resource": {"name": "cpu",
                "current": {"averageValue": format!("{milli}m"), "averageUtilization": util}}}]),
            );
        }
        if !s.conditions.is_empty() {
            let list = s.conditions.iter().map(Condition::to_json).collect();
            status.insert("conditions".into(), Value::Array(list));
        }
        out.insert("status".into(), Value::Object(status));
    }
}

/// A node pods are scheduled to.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) ip: String,
    pub(crate) index: usize,
    pub(crate) images: BTreeSet<String>,
    pub(crate) pods: usize,
    pub(crate) next_ip: u32,
    /// Allocatable CPU in millicores; `None` for room without limit.
    pub(crate) allocatable_cpu: Option<i64>,
    /// Whether it reports MemoryPressure (tainted `node.kubernetes.io/memory-pressure:NoSchedule`).
    pub(crate) memory_pressure: bool,
    /// When the kubelet may report the pressure over (the pressure transition period).
    pub(crate) pressure_until: Ms,
    /// Cordoned (`spec.unschedulable`).
    pub(crate) unschedulable: bool,
    /// Its kubelet stopped reporting (tainted unreachable once the controller notices).
    pub(crate) unreachable: bool,
}
