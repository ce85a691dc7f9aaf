//! The `kblame` binary: parses arguments, runs one library call, maps the outcome to an exit code.
//!
//! `kubectl-kblame` (src/bin/kubectl-kblame.rs) is this same program under kubectl's plugin
//! name: it includes this file as a module and calls [`main`].

mod cli;

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use cli::{AnalyzeArgs, CheckArgs, Cli, Command, OutputFormat};
use kblame::query;
use kblame::query::pod::PodQuery;
use kblame::query::rollout::RolloutQuery;
use kblame::query::select::ObjectQuery;
use kblame::query::{IndexMode, QueryError, Scope};
use kblame::render::{self, Format};
use kblame::trace::TraceSource;

/// Exit code when the question was answered (or the trace is whole).
const EXIT_OK: u8 = 0;
/// Exit code when the trace is not whole, or the trace cannot answer the question.
const EXIT_NOT_ANSWERED: u8 = 1;
/// Exit code when the input cannot be read at all.
const EXIT_ERROR: u8 = 2;

/// Runs kblame with the process's arguments; also the entry point of `kubectl-kblame`.
pub fn main() -> ExitCode {
    // The last net under the fuzzed code: a bug still ends with a message and exit code 2.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: kblame stopped on an internal error (a bug): {info}");
        eprintln!(
            "\nhint: please report it with the command line (and the trace, if it can be shared)"
        );
    }));
    std::panic::catch_unwind(run).unwrap_or(ExitCode::from(EXIT_ERROR))
}

/// The `--color` choice, set once at the start.
static COLOR: std::sync::OnceLock<cli::ColorArg> = std::sync::OnceLock::new();

fn run() -> ExitCode {
    let _total = kblame::timings::phase("total");
    let cli = parse_args();
    let _ = COLOR.set(cli.color);
    init_logging();
    let index = match cli.index {
        cli::IndexArg::Auto => IndexMode::Auto,
        cli::IndexArg::Always => IndexMode::Always,
        cli::IndexArg::Never => IndexMode::Never,
    };
    let reader = Reader {
        index,
        audit: cli.audit.clone(),
    };
    let asked_analyze = matches!(cli.command, Command::Analyze(_));
    let outcome = match cli.command {
        Command::Check(args) => check(&reader, args),
        Command::Analyze(args) => analyze(&reader, args),
        Command::Blame(args) => blame(&reader, args),
        Command::Tree(args) => tree(&reader, args),
        Command::Diff(args) => diff(&reader, args),
        Command::Timeline(args) => timeline(&reader, args),
        Command::Get(args) => get(&reader, args),
        Command::Report(args) => post_mortem(&reader, args),
        Command::Import(command) => import(command),
        Command::Export(args) => export(&reader, args),
        #[cfg(feature = "record")]
        Command::Record(args) => record(&reader, args),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(err) if is_broken_pipe(&err) => ExitCode::from(EXIT_OK),
        Err(err) => {
            report(&err, asked_analyze);
            ExitCode::from(exit_code(&err))
        }
    }
}

/// Parses the arguments; run as a kubectl plugin (`kubectl-kblame`, the name kubectl and krew
/// give it), help and usage say `kubectl kblame`, the way the user typed it.
fn parse_args() -> Cli {
    let mut command = Cli::command();
    if invoked_as_plugin() {
        command = command.bin_name(program());
    }
    let matches = command.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|err| err.exit())
}

/// How the user runs kblame, for hints that name a command: `kubectl kblame` as a plugin.
fn program() -> &'static str {
    if invoked_as_plugin() {
        "kubectl kblame"
    } else {
        "kblame"
    }
}

/// Whether this process was started under a `kubectl-` name (argv[0]), as kubectl starts plugins.
fn invoked_as_plugin() -> bool {
    std::env::args_os()
        .next()
        .as_deref()
        .map(Path::new)
        .and_then(Path::file_name)
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.starts_with("kubectl-"))
}

/// A question the trace cannot answer exits 1; input that cannot be read, and arguments that
/// cannot be understood, exit 2.
fn exit_code(err: &anyhow::Error) -> u8 {
    match err.downcast_ref::<QueryError>() {
        Some(query) if !query.is_bad_argument() => EXIT_NOT_ANSWERED,
        _ => EXIT_ERROR,
    }
}

