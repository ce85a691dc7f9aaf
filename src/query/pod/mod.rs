//! `kblame analyze --pod`: which revision a pod belongs to, which change made it, why it restarted and why it went away.

mod blame;
mod find;
mod mutations;
mod report;

pub use crate::query::QueryError;
pub use report::{
    Created, Deleted, FinalState, LineageEntry, Mutations, NameUid, PodQuery, PodRef, PodReport,
    RestartEvidence, RevisionInfo, Serving, Terminated,
};

use super::select::{self, ObjectQuery};
use super::{with_trace_warnings, Loaded};
use crate::cause;
use crate::graph::{CausalGraph, ChangeKind};
use crate::history::managed_fields::parse_managed_fields;
use crate::history::{Gone, History, ObjectId};
use crate::workload::deployment::ScaleCause;
use crate::workload::events::occurrences_about;
use crate::workload::kinds::{resolve, PodFacts, PodRevision, ServingRevision};
use crate::workload::lineage::lineage;
use crate::workload::pod::{pod_at, restart_history, state_of, RestartHistory};
use crate::workload::turnover::{Arrival, Departure, DepartureInfo};

/// Answers `analyze --pod` on a loaded trace.
pub fn analyze_pod(loaded: &mut Loaded, query: &PodQuery) -> Result<PodReport, QueryError> {
    let mut warnings = Vec::new();
    let object = ObjectQuery {
        kind: "Pod".to_string(),
        name: query.name.clone(),
        namespace: query.namespace.clone(),
        uid: query.uid.clone(),
        group: None,
    };
    let pod = select::resolve(&loaded.history, &object, &mut warnings)?;
    let first = loaded.history.object(pod).first().ts;
    let links = lineage(&loaded.history, &loaded.graph, pod, first, &mut warnings);
    let facts = resolve(&links).pod_facts(&loaded.history, &mut loaded.graph, pod, first);
    let lineage: Vec<LineageEntry> = links.into_iter().map(|l| l.entry).collect();
    let made_by = preemptors_made_by(loaded, pod, facts.arrival.as_ref());
    let history = &loaded.history;
    let graph = &loaded.graph;
    warnings.extend(find::ownership_notes(history, pod, &lineage));
    let revision = facts.revision.clone().map(revision_info);
    let events = occurrences_about(history, graph, pod);
    let restarts = restart_history(history, pod, &events);
    let context = Context {
        history,
        graph,
        made_by: &made_by,
        facts: &facts,
        pod,
    };
    let mut created = created(&context, facts.arrival.as_ref(), revision.as_ref());
    let deleted = facts.departure.as_ref().map(|info| deleted(&context, info));
    let (restart_cause, restart_evidence) = blame::blame(
        &context,
        &restarts.restarts,
        &restarts.before_trace,
        revision.as_ref(),
    );
    let cause_input = cause::Input {
        history,
        pod,
        restarts: &restarts.restarts,
        template: restart_cause
            .as_ref()
            .zip(restart_evidence.as_ref())
            .map(|(change, e)| (change, e.confidence, e.text.as_str())),
    };
    let (restart_causes, blind) = cause::restart_causes(&cause_input);
    created.root_cause = cause::created_root_cause(&cause_input, created.change.as_ref())
        .or(created.root_cause.take());
    if restart_causes.is_empty() && !restarts.restarts.is_empty() {
        warnings.push(format!(
            "nothing recorded explains the restarts{}",
            match blind.is_empty() {
                true => String::new(),
                false => format!(": {}", blind.join("; ")),
            }
        ));
    } else {
        warnings.extend(blind);
    }
    // The pod's create request, when an audit log recorded it: its annotations name the
    // webhooks that mutated it.
    let object = history.object(pod);
    let creates = |r: &&crate::trace::RequestInfo| r.verb.as_deref() == Some("create");
    let create_request = object
        .first()
        .request
        .as_deref()
        .filter(creates)
        .or(object.create_request.as_deref().filter(creates))
        .map(|r| (r.audit_id.as_deref().unwrap_or(""), &r.annotations));
    let mutations = mutations::mutations(
        history,
        pod,
        revision.as_ref(),
        create_request,
        &mut warnings,
    );
    warnings.extend(facts.notes.iter().cloned());
    warnings.extend(pod_warnings(&context, revision.as_ref(), &restarts));
    let warnings = with_trace_warnings(warnings, loaded);
    let object = history.object(pod);
    Ok(PodReport {
        pod: PodRef {
            namespace: object.namespace.clone(),
            name: object.name.clone(),
            uid: object.uid.clone(),
        },
        lineage,
        revision,
        ordinal: facts.ordinal,
        pod_template_generation: facts.pod_template_generation.clone(),
        created,
        restarts: restarts.restarts,
        restarts_before_trace: restarts.before_trace,
        restart_cause,
        restart_evidence,
        restart_causes,
        deleted,
        state: final_state(history, pod),
        serving: facts.serving.iter().map(serving).collect(),
        job: facts.job.as_ref().map(|j| j.info.clone()),
        terminated: terminated(history, pod),
        failure_cause: facts.job.as_ref().and_then(|j| j.failure_cause.clone()),
        mutations,
        warnings,
        trace_start: history.facts.start,
    })
}

