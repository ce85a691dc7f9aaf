//! Runs every command on one trace: in-process through the library calls `src/main.rs` makes
//! (each under `catch_unwind`, the whole case under a time limit), or through the real binary.

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex, Once};
use std::time::{Duration, Instant};

use kblame::history::path::FieldPath;
use kblame::query::{self, IndexMode, Loaded, Opened, QueryError, Scope};
use kblame::render::{self, blame::TimeStyle};
use kblame::trace::TraceSource;

use super::rng::Rng;

/// How a command reads the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// Through the index, built on this read and never saved (`--index never`).
    Indexed,
    /// Through an index saved beside the trace by a first read and loaded by a second.
    SavedIndex,
    /// Whole, in one stream (standard input, or a trace that cannot be indexed).
    Whole,
}

/// One command line.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `check`.
    Check,
    /// `check --strict`.
    CheckStrict,
    /// `analyze --pod NAME [-n NS] [--uid UID]`.
    Pod {
        name: String,
        namespace: Option<String>,
        uid: Option<String>,
    },
    /// `analyze --object deployment/NAME [--at TIME]`.
    Rollout { object: String, at: Option<String> },
    /// `blame KIND/NAME [--at TIME] [--history PATH]`.
    Blame {
        object: String,
        at: Option<String>,
        history: Option<String>,
    },
    /// `tree KIND/NAME [--at TIME] [--deleted]`.
    Tree {
        object: String,
        at: Option<String>,
        deleted: bool,
    },
    /// `diff KIND/NAME --from A --to B`.
    Diff {
        object: String,
        from: String,
        to: String,
    },
    /// `timeline [--object KIND/NAME] [-n NS] [--since T] [--until T]`.
    Timeline {
        object: Option<String>,
        namespace: Option<String>,
        since: Option<String>,
        until: Option<String>,
    },
    /// `get [KIND] [-n NS | -A] [--at T] [--deleted] [-o wide]`.
    Get {
        kind: Option<String>,
        namespace: Option<String>,
        all_namespaces: bool,
        at: Option<String>,
        deleted: bool,
    },
}

impl Command {
    /// The arguments after `kblame`, with the trace path.
    pub fn args(&self, trace: &str) -> Vec<String> {
        let mut args: Vec<String> = Vec::new();
        let opt = |args: &mut Vec<String>, flag: &str, value: &Option<String>| {
            if let Some(value) = value {
                args.extend([flag.to_string(), value.clone()]);
            }
        };
        match self {
            Command::Check => args.extend(["check".into(), trace.into()]),
            Command::CheckStrict => args.extend(["check".into(), "--strict".into(), trace.into()]),
            Command::Pod {
                name,
                namespace,
                uid,
            } => {
                args.extend(["analyze".into(), trace.into(), "--pod".into(), name.clone()]);
                opt(&mut args, "-n", namespace);
                opt(&mut args, "--uid", uid);
            }
            Command::Rollout { object, at } => {
                args.extend([
                    "analyze".into(),
                    trace.into(),
                    "--object".into(),
                    object.clone(),
                ]);
                opt(&mut args, "--at", at);
            }
            Command::Blame {
                object,
                at,
                history,
            } => {
                args.extend(["blame".into(), trace.into(), object.clone()]);
                opt(&mut args, "--at", at);
                opt(&mut args, "--history", history);
            }
            Command::Tree {
                object,
                at,
                deleted,
            } => {
                args.extend(["tree".into(), trace.into(), object.clone()]);
                opt(&mut args, "--at", at);
                if *deleted {
                    args.push("--deleted".into());
                }
            }
            Command::Diff { object, from, to } => args.extend([
                "diff".into(),
                trace.into(),
                object.clone(),
                format!("--from={from}"),
                format!("--to={to}"),
            ]),
            Command::Timeline {
                object,
                namespace,
                since,
                until,
            } => {
                args.extend(["timeline".into(), trace.into()]);
                opt(&mut args, "--object", object);
                opt(&mut args, "-n", namespace);
                opt(&mut args, "--since", since);
                opt(&mut args, "--until", until);
            }
            Command::Get {
                kind,
                namespace,
                all_namespaces,
                at,
                deleted,
            } => {
                args.extend(["get".into(), trace.into()]);
                args.extend(kind.clone());
                opt(&mut args, "-n", namespace);
                if *all_namespaces {
                    args.push("-A".into());
                }
                opt(&mut args, "--at", at);
                if *deleted {
                    args.push("--deleted".into());
                }
            }
        }
        args
    }

