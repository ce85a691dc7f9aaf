//! Benches at scale, on traces of 10,000 and 100,000 records written by the cluster generator
//! (`kblame_sim::cluster`, seed 1) into `target/bench-traces/` and reused from there.
//!
//! Each size is a group whose throughput is the decompressed trace size, and whose first row is
//! the floor, zstd decoding alone, so results read as ratios: `cargo bench --bench scale`.
//! Questions are asked about the generator's suggestions (a crash-looping pod and a
//! Deployment), opened as the CLI opens them: "cold" reads the trace without a saved index
//! (scan, then replay what the question needs), as a first question does; "repeat" loads the
//! index saved beside the trace, as every later question does. `analyze --pod` and `check` are
//! benched cold (and the pod also repeat); the Deployment's questions repeat, so that they show
//! what each question costs beyond the scan that `index build` measures.
//!
//! Without `--bench` (as `cargo test --all-targets` runs it) only the 10,000-record size runs,
//! each benchmark once.

use std::fs::File;
use std::hint::black_box;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use kblame::index::{build::build, store};
use kblame::query::blame::BlameQuery;
use kblame::query::diff::DiffQuery;
use kblame::query::pod::PodQuery;
use kblame::query::rollout::RolloutQuery;
use kblame::query::select::ObjectQuery;
use kblame::query::timeline::TimelineQuery;
use kblame::query::tree::TreeQuery;
use kblame::query::{self, IndexMode, Loaded, Scope};
use kblame::trace::{read_trace, TraceSource};
use kblame_sim::cluster::{self, GeneratedTrace};
use serde_json::{json, Value};

/// The generator's seed for every size.
const SEED: u64 = 1;

/// A benched trace and what is asked about it.
struct BenchTrace {
    path: PathBuf,
    /// Bytes of NDJSON once decompressed.
    bytes: u64,
    /// The pod asked about: namespace and name.
    pod: (String, String),
    /// The Deployment asked about: namespace and name.
    deployment: (String, String),
    /// The revisions `diff` compares.
    diff: (String, String),
}

/// Where generated traces are kept between runs.
fn trace_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("bench-traces")
}

/// The trace of `records` records: reused from `target/bench-traces/` when it is there,
/// generated (deterministically) otherwise.
fn bench_trace(records: u64) -> BenchTrace {
    let dir = trace_dir();
    std::fs::create_dir_all(&dir).expect("creates target/bench-traces");
    let stem = format!("cluster-v{}-{records}-seed{SEED}", cluster::VERSION);
    let path = dir.join(format!("{stem}.ndjson.zst"));
    let about = dir.join(format!("{stem}.json"));
    let known = std::fs::read(&about)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
    let known = match known {
        Some(known) if path.exists() => known,
        _ => generate(records, &path, &about),
    };
    let pair = |key: &str| {
        let text = |i: usize| known[key][i].as_str().unwrap_or_default().to_string();
        (text(0), text(1))
    };
    BenchTrace {
        bytes: decompress(&path),
        pod: pair("pod"),
        deployment: pair("deployment"),
        diff: pair("diff"),
        path,
    }
}

/// Writes the trace (under a temporary name until it is whole) and what to ask about it.
fn generate(records: u64, path: &Path, about: &Path) -> Value {
    let began = Instant::now();
    let partial = path.with_extension("part");
    let trace = cluster::generate(records, SEED, &partial, |_| {}).expect("generates the trace");
    let known = questions(&trace);
    std::fs::write(about, known.to_string()).expect("writes the trace's description");
    std::fs::rename(&partial, path).expect("renames the trace");
    let secs = began.elapsed().as_secs_f64();
    eprintln!(
        "generated {} ({} bytes) in {secs:.1}s",
        path.display(),
        trace.bytes
    );
    known
}

/// The pod and Deployment to ask about (the generator's first suggestions of each), and the
/// Deployment's last two revisions for `diff`.
fn questions(trace: &GeneratedTrace) -> Value {
    let truth = &trace.truth;
    let pod = match trace.suggested("Pod").next() {
        Some(s) => (s.namespace.clone(), s.name.clone()),
        None => {
            let busiest = truth.pods.iter().max_by_key(|p| p.restarts.len());
            let p = busiest.expect("the trace has pods");
            (p.namespace.clone(), p.name.clone())
        }
    };
    let deployment = match trace.suggested("Deployment").next() {
        Some(s) => (s.namespace.clone(), s.name.clone()),
        None => {
            let busiest = truth.deployments.iter().max_by_key(|d| d.revisions.len());
            let d = busiest.expect("the trace has Deployments");
            (d.namespace.clone(), d.name.clone())
        }
    };
    let revisions: Vec<i64> = truth
        .deployments
        .iter()
        .filter(|d| (&d.namespace, &d.name) == (&deployment.0, &deployment.1))
        .flat_map(|d| d.revisions.iter().map(|r| r.number))
        .collect();
    let last = revisions.last().copied().unwrap_or(1);
    let before = revisions
        .len()
        .checked_sub(2)
        .map_or(last, |i| revisions[i]);
    json!({
        "pod": [pod.0, pod.1],
        "deployment": [deployment.0, deployment.1],
        "diff": [before.to_string(), last.to_string()],
    })
}

/// The floor: the whole trace through the zstd stream decoder, output discarded. Returns the
/// decompressed size.
fn decompress(path: &Path) -> u64 {
    let file = File::open(path).expect("the trace opens");
    let mut decoder = zstd::stream::read::Decoder::new(file).expect("zstd");
    io::copy(&mut decoder, &mut io::sink()).expect("decompresses")
}

