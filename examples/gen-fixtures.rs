//! Writes every simulator scenario as `<name>.ndjson.zst` and `<name>.expect.json`, and the
//! audit logs of those that write one as `<name>.audit.jsonl` (`<name>.<log>.audit.jsonl` for
//! a second log), gzipped (`.jsonl.gz`) when over 300 KB.
//!
//! Usage: `cargo run --example gen-fixtures [-- OUTDIR]` (default `fixtures/`). Scenarios are
//! independent, so they are simulated in parallel; each one's bytes depend only on its seed.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use kblame_sim::scenarios::{self, Scenario};
use rayon::prelude::*;

fn main() -> anyhow::Result<()> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "fixtures".into()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let lines: Vec<String> = scenarios::all()
        .par_iter()
        .map(|scenario| write_fixture(scenario, &dir))
        .collect::<anyhow::Result<_>>()?;
    for line in lines {
        println!("{line}");
    }
    Ok(())
}

/// Simulates one scenario and writes its trace and ground truth; returns a summary line.
fn write_fixture(scenario: &Scenario, dir: &Path) -> anyhow::Result<String> {
    let fixture = scenario
        .generate()
        .with_context(|| format!("generating {}", scenario.name))?;
    let trace_path = dir.join(format!("{}.ndjson.zst", scenario.name));
    std::fs::write(&trace_path, &fixture.trace)
        .with_context(|| format!("writing {}", trace_path.display()))?;
    let mut expect = serde_json::to_vec_pretty(&fixture.truth)?;
    expect.push(b'\n');
    let expect_path = dir.join(format!("{}.expect.json", scenario.name));
    std::fs::write(&expect_path, expect)
        .with_context(|| format!("writing {}", expect_path.display()))?;
    for (log, lines) in &fixture.audit {
        let mut file = match log.as_str() {
            "" => format!("{}.audit.jsonl", scenario.name),
            log => format!("{}.{log}.audit.jsonl", scenario.name),
        };
        // Logs over 300 KB are gzipped (no name, mtime 0: the same bytes every run).
        let bytes = if lines.len() > 300_000 {
            file.push_str(".gz");
            let mut gz = flate2::GzBuilder::new()
                .mtime(0)
                .write(Vec::new(), flate2::Compression::best());
            gz.write_all(lines)?;
            gz.finish()?
        } else {
            lines.clone()
        };
        let path = dir.join(file);
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(format!(
        "{:<16} {:>7} bytes {:>5} records  {} pods",
        scenario.name,
        fixture.trace.len(),
        fixture.records,
        fixture.truth.pods.len()
    ))
}
