//! Recording throughput: N watch events of realistic pods streamed from the loopback API
//! server through `kblame record` into a trace, next to the floor measured in the same run
//! (the same raw event bytes compressed with zstd level 3).
//!
//! A second case paces updates at a realistic rate (20 objects a second, so the recorder
//! flushes every second with little in each flush) and compares the trace's size with the same
//! text compressed whole by zstd level 3.
//!
//! `cargo bench --bench record` prints events/s, CPU seconds and bytes per event; under
//! `cargo test` it runs a small smoke pass (no timing is asserted).

#[allow(dead_code)]
#[path = "../tests/it/apiserver/mod.rs"]
mod apiserver;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use apiserver::ApiServer;
use serde_json::{json, Value};

/// A pod as a kubelet reports it: ~5 KB with managedFields and container statuses.
fn realistic_pod() -> Value {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/seed-demo.ndjson.zst");
    let text =
        zstd::stream::decode_all(std::fs::File::open(fixture).expect("the seed-demo fixture"))
            .expect("zstd");
    let text = String::from_utf8(text).expect("UTF-8");
    text.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .map(|record| record["object"].clone())
        .filter(|object| object["kind"] == "Pod")
        .max_by_key(|object| object.to_string().len())
        .expect("a pod in the fixture")
}

/// How many distinct pods the events rotate over.
const PODS: u64 = 200;

/// One recording of a burst of `events` updates, measured.
struct Run {
    events: u64,
    wall: Duration,
    cpu: Option<f64>,
    trace_bytes: u64,
    raw_bytes: u64,
}

/// A small deterministic generator for the values that differ between events.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 11
    }

    fn hex(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| format!("{:x}", self.next() % 16))
            .collect()
    }
}

/// Changes what a kubelet changes between two status updates: ids, IPs, times, counters.
fn vary(pod: &mut Value, rng: &mut Lcg, n: u64) {
    let status = &mut pod["status"];
    status["podIP"] = json!(format!("10.244.{}.{}", rng.next() % 8, rng.next() % 250));
    status["startTime"] = json!(format!(
        "2026-11-26T16:{:02}:{:02}Z",
        rng.next() % 60,
        rng.next() % 60
    ));
    if let Some(containers) = status["containerStatuses"].as_array_mut() {
        for container in containers {
            container["containerID"] = json!(format!("containerd://{}", rng.hex(64)));
            container["restartCount"] = json!(n % 7);
            container["lastState"] = json!({"terminated": {"exitCode": 1, "reason": "Error",
                "startedAt": format!("2026-11-26T16:{:02}:{:02}Z", rng.next() % 60, rng.next() % 60),
                "finishedAt": format!("2026-11-26T16:{:02}:{:02}Z", rng.next() % 60, rng.next() % 60),
                "containerID": format!("containerd://{}", rng.hex(64))}});
        }
    }
}

