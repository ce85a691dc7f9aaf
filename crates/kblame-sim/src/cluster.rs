//! A large simulated cluster for big traces, all drawn from a seeded PRNG, so the same
//! arguments always write the same bytes.
//!
//! `records/8000 + 4` namespaces (at most 50) each hold 2–5 Deployments (one in five with an
//! HPA) and, in every third namespace, a Patroni-managed PostgreSQL. Users act on each
//! Deployment about every two hours: rollouts by kubectl apply, server-side apply or helm, bad
//! rollouts later undone or rolled forward, restarts, scaling and pods deleted by hand. One app
//! in twelve had a bad rollout before the trace that nobody fixes, so its new pods crash-loop
//! throughout. Between rollouts the cluster stays busy the way real ones do: readiness probes
//! fail for a while, containers crash once and restart, Patroni rewrites its members' `status`
//! annotations as the WAL moves, and HPAs report a CPU sample that moves every minute. Event
//! recorders use client-go's spam filter (25 per object, then one per 5 minutes).
//!
//! By record count that comes to about 55 % pods, 25 % Events, 12 % ReplicaSets and
//! Deployments and 8 % HPAs (pods are 3–6 KB each, with managedFields and container statuses).
//!
//! [`generate`] writes the trace and returns the pods and Deployments worth querying;
//! [`record_mix`] reads a trace back and counts its object records by kind.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use kblame::trace::{read_trace, Record, TraceError, TraceSource, WriterOptions};

use super::{
    utc, ContainerConfig, DeploymentConfig, GroundTruth, HpaConfig, ImageProfile, Ms, PodTruth,
    ProbeConfig, Sim, Tool, MINUTE, SECOND,
};

/// Bumped whenever the trace written for the same arguments changes, so that saved traces
/// can be told apart (the benches keep theirs under this number).
pub const VERSION: u32 = 2;

/// Why a trace could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The trace file could not be created.
    #[error("cannot create {path}")]
    Create {
        /// The trace path.
        path: String,
        /// What went wrong.
        source: io::Error,
    },
    /// Writing the trace failed part way.
    #[error("writing {path} failed")]
    Write {
        /// The trace path.
        path: String,
        /// What went wrong.
        source: io::Error,
    },
}

/// An object worth querying in a generated trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// Why it is interesting: `crash-looping pod`, `replacement pod`, `rolled-back pod` or
    /// `deployment`.
    pub what: &'static str,
    /// `Pod` or `Deployment`.
    pub kind: &'static str,
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// A few words about it, e.g. `15 restarts, Error`.
    pub note: String,
}

impl Suggestion {
    fn pod(what: &'static str, pod: &PodTruth, note: String) -> Suggestion {
        Suggestion {
            what,
            kind: "Pod",
            namespace: pod.namespace.clone(),
            name: pod.name.clone(),
            note,
        }
    }
}

/// What [`generate`] wrote.
#[derive(Debug, Clone)]
pub struct GeneratedTrace {
    /// The trace file.
    pub path: PathBuf,
    /// Records written, END included (header excluded).
    pub records: u64,
    /// Size of the trace file in bytes.
    pub bytes: u64,
    /// How many namespaces the cluster has.
    pub namespaces: usize,
    /// How many Deployments the cluster has.
    pub deployments: usize,
    /// Pods and Deployments worth querying, pods first.
    pub suggestions: Vec<Suggestion>,
    /// What the simulator knows happened.
    pub truth: GroundTruth,
}

impl GeneratedTrace {
    /// The suggestions of one kind (`Pod` or `Deployment`).
    pub fn suggested(&self, kind: &str) -> impl Iterator<Item = &Suggestion> {
        let kind = kind.to_string();
        self.suggestions.iter().filter(move |s| s.kind == kind)
    }
}

/// Writes a trace of about `records` records (then END) simulated from `seed` to `path`,
/// calling `progress` with the number of records written so far as it goes.
pub fn generate(
    records: u64,
    seed: u64,
    path: &Path,
    progress: impl FnMut(u64),
) -> Result<GeneratedTrace, GenerateError> {
    Generator::new(records, seed, path)?.run(progress)
}

