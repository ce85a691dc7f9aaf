//! ReplicaSet turnover: why each of its pods was created and why each went away.
//!
//! The ReplicaSet controller keeps `spec.replicas` pods alive. Replaying its
//! replica changes and its pods' arrivals and departures in trace order, each
//! change of `spec.replicas` opens slots (create k pods / remove k pods) and each
//! pod that went away on its own opens a replacement slot. A new pod fills the
//! oldest open creation slot; a departing pod fills the oldest removal slot, or,
//! when none is open, was removed by someone else and gets replaced.

use std::collections::{HashMap, VecDeque};

use jiff::Timestamp;

use super::deployment::{DeploymentModel, ScaleCause};
use super::events::occurrences_about;
use super::pod::{departure_time, disruption, Disruption};
use super::replicaset::ReplicaSetTimeline;
use super::{shifted, WATCH_SKEW};
use crate::graph::{CausalGraph, Change};
use crate::history::{Gone, History, ObjectId};

/// Why a pod was created.
#[derive(Debug, Clone, PartialEq)]
pub enum Arrival {
    /// Its ReplicaSet was scaled up (for a rollout or a scale-up) at `at`.
    Scaled {
        /// Why the ReplicaSet was scaled.
        cause: ScaleCause,
        /// The change behind it.
        change: Option<Box<Change>>,
        /// When the ReplicaSet's replicas went up.
        at: Timestamp,
    },
    /// It replaced a pod that went away while the spec did not change.
    Replaced {
        /// The pod it replaced.
        pod: ObjectId,
    },
    /// A Job's pod: the start of its run (`replaces` is `None`) or a retry after a failed pod;
    /// `change` made the template it runs.
    JobRun {
        /// The failed pod it replaces.
        replaces: Option<ObjectId>,
        /// The change that made its template.
        change: Option<Box<Change>>,
    },
    /// It already existed when the trace began.
    BeforeTrace,
    /// The trace does not show why.
    Unknown(String),
    /// Told by a workload that replays its own pods (StatefulSet, DaemonSet), in the report's
    /// words.
    Told(Told),
}

/// A pod reason a workload tells in the report's words: `reason` is the JSON name (`rollout`,
/// `replacement`, `scale-up`, `scale-down`, `external-delete`, `unknown`), `other` the pod it
/// took the place of (an arrival) or that took its place (a departure).
#[derive(Debug, Clone, PartialEq)]
pub struct Told {
    /// The reason's name.
    pub reason: &'static str,
    /// The change behind it.
    pub change: Option<Box<Change>>,
    /// The other pod of the same slot.
    pub other: Option<ObjectId>,
    /// What this rests on, in words.
    pub evidence: String,
}

/// Why a pod went away.
#[derive(Debug, Clone, PartialEq)]
pub enum Departure {
    /// Its ReplicaSet was scaled down (for a rollout or a scale-down) at `at`.
    Scaled {
        /// Why the ReplicaSet was scaled.
        cause: ScaleCause,
        /// The change behind it.
        change: Option<Box<Change>>,
        /// When the ReplicaSet's replicas went down.
        at: Timestamp,
    },
    /// Evicted or preempted.
    Disrupted(Disruption),
    /// Deleted while the ReplicaSet wanted it: by someone else.
    External,
    /// Its owner was being deleted.
    Cascade {
        /// The owner whose deletion took it.
        owner: ObjectId,
    },
    /// The trace does not show why.
    Unknown(String),
    /// Told by a workload that replays its own pods, in the report's words.
    Told(Told),
}

/// A pod's departure, when it happened, and the pod that replaced it.
#[derive(Debug, Clone, PartialEq)]
pub struct DepartureInfo {
    /// When it began going away.
    pub time: Timestamp,
    /// Why.
    pub why: Departure,
    /// The replacement the ReplicaSet created for it, if any.
    pub replaced_by: Option<ObjectId>,
}

/// Arrivals and departures of a ReplicaSet's pods.
#[derive(Debug, Clone, Default)]
pub struct Turnover {
    /// Why each pod was created.
    pub arrivals: HashMap<ObjectId, Arrival>,
    /// Why each departed pod went away.
    pub departures: HashMap<ObjectId, DepartureInfo>,
}

#[derive(Debug, Clone)]
enum Slot {
    Scaled {
        cause: ScaleCause,
        change: Option<Box<Change>>,
        at: Timestamp,
    },
    Replace(ObjectId),
}

/// Open slots in order, each kept once with how many of it are open: a ReplicaSet's replicas can
/// jump by billions in a damaged trace, and each opening must not cost a copy.
#[derive(Debug, Default)]
struct Slots(VecDeque<(Slot, u64)>);

impl Slots {
    /// Opens `count` slots like `slot` at the back.
    fn push_back(&mut self, slot: Slot, count: u64) {
        if count > 0 {
            self.0.push_back((slot, count));
        }
    }