/// Opens the trace as the CLI does and loads what `scope` needs.
fn open_and_load(source: &TraceSource, mode: IndexMode, scope: &Scope) -> Loaded {
    let opened = query::open(source, mode, |_| {}).expect("opens");
    opened.load(scope).expect("loads")
}

/// The Deployment as `KIND/NAME -n NAMESPACE` names it, loaded with its scope.
fn load_deployment(
    source: &TraceSource,
    mode: IndexMode,
    d: &(String, String),
) -> (Loaded, ObjectQuery) {
    let opened = query::open(source, mode, |_| {}).expect("opens");
    let spec = format!("deployment/{}", d.1);
    let mut object = ObjectQuery::parse_with_kinds(&spec, &opened.kinds()).expect("parses");
    object.namespace = Some(d.0.clone());
    let loaded = opened.load(&Scope::Around(object.clone())).expect("loads");
    (loaded, object)
}

fn analyze_pod(source: &TraceSource, mode: IndexMode, pod: &(String, String)) {
    let object = ObjectQuery {
        kind: "Pod".to_string(),
        name: pod.1.clone(),
        namespace: Some(pod.0.clone()),
        uid: None,
        group: None,
    };
    let mut loaded = open_and_load(source, mode, &Scope::Around(object));
    let query = PodQuery {
        name: pod.1.clone(),
        namespace: Some(pod.0.clone()),
        uid: None,
    };
    black_box(query::pod::analyze_pod(&mut loaded, &query).expect("answers"));
}

fn bench_size(c: &mut Criterion, records: u64) {
    let trace = bench_trace(records);
    let path = trace.path.clone();
    let source = TraceSource::Path(path.clone());
    let name = source.display_name();
    // The index `--index always` saves (once), for the index load and the repeat questions.
    let stamp = store::TraceStamp::of(&path).expect("stats the trace");
    if store::load(&path, &stamp).is_err() {
        let index = build(&path, &name, &mut |_, _| {}).expect("indexes");
        store::save(&path, &stamp, &index).expect("saves the index");
    }
    let (never, repeat) = (IndexMode::Never, IndexMode::Always);

    let mut group = c.benchmark_group(format!("{}k records", records / 1000));
    group.throughput(Throughput::Bytes(trace.bytes));
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    if records > 10_000 {
        group.measurement_time(Duration::from_secs(20));
    }
    group.bench_function("floor: zstd decode", |b| b.iter(|| decompress(&path)));
    group.bench_function("read_trace", |b| {
        b.iter(|| read_trace(&source, |entry| drop(black_box(entry))).expect("reads"))
    });
    group.bench_function("index build", |b| {
        b.iter(|| build(&path, &name, &mut |_, _| {}).expect("indexes"))
    });
    group.bench_function("index load", |b| {
        b.iter(|| store::load(&path, &stamp).expect("loads the saved index"))
    });
    group.bench_function("replay everything", |b| {
        b.iter(|| open_and_load(&source, never, &Scope::Everything))
    });
    group.bench_function("analyze --pod (cold)", |b| {
        b.iter(|| analyze_pod(&source, never, &trace.pod))
    });
    group.bench_function("analyze --pod (repeat)", |b| {
        b.iter(|| analyze_pod(&source, repeat, &trace.pod))
    });
    group.bench_function("analyze --object deployment (repeat)", |b| {
        b.iter(|| {
            let (mut loaded, object) = load_deployment(&source, repeat, &trace.deployment);
            let query = RolloutQuery { object, at: None };
            query::rollout::rollout(&mut loaded, &query).expect("answers")
        })
    });
    group.bench_function("blame (repeat)", |b| {
        b.iter(|| {
            let (mut loaded, object) = load_deployment(&source, repeat, &trace.deployment);
            let query = BlameQuery {
                object,
                at: None,
                history: None,
            };
            query::blame::blame(&mut loaded, &query).expect("answers")
        })
    });
    group.bench_function("tree (repeat)", |b| {
        b.iter(|| {
            let (mut loaded, object) = load_deployment(&source, repeat, &trace.deployment);
            let query = TreeQuery {
                object,
                at: None,
                deleted: false,
            };
            query::tree::tree(&mut loaded, &query).expect("answers")
        })
    });
    group.bench_function("diff (repeat)", |b| {
        b.iter(|| {
            let (mut loaded, object) = load_deployment(&source, repeat, &trace.deployment);
            let (from, to) = trace.diff.clone();
            let query = DiffQuery { object, from, to };
            query::diff::diff(&mut loaded, &query).expect("answers")
        })
    });
    group.bench_function("timeline --object (repeat)", |b| {
        b.iter(|| {
            let (mut loaded, object) = load_deployment(&source, repeat, &trace.deployment);
            let query = TimelineQuery {
                namespace: object.namespace.clone(),
                object: Some(object),
                since: None,
                until: None,
            };
            query::timeline::timeline(&mut loaded, &query).expect("answers")
        })
    });
    group.bench_function("check (cold)", |b| {
        b.iter(|| query::check::check(&open_and_load(&source, never, &Scope::Nothing)))
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    // `cargo bench` passes --bench; `cargo test` runs bench targets without it, once each.
    let smoke = !std::env::args().any(|arg| arg == "--bench");
    let sizes: &[u64] = if smoke { &[10_000] } else { &[10_000, 100_000] };
    for &records in sizes {
        bench_size(c, records);
    }
}

criterion_group!(scale, benches);
criterion_main!(scale);
