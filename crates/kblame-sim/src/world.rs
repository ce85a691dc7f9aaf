//! The simulated cluster: object stores, the clock, the task queue and the write path.

use std::collections::{BTreeMap, BTreeSet};

use kblame::trace::EventType;
use serde_json::value::{to_raw_value, RawValue};
use serde_json::{json, Value};

use super::churn::Churn;
use super::clock::{record_time, whole_seconds, Ms};
use super::config::ImageProfile;
use super::config_reads::ConfigReads;
use super::configmap::ConfigMap;
use super::ds_ctrl::DaemonSet;
use super::fields::{diff_objects, FieldSet, Writer};
use super::job_ctrl::{CronJob, Job};
use super::model::{
    Deployment, Event, Hpa, Involved, Meta, Node, Object, Pod, ReplicaSet, Reporter,
};
use super::operator::{CustomResourceTruth, PostgresCluster};
use super::rng::Rng;
use super::sts_ctrl::{ControllerRevision, StatefulSet};
use super::truth::{
    CronJobTruth, DaemonSetTruth, DeploymentTruth, JobTruth, PodTruth, StatefulSetTruth,
};

/// A record the simulator wants written to the trace.
#[derive(Debug, Clone)]
pub(crate) struct Out {
    pub(crate) ts: Ms,
    pub(crate) event: EventType,
    pub(crate) object: Box<RawValue>,
}

/// A kubelet step for one container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Step {
    Pull,
    Pulled,
    PullBackOff,
    Start,
    Exit(super::model::ExitKind),
    Probe,
    /// A failed readiness probe; the number says how many have failed in a row.
    ReadinessFail(i64),
    Ready,
    BackOff,
    Restart,
}

/// Work scheduled for a simulated time.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Task {
    SyncDeployment(String),
    SyncReplicaSet(String),
    Schedule(String),
    Sandbox(String),
    Container(String, usize, u32, Step),
    Terminate(String),
    Stopped(String),
    Remove(String),
    Collect,
    Autoscale(String),
    /// The kubelet of a node reports MemoryPressure (true) or its end (false).
    NodeCondition(usize, bool),
    SyncStatefulSet(String),
    SyncJob(String),
    SyncCronJob(String),
    /// The garbage collector deletes a pod of a deleted Job.
    CollectJobPod(String),
    SyncDaemonSet(String),
    /// The PostgresCluster operator reconciles a cluster (on a change it watches).
    ReconcilePostgres(String),
    /// The PostgresCluster operator reconciles a cluster when its progress deadline would pass
    /// (`RequeueAfter`; queued apart from watch triggers, so neither swallows the other).
    RequeuePostgres(String),
    /// The kubelet's periodic sync of a pod rewrites its ConfigMap volumes.
    SyncConfigVolumes(String),
    /// A step of the node lifecycle controller or the taint manager.
    Node(super::node_life::NodeTask),
    /// The disruption controller syncs a PodDisruptionBudget (by uid).
    SyncBudget(String),
}

/// What a commit did.
#[derive(Debug, Clone, Default)]
pub(crate) struct Commit {
    pub(crate) ts: Ms,
    pub(crate) recorded: bool,
    /// Whether its record was lost because the watch of its resource was broken.
    pub(crate) hidden: bool,
    pub(crate) paths: Vec<String>,
    /// Who made the request, when an audit log is being written.
    pub(crate) user: Option<String>,
}

impl Commit {
    /// The ground-truth time of this write: record ts in the trace, managedFields time before it.
    pub(crate) fn truth_time(&self) -> String {
        if self.recorded {
            record_time(self.ts)
        } else {
            whole_seconds(self.ts)
        }
    }
}

/// The clock, randomness, resourceVersion counter, task queue and pending output.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) now: Ms,
    pub(crate) rng: Rng,
    rv: u64,
    seq: u64,
    tasks: BTreeMap<(Ms, u64), Task>,
    queued: BTreeSet<Task>,
    pub(crate) out: Vec<Out>,
    pub(crate) recording: bool,
    /// Resources (e.g. `v1/pods`) whose watch is broken: their changes are not recorded.
    pub(crate) broken: BTreeSet<String>,
    /// The last resourceVersion the recorder saw of each resource (record or list).
    pub(crate) last_recorded: BTreeMap<String, u64>,
    /// The audit log, when one is written (off by default).
    pub(crate) audit: Option<Box<super::audit::Audit>>,
}

