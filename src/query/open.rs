//! Opening a trace for a question: through its index when it has one (or one can be built),
//! so that only the records the question needs are read and replayed.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::select::{is_near, ObjectQuery};
use super::Loaded;
use crate::admission;
use crate::cause;
use crate::graph::CausalGraph;
use crate::history::meta::ObjectHead;
use crate::history::History;
use crate::index::build::{build, BuildError};
use crate::index::cache::{self, Decoded, RecordCache};
use crate::index::embedded;
use crate::index::read::{parse_bytes, parse_record, read_lines, Skipped};
use crate::index::store::{self, TraceStamp};
use crate::index::{IndexedId, RecordLoc, TraceIndex};
use crate::timings;
use crate::trace::Record;
use crate::trace::{TraceError, TraceSource};
use rayon::prelude::*;

/// Traces smaller than this (compressed) are indexed on every read but the index is not saved:
/// reading them whole takes less time than loading an index. (1 MiB of kblame's layout holds
/// about 40 MiB of JSON, read whole in well under 0.1 s.)
pub const SAVE_INDEX_FROM_BYTES: u64 = 1 << 20;

/// Whether kblame reads and writes index files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IndexMode {
    /// Use a saved index; save one for traces of [`SAVE_INDEX_FROM_BYTES`] or more.
    #[default]
    Auto,
    /// Use a saved index; save one for any trace file.
    Always,
    /// Neither read nor write index files.
    Never,
}

/// Which objects a question needs.
#[derive(Debug, Clone)]
pub enum Scope {
    /// None: only the header and control records (enough for `check`).
    Nothing,
    /// Every object.
    Everything,
    /// The objects of one namespace.
    Namespace(String),
    /// The objects of these kinds (case-insensitive), in the namespace (and cluster-scoped
    /// ones) when one is given.
    Kinds {
        /// The kinds, e.g. `Pod`.
        kinds: Vec<String>,
        /// Only this namespace; every namespace when `None`.
        namespace: Option<String>,
    },
    /// An object (every object of that kind and name, plus near names for "did you mean"),
    /// its owners, everything they control and the Events about them.
    Around(ObjectQuery),
}

/// Progress of a read: records so far, and file bytes read of the total when known.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadProgress {
    /// Records read so far.
    pub records: u64,
    /// Bytes of the file read so far.
    pub bytes: u64,
    /// The file's size, when reading a file.
    pub total_bytes: Option<u64>,
}

/// A trace ready for questions.
#[derive(Debug)]
pub enum Opened {
    /// Indexed: questions read only the records they need.
    Indexed {
        /// The trace's name for messages.
        source: String,
        /// The trace file.
        path: PathBuf,
        /// Its index.
        index: Box<TraceIndex>,
        /// How index files are used (to save it again if the saved one proves damaged).
        mode: IndexMode,
        /// Whether the index was built from the trace just now. One that was not (a saved
        /// `.kbidx`, or the index at the trace's end) is rebuilt by a scan when reading through
        /// it fails, so a damaged trace still answers from its readable prefix.
        built: bool,
    },
    /// Read whole (standard input, or a trace compressed as one big frame).
    Whole(Box<Loaded>),
}

/// Opens a trace: loads its saved index, else the index at its end (see
/// [`crate::index::embedded`]), or reads it once to build (and maybe save) one. With
/// [`IndexMode::Never`] it is always read once.
pub fn open(
    source: &TraceSource,
    mode: IndexMode,
    mut progress: impl FnMut(ReadProgress),
) -> Result<Opened, TraceError> {
    let path = match source {
        TraceSource::Path(path) => path,
        TraceSource::Stdin => {
            let loaded = super::load_with_progress(source, |records| {
                progress(ReadProgress {
                    records,
                    ..ReadProgress::default()
                })
            })?;
            return Ok(Opened::Whole(Box::new(loaded)));
        }
    };
    let name = source.display_name();
    let stamp = TraceStamp::of(path).map_err(|source| TraceError::Open {
        path: name.clone(),
        source,
    })?;
    if let Some(index) = saved_index(path, &name, &stamp, mode) {
        return Ok(Opened::Indexed {
            source: name,
            path: path.clone(),
            index: Box::new(index),
            mode,
            built: false,
        });
    }
    build_index(source, path, &stamp, mode, progress)
}

