//! Writes a large kblame trace with the simulator (`--records N --seed S -o FILE`, same bytes for
//! the same arguments): N/20000+3 namespaces (≤ 50) of 2–5 Deployments with rollouts by kubectl
//! apply, server-side apply or helm, bad rollouts later undone or rolled forward, restarts,
//! scaling and pods deleted by hand, drawn from a seeded PRNG; prints the record mix and pods and
//! Deployments worth querying.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use kblame::sim::{
    utc, ContainerConfig, DeploymentConfig, GroundTruth, HpaConfig, ImageProfile, Ms, PodTruth,
    ProbeConfig, Sim, Tool, MINUTE, SECOND,
};
use kblame::trace::{read_trace, Record, TraceSource, WriterOptions};

/// Writes a large simulated kblame trace.
#[derive(Parser)]
struct Args {
    /// Stop once this many records are written (then END).
    #[arg(long, default_value_t = 100_000)]
    records: u64,
    /// The PRNG seed (cluster layout and everything that happens).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The trace file to write (zstd-framed NDJSON).
    #[arg(short, long)]
    output: PathBuf,
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

/// Builds the cluster and its first hour (unrecorded), then starts the trace.
fn set_up(sim: &mut Sim<File>, rng: &mut Prng, records: u64) -> Vec<App> {
    let namespaces = (records / 20_000 + 3).min(50) as usize;
    let teams: Vec<&str> = TEAMS.split_whitespace().collect();
    let mut apps = Vec::new();
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
                hpa: rng.range(0, 5) == 0,
                broke: false,
                broken_until: None,
            };
            app.good.image = app.next_image();
            apps.push(app);
        }
    }
    eprintln!("{namespaces} namespaces, {} deployments", apps.len());
    sim.nodes(apps.len() * 4 / 25 + 3);
    let start = sim.now();
    for app in &apps {
        sim.advance(rng.range(1, 2400 / apps.len() as i64 + 1));
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
    for app in apps.iter_mut().step_by(2) {
        sim.advance(rng.range(1, 20));
        app.upgrade(sim);
    }
    sim.advance_to(start + 60 * MINUTE).start_trace();
    apps
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
    } else if app.broken_until.is_some() || roll < 22 {
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

fn main() -> anyhow::Result<()> {
    let (args, began) = (Args::parse(), Instant::now());
    let file = File::create(&args.output)
        .with_context(|| format!("creating {}", args.output.display()))?;
    let mut rng = Prng(args.seed ^ 0x6b62_6c61_6d65);
    let start = utc(2026, 11, 26, 6, 0, 0);
    let mut sim = Sim::with_output(file, WriterOptions::default(), args.seed, start);
    let mut apps = set_up(&mut sim, &mut rng, args.records);
    let gap = (20 * MINUTE / apps.len() as i64).max(SECOND); // each app every ~20 minutes
    let (mut next_action, mut next_report) = (sim.now(), 1);
    while sim.records() < args.records {
        if sim.now() >= next_action {
            act(&mut sim, &mut rng, &mut apps);
            next_action = sim.now() + rng.range(gap / 2, gap * 3 / 2);
        }
        sim.advance_to(next_action.min(sim.now() + 5 * SECOND));
        if sim.records() * 10 >= args.records * next_report && next_report < 10 {
            let (pct, secs) = (next_report * 10, began.elapsed().as_secs_f64());
            eprintln!("{pct:>3}% {} records, {secs:.1}s", sim.records());
            next_report += 1;
        }
    }
    let written = sim.records() + 1;
    let (_, truth) = sim.finish("gen-trace", "a large simulated cluster")?;
    let bytes = std::fs::metadata(&args.output)?.len();
    let secs = began.elapsed().as_secs_f64();
    let rate = written as f64 / secs;
    eprintln!("wrote {written} records, {bytes} bytes in {secs:.2}s ({rate:.0} records/s)");
    if args.records <= 200_000 {
        print_mix(&args.output)?;
    }
    print_suggestions(&truth);
    Ok(())
}

/// Reads the trace back and prints each kind's share of the object records and of their bytes.
fn print_mix(path: &std::path::Path) -> anyhow::Result<()> {
    #[derive(serde::Deserialize)]
    struct Kind {
        kind: String,
    }
    let mut kinds: BTreeMap<String, (u64, usize)> = BTreeMap::new();
    read_trace(&TraceSource::Path(path.to_path_buf()), |entry| {
        if let Record::Object { object, .. } = entry.record {
            let kind = serde_json::from_str::<Kind>(object.get()).map_or("?".into(), |k| k.kind);
            let tally = kinds.entry(kind).or_default();
            *tally = (tally.0 + 1, tally.1 + object.get().len());
        }
    })?;
    let (count, bytes) = kinds.values().fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    eprintln!("mix of {count} object records (share of records, of JSON bytes, average size):");
    for (kind, (n, b)) in &kinds {
        let (records, share) = (*n as f64 / count as f64, *b as f64 / bytes as f64);
        let (records, share, average) = (records * 100.0, share * 100.0, *b as u64 / n);
        eprintln!("  {kind:<24} {n:>8}  {records:5.1}%  {share:5.1}%  {average:>5} B");
    }
    Ok(())
}

/// Prints pods and Deployments worth querying, from the simulator's ground truth.
fn print_suggestions(truth: &GroundTruth) {
    let in_trace = |p: &&PodTruth| p.created.reason != "before-trace";
    let pods = || truth.pods.iter().filter(in_trace);
    let show = |what: &str, p: &PodTruth, note: String| {
        eprintln!("{what:<20} {}/{}  ({note})", p.namespace, p.name);
    };
    for error in [true, false] {
        let first = |p: &&PodTruth| p.restarts.first().map(|r| r.reason == "Error") == Some(error);
        if let Some(p) = pods().filter(first).max_by_key(|p| p.restarts.len()) {
            let (n, why) = (p.restarts.len(), &p.restarts[0].reason);
            show("crash-looping pod:", p, format!("{n} restarts, {why}"));
        }
    }
    if let Some(p) = pods().find(|p| p.created.reason == "replacement") {
        let old = p.created.replaces.as_deref().unwrap_or("?");
        show("replacement pod:", p, format!("of {old}, deleted by hand"));
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
    if let Some(p) = pods().find(|p| rolled_back.contains(p.replicaset_uid.as_str())) {
        show("rolled-back pod:", p, format!("revision {}", p.revision));
    }
    let others = truth.deployments.iter().filter(|d| Some(*d) != undone);
    let busiest = others.max_by_key(|d| d.revisions.len());
    for d in undone.into_iter().chain(busiest) {
        let (n, outcome, name, ns) = (d.revisions.len(), &d.final_outcome, &d.name, &d.namespace);
        eprintln!("deployment:          deployment/{name} -n {ns}  ({n} revisions, {outcome})");
    }
}
