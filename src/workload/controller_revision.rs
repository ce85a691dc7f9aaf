//! ControllerRevisions: the numbered pod templates of a StatefulSet or a DaemonSet, and the
//! change of the workload's spec that made each.
//!
//! A ControllerRevision is owned by its StatefulSet or DaemonSet (`controller: true`) and is a
//! *sibling* of the pods: nothing links a pod to it but the pod's `controller-revision-hash`
//! label. Its `revision` field is the number, and a rollback gives an old ControllerRevision
//! the next number (same name, new `revision`). Sources (Kubernetes v1.31):
//! `pkg/controller/history/controller_history.go` (`NewControllerRevision`: name
//! `<parent>-<hash>`, `ControllerRevisionName`; `HashControllerRevision`;
//! `UpdateControllerRevision` renumbers), `pkg/controller/statefulset/stateful_set_control.go`
//! (`getStatefulSetRevisions`: a revision equal to an older one is renumbered, not created),
//! `pkg/controller/statefulset/stateful_set_utils.go` (`newRevision`/`getPatch`: the data is
//! `{"spec":{"template":{…,"$patch":"replace"}}}`), `pkg/controller/daemon/update.go`
//! (`constructHistory`, `snapshot`: name `<ds>-<hash>`, label `controller-revision-hash: <hash>`).

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use super::attribution::{attribute, Attribution, BeforeTraceClocks};
use super::deployment::{make_change, spec_change, spec_changed};
use super::{shifted, WATCH_SKEW};
use crate::graph::{CausalGraph, Change, ChangeKind};
use crate::history::diff::diff_at;
use crate::history::path::FieldPath;
use crate::history::{History, ObjectId};
use crate::trace::EventType;

/// The ControllerRevision a pod is joined to, as the report names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControllerRevisionRef {
    /// Its name (`db-7b8f75b98`).
    pub name: String,
    /// Its UID.
    pub uid: String,
    /// The hash: its name after `<owner>-` (what a DaemonSet pod's label carries).
    pub hash: String,
}

/// How a pod's `controller-revision-hash` label names its ControllerRevision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Join {
    /// The ControllerRevision's name: StatefulSet pods (`stateful_set_utils.go`
    /// `setPodRevision(pod, revision.Name)`). Joined by name, never by the hash label, which
    /// keeps the first hash after a collision (`controller_history.go`
    /// `CreateControllerRevision`).
    Name,
    /// Only the hash: DaemonSet pods (`daemon/util/daemonset_util.go` `CreatePodTemplate`),
    /// matched to the ControllerRevision's own `controller-revision-hash` (or
    /// `controller.kubernetes.io/hash`) label, or its name `<owner>-<hash>`.
    Hash,
}

/// One recorded ControllerRevision.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The object.
    pub id: ObjectId,
    /// Name, UID and hash.
    pub reference: ControllerRevisionRef,
    /// Its hash labels (`controller-revision-hash`, `controller.kubernetes.io/hash`).
    labels: Vec<String>,
    /// Its `revision` field at each record where it changed, in time order.
    numbers: Vec<(Timestamp, i64)>,
    /// The pod template it holds (`data.spec.template` without `$patch`).
    template: Option<Value>,
    /// Whether it existed when the trace began.
    before_trace: bool,
    /// Its creationTimestamp.
    created: Option<Timestamp>,
}

impl Recorded {
    /// Its number at `at`: the last one recorded at or before, else its first.
    pub fn number_at(&self, at: Timestamp) -> Option<i64> {
        self.numbers
            .iter()
            .take_while(|(ts, _)| *ts <= at)
            .last()
            .or(self.numbers.first())
            .map(|(_, n)| *n)
    }

    /// Its number at the end of the trace.
    pub fn last_number(&self) -> Option<i64> {
        self.numbers.last().map(|(_, n)| *n)
    }

