//! `kblame tree`: the owner tree of an object at one moment, like kubectl-tree for any time in the trace.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::ContainerStatus;
use serde::Serialize;
use serde_json::Value;

use super::select::{self, ObjectQuery};
use super::{with_trace_warnings, Loaded, QueryError};
use crate::graph::{CausalGraph, Owner};
use crate::history::{Gone, History, ObjectId, Version};
use crate::workload::conditions::condition_words;
use crate::workload::kinds::revisions::workload_of;
use crate::workload::pod::{pod_at, state_of, statuses};

/// The deepest a tree is drawn. Real ownership chains are a few levels deep (Deployment →
/// ReplicaSet → Pod); a damaged trace can chain thousands of objects, and every level costs
/// stack here, in the renderer and in the serializer.
pub const MAX_DEPTH: usize = 32;

/// What to draw: an object, a moment (the end of the trace when `None`), and whether to keep deleted objects.
#[derive(Debug, Clone, Default)]
pub struct TreeQuery {
    /// The root object.
    pub object: ObjectQuery,
    /// The moment; the trace's last record when `None`.
    pub at: Option<Timestamp>,
    /// Whether objects already deleted at `at` are shown (marked with their deletion time).
    pub deleted: bool,
}

/// The owner tree at one moment.
#[derive(Debug, Clone, Serialize)]
pub struct TreeReport {
    /// The moment the tree shows.
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub at: Timestamp,
    /// The object asked about, with everything it controlled at `at`.
    pub root: TreeNode,
    /// What the trace cannot show.
    pub warnings: Vec<String>,
}

/// One object of the tree and the objects it controlled at the moment.
#[derive(Debug, Clone, Serialize)]
pub struct TreeNode {
    /// Kind.
    pub kind: String,
    /// Namespace (empty for cluster-scoped objects).
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// A short status at the moment, e.g. `3/3 ready, revision 2` or `Running, ready`.
    pub status: String,
    /// Time from `creationTimestamp` to the moment (or to its deletion, if earlier), kubectl style
    /// (`41m`), when known.
    pub age: Option<String>,
    /// When it was deleted, if it was already gone at the moment.
    #[serde(serialize_with = "crate::render::serialize_opt_ts")]
    pub deleted_at: Option<Timestamp>,
    /// The objects it controlled at the moment, sorted by kind then name.
    pub children: Vec<TreeNode>,
}

/// Draws the owner tree of one object at one moment.
pub fn tree(loaded: &mut Loaded, query: &TreeQuery) -> Result<TreeReport, QueryError> {
    let history = &loaded.history;
    let at = moment(history, query.at)?;
    let mut warnings = Vec::new();
    let root = choose_root(history, query, at, &mut warnings)?;
    let walk = Walk {
        history,
        graph: &loaded.graph,
        at,
        deleted: query.deleted,
    };
    if let Some(gone) = walk.gone_at(root) {
        warnings.push(format!(
            "{} was already deleted at {at} (gone {gone})",
            history.object(root).display_name()
        ));
    }
    let mut cut = false;
    let root = walk.node(root, &mut vec![root], &mut cut);
    if cut {
        warnings.push(format!(
            "the ownership tree is deeper than {MAX_DEPTH} levels; objects below that are not shown"
        ));
    }
    let warnings = with_trace_warnings(warnings, loaded);
    Ok(TreeReport { at, root, warnings })
}

/// The moment asked for, checked against the trace's span; the trace's end by default.
fn moment(history: &History, at: Option<Timestamp>) -> Result<Timestamp, QueryError> {
    let (Some(start), Some(end)) = (history.facts.start, history.facts.end) else {
        return Err(QueryError::EmptyTrace);
    };
    let time = at.unwrap_or(end);
    if time < start || time > end {
        return Err(QueryError::OutsideTrace { time, start, end });
    }
    Ok(time)
}

/// The object named by the query: among objects sharing the name, the newest that existed at `at`.
fn choose_root(
    history: &History,
    query: &TreeQuery,
    at: Timestamp,
    warnings: &mut Vec<String>,
) -> Result<ObjectId, QueryError> {
    let object = &query.object;
    if object.uid.is_none() {
        let found = history.by_name(&object.kind, object.namespace.as_deref(), &object.name);
        let mut alive = found
            .iter()
            .copied()
            .filter(|&id| history.state_at(id, at).is_some());
        if let Some(id) = alive.next_back() {
            if found.len() > 1 {
                warnings.push(format!(
                    "{} {}s are named {}; showing {}, the newest that existed at {at}",
                    found.len(),
                    object.kind.to_lowercase(),
                    object.name,
                    history.object(id).uid
                ));
            }
            return Ok(id);
        }
    }
    let id = select::resolve(history, object, warnings)?;
    if history.state_at(id, at).is_none() {
        let first = history.object(id).first().ts;
        return Err(QueryError::NotApplicable(format!(
            "{} did not exist yet at {at}: it was first recorded at {first}",
            history.object(id).display_name()
        )));
    }
    Ok(id)
}

/// What walking the tree needs.
struct Walk<'a> {
    history: &'a History,
    graph: &'a CausalGraph,
    at: Timestamp,
    deleted: bool,
}

