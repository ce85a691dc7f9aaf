//! `kblame analyze --pod`: which revision a pod belongs to, which change made it, why it restarted and why it went away.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use super::{trace_warnings, Loaded};
use crate::graph::{Change, ChangeKind, Confidence, Owner};
use crate::history::{Gone, History, ObjectId};
use crate::render::duration_words;
use crate::workload::deployment::{DeploymentModel, ScaleCause};
use crate::workload::events::occurrences_about;
use crate::workload::pod::{
    pod_at, restart_history, running_since, state_of, total_restarts, PodState, Restart,
};
use crate::workload::replicaset::ReplicaSetTimeline;
use crate::workload::turnover::{turnover, Arrival, Departure, DepartureInfo};
use crate::workload::WATCH_SKEW;

/// Which pod to analyze.
#[derive(Debug, Clone, Default)]
pub struct PodQuery {
    /// The pod's name.
    pub name: String,
    /// Its namespace; any namespace when `None`.
    pub namespace: Option<String>,
    /// Its UID, to choose among pods that shared the name.
    pub uid: Option<String>,
}

/// A query that cannot be answered from the trace.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// No pod of that name (and namespace/UID) is in the trace.
    #[error("no pod {name} in the trace{}", suggestion_text(.near))]
    NotFound {
        /// What was asked for.
        name: String,
        /// Pods with similar names, `namespace/name`.
        near: Vec<String>,
    },
}

fn suggestion_text(near: &[String]) -> String {
    if near.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", near.join(", "))
    }
}

/// namespace, name and UID of a pod.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PodRef {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
}

/// One step of the ownership chain, pod first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineageEntry {
    /// Kind.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// Whether the trace recorded this object (false: only named by an ownerReference).
    pub recorded: bool,
}

/// The revision a pod belongs to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RevisionInfo {
    /// The revision number, from the ReplicaSet's annotation when the pod was created.
    pub number: Option<i64>,
    /// The `pod-template-hash`.
    pub template_hash: Option<String>,
    /// The change that made the revision.
    pub change: Option<Change>,
    /// The revision number the ReplicaSet carries at the end (differs after a rollback).
    pub current_number: Option<i64>,
}

/// Why and when the pod was created.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Created {
    /// When: the first record of the pod, or its creationTimestamp when it predates the trace.
    #[serde(serialize_with = "crate::render::serialize_opt_ts")]
    pub time: Option<Timestamp>,
    /// `rollout`, `scale-up`, `replacement` or `unknown`.
    pub reason: &'static str,
    /// The change behind it.
    pub change: Option<Change>,
    /// For a replacement: the pod it replaced.
    pub replaced: Option<NameUid>,
    /// What this rests on, in words.
    pub evidence: String,
}

/// A name and UID.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NameUid {
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
}

/// Why and when the pod went away.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deleted {
    /// When its deletion began.
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub time: Timestamp,
    /// `rollout`, `scale-down`, `evicted`, `preempted`, `external-delete`, `cascade-delete` or `unknown`.
    pub reason: &'static str,
    /// The change behind it.
    pub change: Option<Change>,
    /// The pod the ReplicaSet created in its place.
    pub replaced_by: Option<NameUid>,
    /// What this rests on, in words.
    pub evidence: String,
    /// The pod's state in its last record before its deletion began.
    pub state_before: Option<PodState>,
    /// False when the deletion was not seen (it vanished during a watch gap) and `time` is only
    /// the re-list that noticed it.
    pub time_exact: bool,
}

/// Why the restarts are (or are not) blamed on the revision's change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RestartEvidence {
    /// How sure.
    pub confidence: Confidence,
    /// In words, e.g. "revision 1's 3 pods ran 41 min without a restart".
    pub text: String,
}

/// The pod at the end of the trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FinalState {
    /// Time of its last record.
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub time: Timestamp,
    /// Whether it still existed then.
    pub exists: bool,
    /// Its state.
    #[serde(flatten)]
    pub state: PodState,
}