    fn label(&self) -> String {
        self.args("TRACE").join(" ")
    }
}

/// One step of a case: reading the trace whole to plan the commands, or one command.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// `query::load`, as for standard input.
    ReadWhole,
    /// A command, read as said, its text in colour or not.
    Run(Command, Reading, bool),
}

/// Something that went wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The command, as typed.
    pub command: String,
    /// What happened: a panic and its message, a hang, a bad exit code, a missing message.
    pub what: String,
    /// Where it panicked, when it did.
    pub place: Option<String>,
    /// The step that failed (in-process runs only).
    pub step: Option<Step>,
}

impl Failure {
    fn new(command: &str, what: String) -> Failure {
        Failure {
            command: command.to_string(),
            what,
            place: None,
            step: None,
        }
    }

    /// The kind of failure, without the details that vary between inputs (for minimizing): the
    /// command word and the panic's place, or the first words of what happened.
    pub fn kind(&self) -> String {
        let word = self.command.split(' ').next().unwrap_or("");
        match &self.place {
            Some(place) => format!("{word} | {place}"),
            None => {
                let what: String = self.what.chars().take(40).collect();
                format!("{word} | {what}")
            }
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`kblame {}`: {}", self.command, self.what)?;
        if let Some(place) = &self.place {
            write!(f, " (at {place})")?;
        }
        Ok(())
    }
}

/// What running the commands on one trace gave.
#[derive(Debug, Default)]
pub struct CaseReport {
    /// Commands run (each rendered in every format).
    pub runs: u64,
    /// The first failure, if any.
    pub failure: Option<Failure>,
}

/// The commands worth running on a trace: every command, on a sample of its objects.
pub fn plan(rng: &mut Rng, loaded: Option<&Loaded>) -> Vec<Command> {
    let mut commands = vec![Command::Check, Command::CheckStrict];
    let Some(loaded) = loaded else {
        commands.push(Command::Pod {
            name: "web".into(),
            namespace: None,
            uid: None,
        });
        commands.push(Command::Timeline {
            object: None,
            namespace: None,
            since: None,
            until: None,
        });
        return commands;
    };
    let history = &loaded.history;
    let of_kind = |kind: &str| -> Vec<(String, String, String)> {
        history
            .of_kind(kind)
            .map(|id| history.object(id))
            .filter(|o| o.kind == kind)
            .map(|o| (o.name.clone(), o.namespace.clone(), o.uid.clone()))
            .collect()
    };
    let times = times(rng, loaded);
    let time = |rng: &mut Rng| match rng.chance(60) {
        true => None,
        false => Some(rng.pick(&times).clone()),
    };
    let pods = of_kind("Pod");
    for (name, namespace, uid) in sample(rng, &pods, 3) {
        commands.push(Command::Pod {
            name,
            namespace: rng.chance(30).then_some(namespace),
            uid: rng.chance(15).then_some(uid),
        });
    }
    commands.push(Command::Pod {
        name: "no-such-pod".into(),
        namespace: None,
        uid: None,
    });
    for (name, _, _) in sample(rng, &of_kind("Deployment"), 2) {
        let object = format!("deployment/{name}");
        commands.push(Command::Rollout {
            object: object.clone(),
            at: time(rng),
        });
        commands.push(Command::Blame {
            object: object.clone(),
            at: time(rng),
            history: rng.chance(40).then(|| {
                rng.pick(&[
                    "spec.template.spec.containers",
                    "spec.replicas",
                    "metadata",
                    "",
                ])
                .to_string()
            }),
        });
        commands.push(Command::Tree {
            object: object.clone(),
            at: time(rng),
            deleted: rng.chance(50),
        });
        let sides = [
            "1",
            "2",
            "3",
            "rv:1",
            "+10s",
            "-1s",
            "0",
            "99999999999999999999",
        ];
        commands.push(Command::Diff {
            object: object.clone(),
            from: rng.pick(&sides).to_string(),
            to: rng.pick(&sides).to_string(),
        });
        commands.push(Command::Timeline {
            object: Some(object),
            namespace: None,
            since: time(rng),
            until: time(rng),
        });
    }
    let others: Vec<(String, String)> = [
        "ReplicaSet",
        "Pod",
        "Event",
        "HorizontalPodAutoscaler",
        "Node",
    ]
    .iter()
    .flat_map(|kind| {
        of_kind(kind)
            .into_iter()
            .map(move |(n, _, _)| (kind.to_string(), n))
    })
    .collect();
    if let Some((kind, name)) = (!others.is_empty()).then(|| rng.pick(&others).clone()) {
        let object = format!("{kind}/{name}");
        commands.push(Command::Blame {
            object: object.clone(),
            at: time(rng),
            history: None,
        });
        commands.push(Command::Tree {
            object: object.clone(),
            at: None,
            deleted: true,
        });
        commands.push(Command::Diff {
            object,
            from: "+0s".into(),
            to: "-0s".into(),
        });
    }
    let namespace = pods.first().map(|(_, ns, _)| ns.clone());
    commands.push(Command::Timeline {
        object: None,
        namespace: namespace.filter(|_| rng.chance(50)),
        since: time(rng),
        until: time(rng),
    });
    let kinds = [
        "pods",
        "deploy",
        "rs",
        "events",
        "hpa",
        "configmaps",
        "po,deploy",
        "deployments.apps",
        "nodes",
        "no-such-kind",
    ];
    for _ in 0..2 {
        commands.push(Command::Get {
            kind: rng.chance(70).then(|| rng.pick(&kinds).to_string()),
            namespace: pods
                .first()
                .map(|(_, ns, _)| ns.clone())
                .filter(|_| rng.chance(30)),
            all_namespaces: rng.chance(30),
            at: time(rng),
            deleted: rng.chance(50),
        });
    }
    commands
}

fn sample<T: Clone>(rng: &mut Rng, items: &[T], count: usize) -> Vec<T> {
    (0..count.min(items.len()))
        .map(|_| rng.pick(items).clone())
        .collect()
}

/// Times to ask about: inside the trace, at its edges, outside it, and nonsense.
fn times(rng: &mut Rng, loaded: &Loaded) -> Vec<String> {
    let mut times = vec![
        "+0s".to_string(),
        "-0s".to_string(),
        "+30s".to_string(),
        "-1m".to_string(),
        "+100000h".to_string(),
        "yesterday".to_string(),
        "2026-11-26T16:05:00Z".to_string(),
    ];
    let facts = &loaded.history.facts;
    if let (Some(start), Some(end)) = (facts.start, facts.end) {
        times.push(start.to_string());
        times.push(end.to_string());
        let span = start.duration_until(end).as_secs().max(1);
        let offset = rng.range(0, span);
        times.push(format!("+{offset}s"));
    }
    times
}

/// Where a case is: commands run, the one running and since when.
type Progress = Mutex<(u64, String, Instant)>;

/// Runs the commands [`plan`] chooses (from `seed`) on the trace at `path` in-process, and stops
/// at the first failure. Each command must finish within `limit`. With `compare`, the answers of
/// `analyze` through the index must equal those of a whole read (`KBLAME_FUZZ_DIFF=1` turns it
/// on for every case).
pub fn run_in_process(path: &Path, seed: u64, limit: Duration, compare: bool) -> CaseReport {
    quiet_panics();
    let progress = Arc::new(Mutex::new((
        0u64,
        String::from("read whole"),
        Instant::now(),
    )));
    let (done, finished) = mpsc::channel();
    let shared = Arc::clone(&progress);
    let path = path.to_path_buf();
    std::thread::Builder::new()
        .name("fuzz-case".into())
        .spawn(move || {
            let compare = compare || std::env::var_os("KBLAME_FUZZ_DIFF").is_some();
            let failure = run_case(&path, seed, &shared, compare);
            let _ = done.send(failure);
        })
        .expect("a thread");
    let failure = loop {
        match finished.recv_timeout(Duration::from_millis(200)) {
            Ok(failure) => break failure,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                break Some(Failure::new("case", "the case's thread died".into()))
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let (command, since) = progress
                    .lock()
                    .map(|p| (p.1.clone(), p.2))
                    .unwrap_or_else(|_| (String::new(), Instant::now()));
                if since.elapsed() > limit {
                    break Some(Failure::new(
                        &command,
                        format!("no answer within {} s (a hang)", limit.as_secs()),
                    ));
                }
            }
        }
    };
    let runs = progress.lock().map(|p| p.0).unwrap_or(0);
    CaseReport { runs, failure }
}