impl Walk<'_> {
    /// When the object went away, if that was at or before the moment.
    fn gone_at(&self, id: ObjectId) -> Option<Timestamp> {
        match self.history.object(id).gone.as_ref()? {
            Gone::Deleted(ts) | Gone::MissingAtRelist(ts) => Some(*ts).filter(|ts| *ts <= self.at),
        }
    }

    /// The node for `id` and, below it, every object it controlled at the moment; `path`
    /// holds the ancestors, so an ownership cycle in a damaged trace cannot loop, and a chain
    /// deeper than [`MAX_DEPTH`] is cut there (setting `cut`).
    fn node(&self, id: ObjectId, path: &mut Vec<ObjectId>, cut: &mut bool) -> TreeNode {
        let object = self.history.object(id);
        let mut children = Vec::new();
        let below = match path.len() < MAX_DEPTH {
            true => self.children(id),
            false => {
                *cut |= !self.children(id).is_empty();
                Vec::new()
            }
        };
        for child in below {
            if path.contains(&child) {
                continue;
            }
            path.push(child);
            children.push(self.node(child, path, cut));
            path.pop();
        }
        children.sort_by(|a, b| (&a.kind, &a.name, &a.uid).cmp(&(&b.kind, &b.name, &b.uid)));
        let gone = self.gone_at(id);
        let status = self
            .history
            .state_at(id, self.at)
            .map(|version| status_of(self.history, id, version))
            .unwrap_or_default();
        TreeNode {
            kind: object.kind.clone(),
            namespace: object.namespace.clone(),
            name: object.name.clone(),
            uid: object.uid.clone(),
            status,
            age: object
                .created
                .map(|created| age(gone.unwrap_or(self.at), created)),
            deleted_at: gone,
            children,
        }
    }

    /// The objects `id` controlled at the moment: existing then (or deleted, when asked for).
    fn children(&self, id: ObjectId) -> Vec<ObjectId> {
        self.graph
            .controlled_by(id)
            .into_iter()
            .filter(|&child| self.history.state_at(child, self.at).is_some())
            .filter(|&child| self.deleted || self.gone_at(child).is_none())
            .filter(|&child| {
                self.graph.controller_at(self.history, child, self.at) == Some(Owner::Recorded(id))
            })
            .collect()
    }
}

/// A short status of one version: a pod's state, a workload's status as its kind tells it,
/// else the object's `Ready` and `Available` conditions.
fn status_of(history: &History, id: ObjectId, version: &Version) -> String {
    if history.object(id).kind == "Pod" {
        return pod_status(history, version);
    }
    let Ok(body) = history.parse::<Value>(version) else {
        return "unreadable".to_string();
    };
    let mut parts = match workload_of(history, id) {
        Some(workload) => workload.status(&body),
        None => {
            // A ControllerRevision's number is its own `revision` field.
            let number = body.get("revision").and_then(Value::as_i64);
            let mut parts: Vec<String> = number.map(|n| format!("rev {n}")).into_iter().collect();
            parts.extend(condition_words(&body, &["Ready", "Available"], false));
            parts
        }
    };
    if version.deletion_timestamp.is_some() {
        parts.push("Terminating".to_string());
    }
    parts.join(", ")
}

/// `Running, not ready, web: CrashLoopBackOff (5 restarts)`.
fn pod_status(history: &History, version: &Version) -> String {
    let pod = pod_at(history, version);
    let state = state_of(&pod);
    let mut parts = vec![state.phase.clone()];
    parts.push(if state.ready { "ready" } else { "not ready" }.to_string());
    parts.extend(statuses(&pod).filter_map(container_trouble));
    if state.terminating {
        parts.push("Terminating".to_string());
    }
    parts.join(", ")
}

/// A container that is waiting, terminated or has restarted: `web: CrashLoopBackOff (5 restarts)`.
fn container_trouble(status: &ContainerStatus) -> Option<String> {
    let state = status.state.as_ref();
    let waiting = state.and_then(|s| s.waiting.as_ref());
    let terminated = state.and_then(|s| s.terminated.as_ref());
    let what = match (waiting, terminated) {
        (Some(w), _) => w.reason.clone().unwrap_or_else(|| "waiting".to_string()),
        (None, Some(t)) => format!(
            "{} (exit {})",
            t.reason.as_deref().unwrap_or("terminated"),
            t.exit_code
        ),
        (None, None) if status.restart_count > 0 => "running".to_string(),
        (None, None) => return None,
    };
    let restarts = match status.restart_count {
        0 => String::new(),
        1 => " (1 restart)".to_string(),
        n => format!(" ({n} restarts)"),
    };
    Some(format!("{}: {what}{restarts}", status.name))
}

/// kubectl's age: `35s`, `5m30s`, `41m`, `5h3m`, `30h`, `3d5h`, `12d`.
pub fn age(at: Timestamp, created: Timestamp) -> String {
    let s = at.as_second().saturating_sub(created.as_second()).max(0);
    let (m, h, d) = (s / 60, s / 3600, s / 86400);
    match s {
        _ if s < 120 => format!("{s}s"),
        _ if m < 10 && s % 60 == 0 => format!("{m}m"),
        _ if m < 10 => format!("{m}m{}s", s % 60),
        _ if h < 3 => format!("{m}m"),
        _ if h < 8 && m % 60 == 0 => format!("{h}h"),
        _ if h < 8 => format!("{h}h{}m", m % 60),
        _ if h < 48 => format!("{h}h"),
        _ if d < 8 && h % 24 == 0 => format!("{d}d"),
        _ if d < 8 => format!("{d}d{}h", h % 24),
        _ => format!("{d}d"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_000_000 + secs).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn ages_read_like_kubectl() {
        let cases = [
            (35, "35s"),
            (330, "5m30s"),
            (300, "5m"),
            (41 * 60 + 7, "41m"),
            (5 * 3600 + 180, "5h3m"),
            (30 * 3600, "30h"),
            (3 * 86400 + 5 * 3600, "3d5h"),
            (12 * 86400, "12d"),
        ];
        for (secs, want) in cases {
            assert_eq!(age(t(secs), t(0)), want, "{secs} s");
        }
    }
}
