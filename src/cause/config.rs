//! `config`: a change to a ConfigMap or Secret the pod reads, before its first failure.
//!
//! A change can only break a container that reads it: one started after the change (every
//! reference is read at container start), or one already running that mounts it as a volume
//! without `subPath`, which the kubelet updates in place within about a minute (its sync period
//! plus the watch cache's delay; see [`super::deps`]). A change after the failures began is not
//! a cause; one the running container never read (env, `subPath`) is not either. The candidate
//! is stronger when other pods that read the new data began failing too, and when pods that read
//! it only at start, before the change, kept running. Secret values are never shown: a Secret's
//! changed keys say only that their hash changed.
//!
//! Behind a change that only restarted the pods (`kubectl rollout restart`, a `checksum/`
//! annotation), the latest change before it of a ConfigMap or Secret the pod reads is why
//! someone restarted them: the new pods read the new data, the stamp itself changes nothing that
//! runs. It is likelier when the pod reads it only at start (env, `subPath`), where a restart is
//! the only way the new data takes effect, and when the restart followed it within
//! [`RESTART_WINDOW`].

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::deps::{dependencies, Reference};
use super::{Cause, CauseKind, Finder, Input};
use crate::graph::{Change, Confidence, ObjectRef};
use crate::history::diff::FieldChange;
use crate::history::{History, ObjectId};
use crate::workload::pod::{pod_at, total_restarts};

/// How long after a change a live-mounted reader's failure still points at it: the kubelet's
/// 1 min sync period, the ConfigMap/Secret watch cache's propagation, and an app's reload.
pub const LIVE_WINDOW: SignedDuration = SignedDuration::from_secs(180);

/// How long after a config change a restart stamp still points at it: a person noticing, or a
/// pipeline's next step.
pub const RESTART_WINDOW: SignedDuration = SignedDuration::from_secs(600);

/// ConfigMap and Secret changes.
pub struct Config;

impl Finder for Config {
    fn restart_causes(&self, input: &Input<'_>) -> Vec<Cause> {
        let history = input.history;
        let failures: Vec<Timestamp> = input
            .restarts
            .iter()
            .map(|r| r.finished_at.unwrap_or(r.time).min(r.time))
            .collect();
        if failures.is_empty() {
            return Vec::new();
        }
        let pod = history.object(input.pod);
        let Ok(body) = history.parse::<Value>(pod.first()) else {
            return Vec::new();
        };
        let started = pod.created.unwrap_or(pod.first().ts);
        let deps = dependencies(&body);
        deps.references
            .iter()
            .filter_map(|reference| {
                let candidates = history
                    .by_name(reference.kind, Some(&pod.namespace), &reference.name)
                    .into_iter()
                    .flat_map(|id| data_changes(history, id))
                    .filter_map(|change| {
                        judge(history, input.pod, reference, started, &failures, change)
                    });
                // The latest change that qualifies: the closest before the failures.
                candidates.max_by_key(|c| c.time)
            })
            .collect()
    }

    fn behind_trigger(&self, input: &Input<'_>, trigger: &Change) -> Option<Cause> {
        let history = input.history;
        let pod = history.object(input.pod);
        let body = history.parse::<Value>(pod.first()).ok()?;
        dependencies(&body)
            .references
            .iter()
            .flat_map(|reference| {
                history
                    .by_name(reference.kind, Some(&pod.namespace), &reference.name)
                    .into_iter()
                    .flat_map(|id| data_changes(history, id))
                    .filter(|change| change.time <= trigger.time)
                    .map(move |change| (reference, change))
            })
            .max_by_key(|(_, change)| change.time)
            .map(|(reference, change)| restarted_for(reference, change, trigger))
    }

