//! `kblame analyze --object deployment/NAME`: each revision's outcome with its evidence, the
//! controller's own verdict at a time, and what is still serving.
//!
//! The verdict follows `kubectl rollout status`: the spec must be observed, then
//! ProgressDeadlineExceeded means failed, and the updated/old/available counts decide
//! between progressing and complete. A revision's `outcome` goes further: it is `failing`
//! as soon as its pods show failure (crash loops, image pulls, unschedulable, failing
//! probes, rejected creations), before the deadline says so.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;

use super::select::{self, ObjectQuery};
use super::{with_trace_warnings, Loaded, QueryError};
use crate::graph::{Change, ObjectRef};
use crate::history::{History, ObjectId, Version};
use crate::workload::conditions::{condition, Condition};
use crate::workload::deployment::{DeploymentModel, RecordedChange, Revision};
use crate::workload::events::{occurrences_about, Occurrence};
use crate::workload::pod::{
    departure_time, pod_at, restart_history_parsed, statuses, total_restarts,
};
use crate::workload::replicaset::{revision_of, ReplicaSetTimeline};

/// Which rollout, and when.
#[derive(Debug, Clone, Default)]
pub struct RolloutQuery {
    /// The Deployment (or one of its ReplicaSets).
    pub object: ObjectQuery,
    /// The moment to judge; the end of the trace when `None`.
    pub at: Option<Timestamp>,
}

/// A name and UID.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NamedObject {
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
}

/// A pod of a revision at the time asked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RevisionPod {
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
    /// Containers waiting or terminated, e.g. `web: CrashLoopBackOff`.
    pub waiting: Vec<String>,
}

/// One piece of evidence, with the record it comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// When the trace first showed it.
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub time: Timestamp,
    /// What it shows, in words.
    pub text: String,
    /// The trace line of the record; `None` when no record shows it.
    pub line: Option<u64>,
}

/// One revision of the Deployment and how it went.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RevisionReport {
    /// Revision number.
    pub number: i64,
    /// `pod-template-hash`.
    pub template_hash: Option<String>,
    /// Its ReplicaSet.
    pub replicaset: Option<NamedObject>,
    /// The change that made it.
    pub change: Option<Change>,
    /// `complete`, `failed`, `failing`, `progressing`, `superseded` or `paused`.
    pub outcome: &'static str,
    /// When the evidence first showed failure.
    #[serde(serialize_with = "crate::render::serialize_opt_ts")]
    pub failing_since: Option<Timestamp>,
    /// Why it failed or is failing, in words.
    pub reason: Option<String>,
    /// Its pods alive at the time asked.
    pub pods: Vec<RevisionPod>,
    /// Ready pods / desired at the time asked.
    pub ready: i64,
    /// Desired pods at the time asked.
    pub desired: i64,
    /// The records behind the outcome.
    pub evidence: Vec<Evidence>,
}

/// One recorded change of the Deployment's spec or metadata (an entry of `changes`): the CHANGE
/// with the version it made and the revision it made or brought back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeEntry {
    /// The change.
    #[serde(flatten)]
    pub change: Change,
    /// `metadata.generation` after it.
    pub generation: Option<i64>,
    /// The resourceVersion of the version it made.
    pub resource_version: Option<String>,
    /// The revision it made: its template got a new ReplicaSet revision.
    pub new_revision: Option<i64>,
    /// The earlier revision whose template it brought back, as `kubectl rollout undo` does.
    pub rollback_to_revision: Option<i64>,
}

impl From<RecordedChange> for ChangeEntry {
    fn from(recorded: RecordedChange) -> ChangeEntry {
        ChangeEntry {
            generation: recorded.change.evidence.generation,
            resource_version: recorded.change.evidence.resource_version.clone(),
            change: recorded.change,
            new_revision: recorded.new_revision,
            rollback_to_revision: recorded.rollback_to_revision,
        }
    }
}