/// A revision with ready pods at the end of the trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Serving {
    /// Revision number.
    pub revision: Option<i64>,
    /// Its ReplicaSet.
    pub replicaset: String,
    /// Ready pods.
    pub ready: i64,
    /// Desired pods.
    pub desired: i64,
}

/// The answer to `analyze --pod`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PodReport {
    /// The pod.
    pub pod: PodRef,
    /// Pod → ReplicaSet → Deployment.
    pub lineage: Vec<LineageEntry>,
    /// Its revision.
    pub revision: Option<RevisionInfo>,
    /// Why it was created.
    pub created: Created,
    /// Restarts seen during the trace.
    pub restarts: Vec<Restart>,
    /// Restarts before the pod's first record, by container.
    pub restarts_before_trace: BTreeMap<String, i64>,
    /// The change the restarts are blamed on.
    pub restart_cause: Option<Change>,
    /// Why (or why not).
    pub restart_evidence: Option<RestartEvidence>,
    /// Why it went away, if it did.
    pub deleted: Option<Deleted>,
    /// Its last recorded state.
    pub state: FinalState,
    /// Revisions with ready pods at the end.
    pub serving: Vec<Serving>,
    /// What the trace cannot know.
    pub warnings: Vec<String>,
}

/// Answers `analyze --pod` on a loaded trace.
pub fn analyze_pod(loaded: &mut Loaded, query: &PodQuery) -> Result<PodReport, QueryError> {
    let mut warnings = Vec::new();
    let pod = resolve(&loaded.history, query, &mut warnings)?;
    let history = &loaded.history;
    let first = history.object(pod).first().ts;
    let (lineage, replicaset, deployment) = lineage(loaded, pod, first, &mut warnings);
    let model = deployment.map(|d| DeploymentModel::build(&loaded.history, &mut loaded.graph, d));
    let history = &loaded.history;
    let graph = &loaded.graph;
    let timeline = replicaset.map(|rs| {
        model
            .as_ref()
            .and_then(|m| m.replicasets.iter().find(|t| t.id == rs).cloned())
            .unwrap_or_else(|| ReplicaSetTimeline::read(history, rs))
    });
    let moves = timeline
        .as_ref()
        .map(|t| turnover(history, graph, t, model.as_ref()))
        .unwrap_or_default();
    let revision = timeline
        .as_ref()
        .map(|t| revision_info(t, model.as_ref(), first));
    let events = occurrences_about(history, graph, pod);
    let restarts = restart_history(history, pod, &events);
    let context = Context {
        history,
        model: model.as_ref(),
        timeline: timeline.as_ref(),
        pod,
    };
    let created = created(&context, moves.arrivals.get(&pod), revision.as_ref());
    let deleted = moves
        .departures
        .get(&pod)
        .map(|info| deleted(&context, info));
    let (restart_cause, restart_evidence) = blame(
        &context,
        &restarts.restarts,
        &restarts.before_trace,
        revision.as_ref(),
    );
    if let Some(model) = &model {
        warnings.extend(model.notes.iter().cloned());
    }
    collect_warnings(
        &mut warnings,
        &revision,
        &restarts.before_trace,
        &restarts.notes,
    );
    if history.first_seen_in_relist(pod) {
        let object = history.object(pod);
        let created = object
            .created
            .map_or("unknown".to_string(), |c| c.to_string());
        warnings.push(format!(
            "the pod was created while its watch was down: first seen in a re-list at {} (creationTimestamp {created}); its early records are missing",
            object.first().ts
        ));
    }
    warnings.extend(trace_warnings(loaded));
    let object = history.object(pod);
    Ok(PodReport {
        pod: PodRef {
            namespace: object.namespace.clone(),
            name: object.name.clone(),
            uid: object.uid.clone(),
        },
        lineage,
        revision,
        created,
        restarts: restarts.restarts,
        restarts_before_trace: restarts.before_trace,
        restart_cause,
        restart_evidence,
        deleted,
        state: final_state(history, pod),
        serving: serving(history, model.as_ref()),
        warnings,
    })
}

