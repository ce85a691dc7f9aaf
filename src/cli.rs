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
    /// Index files (TRACE.kbidx) that make repeat questions fast: `auto` uses them and saves
    /// one for traces of 1 MiB or more, `always` saves one for any trace, `never` neither reads
    /// nor writes them. Accepted before or after the subcommand
    #[arg(
        long,
        value_enum,
        default_value = "auto",
        env = "KBLAME_INDEX",
        global = true,
        value_name = "WHEN"
    )]
    pub index: IndexArg,
    /// An API server audit log to merge into the trace (audit.k8s.io/v1 JSON lines, a GKE or
    /// EKS export; gzip is read): each change it recorded gains the request that made it — the
    /// user, the client, the audit ID — and a pod's create request names the webhooks that
    /// mutated it. Repeat for several files
    #[arg(long, global = true, value_name = "FILE")]
    pub audit: Vec<String>,
    /// When to colour text output: `auto` on a terminal unless NO_COLOR is set (and not empty),
    /// `always`, or `never`. The flag wins over NO_COLOR
    #[arg(
        long,
        value_enum,
        default_value = "auto",
        global = true,
        value_name = "WHEN"
    )]
    pub color: ColorArg,
}

/// `--color WHEN`: see [`Cli::color`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    #[allow(missing_docs)]
    Auto,
    #[allow(missing_docs)]
    Always,
    #[allow(missing_docs)]
    Never,
}

/// `--index WHEN`: see [`Cli::index`].
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum IndexArg {
    #[allow(missing_docs)]
    Auto,
    #[allow(missing_docs)]
    Always,
    #[allow(missing_docs)]
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report what a trace holds and whether it is whole (exit 1 when it is not).
    Check(CheckArgs),
    /// Answer a question about one object of a trace.
    Analyze(AnalyzeArgs),
    /// git blame for an object: its YAML with who last changed each line, when, in which revision.
    Blame(BlameArgs),
    /// The owner tree of an object at a moment (like kubectl-tree, for any time in the trace).
    Tree(TreeArgs),
    /// Field diff between two versions of an object (revisions, times or resourceVersions).
    Diff(DiffArgs),
    /// A chronological story: spec changes, rollout steps, pod lifecycle, Events (folded), GAPs.
    Timeline(TimelineArgs),
    /// What existed at a moment, like kubectl get (default: the end of the trace).
    Get(GetArgs),
    /// Every workload that failed, is failing or changed, with the change blamed (a CI post-mortem; exit 1 on --fail-on).
    Report(ReportArgs),
    /// Export traces' causal facts (changes, revisions, container runs, pod creations and deletions, Events, objects) as Parquet tables, partitioned by cluster and date, for fleet queries in DuckDB, DataFusion or Spark.
    Export(ExportArgs),
    /// List and watch a live cluster into a trace until stopped (Ctrl-C, --duration, or the command's exit).
    #[cfg(feature = "record")]
    Record(RecordArgs),
    /// Convert an API server audit log or kubectl output into a trace.
    #[command(subcommand)]
    Import(ImportCommand),
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
    /// The trace file (zstd, gzip or plain NDJSON), or `-` for stdin.
    pub trace: String,
    /// Parse every record in full, bodies included (slower). Without it, check reads each
    /// record's type, time and metadata, and damage inside a body is found by the query that
    /// reads it.
    #[arg(long)]
    pub strict: bool,
    /// Output format. Default is text.
    #[arg(short, long, value_enum, default_value = "text")]
    pub output: OutputFormat,
}

/// `kblame analyze TRACE --pod NAME | --object KIND/NAME`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["pod", "object"])))]
pub struct AnalyzeArgs {
    /// The trace file (zstd, gzip or plain NDJSON), or `-` for stdin.
    pub trace: String,
    /// The pod to explain: its revision, the change that made it, restarts, why it went away.
    #[arg(long)]
    pub pod: Option<String>,
    /// The object to explain: `deployment/NAME` (or `replicaset/NAME`) for the rollout history
    /// and verdict, `job/NAME` for a Job's outcome and pods, `cronjob/NAME` (`cj/`) for its runs
    /// and the jobTemplate change they fail since, `statefulset/NAME` (`sts/`) or
    /// `daemonset/NAME` (`ds/`) for its revisions and verdict, `pod/NAME` as --pod.
    #[arg(long)]
    pub object: Option<String>,
    /// Judge the rollout (or Job, CronJob, StatefulSet, DaemonSet) at this time: RFC 3339, a time of day (`16:05:00`), or an offset from the trace's start (`+5m`) or end (`-1m`). Default is the end.
    #[arg(long, allow_hyphen_values = true)]
    pub at: Option<String>,
    /// The pod's namespace. Default is any namespace.
    #[arg(short, long)]
    pub namespace: Option<String>,
    /// The pod's UID (its first characters are enough, as with a short git hash), to choose among pods that shared the name.
    #[arg(long)]
    pub uid: Option<String>,
    /// Output format. Default is text.
    #[arg(short, long, value_enum, default_value = "text")]
    pub output: OutputFormat,
}