/// An index that needs no scan: a saved `.kbidx` that matches the trace, else the index at the
/// trace's end. The latter is saved beside the trace as a scan's index would be, because a
/// saved index loads only the tables a question needs, while the tail is decompressed whole
/// every time.
fn saved_index(path: &Path, name: &str, stamp: &TraceStamp, mode: IndexMode) -> Option<TraceIndex> {
    #[cfg(not(feature = "record"))]
    let _ = name;
    if mode == IndexMode::Never {
        return None;
    }
    if let Ok((index, _)) = store::load(path, stamp) {
        return Some(index);
    }
    match embedded::load(path, stamp.size) {
        Ok(index) => {
            #[cfg(feature = "record")]
            tracing::debug!("{name}: answering from the index at its end");
            if saves(mode, stamp) {
                // An index that cannot be saved only costs the next question the tail.
                let _ = store::save(path, stamp, &index);
            }
            Some(index)
        }
        Err(_why) => {
            #[cfg(feature = "record")]
            tracing::debug!("{name}: not using an index at its end: {_why}");
            None
        }
    }
}

/// Whether an index of the trace stamped `stamp` is saved beside it.
fn saves(mode: IndexMode, stamp: &TraceStamp) -> bool {
    match mode {
        IndexMode::Auto => stamp.size >= SAVE_INDEX_FROM_BYTES,
        IndexMode::Always => true,
        IndexMode::Never => false,
    }
}

/// Reads the trace once to index it (saving the index as `mode` says), or reads it whole when
/// it cannot be indexed.
fn build_index(
    source: &TraceSource,
    path: &Path,
    stamp: &TraceStamp,
    mode: IndexMode,
    mut progress: impl FnMut(ReadProgress),
) -> Result<Opened, TraceError> {
    let name = source.display_name();
    let total_bytes = Some(stamp.size);
    let built = build(path, &name, &mut |records, bytes| {
        progress(ReadProgress {
            records,
            bytes,
            total_bytes,
        })
    });
    match built {
        Ok(index) => {
            if saves(mode, stamp) {
                // An index that cannot be saved only costs the next query a scan.
                let _ = store::save(path, stamp, &index);
            }
            Ok(Opened::Indexed {
                source: name,
                path: path.to_path_buf(),
                index: Box::new(index),
                mode,
                built: true,
            })
        }
        Err(BuildError::Trace(err)) => Err(err),
        Err(BuildError::NotFramed(_)) => {
            let loaded = super::load_with_progress(source, |records| {
                progress(ReadProgress {
                    records,
                    total_bytes,
                    ..ReadProgress::default()
                })
            })?;
            Ok(Opened::Whole(Box::new(loaded)))
        }
    }
}

impl Opened {
    /// The kinds of the trace's objects.
    pub fn kinds(&self) -> Vec<&str> {
        match self {
            Opened::Indexed { index, .. } => index.kinds(),
            Opened::Whole(loaded) => loaded.history.kinds(),
        }
    }

    /// Replays what `scope` needs into a history and causal graph.
    ///
    /// When an index that was not built just now proves damaged on the way (a table's checksum
    /// does not hold), or the trace cannot be read where it points, the index is built again
    /// by a scan (which keeps the trace's readable prefix) and saved again.
    pub fn load(self, scope: &Scope) -> Result<Loaded, TraceError> {
        let (source, path, index, mode, built) = match self {
            Opened::Whole(loaded) => return Ok(*loaded),
            Opened::Indexed {
                source,
                path,
                index,
                mode,
                built,
            } => (source, path, index, mode, built),
        };
        let from_disk = !built;
        let selecting = timings::phase("select");
        let chosen = select(&index, scope);
        selecting.end();
        let reader = Reader::new(&path, &index, mode);
        match chosen {
            Ok(objects) => match reader.load(source.clone(), &objects) {
                Ok(loaded) => match scope {
                    Scope::Around(_) => with_related(loaded, &reader, objects),
                    _ => Ok(loaded),
                },
                Err(Failed::Index(_) | Failed::Read(_)) if from_disk => {
                    rebuild(source, &path, mode, scope)
                }
                Err(Failed::Index(err) | Failed::Read(err)) => Err(TraceError::Changed {
                    path: path.display().to_string(),
                    source: err,
                }),
            },
            Err(_) if from_disk => rebuild(source, &path, mode, scope),
            Err(err) => Err(TraceError::Changed {
                path: path.display().to_string(),
                source: err,
            }),
        }
    }
}