    fn blind_spot(&self, input: &Input<'_>) -> Option<String> {
        let history = input.history;
        let pod = history.object(input.pod);
        let body: Value = history.parse(pod.first()).ok()?;
        let deps = dependencies(&body);
        let recorded = |resource: &str| {
            history
                .facts
                .header
                .as_ref()
                .filter(|h| !h.resources.is_empty())
                .is_none_or(|h| h.resources.iter().any(|r| r.resource == resource))
        };
        let missing: Vec<&str> = [("ConfigMap", "configmaps"), ("Secret", "secrets")]
            .into_iter()
            .filter(|(kind, resource)| {
                deps.references.iter().any(|r| r.kind == *kind) && !recorded(resource)
            })
            .map(|(_, resource)| resource)
            .collect();
        (!missing.is_empty()).then(|| {
            format!(
                "the pod reads {} the trace did not record: a change to them cannot be checked",
                missing.join(" and ")
            )
        })
    }
}

/// Every change of a ConfigMap's or Secret's data (a Secret's values told as `(hash)`).
fn data_changes(history: &History, id: ObjectId) -> Vec<Change> {
    crate::workload::changes::spec_changes(history, id)
}

/// A change of a Secret's value as it may be told: `(hash)` → `(hash changed)` (or added,
/// removed), never the value nor its hash.
pub(crate) fn secret_said(mut change: FieldChange) -> FieldChange {
    let said = |v: &Value| match v {
        Value::Null => Value::Null,
        _ => Value::String("(hash)".to_string()),
    };
    change.from = said(&change.from);
    change.to = match (&change.from, &change.to) {
        (Value::Null, _) | (_, Value::Null) => said(&change.to),
        _ => Value::String("(hash changed)".to_string()),
    };
    change
}

/// The candidate a change makes for this pod's failures, if it can be one.
fn judge(
    history: &History,
    pod: ObjectId,
    reference: &Reference,
    started: Timestamp,
    failures: &[Timestamp],
    change: Change,
) -> Option<Cause> {
    let at = change.time;
    if failures.iter().any(|&t| t < at) {
        return None; // The failures began before the change.
    }
    let first = *failures.iter().find(|&&t| t >= at)?;
    let read_at_start = started >= at;
    if !read_at_start && !reference.live() {
        return None; // The running container never read the new data.
    }
    let delay = at.duration_until(first);
    let how = reference
        .uses
        .iter()
        .map(|u| u.words())
        .collect::<Vec<_>>()
        .join(", ");
    let reads = if read_at_start {
        format!("the pod started after it ({how}), so it ran with the new data from the start")
    } else {
        format!("the pod reads it through {how}, so its running containers saw the new data")
    };
    let mut evidence = format!(
        "{} {}/{} {} at {} by {} (line {}); {reads}; its first failure came {} later, at {first}, and none before the change",
        reference.kind,
        change.object.namespace,
        change.object.name,
        changed_words(&change),
        at,
        change.manager.as_deref().unwrap_or("an unknown manager"),
        change.evidence.record_line.map_or("?".to_string(), |l| l.to_string()),
        crate::render::duration_words(delay.as_secs()),
    );
    let others = others(history, pod, &change.object, at);
    let mut confidence = if read_at_start || delay <= LIVE_WINDOW {
        Confidence::Medium
    } else {
        Confidence::Low
    };
    if let Some(name) = &others.failed_too {
        evidence.push_str(&format!(
            "; pod {name}, which also read the new data, began failing within {} of it too",
            crate::render::duration_words(LIVE_WINDOW.as_secs())
        ));
        confidence = confidence.max(Confidence::High);
    }
    if let Some(name) = &others.kept_running {
        evidence.push_str(&format!(
            "; pod {name}, which read it only at start before the change, kept running"
        ));
        if confidence == Confidence::Medium {
            confidence = Confidence::High;
        }
    }
    let summary = format!(
        "{} {}/{} {}",
        change.object.kind,
        change.object.namespace,
        change.object.name,
        changed_words(&change)
    );
    Some(Cause {
        preemptor: None,
        kind: CauseKind::Config,
        summary,
        object: change.object.clone(),
        time: at,
        change: Some(change),
        digests: None,
        confidence,
        evidence,
    })
}