fn format(output: OutputFormat) -> Format {
    match output {
        OutputFormat::Text => Format::Text,
        OutputFormat::Json => Format::Json,
        OutputFormat::Yaml => Format::Yaml,
    }
}

fn check(reader: &Reader, args: CheckArgs) -> anyhow::Result<u8> {
    let CheckArgs {
        trace,
        strict,
        output,
    } = args;
    let loaded = if strict {
        reader.read_every_record(&trace)?
    } else {
        reader.load(reader.open(&trace)?, &Scope::Nothing)?
    };
    let mut report = query::check::check(&loaded);
    report.file_bytes = query::check::file_size(&trace);
    let _rendering = kblame::timings::phase("render");
    let mut out = io::stdout().lock();
    match format(output) {
        Format::Text => render::check::text(&report, &mut out)?,
        Format::Json => render::json(&report, &mut out)?,
        Format::Yaml => render::yaml(&report, &mut out)?,
    }
    out.flush()?;
    if report.whole {
        return Ok(EXIT_OK);
    }
    // Every non-zero exit says why on stderr, also when the report goes to a file or a pipe.
    eprintln!("{}: {}", report.trace, render::check::verdict(&report));
    Ok(EXIT_NOT_ANSWERED)
}

fn analyze(reader: &Reader, args: AnalyzeArgs) -> anyhow::Result<u8> {
    let AnalyzeArgs {
        trace,
        pod,
        object,
        at,
        namespace,
        uid,
        output,
    } = args;
    let opened = reader.open(&trace)?;
    let mut target = match (&pod, &object) {
        (Some(name), _) => ObjectQuery {
            kind: "Pod".to_string(),
            name: name.clone(),
            ..ObjectQuery::default()
        },
        (None, Some(spec)) => ObjectQuery::parse_with_kinds(spec, &opened.kinds())?,
        (None, None) => anyhow::bail!("give --pod NAME or --object KIND/NAME"),
    };
    target.namespace = namespace;
    target.uid = uid;
    let mut loaded = reader.load(opened, &Scope::Around(target.clone()))?;
    if target.kind == "Pod" {
        if at.is_some() {
            return Err(QueryError::BadArgument(
                "--at judges a rollout; the pod query always covers the whole trace".to_string(),
            )
            .into());
        }
        let pod_query = PodQuery {
            name: target.name,
            namespace: target.namespace,
            uid: target.uid,
        };
        let answering = kblame::timings::phase("answer");
        let report = query::pod::analyze_pod(&mut loaded, &pod_query)?;
        answering.end();
        return emit(&report, output, render::pod::text);
    }
    let at = parse_time(at, &loaded)?;
    let rollout_query = RolloutQuery { object: target, at };
    let answering = kblame::timings::phase("answer");
    let report = query::object::analyze_object(&mut loaded, &rollout_query)?;
    answering.end();
    let color = use_color();
    emit(&report, output, |r, out| {
        render::object::text(r, out, color)
    })
}

/// Opens the trace, resolves `KIND/NAME` (with namespace and UID) against it, and loads what
/// a question about that object needs.
fn load_object(
    reader: &Reader,
    target: &cli::ObjectArgs,
) -> anyhow::Result<(query::Loaded, ObjectQuery)> {
    let opened = reader.open(&target.trace)?;
    let mut object = ObjectQuery::parse_with_kinds(&target.object, &opened.kinds())?;
    object.namespace = target.namespace.clone();
    object.uid = target.uid.clone();
    let loaded = reader.load(opened, &Scope::Around(object.clone()))?;
    Ok((loaded, object))
}