fn run_case(path: &Path, seed: u64, progress: &Progress, compare: bool) -> Option<Failure> {
    let mut rng = Rng::new(seed);
    let source = TraceSource::Path(path.to_path_buf());
    let loaded = match run_step(&source, &Step::ReadWhole) {
        Err(failure) => return Some(*failure),
        Ok(loaded) => loaded,
    };
    for command in plan(&mut rng, loaded.as_ref()) {
        let reading = match rng.below(10) {
            0..=5 => Reading::Indexed,
            6 => Reading::SavedIndex,
            _ => Reading::Whole,
        };
        let step = Step::Run(command, reading, rng.chance(50));
        if let (Ok(mut p), Step::Run(command, ..)) = (progress.lock(), &step) {
            p.1 = format!("{} ({reading:?})", command.label());
            p.2 = Instant::now();
            if std::env::var_os("KBLAME_FUZZ_VERBOSE").is_some() {
                eprintln!("seed {seed}: {}", p.1);
            }
        }
        let outcome = run_step(&source, &step);
        if let Ok(mut p) = progress.lock() {
            p.0 += 1;
        }
        if let Err(failure) = outcome {
            return Some(*failure);
        }
        if compare {
            if let Step::Run(command, ..) = &step {
                if let Some(failure) = index_and_whole_disagree(command, &source) {
                    return Some(failure);
                }
            }
        }
    }
    None
}