/// The answer to `analyze --object deployment/NAME`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RolloutReport {
    /// The Deployment.
    pub object: ObjectRef,
    /// The moment judged.
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub at: Timestamp,
    /// Every revision seen, newest first.
    pub revisions: Vec<RevisionReport>,
    /// Every recorded change of spec or metadata up to `at`, in time order.
    pub changes: Vec<ChangeEntry>,
    /// The controller's own view at `at`: `complete`, `failed`, `progressing` or `paused`.
    pub verdict: &'static str,
    /// What `kubectl rollout status` would print.
    pub status_message: String,
    /// When a `failed` verdict became true (the condition's `lastTransitionTime`) and the
    /// record that first shows it; `None` for other verdicts.
    pub verdict_evidence: Option<Evidence>,
    /// Revisions with ready pods at `at`.
    pub serving_revisions: Vec<i64>,
    /// What the trace cannot show.
    pub warnings: Vec<String>,
    /// When the trace starts: text gives the date of times on other days (not in JSON, whose
    /// times are whole).
    #[serde(skip)]
    pub trace_start: Option<Timestamp>,
}

/// Judges the rollout of a Deployment (or of a ReplicaSet's Deployment).
pub fn rollout(loaded: &mut Loaded, query: &RolloutQuery) -> Result<RolloutReport, QueryError> {
    let mut warnings = Vec::new();
    let found = select::resolve(&loaded.history, &query.object, &mut warnings)?;
    let deployment = deployment_of(loaded, found, &mut warnings)?;
    let at = query
        .at
        .or(loaded.history.facts.end)
        .ok_or(QueryError::EmptyTrace)?;
    let model = DeploymentModel::of(&loaded.history, &mut loaded.graph, deployment);
    let history = &loaded.history;
    let object = history.object(deployment);
    let Some(version) = object.version_at(at) else {
        return Err(QueryError::NotApplicable(format!(
            "{} did not exist yet at {at}",
            object.display_name()
        )));
    };
    let body: Value = history.parse(version).unwrap_or(Value::Null);
    let (verdict, status_message) = controller_verdict(&body);
    let current = revision_of(&body);
    let failures = deployment_failure(history, deployment, &body, at, verdict);
    let verdict_evidence = failures
        .iter()
        .find(|e| verdict == "failed" && e.text.starts_with("ProgressDeadlineExceeded"))
        .cloned();
    let mut revisions: Vec<RevisionReport> = model
        .revisions
        .iter()
        .filter(|r| revision_existed(history, &model, r, at))
        .map(|r| revision_report(loaded, &model, r, current, verdict, &failures, at))
        .collect();
    revisions.sort_by_key(|r| std::cmp::Reverse(r.number));
    let changes = model
        .recorded_changes()
        .into_iter()
        .filter(|c| c.change.time <= at)
        .map(ChangeEntry::from)
        .collect();
    let serving_revisions = revisions
        .iter()
        .filter(|r| r.ready > 0)
        .map(|r| r.number)
        .collect();
    warnings.extend(model.notes.iter().cloned());
    let warnings = with_trace_warnings(warnings, loaded);
    Ok(RolloutReport {
        object: ObjectRef::of(object),
        at,
        revisions,
        changes,
        verdict,
        status_message,
        verdict_evidence,
        serving_revisions,
        warnings,
        trace_start: loaded.history.facts.start,
    })
}

/// The Deployment to judge: the object itself, or the controller of a ReplicaSet.
fn deployment_of(
    loaded: &Loaded,
    id: ObjectId,
    warnings: &mut Vec<String>,
) -> Result<ObjectId, QueryError> {
    let history = &loaded.history;
    let object = history.object(id);
    match object.kind.as_str() {
        "Deployment" => Ok(id),
        "ReplicaSet" => {
            let owner = object
                .last()
                .controller_uid
                .as_deref()
                .and_then(|uid| history.by_uid(uid));
            match owner.filter(|&o| history.object(o).kind == "Deployment") {
                Some(deployment) => {
                    warnings.push(format!(
                        "replicaset {} belongs to deployment {}; answering for the deployment",
                        object.name,
                        history.object(deployment).name
                    ));
                    Ok(deployment)
                }
                None => Err(QueryError::NotApplicable(format!(
                    "replicaset {} has no recorded Deployment to judge",
                    object.name
                ))),
            }
        }
        other => Err(QueryError::NotApplicable(format!(
            "rollouts are judged for Deployments (and their ReplicaSets), not {other}"
        ))),
    }
}

