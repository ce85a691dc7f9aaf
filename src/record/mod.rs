//! `kblame record`: list and watch a live cluster with kube-rs into a crash-safe trace.
//!
//! Each resource (per namespace) is driven by the state machine in `state.rs`; all
//! of them feed one writer thread (`sink.rs`) through a bounded channel. The writer
//! ends a zstd frame at least every `--flush-interval`, so a killed recorder leaves a
//! readable trace. Recording stops on SIGINT/SIGTERM, after `--duration`, or when the
//! command given after `--` exits; END is written and the file closed. A write that fails
//! (a full disk) stops it too: the frames before the failure stay readable, and no END says
//! the trace was cut short.

mod api;
mod connect;
mod resources;
mod sink;
mod state;
mod status;
mod watcher;

pub use resources::{Selection, DEFAULT_RESOURCES};
pub use sink::OpenGap;
pub use watcher::RetryPolicy;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use kube::Client;

use crate::files;
use crate::redact::{RedactError, RedactSettings, Redactor};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::trace::{Header, ResourceInfo, SourceInfo, WriterOptions};
use api::Api;
use sink::{Message, Sink, Stats};
use watcher::Target;

/// How long `-- COMMAND` waits for every resource's first list before starting anyway.
const FIRST_LISTS_TIMEOUT: Duration = Duration::from_secs(60);

/// Everything `kblame record` was asked to do.
#[derive(Debug, Clone)]
pub struct RecordSettings {
    /// Where to write the trace; a name ending in `.ndjson` is written uncompressed.
    pub output: PathBuf,
    /// The kubeconfig file. Default is `$KUBECONFIG` or `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// The context to use. Default is the current context.
    pub context: Option<String>,
    /// The cluster's name for the header (`export` files the trace under it). Default is the
    /// kubeconfig context's cluster.
    pub cluster: Option<String>,
    /// Namespaces to record; empty means the context's namespace (unless `all_namespaces`).
    pub namespaces: Vec<String>,
    /// Record every namespace. Default is false.
    pub all_namespaces: bool,
    /// A label selector applied to every resource. Default is none.
    pub selector: Option<String>,
    /// Which resources. Default is [`Selection::Defaults`].
    pub resources: Selection,
    /// Stop after this long. Default is until stopped.
    pub duration: Option<Duration>,
    /// End a frame at least this often. Default is 1 s.
    pub flush_interval: Duration,
    /// What is redacted, and under which key. Default is Secret values under a random key.
    pub redaction: RedactSettings,
    /// A request or stream that makes no progress for this long is given up and retried
    /// (a watch resumes where it was). Default is 120 s.
    pub stall_timeout: Duration,
    /// Waits between failed requests. Default is [`RetryPolicy::default`].
    pub retry: RetryPolicy,
    /// Run this command while recording and stop when it exits. Default is none.
    pub command: Vec<String>,
    /// No status line. Default is false (a status line when stderr is a terminal).
    pub quiet: bool,
    /// How often `--all-resources` looks for resources (such as new CRDs) that appeared.
    /// Default is 30 s.
    pub rediscover_interval: Duration,
}

