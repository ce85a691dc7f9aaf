//! The status line on stderr while recording: records, bytes, rate, per-resource counts, GAPs.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::sink::Stats;

/// How often the line is redrawn.
const REFRESH: Duration = Duration::from_millis(500);
/// How many resources the line names (the busiest).
const NAMED_RESOURCES: usize = 4;

/// Redraws the status line until the task is aborted.
pub async fn show(stats: Arc<Stats>, output: String) {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let started = Instant::now();
    loop {
        bar.set_message(line(&stats, &output, started.elapsed()));
        bar.tick();
        tokio::time::sleep(REFRESH).await;
    }
}

fn line(stats: &Stats, output: &str, elapsed: Duration) -> String {
    let records = stats.records.load(Ordering::Relaxed);
    let bytes = stats.bytes.load(Ordering::Relaxed);
    let rate = records as f64 / elapsed.as_secs_f64().max(0.001);
    let mut busiest: Vec<(String, u64)> = stats
        .per_resource
        .lock()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), *v)).collect())
        .unwrap_or_default();
    busiest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let named: Vec<String> = busiest
        .iter()
        .take(NAMED_RESOURCES)
        .map(|(resource, n)| format!("{} {n}", resource.rsplit('/').next().unwrap_or(resource)))
        .collect();
    format!(
        "recording to {output}: {records} records, {} KiB, {rate:.0}/s, {} GAPs [{}]",
        bytes / 1024,
        stats.gaps.load(Ordering::Relaxed),
        named.join(", ")
    )
}