/// What the per-part functions share.
pub(super) struct Context<'a> {
    pub(super) history: &'a History,
    pub(super) graph: &'a CausalGraph,
    /// The changes that made other pods' revisions a cause names (a preemptor's).
    pub(super) made_by: &'a cause::MadeBy,
    pub(super) facts: &'a PodFacts,
    pub(super) pod: ObjectId,
}

/// The changes that made the revisions of the pods that preempted this pod or the one it
/// replaced: a preemption's root cause names them.
fn preemptors_made_by(
    loaded: &mut Loaded,
    pod: ObjectId,
    arrival: Option<&Arrival>,
) -> cause::MadeBy {
    let replaced = match arrival {
        Some(Arrival::Replaced { pod }) => Some(*pod),
        Some(Arrival::Told(told)) => told.other,
        _ => None,
    };
    let mut made_by = cause::MadeBy::new();
    for victim in [Some(pod), replaced].into_iter().flatten() {
        let Some(preemptor) = cause::node::preemptor(&loaded.history, &loaded.graph, victim) else {
            continue;
        };
        let first = loaded.history.object(preemptor).first().ts;
        let links = lineage(
            &loaded.history,
            &loaded.graph,
            preemptor,
            first,
            &mut Vec::new(),
        );
        let facts = resolve(&links).pod_facts(&loaded.history, &mut loaded.graph, preemptor, first);
        if let Some(change) = facts.revision.and_then(|r| r.change) {
            made_by.insert(preemptor, change);
        }
    }
    made_by
}

fn revision_info(revision: PodRevision) -> RevisionInfo {
    let PodRevision {
        number,
        template_hash,
        change,
        current_number,
        controller_revision,
    } = revision;
    RevisionInfo {
        number,
        template_hash,
        change,
        current_number,
        controller_revision,
    }
}

fn created(
    context: &Context<'_>,
    arrival: Option<&Arrival>,
    revision: Option<&RevisionInfo>,
) -> Created {
    let object = context.history.object(context.pod);
    let time = if object.existed_before_first_record() {
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
        Some(Arrival::JobRun { replaces, change }) => {
            let change = change.as_deref().cloned();
            match replaces.map(|id| context.history.object(id)) {
                None => (
                    "job-start",
                    change,
                    None,
                    "no pod of its Job had failed when it was created: it starts the Job's run"
                        .to_string(),
                ),
                Some(old) => (
                    "job-retry",
                    change,
                    Some(NameUid {
                        name: old.name.clone(),
                        uid: old.uid.clone(),
                    }),
                    format!(
                        "pod {} of its Job had failed before it was created; the Job controller replaced it (backoffLimit not yet reached)",
                        old.name
                    ),
                ),
            }
        }
        Some(Arrival::BeforeTrace) => (
            "unknown",
            None,
            None,
            "the pod already existed when the trace began".to_string(),
        ),
        Some(Arrival::Unknown(why)) => ("unknown", None, None, why.clone()),
        Some(Arrival::Told(told)) => (
            told.reason,
            told.change.as_deref().cloned(),
            told.other.map(|id| name_uid(context.history, id)),
            told.evidence.clone(),
        ),
        None => ("unknown", None, None, context.facts.unexplained.clone()),
    };
    let replaced_id = match arrival {
        Some(Arrival::Replaced { pod }) => Some(*pod),
        Some(Arrival::Told(told)) => told.other,
        _ => None,
    };
    let root_cause =
        cause::replacement_root_cause(context.history, context.graph, replaced_id, context.made_by)
            .or_else(|| cause::scale_root_cause(context.history, change.as_ref()));
    Created {
        time,
        reason,
        change,
        replaced,
        evidence,
        root_cause,
    }
}

