//! The pod facts of a workload whose revisions are ControllerRevisions and whose pods are
//! replaced in place (StatefulSet, DaemonSet): each pod's revision by its
//! `controller-revision-hash` label, and why each pod came and went, replayed per *slot* — what
//! a recreated pod keeps (a StatefulSet pod's name, a DaemonSet pod's node). The two kinds
//! differ only in the `Style` their files give.

use jiff::Timestamp;
use serde_json::Value;

use super::{not_built, Peer, PodFacts, PodInput, PodRevision};
use crate::graph::CausalGraph;
use crate::history::{Gone, History, ObjectId};
use crate::workload::controller_revision::{label, Join, Recorded, RevisionHistory};
use crate::workload::events::occurrences_about;
use crate::workload::pod::{disruption, pod_at};
use crate::workload::turnover::{Arrival, Departure, DepartureInfo, Told};
use crate::workload::{shifted, WATCH_SKEW};

/// What differs between the kinds.
pub(super) struct Style {
    /// How a pod's `controller-revision-hash` label names its ControllerRevision.
    pub join: Join,
    /// A pod's slot, which its replacement keeps.
    pub slot: fn(&History, ObjectId) -> Option<String>,
    /// The slot in words (`name`, `node`).
    pub slot_noun: &'static str,
    /// A pod's ordinal (StatefulSet).
    pub ordinal: fn(&History, ObjectId) -> Option<i64>,
    /// A pod's `pod-template-generation` label (DaemonSet).
    pub generation: fn(&History, ObjectId) -> Option<String>,
    /// How the controller replaces pods of an old revision, in words.
    pub rollout_words: &'static str,
}

/// The label of `key` on the first record of `id`.
pub(super) fn first_label(history: &History, id: ObjectId, key: &str) -> Option<String> {
    let body: Value = history.parse(history.object(id).first()).ok()?;
    label(&body, key)
}

/// The index into `set.revisions` of the ControllerRevision that `pod`'s
/// `controller-revision-hash` label (at its first record) names, joined as `join` says.
pub fn revision_index(
    history: &History,
    set: &RevisionHistory,
    pod: ObjectId,
    join: Join,
) -> Option<usize> {
    let owner_name = &history.object(set.owner).name;
    let label = first_label(history, pod, "controller-revision-hash")?;
    let found = set.join(&label, join, owner_name)?;
    set.revisions.iter().position(|r| r.id == found.id)
}

struct PodInfo {
    id: ObjectId,
    arrival: Timestamp,
    line: u64,
    gone: Option<Timestamp>,
    slot: Option<String>,
    /// Index into the revisions.
    revision: Option<usize>,
}

struct Replay<'a> {
    history: &'a History,
    graph: &'a CausalGraph,
    style: &'a Style,
    set: RevisionHistory,
    owner: ObjectId,
    pods: Vec<PodInfo>,
}

/// The facts about `input.pod`, a pod of the StatefulSet or DaemonSet first in its chain.
pub(super) fn pod_facts(input: &PodInput<'_>, style: &Style) -> PodFacts {
    let Some(owner) = input.chain.first().and_then(|l| l.id) else {
        let kind = input
            .chain
            .first()
            .map_or("owner", |l| l.entry.kind.as_str());
        return not_built(
            input,
            &format!("the pod's {kind} was never recorded, nor its ControllerRevisions"),
        );
    };
    let history = input.history;
    let graph = &*input.graph;
    let set = RevisionHistory::read(history, graph, owner);
    let mut pods: Vec<PodInfo> = graph
        .controlled_by(owner)
        .into_iter()
        .filter(|&p| history.object(p).kind == "Pod")
        .map(|id| {
            let revision = revision_index(history, &set, id, style.join);
            PodInfo {
                id,
                arrival: arrival_time(history, id),
                line: history.object(id).first().line,
                gone: history.object(id).deletion_started(),
                slot: (style.slot)(history, id),
                revision,
            }
        })
        .collect();
    pods.sort_by_key(|p| (p.arrival, p.line));
    let replay = Replay {
        history,
        graph,
        style,
        set,
        owner,
        pods,
    };
    replay.facts(input.pod)
}