/// What the per-part functions share.
struct Context<'a> {
    history: &'a History,
    model: Option<&'a DeploymentModel>,
    timeline: Option<&'a ReplicaSetTimeline>,
    pod: ObjectId,
}

fn resolve(
    history: &History,
    query: &PodQuery,
    warnings: &mut Vec<String>,
) -> Result<ObjectId, QueryError> {
    if let Some(uid) = &query.uid {
        return history
            .by_uid(uid)
            .filter(|&id| history.object(id).kind == "Pod")
            .ok_or_else(|| QueryError::NotFound {
                name: format!("with UID {uid}"),
                near: Vec::new(),
            });
    }
    let found = history.by_name("Pod", query.namespace.as_deref(), &query.name);
    match found.as_slice() {
        [] => Err(QueryError::NotFound {
            name: match &query.namespace {
                Some(ns) => format!("{ns}/{}", query.name),
                None => query.name.clone(),
            },
            near: near_matches(history, query),
        }),
        [only] => Ok(*only),
        [.., newest] => {
            let uids: Vec<String> = found
                .iter()
                .map(|&id| {
                    let o = history.object(id);
                    format!("{}/{} {}", o.namespace, o.name, o.uid)
                })
                .collect();
            warnings.push(format!(
                "{} pods are named {} ({}); answering for the newest, choose another with --uid",
                found.len(),
                query.name,
                uids.join(", ")
            ));
            Ok(*newest)
        }
    }
}

/// Pods whose names are close to the one asked for (shared prefix or small edit distance).
fn near_matches(history: &History, query: &PodQuery) -> Vec<String> {
    // Rank by edit distance, preferring the namespace asked for; the exact name in another
    // namespace is the best hint when `-n` was wrong.
    let mut scored: Vec<(bool, usize, String)> = history
        .of_kind("Pod")
        .map(|id| history.object(id))
        .map(|o| {
            let elsewhere = query
                .namespace
                .as_deref()
                .is_some_and(|ns| ns != o.namespace);
            let distance = strsim::levenshtein(&o.name, &query.name);
            (elsewhere, distance, format!("{}/{}", o.namespace, o.name))
        })
        .filter(|(elsewhere, distance, _)| {
            *distance <= query.name.len().max(4) / 2 && (!elsewhere || *distance == 0)
        })
        .collect();
    scored.sort();
    scored.dedup();
    scored
        .into_iter()
        .take(5)
        .map(|(_, _, name)| name)
        .collect()
}

type Lineage = (Vec<LineageEntry>, Option<ObjectId>, Option<ObjectId>);

fn lineage(loaded: &Loaded, pod: ObjectId, at: Timestamp, warnings: &mut Vec<String>) -> Lineage {
    let history = &loaded.history;
    let mut entries = vec![entry(history, pod)];
    let (mut replicaset, mut deployment) = (None, None);
    let mut current = pod;
    while let Some(owner) = loaded.graph.controller_at(history, current, at) {
        match owner {
            Owner::Recorded(id) => {
                entries.push(entry(history, id));
                match history.object(id).kind.as_str() {
                    "ReplicaSet" => replicaset = Some(id),
                    "Deployment" => deployment = Some(id),
                    _ => {}
                }
                current = id;
            }
            Owner::Unrecorded { uid, kind, name } => {
                warnings.push(format!(
                    "owner {kind} {name} ({uid}) never appears in the trace; lineage stops there"
                ));
                let namespace = history.object(current).namespace.clone();
                entries.push(LineageEntry {
                    kind,
                    namespace,
                    name,
                    uid,
                    recorded: false,
                });
                break;
            }
        }
        if entries.len() > 8 {
            break;
        }
    }
    (entries, replicaset, deployment)
}