fn blame(reader: &Reader, args: cli::BlameArgs) -> anyhow::Result<u8> {
    use kblame::history::path::FieldPath;
    use kblame::render::blame::TimeStyle;
    let cli::BlameArgs {
        target,
        at,
        time,
        history,
    } = args;
    let (mut loaded, object) = load_object(reader, &target)?;
    let at = parse_time(at, &loaded)?;
    let history = history
        .map(|path| {
            FieldPath::parse(&path).map_err(|e| {
                QueryError::BadArgument(format!("--history {path:?} is not a field path: {e}"))
            })
        })
        .transpose()?;
    let query = query::blame::BlameQuery {
        object,
        at,
        history,
    };
    let report = query::blame::blame(&mut loaded, &query)?;
    let style = match time {
        cli::TimeArg::Clock => TimeStyle::Clock,
        cli::TimeArg::Relative => TimeStyle::Relative,
        cli::TimeArg::Full => TimeStyle::Full,
        cli::TimeArg::None => TimeStyle::None,
    };
    // The JSON contract of blame is the list itself: lines, or with --history the changes.
    if !matches!(target.output, OutputFormat::Text) {
        for warning in &report.warnings {
            eprintln!("warning: {warning}");
        }
        return match &report.history {
            Some(changes) => emit(changes, target.output, |_, _| Ok(())),
            None => emit(&report.lines, target.output, |_, _| Ok(())),
        };
    }
    let color = use_color();
    emit(&report, target.output, |r, out| {
        render::blame::text(r, out, color, style)
    })
}

fn tree(reader: &Reader, args: cli::TreeArgs) -> anyhow::Result<u8> {
    let cli::TreeArgs {
        target,
        at,
        deleted,
    } = args;
    let (mut loaded, object) = load_object(reader, &target)?;
    let at = parse_time(at, &loaded)?;
    let report = query::tree::tree(
        &mut loaded,
        &query::tree::TreeQuery {
            object,
            at,
            deleted,
        },
    )?;
    let color = use_color();
    emit(&report, target.output, |r, out| {
        render::tree::text(r, out, color)
    })
}

fn diff(reader: &Reader, args: cli::DiffArgs) -> anyhow::Result<u8> {
    let cli::DiffArgs { target, from, to } = args;
    let (mut loaded, object) = load_object(reader, &target)?;
    let report = query::diff::diff(&mut loaded, &query::diff::DiffQuery { object, from, to })?;
    let color = use_color();
    emit(&report, target.output, |r, out| {
        render::diff::text(r, out, color)
    })
}

fn timeline(reader: &Reader, args: cli::TimelineArgs) -> anyhow::Result<u8> {
    let cli::TimelineArgs {
        trace,
        object,
        namespace,
        uid,
        since,
        until,
        output,
        all_namespaces: _,
    } = args;
    let opened = reader.open(&trace)?;
    let object = match object {
        Some(spec) => {
            let mut object = ObjectQuery::parse_with_kinds(&spec, &opened.kinds())?;
            object.namespace = namespace.clone();
            object.uid = uid;
            Some(object)
        }
        None => None,
    };
    let scope = match (&object, &namespace) {
        (Some(object), _) => Scope::Around(object.clone()),
        (None, Some(namespace)) => Scope::Namespace(namespace.clone()),
        (None, None) => Scope::Everything,
    };
    let mut loaded = reader.load(opened, &scope)?;
    let since = parse_time(since, &loaded)?;
    let until = parse_time(until, &loaded)?;
    let query = query::timeline::TimelineQuery {
        object,
        since,
        until,
        namespace,
    };
    let report = query::timeline::timeline(&mut loaded, &query)?;
    let color = use_color();
    emit(&report, output, |r, out| {
        render::timeline::text(r, out, color)
    })
}

fn get(reader: &Reader, args: cli::GetArgs) -> anyhow::Result<u8> {
    use kblame::query::get::{parse_kinds, scope, GetQuery};
    let cli::GetArgs {
        trace,
        kind,
        namespace,
        all_namespaces,
        at,
        deleted,
        output,
    } = args;
    let opened = reader.open(&trace)?;
    let kinds = match kind {
        Some(words) => parse_kinds(&words, &opened.kinds())?,
        None => Vec::new(),
    };
    let mut query = GetQuery {
        kinds,
        namespace,
        all_namespaces,
        at: None,
        deleted,
    };
    let scope = scope(&query, &opened.kinds());
    let loaded = reader.load(opened, &scope)?;
    query.at = parse_time(at, &loaded)?;
    let report = query::get::get(&loaded, &query)?;
    let (output, wide) = match output {
        cli::GetFormat::Text => (OutputFormat::Text, false),
        cli::GetFormat::Wide => (OutputFormat::Text, true),
        cli::GetFormat::Json => (OutputFormat::Json, false),
        cli::GetFormat::Yaml => (OutputFormat::Yaml, false),
    };
    let color = use_color();
    emit(&report, output, |r, out| {
        render::get::text(r, out, wide, color)
    })
}