fn arrival_time(history: &History, pod: ObjectId) -> Timestamp {
    let object = history.object(pod);
    let first = object.first().ts;
    match object.created {
        Some(created) if history.first_seen_in_relist(pod) && created < first => created,
        _ => first,
    }
}

impl Replay<'_> {
    fn facts(&self, pod: ObjectId) -> PodFacts {
        let history = self.history;
        let info = self.pods.iter().find(|p| p.id == pod);
        let revision = info.and_then(|i| self.revision_of(i));
        let unknown = self.why_unknown(pod);
        let mut notes = Vec::new();
        if revision.is_none() {
            notes.push(format!("the pod's revision is unknown: {unknown}"));
        }
        let arrival = info.map(|i| self.arrival(i, &unknown));
        let departure = info.and_then(|i| self.departure(i, &unknown));
        let peers = match (info, &revision) {
            (Some(i), Some(own)) => Ok(self
                .pods
                .iter()
                .filter(|p| p.id != i.id)
                .filter_map(|p| {
                    let number = self.number_of(p)?;
                    (Some(number) != own.number).then_some(Peer {
                        pod: p.id,
                        revision: Some(number),
                    })
                })
                .collect()),
            _ => Err(unknown.clone()),
        };
        PodFacts {
            revision,
            arrival,
            unexplained: unknown,
            departure,
            peers,
            serving: Vec::new(),
            notes,
            ordinal: (self.style.ordinal)(history, pod),
            pod_template_generation: (self.style.generation)(history, pod),
            job: None,
        }
    }

    fn recorded(&self, info: &PodInfo) -> Option<&Recorded> {
        info.revision.and_then(|i| self.set.revisions.get(i))
    }

    /// The number of a pod's revision when it was made (a controller renumbers a revision
    /// before it makes pods of it; the watch may deliver that after the pod).
    fn number_of(&self, info: &PodInfo) -> Option<i64> {
        self.recorded(info)?
            .number_at(shifted(info.arrival, WATCH_SKEW))
    }

    fn revision_of(&self, info: &PodInfo) -> Option<PodRevision> {
        let recorded = self.recorded(info)?;
        let number = self.number_of(info);
        Some(PodRevision {
            number,
            template_hash: Some(recorded.reference.hash.clone()),
            change: number.and_then(|n| self.set.change_of(self.history, recorded, n)),
            current_number: recorded.last_number(),
            controller_revision: Some(recorded.reference.clone()),
        })
    }

    /// Why the pod's revision is unknown, when it is.
    fn why_unknown(&self, pod: ObjectId) -> String {
        let owner = self.history.object(self.owner);
        if let Some(why) = &self.set.why_none {
            return why.clone();
        }
        match first_label(self.history, pod, "controller-revision-hash") {
            None => "the pod has no controller-revision-hash label".to_string(),
            Some(label) => format!(
                "its controller-revision-hash label {label} names no recorded ControllerRevision of {} {}/{} (pruned past revisionHistoryLimit, or made and deleted outside the trace)",
                owner.kind, owner.namespace, owner.name
            ),
        }
    }

    fn owner_words(&self) -> String {
        let owner = self.history.object(self.owner);
        format!("{} {}/{}", owner.kind, owner.namespace, owner.name)
    }

    /// The pods before and after `info` in its slot.
    fn neighbours(&self, info: &PodInfo) -> (Option<&PodInfo>, Option<&PodInfo>) {
        let Some(slot) = &info.slot else {
            return (None, None);
        };
        let same: Vec<&PodInfo> = self
            .pods
            .iter()
            .filter(|p| p.slot.as_ref() == Some(slot))
            .collect();
        let at = same.iter().position(|p| p.id == info.id);
        let before = at
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| same.get(i))
            .copied();
        let after = at.and_then(|i| same.get(i + 1)).copied();
        (before, after)
    }

    fn slot_words(&self, info: &PodInfo) -> String {
        format!(
            "{} {}",
            self.style.slot_noun,
            info.slot.as_deref().unwrap_or("?")
        )
    }

    fn arrival(&self, info: &PodInfo, unknown: &str) -> Arrival {
        if self.history.existed_at_start(info.id) {
            return Arrival::BeforeTrace;
        }
        let (before, _) = self.neighbours(info);
        let number = |p: &PodInfo| self.number_of(p).map_or("?".to_string(), |n| n.to_string());
        if let Some(old) = before {
            let object = self.history.object(old.id);
            let gone = old
                .gone
                .map_or("an unseen time".to_string(), |t| t.to_string());
            let told = |reason, change, evidence| {
                Arrival::Told(Told {
                    reason,
                    change,
                    other: Some(old.id),
                    evidence,
                })
            };
            let not_for_rollout = old
                .gone
                .and_then(|t| self.not_for_rollout(old, t, Some(info)));
            return match (old.revision, info.revision) {
                (Some(a), Some(b)) if a != b && not_for_rollout.is_some() => told(
                    "replacement",
                    None,
                    format!(
                        "pod {} ({}) at revision {} went away at {gone}, not for the rollout ({}); the {} controller made this one in its place at revision {}, the revision it gives a new pod there (same {})",
                        object.name,
                        object.uid,
                        number(old),
                        not_for_rollout.unwrap_or_default(),
                        self.history.object(self.owner).kind,
                        number(info),
                        self.slot_words(info)
                    ),
                ),
                (Some(a), Some(b)) if a != b => told(
                    "rollout",
                    self.revision_of(info).and_then(|r| r.change).map(Box::new),
                    format!(
                        "the {} controller made it at revision {} in place of pod {} ({}) at revision {}, which went away at {gone}; same {}",
                        self.history.object(self.owner).kind,
                        number(info),
                        object.name,
                        object.uid,
                        number(old),
                        self.slot_words(info)
                    ),
                ),
                (Some(_), Some(_)) => told(
                    "replacement",
                    None,
                    format!(
                        "pod {} ({}) at the same revision went away at {gone}; the {} controller made this one in its place (same {})",
                        object.name,
                        object.uid,
                        self.history.object(self.owner).kind,
                        self.slot_words(info)
                    ),
                ),
                _ => told(
                    "unknown",
                    None,
                    format!(
                        "made in place of pod {} ({}), which went away at {gone}; whether for a rollout is unknown: {unknown}",
                        object.name, object.uid
                    ),
                ),
            };
        }
        let limit = shifted(info.arrival, WATCH_SKEW);
        let ordinal = (self.style.ordinal)(self.history, info.id);
        let start = self.set.scope_at(limit).map_or(0, |s| s.start);
        if let (Some(ordinal), Some((change, from, to))) = (ordinal, self.set.scale_before(limit)) {
            if start + from <= ordinal && ordinal < start + to {
                return Arrival::Told(Told {
                    reason: "scale-up",
                    other: None,
                    evidence: format!(
                        "{}'s replicas went from {from} to {to} at {}, and its ordinal is {ordinal}",
                        self.owner_words(),
                        change.time
                    ),
                    change: Some(Box::new(change)),
                });
            }
        }
        if let Some(created) = self.set.creation().filter(|c| c.time <= limit) {
            let revision = self.revision_of(info);
            if revision.is_none() {
                return Arrival::Unknown(format!(
                    "one of the first pods of {}, created at {}; its revision is unknown: {unknown}",
                    self.owner_words(),
                    created.time
                ));
            }
            return Arrival::Told(Told {
                reason: "rollout",
                change: revision.and_then(|r| r.change).map(Box::new),
                other: None,
                evidence: format!(
                    "one of the first pods of {}, created at {}",
                    self.owner_words(),
                    created.time
                ),
            });
        }
        let mut why = format!(
            "no earlier pod of {} with the same {} and no replica increase is recorded before it",
            self.owner_words(),
            self.slot_words(info)
        );
        if info.revision.is_none() {
            why.push_str(&format!("; its revision is unknown: {unknown}"));
        }
        Arrival::Unknown(why)
    }

    fn departure(&self, info: &PodInfo, unknown: &str) -> Option<DepartureInfo> {
        let time = info.gone?;
        let (_, after) = self.neighbours(info);
        let replaced_by = after.map(|p| p.id);
        let why = self.departure_reason(info, time, after, unknown);
        Some(DepartureInfo {
            time,
            why,
            replaced_by,
        })
    }

    fn departure_reason(
        &self,
        info: &PodInfo,
        time: Timestamp,
        after: Option<&PodInfo>,
        unknown: &str,
    ) -> Departure {
        let history = self.history;
        if history
            .object(self.owner)
            .deletion_started()
            .is_some_and(|started| started <= time)
        {
            return Departure::Cascade { owner: self.owner };
        }
        let events = occurrences_about(history, self.graph, info.id);
        if let Some(found) = disruption(history, info.id, &events) {
            return Departure::Disrupted(found);
        }
        let limit = shifted(time, WATCH_SKEW);
        let ordinal = (self.style.ordinal)(history, info.id);
        let scope = self.set.scope_at(limit).unwrap_or_default();
        if let (Some(ordinal), Some(replicas)) = (ordinal, self.set.replicas_at(limit)) {
            if !scope.in_range(ordinal, replicas) {
                let range = match scope.start {
                    0 => String::new(),
                    start => format!(" (ordinals from {start})"),
                };
                return Departure::Told(Told {
                    reason: "scale-down",
                    change: self.set.scale_before(limit).map(|(c, _, _)| Box::new(c)),
                    other: None,
                    evidence: format!(
                        "{} wanted {replicas} replicas{range} when it was deleted, and its ordinal is {ordinal}",
                        self.owner_words()
                    ),
                });
            }
        }
        if let Some(why) = self.not_for_rollout(info, time, after) {
            return self.same_revision_departure(info, time, &why);
        }
        let own = self.recorded(info);
        let target = self
            .set
            .update_revision_at(limit)
            .or_else(|| after.and_then(|p| self.recorded(p)));
        match (own, target) {
            (Some(own), Some(target)) if own.id != target.id => {
                let number = target.number_at(limit);
                Departure::Told(Told {
                    reason: "rollout",
                    change: number
                        .and_then(|n| self.set.change_of(history, target, n))
                        .map(Box::new),
                    other: None,
                    evidence: format!(
                        "its revision {} ({}) was no longer the update revision {} ({}) of {} when it was deleted; {}",
                        self.number_of(info).map_or("?".to_string(), |n| n.to_string()),
                        own.reference.name,
                        number.map_or("?".to_string(), |n| n.to_string()),
                        target.reference.name,
                        self.owner_words(),
                        self.style.rollout_words
                    ),
                })
            }
            (Some(_), Some(_)) => self.same_revision_departure(
                info,
                time,
                &format!(
                    "deleted while {} still wanted it at the update revision and nothing in the spec changed",
                    self.owner_words()
                ),
            ),
            _ => Departure::Unknown(format!(
                "whether it went for a rollout is unknown: {unknown}"
            )),
        }
    }

    /// Why the controller did not delete `info` for an update, when the spec in force at
    /// `time` says it would not have (`UpdateScope::replaces`: `OnDelete`, or an ordinal below
    /// `start + partition`) while the pod was at another revision than the update revision;
    /// `None` otherwise (including when a revision is unknown).
    fn not_for_rollout(
        &self,
        info: &PodInfo,
        time: Timestamp,
        after: Option<&PodInfo>,
    ) -> Option<String> {
        let limit = shifted(time, WATCH_SKEW);
        let scope = self.set.scope_at(limit)?;
        let ordinal = (self.style.ordinal)(self.history, info.id);
        if scope.replaces(ordinal) {
            return None;
        }
        let own = self.recorded(info)?;
        let target = self
            .set
            .update_revision_at(limit)
            .or_else(|| after.and_then(|p| self.recorded(p)))?;
        if own.id == target.id {
            return None;
        }
        Some(if scope.on_delete {
            format!(
                "its revision {} was not the update revision {}, but {}'s update strategy was OnDelete: the controller deletes no pod for an update, someone else does",
                own.reference.name,
                target.reference.name,
                self.owner_words()
            )
        } else {
            format!(
                "its revision {} was not the update revision {}, but its ordinal {} is below the partition (ordinals start + partition = {} and up are updated): the controller leaves it at its revision",
                own.reference.name,
                target.reference.name,
                ordinal.map_or("?".to_string(), |o| o.to_string()),
                scope.updated_from()
            )
        })
    }

    /// A pod that went away though the controller had no reason to delete it (it was at the
    /// update revision, or at one the controller does not replace; `context` says which), with
    /// no scale-down.
    fn same_revision_departure(&self, info: &PodInfo, time: Timestamp, context: &str) -> Departure {
        let history = self.history;
        let object = history.object(info.id);
        if let Some(Gone::MissingAtRelist(_)) = object.gone {
            return Departure::Unknown(format!(
                "deleted while its watch was down, at an unknown time between its last record ({}) and the re-list ({time})",
                object.last().ts
            ));
        }
        let phase = object
            .versions
            .iter()
            .take_while(|v| v.ts < time)
            .last()
            .and_then(|v| pod_at(history, v).status.and_then(|s| s.phase));
        match phase.as_deref() {
            Some(phase @ ("Failed" | "Succeeded")) => Departure::Unknown(format!(
                "it had ended (phase {phase}); the {} controller deletes ended pods to recreate them, and so could someone else: the trace does not say who",
                object_kind(history, self.owner)
            )),
            _ => match self.controller_deletion(info, time) {
                Some(said) => Departure::Unknown(format!(
                    "{context}; yet {said}: the controller deleted it, for a reason the trace does not show"
                )),
                None => Departure::Told(Told {
                    reason: "external-delete",
                    change: None,
                    other: None,
                    evidence: format!("{context}; {}", self.deleter_words()),
                }),
            },
        }
    }
}