fn entry(history: &History, id: ObjectId) -> LineageEntry {
    let o = history.object(id);
    LineageEntry {
        kind: o.kind.clone(),
        namespace: o.namespace.clone(),
        name: o.name.clone(),
        uid: o.uid.clone(),
        recorded: true,
    }
}

fn revision_info(
    timeline: &ReplicaSetTimeline,
    model: Option<&DeploymentModel>,
    at: Timestamp,
) -> RevisionInfo {
    // The controller renumbers a ReplicaSet before it creates pods for the new number; allow for
    // the ReplicaSet watch delivering that update after the pod.
    let number = timeline.revision_at(at + WATCH_SKEW);
    let change = number.and_then(|n| model?.revision(n)?.change.clone());
    RevisionInfo {
        number,
        template_hash: timeline.template_hash.clone(),
        change,
        current_number: timeline.last().and_then(|p| p.revision),
    }
}

fn created(
    context: &Context<'_>,
    arrival: Option<&Arrival>,
    revision: Option<&RevisionInfo>,
) -> Created {
    let object = context.history.object(context.pod);
    let time = if object.seen_from_start() {
        object.created
    } else {
        Some(object.first().ts)
    };
    let made = revision.and_then(|r| r.change.clone());
    let (reason, change, replaced, evidence) = match arrival {
        Some(Arrival::Scaled {
            cause: ScaleCause::Rollout,
            change,
            at,
        }) => (
            "rollout",
            made.or_else(|| change.as_deref().cloned()),
            None,
            format!("its ReplicaSet was scaled up at {at} for the rollout of its revision"),
        ),
        Some(Arrival::Scaled {
            cause: ScaleCause::ScaleUp,
            change,
            at,
        }) => (
            "scale-up",
            change.as_deref().cloned(),
            None,
            format!("its ReplicaSet was scaled up at {at} after the Deployment's replicas went up"),
        ),
        Some(Arrival::Scaled { at, .. }) => (
            "unknown",
            None,
            None,
            format!("its ReplicaSet was scaled up at {at}, but the trace does not show why"),
        ),
        Some(Arrival::Replaced { pod }) => {
            let old = context.history.object(*pod);
            (
                "replacement",
                None,
                Some(NameUid {
                    name: old.name.clone(),
                    uid: old.uid.clone(),
                }),
                match old.gone {
                    Some(Gone::MissingAtRelist(relist)) => format!(
                        "pod {} vanished while the pod watch was down (missing from the re-list at {relist}) and nothing in the spec changed; the ReplicaSet replaced it",
                        old.name
                    ),
                    _ => format!(
                        "pod {} went away while the spec did not change; the ReplicaSet replaced it",
                        old.name
                    ),
                },
            )
        }
        Some(Arrival::BeforeTrace) => (
            "unknown",
            None,
            None,
            "the pod already existed when the trace began".to_string(),
        ),
        Some(Arrival::Unknown(why)) => ("unknown", None, None, why.clone()),
        None => (
            "unknown",
            None,
            None,
            "the pod has no recorded ReplicaSet".to_string(),
        ),
    };
    Created {
        time,
        reason,
        change,
        replaced,
        evidence,
    }
}

