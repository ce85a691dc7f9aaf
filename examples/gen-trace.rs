//! Writes a large kblame trace with the simulator (`--records N --seed S -o FILE`, same bytes for
//! the same arguments; see `kblame_sim::cluster`); prints the record mix and pods and
//! Deployments worth querying.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use kblame_sim::cluster::{record_mix, GeneratedTrace, Generator};

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

fn main() -> anyhow::Result<()> {
    let (args, began) = (Args::parse(), Instant::now());
    let generator = Generator::new(args.records, args.seed, &args.output)?;
    let (namespaces, deployments) = (generator.namespaces(), generator.deployments());
    eprintln!("{namespaces} namespaces, {deployments} deployments");
    let mut next_report = 1;
    let trace = generator
        .run(|records| {
            if records * 10 >= args.records * next_report && next_report < 10 {
                let (pct, secs) = (next_report * 10, began.elapsed().as_secs_f64());
                eprintln!("{pct:>3}% {records} records, {secs:.1}s");
                next_report += 1;
            }
        })
        .with_context(|| format!("generating {}", args.output.display()))?;
    let (written, bytes) = (trace.records, trace.bytes);
    let secs = began.elapsed().as_secs_f64();
    let rate = written as f64 / secs;
    eprintln!("wrote {written} records, {bytes} bytes in {secs:.2}s ({rate:.0} records/s)");
    if args.records <= 200_000 {
        print_mix(&trace)?;
    }
    print_suggestions(&trace);
    Ok(())
}

/// Reads the trace back and prints each kind's share of the object records and of their bytes.
fn print_mix(trace: &GeneratedTrace) -> anyhow::Result<()> {
    let kinds = record_mix(&trace.path)?;
    let count: u64 = kinds.iter().map(|k| k.records).sum();
    let bytes: u64 = kinds.iter().map(|k| k.bytes).sum();
    eprintln!("mix of {count} object records (share of records, of JSON bytes, average size):");
    for k in &kinds {
        let (n, b) = (k.records, k.bytes);
        let (records, share) = (n as f64 / count as f64, b as f64 / bytes as f64);
        let (records, share, average) = (records * 100.0, share * 100.0, b / n);
        eprintln!(
            "  {:<24} {n:>8}  {records:5.1}%  {share:5.1}%  {average:>5} B",
            k.kind
        );
    }
    Ok(())
}

/// Prints pods and Deployments worth querying.
fn print_suggestions(trace: &GeneratedTrace) {
    for s in &trace.suggestions {
        let (ns, name, note) = (&s.namespace, &s.name, &s.note);
        if s.kind == "Deployment" {
            eprintln!("deployment:          deployment/{name} -n {ns}  ({note})");
        } else {
            let what = format!("{}:", s.what);
            eprintln!("{what:<20} {ns}/{name}  ({note})");
        }
    }
}