    /// Every number it had, in time order (a rollback renumbers a ControllerRevision).
    pub fn numbers(&self) -> impl Iterator<Item = i64> + '_ {
        self.numbers.iter().map(|(_, n)| *n)
    }

    /// The pod template it holds (`data.spec.template` without `$patch`).
    pub fn template(&self) -> Option<&Value> {
        self.template.as_ref()
    }

    /// When it first had `number`.
    fn numbered(&self, number: i64) -> Option<Timestamp> {
        self.numbers
            .iter()
            .find(|(_, n)| *n == number)
            .map(|(ts, _)| *ts)
    }
}

/// One version of the workload: when, its pod template, its replicas and its update scope.
#[derive(Debug, Clone)]
struct State {
    ts: Timestamp,
    template: Option<Value>,
    replicas: Option<i64>,
    scope: UpdateScope,
}

/// What a StatefulSet's or DaemonSet's spec says about which ordinals exist and which pods
/// its controller replaces for an update (Kubernetes v1.31).
///
/// * `stateful_set_control.go` `updateStatefulSet`: pods with ordinals in
///   `[getStartOrdinal, getEndOrdinal]` are the replicas, stored at index `ordinal - start`;
///   the rolling update runs `for target := len(replicas) - 1; target >= updateMin; target--`
///   with `updateMin` the partition, so it replaces the ordinals at or above
///   `start + partition`; with `OnDelete` it returns before the update ("Pods will be updated
///   when they are manually deleted"). `MaxUnavailableStatefulSet` is alpha and off, so
///   `Parallel` pod management still updates one pod at a time.
/// * `stateful_set_utils.go` `getStartOrdinal`: `spec.ordinals.start` (`StatefulSetStartOrdinal`,
///   GA in 1.31), else 0; `newVersionedStatefulSetPod` gives a pod below `start + partition`
///   the current revision.
/// * `daemon_controller.go` `syncDaemonSet`: `rollingUpdate` only for `RollingUpdate`; a
///   DaemonSet has no ordinals and no partition.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpdateScope {
    /// `spec.updateStrategy.type` is `OnDelete`: the controller deletes no pod for an update.
    pub on_delete: bool,
    /// `spec.ordinals.start` (0 when absent).
    pub start: i64,
    /// `spec.updateStrategy.rollingUpdate.partition` (0 when absent).
    pub partition: i64,
    /// `spec.podManagementPolicy` is `Parallel` (pods made and removed without waiting on
    /// their predecessors).
    pub parallel: bool,
}

impl UpdateScope {
    /// The scope a workload record's spec sets; an absent field takes its default.
    pub fn of(body: &Value) -> UpdateScope {
        let int = |pointer: &str| body.pointer(pointer).and_then(Value::as_i64);
        let text = |pointer: &str| body.pointer(pointer).and_then(Value::as_str);
        UpdateScope {
            on_delete: text("/spec/updateStrategy/type") == Some("OnDelete"),
            start: int("/spec/ordinals/start").unwrap_or(0).max(0),
            partition: int("/spec/updateStrategy/rollingUpdate/partition")
                .unwrap_or(0)
                .max(0),
            parallel: text("/spec/podManagementPolicy") == Some("Parallel"),
        }
    }

    /// The lowest ordinal the rolling update replaces: `start + partition`.
    pub fn updated_from(&self) -> i64 {
        self.start + self.partition
    }

    /// Whether the controller replaces the pod at `ordinal` for an update: never with
    /// `OnDelete`, and not below `start + partition`. A pod without an ordinal (a
    /// DaemonSet's) is replaced unless the strategy is `OnDelete`.
    pub fn replaces(&self, ordinal: Option<i64>) -> bool {
        !self.on_delete && ordinal.is_none_or(|o| o >= self.updated_from())
    }

    /// Whether `ordinal` is one of the `replicas` ordinals, `[start, start + replicas)`
    /// (`podInOrdinalRange`); the others are condemned.
    pub fn in_range(&self, ordinal: i64, replicas: i64) -> bool {
        self.start <= ordinal && ordinal < self.start + replicas
    }
}

