//! `kblame analyze --object statefulset/NAME` and `daemonset/NAME`: each ControllerRevision
//! with its pods and outcome, the controller's verdict by `kubectl rollout status` rules, and,
//! for a StatefulSet, whether an OrderedReady rolling update is halted and on which ordinals.
//!
//! Rules (Kubernetes v1.31): `staging/src/k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go`
//! (`StatefulSetStatusViewer.Status`, `DaemonSetStatusViewer.Status`: neither has a failure
//! verdict nor a progress deadline); `pkg/controller/statefulset/stateful_set_control.go`
//! (`updateStatefulSet`: in OrderedReady mode `processReplica` waits on the lowest ordinal
//! that is not Running and Ready, and the rolling update deletes the highest ordinal at or
//! above `spec.ordinals.start` + partition not at the update revision, one per sync even for a
//! `Parallel` set — so a crash-looping updated pod halts the update of every lower ordinal;
//! with `OnDelete` it deletes none). Pods are joined to their ControllerRevision by the
//! workload's own join (`workload::kinds::revisioned::revision_index`).

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use super::batch::last_termination;
use super::rollout::{event_evidence, pod_status_evidence, summarize, Evidence, RolloutQuery};
use super::select;
use super::{with_trace_warnings, Loaded, QueryError};
use crate::graph::{Change, ObjectRef};
use crate::history::ObjectId;
use crate::workload::controller_revision::{
    ControllerRevisionRef, Join, RevisionHistory, UpdateScope,
};
use crate::workload::events::occurrences_about;
use crate::workload::kinds::revisioned::revision_index;
use crate::workload::kinds::statefulset::ordinal;
use crate::workload::pod::{departure_time, pod_at, state_of, total_restarts};

/// A pod of a revision at the time asked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetPod {
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// `status.phase`.
    pub phase: String,
    /// Whether Ready is True.
    pub ready: bool,
    /// Container restarts (all containers).
    pub restarts: i64,
    /// The exit code of its last terminated container.
    pub last_exit_code: Option<i64>,
    /// That container's reason (`Error`, `OOMKilled`).
    pub last_terminated_reason: Option<String>,
}

/// One ControllerRevision of the workload and how it went.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetRevision {
    /// Its `revision` field at the time asked.
    pub number: i64,
    /// The ControllerRevision.
    pub controller_revision: ControllerRevisionRef,
    /// The change that made it.
    pub change: Option<Change>,
    /// `complete`, `failing`, `progressing`, `unknown` (update revision) or `superseded`.
    pub outcome: &'static str,
    /// When the evidence first showed failure.
    #[serde(serialize_with = "crate::render::serialize_opt_ts")]
    pub failing_since: Option<Timestamp>,
    /// Why it is failing, in words.
    pub reason: Option<String>,
    /// Its pods alive at the time asked, by name.
    pub pods: Vec<SetPod>,
    /// The records behind a failing outcome.
    pub evidence: Vec<Evidence>,
}

/// The answer to `analyze --object statefulset/NAME` or `daemonset/NAME`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetReport {
    /// The StatefulSet or DaemonSet.
    pub object: ObjectRef,
    /// Its controller at `at`, when one owns it (an operator's resource), else null.
    pub controlled_by: Option<ObjectRef>,
    /// The moment judged.
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub at: Timestamp,
    /// Its ControllerRevisions seen by then, newest first.
    pub revisions: Vec<SetRevision>,
    /// `complete`, `progressing`, or `unknown` (an OnDelete strategy: kubectl gives no verdict).
    pub verdict: &'static str,
    /// What `kubectl rollout status` would print.
    pub status_message: String,
    /// Revisions with ready pods at `at`.
    pub serving_revisions: Vec<i64>,
    /// StatefulSet only: where its rolling update stands (absent for a DaemonSet).
    #[serde(flatten)]
    pub ordered: Option<OrderedUpdate>,
    /// What the trace cannot show.
    pub warnings: Vec<String>,
    /// When the trace starts (for text dates; not in JSON).
    #[serde(skip)]
    pub trace_start: Option<Timestamp>,
}