impl Replay<'_> {
    /// The owner's `SuccessfulDelete` Event naming `info`'s pod, recorded from one watch skew
    /// before `time` to five after (the Event is written after the delete and can arrive
    /// later), in words: the StatefulSet controller records "delete Pod NAME in StatefulSet
    /// SET successful" and the DaemonSet controller "Deleted pod: NAME" for every pod they
    /// delete (`stateful_pod_control.go` `recordPodEvent`, `controller_utils.go`
    /// `RealPodControl.DeletePod`).
    fn controller_deletion(&self, info: &PodInfo, time: Timestamp) -> Option<String> {
        let name = &self.history.object(info.id).name;
        let (from, to) = (shifted(time, -WATCH_SKEW), shifted(time, WATCH_SKEW * 5));
        occurrences_about(self.history, self.graph, self.owner)
            .into_iter()
            .filter(|o| o.reason == "SuccessfulDelete" && from <= o.ts && o.ts <= to)
            .find(|o| {
                o.message
                    .split([' ', ':'])
                    .any(|word| word == name.as_str())
            })
            .map(|o| {
                format!(
                    "{}'s Event SuccessfulDelete \"{}\" (line {}) names it",
                    self.owner_words(),
                    o.message,
                    o.line
                )
            })
    }

    /// Who deleted a pod the controller did not, as far as a watch trace can tell.
    fn deleter_words(&self) -> String {
        if self.history.of_kind("Event").next().is_none() {
            return "the trace records no Events, so whether the controller deleted it is not confirmed either way, and a watch trace does not name who sent the delete".to_string();
        }
        format!(
            "no SuccessfulDelete Event of {} names it (the controller records one for each pod it deletes); a watch trace does not name who sent the delete (audit logs would)",
            self.owner_words()
        )
    }
}

fn object_kind(history: &History, id: ObjectId) -> &str {
    &history.object(id).kind
}
