//! Hostile traces never break kblame (issue 9): structure-aware mutants of the fixture traces run
//! through every command, in-process and through the binary, with fixed seeds and a fixed budget;
//! every input that ever failed is replayed from `fixtures/fuzz/`.
//!
//! A failure is a panic, a hang (no answer within the case's time limit), an exit code other than
//! 0, 1 or 2, or a non-zero exit without a message. Long campaigns: `scripts/fuzz.sh`.

pub mod encode;
mod minimize;
mod mutate;
mod rng;
pub mod run;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use encode::Sizes;
use mutate::{parse_lines, Line, Names};
use rng::Rng;
use run::{run_binary, run_in_process, Failure, Workdir};

use super::support::{fixture, SIMULATED as FIXTURES};

/// Every fixture's lines, read once.
fn corpus() -> &'static [(String, Vec<Line>)] {
    static CORPUS: OnceLock<Vec<(String, Vec<Line>)>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        FIXTURES
            .iter()
            .map(|name| {
                let bytes =
                    std::fs::read(fixture(&format!("{name}.ndjson.zst"))).expect("a fixture");
                let text = zstd::decode_all(&bytes[..]).expect("fixtures decompress");
                (name.to_string(), parse_lines(&text))
            })
            .collect()
    })
}

/// How big mutants get.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// The most records taken from a fixture (a random window of it, with its header).
    pub max_records: usize,
    /// The most mutations applied.
    pub max_steps: usize,
    /// Zip bomb sizes.
    pub sizes: Sizes,
    /// Whether floods of records may be large (see `mutate::Names::big`).
    pub big: bool,
}

/// Small mutants for `cargo test`: debug builds are slow.
const TEST_BUDGET: Budget = Budget {
    max_records: 12,
    max_steps: 4,
    sizes: Sizes { max_bomb: 2 << 20 },
    big: false,
};

/// The mutant for `seed`: its file's bytes, whether it is zstd, and the fixture it came from.
pub fn mutant(seed: u64, budget: Budget) -> (Vec<u8>, bool, &'static str) {
    let mut rng = Rng::new(seed);
    let (name, lines) = rng.pick(corpus());
    let mut lines = window(&mut rng, lines, budget.max_records);
    let mut names = Names::of(&lines);
    names.big = budget.big;
    mutate::mutate(&mut rng, &mut lines, &names, budget.max_steps);
    let text = encode::ndjson(&mut rng, &lines);
    let bytes = encode::file(&mut rng, &text, budget.sizes);
    let zstd = bytes.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]);
    (bytes, zstd, name)
}

/// The header and a run of at most `max` records (all of them, sometimes).
fn window(rng: &mut Rng, lines: &[Line], max: usize) -> Vec<Line> {
    if lines.len() <= max + 1 || rng.chance(10) {
        return lines.to_vec();
    }
    let start = rng.range(1, (lines.len() - max) as i64) as usize;
    let start = if rng.chance(30) { 1 } else { start };
    let mut out = vec![lines[0].clone()];
    out.extend_from_slice(&lines[start..start + max]);
    if rng.chance(50) {
        out.push(lines[lines.len() - 1].clone());
    }
    out
}

/// Figures of a run.
#[derive(Debug, Default)]
pub struct Figures {
    /// Mutants run.
    pub mutants: u64,
    /// Commands run on them.
    pub commands: u64,
    /// Failures: the seed, what happened, where the minimized input was saved.
    pub failures: Vec<(u64, Failure, PathBuf)>,
}

/// Where failing inputs are saved.
fn failures_dir() -> PathBuf {
    std::env::var_os("KBLAME_FUZZ_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures"))
}

