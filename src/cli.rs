//! Command-line arguments; their doc comments are the help text.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// git blame for a Kubernetes cluster: explain, from a recorded trace, which change
/// made a pod's revision, why it restarted and why it went away.
#[derive(Debug, Parser)]
#[command(name = "kblame", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report what a trace holds and whether it is whole (exit 1 when it is not).
    Check(CheckArgs),
    /// Answer a question about one object of a trace.
    Analyze(AnalyzeArgs),
}

/// Output formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OutputFormat {
    /// An answer for people.
    Text,
    /// Pretty JSON (the documented contract).
    Json,
    /// YAML (same fields as JSON).
    Yaml,
}

/// `kblame check TRACE`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The trace file (zstd or plain NDJSON), or `-` for stdin.
    pub trace: String,
    /// Output format. Default is text.
    #[arg(short, long, value_enum, default_value = "text")]
    pub output: OutputFormat,
}

/// `kblame analyze TRACE --pod NAME`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// The trace file (zstd or plain NDJSON), or `-` for stdin.
    pub trace: String,
    /// The pod to explain.
    #[arg(long)]
    pub pod: String,
    /// The pod's namespace. Default is any namespace.
    #[arg(short, long)]
    pub namespace: Option<String>,
    /// The pod's UID, to choose among pods that shared the name.
    #[arg(long)]
    pub uid: Option<String>,
    /// Output format. Default is text.
    #[arg(short, long, value_enum, default_value = "text")]
    pub output: OutputFormat,
}