/// `kblame report`: exit 1 when a workload matches `--fail-on`, 2 when the trace is unreadable.
fn post_mortem(reader: &Reader, args: cli::ReportArgs) -> anyhow::Result<u8> {
    let cli::ReportArgs {
        trace,
        format,
        output,
        fail_on,
        namespace,
        all_namespaces: _,
        since,
        until,
    } = args;
    let mut judged = build_report(reader, &trace, namespace, since, until)?;
    let failing_fails = matches!(fail_on, cli::FailOnArg::Failing);
    write_report(&mut judged, format, failing_fails, output.as_deref())?;
    let report = &judged.report;
    let matched = match fail_on {
        cli::FailOnArg::Failed => report.count("failed"),
        cli::FailOnArg::Failing => report.count("failed") + report.count("failing"),
        cli::FailOnArg::Never => 0,
    };
    if matched == 0 {
        return Ok(EXIT_OK);
    }
    // Every non-zero exit says why on stderr, also when the report goes to a file.
    eprintln!(
        "{trace}: {matched} workload(s) match --fail-on {}",
        match fail_on {
            cli::FailOnArg::Failed => "failed",
            cli::FailOnArg::Failing => "failing",
            cli::FailOnArg::Never => "never",
        }
    );
    Ok(EXIT_NOT_ANSWERED)
}

/// Reads the trace and judges its workloads in the window: the report of `kblame report` and
/// `kblame record --report`.
fn build_report(
    reader: &Reader,
    trace: &str,
    namespace: Option<String>,
    since: Option<String>,
    until: Option<String>,
) -> anyhow::Result<Judged> {
    use kblame::query::report::{ReportError, ReportQuery};
    let opened = reader.open(trace)?;
    let scope = match &namespace {
        Some(namespace) => Scope::Namespace(namespace.clone()),
        None => Scope::Everything,
    };
    let mut loaded = reader.load(opened, &scope)?;
    let query = ReportQuery {
        namespace,
        since: parse_time(since, &loaded)?,
        until: parse_time(until, &loaded)?,
    };
    let report = query::report::report(&mut loaded, &query).map_err(|err| match err {
        ReportError::Query(err) => anyhow::Error::from(err),
        other => anyhow::Error::from(other),
    })?;
    Ok(Judged {
        loaded,
        query,
        report,
    })
}

/// A report with the loaded trace and the question it answers (the HTML timeline reads more
/// of the trace than the report's structs hold).
struct Judged {
    loaded: kblame::query::Loaded,
    query: query::report::ReportQuery,
    report: query::report::Report,
}

/// Renders `report` in `format` to `output` (stdout when `None`): the one place a report format
/// meets its renderer. `failing_fails`: JUnit makes a failing (not failed) workload a failure,
/// as `--fail-on failing` does. A file is created 0600 like the trace: a report names the cluster's
/// objects, images and failure messages, and travels with the trace as a CI artifact.
fn write_report(
    judged: &mut Judged,
    format: cli::ReportFormat,
    failing_fails: bool,
    output: Option<&Path>,
) -> anyhow::Result<()> {
    let report = &judged.report;
    let mut buffer = Vec::new();
    match format {
        cli::ReportFormat::Text => render::report::text(report, &mut buffer)?,
        cli::ReportFormat::Markdown => render::report_md::markdown(report, &mut buffer)?,
        cli::ReportFormat::Json => render::json(report, &mut buffer)?,
        cli::ReportFormat::Junit => {
            render::report_junit::junit(report, failing_fails, &mut buffer)?
        }
        cli::ReportFormat::Html => {
            let timeline =
                query::report_timeline::report_timeline(&mut judged.loaded, report, &judged.query)?;
            render::report_html::html(report, &timeline, &mut buffer)?
        }
    }
    match output {
        Some(path) if is_step_summary(path) => std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .and_then(|mut file| file.write_all(&buffer))
            .map_err(|e| anyhow::anyhow!("cannot append to {}: {e}", path.display()))?,
        Some(path) => kblame::files::create_private(path)
            .and_then(|mut file| file.write_all(&buffer))
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?,
        None => {
            let mut out = io::stdout().lock();
            out.write_all(&buffer)?;
            out.flush()?;
        }
    }
    Ok(())
}