/// Runs the in-process harness on seeds `seeds` until `until` (if given); minimizes and saves each
/// failing input.
pub fn campaign(
    seeds: impl Iterator<Item = u64>,
    budget: Budget,
    limit: Duration,
    until: Option<Instant>,
    minimize_for: Duration,
    compare: bool,
) -> Figures {
    let mut figures = Figures::default();
    let mut workdir = Workdir::new();
    // For scripts/fuzz.sh: the mutant being run, in case it takes the process down.
    let current = std::env::var_os("KBLAME_FUZZ_CURRENT").map(PathBuf::from);
    for seed in seeds {
        if until.is_some_and(|t| Instant::now() > t) {
            break;
        }
        let (bytes, zstd, _) = mutant(seed, budget);
        if let Some(current) = &current {
            let _ = std::fs::write(current.with_extension("bin"), &bytes);
            let _ = std::fs::write(current.with_extension("seed"), seed.to_string());
        }
        let path = workdir.write(&bytes, zstd);
        let report = run_in_process(&path, seed, limit, compare);
        figures.mutants += 1;
        figures.commands += report.runs;
        if let Some(failure) = report.failure {
            let hang = failure.what.contains("a hang");
            let saved = save_failure(seed, &path, &failure, limit, minimize_for);
            figures.failures.push((seed, failure, saved));
            if hang {
                // The hung thread cannot be stopped; stop here rather than fuzz beside it.
                break;
            }
        }
        workdir.remove(&path);
    }
    figures
}

fn save_failure(
    seed: u64,
    trace: &Path,
    failure: &Failure,
    limit: Duration,
    budget: Duration,
) -> PathBuf {
    let dir = failures_dir();
    std::fs::create_dir_all(&dir).expect("a failures directory");
    let original = dir.join(format!("seed-{seed}.orig"));
    let _ = std::fs::copy(trace, &original);
    let (bytes, zstd) = match failure.what.contains("a hang") {
        true => {
            let bytes = std::fs::read(trace).unwrap_or_default();
            let zstd = bytes.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]);
            (bytes, zstd)
        }
        false => minimize::minimize(trace, failure, limit, budget),
    };
    let ext = if zstd { "ndjson.zst" } else { "ndjson" };
    let path = dir.join(format!("seed-{seed}.{ext}"));
    std::fs::write(&path, &bytes).expect("a failing input saved");
    let _ = std::fs::write(dir.join(format!("seed-{seed}.txt")), format!("{failure}\n"));
    path
}

fn assert_no_failures(figures: &Figures) {
    let report: Vec<String> = figures
        .failures
        .iter()
        .map(|(seed, failure, saved)| {
            format!("seed {seed}: {failure}\n  input: {}", saved.display())
        })
        .collect();
    assert!(
        report.is_empty(),
        "{} of {} mutants failed:\n{}",
        report.len(),
        figures.mutants,
        report.join("\n")
    );
}

/// A case's time limit in `cargo test` (debug build, shared machine): generous, since a hang never
/// ends and a slow case only costs time.
const TEST_LIMIT: Duration = Duration::from_secs(60);

fn in_process_share(first_seed: u64, mutants: u64, compare: bool) {
    let figures = campaign(
        first_seed..first_seed + mutants,
        TEST_BUDGET,
        TEST_LIMIT,
        None,
        Duration::from_secs(30),
        compare,
    );
    eprintln!(
        "fuzz seeds {first_seed}..{}: {} mutants, {} commands",
        first_seed + mutants,
        figures.mutants,
        figures.commands
    );
    assert_no_failures(&figures);
}

/// Mutants per in-process test (four tests, so they share the cores with the rest of the suite).
const MUTANTS_PER_TEST: u64 = 600;

#[test]
fn fuzzed_traces_never_panic_or_hang_in_process_seeds_0() {
    in_process_share(0, MUTANTS_PER_TEST, false);
}

#[test]
fn fuzzed_traces_never_panic_or_hang_in_process_seeds_1() {
    in_process_share(1_000_000, MUTANTS_PER_TEST, false);
}

#[test]
fn fuzzed_traces_never_panic_or_hang_in_process_seeds_2() {
    in_process_share(2_000_000, MUTANTS_PER_TEST, false);
}

/// These also compare each answer through the index with a whole read's.
#[test]
fn fuzzed_traces_never_panic_or_hang_and_answer_alike_through_the_index_seeds_3() {
    in_process_share(3_000_000, MUTANTS_PER_TEST / 2, true);
}