/// A cluster built and ready to be recorded: [`generate`] in two steps, so that the layout
/// can be shown before the long part.
pub struct Generator {
    sim: Sim<File>,
    cluster: Cluster,
    namespaces: usize,
    records: u64,
    path: PathBuf,
}

impl Generator {
    /// Creates `path`, builds the cluster and its first (unrecorded) hour, and starts the trace.
    pub fn new(records: u64, seed: u64, path: &Path) -> Result<Generator, GenerateError> {
        let file = kblame::files::create_private(path).map_err(|source| GenerateError::Create {
            path: path.display().to_string(),
            source,
        })?;
        let mut rng = Prng(seed ^ 0x6b62_6c61_6d65);
        let start = utc(2026, 11, 26, 6, 0, 0);
        let mut sim = Sim::with_output(file, WriterOptions::default(), seed, start);
        sim.event_spam_filter(SPAM_BURST, SPAM_REFILL)
            .cpu_metric_jitter(METRIC_JITTER);
        let namespaces = (records / 8_000 + 4).min(50) as usize;
        let (apps, dbs) = set_up(&mut sim, &mut rng, namespaces);
        Ok(Generator {
            sim,
            cluster: Cluster { rng, apps, dbs },
            namespaces,
            records,
            path: path.to_path_buf(),
        })
    }

    /// How many namespaces the cluster has.
    pub fn namespaces(&self) -> usize {
        self.namespaces
    }

    /// How many Deployments the cluster has.
    pub fn deployments(&self) -> usize {
        self.cluster.apps.len() + self.cluster.dbs.len()
    }

    /// Runs the cluster until the trace holds the records asked for, then writes END.
    pub fn run(self, mut progress: impl FnMut(u64)) -> Result<GeneratedTrace, GenerateError> {
        let deployments = self.deployments();
        let Generator {
            mut sim,
            mut cluster,
            namespaces,
            records,
            path,
        } = self;
        let mut chores = Chore::ALL.map(|chore| (sim.now() + cluster.interval(chore), chore));
        while sim.records() < records {
            let (due, chore) = chores.iter().copied().min().unwrap_or_default();
            if sim.now() >= due {
                cluster.run(&mut sim, chore);
                let next = sim.now() + cluster.interval(chore);
                chores[chore as usize].0 = next;
                continue;
            }
            sim.advance_to(due.min(sim.now() + 5 * SECOND));
            progress(sim.records());
        }
        let written = sim.records() + 1;
        let write_error = |source| GenerateError::Write {
            path: path.display().to_string(),
            source,
        };
        let (_, truth) = sim
            .finish("gen-trace", "a large simulated cluster")
            .map_err(write_error)?;
        let bytes = std::fs::metadata(&path).map_err(write_error)?.len();
        Ok(GeneratedTrace {
            suggestions: suggestions(&truth),
            path,
            records: written,
            bytes,
            namespaces,
            deployments,
            truth,
        })
    }
}

/// Burst of the event spam filter (client-go's default).
const SPAM_BURST: u32 = 25;
/// One more Event per involved object this often once the burst is spent (client-go's default).
const SPAM_REFILL: Ms = 5 * MINUTE;
/// How far an HPA's CPU sample strays from the load, in percentage points.
const METRIC_JITTER: i32 = 6;
/// Each app gets a user action about this often.
const ACTION_EVERY: Ms = 120 * MINUTE;
/// Each running pod's readiness probe fails for a while about this often.
const FLAP_EVERY: Ms = 3 * 60 * MINUTE;
/// Each running pod's container crashes once about this often.
const CRASH_EVERY: Ms = 30 * 60 * MINUTE;
/// Each database member writes its status annotation about this often.
const HEARTBEAT_EVERY: Ms = 14 * SECOND;

/// What happens in the cluster besides the controllers' own work, each on its own clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
enum Chore {
    /// A user acts on a Deployment.
    #[default]
    Action,
    /// A pod's readiness probe fails for a while.
    Flap,
    /// A container crashes once.
    Crash,
    /// A database member writes its status.
    Heartbeat,
}

