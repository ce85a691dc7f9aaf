//! Writes every simulator scenario as `<name>.ndjson.zst` and `<name>.expect.json`.
//!
//! Usage: `cargo run --example gen-fixtures [-- OUTDIR]` (default `fixtures/`).

use std::path::PathBuf;

use anyhow::Context;

fn main() -> anyhow::Result<()> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "fixtures".into()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for scenario in kblame::sim::scenarios::all() {
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
        println!(
            "{:<16} {:>7} bytes {:>5} records  {} pods",
            scenario.name,
            fixture.trace.len(),
            fixture.records,
            fixture.truth.pods.len()
        );
    }
    Ok(())
}