/// Builds the index again (a saved one proved damaged) and answers from it.
fn rebuild(
    source: String,
    path: &Path,
    mode: IndexMode,
    scope: &Scope,
) -> Result<Loaded, TraceError> {
    let stamp = TraceStamp::of(path).map_err(|err| TraceError::Open {
        path: source.clone(),
        source: err,
    })?;
    let trace = TraceSource::Path(path.to_path_buf());
    build_index(&trace, path, &stamp, mode, |_| {})?.load(scope)
}

/// The indexed objects a scope needs.
fn select(index: &TraceIndex, scope: &Scope) -> std::io::Result<Vec<IndexedId>> {
    Ok(match scope {
        Scope::Nothing => Vec::new(),
        Scope::Everything => (0..index.objects.len() as IndexedId).collect(),
        Scope::Namespace(namespace) => index.find(|_, ns, _| ns == namespace),
        Scope::Kinds { kinds, namespace } => index.find(|kind, ns, _| {
            kinds.iter().any(|k| k.eq_ignore_ascii_case(kind))
                && namespace
                    .as_deref()
                    .is_none_or(|wanted| ns.is_empty() || ns == wanted)
        }),
        Scope::Around(query) => {
            let same_kind = |kind: &str| kind.eq_ignore_ascii_case(&query.kind);
            // What `select::resolve` may answer for: the object with the UID, else every object
            // of the kind and name (in the namespace, when one is given).
            let named = |kind: &str, ns: &str, name: &str| {
                same_kind(kind)
                    && name == query.name
                    && query.namespace.as_deref().is_none_or(|wanted| wanted == ns)
            };
            let roots = match query.uid.as_deref() {
                Some(uid) => {
                    let of_kind: Vec<IndexedId> = index
                        .by_uid_prefix(uid)?
                        .into_iter()
                        .filter(|&id| same_kind(index.word(index.objects[id as usize].kind)))
                        .collect();
                    // As `select::resolve` chooses: among several, those with the asked name.
                    let with_name: Vec<IndexedId> = of_kind
                        .iter()
                        .copied()
                        .filter(|&id| {
                            let o = &index.objects[id as usize];
                            named(
                                index.word(o.kind),
                                index.word(o.namespace),
                                index.names.get(o.name),
                            )
                        })
                        .collect();
                    let mut chosen = match with_name.is_empty() {
                        true => of_kind,
                        false => with_name,
                    };
                    // A short prefix of a big trace: enough to say it is ambiguous.
                    chosen.truncate(100);
                    chosen
                }
                None => index.find(named),
            };
            let mut chosen = index.closure(&roots);
            if !roots.is_empty() {
                // What the pods in question read and ran on (`cause`; `timeline` shows their
                // changes too).
                let namespaces: Vec<&str> = roots
                    .iter()
                    .map(|&id| index.word(index.objects[id as usize].namespace))
                    .collect();
                chosen.extend(index.find(|kind, ns, name| {
                    (cause::DEPENDENCY_KINDS.contains(&kind) && namespaces.contains(&ns))
                        // What admission did to the pods: the webhooks that could have, and the
                        // labels of the namespace their selectors read.
                        || admission::CONFIGURATION_KINDS.contains(&kind)
                        || (kind == "Namespace" && namespaces.contains(&name))
                }));
            }
            if roots.is_empty() && query.uid.is_none() {
                // Near names only feed "not found, did you mean"; their own records suffice.
                chosen = index.find(|kind, ns, name| same_kind(kind) && is_near(query, ns, name));
                // So do objects of other kinds with that very name; when a pod was asked for by
                // a workload's name, also what the workload controlled, to name its pods.
                let namesakes = index.find(|kind, _, name| {
                    !same_kind(kind) && kind != "Event" && name == query.name
                });
                match query.kind == "Pod" {
                    true => chosen.extend(index.closure(&namesakes)),
                    false => chosen.extend(namesakes),
                }
            }
            chosen.sort_unstable();
            chosen.dedup();
            chosen
        }
    })
}