/// A recording that could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The kubeconfig could not be read or has no usable context.
    #[error("cannot use the kubeconfig: {0}")]
    Kubeconfig(String),
    /// No client could be built.
    #[error("cannot connect: {0}")]
    Connect(String),
    /// The discovery documents could not be read.
    #[error("cannot discover the server's resources: {0}")]
    Discovery(String),
    /// Resources named with `--resources` that the server does not offer.
    #[error("the server has no resource named {}", .0.join(", "))]
    UnknownResources(Vec<String>),
    /// Nothing is left to record (all denied or none selected).
    #[error("nothing to record: {0}")]
    NothingToRecord(String),
    /// The trace file could not be created.
    #[error("cannot write {path}")]
    Output {
        /// The trace path.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Writing the trace failed part way (e.g. the disk is full).
    #[error("recording stopped: cannot write {path}; it keeps the {records} records before the failure (the last at {last}), readable but without END, so `kblame check` reports it as cut short")]
    WriteFailed {
        /// The trace path.
        path: String,
        /// Records written before the failure.
        records: u64,
        /// The time of the last of them.
        last: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Redaction could not be set up.
    #[error(transparent)]
    Redact(#[from] RedactError),
    /// The command after `--` could not be started.
    #[error("cannot run {command}")]
    Command {
        /// The command.
        command: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The async runtime could not start.
    #[error("cannot start the runtime")]
    Runtime(#[source] std::io::Error),
}

/// How a recording ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordOutcome {
    /// Records written, END included.
    pub records: u64,
    /// The exit code to return: the command's, or 0.
    pub exit_code: i32,
    /// Resources that could not be read again after a GAP, up to the end: the trace holds
    /// nothing of them after their GAP.
    pub open_gaps: Vec<OpenGap>,
}

/// Records until stopped; blocks the calling thread.
pub fn record(settings: RecordSettings) -> Result<RecordOutcome, RecordError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(RecordError::Runtime)?;
    runtime.block_on(run(settings))
}

async fn run(settings: RecordSettings) -> Result<RecordOutcome, RecordError> {
    let redactor = Arc::new(Redactor::new(&settings.redaction)?);
    let connection =
        connect::connect(settings.kubeconfig.as_deref(), settings.context.as_deref()).await?;
    let client = connection.clients.get().1;
    let api = Arc::new(Api::new(
        Arc::clone(&connection.clients),
        settings.stall_timeout,
    ));
    let resources = choose_resources(&client, &settings).await?;
    let namespaces = namespaces(&settings, &connection.default_namespace);
    let targets = targets(&resources, &namespaces, &settings, &redactor);
    let targets = drop_denied(&api, targets).await;
    if targets.is_empty() {
        return Err(RecordError::NothingToRecord(
            "every selected resource was denied".into(),
        ));
    }
    let cluster = settings.cluster.clone().or(connection.cluster.clone());
    let header = header(
        &client,
        (&connection.server, cluster),
        &targets,
        &namespaces,
        &redactor,
    )
    .await;
    let stats = Arc::new(Stats::default());
    let sink = start_sink(&settings, &header, Arc::clone(&stats))?;
    let status = show_status(&settings, &stats);
    let (synced_tx, synced_rx) = mpsc::channel(targets.len().max(1));
    let mut watchers = JoinSet::new();
    let mut recorded: Vec<ResourceInfo> = Vec::new();
    for target in targets {
        recorded.push(target.info.clone());
        watchers.spawn(watcher::record(
            Arc::clone(&api),
            target,
            sink.sender(),
            synced_tx.clone(),
            settings.retry,
        ));
    }
    let ticker = tokio::spawn(tick(sink.sender(), settings.flush_interval));
    let rediscovery = settings.resources.eq(&Selection::All).then(|| {
        tokio::spawn(rediscover(
            Arc::clone(&api),
            Arc::clone(&connection.clients),
            settings.clone(),
            namespaces.clone(),
            recorded,
            sink.sender(),
            synced_tx.clone(),
            Arc::clone(&redactor),
        ))
    });
    drop(synced_tx);
    let writer_gone = sink.sender();
    let exit_code = wait_for_stop(&settings, synced_rx, watchers.len(), &writer_gone).await;
    drop(writer_gone);
    watchers.abort_all();
    while watchers.join_next().await.is_some() {}
    ticker.abort();
    let _ = ticker.await;
    if let Some(task) = rediscovery {
        task.abort();
        let _ = task.await;
    }
    if let Some(status) = status {
        status.abort();
    }
    let output = settings.output.display().to_string();
    let written = tokio::task::spawn_blocking(move || sink.finish())
        .await
        .map_err(|e| RecordError::Output {
            path: output.clone(),
            source: std::io::Error::other(e),
        })?
        .map_err(|failure| RecordError::WriteFailed {
            path: output,
            records: failure.records,
            last: failure.last,
            source: failure.source,
        })?;
    let exit_code = exit_code?;
    Ok(RecordOutcome {
        records: written.records,
        exit_code,
        open_gaps: written.open_gaps,
    })
}

async fn choose_resources(
    client: &Client,
    settings: &RecordSettings,
) -> Result<Vec<ResourceInfo>, RecordError> {
    let available = resources::discover(client).await?;
    let (chosen, unknown) = resources::select(&available, &settings.resources);
    if !unknown.is_empty() {
        return Err(RecordError::UnknownResources(unknown));
    }
    if chosen.is_empty() {
        return Err(RecordError::NothingToRecord(
            "the server offers none of the selected resources".into(),
        ));
    }
    Ok(chosen)
}

/// `None` for all namespaces, else the namespaces to record.
fn namespaces(settings: &RecordSettings, default_namespace: &str) -> Option<Vec<String>> {
    if settings.all_namespaces {
        None
    } else if settings.namespaces.is_empty() {
        Some(vec![default_namespace.to_string()])
    } else {
        Some(settings.namespaces.clone())
    }
}

fn targets(
    resources: &[ResourceInfo],
    namespaces: &Option<Vec<String>>,
    settings: &RecordSettings,
    redactor: &Arc<Redactor>,
) -> Vec<Target> {
    let mut targets = Vec::new();
    for info in resources {
        let scopes: Vec<Option<String>> = match namespaces {
            Some(list) if info.namespaced => list.iter().cloned().map(Some).collect(),
            _ => vec![None],
        };
        for namespace in scopes {
            targets.push(Target {
                info: info.clone(),
                namespace,
                selector: settings.selector.clone(),
                redactor: Arc::clone(redactor),
            });
        }
    }
    targets
}

/// Resources the user may not list are skipped with a warning, before the header names them.
async fn drop_denied(api: &Api, targets: Vec<Target>) -> Vec<Target> {
    let mut allowed = Vec::new();
    for target in targets {
        match watcher::probe(api, &target).await {
            Ok(()) => allowed.push(target),
            Err(message) => tracing::warn!(resource = %target.info.path(), "skipped: {message}"),
        }
    }
    allowed
}

async fn header(
    client: &Client,
    (server, cluster): (&str, Option<String>),
    targets: &[Target],
    namespaces: &Option<Vec<String>>,
    redactor: &Redactor,
) -> Header {
    let server_version = client
        .apiserver_version()
        .await
        .ok()
        .map(|info| info.git_version);
    let source = SourceInfo {
        kind: "watch".to_string(),
        tool: Some(format!("kblame {}", env!("CARGO_PKG_VERSION"))),
        server: Some(server.to_string()),
        server_version,
        cluster,
    };
    let mut header = Header::new(Timestamp::now(), source);
    for target in targets {
        if !header.resources.contains(&target.info) {
            header.resources.push(target.info.clone());
        }
    }
    header.namespaces = namespaces.clone();
    header.redacted = redactor.rule_names();
    header.redaction = Some(redactor.info());
    header
}

fn start_sink(
    settings: &RecordSettings,
    header: &Header,
    stats: Arc<Stats>,
) -> Result<Sink, RecordError> {
    let path = settings.output.display().to_string();
    let file = files::create_private(&settings.output).map_err(|source| RecordError::Output {
        path: path.clone(),
        source,
    })?;
    let options = WriterOptions {
        compress: !path.ends_with(".ndjson"),
        flush_span: jiff::SignedDuration::try_from(settings.flush_interval)
            .unwrap_or(jiff::SignedDuration::from_secs(1)),
        flush_age: settings.flush_interval,
        ..WriterOptions::default()
    };
    Sink::start(file, header, options, stats).map_err(|source| RecordError::Output { path, source })
}

fn show_status(
    settings: &RecordSettings,
    stats: &Arc<Stats>,
) -> Option<tokio::task::JoinHandle<()>> {
    let show = !settings.quiet && std::io::stderr().is_terminal();
    show.then(|| {
        tokio::spawn(status::show(
            Arc::clone(stats),
            settings.output.display().to_string(),
        ))
    })
}

/// Asks the writer to end old frames every `interval`.
async fn tick(sender: mpsc::Sender<Message>, interval: Duration) {
    let mut timer = tokio::time::interval(interval.max(Duration::from_millis(10)));
    loop {
        timer.tick().await;
        if sender.send(Message::Tick).await.is_err() {
            return;
        }
    }
}

/// With `--all-resources`, records resources that appear later (e.g. a CRD created while recording).
#[allow(clippy::too_many_arguments)]
async fn rediscover(
    api: Arc<Api>,
    clients: Arc<connect::Clients>,
    settings: RecordSettings,
    namespaces: Option<Vec<String>>,
    mut recorded: Vec<ResourceInfo>,
    sender: mpsc::Sender<Message>,
    synced: mpsc::Sender<()>,
    redactor: Arc<Redactor>,
) {
    let mut watchers = JoinSet::new();
    loop {
        tokio::time::sleep(settings.rediscover_interval).await;
        let Ok(available) = resources::discover(&clients.get().1).await else {
            continue;
        };
        let new: Vec<ResourceInfo> = available
            .into_iter()
            .filter(|r| !recorded.contains(r))
            .collect();
        let new_targets = targets(&new, &namespaces, &settings, &redactor);
        for target in drop_denied(&api, new_targets).await {
            tracing::info!(resource = %target.info.path(), "recording a resource that appeared");
            watchers.spawn(watcher::record(
                Arc::clone(&api),
                target,
                sender.clone(),
                synced.clone(),
                settings.retry,
            ));
        }
        recorded.extend(new);
    }
}

/// Waits for SIGINT/SIGTERM, the duration, or the command's exit; returns the exit code to use.
/// Also stops when the writer is gone (a write failed): its error is then reported by `finish`.
async fn wait_for_stop(
    settings: &RecordSettings,
    synced: mpsc::Receiver<()>,
    watchers: usize,
    writer: &mpsc::Sender<Message>,
) -> Result<i32, RecordError> {
    let stop_signal = stop_signal();
    let duration = async {
        match settings.duration {
            Some(limit) => tokio::time::sleep(limit).await,
            None => std::future::pending().await,
        }
    };
    let command = run_command(&settings.command, synced, watchers);
    tokio::select! {
        _ = stop_signal => Ok(0),
        _ = duration => Ok(0),
        _ = writer.closed() => Ok(1),
        code = command => code,
    }
}

async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let terminate = signal(SignalKind::terminate());
    let interrupt = signal(SignalKind::interrupt());
    match (terminate, interrupt) {
        (Ok(mut terminate), Ok(mut interrupt)) => {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Runs the command once every resource has its first list written; pends forever without one.
async fn run_command(
    command: &[String],
    mut synced: mpsc::Receiver<()>,
    watchers: usize,
) -> Result<i32, RecordError> {
    let Some((program, args)) = command.split_first() else {
        return std::future::pending().await;
    };
    let first_lists = async {
        for _ in 0..watchers {
            if synced.recv().await.is_none() {
                break;
            }
        }
    };
    if tokio::time::timeout(FIRST_LISTS_TIMEOUT, first_lists)
        .await
        .is_err()
    {
        tracing::warn!("not every resource has been listed yet; starting the command anyway");
    }
    let status = tokio::process::Command::new(program)
        .args(args)
        .status()
        .await
        .map_err(|source| RecordError::Command {
            command: command.join(" "),
            source,
        })?;
    Ok(exit_code_of(status))
}

fn exit_code_of(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}