/// For `analyze` (and whether `check` can read the trace at all): whether the answer through the
/// index differs from a whole replay's. Warnings are set aside, and traces with lines that do not
/// parse are left out: the index's fast scan does not validate what it skips (by design, see
/// the README's "Index files"), so such a line counts in its totals (the trace's end, say) until
/// a question reads it.
fn index_and_whole_disagree(command: &Command, source: &TraceSource) -> Option<Failure> {
    let whole = panic::catch_unwind(AssertUnwindSafe(|| query::load(source))).ok()?;
    if whole.as_ref().is_ok_and(|loaded| loaded.read.bad_lines > 0) {
        return None;
    }
    let answer = |reading: Reading| -> Option<serde_json::Value> {
        let run = || -> anyhow::Result<serde_json::Value> {
            let opened = open(source, reading)?;
            let value = match command {
                Command::Pod {
                    name,
                    namespace,
                    uid,
                } => serde_json::to_value(pod_report(opened, name, namespace, uid)?)?,
                Command::Rollout { object, at: None } => {
                    let target = kblame::query::select::ObjectQuery::parse_with_kinds(
                        object,
                        &opened.kinds(),
                    )?;
                    let mut loaded = opened.load(&Scope::Around(target.clone()))?;
                    let query = query::rollout::RolloutQuery {
                        object: target,
                        at: None,
                    };
                    serde_json::to_value(query::rollout::rollout(&mut loaded, &query)?)?
                }
                Command::Get { .. } => serde_json::to_value(get_report(opened, command)?)?,
                _ => return Ok(serde_json::Value::Null),
            };
            Ok(value)
        };
        let mut value = match panic::catch_unwind(AssertUnwindSafe(run)) {
            Ok(Ok(value)) => value,
            // A question both cannot answer must fail alike; input neither can read may be
            // described differently (the index says which frame broke).
            Ok(Err(err)) if err.downcast_ref::<QueryError>().is_some() => {
                serde_json::Value::String(format!("error: {err}"))
            }
            Ok(Err(_)) => serde_json::Value::String("error: unreadable".into()),
            Err(_) => return None,
        };
        if let Some(map) = value.as_object_mut() {
            map.remove("warnings");
        }
        Some(value)
    };
    let (indexed, whole) = (answer(Reading::Indexed)?, answer(Reading::Whole)?);
    (indexed != whole).then(|| {
        let mut what = format!("the index and a whole read disagree: {indexed} vs {whole}");
        what.truncate(3000);
        Failure {
            step: Some(Step::Run(command.clone(), Reading::Indexed, false)),
            ..Failure::new(&command.label(), what)
        }
    })
}

