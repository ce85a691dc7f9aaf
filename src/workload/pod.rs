//! Pod knowledge: container restarts seen in `restartCount`, probe kills, disruptions and current state.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use serde::{Deserialize, Serialize};

use super::events::Occurrence;
use crate::history::{History, ObjectId, Version};

/// How long after a restart was recorded a probe-kill Event may still be recorded and count for it.
const PROBE_EVENT_SLACK: SignedDuration = SignedDuration::from_secs(5);

/// The most restarts listed for one jump of `restartCount` between two records. The kubelet's
/// back-off (up to 5 min) allows about 300 a day, so a larger jump comes from a damaged trace,
/// and listing it one by one could exhaust memory (a count of 2^31 would be 2^31 entries).
const MAX_RESTARTS_PER_JUMP: i64 = 1000;

/// One container restart performed by the kubelet (one `restartCount` increment).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Restart {
    /// The container.
    pub container: String,
    /// When the trace observed the increment.
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub time: Timestamp,
    /// Why the previous run ended: `Error`, `OOMKilled`, `Completed`, `LivenessProbe`, `StartupProbe`, or `unknown`.
    pub reason: String,
    /// The previous run's exit code.
    pub exit_code: Option<i64>,
    /// `lastState.terminated.reason` as the kubelet reported it.
    pub termination_reason: Option<String>,
    /// When the previous run ended (`lastState.terminated.finishedAt`).
    #[serde(serialize_with = "crate::render::serialize_opt_ts")]
    pub finished_at: Option<Timestamp>,
    /// The trace line of the pod record showing the increment.
    pub line: u64,
    /// The Event that shows a probe kill, when there is one.
    pub probe_event: Option<String>,
}

/// The restarts of one pod, and what the trace cannot know about them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RestartHistory {
    /// Restarts seen during the trace, in time order.
    pub restarts: Vec<Restart>,
    /// Restarts that happened before the pod's first record, by container.
    pub before_trace: BTreeMap<String, i64>,
    /// Notes about missing detail (e.g. several restarts between two records).
    pub notes: Vec<String>,
}

/// Reads a pod version, tolerating a body that does not parse (it then reads as an empty Pod).
pub fn pod_at(history: &History, version: &Version) -> Pod {
    history.parse::<Pod>(version).unwrap_or_default()
}

/// Every container status of a pod (init containers first).
pub fn statuses(pod: &Pod) -> impl Iterator<Item = &ContainerStatus> {
    let status = pod.status.as_ref();
    let init = status
        .and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or(&[]);
    let main = status
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or(&[]);
    init.iter().chain(main.iter())
}

/// The restarts of `pod` seen in its recorded versions, with probe kills taken from `events`.
pub fn restart_history(history: &History, pod: ObjectId, events: &[Occurrence]) -> RestartHistory {
    let object = history.object(pod);
    let parsed = object
        .versions
        .iter()
        .map(|version| pod_at(history, version));
    restarts_of(history, pod, parsed, events)
}

/// [`restart_history`] from the pod's versions already parsed by [`pod_at`], one per version in
/// order, for a caller that reads them anyway (it saves parsing each body twice).
pub fn restart_history_parsed(
    history: &History,
    pod: ObjectId,
    parsed: &[Pod],
    events: &[Occurrence],
) -> RestartHistory {
    restarts_of(history, pod, parsed.iter(), events)
}

fn restarts_of<P: std::borrow::Borrow<Pod>>(
    history: &History,
    pod: ObjectId,
    parsed: impl Iterator<Item = P>,
    events: &[Occurrence],
) -> RestartHistory {
    let object = history.object(pod);
    let mut out = RestartHistory::default();
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    for (index, (version, parsed)) in object.versions.iter().zip(parsed).enumerate() {
        let parsed: &Pod = parsed.borrow();
        for status in statuses(parsed) {
            let count = i64::from(status.restart_count);
            let Some(&previous) = counts.get(&status.name) else {
                counts.insert(status.name.clone(), count);
                if count > 0 && index == 0 && object.existed_before_first_record() {
                    out.before_trace.insert(status.name.clone(), count);
                } else if count > 0 {
                    push_restarts(&mut out, status, version, 0, count);
                }
                continue;
            };
            if count > previous {
                push_restarts(&mut out, status, version, previous, count);
            }
            counts.insert(status.name.clone(), count.max(previous));
        }
    }
    attribute_probe_kills(&mut out.restarts, events);
    out
}