/// What `kubectl rollout status` concludes from one Deployment version.
pub fn controller_verdict(body: &Value) -> (&'static str, String) {
    let int = |pointer: &str| body.pointer(pointer).and_then(Value::as_i64);
    let generation = int("/metadata/generation").unwrap_or(0);
    let observed = int("/status/observedGeneration").unwrap_or(0) >= generation;
    // A missed deadline stays when the Deployment is paused afterwards: the controller's
    // `checkPausedConditions` does not overwrite a TimedOut Progressing condition, and
    // `kubectl rollout status` reports it as exceeded.
    if let Some(progressing) = condition(body, "Progressing").filter(|_| observed) {
        if progressing.reason() == "ProgressDeadlineExceeded" {
            return (
                "failed",
                format!("ProgressDeadlineExceeded: {}", progressing.message()),
            );
        }
    }
    if body.pointer("/spec/paused").and_then(Value::as_bool) == Some(true) {
        return ("paused", "the deployment is paused".to_string());
    }
    if !observed {
        return (
            "progressing",
            "waiting for the deployment spec update to be observed".to_string(),
        );
    }
    let desired = int("/spec/replicas").unwrap_or(1);
    let updated = int("/status/updatedReplicas").unwrap_or(0);
    let replicas = int("/status/replicas").unwrap_or(0);
    let available = int("/status/availableReplicas").unwrap_or(0);
    if updated < desired {
        (
            "progressing",
            format!("{updated} out of {desired} new replicas have been updated"),
        )
    } else if replicas > updated {
        (
            "progressing",
            format!(
                "{} old replicas are pending termination",
                replicas - updated
            ),
        )
    } else if available < updated {
        (
            "progressing",
            format!("{available} of {updated} updated replicas are available"),
        )
    } else {
        ("complete", "successfully rolled out".to_string())
    }
}

fn revision_existed(
    history: &History,
    model: &DeploymentModel,
    revision: &Revision,
    at: Timestamp,
) -> bool {
    let made = revision.change.as_ref().map(|c| c.time);
    let rs_seen = revision
        .replicaset
        .and_then(|rs| timeline(model, rs))
        .and_then(|t| t.points.first())
        .map(|p| p.ts);
    let rs_created = revision
        .replicaset
        .and_then(|rs| history.object(rs).created);
    [made, rs_seen, rs_created]
        .into_iter()
        .flatten()
        .min()
        .is_some_and(|t| t <= at)
}

fn timeline(model: &DeploymentModel, rs: ObjectId) -> Option<&ReplicaSetTimeline> {
    model.replicasets.iter().find(|t| t.id == rs)
}

fn revision_report(
    loaded: &Loaded,
    model: &DeploymentModel,
    revision: &Revision,
    current: Option<i64>,
    verdict: &'static str,
    deployment_failures: &[Evidence],
    at: Timestamp,
) -> RevisionReport {
    let history = &loaded.history;
    let rs = revision.replicaset;
    let point = rs
        .and_then(|id| timeline(model, id))
        .and_then(|t| t.point_at(at));
    // After a rollback the ReplicaSet carries a newer number: its pods belong to that revision.
    let renumbered = point
        .and_then(|p| p.revision)
        .filter(|&n| n != revision.number);
    let is_current = current == Some(revision.number);
    let mut evidence = match (rs, renumbered) {
        (Some(id), None) => failure_evidence(loaded, id, at),
        _ => Vec::new(),
    };
    if is_current {
        evidence.extend(deployment_failures.iter().cloned());
    }
    evidence.sort_by_key(|e| (e.time, e.line));
    let outcome = outcome(is_current, verdict, &evidence);
    let failing = !evidence.is_empty() && outcome != "superseded";
    let reason = match renumbered {
        Some(newer) => Some(format!(
            "rolled back: its ReplicaSet is now revision {newer}"
        )),
        None => failing.then(|| summarize(&evidence)),
    };
    let (pods, ready, desired) = match (rs, renumbered) {
        (Some(id), None) => (
            alive_pods(loaded, id, at),
            point.map_or(0, |p| p.ready),
            point.map_or(0, |p| p.replicas),
        ),
        _ => (Vec::new(), 0, 0),
    };
    RevisionReport {
        number: revision.number,
        template_hash: revision.template_hash.clone(),
        replicaset: rs.map(|id| {
            let o = history.object(id);
            NamedObject {
                name: o.name.clone(),
                uid: o.uid.clone(),
            }
        }),
        change: revision.change.clone(),
        outcome,
        failing_since: evidence.first().filter(|_| failing).map(|e| e.time),
        reason,
        ready,
        desired,
        pods,
        evidence,
    }
}