/// `kblame record [-o TRACE] [-- COMMAND ARGS...]`.
#[cfg(feature = "record")]
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// The trace to write; a name ending in `.ndjson` is written uncompressed. Default is trace.ndjson.zst.
    #[arg(
        short,
        long,
        default_value = "trace.ndjson.zst",
        hide_default_value = true
    )]
    pub output: std::path::PathBuf,
    /// The kubeconfig file. Default is $KUBECONFIG, else ~/.kube/config.
    #[arg(long)]
    pub kubeconfig: Option<std::path::PathBuf>,
    /// The kubeconfig context. Default is the current context.
    #[arg(long)]
    pub context: Option<String>,
    /// A namespace to record (repeatable). Default is the context's namespace.
    /// The cluster's name, written in the trace's header: `kblame export` files the trace
    /// under it. Default is the kubeconfig context's cluster
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,
    #[arg(short = 'n', long = "namespace", conflicts_with = "all_namespaces")]
    pub namespaces: Vec<String>,
    /// Record every namespace.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Only objects matching this label selector (e.g. `app=web,tier!=db`). Default is all.
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// Resources to record, comma-separated (`pods`, `deployments`, `deployments.apps`). Default is what a rollout post-mortem needs.
    #[arg(long, value_delimiter = ',', conflicts_with = "all_resources")]
    pub resources: Vec<String>,
    /// Record every listable and watchable resource, CRDs included (also those created while recording).
    #[arg(long)]
    pub all_resources: bool,
    /// Stop after this long, e.g. `10m`, `90s`, `1h 30m`. Default is until stopped.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<std::time::Duration>,
    /// Flush the trace to disk at least this often: the most a killed recorder can lose. Default is 1s.
    #[arg(long, default_value = "1s", value_parser = parse_duration, hide_default_value = true)]
    pub flush_interval: std::time::Duration,
    /// Store Secret values as they are. Without it, every value of a Secret's `data` and
    /// `stringData` (also inside kubectl's last-applied-configuration annotation) is replaced by
    /// a keyed hash (HMAC-SHA256) that shows when a value changed and cannot be reversed.
    #[arg(long)]
    pub record_secret_values: bool,
    /// Also redact these fields of these objects (repeatable), as `KIND[.GROUP]:FIELD_PATH`, e.g.
    /// `ConfigMap:data.password` or `Credential.example.com:spec.users[*].token`; `*` is any key
    /// or list item, and a map or list is redacted whole.
    #[arg(long, value_name = "KIND[.GROUP]:FIELD_PATH")]
    pub redact: Vec<String>,
    /// Hash redacted values with the key in this file (at least 16 random bytes, e.g. from
    /// `head -c 32 /dev/urandom`) so that traces recorded with the same file can be compared.
    /// Default is a random key per recording, never written anywhere.
    #[arg(long, value_name = "FILE")]
    pub redaction_key_file: Option<std::path::PathBuf>,
    /// Give up on a request or watch stream that sends nothing for this long, and retry it
    /// (a watch resumes where it was). Default is 120s.
    #[arg(long, default_value = "120s", value_parser = parse_duration, hide = true)]
    pub stall_timeout: std::time::Duration,
    /// The longest wait between retries of a failed request (the waits double up to it).
    /// Default is 30s.
    #[arg(long, default_value = "30s", value_parser = parse_duration, hide = true)]
    pub max_retry_interval: std::time::Duration,
    /// No status line on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    /// How often --all-resources looks for new resources (CRDs). Default is 30s.
    #[arg(long, default_value = "30s", value_parser = parse_duration, hide = true)]
    pub rediscover_interval: std::time::Duration,
    /// When the command fails (exits non-zero), write the trace's report once it is closed, as
    /// `kblame report TRACE --format FORMAT -o FILE` would; FILE `-` or none is stdout. Repeatable,
    /// e.g. `--report markdown:$GITHUB_STEP_SUMMARY --report json:report.json`. Default is none.
    #[arg(long, value_name = "FORMAT[:FILE]", value_parser = parse_report_target)]
    pub report: Vec<ReportTarget>,
    /// Write the --report reports also when the command succeeds (or with no command).
    #[arg(long, requires = "report")]
    pub report_always: bool,
    /// A command to run while recording (after the first lists are written); recording stops when it exits, with its exit code.
    #[arg(last = true)]
    pub command: Vec<String>,
}