fn deleted(context: &Context<'_>, info: &DepartureInfo) -> Deleted {
    let history = context.history;
    let replaced_by = info.replaced_by.map(|id| {
        let o = history.object(id);
        NameUid {
            name: o.name.clone(),
            uid: o.uid.clone(),
        }
    });
    let (reason, change, evidence) = match &info.why {
        Departure::Scaled {
            cause: ScaleCause::Rollout,
            change,
            at,
        } => (
            "rollout",
            change.as_deref().cloned(),
            format!("its ReplicaSet was scaled down at {at} as a newer revision rolled out"),
        ),
        Departure::Scaled {
            cause: ScaleCause::ScaleDown,
            change,
            at,
        } => (
            "scale-down",
            change.as_deref().cloned(),
            format!(
                "its ReplicaSet was scaled down at {at} after the Deployment's replicas went down"
            ),
        ),
        Departure::Scaled { at, .. } => (
            "unknown",
            None,
            format!("its ReplicaSet was scaled down at {at}, but the trace does not show why"),
        ),
        Departure::Disrupted(d) => (d.reason, None, d.evidence.clone()),
        Departure::External => (
            "external-delete",
            None,
            "deleted while its ReplicaSet still wanted it and nothing in the spec changed"
                .to_string(),
        ),
        Departure::Cascade { owner } => (
            "cascade-delete",
            None,
            format!(
                "its owner {} was being deleted",
                history.object(*owner).display_name()
            ),
        ),
        Departure::Unknown(why) => ("unknown", None, why.clone()),
    };
    let state_before = history
        .object(context.pod)
        .versions
        .iter()
        .take_while(|v| v.ts < info.time)
        .last()
        .map(|v| state_of(&pod_at(history, v)));
    let object = history.object(context.pod);
    let seen_leaving = object
        .versions
        .iter()
        .any(|v| v.deletion_timestamp.is_some())
        || object.last().event == crate::trace::EventType::Deleted;
    let time_exact = seen_leaving || !matches!(object.gone, Some(Gone::MissingAtRelist(_)));
    Deleted {
        time: info.time,
        reason,
        change,
        replaced_by,
        evidence,
        state_before,
        time_exact,
    }
}

/// Blames the restarts on the revision's change when other revisions' pods ran without restarts.
fn blame(
    context: &Context<'_>,
    restarts: &[Restart],
    before: &BTreeMap<String, i64>,
    revision: Option<&RevisionInfo>,
) -> (Option<Change>, Option<RestartEvidence>) {
    if restarts.is_empty() && before.is_empty() {
        return (None, None);
    }
    let (Some(model), Some(timeline), Some(revision)) = (context.model, context.timeline, revision)
    else {
        return (
            None,
            Some(unknown_blame(
                "the pod has no recorded Deployment to compare revisions",
            )),
        );
    };
    let Some(change) = revision.change.clone() else {
        return (
            None,
            Some(unknown_blame(
                "the change that made its revision is not known",
            )),
        );
    };
    let others: Vec<&ReplicaSetTimeline> = model
        .replicasets
        .iter()
        .filter(|rs| rs.id != timeline.id)
        .collect();
    let runs: Vec<PeerRun> = others
        .iter()
        .flat_map(|rs| peer_runs(context.history, rs))
        .collect();
    if runs.is_empty() {
        return (
            None,
            Some(unknown_blame(
                "no other revision's pods are in the trace to compare with",
            )),
        );
    }
    let restarted: Vec<&PeerRun> = runs.iter().filter(|r| r.restarts > 0).collect();
    if !restarted.is_empty() {
        let text = format!(
            "not blamed on the change: {} pod(s) of other revisions restarted too (e.g. {} of revision {})",
            restarted.len(),
            restarted[0].name,
            restarted[0].revision.map_or("?".to_string(), |n| n.to_string())
        );
        return (
            None,
            Some(RestartEvidence {
                confidence: Confidence::Medium,
                text,
            }),
        );
    }
    let longest = runs.iter().map(|r| r.seconds).max().unwrap_or(0);
    let first_restart = restarts.first().map(|r| r.time);
    let made = change.time;
    let quick = first_restart
        .map(|t| made.duration_until(t).as_secs())
        .unwrap_or(i64::MAX);
    let confidence = if longest > quick {
        Confidence::High
    } else {
        Confidence::Medium
    };
    let mut by_revision: BTreeMap<Option<i64>, usize> = BTreeMap::new();
    for run in &runs {
        *by_revision.entry(run.revision).or_insert(0) += 1;
    }
    let described: Vec<String> = by_revision
        .iter()
        .map(|(rev, n)| {
            format!(
                "revision {}'s {n} pod(s)",
                rev.map_or("?".to_string(), |r| r.to_string())
            )
        })
        .collect();
    let text = format!(
        "{} ran up to {} without a restart",
        described.join(" and "),
        duration_words(longest)
    );
    (Some(change), Some(RestartEvidence { confidence, text }))
}