/// Where a StatefulSet's rolling update stands; the ordinal lists and `rollout_halted` are
/// null when the trace cannot tell (no update revision recorded, or a pod the controller would
/// update whose revision is unknown).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderedUpdate {
    /// The update stopped on an updated pod that is not Running and Ready while ordinals it
    /// has not reached are still at an old revision (never with OnDelete).
    pub rollout_halted: Option<bool>,
    /// Ordinals at or above `start + partition` whose pod is not at the update revision (with
    /// OnDelete, every ordinal whose pod is not: each waits for someone to delete it).
    pub not_updated_ordinals: Option<Vec<i64>>,
    /// Ordinals below `start + partition` whose pod is at another revision: the partition
    /// keeps them there, as it is meant to (a canary), until it is lowered.
    pub partition_held_ordinals: Option<Vec<i64>>,
    /// The update strategy is OnDelete: the controller updates no pod by itself.
    #[serde(skip)]
    pub on_delete: bool,
    /// The lowest ordinal the rolling update replaces, `spec.ordinals.start` +
    /// `rollingUpdate.partition` (null with OnDelete).
    pub updated_from: Option<i64>,
}

/// Judges a StatefulSet.
pub fn statefulset_report(
    loaded: &mut Loaded,
    query: &RolloutQuery,
) -> Result<SetReport, QueryError> {
    set_report(
        loaded,
        query,
        crate::workload::kinds::statefulset::JOIN,
        true,
    )
}

/// Judges a DaemonSet.
pub fn daemonset_report(
    loaded: &mut Loaded,
    query: &RolloutQuery,
) -> Result<SetReport, QueryError> {
    set_report(
        loaded,
        query,
        crate::workload::kinds::daemonset::JOIN,
        false,
    )
}

/// A live pod with its revision index.
struct Live {
    id: ObjectId,
    revision: Option<usize>,
    pod: SetPod,
}