#[test]
fn fuzzed_traces_through_the_binary_exit_0_1_or_2_and_say_why() {
    let mut workdir = Workdir::new();
    let mut failures = Vec::new();
    let mut runs = 0;
    for seed in 7_000_000..7_000_000 + 150 {
        let (bytes, zstd, _) = mutant(seed, TEST_BUDGET);
        let path = workdir.write(&bytes, zstd);
        let mut rng = Rng::new(seed);
        let loaded = kblame::query::load(&kblame::trace::TraceSource::Path(path.clone())).ok();
        let commands = run::plan(&mut rng, loaded.as_ref());
        for command in [rng.pick(&commands).clone(), rng.pick(&commands).clone()] {
            runs += 1;
            let stdin = rng.chance(20);
            if let Some(failure) = run_binary(&command, &path, TEST_LIMIT, stdin) {
                let saved = failures_dir().join(format!("binary-seed-{seed}.bin"));
                let _ = std::fs::create_dir_all(failures_dir());
                let _ = std::fs::copy(&path, &saved);
                failures.push(format!(
                    "seed {seed}: {failure}\n  input: {}",
                    saved.display()
                ));
            }
        }
        workdir.remove(&path);
    }
    eprintln!("fuzz through the binary: {runs} runs");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every input that ever failed, in `fixtures/fuzz/`, each with the command lines that failed on
/// it in `NAME.commands` (`TRACE` stands for the trace).
fn regression_fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fuzz");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    found.retain(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        name.ends_with(".ndjson") || name.ends_with(".ndjson.zst")
    });
    found.sort();
    found
}

#[test]
fn every_input_that_ever_failed_replays_through_every_command() {
    let fixtures = regression_fixtures();
    let mut failures = Vec::new();
    let mut workdir = Workdir::new();
    for path in &fixtures {
        let bytes = std::fs::read(path).expect("a regression fixture");
        let zstd = bytes.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]);
        // A copy, so that saved indexes stay out of the source tree; several seeds, so that
        // every reading and more objects get their turn.
        let copy = workdir.write(&bytes, zstd);
        for seed in 0..4 {
            if let Some(failure) = run_in_process(&copy, seed, TEST_LIMIT, true).failure {
                failures.push(format!("{}: {failure}", path.display()));
                break;
            }
        }
        let name = path.to_string_lossy();
        let stem = name.trim_end_matches(".zst").trim_end_matches(".ndjson");
        let listed = std::fs::read_to_string(format!("{stem}.commands")).unwrap_or_default();
        assert!(
            !listed.trim().is_empty(),
            "{stem}.commands lists no command"
        );
        for line in listed.lines().filter(|l| !l.trim().is_empty()) {
            let args: Vec<String> = line
                .split_whitespace()
                .map(|arg| arg.replace("TRACE", &copy.to_string_lossy()))
                .collect();
            if let Some(failure) = run::run_args(&args, None, TEST_LIMIT) {
                failures.push(format!("{} (binary): {failure}", path.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A long campaign, configured by the environment (see `scripts/fuzz.sh`): `KBLAME_FUZZ_SEED`
/// (first seed), `KBLAME_FUZZ_MUTANTS` (how many) or `KBLAME_FUZZ_MINUTES` (how long),
/// `KBLAME_FUZZ_OUT` (where failing inputs go). Prints its figures on one line.
#[test]
#[ignore = "a long run: scripts/fuzz.sh"]
fn campaign_from_the_environment() {
    let number = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let seed = number("KBLAME_FUZZ_SEED").unwrap_or(0);
    let mutants = number("KBLAME_FUZZ_MUTANTS").unwrap_or(u64::MAX - seed);
    let until = number("KBLAME_FUZZ_MINUTES").map(|m| Instant::now() + Duration::from_secs(m * 60));
    // An absolute deadline (Unix seconds) wins over minutes, so restarted workers stop on time.
    let until = number("KBLAME_FUZZ_UNTIL")
        .map(|epoch| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            Instant::now() + Duration::from_secs(epoch.saturating_sub(now))
        })
        .or(until);
    let budget = Budget {
        max_records: 400,
        max_steps: 8,
        sizes: Sizes {
            max_bomb: 300 << 20,
        },
        big: true,
    };
    let started = Instant::now();
    let figures = campaign(
        seed..seed.saturating_add(mutants),
        budget,
        Duration::from_secs(30),
        until,
        Duration::from_secs(120),
        std::env::var_os("KBLAME_FUZZ_DIFF").is_some(),
    );
    println!(
        "FIGURES seed={seed} mutants={} commands={} failures={} seconds={} peak_rss_kb={}",
        figures.mutants,
        figures.commands,
        figures.failures.len(),
        started.elapsed().as_secs(),
        peak_rss_kb()
    );
    for (seed, failure, saved) in &figures.failures {
        println!("FAILURE seed={seed} {failure} input={}", saved.display());
    }
}

/// This process's peak resident set (VmHWM), in KiB.
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