fn name_uid(history: &History, id: ObjectId) -> NameUid {
    let o = history.object(id);
    NameUid {
        name: o.name.clone(),
        uid: o.uid.clone(),
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
        Departure::Told(told) => (
            told.reason,
            told.change.as_deref().cloned(),
            told.evidence.clone(),
        ),
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
        replaced_by,
        evidence,
        state_before,
        time_exact,
        root_cause: cause::deleted_root_cause(history, context.graph, context.pod, context.made_by)
            .or_else(|| cause::scale_root_cause(history, change.as_ref())),
        disruption_budget: match reason {
            "evicted" => cause::deleted_budget(history, context.pod),
            _ => None,
        },
        change,
    }
}

fn final_state(history: &History, pod: ObjectId) -> FinalState {
    let object = history.object(pod);
    // The record that brought its last state: a re-list that repeats it (same resourceVersion)
    // shows nothing new, so it does not change the answer.
    let versions = &object.versions;
    let mut last = object.last();
    for earlier in versions.iter().rev().skip(1) {
        match (&earlier.resource_version, &last.resource_version) {
            (Some(a), Some(b)) if a == b => last = earlier,
            _ => break,
        }
    }
    FinalState {
        time: last.ts,
        line: last.line,
        event: last.event.as_str().to_string(),
        written_by: last_writer(history, last),
        exists: object.gone.is_none(),
        state: state_of(&pod_at(history, last)),
    }
}

/// The managedFields entry changed last in `version`: who wrote what the record shows. The
/// API server stamps an entry's time whenever its manager changes the object (v1.31
/// `fieldmanager` `managedFieldsUpdater`), so the newest entry names the last writer, unless
/// the record came from a write that changed nothing a manager owns.
fn last_writer(history: &History, version: &crate::history::Version) -> Option<String> {
    let body: serde_json::Value = serde_json::from_str(history.body(version)).ok()?;
    let entries = parse_managed_fields(body.pointer("/metadata/managedFields")?).ok()?;
    let newest = entries
        .iter()
        .filter(|e| e.time.is_some())
        .max_by_key(|e| e.time)?;
    let mut who = newest.manager.clone()?;
    if let Some(operation) = &newest.operation {
        who.push_str(&format!(" {operation}"));
    }
    if let Some(subresource) = &newest.subresource {
        who.push_str(&format!(" of {subresource}"));
    }
    Some(who)
}