    /// Fills the oldest open slot.
    fn pop_front(&mut self) -> Option<Slot> {
        let (slot, count) = self.0.front_mut()?;
        *count -= 1;
        let taken = slot.clone();
        if *count == 0 {
            self.0.pop_front();
        }
        Some(taken)
    }

    /// Closes up to `count` of the newest slots, while `closable` holds for them; returns how
    /// many were closed.
    fn close_newest(&mut self, count: u64, closable: impl Fn(&Slot) -> bool) -> u64 {
        let mut closed = 0;
        while closed < count {
            let Some((slot, open)) = self.0.back_mut() else {
                break;
            };
            if !closable(slot) {
                break;
            }
            let now = (*open).min(count - closed);
            *open -= now;
            closed += now;
            if *open == 0 {
                self.0.pop_back();
            }
        }
        closed
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Replicas { from: i64, to: i64 },
    Leave(ObjectId),
    Arrive(ObjectId),
}

/// Replays ReplicaSet `rs` and its pods.
pub fn turnover(
    history: &History,
    graph: &CausalGraph,
    rs: &ReplicaSetTimeline,
    deployment: Option<&DeploymentModel>,
) -> Turnover {
    let mut state = Replay::new(history, graph, rs, deployment);
    for (ts, _, step) in state.steps() {
        match step {
            Step::Replicas { from, to } => state.scale(ts, from, to),
            Step::Leave(pod) => state.leave(ts, pod),
            Step::Arrive(pod) => state.arrive(ts, pod),
        }
    }
    state.out
}

struct Replay<'a> {
    history: &'a History,
    graph: &'a CausalGraph,
    rs: &'a ReplicaSetTimeline,
    deployment: Option<&'a DeploymentModel>,
    pods: Vec<ObjectId>,
    /// Each pod's [`departure_time`], read once.
    departures: HashMap<ObjectId, Option<Timestamp>>,
    up: Slots,
    down: Slots,
    /// Pods that arrived with no open slot, and when: a later-noticed departure may explain them.
    unexplained: Vec<(ObjectId, Timestamp)>,
    out: Turnover,
}

impl<'a> Replay<'a> {
    fn new(
        history: &'a History,
        graph: &'a CausalGraph,
        rs: &'a ReplicaSetTimeline,
        deployment: Option<&'a DeploymentModel>,
    ) -> Self {
        let pods: Vec<ObjectId> = graph
            .controlled_by(rs.id)
            .into_iter()
            .filter(|&p| history.object(p).kind == "Pod")
            .collect();
        let departures = pods
            .iter()
            .map(|&p| (p, departure_time(history, p)))
            .collect();
        Replay {
            history,
            graph,
            rs,
            deployment,
            pods,
            departures,
            up: Slots::default(),
            down: Slots::default(),
            unexplained: Vec::new(),
            out: Turnover::default(),
        }
    }

    /// Every step in trace order; pods listed at the start count as already there.
    fn steps(&mut self) -> Vec<(Timestamp, u64, Step)> {
        let mut steps = Vec::new();
        let listed_rs = self.history.existed_at_start(self.rs.id);
        let mut replicas = 0;
        for (index, point) in self.rs.points.iter().enumerate() {
            if index == 0 && listed_rs {
                replicas = point.replicas.saturating_sub(self.baseline_alive() as i64);
                steps.push((
                    point.ts,
                    point.line,
                    Step::Replicas {
                        from: 0,
                        to: replicas,
                    },
                ));
                replicas = point.replicas;
                continue;
            }
            if point.replicas != replicas {
                steps.push((
                    point.ts,
                    point.line,
                    Step::Replicas {
                        from: replicas,
                        to: point.replicas,
                    },
                ));
                replicas = point.replicas;
            }
        }
        for &pod in &self.pods {
            let object = self.history.object(pod);
            if self.history.existed_at_start(pod) {
                self.out.arrivals.insert(pod, Arrival::BeforeTrace);
            } else {
                steps.push((
                    self.arrival_time(pod),
                    object.first().line,
                    Step::Arrive(pod),
                ));
            }
            if let Some(ts) = self.departure(pod) {
                let line = object
                    .versions
                    .iter()
                    .find(|v| v.ts >= ts)
                    .map_or(u64::MAX, |v| v.line);
                steps.push((ts, line, Step::Leave(pod)));
            }
        }
        // A replica change is the cause of the pod steps around it: let it go first even if
        // another watch stream delivered those a little earlier.
        steps.sort_by_key(|(ts, line, step)| match step {
            Step::Replicas { .. } => (shifted(*ts, -WATCH_SKEW), *line),
            _ => (*ts, *line),
        });
        steps
    }

    fn departure(&self, pod: ObjectId) -> Option<Timestamp> {
        self.departures.get(&pod).copied().flatten()
    }

