//! `kblame analyze --object KIND.GROUP/NAME` for a custom resource: judged by kstatus's
//! generic rules, with the pods it owns through its controller chain.
//!
//! Rules: kubernetes-sigs/cli-utils `pkg/kstatus/status` (`status.go` `Compute`, `generic.go`
//! `checkGenericProperties`/`checkGeneration`), summarised in `docs/controller-facts.md` §6:
//! `metadata.generation` ≠ `status.observedGeneration` (both present) → InProgress;
//! the first `Reconciling=True` (→ InProgress) or `Stalled=True` (→ Failed) in list order; then,
//! when neither decides, `Compute`'s last resort `checkReadyCondition`: `Ready=True` → Current,
//! `Ready=False`/`Unknown` → InProgress; otherwise Current. Argo CD (gitops-engine `pkg/health/health.go`
//! `GetResourceHealth`) has no generic rule for a custom resource: without a Lua
//! customisation its health is nil (`docs/controller-facts.md` §7).

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use super::batch::last_termination;
use super::rollout::RolloutQuery;
use super::select;
use super::{with_trace_warnings, Loaded, QueryError};
use crate::graph::{Change, ObjectRef};
use crate::history::{History, ObjectId};
use crate::workload::deployment::spec_change;
use crate::workload::lineage::{group_of, lineage};

/// API groups served by Kubernetes itself (no dot, or ending in `.k8s.io`): not custom.
const BUILT_IN_GROUPS: &[&str] = &["", "apps", "batch", "autoscaling", "policy", "extensions"];

/// Whether an API group is a custom resource's (a CRD's group must contain a dot, and
/// Kubernetes' own dotted groups end in `.k8s.io`).
pub fn is_custom_group(group: &str) -> bool {
    !BUILT_IN_GROUPS.contains(&group) && group.contains('.') && !group.ends_with(".k8s.io")
}

/// A condition of the resource at the time asked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CrCondition {
    /// `type`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `status` (`True`, `False`, `Unknown`).
    pub status: String,
    /// `reason`.
    pub reason: Option<String>,
    /// `message`.
    pub message: Option<String>,
    /// The trace line of the record where it was first seen with this status (in its
    /// latest unbroken run up to the time asked).
    pub first_seen_line: u64,
    /// That record's time.
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub first_seen: Timestamp,
}

/// A pod the resource owns through its controller chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CrPod {
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// The chain from the pod's controller up to the resource (`Kind/name`).
    pub via: Vec<String>,
    /// `status.phase` at the time asked.
    pub phase: String,
    /// Whether its `Ready` condition is True.
    pub ready: bool,
    /// The sum of its containers' `restartCount`.
    pub restarts: i64,
    /// The exit code of its last terminated container.
    pub last_exit_code: Option<i64>,
    /// That container's reason.
    pub last_terminated_reason: Option<String>,
}

/// The answer to `analyze --object KIND.GROUP/NAME` for a custom resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomReport {
    /// The resource.
    pub object: ObjectRef,
    /// Its API group.
    pub group: String,
    /// The moment judged.
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub at: Timestamp,
    /// kstatus's status in kebab case: `current`, `in-progress`, `failed`, `terminating`
    /// (kstatus's Terminating: `deletionTimestamp` set), or `unknown` when the record in force
    /// then cannot be read.
    pub verdict: &'static str,
    /// Why, in kstatus's words where it has them.
    pub kstatus_reason: String,
    /// `status.conditions` then.
    pub conditions: Vec<CrCondition>,
    /// `status.observedGeneration` then.
    pub observed_generation: Option<i64>,
    /// `metadata.generation` then.
    pub generation: Option<i64>,
    /// The latest change of its `spec` the trace shows up to then (who, when, which fields,
    /// credited by managedFields as a Deployment's changes are); null when the trace shows
    /// none.
    pub spec_change: Option<Change>,
    /// The pods whose lineage reaches the resource, alive then, oldest first.
    pub pods: Vec<CrPod>,
    /// What the trace cannot show, and kblame's additions to kstatus.
    pub warnings: Vec<String>,
}