/// A StatefulSet's or DaemonSet's revisions and spec changes, as the trace recorded them.
#[derive(Debug, Clone)]
pub struct RevisionHistory {
    /// The workload.
    pub owner: ObjectId,
    /// Its ControllerRevisions, in first-seen order.
    pub revisions: Vec<Recorded>,
    /// Its spec changes in time order, each with the pod template it left.
    changes: Vec<(Change, Option<Value>)>,
    /// Its versions.
    states: Vec<State>,
    /// When no ControllerRevision of it is recorded: why, in words.
    pub why_none: Option<String>,
}

impl RevisionHistory {
    /// Reads the ControllerRevisions `owner` controlled and the changes of its spec.
    pub fn read(history: &History, graph: &CausalGraph, owner: ObjectId) -> RevisionHistory {
        let object = history.object(owner);
        let revisions: Vec<Recorded> = graph
            .controlled_by(owner)
            .into_iter()
            .filter(|&id| history.object(id).kind == "ControllerRevision")
            .map(|id| read_revision(history, id, &object.name))
            .collect();
        let why_none = revisions.is_empty().then(|| why_none(history, owner));
        let mut out = RevisionHistory {
            owner,
            revisions,
            changes: Vec::new(),
            states: Vec::new(),
            why_none,
        };
        out.read_changes(history);
        out
    }

    fn read_changes(&mut self, history: &History) {
        let object = history.object(self.owner);
        let mut previous: Option<(Value, usize)> = None;
        for (index, version) in object.versions.iter().enumerate() {
            let Ok(current) = history.parse::<Value>(version) else {
                continue;
            };
            let template = current.pointer("/spec/template").cloned();
            self.states.push(State {
                ts: version.ts,
                template: template.clone(),
                replicas: current.pointer("/spec/replicas").and_then(Value::as_i64),
                scope: UpdateScope::of(&current),
            });
            let change = match &previous {
                None if version.event != EventType::Listed => {
                    let attribution = attribute(None, &current, &[]);
                    Some(make_change(
                        history,
                        self.owner,
                        version,
                        version.ts,
                        ChangeKind::Create,
                        Vec::new(),
                        attribution,
                        false,
                    ))
                }
                None => None,
                Some((before, at)) => spec_changed(&object.versions[*at], version)
                    .then(|| spec_change(history, self.owner, before, &current, version))
                    .flatten(),
            };
            if let Some(change) = change {
                self.changes.push((change, template));
            }
            previous = Some((current, index));
        }
    }

    /// The ControllerRevision a pod's `controller-revision-hash` label names.
    pub fn join(&self, label: &str, join: Join, owner_name: &str) -> Option<&Recorded> {
        match join {
            Join::Name => self.revisions.iter().find(|r| r.reference.name == label),
            Join::Hash => self
                .revisions
                .iter()
                .find(|r| r.labels.iter().any(|l| l == label))
                .or_else(|| {
                    let name = format!("{owner_name}-{label}");
                    self.revisions.iter().find(|r| r.reference.name == name)
                }),
        }
    }

    /// The workload's version in force at `at`.
    fn state_at(&self, at: Timestamp) -> Option<&State> {
        self.states.iter().take_while(|s| s.ts <= at).last()
    }

    /// The update revision at `at`: the ControllerRevision holding the workload's template
    /// then (`getStatefulSetRevisions`, `constructHistory` match on the template).
    pub fn update_revision_at(&self, at: Timestamp) -> Option<&Recorded> {
        let template = self.state_at(at)?.template.as_ref()?;
        self.revisions
            .iter()
            .find(|r| r.template.as_ref() == Some(template))
    }

    /// `spec.replicas` at `at`.
    pub fn replicas_at(&self, at: Timestamp) -> Option<i64> {
        self.state_at(at)?.replicas
    }

    /// The workload's spec changes (and its in-trace creation), in time order, unnumbered.
    pub fn changes(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().map(|(c, _)| c)
    }

    /// The workload's update scope at `at`.
    pub fn scope_at(&self, at: Timestamp) -> Option<UpdateScope> {
        Some(self.state_at(at)?.scope)
    }