/// Runs one step; for [`Step::ReadWhole`], returns the trace read whole when it can be.
fn run_step(source: &TraceSource, step: &Step) -> Result<Option<Loaded>, Box<Failure>> {
    let (label, outcome) = match step {
        Step::ReadWhole => (
            "read whole".to_string(),
            guarded(|| query::load(source).map_err(anyhow::Error::from)).map(|r| r.ok()),
        ),
        Step::Run(command, reading, color) => (
            format!("{} ({reading:?})", command.label()),
            guarded(|| run_command(command, source, *reading, *color)).map(|_| None),
        ),
    };
    outcome.map_err(|(what, place)| {
        Box::new(Failure {
            command: label,
            what,
            place,
            step: Some(step.clone()),
        })
    })
}

/// Runs one step alone on the trace at `path`, within `limit`.
pub fn run_alone(path: &Path, step: &Step, limit: Duration) -> Option<Failure> {
    quiet_panics();
    let (done, finished) = mpsc::channel();
    let source = TraceSource::Path(path.to_path_buf());
    let moved = step.clone();
    std::thread::Builder::new()
        .name("fuzz-step".into())
        .spawn(move || {
            let _ = done.send(run_step(&source, &moved).err().map(|f| *f));
        })
        .expect("a thread");
    finished.recv_timeout(limit).unwrap_or_else(|_| {
        Some(Failure {
            step: Some(step.clone()),
            ..Failure::new(
                "step",
                format!("no answer within {} s (a hang)", limit.as_secs()),
            )
        })
    })
}

/// Runs `f` under `catch_unwind`; a panic or an error without a message is a failure (what
/// happened, and where it panicked).
fn guarded<T>(
    f: impl FnOnce() -> anyhow::Result<T>,
) -> Result<anyhow::Result<T>, (String, Option<String>)> {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(value)) => Ok(Ok(value)),
        Ok(Err(err)) if err.to_string().trim().is_empty() => {
            Err(("an error without a message".into(), None))
        }
        Ok(Err(err)) => Ok(Err(err)),
        Err(payload) => {
            let text = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "(no message)".into());
            let place = LAST_PANIC.lock().ok().and_then(|p| p.clone());
            Err((format!("panicked: {text}"), place))
        }
    }
}

static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Where a panic happened: its location, and when that is in a dependency (jiff, core, serde),
/// the innermost frame of kblame's own source that led there.
fn place(location: &str) -> String {
    if location.starts_with("src/") {
        return location.to_string();
    }
    let ours = concat!(env!("CARGO_MANIFEST_DIR"), "/");
    let backtrace = std::backtrace::Backtrace::force_capture().to_string();
    let caller = backtrace
        .lines()
        .filter_map(|line| line.trim().strip_prefix("at "))
        .filter_map(|at| at.strip_prefix(ours))
        .find(|at| at.starts_with("src/"));
    match caller {
        Some(caller) => format!("{caller} (in {location})"),
        None => location.to_string(),
    }
}