/// Whether `path` is GitHub Actions' step summary (`$GITHUB_STEP_SUMMARY`). Every writer of a
/// step appends to that file (`>> $GITHUB_STEP_SUMMARY`), so a report is appended there rather
/// than replacing what the step wrote before, and the runner's file keeps its mode.
fn is_step_summary(path: &Path) -> bool {
    let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|s| !s.is_empty()) else {
        return false;
    };
    let summary = Path::new(&summary);
    match (summary.canonicalize(), path.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => summary == path,
    }
}

/// `kblame export`: each trace (several at once) into Parquet partitions; a trace already
/// exported is skipped. A trace that cannot be exported is reported and the others go on.
fn export(reader: &Reader, args: cli::ExportArgs) -> anyhow::Result<u8> {
    use kblame::export::{self, Exported};
    use rayon::prelude::*;
    let cli::ExportArgs {
        traces,
        format: cli::ExportFormat::Parquet,
        output,
        cluster,
        jobs,
        force,
        json,
    } = args;
    if let Some(name) = &cluster {
        export::check_cluster(name)?;
    }
    let jobs = jobs
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(4)
        })
        .max(1);
    kblame::files::create_private_dir_all(&output)
        .map_err(|e| anyhow::anyhow!("{}: {e}", output.display()))?;
    // The same file named twice is exported once.
    let mut unique: Vec<&Path> = Vec::new();
    for trace in &traces {
        if !unique.iter().any(|t| same_file(t, trace)) {
            unique.push(trace);
        }
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start {jobs} export threads: {e}"))?;
    let one = |trace: &Path| -> anyhow::Result<Exported> {
        let sha256 = export::sha256_of(trace)?;
        if !force {
            if let Some(mut done) = export::already_exported(&output, &sha256, cluster.as_deref()) {
                done.trace = trace.display().to_string();
                done.skipped = true;
                return Ok(done);
            }
        }
        let mut loaded = query::load(&TraceSource::from_arg(&trace.display().to_string()))?;
        if !reader.audit.is_empty() {
            query::audit::merge(&mut loaded, &reader.audit)?;
        }
        let name = export::cluster_of(&loaded, cluster.as_deref())?;
        if !force {
            if let Some(mut done) = export::already_exported(&output, &sha256, Some(&name)) {
                done.trace = trace.display().to_string();
                done.skipped = true;
                return Ok(done);
            }
        }
        let mut done = export::export(&mut loaded, &sha256, &name, &output)?;
        done.warnings = query::with_trace_warnings(done.warnings, &loaded);
        Ok(done)
    };
    let results: Vec<anyhow::Result<Exported>> =
        pool.install(|| unique.par_iter().map(|t| one(t)).collect());
    let mut failed = 0;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    for (trace, result) in unique.iter().zip(results) {
        match result {
            Ok(done) if json => writeln!(out, "{}", serde_json::to_string(&done)?)?,
            Ok(done) => writeln!(out, "{}", render::export::text(&done))?,
            Err(err) => {
                failed += 1;
                eprintln!("kblame: cannot export {}: {err:#}", trace.display());
            }
        }
    }
    Ok(if failed == 0 { EXIT_OK } else { EXIT_ERROR })
}

/// Whether two paths name the same file (the same path, or the same file by its canonical path).
fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || matches!(
            (std::fs::canonicalize(a), std::fs::canonicalize(b)),
            (Ok(x), Ok(y)) if x == y
        )
}