    /// The in-trace creation of the workload, if recorded.
    pub fn creation(&self) -> Option<&Change> {
        self.changes
            .iter()
            .map(|(c, _)| c)
            .find(|c| c.kind == ChangeKind::Create)
    }

    /// The last change of `spec.replicas` at or before `at`, with the replicas before and
    /// after; its revision is the update revision's number then (a scale makes none).
    pub fn scale_before(&self, at: Timestamp) -> Option<(Change, i64, i64)> {
        let replicas = FieldPath::parse("spec.replicas").unwrap_or_default();
        let (change, from, to) = self
            .changes
            .iter()
            .map(|(c, _)| c)
            .filter(|c| c.time <= at)
            .filter_map(|c| {
                let field = c.fields.iter().find(|f| f.path == replicas)?;
                Some((c, field.from.as_i64().unwrap_or(0), field.to.as_i64()?))
            })
            .next_back()?;
        let mut change = change.clone();
        change.revision = self
            .update_revision_at(change.time)
            .and_then(|r| r.number_at(change.time));
        Some((change, from, to))
    }

    /// The change that made revision `revision` get `number`, with its number set: the
    /// workload's record whose `spec.template` became the revision's template, or, for a
    /// revision made before the trace, what is knowable about it (said so in the evidence).
    pub fn change_of(&self, history: &History, revision: &Recorded, number: i64) -> Option<Change> {
        let numbered = revision.numbered(number)?;
        let made_before =
            revision.before_trace && revision.numbers.first().map(|f| f.1) == Some(number);
        let limit = shifted(numbered, WATCH_SKEW);
        let found = (!made_before)
            .then(|| {
                self.changes
                    .iter()
                    .filter(|(c, _)| matches!(c.kind, ChangeKind::Template | ChangeKind::Create))
                    .filter(|(c, _)| c.time <= limit)
                    .filter(|(_, t)| {
                        revision.template.is_none() || t.as_ref() == revision.template.as_ref()
                    })
                    .map(|(c, _)| c)
                    .next_back()
            })
            .flatten();
        let mut change = match found {
            Some(change) => change.clone(),
            None if made_before => self.before_trace_change(history, revision, number)?,
            None => return None,
        };
        change.revision = Some(number);
        Some(change)
    }

    /// A revision that already had `number` when the trace began. When the workload's first
    /// record holds its template, its managedFields date and credit the change as for a
    /// Deployment's revision made before the trace; otherwise only the ControllerRevision's
    /// creationTimestamp dates it.
    fn before_trace_change(
        &self,
        history: &History,
        revision: &Recorded,
        number: i64,
    ) -> Option<Change> {
        let object = history.object(self.owner);
        let first = object.first();
        let start = first.ts;
        let previous = self
            .revisions
            .iter()
            .filter(|r| r.reference.uid != revision.reference.uid)
            .filter_map(|r| r.number_at(start).filter(|&n| n < number).map(|n| (n, r)))
            .max_by_key(|(n, _)| *n)
            .map(|(_, r)| r);
        let template_path = FieldPath::parse("spec.template").unwrap_or_default();
        let fields = match (
            previous.and_then(|p| p.template.as_ref()),
            &revision.template,
        ) {
            (Some(old), Some(new)) => diff_at(old, new, &template_path),
            _ => Vec::new(),
        };
        // Revision 1 is the workload's creation; a later one whose predecessor is not recorded
        // (pruned) is a template change with nothing to diff against.
        let kind = if previous.is_some() || number > 1 {
            ChangeKind::Template
        } else {
            ChangeKind::Create
        };
        let current = self.states.first().and_then(|s| s.template.as_ref());
        let holds_it = current.is_some() && current == revision.template.as_ref();
        let (time, attribution) = if holds_it {
            let body: Value = history.parse(first).ok()?;
            let mut attribution = attribute(None, &body, &fields);
            let clocks = BeforeTraceClocks {
                manager: attribution.time,
                replicaset: revision.created,
                deployment: object.created,
                rollback: revision.numbers.len() > 1,
                names: ("ControllerRevision", kind_name(&object.kind)),
            };
            let (time, note) = clocks.pick(kind).unwrap_or((
                start,
                "no clock is recorded; time is the trace start".to_string(),
            ));
            attribution.text = format!("{}; {note}", attribution.text);
            (time, attribution)
        } else {
            let attribution = Attribution {
                text: format!(
                    "made before the trace began; no managedFields entry still shows it, so the time is ControllerRevision {}'s creationTimestamp",
                    revision.reference.name
                ),
                ..Attribution::default()
            };
            (revision.created.unwrap_or(start), attribution)
        };
        let mut change = make_change(
            history,
            self.owner,
            first,
            time,
            kind,
            fields,
            attribution,
            true,
        );
        change.evidence.record_line = None;
        Some(change)
    }
}