/// Keeps panics of the fuzzed commands off stderr (they are reported as failures), and notes
/// where each happened.
fn quiet_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if let Ok(mut last) = LAST_PANIC.lock() {
                *last = info.location().map(|l| place(&l.to_string()));
            }
            let fuzzed = std::thread::current()
                .name()
                .is_some_and(|n| n.starts_with("fuzz-"));
            if !fuzzed {
                default(info);
            }
        }));
    });
}

/// One command, as `src/main.rs` runs it, rendered in every format; returns its exit code.
fn run_command(
    command: &Command,
    source: &TraceSource,
    reading: Reading,
    color: bool,
) -> anyhow::Result<u8> {
    let result = execute(command, source, reading, color);
    match result {
        Ok(code) => Ok(code),
        Err(err) if err.downcast_ref::<QueryError>().is_some() => Ok(1),
        Err(err) => {
            // Exit 2: the input cannot be read. Its message must say something.
            let text = format!("{err:#}");
            match text.trim().is_empty() {
                true => Err(err),
                false => Ok(2),
            }
        }
    }
}

/// `analyze --pod NAME [-n NAMESPACE] [--uid UID]` on an opened trace.
fn pod_report(
    opened: Opened,
    name: &str,
    namespace: &Option<String>,
    uid: &Option<String>,
) -> anyhow::Result<query::pod::PodReport> {
    let target = kblame::query::select::ObjectQuery {
        kind: "Pod".into(),
        name: name.to_string(),
        namespace: namespace.clone(),
        uid: uid.clone(),
        group: None,
    };
    let mut loaded = opened.load(&Scope::Around(target))?;
    let query = query::pod::PodQuery {
        name: name.to_string(),
        namespace: namespace.clone(),
        uid: uid.clone(),
    };
    Ok(query::pod::analyze_pod(&mut loaded, &query)?)
}

/// `get …` on an opened trace (`command` is a [`Command::Get`]).
fn get_report(opened: Opened, command: &Command) -> anyhow::Result<query::get::GetReport> {
    use kblame::query::get::{parse_kinds, scope, GetQuery};
    let Command::Get {
        kind,
        namespace,
        all_namespaces,
        at,
        deleted,
    } = command
    else {
        anyhow::bail!("not a get command: {}", command.label());
    };
    let kinds = match kind {
        Some(words) => parse_kinds(words, &opened.kinds())?,
        None => Vec::new(),
    };
    let mut query = GetQuery {
        kinds,
        namespace: namespace.clone(),
        all_namespaces: *all_namespaces,
        at: None,
        deleted: *deleted,
    };
    let scope = scope(&query, &opened.kinds());
    let loaded = opened.load(&scope)?;
    query.at = at
        .as_ref()
        .map(|t| query::at::parse_time(t, &loaded.history.facts))
        .transpose()?;
    Ok(query::get::get(&loaded, &query)?)
}

fn open(source: &TraceSource, reading: Reading) -> anyhow::Result<Opened> {
    Ok(match reading {
        Reading::Indexed => query::open(source, IndexMode::Never, |_| {})?,
        Reading::SavedIndex => {
            drop(query::open(source, IndexMode::Always, |_| {})?);
            query::open(source, IndexMode::Always, |_| {})?
        }
        Reading::Whole => Opened::Whole(Box::new(query::load(source)?)),
    })
}