fn push_restarts(
    out: &mut RestartHistory,
    status: &ContainerStatus,
    version: &Version,
    from: i64,
    to: i64,
) {
    let terminated = status
        .last_state
        .as_ref()
        .and_then(|state| state.terminated.as_ref());
    let jump = to.saturating_sub(from);
    if jump > 1 {
        out.notes.push(format!(
            "container {} restarted {jump} times between two records; only the last run's exit is known",
            status.name,
        ));
    }
    let listed = jump.min(MAX_RESTARTS_PER_JUMP);
    if listed < jump {
        out.notes.push(format!(
            "container {}'s restartCount jumped from {from} to {to} in one record (line {}); only {listed} of those restarts are listed",
            status.name, version.line
        ));
    }
    for n in 0..listed {
        let detailed = n == listed - 1;
        let termination_reason = terminated
            .filter(|_| detailed)
            .and_then(|t| t.reason.clone());
        out.restarts.push(Restart {
            container: status.name.clone(),
            time: version.ts,
            reason: termination_reason
                .clone()
                .unwrap_or_else(|| "unknown".to_string()),
            exit_code: terminated
                .filter(|_| detailed)
                .map(|t| i64::from(t.exit_code)),
            termination_reason,
            finished_at: terminated
                .filter(|_| detailed)
                .and_then(|t| t.finished_at.as_ref())
                .map(|time| time.0),
            line: version.line,
            probe_event: None,
        });
    }
}

/// Marks restarts that follow a "failed liveness/startup probe, will be restarted" Killing Event.
fn attribute_probe_kills(restarts: &mut [Restart], events: &[Occurrence]) {
    // The probe kills of each container, in the events' (time) order, read once: a pod can
    // restart thousands of times with as many Events.
    let mut kills: BTreeMap<&str, Vec<(&Occurrence, &'static str)>> = BTreeMap::new();
    for event in events.iter().filter(|e| e.reason == "Killing") {
        if let (Some(container), Some(kind)) = (event.container(), probe_kind(&event.message)) {
            kills.entry(container).or_default().push((event, kind));
        }
    }
    let mut previous_by_container: BTreeMap<String, Timestamp> = BTreeMap::new();
    for restart in restarts.iter_mut() {
        let since = previous_by_container.get(&restart.container).copied();
        let until = super::shifted(restart.time, PROBE_EVENT_SLACK);
        // The first kill after the previous restart, if it comes before this one (plus slack).
        let kill = kills.get(restart.container.as_str()).and_then(|kills| {
            let first = since.map_or(0, |since| kills.partition_point(|(e, _)| e.ts <= since));
            kills.get(first).filter(|(e, _)| e.ts <= until)
        });
        if let Some((kill, kind)) = kill {
            restart.reason = kind.to_string();
            restart.probe_event = Some(format!(
                "{} (line {}): {}",
                kill.event_name, kill.line, kill.message
            ));
        }
        previous_by_container.insert(restart.container.clone(), restart.time);
    }
}

fn probe_kind(message: &str) -> Option<&'static str> {
    let message = message.to_lowercase();
    if message.contains("liveness probe") {
        Some("LivenessProbe")
    } else if message.contains("startup probe") {
        Some("StartupProbe")
    } else {
        None
    }
}

/// A disruption that ended a pod: eviction or preemption.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Disruption {
    /// `evicted`, `preempted` or `taint-eviction`.
    pub reason: &'static str,
    /// What shows it (status reason, condition or Event), in words.
    pub evidence: String,
}

/// The few status fields that say whether and how a pod stopped; reading only these (serde
/// skips the rest) costs a fraction of a whole [`Pod`], which matters for pods with hundreds
/// of versions.
#[derive(Debug, Default, Deserialize)]
struct StatusView {
    #[serde(default)]
    status: Option<StatusFields>,
}

#[derive(Debug, Default, Deserialize)]
struct StatusFields {
    #[serde(default)]
    phase: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    conditions: Option<Vec<ConditionFields>>,
}