fn import(command: cli::ImportCommand) -> anyhow::Result<u8> {
    use kblame::import::{self, ImportSettings};
    let (args, time, audit) = match command {
        cli::ImportCommand::Audit(args) => (args, None, true),
        cli::ImportCommand::Kubectl(cli::KubectlImportArgs { common, time }) => {
            (common, time, false)
        }
    };
    let cli::ImportArgs {
        files,
        output,
        record_secret_values,
        redact,
        redaction_key_file,
        quiet,
    } = args;
    if let Some(key) = redaction_key_file
        .as_deref()
        .filter(|key| kblame::files::readable_by_others(key))
    {
        eprintln!(
            "warning: the redaction key file {} is readable by others: whoever reads it can test guesses against the trace's hashes (chmod 600 it)",
            key.display()
        );
    }
    let settings = ImportSettings {
        inputs: files,
        output: output.clone(),
        redaction: kblame::redact::RedactSettings {
            rules: redact,
            keep_secret_values: record_secret_values,
            key_file: redaction_key_file,
        },
        time,
    };
    let outcome = if audit {
        import::audit::import(&settings)?
    } else {
        import::kubectl::import(&settings)?
    };
    if !quiet {
        for warning in &outcome.warnings {
            eprintln!("warning: {warning}");
        }
        let skipped: Vec<String> = outcome
            .counts
            .skipped
            .iter()
            .map(|(reason, n)| format!("{n} {reason}"))
            .collect();
        let skipped = match skipped.is_empty() {
            true => "none".to_string(),
            false => skipped.join(", "),
        };
        eprintln!(
            "read {} event(s), used {}, skipped {skipped}; wrote {} record(s) to {}",
            outcome.counts.read,
            outcome.counts.used,
            outcome.records,
            output.display()
        );
    }
    Ok(EXIT_OK)
}