    /// When a pod arrived: its first record, or, when a re-list after a watch gap first showed it,
    /// its creationTimestamp (it was created while nobody watched).
    fn arrival_time(&self, pod: ObjectId) -> Timestamp {
        let object = self.history.object(pod);
        let first = object.first().ts;
        match object.created {
            Some(created) if self.history.first_seen_in_relist(pod) && created < first => created,
            _ => first,
        }
    }

    fn baseline_alive(&self) -> usize {
        self.pods
            .iter()
            .filter(|&&p| self.history.existed_at_start(p))
            .filter(|&&p| {
                let first = self.history.object(p).first();
                first.deletion_timestamp.is_none() && self.departure(p).is_none_or(|t| t > first.ts)
            })
            .count()
    }

    fn scale(&mut self, ts: Timestamp, from: i64, to: i64) {
        let count = to.abs_diff(from);
        if to > from {
            let cause = self.cause(ts, true);
            let cancelled = self.down.close_newest(count, |_| true);
            self.up.push_back(cause, count - cancelled);
        } else if to < from {
            let cause = self.cause(ts, false);
            let scaled = |slot: &Slot| matches!(slot, Slot::Scaled { .. });
            let cancelled = self.up.close_newest(count, scaled);
            self.down.push_back(cause, count - cancelled);
        }
    }

    fn cause(&self, ts: Timestamp, up: bool) -> Slot {
        let (cause, change) = match self.deployment {
            Some(model) => model.scale_cause(self.rs.id, ts, up),
            None => (ScaleCause::Unknown, None),
        };
        Slot::Scaled {
            cause,
            change: change.cloned().map(Box::new),
            at: ts,
        }
    }

    fn leave(&mut self, ts: Timestamp, pod: ObjectId) {
        let why = self.departure_reason(ts, pod);
        // A pod that vanished during a watch gap was replaced too, whatever removed it.
        let replaced = matches!(
            why,
            Departure::External | Departure::Disrupted(_) | Departure::Unknown(_)
        );
        let mut replaced_by = None;
        if replaced {
            replaced_by = self.adopt_unexplained_arrival(pod);
            if replaced_by.is_none() {
                self.up.push_back(Slot::Replace(pod), 1);
            }
        }
        let info = DepartureInfo {
            time: ts,
            why,
            replaced_by,
        };
        self.out.departures.insert(pod, info);
    }

    /// A departure noticed late (at a re-list) explains a pod that arrived after the departed
    /// pod's last record with no open slot: that pod was its replacement.
    fn adopt_unexplained_arrival(&mut self, departed: ObjectId) -> Option<ObjectId> {
        let last_seen = self.history.object(departed).last().ts;
        let index = self
            .unexplained
            .iter()
            .position(|(_, at)| *at >= last_seen)?;
        let (pod, _) = self.unexplained.remove(index);
        self.out
            .arrivals
            .insert(pod, Arrival::Replaced { pod: departed });
        Some(pod)
    }

    fn departure_reason(&mut self, ts: Timestamp, pod: ObjectId) -> Departure {
        if let Some(owner) = self.owner_being_deleted(ts) {
            return Departure::Cascade { owner };
        }
        let events = occurrences_about(self.history, self.graph, pod);
        if let Some(found) = disruption(self.history, pod, &events) {
            return Departure::Disrupted(found);
        }
        if let Some(Slot::Scaled { cause, change, at }) = self.down.pop_front() {
            return Departure::Scaled { cause, change, at };
        }
        if let Some(Gone::MissingAtRelist(_)) = self.history.object(pod).gone {
            let last = self.history.object(pod).last().ts;
            return Departure::Unknown(format!(
                "deleted while its watch was down, at an unknown time between its last record ({last}) and the re-list ({ts})"
            ));
        }
        Departure::External
    }

    /// The ReplicaSet or its Deployment, if its deletion began at or before `ts`.
    fn owner_being_deleted(&self, ts: Timestamp) -> Option<ObjectId> {
        // The highest owner first: deleting a Deployment is the cause of its ReplicaSet's deletion.
        let owners = self
            .deployment
            .map(|d| d.id)
            .into_iter()
            .chain(std::iter::once(self.rs.id));
        owners.into_iter().find(|&owner| {
            self.history
                .object(owner)
                .deletion_started()
                .is_some_and(|started| started <= ts)
        })
    }

    fn arrive(&mut self, ts: Timestamp, pod: ObjectId) {
        let arrival = match self.up.pop_front() {
            Some(Slot::Scaled { cause, change, at }) => Arrival::Scaled { cause, change, at },
            Some(Slot::Replace(old)) => {
                if let Some(info) = self.out.departures.get_mut(&old) {
                    info.replaced_by = Some(pod);
                }
                Arrival::Replaced { pod: old }
            }
            None => {
                self.unexplained.push((pod, ts));
                Arrival::Unknown(
                    "its ReplicaSet had no open slot: no replica increase or pod loss recorded before it"
                        .to_string(),
                )
            }
        };
        self.out.arrivals.insert(pod, arrival);
    }
}