impl Core {
    fn new(seed: u64, now: Ms) -> Core {
        Core {
            now,
            rng: Rng::new(seed),
            rv: 1000 + seed % 9000,
            seq: 0,
            tasks: BTreeMap::new(),
            queued: BTreeSet::new(),
            out: Vec::new(),
            recording: false,
            broken: BTreeSet::new(),
            last_recorded: BTreeMap::new(),
            audit: None,
        }
    }

    /// Tells the audit log the body of the next request (e.g. a manifest before defaulting,
    /// a pod before admission); computed only when an audit log is written.
    pub(crate) fn audit_request(&mut self, body: impl FnOnce() -> Value) {
        if let Some(audit) = self.audit.as_mut() {
            audit.hint.request = Some(body());
        }
    }

    /// The current resourceVersion (the last one handed out).
    pub(crate) fn resource_version(&self) -> u64 {
        self.rv
    }

    /// Advances the clock by the few milliseconds a write takes.
    fn tick(&mut self) -> Ms {
        self.now += self.rng.between(6, 38);
        self.now
    }

    /// Runs `task` `delay` ms from now.
    pub(crate) fn after(&mut self, delay: Ms, task: Task) {
        self.seq += 1;
        self.tasks.insert((self.now + delay.max(1), self.seq), task);
    }

    /// Runs `task` `delay` ms from now, unless it is already queued.
    pub(crate) fn once_after(&mut self, delay: Ms, task: Task) {
        if self.queued.insert(task.clone()) {
            self.after(delay, task);
        }
    }

    /// Runs `task` within a few tens of ms, unless it is already queued.
    pub(crate) fn soon(&mut self, task: Task) {
        if self.queued.insert(task.clone()) {
            let delay = self.rng.between(4, 30);
            self.after(delay, task);
        }
    }

    /// A random delay in `lo..=hi` ms.
    pub(crate) fn jitter(&mut self, lo: Ms, hi: Ms) -> Ms {
        self.rng.between(lo, hi)
    }

    /// The next task due by `until`, with the clock moved to its time.
    fn pop_due(&mut self, until: Ms) -> Option<Task> {
        let (&(at, seq), _) = self.tasks.first_key_value()?;
        if at > until {
            return None;
        }
        let task = self.tasks.remove(&(at, seq))?;
        self.now = self.now.max(at);
        self.queued.remove(&task);
        Some(task)
    }

    /// Writes `object`: new resourceVersion, generation, managedFields, and a record if recording.
    pub(crate) fn commit<O: Object>(
        &mut self,
        object: &mut O,
        writer: Option<&Writer>,
        applied: Option<&FieldSet>,
        event: EventType,
    ) -> Commit {
        let now = self.tick();
        let mut body = object.render();
        if O::HAS_GENERATION && body.get("spec") != object.meta().last.get("spec") {
            object.meta_mut().generation += 1;
            body["metadata"]["generation"] = json!(object.meta().generation);
        }
        let mut paths = Vec::new();
        if let Some(writer) = writer {
            let with_paths = O::HAS_GENERATION && writer.subresource.is_none();
            let diff = diff_objects(&object.meta().last, &body, writer.subresource, with_paths);
            object
                .meta_mut()
                .managed
                .record(writer, &diff, applied, now);
            paths = diff.paths;
        }
        self.rv += 1;
        let meta = object.meta_mut();
        meta.rv = self.rv;
        fill_metadata(&mut body, meta, O::API_VERSION);
        // The audit log holds every request from when it is turned on, trace or not.
        let user = match self.audit.as_mut() {
            Some(audit) => audit.commit(&super::audit::Write {
                kind: O::KIND,
                api_version: O::API_VERSION,
                resource: O::RESOURCE,
                old: &meta.last,
                new: &body,
                writer,
                event,
                at: now,
            }),
            None => None,
        };
        let hidden = self.recording && self.broken.contains(O::RESOURCE);
        // Only a recorded write is serialized (the unrecorded hour before a trace is not).
        let recorded = (self.recording && !hidden).then(|| to_raw_value(&body));
        if let Some(Ok(object)) = recorded {
            self.out.push(Out {
                ts: now,
                event,
                object,
            });
            self.last_recorded.insert(O::RESOURCE.to_string(), self.rv);
        }
        meta.last = body;
        Commit {
            ts: now,
            recorded: self.recording,
            hidden,
            paths,
            user,
        }
    }
}

