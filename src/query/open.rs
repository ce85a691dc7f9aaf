//! Opening a trace for a question: through its index when it has one (or one can be built),
//! so that only the records the question needs are read and replayed.

use std::path::{Path, PathBuf};

use super::select::{is_near, ObjectQuery};
use super::Loaded;
use crate::admission;
use crate::cause;
use crate::graph::CausalGraph;
use crate::history::History;
use crate::index::build::{build, BuildError};
use crate::index::embedded;
use crate::index::read::read_records;
use crate::index::store::{self, TraceStamp};
use crate::index::{IndexedId, RecordLoc, TraceIndex};
use crate::trace::{TraceError, TraceSource};

/// Traces smaller than this (compressed) are indexed on every read but the index is not saved:
/// reading them whole takes less time than loading an index.
pub const SAVE_INDEX_FROM_BYTES: u64 = 8 << 20;

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
    if mode != IndexMode::Never {
        if let Ok((index, _)) = store::load(path, &stamp) {
            return Ok(Opened::Indexed {
                source: name,
                path: path.clone(),
                index: Box::new(index),
                mode,
            });
        }
        // A trace kblame wrote carries its index at its end: no scan, and no index file to
        // save (the next question reads the same tail).
        match embedded::load(path, stamp.size) {
            Ok(index) => {
                #[cfg(feature = "record")]
                tracing::debug!("{name}: answering from the index at its end");
                return Ok(Opened::Indexed {
                    source: name,
                    path: path.clone(),
                    index: Box::new(index),
                    mode,
                });
            }
            #[cfg(feature = "record")]
            Err(why) => tracing::debug!("{name}: not using an index at its end: {why}"),
            #[cfg(not(feature = "record"))]
            Err(_) => {}
        }
    }
    build_index(source, path, &stamp, mode, progress)
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
            let save = match mode {
                IndexMode::Auto => stamp.size >= SAVE_INDEX_FROM_BYTES,
                IndexMode::Always => true,
                IndexMode::Never => false,
            };
            if save {
                // An index that cannot be saved only costs the next query a scan.
                let _ = store::save(path, stamp, &index);
            }
            Ok(Opened::Indexed {
                source: name,
                path: path.to_path_buf(),
                index: Box::new(index),
                mode,
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
    /// When the saved index proves damaged on the way (a table's checksum does not hold), it is
    /// built again from the trace and saved again.
    pub fn load(self, scope: &Scope) -> Result<Loaded, TraceError> {
        let (source, path, index, mode) = match self {
            Opened::Whole(loaded) => return Ok(*loaded),
            Opened::Indexed {
                source,
                path,
                index,
                mode,
            } => (source, path, index, mode),
        };
        let from_disk = index.on_disk.is_some();
        let chosen = select(&index, scope).and_then(|objects| {
            let records = index.records_for(&objects)?;
            Ok((objects, records))
        });
        match chosen {
            Ok((objects, records)) => {
                let loaded = load_records(source, &path, &index, &records)?;
                match scope {
                    Scope::Around(_) => with_related(loaded, &path, &index, objects),
                    _ => Ok(loaded),
                }
            }
            Err(_) if from_disk => {
                let stamp = TraceStamp::of(&path).map_err(|err| TraceError::Open {
                    path: source.clone(),
                    source: err,
                })?;
                let trace = TraceSource::Path(path.clone());
                build_index(&trace, &path, &stamp, mode, |_| {})?.load(scope)
            }
            Err(err) => Err(TraceError::Changed {
                path: path.display().to_string(),
                source: err,
            }),
        }
    }
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
    path: &Path,
    index: &TraceIndex,
    mut objects: Vec<IndexedId>,
) -> Result<Loaded, TraceError> {
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
    if missing.is_empty() && unread_nodes.is_empty() {
        return Ok(loaded);
    }
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
    let records = index.records_for(&objects).map_err(changed)?;
    load_records(loaded.source, path, index, &records)
}

/// Reads and replays the chosen records.
fn load_records(
    source: String,
    path: &Path,
    index: &TraceIndex,
    records: &[RecordLoc],
) -> Result<Loaded, TraceError> {
    let mut history = History::new(None);
    let skipped = read_records(path, index, records, |line, record| {
        history.apply(line, &record)
    })
    .map_err(|source| TraceError::Changed {
        path: path.display().to_string(),
        source,
    })?;
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
    let graph = CausalGraph::build(&history);
    Ok(Loaded {
        source,
        object_count: index.objects.len(),
        history,
        graph,
        read,
        audit: Vec::new(),
    })
}