impl Chore {
    const ALL: [Chore; 4] = [Chore::Action, Chore::Flap, Chore::Crash, Chore::Heartbeat];
}

/// The generator's view of the cluster: its apps, databases and randomness.
struct Cluster {
    rng: Prng,
    apps: Vec<App>,
    dbs: Vec<Db>,
}

impl Cluster {
    /// The time until `chore` comes round again (random, about its mean interval over the
    /// whole cluster).
    fn interval(&mut self, chore: Chore) -> Ms {
        let pods = (self.apps.len() as i64 * 4).max(1);
        let mean = match chore {
            Chore::Action => ACTION_EVERY / self.apps.len().max(1) as i64,
            Chore::Flap => FLAP_EVERY / pods,
            Chore::Crash => CRASH_EVERY / pods,
            Chore::Heartbeat if self.dbs.is_empty() => 24 * 60 * MINUTE,
            Chore::Heartbeat => {
                let members: i64 = self.dbs.iter().map(|d| i64::from(d.replicas)).sum();
                HEARTBEAT_EVERY / members.max(1)
            }
        };
        let mean = mean.max(SECOND);
        self.rng.range(mean / 2, mean * 3 / 2)
    }

    fn run(&mut self, sim: &mut Sim<File>, chore: Chore) {
        match chore {
            Chore::Action => act(sim, &mut self.rng, &mut self.apps),
            Chore::Flap => {
                if let Some((ns, pod)) = self.random_pod(sim) {
                    let seconds = self.rng.range(10, 180);
                    sim.fail_readiness(&ns, &pod, seconds);
                }
            }
            Chore::Crash => {
                if let Some((ns, pod)) = self.random_pod(sim) {
                    let code = self.rng.pick(&[Some(1), Some(2), Some(137), None]);
                    sim.crash_container(&ns, &pod, code);
                }
            }
            Chore::Heartbeat => {
                if !self.dbs.is_empty() {
                    let index = self.rng.next() as usize % self.dbs.len();
                    let advance = self.rng.range(1, 64) as u64 * 8192;
                    self.dbs[index].heartbeat(sim, &mut self.rng, advance);
                }
            }
        }
    }

    /// A pod of a random app that is not broken for good.
    fn random_pod(&mut self, sim: &Sim<File>) -> Option<(String, String)> {
        let app = &self.apps[self.rng.next() as usize % self.apps.len()];
        if app.chronic {
            return None;
        }
        let pods = sim.pod_names(&app.namespace, &app.name);
        let pod = pods.get(self.rng.next() as usize % pods.len().max(1))?;
        Some((app.namespace.clone(), pod.clone()))
    }
}

/// splitmix64: a small deterministic PRNG, independent of the simulator's own.
struct Prng(u64);

impl Prng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.next() as usize % items.len()]
    }
}

const TEAMS: &str = "shop payments catalog billing auth search media orders inventory reports \
    checkout identity ledger shipping pricing reviews notify analytics warehouse support ads maps";
const APPS: &str = "api web worker frontend cache gateway indexer scheduler sync admin";

/// One Deployment and what the user believes is its good configuration; it breaks at most once,
/// so its restarts are blamed on one change.
struct App {
    namespace: String,
    name: String,
    tool: Tool,
    good: ContainerConfig,
    version: u32,
    hpa: bool,
    broke: bool,
    /// A bad rollout is live; fixed (undo or roll forward) at this time.
    broken_until: Option<Ms>,
    /// A bad rollout went out before the trace and nobody fixes it: its new pods crash-loop
    /// (never ready) while the old ones serve.
    chronic: bool,
}

impl App {
    /// The image of the next version.
    fn next_image(&mut self) -> String {
        self.version += 1;
        let (ns, name) = (&self.namespace, &self.name);
        let (minor, patch) = (self.version / 5, self.version % 5);
        format!("registry.example.com/{ns}/{name}:1.{minor}.{patch}")
    }

    /// Applies `container` as the app's only container with the app's own tool.
    fn apply(&self, sim: &mut Sim<File>, container: ContainerConfig) {
        sim.update_deployment(&self.namespace, &self.name, self.tool, |c| {
            c.containers = vec![container];
        });
    }