/// A question about one object also needs what the loaded objects name but the index cannot
/// tell before they are read: the Nodes their pods ran on (`spec.nodeName`), and the objects
/// their Events name as `related` (the scheduler's `Preempted` Event names the preemptor:
/// `pkg/scheduler/framework/preemption` `Evaluator.prepareCandidate`, `Eventf(victim,
/// preemptor, …)`), with their owners and what those control, so that the answer can say what
/// the preemptor was and which change made it. When any of them is in the trace but was not
/// read, the question reads again with them: the same objects as a whole read has.
fn with_related(
    loaded: Loaded,
    reader: &Reader<'_>,
    mut objects: Vec<IndexedId>,
) -> Result<Loaded, TraceError> {
    let (path, index) = (reader.path, reader.index);
    let checking = timings::phase("related check");
    let history = &loaded.history;
    let missing = crate::workload::events::unloaded_related(history);
    // Only a trace that recorded Nodes has any to read.
    let nodes = match index.kinds().contains(&"Node") {
        true => cause::node::nodes_ran_on(history),
        false => Default::default(),
    };
    let unread_nodes: Vec<IndexedId> = match nodes.is_empty() {
        true => Vec::new(),
        false => index.find(|kind, _, name| {
            kind == "Node" && nodes.contains(name) && history.by_name("Node", None, name).is_empty()
        }),
    };
    checking.end();
    if missing.is_empty() && unread_nodes.is_empty() {
        return Ok(loaded);
    }
    timings::note("related", || {
        format!(
            "{} related objects and {} nodes unread: reading again",
            missing.len(),
            unread_nodes.len()
        )
    });
    let changed = |source| TraceError::Changed {
        path: path.display().to_string(),
        source,
    };
    objects.extend(unread_nodes);
    let mut roots = Vec::new();
    for uid in &missing {
        let found = index.by_uid_prefix(uid).map_err(changed)?;
        // A UID names one object; a prefix match of several is not the one the Event meant.
        if let [one] = found.as_slice() {
            roots.push(*one);
        }
    }
    objects.extend(index.closure(&roots));
    objects.sort_unstable();
    objects.dedup();
    reader
        .load(loaded.source, &objects)
        .map_err(|(Failed::Index(err) | Failed::Read(err))| changed(err))
}

/// Why loading the chosen records failed.
enum Failed {
    /// The index's record tables are damaged.
    Index(std::io::Error),
    /// The trace could not be read as its index says.
    Read(std::io::Error),
}

/// Reads a question's records: from the record cache for the objects it holds, from the trace
/// for the rest (which are then added to the cache, as `mode` allows).
struct Reader<'a> {
    path: &'a Path,
    index: &'a TraceIndex,
    mode: IndexMode,
}

/// Where the records of a question's objects are.
#[derive(Default)]
struct Plan {
    /// In the cache (`frame` is a cache frame), in line order.
    cached: Vec<RecordLoc>,
    /// In the trace, in line order.
    traced: Vec<RecordLoc>,
    /// The objects read from the trace ([`cache::META`] for the control records), with the
    /// lines of their records, to add to the cache.
    fill: Vec<(IndexedId, Vec<u32>)>,
}

impl<'a> Reader<'a> {
    fn new(path: &'a Path, index: &'a TraceIndex, mode: IndexMode) -> Self {
        Reader { path, index, mode }
    }