impl Core {
    /// What a write of `object` would store, as a dry run answers: generation and managedFields
    /// as the write would set them, the resourceVersion unchanged, nothing recorded.
    pub(crate) fn dry_run<O: Object + Clone>(
        &self,
        object: &O,
        writer: &Writer,
        applied: Option<&FieldSet>,
    ) -> Value {
        let mut object = object.clone();
        let mut body = object.render();
        if O::HAS_GENERATION && body.get("spec") != object.meta().last.get("spec") {
            object.meta_mut().generation += 1;
            body["metadata"]["generation"] = json!(object.meta().generation);
        }
        let diff = diff_objects(&object.meta().last, &body, writer.subresource, false);
        let now = self.now;
        object
            .meta_mut()
            .managed
            .record(writer, &diff, applied, now);
        fill_metadata(&mut body, object.meta_mut(), O::API_VERSION);
        body
    }
}

fn fill_metadata(body: &mut Value, meta: &mut Meta, api_version: &str) {
    let Some(map) = body.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    map.insert("resourceVersion".into(), json!(meta.rv.to_string()));
    let managed = meta.managed.render(api_version);
    if managed.as_array().is_some_and(Vec::is_empty) {
        map.shift_remove("managedFields");
    } else {
        map.insert("managedFields".into(), managed);
    }
}

/// `count` empty nodes `node-1`, `node-2`, ...
pub(crate) fn make_nodes(count: usize) -> Vec<Node> {
    (0..count.max(1))
        .map(|i| Node {
            name: format!("node-{}", i + 1),
            ip: format!("10.0.1.{}", 11 + i),
            index: i,
            images: BTreeSet::new(),
            pods: 0,
            next_ip: 2,
            allocatable_cpu: None,
            memory_pressure: false,
            pressure_until: 0,
            unschedulable: false,
            unreachable: false,
        })
        .collect()
}

/// What an Event says.
struct Said {
    reason: &'static str,
    message: String,
    warning: bool,
}

/// Ground truth collected while simulating.
#[derive(Debug, Default)]
pub(crate) struct Book {
    pub(crate) deployments: Vec<(DeploymentTruth, bool)>,
    pub(crate) pods: Vec<(PodTruth, bool)>,
    pub(crate) statefulsets: Vec<(StatefulSetTruth, bool)>,
    pub(crate) jobs: Vec<(JobTruth, bool)>,
    pub(crate) daemonsets: Vec<(DaemonSetTruth, bool)>,
    pub(crate) cronjobs: Vec<(CronJobTruth, bool)>,
    pub(crate) custom: Vec<(CustomResourceTruth, bool)>,
    /// The latest pod-truth index of each pod name (for `replaces` / `replaced_by`).
    pub(crate) pod_names: BTreeMap<(String, String), usize>,
}