    /// Rolls out the next good image.
    fn upgrade(&mut self, sim: &mut Sim<File>) {
        self.good.image = self.next_image();
        self.apply(sim, self.good.clone());
    }

    /// Rolls out an image that crashes a minute or so after each start and never answers its
    /// readiness probe; nobody fixes it.
    fn break_for_good(&mut self, sim: &mut Sim<File>, rng: &mut Prng) {
        let mut bad = self.good.clone();
        bad.image = self.next_image();
        let mut crash = ImageProfile::healthy().crashes_after(rng.range(20, 90), rng.pick(&[1, 2]));
        crash.healthy_paths.clear();
        sim.image(&bad.image, crash);
        self.apply(sim, bad);
        self.chronic = true;
    }
}

/// A Patroni-managed PostgreSQL cluster in a Deployment: each member keeps its status (role,
/// WAL position) in its pod's `status` annotation, rewritten as the WAL position moves.
struct Db {
    namespace: String,
    name: String,
    replicas: i32,
    /// The primary's WAL position.
    xlog: u64,
}

impl Db {
    /// The WAL moved by `advance` bytes; one member (the oldest pod is the primary) says so.
    fn heartbeat(&mut self, sim: &mut Sim<File>, rng: &mut Prng, advance: u64) {
        self.xlog += advance;
        let pods = sim.pod_names(&self.namespace, &self.name);
        let Some(index) = (!pods.is_empty()).then(|| rng.next() as usize % pods.len()) else {
            return;
        };
        let (pod, role) = (&pods[index], if index == 0 { "master" } else { "replica" });
        let lag = if index == 0 {
            0
        } else {
            rng.range(0, 4) as u64 * 8192
        };
        let status = format!(
            "{{\"conn_url\":\"postgres://{pod}.{ns}:5432/postgres\",\"api_url\":\"http://{pod}.{ns}:8008/patroni\",\"state\":\"running\",\"role\":\"{role}\",\"version\":\"3.3.2\",\"xlog_location\":{},\"timeline\":1}}",
            self.xlog.saturating_sub(lag),
            ns = self.namespace,
        );
        sim.annotate_pod(&self.namespace, pod, "Patroni", "status", &status);
    }
}

/// Makes `app` roll out something broken, to be fixed a few minutes later.
fn break_app(app: &mut App, sim: &mut Sim<File>, rng: &mut Prng) {
    let mut bad = app.good.clone();
    let how = rng.range(0, 3);
    if how < 2 {
        bad.image = app.next_image();
        let crash = ImageProfile::healthy().crashes_after(rng.range(1, 8), rng.pick(&[1, 2, 139]));
        let missing = rng.range(0, 2) == 0;
        sim.image(&bad.image, if missing { crash.missing() } else { crash });
    } else if let (3, Some(probe)) = (how, bad.liveness.as_mut()) {
        probe.path = "/livez".into();
    } else {
        bad.limits.insert("memory".into(), "32Mi".into());
    }
    app.apply(sim, bad);
    app.broke = true;
    app.broken_until = Some(sim.now() + rng.range(3, 25) * MINUTE);
}

/// The Patroni image and how it behaves.
const SPILO_IMAGE: &str = "ghcr.io/zalando/spilo-16:3.3-p2";