fn unknown_blame(why: &str) -> RestartEvidence {
    RestartEvidence {
        confidence: Confidence::Low,
        text: format!("cannot tell what caused the restarts: {why}"),
    }
}

/// How long a pod of another revision was seen running, and how often it restarted meanwhile.
struct PeerRun {
    name: String,
    revision: Option<i64>,
    seconds: i64,
    restarts: i64,
}

fn peer_runs(history: &History, rs: &ReplicaSetTimeline) -> Vec<PeerRun> {
    let rs_uid = history.object(rs.id).uid.as_str();
    let trace_end = history.facts.end;
    history
        .of_kind("Pod")
        .filter(|&pod| {
            let object = history.object(pod);
            object
                .versions
                .iter()
                .any(|v| v.controller_uid.as_deref() == Some(rs_uid))
        })
        .filter_map(|pod| {
            let object = history.object(pod);
            let first = pod_at(history, object.first());
            let last = pod_at(history, object.last());
            let since = running_since(&first).or(object.created)?;
            // A pod still there at the end was watched until then: a restart would have been recorded.
            let until = match object.gone {
                None => trace_end.unwrap_or(object.last().ts),
                Some(_) => object.deletion_started().unwrap_or(object.last().ts),
            };
            let before = if object.seen_from_start() {
                total_restarts(&first)
            } else {
                0
            };
            Some(PeerRun {
                name: object.name.clone(),
                revision: rs.revision_at(object.first().ts),
                seconds: since.duration_until(until).as_secs(),
                restarts: total_restarts(&last) - before,
            })
        })
        .collect()
}

fn final_state(history: &History, pod: ObjectId) -> FinalState {
    let object = history.object(pod);
    let last = object.last();
    FinalState {
        time: last.ts,
        exists: object.gone.is_none(),
        state: state_of(&pod_at(history, last)),
    }
}

fn serving(history: &History, model: Option<&DeploymentModel>) -> Vec<Serving> {
    let Some(model) = model else {
        return Vec::new();
    };
    let mut out: Vec<Serving> = model
        .replicasets
        .iter()
        .filter(|rs| history.object(rs.id).gone.is_none())
        .filter_map(|rs| {
            let last = rs.last()?;
            (last.ready > 0).then(|| Serving {
                revision: last.revision,
                replicaset: history.object(rs.id).name.clone(),
                ready: last.ready,
                desired: last.replicas,
            })
        })
        .collect();
    out.sort_by_key(|s| s.revision);
    out
}

fn collect_warnings(
    warnings: &mut Vec<String>,
    revision: &Option<RevisionInfo>,
    before: &BTreeMap<String, i64>,
    notes: &[String],
) {
    if let Some(change) = revision
        .as_ref()
        .and_then(|r| r.change.as_ref())
        .filter(|c| c.before_trace)
    {
        let number = change.revision.map_or("?".to_string(), |n| n.to_string());
        let what = match change.kind {
            ChangeKind::Create => {
                "it is the Deployment's first revision, with nothing to diff against"
            }
            _ => "its diff is against the previous revision's ReplicaSet template",
        };
        warnings.push(format!(
            "revision {number} was made before the trace began; {what}"
        ));
    }
    for (container, count) in before {
        warnings.push(format!(
            "container {container} had restarted {count} time(s) before the trace began; those restarts are not itemised"
        ));
    }
    warnings.extend(notes.iter().cloned());
}