/// The kstatus verdict of a body: (verdict, reason). `generic.go` order: deletion, generation,
/// the first `Reconciling=True` or `Stalled=True` in list order; then `status.go`'s `Ready`
/// fallback; then Current.
pub fn kstatus(body: &Value) -> (&'static str, String) {
    if !body.is_object() {
        return (
            "unknown",
            "the record in force then could not be read".to_string(),
        );
    }
    if body.pointer("/metadata/deletionTimestamp").is_some() {
        return ("terminating", "Resource scheduled for deletion".to_string());
    }
    let kind = body
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("Resource");
    let generation = body.pointer("/metadata/generation").and_then(Value::as_i64);
    let observed = body
        .pointer("/status/observedGeneration")
        .and_then(Value::as_i64);
    if let (Some(g), Some(o)) = (generation, observed) {
        if g != o {
            return (
                "in-progress",
                format!(
                    "LatestGenerationNotObserved: {kind} generation is {g}, but latest observed generation is {o}"
                ),
            );
        }
    }
    let said = |c: &Value, name: &str| {
        let reason = c.get("reason").and_then(Value::as_str).unwrap_or(name);
        match c.get("message").and_then(Value::as_str) {
            Some(m) => format!("{reason}: {m}"),
            None => reason.to_string(),
        }
    };
    fn field<'v>(c: &'v Value, key: &str) -> &'v str {
        c.get(key).and_then(Value::as_str).unwrap_or("")
    }
    let kind_of = |c| field(c, "type");
    let status_of = |c| field(c, "status");
    // `checkGenericProperties` walks the conditions once, in list order: the first
    // `Reconciling=True` or `Stalled=True` decides.
    for c in conditions(body) {
        match (kind_of(c), status_of(c)) {
            ("Reconciling", "True") => return ("in-progress", said(c, "Reconciling")),
            ("Stalled", "True") => return ("failed", said(c, "Stalled")),
            _ => {}
        }
    }
    // `Compute`'s last resort (`status.go` `checkReadyCondition`): the first `Ready`
    // condition, True → Current, False or Unknown → InProgress.
    for c in conditions(body) {
        match (kind_of(c), status_of(c)) {
            ("Ready", "True") => return ("current", "Resource is Ready".to_string()),
            ("Ready", "False" | "Unknown") => return ("in-progress", said(c, "Ready")),
            _ => {}
        }
    }
    ("current", "Resource is current".to_string())
}