fn set_report(
    loaded: &mut Loaded,
    query: &RolloutQuery,
    join: Join,
    stateful: bool,
) -> Result<SetReport, QueryError> {
    let mut warnings = Vec::new();
    let id = select::resolve(&loaded.history, &query.object, &mut warnings)?;
    let at = query
        .at
        .or(loaded.history.facts.end)
        .ok_or(QueryError::EmptyTrace)?;
    let (history, graph) = (&loaded.history, &loaded.graph);
    let object = history.object(id);
    let Some(version) = object.version_at(at) else {
        return Err(QueryError::NotApplicable(format!(
            "{} did not exist yet at {at}",
            object.display_name()
        )));
    };
    let body: Value = history.parse(version).unwrap_or(Value::Null);
    let (verdict, status_message) = if stateful {
        statefulset_verdict(&body)
    } else {
        daemonset_verdict(&body)
    };
    let set = RevisionHistory::read(history, graph, id);
    if let Some(why) = &set.why_none {
        warnings.push(format!("revisions are unknown: {why}"));
    }
    // The update revision: the StatefulSet's `status.updateRevision` by name, else the
    // ControllerRevision holding the workload's template then (DaemonSets name none).
    let update = body
        .pointer("/status/updateRevision")
        .and_then(Value::as_str)
        .and_then(|name| set.join(name, Join::Name, &object.name))
        .or_else(|| set.update_revision_at(at))
        .and_then(|r| set.revisions.iter().position(|x| x.id == r.id));
    let pods_ever: Vec<(ObjectId, Option<usize>)> = graph
        .controlled_by(id)
        .into_iter()
        .filter(|&p| history.object(p).kind == "Pod" && history.object(p).first().ts <= at)
        .map(|p| (p, revision_index(history, &set, p, join)))
        .collect();
    let mut live: Vec<Live> = pods_ever
        .iter()
        .filter(|(p, _)| departure_time(history, *p).is_none_or(|d| d > at))
        .filter_map(|&(p, revision)| {
            Some(Live {
                id: p,
                revision,
                pod: set_pod(history, p, at)?,
            })
        })
        .collect();
    live.sort_by(|a, b| a.pod.name.cmp(&b.pod.name));
    let unjoined = live.iter().filter(|l| l.revision.is_none()).count();
    if unjoined > 0 && set.why_none.is_none() {
        warnings.push(format!("{unjoined} pod(s) name no recorded ControllerRevision (pruned past revisionHistoryLimit, or made outside the trace): their revision is unknown"));
    }
    let mut revisions: Vec<SetRevision> = set
        .revisions
        .iter()
        .enumerate()
        .filter(|(_, r)| history.object(r.id).first().ts <= at)
        .filter_map(|(index, recorded)| {
            let number = recorded.number_at(at)?;
            let mut evidence: Vec<Evidence> = pods_ever
                .iter()
                .filter(|(_, r)| *r == Some(index))
                .flat_map(|&(p, _)| {
                    let events = occurrences_about(history, graph, p);
                    let mut found = pod_status_evidence(history, p, at, &events);
                    found.extend(event_evidence(
                        &events,
                        at,
                        &["FailedScheduling", "Unhealthy", "Failed"],
                        "pod",
                    ));
                    found
                })
                .collect();
            evidence.sort_by_key(|e| (e.time, e.line));
            let outcome = match (update == Some(index), verdict, evidence.is_empty()) {
                (false, _, _) => "superseded",
                (true, "progressing", false) => "failing",
                (true, verdict, _) => verdict,
            };
            let failing = outcome == "failing";
            if !failing {
                evidence.clear();
            }
            Some(SetRevision {
                number,
                controller_revision: recorded.reference.clone(),
                change: set.change_of(history, recorded, number),
                outcome,
                failing_since: evidence.first().map(|e| e.time),
                reason: failing.then(|| summarize(&evidence)),
                pods: live
                    .iter()
                    .filter(|l| l.revision == Some(index))
                    .map(|l| l.pod.clone())
                    .collect(),
                evidence,
            })
        })
        .collect();
    revisions.sort_by_key(|r| std::cmp::Reverse(r.number));
    let serving_revisions = revisions
        .iter()
        .filter(|r| r.pods.iter().any(|p| p.ready))
        .map(|r| r.number)
        .collect();
    let ordered = stateful.then(|| {
        let scope = UpdateScope::of(&body);
        let found = halt(history, &body, &live, update);
        OrderedUpdate {
            rollout_halted: found.as_ref().map(|h| h.halted),
            not_updated_ordinals: found.as_ref().map(|h| h.not_updated.clone()),
            partition_held_ordinals: found.map(|h| h.held),
            on_delete: scope.on_delete,
            updated_from: (!scope.on_delete).then_some(scope.updated_from()),
        }
    });
    let warnings = with_trace_warnings(warnings, loaded);
    let controlled_by = loaded
        .history
        .state_at(id, at)
        .and_then(|v| v.controller_uid.as_deref())
        .and_then(|uid| loaded.history.by_uid(uid))
        .map(|owner| ObjectRef::of(loaded.history.object(owner)));
    Ok(SetReport {
        object: ObjectRef::of(loaded.history.object(id)),
        controlled_by,
        at,
        revisions,
        verdict,
        status_message,
        serving_revisions,
        ordered,
        warnings,
        trace_start: loaded.history.facts.start,
    })
}

fn set_pod(history: &crate::history::History, pod: ObjectId, at: Timestamp) -> Option<SetPod> {
    let object = history.object(pod);
    let version = object.version_at(at)?;
    let parsed = pod_at(history, version);
    let state = state_of(&parsed);
    let body: Value = history.parse(version).unwrap_or(Value::Null);
    let (last_exit_code, last_terminated_reason) = last_termination(&body);
    Some(SetPod {
        name: object.name.clone(),
        uid: object.uid.clone(),
        phase: state.phase.clone(),
        ready: state.ready,
        restarts: total_restarts(&parsed),
        last_exit_code,
        last_terminated_reason,
    })
}

/// Where a StatefulSet's update stands at one record: `None` when the trace cannot tell (no
/// update revision, or a pod the controller would update whose revision is unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Halt {
    halted: bool,
    not_updated: Vec<i64>,
    held: Vec<i64>,
}