/// `record --report FORMAT[:FILE]`: a report format and where to write it.
#[cfg(feature = "record")]
#[derive(Debug, Clone)]
pub struct ReportTarget {
    /// The format, as `kblame report --format` takes it.
    pub format: ReportFormat,
    /// The file; `None` is stdout.
    pub file: Option<std::path::PathBuf>,
}

/// Parses `FORMAT[:FILE]` through [`ReportFormat`]'s value names, so a bad format is an
/// argument error before the command runs, and every format `report` knows works here.
#[cfg(feature = "record")]
fn parse_report_target(text: &str) -> Result<ReportTarget, String> {
    let (name, file) = match text.split_once(':') {
        Some((name, file)) => (name, Some(file)),
        None => (text, None),
    };
    let format = ReportFormat::from_str(name, false).map_err(|_| {
        let names: Vec<String> = ReportFormat::value_variants()
            .iter()
            .filter_map(|format| format.to_possible_value())
            .map(|value| value.get_name().to_string())
            .collect();
        format!("{name:?} is not a report format ({})", names.join(", "))
    })?;
    let file = match file {
        None | Some("-") => None,
        Some("") => {
            return Err(format!(
            "{text:?} names no file (an unset variable?); `{name}:-` or `{name}` writes to stdout"
        ))
        }
        Some(file) => Some(std::path::PathBuf::from(file)),
    };
    Ok(ReportTarget { format, file })
}

/// `kblame import audit|kubectl FILE... -o TRACE`.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// audit.k8s.io/v1 Event JSON lines or an EventList (also GKE Cloud Logging and EKS
    /// CloudWatch exports): every successful write becomes a record with who made it.
    Audit(ImportArgs),
    /// `kubectl get -w -o json [--output-watch-events]` output or `kubectl get -o json` List
    /// dumps: times are inferred, and the header says so.
    Kubectl(KubectlImportArgs),
}

/// The inputs, output and redaction of an import.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The input files (plain, gzip or zstd), `-` for stdin.
    #[arg(required = true)]
    pub files: Vec<String>,
    /// The trace to write; a name ending in `.ndjson` is written uncompressed.
    #[arg(short, long)]
    pub output: std::path::PathBuf,
    /// Store Secret values as they are. Without it, every value of a Secret's `data` and
    /// `stringData` (also inside kubectl's last-applied-configuration annotation) is replaced by
    /// a keyed hash (HMAC-SHA256), as `kblame record` does.
    #[arg(long)]
    pub record_secret_values: bool,
    /// Also redact these fields of these objects (repeatable), as `KIND[.GROUP]:FIELD_PATH`.
    #[arg(long, value_name = "KIND[.GROUP]:FIELD_PATH")]
    pub redact: Vec<String>,
    /// Hash redacted values with the key in this file, so that traces recorded or imported with
    /// the same file can be compared. Default is a random key per import, never written.
    #[arg(long, value_name = "FILE")]
    pub redaction_key_file: Option<std::path::PathBuf>,
    /// No summary or warnings on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `kblame import kubectl`: the import arguments and the time of List dumps.
#[derive(Debug, Args)]
pub struct KubectlImportArgs {
    /// Inputs, output and redaction.
    #[command(flatten)]
    pub common: ImportArgs,
    /// When the List dumps were taken (RFC 3339); also the time of watched objects that hold
    /// none. Default is the newest time found in the objects.
    #[arg(long)]
    pub time: Option<jiff::Timestamp>,
}

/// Parses `10m`, `90s`, `1h 30m`, `500ms` (and ISO 8601 `PT10M`).
#[cfg(feature = "record")]
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let parsed: jiff::SignedDuration = text
        .parse()
        .map_err(|e| format!("{text:?} is not a duration like 10m, 90s or 1h 30m: {e}"))?;
    std::time::Duration::try_from(parsed).map_err(|_| format!("{text:?} is negative"))
}

