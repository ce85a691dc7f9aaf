//! Benches for reading, replaying and the pod query, on the largest bundled fixture.
//!
//! The floor is decompression alone (`zstd` line splitting without parsing), measured
//! in the same run, so results read as ratios: `cargo bench --bench analyze`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kblame::query::{self, pod::PodQuery};
use kblame::trace::{read_trace, TraceSource};

/// The fixture benched: the biggest one, with the pod its expectations name first.
fn bench_fixture() -> (PathBuf, String) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut traces: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    traces.retain(|p| p.to_string_lossy().ends_with(".ndjson.zst"));
    traces.sort_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0));
    let trace = traces
        .pop()
        .expect("fixtures/ holds traces: run `cargo run --example gen-fixtures`");
    let expect = trace
        .to_string_lossy()
        .replace(".ndjson.zst", ".expect.json");
    let pod = std::fs::read_to_string(expect)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|v| v["pods"][0]["name"].as_str().map(str::to_string))
        .unwrap_or_default();
    (trace, pod)
}

fn decompressed_len(trace: &Path) -> u64 {
    let file = std::fs::File::open(trace).expect("fixture opens");
    let mut reader = BufReader::new(zstd::stream::read::Decoder::new(file).expect("zstd"));
    let mut total = 0u64;
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line).expect("decompresses") > 0 {
        total += line.len() as u64;
        line.clear();
    }
    total
}

fn benches(c: &mut Criterion) {
    let (trace, pod) = bench_fixture();
    let bytes = decompressed_len(&trace);
    let source = TraceSource::Path(trace.clone());
    let mut group = c.benchmark_group("fixture");
    group.throughput(Throughput::Bytes(bytes));
    group.bench_function("floor: zstd decompress + split lines", |b| {
        b.iter(|| decompressed_len(&trace))
    });
    group.bench_function("read records", |b| {
        b.iter(|| read_trace(&source, |entry| drop(std::hint::black_box(entry))).expect("reads"))
    });
    group.bench_function("read + replay + graph", |b| {
        b.iter(|| query::load(&source).expect("loads"))
    });
    group.bench_function("analyze --pod", |b| {
        b.iter(|| {
            let mut loaded = query::load(&source).expect("loads");
            let query = PodQuery {
                name: pod.clone(),
                ..PodQuery::default()
            };
            query::pod::analyze_pod(&mut loaded, &query).expect("answers")
        })
    });
    group.finish();
}

criterion_group!(analyze, benches);
criterion_main!(analyze);