/// The two kinds whose ControllerRevisions kblame reads, as a static name for the evidence.
fn kind_name(kind: &str) -> &'static str {
    match kind {
        "StatefulSet" => "StatefulSet",
        "DaemonSet" => "DaemonSet",
        _ => "workload",
    }
}

fn read_revision(history: &History, id: ObjectId, owner_name: &str) -> Recorded {
    let object = history.object(id);
    let mut numbers: Vec<(Timestamp, i64)> = Vec::new();
    let mut labels = Vec::new();
    let mut template = None;
    for version in &object.versions {
        let Ok(body) = history.parse::<Value>(version) else {
            continue;
        };
        if let Some(n) = body.get("revision").and_then(Value::as_i64) {
            if numbers.last().map(|(_, last)| *last) != Some(n) {
                numbers.push((version.ts, n));
            }
        }
        for key in ["controller-revision-hash", "controller.kubernetes.io/hash"] {
            if let Some(value) = label(&body, key) {
                if !labels.contains(&value) {
                    labels.push(value);
                }
            }
        }
        if let Some(found) = template_of(&body) {
            template = Some(found);
        }
    }
    let hash = object
        .name
        .strip_prefix(owner_name)
        .and_then(|rest| rest.strip_prefix('-'))
        .map(str::to_string)
        .or_else(|| labels.first().cloned())
        .unwrap_or_default();
    Recorded {
        id,
        reference: ControllerRevisionRef {
            name: object.name.clone(),
            uid: object.uid.clone(),
            hash,
        },
        labels,
        numbers,
        template,
        before_trace: history.existed_at_start(id),
        created: object.created,
    }
}

/// The pod template a ControllerRevision's body holds: `data.spec.template` without the
/// strategic-merge `$patch: replace` directive the StatefulSet and DaemonSet controllers add
/// (`stateful_set_utils.go` `getPatch`, `daemon/update.go` `getPatch`).
pub fn template_of(body: &Value) -> Option<Value> {
    let mut found = body.pointer("/data/spec/template").cloned()?;
    if let Some(map) = found.as_object_mut() {
        map.remove("$patch");
    }
    Some(found)
}

/// Why a workload has no recorded ControllerRevision: its resource was not recorded, or none
/// of them is owned by it.
fn why_none(history: &History, owner: ObjectId) -> String {
    let object = history.object(owner);
    let recorded = history
        .facts
        .header
        .as_ref()
        .filter(|h| !h.resources.is_empty())
        .map(|h| {
            h.resources
                .iter()
                .any(|r| r.resource == "controllerrevisions")
        });
    let name = format!("{} {}/{}", object.kind, object.namespace, object.name);
    match recorded {
        Some(false) => format!(
            "the trace did not record controllerrevisions (apps/v1), which number {name}'s revisions; record them (kblame record does by default)"
        ),
        _ if history.of_kind("ControllerRevision").next().is_none() => format!(
            "the trace has no ControllerRevisions, which number {name}'s revisions (were controllerrevisions recorded?)"
        ),
        _ => format!("no ControllerRevision owned by {name} is recorded"),
    }
}

/// A label of an object body.
pub fn label(body: &Value, key: &str) -> Option<String> {
    body.pointer("/metadata/labels")?
        .get(key)?
        .as_str()
        .map(str::to_string)
}