#[derive(Debug, Default, Deserialize)]
struct ConditionFields {
    #[serde(default, rename = "type")]
    type_: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

fn status_at(history: &History, version: &Version) -> StatusFields {
    history
        .parse::<StatusView>(version)
        .ok()
        .and_then(|view| view.status)
        .unwrap_or_default()
}

/// Whether the pod's status or Events show it was evicted or preempted.
pub fn disruption(history: &History, pod: ObjectId, events: &[Occurrence]) -> Option<Disruption> {
    let versions = history.object(pod).versions.iter().rev();
    for version in
        versions.filter(|v| history.body_may_mention(v, &["Evicted", "DisruptionTarget"]))
    {
        let parsed = status_at(history, version);
        if let Some(found) = status_disruption(&parsed, version.line) {
            return Some(found);
        }
    }
    let told = events.iter().find_map(|event| {
        let reason = match event.reason.as_str() {
            "Evicted" => "evicted",
            "Preempted" | "Preempting" => "preempted",
            _ => return None,
        };
        Some(Disruption {
            reason,
            evidence: format!(
                "Event {} {} (line {}): {}",
                event.reason, event.event_name, event.line, event.message
            ),
        })
    });
    told.or_else(|| {
        // No condition or Event: a deletion when the toleration of the node's NoExecute
        // taint ran out is the taint manager's (issue 12).
        let node = crate::cause::node::node_object(history, pod)?;
        let (_, evidence) = crate::cause::node::taint_timing(history, pod, node)?;
        Some(Disruption {
            reason: "taint-eviction",
            evidence,
        })
    })
}

fn status_disruption(status: &StatusFields, line: u64) -> Option<Disruption> {
    if status.reason.as_deref() == Some("Evicted") {
        return Some(Disruption {
            reason: "evicted",
            evidence: format!(
                "pod status reason Evicted (line {line}): {}",
                status.message.as_deref().unwrap_or("")
            ),
        });
    }
    let condition = status
        .conditions
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .find(|c| c.type_ == "DisruptionTarget" && c.status == "True")?;
    let reason = match condition.reason.as_deref() {
        Some("PreemptionByScheduler") | Some("PreemptionByKubeScheduler") => "preempted",
        // The taint manager, after the node became unreachable (issue 12).
        Some("DeletionByTaintManager") => "taint-eviction",
        Some(_) | None => "evicted",
    };
    Some(Disruption {
        reason,
        evidence: format!(
            "condition DisruptionTarget {} (line {line}): {}",
            condition.reason.as_deref().unwrap_or(""),
            condition.message.as_deref().unwrap_or("")
        ),
    })
}

/// When the pod stopped counting for its ReplicaSet: deletion began, or it reached Failed/Succeeded.
pub fn departure_time(history: &History, pod: ObjectId) -> Option<Timestamp> {
    let object = history.object(pod);
    let finished = object.versions.iter().find(|version| {
        history.body_may_mention(version, &["Failed", "Succeeded"])
            && matches!(
                status_at(history, version).phase.as_deref(),
                Some("Failed") | Some("Succeeded")
            )
    });
    match (object.deletion_started(), finished.map(|v| v.ts)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A pod's state in one version, summarised for people.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PodState {
    /// `status.phase`.
    pub phase: String,
    /// Whether the Ready condition is True.
    pub ready: bool,
    /// Each container: `running`, `waiting: CrashLoopBackOff`, `terminated: Error (exit 1)`.
    pub containers: BTreeMap<String, String>,
    /// Whether deletion had begun.
    pub terminating: bool,
}

/// Summarises one pod version.
pub fn state_of(pod: &Pod) -> PodState {
    let status = pod.status.as_ref();
    let ready = status
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or(&[])
        .iter()
        .any(|c| c.type_ == "Ready" && c.status == "True");
    let containers = statuses(pod)
        .map(|cs| (cs.name.clone(), container_state(cs)))
        .collect();
    PodState {
        phase: status
            .and_then(|s| s.phase.clone())
            .unwrap_or_else(|| "Unknown".to_string()),
        ready,
        containers,
        terminating: pod.metadata.deletion_timestamp.is_some(),
    }
}

fn container_state(status: &ContainerStatus) -> String {
    let Some(state) = status.state.as_ref() else {
        return "unknown".to_string();
    };
    if let Some(waiting) = &state.waiting {
        return format!(
            "waiting: {}",
            waiting.reason.as_deref().unwrap_or("unknown")
        );
    }
    if let Some(terminated) = &state.terminated {
        return format!(
            "terminated: {} (exit {})",
            terminated.reason.as_deref().unwrap_or("unknown"),
            terminated.exit_code
        );
    }
    if state.running.is_some() {
        return "running".to_string();
    }
    "unknown".to_string()
}

/// When the pod's containers began their current runs, earliest first (from `state.running.startedAt`).
pub fn running_since(pod: &Pod) -> Option<Timestamp> {
    statuses(pod)
        .filter_map(|cs| cs.state.as_ref()?.running.as_ref()?.started_at.as_ref())
        .map(|time| time.0)
        .min()
}

/// The total restart count over all containers in one version.
pub fn total_restarts(pod: &Pod) -> i64 {
    statuses(pod).map(|cs| i64::from(cs.restart_count)).sum()
}