/// The whole simulated cluster.
#[derive(Debug)]
pub(crate) struct World {
    pub(crate) core: Core,
    pub(crate) deployments: BTreeMap<String, Deployment>,
    pub(crate) replicasets: BTreeMap<String, ReplicaSet>,
    pub(crate) pods: BTreeMap<String, Pod>,
    pub(crate) events: BTreeMap<String, Event>,
    event_keys: BTreeMap<String, String>,
    events_created: u64,
    pub(crate) hpas: BTreeMap<String, Hpa>,
    pub(crate) configmaps: BTreeMap<String, ConfigMap>,
    /// Secrets by uid.
    pub(crate) secrets: BTreeMap<String, super::secret::Secret>,
    pub(crate) statefulsets: BTreeMap<String, StatefulSet>,
    /// ControllerRevisions by uid.
    pub(crate) revisions: BTreeMap<String, ControllerRevision>,
    pub(crate) jobs: BTreeMap<String, Job>,
    pub(crate) cronjobs: BTreeMap<String, CronJob>,
    pub(crate) daemonsets: BTreeMap<String, DaemonSet>,
    /// PostgresClusters (custom resources) by uid.
    pub(crate) postgres: BTreeMap<String, PostgresCluster>,
    /// ReplicaSet uids by owner uid, oldest first.
    rs_by_owner: BTreeMap<String, Vec<String>>,
    pub(crate) nodes: Vec<Node>,
    pub(crate) images: BTreeMap<String, ImageProfile>,
    /// PriorityClass values by name.
    pub(crate) priority_classes: BTreeMap<String, i32>,
    /// Pods the scheduler could not place, retried when room may have been freed.
    pub(crate) unschedulable: BTreeSet<String>,
    pub(crate) book: Book,
    /// Churn between rollouts (off unless asked for).
    pub(crate) churn: Churn,
    /// What the kubelet wrote into ConfigMap volumes, and the ConfigMap changes made.
    pub(crate) config_reads: ConfigReads,
    /// Pushes to image tags, each pushed digest's behaviour and what each node cached.
    pub(crate) image_tags: super::image_tags::ImageTags,
    /// Recorded Node objects by name (empty unless a scenario records nodes).
    pub(crate) node_objects: BTreeMap<String, super::node_life::NodeObject>,
    /// When a user cordoned each node (ground-truth time).
    pub(crate) cordons: BTreeMap<String, String>,
    /// When each lost node's Ready condition went Unknown (ground-truth time).
    pub(crate) unknown_since: BTreeMap<String, String>,
    /// PodDisruptionBudgets by uid.
    pub(crate) budgets: BTreeMap<String, super::pdb::Budget>,
    /// Per pod uid: the 429s its eviction got so far, and when the first came (truth time).
    pub(crate) refusals: BTreeMap<String, (u32, Option<String>)>,
    /// Per pod uid: the root cause a retried eviction is told with.
    pub(crate) evict_causes: BTreeMap<String, Option<super::truth::RootCauseTruth>>,
    /// Recorded Namespaces by name (empty unless a scenario creates them).
    pub(crate) namespaces: BTreeMap<String, super::admission::Namespace>,
    /// MutatingWebhookConfigurations by name (none unless a scenario installs one).
    pub(crate) webhook_configs: BTreeMap<String, super::admission::WebhookConfiguration>,
}

impl World {
    /// An empty cluster with `nodes` nodes, its clock at `now`.
    pub(crate) fn new(seed: u64, now: Ms, nodes: usize) -> World {
        let nodes = make_nodes(nodes);
        World {
            core: Core::new(seed, now),
            deployments: BTreeMap::new(),
            replicasets: BTreeMap::new(),
            pods: BTreeMap::new(),
            events: BTreeMap::new(),
            event_keys: BTreeMap::new(),
            events_created: 0,
            hpas: BTreeMap::new(),
            configmaps: BTreeMap::new(),
            secrets: BTreeMap::new(),
            statefulsets: BTreeMap::new(),
            revisions: BTreeMap::new(),
            jobs: BTreeMap::new(),
            cronjobs: BTreeMap::new(),
            daemonsets: BTreeMap::new(),
            postgres: BTreeMap::new(),
            rs_by_owner: BTreeMap::new(),
            nodes,
            images: BTreeMap::new(),
            priority_classes: BTreeMap::new(),
            unschedulable: BTreeSet::new(),
            book: Book::default(),
            churn: Churn::default(),
            config_reads: ConfigReads::default(),
            image_tags: Default::default(),
            node_objects: BTreeMap::new(),
            cordons: BTreeMap::new(),
            unknown_since: BTreeMap::new(),
            budgets: BTreeMap::new(),
            refusals: BTreeMap::new(),
            evict_causes: BTreeMap::new(),
            namespaces: BTreeMap::new(),
            webhook_configs: BTreeMap::new(),
        }
    }