/// The revision's outcome: the controller's verdict for the current revision, sharpened by evidence.
fn outcome(is_current: bool, verdict: &'static str, evidence: &[Evidence]) -> &'static str {
    if !is_current {
        return "superseded";
    }
    match (verdict, evidence.is_empty()) {
        ("paused", _) => "paused",
        ("failed", _) => "failed",
        ("progressing", false) => "failing",
        (verdict, _) => verdict,
    }
}

pub(super) fn summarize(evidence: &[Evidence]) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for item in evidence {
        if !parts.contains(&item.text.as_str()) {
            parts.push(&item.text);
        }
    }
    parts.truncate(4);
    parts.join("; ")
}

/// Pods of ReplicaSet `rs` that existed at `at` and had not begun to go away.
fn alive_pods(loaded: &Loaded, rs: ObjectId, at: Timestamp) -> Vec<RevisionPod> {
    let history = &loaded.history;
    let mut pods: Vec<RevisionPod> = loaded
        .graph
        .controlled_by(rs)
        .into_iter()
        .filter(|&p| history.object(p).kind == "Pod")
        .filter(|&p| {
            history.object(p).first().ts <= at && departure_time(history, p).is_none_or(|d| d > at)
        })
        .filter_map(|p| {
            let object = history.object(p);
            let pod = pod_at(history, object.version_at(at)?);
            let state = crate::workload::pod::state_of(&pod);
            Some(RevisionPod {
                name: object.name.clone(),
                uid: object.uid.clone(),
                phase: state.phase.clone(),
                ready: state.ready,
                restarts: total_restarts(&pod),
                waiting: state
                    .containers
                    .iter()
                    .filter(|(_, s)| s.starts_with("waiting") || s.starts_with("terminated"))
                    .map(|(name, s)| format!("{name}: {s}"))
                    .collect(),
            })
        })
        .collect();
    pods.sort_by(|a, b| a.name.cmp(&b.name));
    pods
}

/// Waiting reasons that mean the revision cannot run, not just that it is starting.
pub(super) const FAILING_WAITS: &[&str] = &[
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
];

/// Everything up to `at` that shows the revision's pods failing, from pod statuses and Events.
fn failure_evidence(loaded: &Loaded, rs: ObjectId, at: Timestamp) -> Vec<Evidence> {
    let history = &loaded.history;
    let mut evidence = Vec::new();
    let events = occurrences_about(history, &loaded.graph, rs);
    evidence.extend(event_evidence(&events, at, &["FailedCreate"], "replicaset"));
    for pod in loaded.graph.controlled_by(rs) {
        if history.object(pod).kind != "Pod" {
            continue;
        }
        let events = occurrences_about(history, &loaded.graph, pod);
        evidence.extend(pod_status_evidence(history, pod, at, &events));
        evidence.extend(event_evidence(
            &events,
            at,
            &["FailedScheduling", "Unhealthy", "Failed"],
            "pod",
        ));
    }
    evidence
}