    /// Reads and replays the records of `objects` (with the control records).
    fn load(&self, source: String, objects: &[IndexedId]) -> Result<Loaded, Failed> {
        let stamp = TraceStamp::of(self.path).ok();
        let mut cache = match (self.mode, &stamp) {
            (IndexMode::Never, _) | (_, None) => None,
            (_, Some(stamp)) => RecordCache::load(self.path, stamp),
        };
        let planning = timings::phase("plan");
        let plan = self.plan(cache.as_ref(), objects).map_err(Failed::Index)?;
        planning.end();
        timings::note("sources", || {
            format!(
                "{} records from the cache, {} from the trace",
                plan.cached.len(),
                plan.traced.len()
            )
        });
        let decoding = timings::phase("cache decode");
        let decoded = match &mut cache {
            Some(cache) if !plan.cached.is_empty() => cache.decode(&plan.cached),
            _ => Ok(Decoded::default()),
        };
        decoding.end();
        let Ok(decoded) = decoded else {
            // A damaged cache is read around (and written again without it).
            let plan = self.plan(None, objects).map_err(Failed::Index)?;
            return self.replay(source, &plan, &Decoded::default(), None, stamp);
        };
        self.replay(source, &plan, &decoded, cache.as_mut(), stamp)
    }

    /// Which records come from the cache and which from the trace.
    fn plan(&self, cache: Option<&RecordCache>, objects: &[IndexedId]) -> std::io::Result<Plan> {
        let mut plan = Plan::default();
        let meta = std::borrow::Cow::Borrowed(&self.index.meta[..]);
        let ids = std::iter::once(cache::META).chain(objects.iter().copied());
        for id in ids {
            if let Some(records) = cache.and_then(|cache| cache.records_of(id)) {
                plan.cached.extend_from_slice(records);
                continue;
            }
            let records = match id {
                cache::META => meta.clone(),
                _ => self.index.records_of(id)?,
            };
            plan.traced.extend_from_slice(&records);
            plan.fill
                .push((id, records.iter().map(|r| r.line).collect()));
        }
        plan.cached.sort_unstable_by_key(|r| r.line);
        plan.traced.sort_unstable_by_key(|r| r.line);
        Ok(plan)
    }

    /// Whether records read from the trace are added to the cache.
    fn fills_cache(&self, stamp: &TraceStamp) -> bool {
        match self.mode {
            IndexMode::Auto => stamp.size >= SAVE_INDEX_FROM_BYTES,
            IndexMode::Always => true,
            IndexMode::Never => false,
        }
    }

    /// Replays the cached and the traced records in line order, then adds what was read from
    /// the trace to the cache.
    fn replay(
        &self,
        source: String,
        plan: &Plan,
        decoded: &Decoded,
        cache: Option<&mut RecordCache>,
        stamp: Option<TraceStamp>,
    ) -> Result<Loaded, Failed> {
        let fill = stamp.filter(|stamp| !plan.fill.is_empty() && self.fills_cache(stamp));
        let mut read = ReadLines::default();
        let reading = Instant::now();
        let cached = parse_cached(&plan.cached, decoded);
        let mut replayer = Replayer {
            history: History::new(None),
            skipped: Skipped::default(),
            replay: timings::Summed::default(),
            pending: cached.into_iter().peekable(),
        };
        read_lines(self.path, self.index, &plan.traced, |at, bytes| {
            replayer.cached_before(at.line);
            if fill.is_some() {
                read.push(at.line, bytes);
            }
            replayer.traced(at, bytes);
        })
        .map_err(Failed::Read)?;
        replayer.cached_before(u32::MAX);
        let Replayer {
            history,
            skipped,
            replay,
            ..
        } = replayer;
        let read_all = reading.elapsed();
        timings::report(
            "read",
            read_all.saturating_sub(replay.total()),
            &format!(
                "{} records (decode and parse, beside replay)",
                plan.cached.len() + plan.traced.len()
            ),
        );
        timings::report("replay", replay.total(), "History::apply");
        if let Some(stamp) = fill {
            let _filling = timings::phase("cache write");
            // A cache that cannot be written only costs the next question a read of the trace.
            let _ = cache::add(self.path, &stamp, cache, read.objects(&plan.fill));
        }
        Ok(self.finish(source, history, skipped))
    }

