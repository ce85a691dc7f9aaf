//! Deletion: graceful pod deletion, Deployment deletion and the garbage collector's cascade.

use kblame::trace::EventType;

use super::clock::SECOND;
use super::config::Propagation;
use super::model::{Cause, Involved, Reporter};
use super::truth::DeletedTruth;
use super::world::{Commit, Task, World};

/// Who deletes a pod, and so what the ground truth says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Deletion {
    /// The ReplicaSet controller, scaling down for this cause.
    Controller(Cause),
    /// Someone outside the cluster (`kubectl delete pod`).
    External,
    /// The garbage collector, because the owner went away.
    Cascade,
    /// The scheduler, to make room for a higher-priority pod.
    Preempted,
    /// Not a deletion: the kubelet evicted it under node pressure (it stays, `Failed`).
    Evicted,
    /// The StatefulSet controller, to recreate a `Failed` or `Succeeded` pod.
    Terminal,
}

const FOREGROUND: &str = "foregroundDeletion";

impl World {
    /// Deletes a pod: gracefully (deletionTimestamp, kubelet stops it) if bound, at once if not.
    pub(crate) fn delete_pod(&mut self, uid: &str, why: Deletion) {
        let now = self.core.now;
        let Some(pod) = self.pods.get(uid) else {
            return;
        };
        if pod.meta.deleting() {
            return;
        }
        let (rs_uid, name, truth) = (pod.rs_uid.clone(), pod.meta.name.clone(), pod.truth);
        let bound = pod.node_name.is_some();
        let commit = if bound {
            let Some(pod) = self.pods.get_mut(uid) else {
                return;
            };
            pod.meta.deletion = Some(now + 30 * SECOND);
            pod.meta.grace = Some(30);
            self.core.commit(pod, None, None, EventType::Modified)
        } else {
            let Some(mut pod) = self.pods.remove(uid) else {
                return;
            };
            self.core.commit(&mut pod, None, None, EventType::Deleted)
        };
        self.record_deletion(truth, &commit, &why);
        self.budgets_notice();
        if matches!(why, Deletion::External | Deletion::Preempted) {
            if let Some(rs) = self.replicasets.get_mut(&rs_uid) {
                rs.debts.push_back(name.clone());
            }
        }
        if let (Deletion::Controller(_), Some(rs)) = (&why, self.replicasets.get(&rs_uid)) {
            let involved = Involved::of(rs, None);
            let message = format!("Deleted pod: {name}");
            self.record_event(
                involved,
                Reporter::Controller("replicaset-controller"),
                false,
                "SuccessfulDelete",
                message,
            );
        }
        if bound {
            let delay = self.core.jitter(60, 400);
            self.core.after(delay, Task::Terminate(uid.to_string()));
        } else {
            self.pod_gone(&rs_uid, uid);
        }
        if self.replicasets.contains_key(&rs_uid) {
            self.core.soon(Task::SyncReplicaSet(rs_uid));
        }
    }

    /// Notes in the ground truth why the pod went away, at the time of this commit.
    pub(crate) fn record_deletion(&mut self, truth: usize, commit: &Commit, why: &Deletion) {
        let (reason, manager) = match why {
            Deletion::Controller(Cause::Rollout(m)) => ("rollout", Some(m.clone())),
            Deletion::Controller(Cause::Scale(m)) => ("scale-down", Some(m.clone())),
            Deletion::External => ("external-delete", None),
            Deletion::Cascade => ("cascade-delete", None),
            Deletion::Preempted => ("preempted", None),
            Deletion::Evicted => ("evicted", None),
            Deletion::Terminal => ("terminal-recreate", None),
        };
        self.mark_hidden(truth, commit);
        if let Some(entry) = self.book.pods.get_mut(truth) {
            entry.0.deleted = Some(DeletedTruth {
                time: commit.truth_time(),
                reason: reason.into(),
                change_manager: manager,
                replaced_by: None,
                root_cause: None,
                disruption_budget: None,
            });
        }
    }

    /// Bookkeeping once a pod object no longer exists.
    pub(crate) fn pod_gone(&mut self, rs_uid: &str, pod_uid: &str) {
        self.budgets_notice();
        self.unschedulable.remove(pod_uid);
        self.retry_unschedulable();
        self.sts_pod_gone(rs_uid, pod_uid);
        self.job_pod_gone(rs_uid, pod_uid);
        self.daemon_pod_gone(rs_uid, pod_uid);
        let Some(rs) = self.replicasets.get_mut(rs_uid) else {
            return;
        };
        rs.pods.remove(pod_uid);
        let deleting = rs.meta.deleting();
        self.core.soon(Task::SyncReplicaSet(rs_uid.to_string()));
        if deleting {
            self.core.soon(Task::Collect);
        }
    }