fn conditions(body: &Value) -> Vec<&Value> {
    body.pointer("/status/conditions")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// Finds the resource: with a group, only of that group; without, the kind must be of one
/// group in the trace.
fn resolve(
    history: &History,
    query: &RolloutQuery,
    warnings: &mut Vec<String>,
) -> Result<ObjectId, QueryError> {
    let id = select::resolve(history, &query.object, warnings)?;
    let object = history.object(id);
    let group = group_of(&object.api_version);
    if query.object.group.is_none() {
        let mut groups: Vec<&str> = history
            .of_kind(&object.kind)
            .map(|o| group_of(&history.object(o).api_version))
            .collect();
        groups.sort_unstable();
        groups.dedup();
        if groups.len() > 1 {
            return Err(QueryError::BadArgument(format!(
                "kind {} is served by several API groups in the trace ({}); give KIND.GROUP/NAME",
                object.kind,
                groups.join(", ")
            )));
        }
    }
    if !is_custom_group(group) {
        return Err(QueryError::NotApplicable(format!(
            "{} is in API group {group:?}, not a custom resource",
            object.display_name()
        )));
    }
    Ok(id)
}

/// Judges a custom resource at the time asked.
pub fn custom_report(
    loaded: &mut Loaded,
    query: &RolloutQuery,
) -> Result<CustomReport, QueryError> {
    let mut warnings = Vec::new();
    let (history, graph) = (&loaded.history, &loaded.graph);
    let id = resolve(history, query, &mut warnings)?;
    let at = query
        .at
        .or(history.facts.end)
        .ok_or(QueryError::EmptyTrace)?;
    let object = history.object(id);
    let Some(version) = object.version_at(at) else {
        return Err(QueryError::NotApplicable(format!(
            "{} did not exist yet at {at}",
            object.display_name()
        )));
    };
    let body: Value = history.parse(version).unwrap_or(Value::Null);
    let (verdict, kstatus_reason) = kstatus(&body);
    let generation = body.pointer("/metadata/generation").and_then(Value::as_i64);
    let observed_generation = body
        .pointer("/status/observedGeneration")
        .and_then(Value::as_i64);
    if observed_generation.is_none() {
        warnings.push(format!(
            "no status.observedGeneration: unknown whether the controller has seen generation {} (kstatus skips the check)",
            generation.map_or("?".to_string(), |g| g.to_string())
        ));
    }
    let versions: Vec<(u64, Timestamp, Value)> = object
        .versions
        .iter()
        .take_while(|v| v.ts <= at)
        .map(|v| (v.line, v.ts, history.parse(v).unwrap_or(Value::Null)))
        .collect();
    let conditions: Vec<CrCondition> = conditions(&body)
        .into_iter()
        .filter_map(|c| {
            let kind = text(c, "type")?;
            let status = text(c, "status").unwrap_or_default();
            // The start of the latest run of versions holding this type with this status.
            let mut first = (version.line, version.ts);
            for (line, ts, b) in versions.iter().rev() {
                let same = super::custom::conditions(b).into_iter().any(|o| {
                    text(o, "type").as_deref() == Some(&kind)
                        && text(o, "status").unwrap_or_default() == status
                });
                if !same {
                    break;
                }
                first = (*line, *ts);
            }
            Some(CrCondition {
                reason: text(c, "reason"),
                message: text(c, "message"),
                kind,
                status,
                first_seen_line: first.0,
                first_seen: first.1,
            })
        })
        .collect();
    // Only a condition first seen at the resource's first record may be older than it says.
    let first_line = object.first().line;
    let inherited: Vec<String> = conditions
        .iter()
        .filter(|c| c.first_seen_line == first_line)
        .map(|c| format!("{}={}", c.kind, c.status))
        .collect();
    if object.existed_before_first_record() && !inherited.is_empty() {
        warnings.push(format!(
            "the resource existed before the trace began: {} first seen at its first record (line {first_line}) may be older",
            inherited.join(", ")
        ));
    }
    let spec_change = latest_spec_change(history, id, &versions);
    let pods = owned_pods(history, graph, id, at, &mut warnings);
    let warnings = with_trace_warnings(warnings, loaded);
    Ok(CustomReport {
        object: ObjectRef::of(loaded.history.object(id)),
        group: group_of(&loaded.history.object(id).api_version).to_string(),
        at,
        verdict,
        kstatus_reason,
        conditions,
        observed_generation,
        generation,
        spec_change,
        pods,
        warnings,
    })
}

/// The latest recorded version among `versions` (parsed, oldest first) whose `spec` differs
/// from the version before it, as a change credited by managedFields. A user's (or a GitOps
/// tool's) write of the spec is what the controller then acts on, so it is the first
/// suspect when the resource goes in progress or fails.
fn latest_spec_change(
    history: &History,
    id: ObjectId,
    versions: &[(u64, Timestamp, Value)],
) -> Option<Change> {
    let object = history.object(id);
    let index = (1..versions.len())
        .rev()
        .find(|&i| versions[i].2.get("spec") != versions[i - 1].2.get("spec"))?;
    let version = object.versions.get(index)?;
    spec_change(
        history,
        id,
        &versions[index - 1].2,
        &versions[index].2,
        version,
    )
}

/// The pods alive at `at` whose lineage (by UID, at that time) reaches `root`.
fn owned_pods(
    history: &History,
    graph: &crate::graph::CausalGraph,
    root: ObjectId,
    at: Timestamp,
    warnings: &mut Vec<String>,
) -> Vec<CrPod> {
    // Candidates: everything the resource controlled at some time, transitively.
    let mut seen = vec![root];
    let mut queue = vec![root];
    let mut candidates = Vec::new();
    while let Some(id) = queue.pop() {
        for child in graph.controlled_by(id) {
            if seen.contains(&child) {
                continue;
            }
            seen.push(child);
            match history.object(child).kind.as_str() {
                "Pod" => candidates.push(child),
                _ => queue.push(child),
            }
        }
    }
    candidates.sort_by_key(|&p| (history.object(p).first().ts, p));
    let root_uid = &history.object(root).uid;
    let mut pods = Vec::new();
    for pod in candidates {
        let object = history.object(pod);
        let Some(version) = object.version_at(at) else {
            continue;
        };
        if matches!(&object.gone, Some(crate::history::Gone::Deleted(t)) if *t <= at) {
            continue;
        }
        let chain = lineage(history, graph, pod, version.ts, warnings);
        let Some(top) = chain.iter().position(|l| &l.entry.uid == root_uid) else {
            continue;
        };
        let body: Value = history.parse(version).unwrap_or(Value::Null);
        let (last_exit_code, last_terminated_reason) = last_termination(&body);
        let statuses = body
            .pointer("/status/containerStatuses")
            .and_then(Value::as_array);
        pods.push(CrPod {
            name: object.name.clone(),
            uid: object.uid.clone(),
            via: chain[1..=top]
                .iter()
                .map(|l| format!("{}/{}", l.entry.kind, l.entry.name))
                .collect(),
            phase: body
                .pointer("/status/phase")
                .and_then(Value::as_str)
                .unwrap_or("Unknown")
                .to_string(),
            ready: body
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|c| {
                    c.get("type").and_then(Value::as_str) == Some("Ready")
                        && c.get("status").and_then(Value::as_str) == Some("True")
                }),
            restarts: statuses
                .into_iter()
                .flatten()
                .filter_map(|c| c.get("restartCount").and_then(Value::as_i64))
                .sum(),
            last_exit_code,
            last_terminated_reason,
        });
    }
    pods
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kstatus_generic_rules() {
        let cr = |gen: i64, obs: i64, conds: Value| {
            json!({"kind": "Widget", "metadata": {"generation": gen},
                "status": {"observedGeneration": obs, "conditions": conds}})
        };
        assert_eq!(kstatus(&cr(2, 1, json!([]))).0, "in-progress");
        let reconciling = json!([{"type": "Reconciling", "status": "True"}]);
        assert_eq!(kstatus(&cr(1, 1, reconciling)).0, "in-progress");
        let stalled = json!([{"type": "Stalled", "status": "True", "reason": "Boom"}]);
        assert_eq!(kstatus(&cr(1, 1, stalled)), ("failed", "Boom".to_string()));
        // Ready decides only when nothing else does (`checkReadyCondition`).
        let not_ready = json!([{"type": "Ready", "status": "False", "reason": "Waiting"}]);
        assert_eq!(
            kstatus(&cr(1, 1, not_ready)),
            ("in-progress", "Waiting".to_string())
        );
        let ready = json!([{"type": "Ready", "status": "True"}]);
        assert_eq!(kstatus(&cr(1, 1, ready)).0, "current");
        let stalled_ready = json!([{"type": "Ready", "status": "True"},
            {"type": "Stalled", "status": "True"}]);
        assert_eq!(kstatus(&cr(1, 1, stalled_ready)).0, "failed");
        // The first of Reconciling and Stalled in list order decides.
        let both = json!([{"type": "Stalled", "status": "True"},
            {"type": "Reconciling", "status": "True"}]);
        assert_eq!(kstatus(&cr(1, 1, both)).0, "failed");
        // Missing observedGeneration: the generation check is skipped.
        assert_eq!(
            kstatus(&json!({"metadata": {"generation": 3}})).0,
            "current"
        );
        assert!(is_custom_group("postgres-operator.crunchydata.com"));
        assert!(!is_custom_group("apps"));
        assert!(!is_custom_group("networking.k8s.io"));
    }
}