    /// Runs every task due up to `until`, then sets the clock to `until`.
    pub(crate) fn run_until(&mut self, until: Ms) {
        while let Some(task) = self.core.pop_due(until) {
            self.run(task);
        }
        self.core.now = self.core.now.max(until);
    }

    fn run(&mut self, task: Task) {
        if self.kubelet_lost(&task) {
            return; // A lost node's kubelet does nothing more.
        }
        if self.core.audit.is_some() {
            let agent = self.agent_of(&task);
            if let Some(audit) = self.core.audit.as_mut() {
                audit.agent = agent;
            }
            self.run_task(task);
            if let Some(audit) = self.core.audit.as_mut() {
                audit.agent = super::audit::Agent::User;
            }
        } else {
            self.run_task(task);
        }
    }

    /// Who sends the requests of a task: the controller's service account, the scheduler, or
    /// the kubelet of the pod's node.
    fn agent_of(&self, task: &Task) -> super::audit::Agent {
        use super::audit::Agent;
        let kubelet = |uid: &str| {
            let node = self.pods.get(uid).and_then(|p| p.node_name.clone());
            Agent::Kubelet(node.unwrap_or_else(|| "node-1".into()))
        };
        match task {
            Task::SyncDeployment(_) => Agent::Controller("deployment-controller"),
            Task::SyncReplicaSet(_) => Agent::Controller("replicaset-controller"),
            Task::Schedule(_) => Agent::Scheduler,
            Task::Sandbox(uid)
            | Task::Container(uid, ..)
            | Task::Terminate(uid)
            | Task::Stopped(uid)
            | Task::Remove(uid)
            | Task::SyncConfigVolumes(uid) => kubelet(uid),
            Task::Collect | Task::CollectJobPod(_) => {
                Agent::Controller("generic-garbage-collector")
            }
            Task::Autoscale(_) => Agent::Controller("horizontal-pod-autoscaler"),
            Task::NodeCondition(index, _) => Agent::Kubelet(
                self.nodes
                    .get(*index)
                    .map_or_else(|| "node-1".into(), |n| n.name.clone()),
            ),
            Task::SyncStatefulSet(_) => Agent::Controller("statefulset-controller"),
            Task::SyncJob(_) => Agent::Controller("job-controller"),
            Task::SyncCronJob(_) => Agent::Controller("cronjob-controller"),
            Task::SyncDaemonSet(_) => Agent::Controller("daemon-set-controller"),
            Task::ReconcilePostgres(_) | Task::RequeuePostgres(_) => Agent::Operator,
            Task::Node(_) => Agent::Controller("node-controller"),
            Task::SyncBudget(_) => Agent::Controller("disruption-controller"),
        }
    }

    fn run_task(&mut self, task: Task) {
        match task {
            Task::SyncDeployment(uid) => self.sync_deployment(&uid),
            Task::SyncReplicaSet(uid) => self.sync_replicaset(&uid),
            Task::Schedule(uid) => self.schedule_pod(&uid),
            Task::Sandbox(uid) => self.start_sandbox(&uid),
            Task::Container(uid, index, epoch, step) => {
                self.container_step(&uid, index, epoch, step)
            }
            Task::Terminate(uid) => self.terminate_pod(&uid),
            Task::Stopped(uid) => self.pod_stopped(&uid),
            Task::Remove(uid) => self.remove_pod(&uid),
            Task::Collect => self.collect_garbage(),
            Task::Autoscale(uid) => self.autoscale(&uid),
            Task::SyncStatefulSet(uid) => self.sync_statefulset(&uid),
            Task::SyncJob(uid) => self.sync_job(&uid),
            Task::SyncCronJob(uid) => self.sync_cronjob(&uid),
            Task::CollectJobPod(uid) => self.collect_job_pod(&uid),
            Task::SyncDaemonSet(uid) => self.sync_daemonset(&uid),
            Task::ReconcilePostgres(uid) | Task::RequeuePostgres(uid) => {
                self.reconcile_postgres(&uid)
            }
            Task::NodeCondition(node, pressure) => self.report_memory_pressure(node, pressure),
            Task::SyncConfigVolumes(uid) => self.sync_config_volumes(&uid),
            Task::Node(step) => self.node_task(step),
            Task::SyncBudget(uid) => self.sync_budget(&uid),
        }
    }