/// The first record where each container of the pod showed a failing wait or a restart.
pub(super) fn pod_status_evidence(
    history: &History,
    pod: ObjectId,
    at: Timestamp,
    events: &[Occurrence],
) -> Vec<Evidence> {
    let object = history.object(pod);
    let mut found: Vec<Evidence> = Vec::new();
    let mut seen_reasons: Vec<String> = Vec::new();
    // Each version is parsed once (in parallel) for both the waits and the restarts below.
    let parsed: Vec<Pod> = object
        .versions
        .par_iter()
        .map(|version| pod_at(history, version))
        .collect();
    for (version, parsed) in object
        .versions
        .iter()
        .zip(&parsed)
        .take_while(|(v, _)| v.ts <= at)
    {
        for status in statuses(parsed) {
            let Some(waiting) = status.state.as_ref().and_then(|s| s.waiting.as_ref()) else {
                continue;
            };
            let reason = waiting.reason.clone().unwrap_or_default();
            let key = format!("{}/{reason}", status.name);
            if FAILING_WAITS.contains(&reason.as_str()) && !seen_reasons.contains(&key) {
                seen_reasons.push(key);
                found.push(Evidence {
                    time: version.ts,
                    text: waiting_text(
                        &object.name,
                        &status.name,
                        &reason,
                        waiting.message.as_deref(),
                        status,
                    ),
                    line: Some(version.line),
                });
            }
        }
    }
    let restarts = restart_history_parsed(history, pod, &parsed, events);
    let seen: Vec<_> = restarts.restarts.iter().filter(|r| r.time <= at).collect();
    if let Some(first) = seen.first() {
        let exit = first
            .exit_code
            .map(|c| format!(", exit {c}"))
            .unwrap_or_default();
        found.push(Evidence {
            time: first.time,
            text: format!(
                "pod {} restarted {}× ({}{exit})",
                object.name,
                seen.len(),
                first.reason
            ),
            line: Some(first.line),
        });
    }
    found
}

fn waiting_text(
    pod: &str,
    container: &str,
    reason: &str,
    message: Option<&str>,
    status: &k8s_openapi::api::core::v1::ContainerStatus,
) -> String {
    let last = status
        .last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref());
    match (reason, last, message) {
        ("CrashLoopBackOff", Some(t), _) => format!(
            "pod {pod} {container}: CrashLoopBackOff (last exit {}, {})",
            t.exit_code,
            t.reason.as_deref().unwrap_or("?")
        ),
        (_, _, Some(message)) if !message.is_empty() => {
            format!("pod {pod} {container}: {reason} `{}`", message.trim())
        }
        _ => format!("pod {pod} {container}: {reason}"),
    }
}

/// Events whose reason signals failure, folded: the first occurrence's time, the total count.
pub(super) fn event_evidence(
    events: &[Occurrence],
    at: Timestamp,
    reasons: &[&str],
    what: &str,
) -> Vec<Evidence> {
    let mut folded: Vec<(String, Evidence, i64)> = Vec::new();
    for event in events
        .iter()
        .filter(|e| e.ts <= at && reasons.contains(&e.reason.as_str()))
    {
        if event.reason == "Unhealthy" && !event.message.to_lowercase().contains("readiness") {
            continue;
        }
        match folded
            .iter_mut()
            .find(|(name, _, _)| *name == event.event_name)
        {
            Some((_, _, count)) => *count = (*count).max(event.count),
            None => folded.push((
                event.event_name.clone(),
                Evidence {
                    time: event.ts,
                    text: String::new(),
                    line: Some(event.line),
                },
                event.count,
            )),
        }
    }
    folded
        .into_iter()
        .filter_map(|(name, mut item, count)| {
            let event = events.iter().find(|e| e.event_name == name)?;
            item.text = format!(
                "{what} Event {} ×{count}: `{}`",
                event.reason,
                event.message.trim()
            );
            Some(item)
        })
        .collect()
}