/// Writes a report in the chosen format to stdout.
fn emit<T: serde::Serialize>(
    report: &T,
    output: OutputFormat,
    text: impl Fn(&T, &mut io::StdoutLock<'static>) -> io::Result<()>,
) -> anyhow::Result<u8> {
    let _rendering = kblame::timings::phase("render");
    let mut out = io::stdout().lock();
    match format(output) {
        Format::Text => text(report, &mut out)?,
        Format::Json => render::json(report, &mut out)?,
        Format::Yaml => render::yaml(report, &mut out)?,
    }
    out.flush()?;
    Ok(EXIT_OK)
}

/// How traces are read: the `--index` choice, and progress on a terminal.
struct Reader {
    index: IndexMode,
    /// Audit logs to merge into every trace read (`--audit`).
    audit: Vec<String>,
}

impl Reader {
    /// Replays what `scope` needs, then merges the audit logs into it.
    fn load(&self, opened: query::Opened, scope: &Scope) -> anyhow::Result<query::Loaded> {
        let _loading = kblame::timings::phase("load (all)");
        let mut loaded = opened.load(scope)?;
        if !self.audit.is_empty() {
            query::audit::merge(&mut loaded, &self.audit)?;
        }
        Ok(loaded)
    }

    /// Opens a trace through its index (building it on the first read).
    fn open(&self, trace: &str) -> anyhow::Result<query::Opened> {
        let _opening = kblame::timings::phase("open");
        let progress = Progress::new(trace);
        let opened = query::open(&TraceSource::from_arg(trace), self.index, |p| {
            progress.update(p)
        });
        progress.finish();
        Ok(opened?)
    }

    /// Parses every record of a trace in full (keeping no bodies), for `check --strict`.
    fn read_every_record(&self, trace: &str) -> anyhow::Result<query::Loaded> {
        let progress = Progress::new(trace);
        let loaded = query::load_facts_with_progress(&TraceSource::from_arg(trace), |records| {
            progress.update(query::ReadProgress {
                records,
                ..query::ReadProgress::default()
            })
        });
        progress.finish();
        Ok(loaded?)
    }
}

/// A progress bar on stderr (a spinner when the size is unknown), shown only on a terminal
/// and only once reading has taken more than a second.
struct Progress {
    bar: indicatif::ProgressBar,
    started: std::time::Instant,
    show: bool,
    trace: String,
}

impl Progress {
    fn new(trace: &str) -> Progress {
        use std::io::IsTerminal;
        Progress {
            bar: indicatif::ProgressBar::hidden(),
            started: std::time::Instant::now(),
            show: io::stderr().is_terminal(),
            trace: trace.to_string(),
        }
    }

    fn update(&self, progress: query::ReadProgress) {
        use std::time::Duration;
        if self.show && self.bar.is_hidden() && self.started.elapsed() > Duration::from_secs(1) {
            let style = match progress.total_bytes {
                Some(total) => {
                    self.bar.set_length(total);
                    indicatif::ProgressStyle::with_template(
                        "{msg} [{bar:30}] {bytes}/{total_bytes} ({eta} left)",
                    )
                }
                None => indicatif::ProgressStyle::with_template("{spinner} {msg}"),
            };
            if let Ok(style) = style {
                self.bar.set_style(style.progress_chars("=> "));
            }
            self.bar
                .set_draw_target(indicatif::ProgressDrawTarget::stderr());
            self.bar.enable_steady_tick(Duration::from_millis(120));
        }
        self.bar.set_position(progress.bytes);
        self.bar.set_message(format!(
            "reading {}: {} records",
            self.trace, progress.records
        ));
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Reads an optional `--at`/`--since`/`--until` time against the trace's span.
fn parse_time(
    text: Option<String>,
    loaded: &query::Loaded,
) -> Result<Option<jiff::Timestamp>, QueryError> {
    text.map(|text| query::at::parse_time(&text, &loaded.history.facts))
        .transpose()
}

/// Whether stdout gets colour: as `--color` says; with `auto`, on a terminal unless `NO_COLOR`
/// is set to something (an empty `NO_COLOR` counts as unset, see no-color.org).
fn use_color() -> bool {
    use std::io::IsTerminal;
    match COLOR.get().copied().unwrap_or(cli::ColorArg::Auto) {
        cli::ColorArg::Always => true,
        cli::ColorArg::Never => false,
        cli::ColorArg::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
                && io::stdout().is_terminal()
        }
    }
}

/// Logs go to stderr; `KBLAME_LOG` (e.g. `debug`) sets the level. Default is warnings.
fn init_logging() {
    #[cfg(feature = "record")]
    {
        let filter = tracing_subscriber::EnvFilter::try_from_env("KBLAME_LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
        tracing_subscriber::fmt()
            .with_writer(io::stderr)
            .with_env_filter(filter)
            .with_target(false)
            .init();
    }
}

#[cfg(feature = "record")]
fn record(reader: &Reader, args: cli::RecordArgs) -> anyhow::Result<u8> {
    use kblame::record::{RecordSettings, RetryPolicy, Selection};
    let cli::RecordArgs {
        output,
        kubeconfig,
        context,
        cluster,
        namespaces,
        all_namespaces,
        selector,
        resources,
        all_resources,
        duration,
        flush_interval,
        record_secret_values,
        redact,
        redaction_key_file,
        stall_timeout,
        max_retry_interval,
        quiet,
        rediscover_interval,
        report,
        report_always,
        command,
    } = args;
    if let Some(key) = redaction_key_file
        .as_deref()
        .filter(|key| kblame::files::readable_by_others(key))
    {
        eprintln!(
            "warning: the redaction key file {} is readable by others: whoever reads it can test guesses against the trace's hashes (chmod 600 it)",
            key.display()
        );
    }
    let resources = match (all_resources, resources.is_empty()) {
        (true, _) => Selection::All,
        (false, true) => Selection::Defaults,
        (false, false) => Selection::Named(resources),
    };
    let settings = RecordSettings {
        output: output.clone(),
        kubeconfig,
        context,
        cluster,
        namespaces,
        all_namespaces,
        selector,
        resources,
        duration,
        flush_interval,
        redaction: kblame::redact::RedactSettings {
            rules: redact,
            keep_secret_values: record_secret_values,
            key_file: redaction_key_file,
        },
        stall_timeout,
        retry: RetryPolicy {
            max: max_retry_interval,
            ..RetryPolicy::default()
        },
        command,
        quiet,
        rediscover_interval,
    };
    let outcome = kblame::record::record(settings)?;
    if !quiet {
        eprintln!("wrote {} records to {}", outcome.records, output.display());
    }
    // Never silent: a resource that stopped being recorded is said at the end, even with --quiet.
    for gap in &outcome.open_gaps {
        eprintln!(
            "warning: {} was not recorded after {} ({}); `{} check` reports the trace as not whole",
            gap.resource,
            gap.since,
            gap.reason,
            program()
        );
    }
    if outcome.exit_code != 0 || report_always {
        write_record_reports(reader, &output, &report, quiet);
    }
    Ok(u8::try_from(outcome.exit_code.clamp(0, 255)).unwrap_or(1))
}

/// `record --report`: the closed trace's report in each format asked for. A report that cannot
/// be made is a warning: the exit code stays the command's.
#[cfg(feature = "record")]
fn write_record_reports(reader: &Reader, trace: &Path, targets: &[cli::ReportTarget], quiet: bool) {
    use clap::ValueEnum;
    if targets.is_empty() {
        return;
    }
    let trace = trace.display().to_string();
    let mut judged = match build_report(reader, &trace, None, None, None) {
        Ok(judged) => judged,
        Err(err) => {
            eprintln!("warning: no report of {trace}: {err:#}");
            return;
        }
    };
    for target in targets {
        let format = target
            .format
            .to_possible_value()
            .map(|value| value.get_name().to_string())
            .unwrap_or_default();
        let to = match &target.file {
            Some(file) => file.display().to_string(),
            None => "stdout".to_string(),
        };
        // JUnit failures follow `kblame report`'s default `--fail-on failed`.
        match write_report(&mut judged, target.format, false, target.file.as_deref()) {
            Ok(()) if !quiet => eprintln!("wrote the {format} report of {trace} to {to}"),
            Ok(()) => {}
            Err(err) => eprintln!("warning: no {format} report of {trace} to {to}: {err:#}"),
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|cause| cause.downcast_ref::<io::Error>())
        .any(|io| io.kind() == io::ErrorKind::BrokenPipe)
}

/// Prints `error: …`, each cause, and a hint when one helps (`analyze`: the error came from the
/// analyze command, whose flags the hint names).
fn report(err: &anyhow::Error, analyze: bool) {
    let mut causes = err.chain();
    if let Some(top) = causes.next() {
        eprintln!("error: {top}");
    }
    for cause in causes {
        eprintln!("  Caused by: {cause}");
    }
    if let Some(hint) = hint(err, analyze) {
        eprintln!("\nhint: {hint}");
    }
}

/// A next step for the error, naming only commands and flags that exist.
fn hint(err: &anyhow::Error, analyze: bool) -> Option<String> {
    use kblame::trace::TraceError;
    if let Some(err) = err.downcast_ref::<TraceError>() {
        return match err {
            TraceError::NotATrace { .. } | TraceError::IsDirectory { .. } => Some(format!(
                "kblame reads the traces `{} record` writes: NDJSON, zstd- or gzip-compressed or plain (see docs/trace-format.md)",
                program()
            )),
            TraceError::UnsupportedFormat { .. } => Some("upgrade kblame to read this trace".to_string()),
            _ => None,
        };
    }
    match err.downcast_ref::<QueryError>()? {
        QueryError::NotFound {
            pods_of: Some(workload),
            ..
        } => Some(workload_hint(workload, analyze)),
        QueryError::NotFound { kind, name, .. }
            if !name.starts_with("with UID") && kind != "resourceVersion" =>
        {
            Some(format!(
                "names are exact; `{} get TRACE {kind} --deleted` lists every {kind} the trace saw",
                program()
            ))
        }
        _ => None,
    }
}

/// How to ask about a workload named where a pod was asked for, or about one of its pods.
fn workload_hint(workload: &kblame::query::PodsOf, analyze: bool) -> String {
    let object = format!("{}/{}", workload.kind, workload.name);
    let judged = matches!(workload.kind.as_str(), "deployment" | "replicaset");
    match (analyze, judged) {
        (true, true) => format!(
            "ask about one of its pods with --pod NAME, or about the {} itself with --object {object}",
            workload.kind
        ),
        (true, false) => format!(
            "ask about one of its pods with --pod NAME; `{} tree TRACE {object}` shows the {} and its pods",
            program(),
            workload.kind
        ),
        (false, _) => format!(
            "ask about one of its pods as pod/NAME, or about the {} itself as {object}",
            workload.kind
        ),
    }
}