/// Which object: `KIND/NAME` with an optional namespace and UID.
#[derive(Debug, Args)]
pub struct ObjectArgs {
    /// The trace file (zstd, gzip or plain NDJSON), or `-` for stdin.
    pub trace: String,
    /// The object, e.g. `deployment/web`, `rs/web-7c9f8d6b5`, `pod/web-7c9f8d6b5-x2x7p`.
    pub object: String,
    /// Its namespace. Default is any namespace.
    #[arg(short, long)]
    pub namespace: Option<String>,
    /// Its UID (its first characters are enough, as with a short git hash), to choose among objects that shared the name.
    #[arg(long)]
    pub uid: Option<String>,
    /// Output format. Default is text.
    #[arg(short, long, value_enum, default_value = "text")]
    pub output: OutputFormat,
}

/// `kblame tree TRACE KIND/NAME [--at T] [--deleted]`.
#[derive(Debug, Args)]
pub struct TreeArgs {
    /// The object and where to find it.
    #[command(flatten)]
    pub target: ObjectArgs,
    /// The moment: RFC 3339, a time of day (`16:05:00`), or an offset from the trace's start (`+5m`) or end (`-1m`). Default is the end.
    #[arg(long, allow_hyphen_values = true)]
    pub at: Option<String>,
    /// Also show objects already deleted at that moment.
    #[arg(long)]
    pub deleted: bool,
}

/// `kblame diff TRACE KIND/NAME [--from REV|TIME|rv:N|first] [--to REV|TIME|rv:N|last]`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The object and where to find it.
    #[command(flatten)]
    pub target: ObjectArgs,
    /// The older version: a revision number (of a Deployment, StatefulSet or DaemonSet), a time (as for --at),
    /// `rv:RESOURCEVERSION`, or `first`. Default is the object's first recorded version.
    #[arg(
        long,
        default_value = "first",
        hide_default_value = true,
        allow_hyphen_values = true
    )]
    pub from: String,
    /// The newer version: a revision number (of a Deployment, StatefulSet or DaemonSet), a time (as for --at),
    /// `rv:RESOURCEVERSION`, or `last`. Default is the object's last recorded version.
    #[arg(
        long,
        default_value = "last",
        hide_default_value = true,
        allow_hyphen_values = true
    )]
    pub to: String,
}

/// `kblame timeline TRACE [--object KIND/NAME] [--since T] [--until T]`.
#[derive(Debug, Args)]
pub struct TimelineArgs {
    /// The trace file (zstd, gzip or plain NDJSON), or `-` for stdin.
    pub trace: String,
    /// Only this object and everything it owns (with their Events). Default is the whole trace.
    #[arg(long)]
    pub object: Option<String>,
    /// The namespace: of the --object, or, without it, only objects in this namespace. Default is all.
    #[arg(short, long, conflicts_with = "all_namespaces")]
    pub namespace: Option<String>,
    /// Every namespace (the default; for kubectl's habit).
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// The object's UID (with --object; its first characters are enough), to choose among objects that shared the name.
    #[arg(long, requires = "object")]
    pub uid: Option<String>,
    /// From this time: RFC 3339, a time of day (`16:05:00`), or an offset from the trace's start (`+5m`) or end (`-1m`). Default is the start.
    #[arg(long, allow_hyphen_values = true)]
    pub since: Option<String>,
    /// Until this time: RFC 3339, a time of day (`16:05:00`), or an offset from the trace's start (`+5m`) or end (`-1m`). Default is the end.
    #[arg(long, allow_hyphen_values = true)]
    pub until: Option<String>,
    /// Output format. Default is text.
    #[arg(short, long, value_enum, default_value = "text")]
    pub output: OutputFormat,
}

/// How blame writes times in its gutter.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TimeArg {
    /// Time of day, UTC (`16:02:11`).
    Clock,
    /// Relative to the version shown (`13m ago`).
    Relative,
    /// RFC 3339.
    Full,
    /// No time column.
    None,
}

/// `kblame blame TRACE KIND/NAME [--at T] [--time …] [--history PATH]`.
#[derive(Debug, Args)]
pub struct BlameArgs {
    /// The object and where to find it.
    #[command(flatten)]
    pub target: ObjectArgs,
    /// Blame the version in force at this time: RFC 3339, a time of day (`16:05:00`), or an offset from the trace's start (`+5m`) or end (`-1m`). Default is the last version.
    #[arg(long, allow_hyphen_values = true)]
    pub at: Option<String>,
    /// How to write times in the gutter. Default is clock.
    #[arg(long, value_enum, default_value = "clock", hide_default_value = true)]
    pub time: TimeArg,
    /// Every change of one field instead, e.g. `spec.template.spec.containers[name=web].image`.
    #[arg(long)]
    pub history: Option<String>,
}