    /// A fresh UID.
    pub(crate) fn uid(&mut self) -> String {
        self.core.rng.uid()
    }

    /// Queues the controllers that watch this pod.
    pub(crate) fn pod_changed(&mut self, pod_uid: &str) {
        self.budgets_notice();
        if let Some(rs) = self.pods.get(pod_uid).map(|p| p.rs_uid.clone()) {
            if self.replicasets.contains_key(&rs) {
                self.core.soon(Task::SyncReplicaSet(rs));
            } else if self.statefulsets.contains_key(&rs) {
                self.core.soon(Task::SyncStatefulSet(rs));
            } else if self.jobs.contains_key(&rs) {
                self.core.soon(Task::SyncJob(rs));
            } else if self.daemonsets.contains_key(&rs) {
                self.core.soon(Task::SyncDaemonSet(rs));
            }
        }
    }

    /// Queues the controllers that watch this ReplicaSet.
    pub(crate) fn replicaset_changed(&mut self, rs_uid: &str) {
        let Some(owner) = self.replicasets.get(rs_uid).map(|r| r.owner_uid.clone()) else {
            return;
        };
        self.core.soon(Task::SyncReplicaSet(rs_uid.to_string()));
        if self.deployments.contains_key(&owner) {
            self.core.soon(Task::SyncDeployment(owner));
        }
    }

    /// Records an Event, or counts a repeat of an identical one.
    pub(crate) fn record_event(
        &mut self,
        involved: Involved,
        reporter: Reporter,
        warning: bool,
        reason: &'static str,
        message: String,
    ) {
        let annotations = BTreeMap::new();
        self.record_annotated_event(involved, reporter, warning, reason, message, annotations);
    }

    /// Records an Event with annotations (as the kubelet's `AnnotatedEventf`), or counts a repeat.
    pub(crate) fn record_annotated_event(
        &mut self,
        involved: Involved,
        reporter: Reporter,
        warning: bool,
        reason: &'static str,
        message: String,
        annotations: BTreeMap<String, String>,
    ) {
        let said = Said {
            reason,
            message,
            warning,
        };
        self.record_event_with(involved, None, reporter, said, annotations);
    }

    /// Records an Event that names a second object, `related` (the events.k8s.io recorder's
    /// `Eventf(regarding, related, …)`, e.g. the scheduler's `Preempted` naming the preemptor).
    pub(crate) fn record_related_event(
        &mut self,
        involved: Involved,
        related: Involved,
        reporter: Reporter,
        reason: &'static str,
        message: String,
    ) {
        let said = Said {
            reason,
            message,
            warning: false,
        };
        self.record_event_with(involved, Some(related), reporter, said, BTreeMap::new());
    }

    fn record_event_with(
        &mut self,
        involved: Involved,
        related: Option<Involved>,
        reporter: Reporter,
        said: Said,
        annotations: BTreeMap<String, String>,
    ) {
        let Said {
            reason,
            message,
            warning,
        } = said;
        let key = format!(
            "{}|{}|{reason}|{message}|{reporter:?}",
            involved.uid,
            involved.field_path.as_deref().unwrap_or_default()
        );
        let writer = Writer::update(reporter.manager());
        if !self.event_allowed(&reporter, &involved.uid) {
            // Dropped before it is sent; the recorder still counts it, as client-go does.
            let known = self.event_keys.get(&key);
            if let Some(event) = known.and_then(|uid| self.events.get_mut(uid)) {
                event.count += 1;
            }
            return;
        }
        if let Some(uid) = self.event_keys.get(&key).cloned() {
            if let Some(event) = self.events.get_mut(&uid) {
                event.count += 1;
                event.last_seen = self.core.now;
                self.core
                    .commit(event, Some(&writer), None, EventType::Modified);
                return;
            }
        }
        let uid = self.uid();
        let now = self.core.now;
        let nanos = i128::from(now) * 1_000_000 + i128::from(self.core.rng.between(0, 999_999));
        let name = format!("{}.{:x}", involved.name, nanos);
        let mut meta = Meta::new(involved.event_namespace(), &name, uid.clone(), now);
        meta.annotations = annotations;
        let mut event = Event {
            meta,
            involved,
            related,
            reason,
            message,
            reporter,
            first: now,
            last_seen: now,
            count: 1,
            warning,
        };
        self.core
            .commit(&mut event, Some(&writer), None, EventType::Added);
        self.events.insert(uid.clone(), event);
        self.event_keys.insert(key, uid);
        self.events_created += 1;
        if self.events_created % 1024 == 0 {
            self.expire_events();
        }
    }

