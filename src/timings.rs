//! Phase timings on stderr for `KBLAME_TIMINGS=1`: one line per phase of a question (issue 15),
//! so that what a repeat question spends its time on can be measured rather than guessed.
//!
//! When the variable is unset a phase costs one relaxed atomic load and no clock read.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Whether `KBLAME_TIMINGS` asks for timings (any value but empty or `0`).
pub fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| {
        std::env::var_os("KBLAME_TIMINGS").is_some_and(|v| !v.is_empty() && v != "0")
    })
}

/// A phase being timed: prints `timing: NAME … ms` when dropped (or [`Phase::end`]ed).
#[derive(Debug)]
pub struct Phase {
    name: &'static str,
    started: Option<Instant>,
}

/// Starts timing a phase named `name`.
pub fn phase(name: &'static str) -> Phase {
    Phase {
        name,
        started: enabled().then(Instant::now),
    }
}

impl Phase {
    /// Ends the phase now.
    pub fn end(self) {}
}

impl Drop for Phase {
    fn drop(&mut self) {
        if let Some(started) = self.started {
            report(self.name, started.elapsed(), "");
        }
    }
}

/// Prints a phase measured elsewhere (e.g. summed over many calls), with a detail.
pub fn report(name: &str, took: Duration, detail: &str) {
    if enabled() {
        let ms = took.as_secs_f64() * 1e3;
        match detail.is_empty() {
            true => eprintln!("timing: {name:<14} {ms:9.2} ms"),
            false => eprintln!("timing: {name:<14} {ms:9.2} ms  {detail}"),
        }
    }
}

/// Prints a count or size that explains a phase (e.g. how many records were read).
pub fn note(name: &str, detail: impl FnOnce() -> String) {
    if enabled() {
        eprintln!("timing: {name:<14}              {}", detail());
    }
}

/// Time spent inside many short calls (e.g. replaying each record), cheap when timings are off.
#[derive(Debug, Default)]
pub struct Summed {
    total: Duration,
}

impl Summed {
    /// Runs `work`, adding its time when timings are on.
    pub fn time<T>(&mut self, work: impl FnOnce() -> T) -> T {
        if !enabled() {
            return work();
        }
        let started = Instant::now();
        let out = work();
        self.total += started.elapsed();
        out
    }

    /// The time summed so far.
    pub fn total(&self) -> Duration {
        self.total
    }
}