/// The pod's state when it ended: its last record with phase `Failed` or `Succeeded`, with the
/// reason and exit code of the container that failed (or of the first that terminated).
fn terminated(history: &History, pod: ObjectId) -> Option<Terminated> {
    let object = history.object(pod);
    let phase_of = |version| {
        history
            .parse::<serde_json::Value>(version)
            .ok()?
            .pointer("/status/phase")?
            .as_str()
            .map(str::to_string)
    };
    // A pod never leaves Failed or Succeeded (pod phase is terminal): the first record in the
    // final phase is when it ended; the last one holds its final container states.
    let terminal = |version: &&crate::history::Version| {
        history.body_may_mention(version, &["Failed", "Succeeded"])
    };
    let mut last = object
        .versions
        .iter()
        .rev()
        .filter(terminal)
        .find_map(|version| {
            let body: serde_json::Value = history.parse(version).ok()?;
            let phase = body.pointer("/status/phase")?.as_str()?;
            if phase != "Failed" && phase != "Succeeded" {
                return None;
            }
            let states: Vec<&serde_json::Value> = body
                .pointer("/status/containerStatuses")
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|c| c.pointer("/state/terminated"))
                .collect();
            let code =
                |t: &&serde_json::Value| t.get("exitCode").and_then(serde_json::Value::as_i64);
            let container = states
                .iter()
                .find(|t| code(t).is_some_and(|c| c != 0))
                .or(states.first());
            let text =
                |v: Option<&serde_json::Value>| v.and_then(|r| r.as_str()).map(str::to_string);
            Some(Terminated {
                phase: phase.to_string(),
                reason: container
                    .and_then(|t| text(t.get("reason")))
                    .or_else(|| text(body.pointer("/status/reason"))),
                exit_code: container.and_then(code),
                time: version.ts,
                line: version.line,
            })
        })?;
    if let Some(first) = object
        .versions
        .iter()
        .filter(terminal)
        .find(|v| phase_of(v).as_deref() == Some(last.phase.as_str()))
    {
        last.time = first.ts;
        last.line = first.line;
    }
    Some(last)
}

fn serving(revision: &ServingRevision) -> Serving {
    Serving {
        revision: revision.revision,
        replicaset: revision.carrier.clone(),
        ready: revision.ready,
        desired: revision.desired,
    }
}

/// What the trace cannot show about this pod: a revision made before recording, restarts
/// before its first record, several restarts between two records, a creation during a gap.
fn pod_warnings(
    context: &Context<'_>,
    revision: Option<&RevisionInfo>,
    restarts: &RestartHistory,
) -> Vec<String> {
    let mut warnings = Vec::new();
    let before_trace = revision
        .and_then(|r| r.change.as_ref())
        .filter(|c| c.before_trace);
    if let Some(change) = before_trace {
        let number = change.revision.map_or("?".to_string(), |n| n.to_string());
        let carrier = match revision.and_then(|r| r.controller_revision.as_ref()) {
            Some(_) => "ControllerRevision",
            None => "ReplicaSet",
        };
        let what = match change.kind {
            ChangeKind::Create => format!(
                "it is the {}'s first revision, with nothing to diff against",
                change.object.kind
            ),
            _ => format!("its diff is against the previous revision's {carrier} template"),
        };
        warnings.push(format!(
            "revision {number} was made before the trace began; {what}"
        ));
    }
    for (container, count) in &restarts.before_trace {
        warnings.push(format!(
            "container {container} had restarted {count} time(s) before the pod's first record; those restarts are not itemised"
        ));
    }
    warnings.extend(restarts.notes.iter().cloned());
    warnings.extend(removal_not_seen(context.history, context.pod));
    if context.history.first_seen_in_relist(context.pod) {
        let object = context.history.object(context.pod);
        let created = object
            .created
            .map_or("unknown".to_string(), |c| c.to_string());
        warnings.push(format!(
            "the pod was created while its watch was down: first seen in a re-list at {} (creationTimestamp {created}); its early records are missing",
            object.first().ts
        ));
    }
    warnings
}

/// How long past its deletionTimestamp (the end of its grace period) a pod may still exist
/// before its missing removal is worth a word: the kubelet's kill and final delete take seconds.
const REMOVAL_SLACK: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

/// A pod whose deletion was requested but whose removal never came: its node's kubelet, which
/// confirms the kill with the final delete, did not (a lost node's pods stay Terminating).
fn removal_not_seen(history: &History, pod: ObjectId) -> Option<String> {
    let object = history.object(pod);
    let requested = object.deletion_started()?;
    let last = object.last();
    let due = last.deletion_timestamp?;
    let end = history.facts.end?;
    let overdue = object.gone.is_none()
        && last.event != crate::trace::EventType::Deleted
        && crate::workload::shifted(due, REMOVAL_SLACK) < end;
    overdue.then(|| {
        format!(
            "its deletion was requested at {requested} (grace period until {due}), but its removal was never recorded: nothing confirmed the containers stopped (its node's kubelet did not report), so it is reported deleted at the request"
        )
    })
}