    /// The Deployment `namespace/name` (not being deleted).
    pub(crate) fn find_deployment(&self, namespace: &str, name: &str) -> Option<String> {
        self.deployments
            .values()
            .find(|d| d.meta.namespace == namespace && d.meta.name == name && !d.meta.deleting())
            .map(|d| d.meta.uid.clone())
    }

    /// Marks the pod's ground truth `hidden_by_gap` if this commit's record was lost to a
    /// broken watch.
    pub(crate) fn note_hidden(&mut self, pod_uid: &str, commit: &Commit) {
        if let Some(truth) = self.pods.get(pod_uid).map(|p| p.truth) {
            self.mark_hidden(truth, commit);
        }
    }

    /// Marks ground-truth entry `truth` `hidden_by_gap` if this commit's record was lost.
    pub(crate) fn mark_hidden(&mut self, truth: usize, commit: &Commit) {
        if let (true, Some(entry)) = (commit.hidden, self.book.pods.get_mut(truth)) {
            entry.0.hidden_by_gap = true;
        }
    }

    /// The pod `namespace/name`.
    pub(crate) fn find_pod(&self, namespace: &str, name: &str) -> Option<String> {
        self.pods
            .values()
            .find(|p| p.meta.namespace == namespace && p.meta.name == name)
            .map(|p| p.meta.uid.clone())
    }

    /// The ReplicaSets a Deployment owns, oldest first.
    pub(crate) fn owned_replicasets(&self, deployment_uid: &str) -> Vec<String> {
        self.rs_by_owner
            .get(deployment_uid)
            .cloned()
            .unwrap_or_default()
    }

    /// Stores a new ReplicaSet.
    pub(crate) fn insert_replicaset(&mut self, rs: ReplicaSet) {
        let owned = self.rs_by_owner.entry(rs.owner_uid.clone()).or_default();
        owned.push(rs.meta.uid.clone());
        self.replicasets.insert(rs.meta.uid.clone(), rs);
    }

    /// Removes a ReplicaSet from the store.
    pub(crate) fn take_replicaset(&mut self, uid: &str) -> Option<ReplicaSet> {
        let rs = self.replicasets.remove(uid)?;
        if let Some(owned) = self.rs_by_owner.get_mut(&rs.owner_uid) {
            owned.retain(|u| u != uid);
            if owned.is_empty() {
                self.rs_by_owner.remove(&rs.owner_uid);
            }
        }
        Some(rs)
    }

    /// Deletes Events whose last update is older than the API server's one-hour TTL
    /// (a DELETED record each when recording).
    pub(crate) fn expire_events(&mut self) {
        let horizon = self.core.now - 3_600_000;
        let expired: Vec<String> = self
            .events
            .values()
            .filter(|e| e.last_seen < horizon)
            .map(|e| e.meta.uid.clone())
            .collect();
        for uid in expired {
            let Some(mut event) = self.events.remove(&uid) else {
                continue;
            };
            if self.core.recording {
                self.core.commit(&mut event, None, None, EventType::Deleted);
            }
        }
        let events = &self.events;
        self.event_keys.retain(|_, uid| events.contains_key(uid));
    }
}