/// `rollout_halted`, `not_updated_ordinals` and `partition_held_ordinals` of a StatefulSet
/// (`stateful_set_control.go` `updateStatefulSet`; [`UpdateScope`] cites the rest). Only the
/// pods whose ordinal is in `[start, start + replicas)` count (the others are condemned). The
/// not-updated ordinals are those at or above `start + partition` whose live pod is at another
/// revision than the update revision (with `OnDelete`, every ordinal: each waits for someone to
/// delete it, and nothing halts); the held ones are below `start + partition` at another
/// revision, where the controller leaves them. The update is halted when:
///
/// * OrderedReady: some not-updated ordinal lies below the ordinals already updated, and the
///   pod at the last ordinal the update reached (the lowest updated one: updates go highest
///   ordinal first) is not Running and Ready — `processReplica` waits on it, so the rolling
///   update never deletes the next pod;
/// * `Parallel`: some updated pod above the highest not-updated ordinal is not Running and
///   Ready — `processReplica` waits on nothing, but the update loop, going down from the
///   highest ordinal, returns at the first such pod ("wait for unavailable Pods on update")
///   before it reaches the next pod to delete.
fn halt(
    history: &crate::history::History,
    body: &Value,
    live: &[Live],
    update: Option<usize>,
) -> Option<Halt> {
    let update = update?;
    let replicas = body
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let slots: Vec<Slot> = live
        .iter()
        .filter_map(|l| {
            Some(Slot {
                ordinal: ordinal(history, l.id)?,
                at_update: l.revision.map(|r| r == update),
                healthy: l.pod.phase == "Running" && l.pod.ready,
            })
        })
        .collect();
    standing(UpdateScope::of(body), replicas, &slots)
}

/// A live pod as the halt rule sees it.
#[derive(Debug, Clone, Copy)]
struct Slot {
    ordinal: i64,
    /// Whether it is at the update revision; `None` when its revision is unknown.
    at_update: Option<bool>,
    /// Running and Ready.
    healthy: bool,
}

/// The rule of [`halt`] over plain slots.
fn standing(scope: UpdateScope, replicas: i64, slots: &[Slot]) -> Option<Halt> {
    let (updated_side, held_side): (Vec<Slot>, Vec<Slot>) = slots
        .iter()
        .filter(|s| scope.in_range(s.ordinal, replicas))
        .partition(|s| scope.on_delete || s.ordinal >= scope.updated_from());
    if updated_side.iter().any(|s| s.at_update.is_none()) {
        return None;
    }
    let other = |slots: &[Slot]| -> Vec<i64> {
        let mut ordinals: Vec<i64> = slots
            .iter()
            .filter(|s| s.at_update == Some(false))
            .map(|s| s.ordinal)
            .collect();
        ordinals.sort_unstable();
        ordinals
    };
    let not_updated = other(&updated_side);
    let held = other(&held_side);
    let updated = updated_side.iter().filter(|s| s.at_update == Some(true));
    let halted = match (not_updated.first(), not_updated.last()) {
        _ if scope.on_delete => false,
        (Some(_), Some(highest)) if scope.parallel => {
            updated.filter(|s| s.ordinal > *highest).any(|s| !s.healthy)
        }
        (Some(lowest), _) => updated
            .min_by_key(|s| s.ordinal)
            .is_some_and(|s| *lowest < s.ordinal && !s.healthy),
        _ => false,
    };
    Some(Halt {
        halted,
        not_updated,
        held,
    })
}