    /// Deletes a Deployment; the garbage collector then removes its ReplicaSets and pods.
    pub(crate) fn delete_deployment(&mut self, uid: &str, propagation: Propagation) {
        let outcome = self.outcome(uid);
        let Some(d) = self.deployments.get_mut(uid) else {
            return;
        };
        let truth = d.truth;
        match propagation {
            Propagation::Background => {
                let Some(mut d) = self.deployments.remove(uid) else {
                    return;
                };
                self.core.commit(&mut d, None, None, EventType::Deleted);
            }
            Propagation::Foreground => {
                d.meta.deletion = Some(self.core.now);
                d.meta.grace = Some(0);
                d.meta.finalizers = vec![FOREGROUND.to_string()];
                d.foreground = true;
                self.core.commit(d, None, None, EventType::Modified);
            }
        }
        if let Some(entry) = self.book.deployments.get_mut(truth) {
            entry.0.final_outcome = outcome;
        }
        let delay = self.core.jitter(150, 500);
        self.core.after(delay, Task::Collect);
    }

    /// One pass of the garbage collector; queues another while there is work left.
    pub(crate) fn collect_garbage(&mut self) {
        let mut acted = self.collect_replicasets();
        acted |= self.collect_pods();
        acted |= self.finish_foreground();
        if acted {
            let delay = self.core.jitter(250, 700);
            self.core.after(delay, Task::Collect);
        }
    }

    fn collect_replicasets(&mut self) -> bool {
        let mut acted = false;
        let uids: Vec<String> = self.replicasets.keys().cloned().collect();
        for uid in uids {
            let Some(rs) = self.replicasets.get(&uid) else {
                continue;
            };
            if rs.meta.deleting() {
                continue;
            }
            match self.deployments.get(&rs.owner_uid).map(|d| d.foreground) {
                None => {
                    if let Some(mut rs) = self.take_replicaset(&uid) {
                        self.core.commit(&mut rs, None, None, EventType::Deleted);
                    }
                    acted = true;
                }
                Some(true) => {
                    if let Some(rs) = self.replicasets.get_mut(&uid) {
                        rs.meta.deletion = Some(self.core.now);
                        rs.meta.grace = Some(0);
                        rs.meta.finalizers = vec![FOREGROUND.to_string()];
                        self.core.commit(rs, None, None, EventType::Modified);
                    }
                    acted = true;
                }
                Some(false) => {}
            }
        }
        acted
    }

    fn collect_pods(&mut self) -> bool {
        let doomed: Vec<String> = self
            .pods
            .values()
            .filter(|p| {
                !p.meta.deleting()
                    && !self.statefulsets.contains_key(&p.rs_uid)
                    && !self.jobs.contains_key(&p.rs_uid)
                    && !self.daemonsets.contains_key(&p.rs_uid)
            })
            .filter(|p| {
                self.replicasets
                    .get(&p.rs_uid)
                    .is_none_or(|rs| rs.meta.deleting())
            })
            .map(|p| p.meta.uid.clone())
            .collect();
        for uid in &doomed {
            self.delete_pod(uid, Deletion::Cascade);
        }
        !doomed.is_empty()
    }

    fn finish_foreground(&mut self) -> bool {
        let mut acted = false;
        let done: Vec<String> = self
            .replicasets
            .values()
            .filter(|rs| rs.meta.deleting() && rs.pods.is_empty())
            .map(|rs| rs.meta.uid.clone())
            .collect();
        for uid in done {
            if let Some(mut rs) = self.take_replicaset(&uid) {
                rs.meta.finalizers.clear();
                self.core.commit(&mut rs, None, None, EventType::Deleted);
                acted = true;
            }
        }
        let finished: Vec<String> = self
            .deployments
            .values()
            .filter(|d| d.foreground && self.owned_replicasets(&d.meta.uid).is_empty())
            .map(|d| d.meta.uid.clone())
            .collect();
        for uid in finished {
            if let Some(mut d) = self.deployments.remove(&uid) {
                d.meta.finalizers.clear();
                self.core.commit(&mut d, None, None, EventType::Deleted);
                acted = true;
            }
        }
        acted
    }

    /// `complete`, `failed` or `progressing`, from the Deployment's status.
    pub(crate) fn outcome(&self, uid: &str) -> String {
        let Some(d) = self.deployments.get(uid) else {
            return "progressing".into();
        };
        let outcome = match d.status.condition("Progressing").map(|c| c.reason) {
            Some("ProgressDeadlineExceeded") => "failed",
            Some("NewReplicaSetAvailable") if d.status.available == d.replicas => "complete",
            _ => "progressing",
        };
        outcome.into()
    }
}