/// Starts `kblame record` of the server's pods into `trace` and waits until it watches them.
fn start_recorder(server: &ApiServer, dir: &Path, trace: &Path) -> std::process::Child {
    let kubeconfig = dir.join("kubeconfig");
    server.write_kubeconfig(&kubeconfig);
    let child = Command::new(env!("CARGO_BIN_EXE_kblame"))
        .args(["record", "-o", &trace.display().to_string()])
        .args(["--kubeconfig", &kubeconfig.display().to_string()])
        .args(["-n", "shop", "--resources", "pods", "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("kblame record starts");
    assert!(
        server.wait_for_watchers("v1/pods", 1, Duration::from_secs(20)),
        "the recorder watches pods"
    );
    child
}

/// Starts the recorder, holds its watch, queues `events` updates, releases the watch and
/// measures until the server has sent them all; then stops the recorder with SIGTERM.
fn record(server: &ApiServer, dir: &Path, events: u64) -> Run {
    let trace = dir.join(format!("bench-{events}.ndjson.zst"));
    let mut child = start_recorder(server, dir, &trace);
    server.pause_watches();
    server.close_watches();
    let mut rng = Lcg(events);
    let mut raw_bytes = 0u64;
    for n in 0..events {
        let name = format!("bench-{}", n % PODS);
        let object = server.update("v1/pods", "shop", &name, |pod| vary(pod, &mut rng, n));
        raw_bytes += json!({"type": "MODIFIED", "object": object})
            .to_string()
            .len() as u64
            + 1;
    }
    let cpu_before = cpu_seconds(child.id());
    let sent_before = server.lines_sent();
    let started = Instant::now();
    server.resume_watches();
    while server.lines_sent() < sent_before + events {
        std::thread::sleep(Duration::from_millis(1));
    }
    let wall = started.elapsed();
    let cpu = idle_cpu_seconds(child.id())
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().expect("the recorder exits");
    assert!(status.success(), "the recorder failed");
    Run {
        events,
        wall,
        cpu,
        trace_bytes: std::fs::metadata(&trace).map(|m| m.len()).unwrap_or(0),
        raw_bytes,
    }
}

/// What a paced recording wrote.
struct Paced {
    events: u64,
    seconds: f64,
    cpu: Option<f64>,
    trace_bytes: u64,
    text_bytes: u64,
    whole_stream_bytes: u64,
}

/// Records `events` updates sent at `rate` a second while the recorder runs with its default
/// flush interval (1 s), then compares the trace with its text compressed whole (zstd -3).
fn record_paced(server: &ApiServer, dir: &Path, events: u64, rate: u64) -> Paced {
    let trace = dir.join(format!("paced-{events}.ndjson.zst"));
    let mut child = start_recorder(server, dir, &trace);
    let mut rng = Lcg(events + 1);
    let cpu_before = cpu_seconds(child.id());
    let started = Instant::now();
    let interval = Duration::from_secs(1) / rate as u32;
    for n in 0..events {
        let due = interval * n as u32;
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
        let name = format!("bench-{}", n % PODS);
        server.update("v1/pods", "shop", &name, |pod| vary(pod, &mut rng, n));
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu = idle_cpu_seconds(child.id())
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().expect("the recorder exits");
    assert!(status.success(), "the recorder failed");
    let bytes = std::fs::read(&trace).expect("the trace");
    let text = zstd::stream::decode_all(&bytes[..]).expect("the trace decodes");
    let whole = zstd::bulk::compress(&text, 3).expect("zstd");
    Paced {
        events,
        seconds,
        cpu,
        trace_bytes: bytes.len() as u64,
        text_bytes: text.len() as u64,
        whole_stream_bytes: whole.len() as u64,
    }
}

/// The CPU seconds of a process once it has gone idle (the writer has caught up: its CPU time
/// stays the same for half a second), or after 10 s.
fn idle_cpu_seconds(pid: u32) -> Option<f64> {
    let mut last = cpu_seconds(pid)?;
    let mut same = 0;
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(100));
        let now = cpu_seconds(pid)?;
        same = if now == last { same + 1 } else { 0 };
        last = now;
        if same >= 5 {
            break;
        }
    }
    Some(last)
}

/// User + system CPU seconds of a process, from /proc (Linux; USER_HZ is 100).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// The floor: the same raw watch lines compressed with zstd level 3, in memory.
fn floor(events: u64) -> (Duration, u64, u64) {
    let mut rng = Lcg(events);
    let template = realistic_pod();
    let mut raw = Vec::new();
    for n in 0..events {
        let mut pod = template.clone();
        pod["metadata"]["name"] = json!(format!("bench-{}", n % PODS));
        vary(&mut pod, &mut rng, n);
        raw.extend_from_slice(
            json!({"type": "MODIFIED", "object": pod})
                .to_string()
                .as_bytes(),
        );
        raw.push(b'\n');
    }
    let started = Instant::now();
    let compressed = zstd::bulk::compress(&raw, 3).expect("zstd");
    (started.elapsed(), raw.len() as u64, compressed.len() as u64)
}

fn main() {
    let full = std::env::args().any(|arg| arg == "--bench");
    let events: u64 = if full { 50_000 } else { 300 };
    let dir = tempfile::tempdir().expect("a temp dir");
    let server = ApiServer::start();
    let template = realistic_pod();
    for n in 0..PODS {
        let mut pod = template.clone();
        pod["metadata"] = json!({"name": format!("bench-{n}"), "namespace": "shop",
            "labels": template["metadata"]["labels"].clone(),
            "ownerReferences": template["metadata"]["ownerReferences"].clone(),
            "managedFields": template["metadata"]["managedFields"].clone()});
        server.create("v1/pods", pod);
    }
    let run = record(&server, dir.path(), events);
    let (floor_time, floor_raw, floor_compressed) = floor(events);
    report(&run, floor_time, floor_raw, floor_compressed);
    let (paced_events, rate) = if full { (1200, 20) } else { (40, 20) };
    report_paced(&record_paced(&server, dir.path(), paced_events, rate));
}

fn report_paced(paced: &Paced) {
    let n = paced.events as f64;
    println!(
        "paced:  {} events at {:.0}/s over {:.1} s, flushed every second",
        paced.events,
        n / paced.seconds,
        paced.seconds
    );
    if let Some(cpu) = paced.cpu {
        println!(
            "paced   CPU: {cpu:.2} s ({:.0} events per CPU second)",
            n / cpu.max(1e-9)
        );
    }
    println!(
        "paced   trace: {} bytes = {:.2}% of its {} bytes of text; zstd -3 of the whole text: \
         {} bytes ({:.2}%); the trace is {:.2}x that",
        paced.trace_bytes,
        100.0 * paced.trace_bytes as f64 / paced.text_bytes as f64,
        paced.text_bytes,
        paced.whole_stream_bytes,
        100.0 * paced.whole_stream_bytes as f64 / paced.text_bytes as f64,
        paced.trace_bytes as f64 / paced.whole_stream_bytes.max(1) as f64
    );
}

fn report(run: &Run, floor_time: Duration, floor_raw: u64, floor_compressed: u64) {
    let n = run.events as f64;
    let raw_per_event = run.raw_bytes as f64 / n;
    let floor_rate = n / floor_time.as_secs_f64().max(1e-9);
    println!(
        "events: {} watch lines of {raw_per_event:.0} bytes (realistic pods, {PODS} rotating)",
        run.events
    );
    println!(
        "floor   zstd -3 of the same lines: {floor_rate:>9.0} events/s, {:.1}% of raw",
        100.0 * floor_compressed as f64 / floor_raw as f64
    );
    println!(
        "record  wall (server -> trace):    {:>9.0} events/s ({:.2} s)",
        n / run.wall.as_secs_f64(),
        run.wall.as_secs_f64()
    );
    if let Some(cpu) = run.cpu {
        println!("record  CPU:                       {:>9.0} events per CPU second ({cpu:.2} s, {:.1}x the floor's)", n / cpu.max(1e-9), cpu / floor_time.as_secs_f64());
    }
    let per_event = run.trace_bytes as f64 / n;
    println!(
        "trace:  {per_event:.0} bytes per event = {:.1}% of the raw JSON",
        100.0 * per_event / raw_per_event
    );
}