fn execute(
    command: &Command,
    source: &TraceSource,
    reading: Reading,
    color: bool,
) -> anyhow::Result<u8> {
    use kblame::query::select::ObjectQuery;
    let object_query = |opened: &Opened, spec: &str| -> anyhow::Result<ObjectQuery> {
        Ok(ObjectQuery::parse_with_kinds(spec, &opened.kinds())?)
    };
    let time =
        |text: &Option<String>, loaded: &Loaded| -> anyhow::Result<Option<jiff::Timestamp>> {
            Ok(text
                .as_ref()
                .map(|t| query::at::parse_time(t, &loaded.history.facts))
                .transpose()?)
        };
    match command {
        Command::Check | Command::CheckStrict => {
            let loaded = match command {
                Command::CheckStrict => query::load_facts_with_progress(source, |_| {})?,
                _ => open(source, reading)?.load(&Scope::Nothing)?,
            };
            let report = query::check::check(&loaded);
            render_all(&report, render::check::text)?;
            Ok(if report.whole { 0 } else { 1 })
        }
        Command::Pod {
            name,
            namespace,
            uid,
        } => {
            let report = pod_report(open(source, reading)?, name, namespace, uid)?;
            render_all(&report, render::pod::text)
        }
        Command::Rollout { object, at } => {
            let opened = open(source, reading)?;
            let target = object_query(&opened, object)?;
            let mut loaded = opened.load(&Scope::Around(target.clone()))?;
            let at = time(at, &loaded)?;
            let query = query::rollout::RolloutQuery { object: target, at };
            let report = query::rollout::rollout(&mut loaded, &query)?;
            render_all(&report, |r, out| render::rollout::text(r, out, color))
        }
        Command::Blame {
            object,
            at,
            history,
        } => {
            let opened = open(source, reading)?;
            let target = object_query(&opened, object)?;
            let mut loaded = opened.load(&Scope::Around(target.clone()))?;
            let at = time(at, &loaded)?;
            let history = history
                .as_ref()
                .map(|p| FieldPath::parse(p).map_err(|e| QueryError::NotApplicable(e.to_string())))
                .transpose()?;
            let query = query::blame::BlameQuery {
                object: target,
                at,
                history,
            };
            let report = query::blame::blame(&mut loaded, &query)?;
            render_all(&report.lines, |_, _| Ok(()))?;
            render_all(&report, |r, out| {
                render::blame::text(r, out, color, TimeStyle::Relative)?;
                render::blame::text(r, out, color, TimeStyle::Full)
            })
        }
        Command::Tree {
            object,
            at,
            deleted,
        } => {
            let opened = open(source, reading)?;
            let target = object_query(&opened, object)?;
            let mut loaded = opened.load(&Scope::Around(target.clone()))?;
            let at = time(at, &loaded)?;
            let query = query::tree::TreeQuery {
                object: target,
                at,
                deleted: *deleted,
            };
            let report = query::tree::tree(&mut loaded, &query)?;
            render_all(&report, |r, out| render::tree::text(r, out, color))
        }
        Command::Diff { object, from, to } => {
            let opened = open(source, reading)?;
            let target = object_query(&opened, object)?;
            let mut loaded = opened.load(&Scope::Around(target.clone()))?;
            let query = query::diff::DiffQuery {
                object: target,
                from: from.clone(),
                to: to.clone(),
            };
            let report = query::diff::diff(&mut loaded, &query)?;
            render_all(&report, |r, out| render::diff::text(r, out, color))
        }
        Command::Timeline {
            object,
            namespace,
            since,
            until,
        } => {
            let opened = open(source, reading)?;
            let target = object
                .as_ref()
                .map(|spec| {
                    object_query(&opened, spec).map(|mut q| {
                        q.namespace = namespace.clone();
                        q
                    })
                })
                .transpose()?;
            let scope = match (&target, namespace) {
                (Some(target), _) => Scope::Around(target.clone()),
                (None, Some(ns)) => Scope::Namespace(ns.clone()),
                (None, None) => Scope::Everything,
            };
            let mut loaded = opened.load(&scope)?;
            let query = query::timeline::TimelineQuery {
                object: target,
                since: time(since, &loaded)?,
                until: time(until, &loaded)?,
                namespace: namespace.clone(),
            };
            let report = query::timeline::timeline(&mut loaded, &query)?;
            render_all(&report, |r, out| render::timeline::text(r, out, color))
        }
        Command::Get { .. } => {
            let report = get_report(open(source, reading)?, command)?;
            render_all(&report, |r, out| render::get::text(r, out, true, color))?;
            render_all(&report, |r, out| render::get::text(r, out, false, color))
        }
    }
}