/// Builds the cluster and its first hour (unrecorded), then starts the trace.
fn set_up(sim: &mut Sim<File>, rng: &mut Prng, namespaces: usize) -> (Vec<App>, Vec<Db>) {
    let teams: Vec<&str> = TEAMS.split_whitespace().collect();
    let (mut apps, mut dbs) = (Vec::new(), Vec::new());
    for i in 0..namespaces {
        let region = ["", "-eu", "-us"][i / teams.len()];
        let ns = format!("{}{region}", teams[i % teams.len()]);
        let mut names: Vec<&str> = APPS.split_whitespace().collect();
        for _ in 0..rng.range(2, 5) {
            let name = names.remove(rng.next() as usize % names.len());
            let port = rng.pick(&[80u16, 8080, 8443, 9090]);
            let mut good = ContainerConfig::new(name, "")
                .port(port)
                .request("cpu", rng.pick(&["50m", "100m", "250m"]))
                .request("memory", "64Mi")
                .limit("memory", rng.pick(&["128Mi", "256Mi", "512Mi"]))
                .readiness(ProbeConfig::http("/ready", port).period(5));
            good.liveness = (rng.range(0, 1) == 0).then(|| ProbeConfig::http("/healthz", port));
            let mut app = App {
                namespace: ns.clone(),
                name: name.into(),
                tool: rng.pick(&[Tool::KubectlApply, Tool::KubectlServerSideApply, Tool::Helm]),
                good,
                version: rng.range(0, 30) as u32,
                hpa: apps.len() % 5 == 2,
                broke: false,
                broken_until: None,
                chronic: false,
            };
            app.good.image = app.next_image();
            apps.push(app);
        }
        if i % 3 == 1 {
            dbs.push(Db {
                namespace: ns.clone(),
                name: "postgres".into(),
                replicas: rng.range(2, 3) as i32,
                xlog: rng.range(1, 1 << 20) as u64 * 8192,
            });
        }
    }
    sim.nodes((apps.len() + dbs.len()) * 4 / 25 + 3);
    let mut spilo = ImageProfile::healthy().memory(256);
    spilo.healthy_paths = vec!["/readiness".into()];
    sim.image(SPILO_IMAGE, spilo);
    let start = sim.now();
    let count = (apps.len() + dbs.len()) as i64;
    for app in &apps {
        sim.advance(rng.range(1, 2400 / count + 1));
        let mut config = DeploymentConfig::new(&app.namespace, &app.name)
            .replicas(rng.range(2, 6) as i32)
            .container(app.good.clone());
        if app.tool == Tool::Helm {
            config = config.label("app.kubernetes.io/managed-by", "Helm");
        }
        sim.apply_deployment(&config, app.tool);
        if app.hpa {
            sim.apply_hpa(&HpaConfig {
                namespace: app.namespace.clone(),
                name: app.name.clone(),
                target: app.name.clone(),
                min_replicas: config.replicas,
                max_replicas: config.replicas + 4,
                cpu_utilization: 70,
            });
        }
    }
    for db in &dbs {
        sim.advance(rng.range(1, 2400 / count + 1));
        let container = ContainerConfig::new("postgres", SPILO_IMAGE)
            .port(5432)
            .request("cpu", "500m")
            .request("memory", "1Gi")
            .limit("memory", "1Gi")
            .readiness(ProbeConfig::http("/readiness", 8008).period(10));
        let config = DeploymentConfig::new(&db.namespace, &db.name)
            .replicas(db.replicas)
            .label("application", "spilo")
            .container(container);
        sim.apply_deployment(&config, Tool::KubectlServerSideApply);
    }
    for app in apps.iter_mut().step_by(2) {
        sim.advance(rng.range(1, 20));
        app.upgrade(sim);
    }
    // About one app in twelve has a bad rollout nobody fixes.
    for app in apps.iter_mut().skip(5).step_by(12) {
        sim.advance(rng.range(1, 20));
        app.break_for_good(sim, rng);
    }
    sim.advance_to(start + 60 * MINUTE).start_trace();
    (apps, dbs)
}

/// One user action on a random Deployment.
fn act(sim: &mut Sim<File>, rng: &mut Prng, apps: &mut [App]) {
    let app = &mut apps[rng.next() as usize % apps.len()];
    let roll = rng.range(0, 99);
    if app.broken_until.take_if(|at| *at <= sim.now()).is_some() {
        if roll < 33 {
            app.upgrade(sim);
        } else {
            sim.rollout_undo(&app.namespace, &app.name);
        }
    } else if app.chronic || app.broken_until.is_some() || roll < 22 {
        let pods = sim.pod_names(&app.namespace, &app.name);
        if let Some(victim) = pods.get(rng.next() as usize % pods.len().max(1)) {
            sim.delete_pod(&app.namespace, victim);
        }
    } else if roll < 50 {
        app.upgrade(sim);
    } else if roll < 62 && !app.broke {
        break_app(app, sim, rng);
    } else if roll < 77 {
        sim.rollout_restart(&app.namespace, &app.name);
    } else if app.hpa {
        sim.set_cpu_load(&app.namespace, &app.name, rng.range(20, 200) as i32);
    } else {
        sim.scale(&app.namespace, &app.name, rng.range(2, 6) as i32);
    }
}