/// The Deployment's own failure conditions (deadline, ReplicaFailure) in force at `at`, as
/// evidence dated when they became true: the condition's `lastTransitionTime` (else the record's
/// time), with the line of the first record of the run of versions up to `at` that shows them.
fn deployment_failure(
    history: &History,
    deployment: ObjectId,
    body: &Value,
    at: Timestamp,
    verdict: &str,
) -> Vec<Evidence> {
    let mut found = Vec::new();
    let replica_failure =
        |body: &Value| condition(body, "ReplicaFailure").filter(|c| c.status == "True");
    if let Some(failure) = replica_failure(body) {
        let first = first_showing(history, deployment, at, |b| replica_failure(b).is_some());
        found.push(Evidence {
            time: transition_time(&failure, first.map(|v| v.ts)).unwrap_or(at),
            text: format!(
                "ReplicaFailure {}: `{}`",
                failure.reason(),
                failure.message().trim()
            ),
            line: first.map(|v| v.line),
        });
    }
    let deadline = |body: &Value| {
        condition(body, "Progressing").filter(|c| c.reason() == "ProgressDeadlineExceeded")
    };
    if verdict == "failed" {
        if let Some(progressing) = deadline(body) {
            let first = first_showing(history, deployment, at, |b| deadline(b).is_some());
            found.push(Evidence {
                time: transition_time(&progressing, first.map(|v| v.ts)).unwrap_or(at),
                text: format!("{}: {}", progressing.reason(), progressing.message().trim()),
                line: first.map(|v| v.line),
            });
        }
    }
    found
}

/// The earliest version of the unbroken run of versions up to `at` whose bodies all satisfy
/// `shows`: the record where what is true at `at` first appeared.
fn first_showing(
    history: &History,
    id: ObjectId,
    at: Timestamp,
    shows: impl Fn(&Value) -> bool,
) -> Option<&Version> {
    let object = history.object(id);
    let upto = object.versions.iter().take_while(|v| v.ts <= at);
    let mut first = None;
    for version in upto.collect::<Vec<_>>().into_iter().rev() {
        match history.parse::<Value>(version) {
            Ok(body) if shows(&body) => first = Some(version),
            _ => break,
        }
    }
    first
}

/// When a condition last changed status, by its own `lastTransitionTime` (else
/// `lastUpdateTime`); `recorded` when it has neither.
fn transition_time(condition: &Condition, recorded: Option<Timestamp>) -> Option<Timestamp> {
    [&condition.last_transition_time, &condition.last_update_time]
        .into_iter()
        .flatten()
        .find_map(|t| t.parse::<Timestamp>().ok())
        .or(recorded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Paused after the deadline passed: still failed, as `kubectl rollout status` says; paused
    /// otherwise.
    #[test]
    fn a_missed_deadline_outlives_a_pause() {
        let deployment = |reason: &str| {
            json!({"metadata": {"generation": 2}, "spec": {"paused": true, "replicas": 3},
                "status": {"observedGeneration": 2, "conditions": [{"type": "Progressing",
                    "status": "False", "reason": reason, "message": "timed out"}]}})
        };
        assert_eq!(
            controller_verdict(&deployment("ProgressDeadlineExceeded")).0,
            "failed"
        );
        assert_eq!(
            controller_verdict(&deployment("DeploymentPaused")).0,
            "paused"
        );
    }

    /// JSON and YAML are never shortened: an Event's whole message is the evidence (an image
    /// pull error's registry path ends in the part that matters).
    #[test]
    fn evidence_keeps_a_long_event_message_whole() {
        let message = format!(
            "Failed to pull image \"{}/catalog-web:v5.4.0\": not found",
            "123456789012.dkr.ecr.eu-central-1.amazonaws.com/team/".repeat(3)
        );
        let ts: Timestamp = "2026-11-26T16:00:00Z".parse().expect("a time");
        let event = Occurrence {
            ts,
            reason: "Failed".into(),
            message: message.clone(),
            event_type: "Warning".into(),
            count: 2,
            field_path: None,
            line: 7,
            event_name: "web.1".into(),
        };
        let found = event_evidence(&[event], ts, &["Failed"], "pod web");
        assert_eq!(found.len(), 1);
        assert!(found[0].text.contains(&message), "{}", found[0].text);
        assert_eq!(found[0].line, Some(7));
    }
}