/// Renders a report as text, JSON and YAML; the JSON must parse back.
fn render_all<T: serde::Serialize>(
    report: &T,
    text: impl Fn(&T, &mut Vec<u8>) -> std::io::Result<()>,
) -> anyhow::Result<u8> {
    let mut out = Vec::new();
    text(report, &mut out)?;
    out.clear();
    render::json(report, &mut out)?;
    if let Err(err) = serde_json::from_slice::<serde_json::Value>(&out) {
        panic!("the JSON output does not parse: {err}");
    }
    out.clear();
    render::yaml(report, &mut out)?;
    Ok(0)
}

/// Runs the real binary on the trace at `trace`, or with the trace on standard input (`-`) when
/// `stdin`; see [`run_args`].
pub fn run_binary(
    command: &Command,
    trace: &Path,
    limit: Duration,
    stdin: bool,
) -> Option<Failure> {
    match stdin {
        true => run_args(&command.args("-"), Some(trace), limit),
        false => run_args(&command.args(&trace.to_string_lossy()), None, limit),
    }
}

/// Runs `kblame ARGS` (reading `stdin` when given); a failure is a signal, an exit code other than
/// 0, 1 or 2, a non-zero code without a message on stderr, a panic message, or no answer within
/// `limit`.
pub fn run_args(args: &[String], stdin: Option<&Path>, limit: Duration) -> Option<Failure> {
    let label = args.join(" ");
    let failure = |what: String| Some(Failure::new(&label, what));
    let input = match stdin {
        Some(path) => std::process::Stdio::from(std::fs::File::open(path).expect("the trace")),
        None => std::process::Stdio::null(),
    };
    // A cap on address space turns runaway allocation into a failure rather than a swapping machine.
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 4194304 2>/dev/null; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_kblame"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("KBLAME_INDEX", "never")
        .stdin(input)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the kblame binary starts");
    let stderr = child.stderr.take().expect("piped stderr");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut std::io::BufReader::new(stderr), &mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait().expect("wait") {
            Some(status) => break status,
            None if started.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return failure(format!("no answer within {} s (a hang)", limit.as_secs()));
            }
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    let stderr = reader.join().unwrap_or_default();
    match status.code() {
        None => failure(format!("killed by a signal ({status}); stderr: {stderr}")),
        // main's panic hook turns a panic into exit 2 with this message; it is still a bug.
        Some(_) if stderr.contains("panicked") || stderr.contains("internal error (a bug)") => {
            failure(format!("panicked: {stderr}"))
        }
        Some(0) => None,
        Some(1 | 2) if stderr.trim().is_empty() => {
            failure(format!("exit {status} without a message on stderr"))
        }
        Some(1 | 2) => None,
        Some(code) => failure(format!("exit code {code}; stderr: {stderr}")),
    }
}

/// A directory of traces for one run, removed when dropped.
pub struct Workdir {
    dir: tempfile::TempDir,
    next: u64,
}

impl Workdir {
    /// A fresh directory.
    pub fn new() -> Workdir {
        Workdir {
            dir: tempfile::tempdir().expect("a temp dir"),
            next: 0,
        }
    }

    /// Writes `bytes` as a new trace file (each in its own subdirectory, so saved indexes do
    /// not pile up) and returns its path.
    pub fn write(&mut self, bytes: &[u8], zstd: bool) -> PathBuf {
        self.next += 1;
        let dir = self.dir.path().join(self.next.to_string());
        std::fs::create_dir_all(&dir).expect("a case directory");
        let name = if zstd { "t.ndjson.zst" } else { "t.ndjson" };
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("a trace written");
        path
    }

    /// Removes a case's directory.
    pub fn remove(&self, trace: &Path) {
        if let Some(dir) = trace.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