/// The candidate that `change`, read by the pod through `reference`, is why `trigger` restarted
/// the pods.
fn restarted_for(reference: &Reference, change: Change, trigger: &Change) -> Cause {
    let gap = change.time.duration_until(trigger.time);
    let at_start = !reference.live();
    let confidence = match (gap <= RESTART_WINDOW, at_start) {
        (true, true) => Confidence::High,
        (true, false) => Confidence::Medium,
        (false, _) => Confidence::Low,
    };
    let how = reference
        .uses
        .iter()
        .map(|u| u.words())
        .collect::<Vec<_>>()
        .join(", ");
    let reads = match at_start {
        true => format!("the pod reads it through {how}, only at start, so a restart is what makes the new data take effect"),
        false => format!("the pod reads it through {how}"),
    };
    let line = |c: &Change| {
        c.evidence
            .record_line
            .map_or("?".to_string(), |l| l.to_string())
    };
    let evidence = format!(
        "{} {}/{} {} at {} by {} (line {}), {} before {} stamped the pod template at {} (line {}), which changes nothing that runs; {reads}",
        reference.kind,
        change.object.namespace,
        change.object.name,
        changed_words(&change),
        change.time,
        change.manager.as_deref().unwrap_or("an unknown manager"),
        line(&change),
        crate::render::duration_words(gap.as_secs()),
        trigger.manager.as_deref().unwrap_or("an unknown manager"),
        trigger.time,
        line(trigger),
    );
    Cause {
        preemptor: None,
        kind: CauseKind::Config,
        summary: format!(
            "{} {}/{} {}",
            change.object.kind,
            change.object.namespace,
            change.object.name,
            changed_words(&change)
        ),
        object: change.object.clone(),
        time: change.time,
        change: Some(change),
        digests: None,
        confidence,
        evidence,
    }
}

/// `data["app.yaml"] changed`, or `2 keys changed`.
fn changed_words(change: &Change) -> String {
    match change.fields.as_slice() {
        [one] => format!("{} changed", one.path),
        many => format!("{} keys changed", many.len()),
    }
}

/// What the other pods of the workload (at any revision) that read the object did after the
/// change; the first by name is named.
#[derive(Default)]
struct Others {
    /// One that read the new data and began failing within the window.
    failed_too: Option<String>,
    /// One that read it only at start, before the change, and never restarted after it.
    kept_running: Option<String>,
}

fn others(history: &History, pod: ObjectId, object: &ObjectRef, at: Timestamp) -> Others {
    let mut out = Others::default();
    for other in super::workload_peers(history, pod) {
        let o = history.object(other);
        let Ok(body) = history.parse::<Value>(o.first()) else {
            continue;
        };
        let deps = dependencies(&body);
        let Some(reference) = deps
            .references
            .iter()
            .find(|r| r.kind == object.kind && r.name == object.name)
        else {
            continue;
        };
        let started = o.created.unwrap_or(o.first().ts);
        let alive_at = o.deletion_started().is_none_or(|t| t > at) && started <= at;
        let read_new = started >= at || (alive_at && reference.live());
        let restarts_at = |t: Timestamp| {
            o.versions
                .iter()
                .take_while(|v| v.ts <= t)
                .last()
                .map_or(0, |v| total_restarts(&pod_at(history, v)))
        };
        let base = restarts_at(at);
        let end = o.last().ts;
        if read_new && out.failed_too.is_none() {
            let limit = std::cmp::max(at, started)
                .checked_add(LIVE_WINDOW)
                .unwrap_or(at);
            if restarts_at(limit) > base {
                out.failed_too = Some(o.name.clone());
            }
        } else if !read_new && alive_at && out.kept_running.is_none() && restarts_at(end) == base {
            out.kept_running = Some(o.name.clone());
        }
    }
    out
}