/// `StatefulSetStatusViewer.Status` (`rollout_status.go`). A recorded StatefulSet carries its
/// defaults (`SetDefaults_StatefulSet`: no `updateStrategy` means RollingUpdate with
/// `rollingUpdate.partition` 0), so a record without one is read that way.
pub fn statefulset_verdict(body: &Value) -> (&'static str, String) {
    let int = |pointer: &str| body.pointer(pointer).and_then(Value::as_i64);
    let strategy = body.pointer("/spec/updateStrategy");
    let kind = strategy
        .and_then(|s| s.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("RollingUpdate");
    if kind != "RollingUpdate" {
        return (
            "unknown",
            format!(
                "rollout status is only available for RollingUpdate strategy type (this is {kind})"
            ),
        );
    }
    let generation = int("/metadata/generation").unwrap_or(0);
    let observed = int("/status/observedGeneration").unwrap_or(0);
    if observed == 0 || generation > observed {
        return (
            "progressing",
            "waiting for statefulset spec update to be observed".to_string(),
        );
    }
    let replicas = int("/spec/replicas").unwrap_or(1);
    let ready = int("/status/readyReplicas").unwrap_or(0);
    if ready < replicas {
        return (
            "progressing",
            format!("waiting for {} pods to be ready", replicas - ready),
        );
    }
    let updated = int("/status/updatedReplicas").unwrap_or(0);
    let rolling = match strategy {
        None => Some(Some(0)),
        Some(s) => s
            .get("rollingUpdate")
            .filter(|r| !r.is_null())
            .map(|r| r.get("partition").and_then(Value::as_i64)),
    };
    if let Some(partition) = rolling {
        if let Some(partition) = partition {
            if updated < replicas - partition {
                return (
                    "progressing",
                    format!("waiting for partitioned roll out to finish: {updated} out of {} new pods have been updated", replicas - partition),
                );
            }
        }
        return (
            "complete",
            format!("partitioned roll out complete: {updated} new pods have been updated"),
        );
    }
    let revision = |key: &str| {
        body.pointer(&format!("/status/{key}"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (update, current) = (revision("updateRevision"), revision("currentRevision"));
    if update != current {
        return (
            "progressing",
            format!("waiting for statefulset rolling update to complete {updated} pods at revision {update}"),
        );
    }
    let current_replicas = int("/status/currentReplicas").unwrap_or(0);
    (
        "complete",
        format!(
            "statefulset rolling update complete {current_replicas} pods at revision {current}"
        ),
    )
}

/// `DaemonSetStatusViewer.Status` (`rollout_status.go`).
pub fn daemonset_verdict(body: &Value) -> (&'static str, String) {
    let int = |pointer: &str| body.pointer(pointer).and_then(Value::as_i64);
    let kind = body
        .pointer("/spec/updateStrategy/type")
        .and_then(Value::as_str)
        .unwrap_or("RollingUpdate");
    if kind != "RollingUpdate" {
        return (
            "unknown",
            format!(
                "rollout status is only available for RollingUpdate strategy type (this is {kind})"
            ),
        );
    }
    let generation = int("/metadata/generation").unwrap_or(0);
    if generation > int("/status/observedGeneration").unwrap_or(0) {
        return (
            "progressing",
            "waiting for daemon set spec update to be observed".to_string(),
        );
    }
    let desired = int("/status/desiredNumberScheduled").unwrap_or(0);
    let updated = int("/status/updatedNumberScheduled").unwrap_or(0);
    let available = int("/status/numberAvailable").unwrap_or(0);
    if updated < desired {
        (
            "progressing",
            format!("{updated} out of {desired} new pods have been updated"),
        )
    } else if available < desired {
        (
            "progressing",
            format!("{available} of {desired} updated pods are available"),
        )
    } else {
        ("complete", "successfully rolled out".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sts(spec: Value, status: Value) -> Value {
        json!({"metadata": {"generation": 2}, "spec": spec, "status": status})
    }

    #[test]
    fn statefulset_verdicts_follow_kubectl() {
        let status = json!({"observedGeneration": 2, "readyReplicas": 3, "updatedReplicas": 1,
            "currentReplicas": 2, "currentRevision": "db-a", "updateRevision": "db-b"});
        // No updateStrategy recorded: the default rollingUpdate with partition 0.
        assert_eq!(
            statefulset_verdict(&sts(json!({"replicas": 3}), status.clone())).0,
            "progressing"
        );
        // A partition of 2: one updated pod is the whole rollout.
        let partitioned = json!({"replicas": 3, "updateStrategy": {"type": "RollingUpdate",
            "rollingUpdate": {"partition": 2}}});
        assert_eq!(
            statefulset_verdict(&sts(partitioned, status.clone())),
            (
                "complete",
                "partitioned roll out complete: 1 new pods have been updated".to_string()
            )
        );
        // `type: RollingUpdate` alone: revisions are compared.
        let bare = json!({"replicas": 3, "updateStrategy": {"type": "RollingUpdate"}});
        assert_eq!(
            statefulset_verdict(&sts(bare, status.clone())).1,
            "waiting for statefulset rolling update to complete 1 pods at revision db-b"
        );
        let on_delete = json!({"replicas": 3, "updateStrategy": {"type": "OnDelete"}});
        assert_eq!(statefulset_verdict(&sts(on_delete, status)).0, "unknown");
        let unobserved = sts(json!({"replicas": 3}), json!({"observedGeneration": 1}));
        assert_eq!(
            statefulset_verdict(&unobserved).1,
            "waiting for statefulset spec update to be observed"
        );
    }

    fn slot(ordinal: i64, at_update: Option<bool>, healthy: bool) -> Slot {
        Slot {
            ordinal,
            at_update,
            healthy,
        }
    }

    fn scope(body: Value) -> UpdateScope {
        UpdateScope::of(&json!({ "spec": body }))
    }

    #[test]
    fn a_partition_counts_from_the_start_ordinal_and_holds_the_ordinals_below_it() {
        // ordinals.start 1, partition 3: only kafka-4 is the controller's to update.
        let canary = scope(
            json!({"ordinals": {"start": 1}, "podManagementPolicy": "Parallel",
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 3}}}),
        );
        assert_eq!(canary.updated_from(), 4);
        let slots = [
            slot(1, Some(false), true),
            slot(2, Some(false), true),
            slot(3, Some(false), true),
            slot(4, Some(true), true),
        ];
        let found = standing(canary, 4, &slots).unwrap();
        assert_eq!(found.not_updated, Vec::<i64>::new());
        assert_eq!(found.held, vec![1, 2, 3]);
        assert!(!found.halted);
        // A pod below the partition with an unknown revision does not hide the answer.
        let unknown_below = [slot(1, None, true), slot(4, Some(true), true)];
        assert!(standing(canary, 4, &unknown_below).is_some());
        // One at or above it does.
        let unknown_above = [slot(1, Some(false), true), slot(4, None, true)];
        assert!(standing(canary, 4, &unknown_above).is_none());
    }

    #[test]
    fn ordinals_outside_start_to_start_plus_replicas_are_condemned_not_late() {
        let set = scope(json!({"ordinals": {"start": 5}}));
        // replicas 2: ordinals 5 and 6; pod 7 is being scaled away, pod 4 is below the range.
        let slots = [
            slot(4, Some(false), true),
            slot(5, Some(false), true),
            slot(6, Some(true), true),
            slot(7, Some(false), true),
        ];
        let found = standing(set, 2, &slots).unwrap();
        assert_eq!(found.not_updated, vec![5]);
        assert!(found.held.is_empty());
    }

    #[test]
    fn an_ordered_update_halts_on_the_lowest_updated_pod_and_a_parallel_one_on_any_above() {
        let ordered = scope(json!({}));
        let parallel = scope(json!({"podManagementPolicy": "Parallel"}));
        // Ordinal 2 updated and crash-looping, 0 and 1 not updated.
        let stuck = [
            slot(0, Some(false), true),
            slot(1, Some(false), true),
            slot(2, Some(true), false),
        ];
        assert!(standing(ordered, 3, &stuck).unwrap().halted);
        assert!(standing(parallel, 3, &stuck).unwrap().halted);
        // Ordinal 0 was deleted by hand and came back updated but not ready: the ordered
        // update waits on it (processReplica), the parallel one does not (it is below the
        // next pod to update).
        let low = [
            slot(0, Some(true), false),
            slot(1, Some(false), true),
            slot(2, Some(true), true),
        ];
        assert!(!standing(parallel, 3, &low).unwrap().halted);
        assert_eq!(standing(ordered, 3, &low).unwrap().not_updated, vec![1]);
    }

    #[test]
    fn on_delete_lists_every_old_ordinal_and_never_halts() {
        let on_delete = scope(json!({"updateStrategy": {"type": "OnDelete"}}));
        assert!(!on_delete.replaces(Some(0)));
        let slots = [
            slot(0, Some(false), true),
            slot(1, Some(false), true),
            slot(2, Some(true), false),
        ];
        let found = standing(on_delete, 3, &slots).unwrap();
        assert_eq!(found.not_updated, vec![0, 1]);
        assert!(found.held.is_empty());
        assert!(!found.halted);
    }

    #[test]
    fn daemonset_verdicts_follow_kubectl() {
        let ds =
            |status: Value| json!({"metadata": {"generation": 2}, "spec": {}, "status": status});
        assert_eq!(
            daemonset_verdict(&ds(json!({"observedGeneration": 1}))).1,
            "waiting for daemon set spec update to be observed"
        );
        assert_eq!(
            daemonset_verdict(&ds(
                json!({"observedGeneration": 2, "desiredNumberScheduled": 2,
                "updatedNumberScheduled": 2, "numberAvailable": 1})
            )),
            (
                "progressing",
                "1 of 2 updated pods are available".to_string()
            )
        );
        assert_eq!(
            daemonset_verdict(&ds(
                json!({"observedGeneration": 2, "desiredNumberScheduled": 2,
                "updatedNumberScheduled": 2, "numberAvailable": 2})
            ))
            .0,
            "complete"
        );
    }
}