    /// Sets the whole-trace facts the index knows and builds the graph.
    fn finish(&self, source: String, mut history: History, skipped: Skipped) -> Loaded {
        let index = self.index;
        let totals = index.totals.clone();
        let facts = &mut history.facts;
        facts.start = totals.start;
        facts.end = totals.end;
        facts.records_by_kind = totals.records_by_kind;
        facts.records_by_type = totals.records_by_type;
        facts.skipped_objects = totals.skipped_objects;
        let mut read = index.summary.clone();
        read.bad_lines += skipped.count;
        read.warnings.extend(skipped.warnings);
        let building = timings::phase("graph");
        let graph = CausalGraph::build(&history);
        building.end();
        Loaded {
            source,
            object_count: index.objects.len(),
            history,
            graph,
            read,
            audit: Vec::new(),
        }
    }
}

/// A cached record, parsed (with its object's head) or why it does not parse.
type Parsed<'b> = (
    &'b RecordLoc,
    Result<(Record<'b>, Option<HeadParse<'b>>), String>,
);

/// An object head as [`ObjectHead::parse`] gives it.
type HeadParse<'b> = Result<ObjectHead<'b>, serde_json::Error>;

/// Parses the cached records and their objects' heads in parallel (what replaying them one at
/// a time spent most of its time on), in line order.
fn parse_cached<'b>(records: &'b [RecordLoc], decoded: &'b Decoded) -> Vec<Parsed<'b>> {
    records
        .par_iter()
        .map(|at| {
            let bytes = decoded.line(at).unwrap_or_default();
            let parsed = parse_bytes(bytes).map(|record| {
                let head = match &record {
                    Record::Object { object, .. } => Some(ObjectHead::parse(object.get())),
                    _ => None,
                };
                (record, head)
            });
            (at, parsed)
        })
        .collect()
}

/// Replays records from the cache (parsed) and from the trace, in line order.
struct Replayer<'b, I: Iterator<Item = Parsed<'b>>> {
    history: History,
    skipped: Skipped,
    replay: timings::Summed,
    pending: std::iter::Peekable<I>,
}

impl<'b, I: Iterator<Item = Parsed<'b>>> Replayer<'b, I> {
    /// Replays the cached records before `line`.
    fn cached_before(&mut self, line: u32) {
        while let Some((at, parsed)) = self.pending.next_if(|(at, _)| at.line < line) {
            match parsed {
                Ok((record, head)) => {
                    let history = &mut self.history;
                    self.replay
                        .time(|| history.apply_with_head(u64::from(at.line), &record, head))
                }
                Err(why) => self.skipped.push(at.line, &why),
            }
        }
    }

    /// Replays a record read from the trace.
    fn traced(&mut self, at: &RecordLoc, bytes: &[u8]) {
        if let Some(record) = parse_record(at.line, bytes, &mut self.skipped) {
            let history = &mut self.history;
            self.replay
                .time(|| history.apply(u64::from(at.line), &record));
        }
    }
}

/// The bytes of the records read from the trace, in line order, one allocation for all.
#[derive(Default)]
struct ReadLines {
    bytes: Vec<u8>,
    /// (line, start, end) in `bytes`.
    lines: Vec<(u32, usize, usize)>,
}

impl ReadLines {
    fn push(&mut self, line: u32, bytes: &[u8]) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(bytes);
        self.lines.push((line, start, self.bytes.len()));
    }

    /// Each object's records, to add to the cache (an object with a record not read is left out).
    fn objects(&self, fill: &[(IndexedId, Vec<u32>)]) -> Vec<cache::NewObject<'_>> {
        fill.iter()
            .filter_map(|(id, lines)| {
                let records = lines
                    .iter()
                    .map(|&line| {
                        let at = self.lines.binary_search_by_key(&line, |l| l.0).ok()?;
                        let (_, start, end) = self.lines[at];
                        Some((line, &self.bytes[start..end]))
                    })
                    .collect::<Option<Vec<_>>>()?;
                Some((*id, records))
            })
            .collect()
    }
}