/// `kblame get TRACE [KIND] [-n NS | -A] [--at T] [-o wide|json|yaml] [--deleted]`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The trace file (zstd or plain NDJSON), or `-` for stdin.
    pub trace: String,
    /// What to list, as kubectl names it: `pods`, `po`, `deploy`, `deployments.apps`, `rs`,
    /// `events`, … Default is every kind in the trace but Events, like `kubectl get all`.
    pub kind: Option<String>,
    /// Only this namespace. Default is every namespace.
    #[arg(short, long, conflicts_with = "all_namespaces")]
    pub namespace: Option<String>,
    /// Every namespace, with a NAMESPACE column.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// The moment: RFC 3339 or an offset from the trace start (`+5m`). Default is the end.
    #[arg(long)]
    pub at: Option<String>,
    /// Also list objects deleted by then, with when.
    #[arg(long)]
    pub deleted: bool,
    /// Output format: kubectl's table, `wide` (more columns), `json` or `yaml` (the report,
    /// with each object's body). Default is the table.
    #[arg(
        short,
        long,
        value_enum,
        default_value = "text",
        hide_default_value = true
    )]
    pub output: GetFormat,
}

/// `kblame get -o`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GetFormat {
    /// kubectl's table.
    Text,
    /// The table with kubectl's `-o wide` columns.
    Wide,
    /// Pretty JSON.
    Json,
    /// YAML.
    Yaml,
}

/// Formats of `kblame report`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    /// An answer for people.
    Text,
    /// Markdown for `$GITHUB_STEP_SUMMARY` and GitLab job summaries.
    Markdown,
    /// Pretty JSON (the documented contract).
    Json,
    /// JUnit XML for CI test reports: a testsuite per namespace, a testcase per workload; a
    /// failing (not failed) workload is a failure only with `--fail-on failing`.
    Junit,
    /// One self-contained HTML page: the report and a zoomable timeline of its lanes.
    Html,
}

/// What makes `kblame report` exit 1.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FailOnArg {
    /// A workload whose verdict is failed.
    Failed,
    /// A workload that failed or has failing pods at the end.
    Failing,
    /// Nothing: exit 0 whatever the report says.
    Never,
}

/// `kblame export TRACE... -o DIR`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The trace files (zstd, gzip or plain NDJSON). A trace already exported into DIR (same
    /// content, same cluster) is skipped.
    #[arg(required = true)]
    pub traces: Vec<std::path::PathBuf>,
    /// Output format: Parquet (zstd), one file per table and trace.
    #[arg(long, value_enum, default_value = "parquet")]
    pub format: ExportFormat,
    /// The output directory: DIR/TABLE/cluster=NAME/date=YYYY-MM-DD/SHA256.parquet.
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub output: std::path::PathBuf,
    /// The cluster the traces come from. Default is the name each trace's header records
    /// (`kblame record` writes its kubeconfig context's cluster).
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,
    /// Traces exported at once; each holds one trace in memory. Default is the number of CPUs,
    /// at most 4.
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Export again traces already exported (their files are replaced, no other file changes).
    #[arg(long)]
    pub force: bool,
    /// Print what each trace's export did as JSON lines instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `--format` of `kblame export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Apache Parquet.
    Parquet,
}

/// `kblame report TRACE`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The trace file (zstd, gzip or plain NDJSON), or `-` for stdin.
    pub trace: String,
    /// Output format. Default is text.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    /// Write the report to this file instead of stdout. Default is stdout.
    #[arg(short = 'o', long = "output")]
    pub output: Option<std::path::PathBuf>,
    /// What exits 1. Default is failed.
    #[arg(long, value_enum, default_value = "failed")]
    pub fail_on: FailOnArg,
    /// Only workloads in this namespace. Default is every namespace.
    #[arg(short, long, conflicts_with = "all_namespaces")]
    pub namespace: Option<String>,
    /// Every namespace (the default; for kubectl's habit).
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// The window's start: RFC 3339, a time of day (`16:05:00`), or an offset from the trace's start (`+5m`) or end (`-1m`). Default is the start.
    #[arg(long, allow_hyphen_values = true)]
    pub since: Option<String>,
    /// The moment judged: RFC 3339, a time of day, or an offset (`+5m`, `-1m`). Default is the end.
    #[arg(long, allow_hyphen_values = true)]
    pub until: Option<String>,
}