/// Pods and Deployments worth querying, from the simulator's ground truth: the pods that
/// crash-looped most (one whose first restart exited with an error, one killed otherwise), a
/// pod that replaced one deleted by hand, a pod of a rolled-back revision, a Deployment that
/// was rolled back and the one with the most revisions.
fn suggestions(truth: &GroundTruth) -> Vec<Suggestion> {
    let mut found = Vec::new();
    let in_trace = |p: &&PodTruth| p.created.reason != "before-trace";
    let pods = || truth.pods.iter().filter(in_trace);
    for error in [true, false] {
        let first = |p: &&PodTruth| p.restarts.first().map(|r| r.reason == "Error") == Some(error);
        if let Some(p) = pods().filter(first).max_by_key(|p| p.restarts.len()) {
            let (n, why) = (p.restarts.len(), &p.restarts[0].reason);
            found.push(Suggestion::pod(
                "crash-looping pod",
                p,
                format!("{n} restarts, {why}"),
            ));
        }
    }
    if let Some(p) = pods().find(|p| p.created.reason == "replacement") {
        let old = p.created.replaces.as_deref().unwrap_or("?");
        let note = format!("of {old}, deleted by hand");
        found.push(Suggestion::pod("replacement pod", p, note));
    }
    // A rolled-back revision: the one before a revision that reuses an older ReplicaSet.
    let (mut rolled_back, mut undone) = (BTreeSet::new(), None);
    for d in &truth.deployments {
        for (i, r) in d.revisions.iter().enumerate().skip(1) {
            let older = &d.revisions[..i - 1];
            if older.iter().any(|o| o.replicaset_uid == r.replicaset_uid) {
                rolled_back.insert(d.revisions[i - 1].replicaset_uid.as_str());
                undone.get_or_insert(d);
            }
        }
    }
    if let Some(p) = pods().find(|p| {
        p.replicaset_uid
            .as_deref()
            .is_some_and(|rs| rolled_back.contains(rs))
    }) {
        let note = format!("revision {}", p.revision);
        found.push(Suggestion::pod("rolled-back pod", p, note));
    }
    let others = truth.deployments.iter().filter(|d| Some(*d) != undone);
    let busiest = others.max_by_key(|d| d.revisions.len());
    for d in undone.into_iter().chain(busiest) {
        let (n, outcome) = (d.revisions.len(), &d.final_outcome);
        found.push(Suggestion {
            what: "deployment",
            kind: "Deployment",
            namespace: d.namespace.clone(),
            name: d.name.clone(),
            note: format!("{n} revisions, {outcome}"),
        });
    }
    found
}

/// The object records of one kind in a trace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KindMix {
    /// The kind, or `?` when a record's kind could not be read.
    pub kind: String,
    /// How many object records.
    pub records: u64,
    /// Their `object` JSON bytes.
    pub bytes: u64,
}

/// Reads a trace and counts its object records and their JSON bytes by kind, sorted by kind.
pub fn record_mix(path: &Path) -> Result<Vec<KindMix>, TraceError> {
    #[derive(serde::Deserialize)]
    struct Kind {
        kind: String,
    }
    let mut kinds: BTreeMap<String, KindMix> = BTreeMap::new();
    read_trace(&TraceSource::Path(path.to_path_buf()), |entry| {
        if let Record::Object { object, .. } = entry.record {
            let kind = serde_json::from_str::<Kind>(object.get()).map_or("?".into(), |k| k.kind);
            let tally = kinds.entry(kind).or_insert_with_key(|kind| KindMix {
                kind: kind.clone(),
                ..KindMix::default()
            });
            tally.records += 1;
            tally.bytes += object.get().len() as u64;
        }
    })?;
    Ok(kinds.into_values().collect())
}
