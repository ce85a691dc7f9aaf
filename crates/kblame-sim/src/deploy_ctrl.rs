//! The deployment controller: new ReplicaSets, revisions, rolling updates, scaling and status.

use std::collections::BTreeMap;

use kblame::trace::EventType;
use serde_json::json;

use super::clock::SECOND;
use super::fields::Writer;
use super::model::{
    set_condition, Cause, Condition, Deployment, DeploymentStatus, Involved, Meta, OwnerRef,
    ReplicaSet, Reporter, RsStatus,
};
use super::truth::{ChangeTruth, RevisionTruth};
use super::world::{Task, World};

const MANAGER: &str = "kube-controller-manager";
const REVISION: &str = "deployment.kubernetes.io/revision";
const HISTORY: &str = "deployment.kubernetes.io/revision-history";
const DESIRED: &str = "deployment.kubernetes.io/desired-replicas";
const MAX: &str = "deployment.kubernetes.io/max-replicas";
const REVISION_HISTORY_LIMIT: usize = 10;

/// A snapshot of one ReplicaSet's numbers, read before the controller acts.
#[derive(Debug, Clone)]
struct RsView {
    uid: String,
    replicas: i32,
    status: RsStatus,
    revision: i64,
    desired: Option<i32>,
    max: Option<i32>,
}

impl World {
    /// One pass of the deployment controller over a Deployment.
    pub(crate) fn sync_deployment(&mut self, uid: &str) {
        let Some(d) = self.deployments.get(uid) else {
            return;
        };
        if d.meta.deleting() {
            return;
        }
        let hash = d.template_hash.clone();
        let new_rs = self
            .live_replicasets(uid)
            .into_iter()
            .find(|r| self.replicasets[r].hash == hash);
        if let Some(rs) = &new_rs {
            self.sync_revision(uid, rs);
        }
        if self.is_scaling_event(uid) {
            self.scale_deployment(uid, new_rs.as_deref());
            self.write_deployment_status(uid, new_rs.as_deref(), false);
            return;
        }
        let new_rs = match new_rs {
            Some(rs) => rs,
            None => self.create_replicaset(uid, &hash),
        };
        if !self.reconcile_new(uid, &new_rs) {
            self.reconcile_old(uid, &new_rs);
        }
        if is_complete(&self.deployments[uid], &self.deployments[uid].status) {
            self.cleanup_history(uid, &new_rs);
        }
        self.write_deployment_status(uid, Some(&new_rs), true);
    }

    /// Deletes the oldest scaled-down ReplicaSets beyond `revisionHistoryLimit` (10).
    fn cleanup_history(&mut self, uid: &str, new_rs: &str) {
        let mut old: Vec<RsView> = self
            .views(uid)
            .into_iter()
            .filter(|r| r.uid != new_rs && r.replicas == 0 && r.status.replicas == 0)
            .collect();
        old.sort_by_key(|r| r.revision);
        let excess = old.len().saturating_sub(REVISION_HISTORY_LIMIT);
        for rs in old.into_iter().take(excess) {
            if let Some(mut removed) = self.take_replicaset(&rs.uid) {
                self.core
                    .commit(&mut removed, None, None, EventType::Deleted);
            }
        }
    }

    fn live_replicasets(&self, deployment_uid: &str) -> Vec<String> {
        self.owned_replicasets(deployment_uid)
            .into_iter()
            .filter(|r| !self.replicasets[r].meta.deleting())
            .collect()
    }

    fn views(&self, deployment_uid: &str) -> Vec<RsView> {
        self.live_replicasets(deployment_uid)
            .into_iter()
            .map(|uid| {
                let rs = &self.replicasets[&uid];
                let number = |key: &str| rs.meta.annotations.get(key).and_then(|v| v.parse().ok());
                RsView {
                    replicas: rs.replicas,
                    status: rs.status.clone(),
                    revision: rs.revision(),
                    desired: number(DESIRED),
                    max: number(MAX),
                    uid,
                }
            })
            .collect()
    }

    fn is_scaling_event(&self, uid: &str) -> bool {
        let desired = self.deployments[uid].replicas;
        self.views(uid)
            .iter()
            .any(|r| r.replicas > 0 && r.desired.is_some_and(|n| n != desired))
    }

    /// Gives an adopted old ReplicaSet (rollback) the next revision, or copies its revision
    /// to the Deployment.
    fn sync_revision(&mut self, deployment_uid: &str, rs_uid: &str) {
        let views = self.views(deployment_uid);
        let max_old = views
            .iter()
            .filter(|r| r.uid != rs_uid)
            .map(|r| r.revision)
            .max()
            .unwrap_or(0);
        let current = self.replicasets[rs_uid].revision();
        if current <= max_old {
            self.bump_revision(deployment_uid, rs_uid, current, max_old + 1);
            return;
        }
        let d = &self.deployments[deployment_uid];
        let mut status = d.status.clone();
        let known = d.meta.annotations.get(REVISION) == Some(&current.to_string());
        if status.condition("Progressing").is_none() {
            let name = self.replicasets[rs_uid].meta.name.clone();
            let message = format!("Found new replica set \"{name}\"");
            set_condition(
                &mut status.conditions,
                self.condition("Progressing", true, "FoundNewReplicaSet", message),
            );
        } else if known {
            return;
        }
        self.write_revision_and_status(deployment_uid, current, status);
    }

    fn bump_revision(&mut self, deployment_uid: &str, rs_uid: &str, old: i64, new: i64) {
        let Some(rs) = self.replicasets.get_mut(rs_uid) else {
            return;
        };
        let history = match rs.meta.annotations.get(HISTORY) {
            Some(h) if !h.is_empty() => format!("{h},{old}"),
            _ => old.to_string(),
        };
        rs.meta.annotations.insert(HISTORY.into(), history);
        rs.meta.annotations.insert(REVISION.into(), new.to_string());
        self.core.commit(
            rs,
            Some(&Writer::update(MANAGER)),
            None,
            EventType::Modified,
        );
        self.record_revision(deployment_uid, rs_uid, new);
        self.replicaset_changed(rs_uid);
    }

    fn record_revision(&mut self, deployment_uid: &str, rs_uid: &str, number: i64) {
        let d = &self.deployments[deployment_uid];
        let rs = &self.replicasets[rs_uid];
        let change = d
            .rollout
            .as_ref()
            .filter(|c| !c.creation)
            .map(|c| ChangeTruth {
                manager: c.manager.clone(),
                operation: c.operation.to_string(),
                subresource: c.subresource.map(str::to_string),
                time: c.truth_time(),
                before_trace: !c.recorded,
                fields: c.fields.clone(),
                user: c.user.clone(),
            });
        let revision = RevisionTruth {
            number,
            template_hash: rs.hash.clone(),
            replicaset: rs.meta.name.clone(),
            replicaset_uid: rs.meta.uid.clone(),
            change,
        };
        let index = d.truth;
        self.book.deployments[index].0.revisions.push(revision);
    }

    /// A condition stamped now (whole seconds, as the informer cache would hold it).
    pub(crate) fn condition(
        &self,
        kind: &'static str,
        status: bool,
        reason: &'static str,
        message: String,
    ) -> Condition {
        let now = self.core.now - self.core.now.rem_euclid(SECOND);
        Condition {
            kind,
            status,
            last_update: Some(now),
            last_transition: now,
            reason,
            message,
        }
    }

    fn write_revision_and_status(&mut self, uid: &str, revision: i64, status: DeploymentStatus) {
        let Some(d) = self.deployments.get_mut(uid) else {
            return;
        };
        d.meta
            .annotations
            .insert(REVISION.into(), revision.to_string());
        d.status = status;
        self.core
            .commit(d, Some(&Writer::status(MANAGER)), None, EventType::Modified);
    }

    fn create_replicaset(&mut self, deployment_uid: &str, hash: &str) -> String {
        let views = self.views(deployment_uid);
        let max_old = views.iter().map(|r| r.revision).max().unwrap_or(0);
        let d = &self.deployments[deployment_uid];
        let replicas = new_rs_replicas(d, &views, 0);
        let rs_uid = self.core.rng.uid();
        let rs = build_replicaset(
            d,
            hash,
            rs_uid.clone(),
            self.core.now,
            replicas,
            max_old + 1,
        );
        let cause = self.scale_up_cause(deployment_uid);
        let name = rs.meta.name.clone();
        self.insert_replicaset(ReplicaSet { cause, ..rs });
        if let Some(rs) = self.replicasets.get_mut(&rs_uid) {
            self.core
                .commit(rs, Some(&Writer::update(MANAGER)), None, EventType::Added);
        }
        if replicas > 0 {
            self.scaling_event(deployment_uid, &name, 0, replicas);
        }
        self.record_revision(deployment_uid, &rs_uid, max_old + 1);
        let mut status = self.deployments[deployment_uid].status.clone();
        let message = format!("Created new replica set \"{name}\"");
        set_condition(
            &mut status.conditions,
            self.condition("Progressing", true, "NewReplicaSetCreated", message),
        );
        self.write_revision_and_status(deployment_uid, max_old + 1, status);
        self.replicaset_changed(&rs_uid);
        rs_uid
    }

    fn scale_up_cause(&self, deployment_uid: &str) -> Cause {
        let d = &self.deployments[deployment_uid];
        match (&d.rollout, d.rolling) {
            (Some(change), true) => Cause::Rollout(change.manager.clone()),
            _ => Cause::Scale(d.scaler.clone()),
        }
    }

    fn rollout_cause(&self, deployment_uid: &str) -> Cause {
        let d = &self.deployments[deployment_uid];
        match &d.rollout {
            Some(change) => Cause::Rollout(change.manager.clone()),
            None => Cause::Scale(d.scaler.clone()),
        }
    }

    fn scaling_event(&mut self, deployment_uid: &str, rs_name: &str, from: i32, to: i32) {
        let Some(d) = self.deployments.get(deployment_uid) else {
            return;
        };
        let direction = if to > from { "up" } else { "down" };
        let message = format!("Scaled {direction} replica set {rs_name} from {from} to {to}");
        let involved = Involved::of(d, None);
        self.record_event(
            involved,
            Reporter::Controller("deployment-controller"),
            false,
            "ScalingReplicaSet",
            message,
        );
    }

    /// Scales a ReplicaSet and stamps its replica annotations; true if anything changed.
    fn scale_replicaset(
        &mut self,
        deployment_uid: &str,
        rs_uid: &str,
        to: i32,
        cause: Cause,
    ) -> bool {
        let d = &self.deployments[deployment_uid];
        let (desired, max) = (d.replicas.to_string(), (d.replicas + d.surge()).to_string());
        let Some(rs) = self.replicasets.get_mut(rs_uid) else {
            return false;
        };
        let from = rs.replicas;
        let annotations_stale = rs.meta.annotations.get(DESIRED) != Some(&desired)
            || rs.meta.annotations.get(MAX) != Some(&max);
        if from == to && !annotations_stale {
            return false;
        }
        rs.replicas = to;
        rs.meta.annotations.insert(DESIRED.into(), desired);
        rs.meta.annotations.insert(MAX.into(), max);
        if from != to {
            rs.cause = cause;
        }
        let name = rs.meta.name.clone();
        self.core.commit(
            rs,
            Some(&Writer::update(MANAGER)),
            None,
            EventType::Modified,
        );
        if from != to {
            self.scaling_event(deployment_uid, &name, from, to);
        }
        self.replicaset_changed(rs_uid);
        from != to
    }

    fn reconcile_new(&mut self, uid: &str, new_rs: &str) -> bool {
        let d = &self.deployments[uid];
        let current = self.replicasets[new_rs].replicas;
        if current == d.replicas {
            return false;
        }
        if current > d.replicas {
            let (to, cause) = (d.replicas, Cause::Scale(d.scaler.clone()));
            return self.scale_replicaset(uid, new_rs, to, cause);
        }
        let to = new_rs_replicas(d, &self.views(uid), current);
        let cause = self.scale_up_cause(uid);
        self.scale_replicaset(uid, new_rs, to, cause)
    }

    fn reconcile_old(&mut self, uid: &str, new_rs: &str) -> bool {
        let views = self.views(uid);
        let old_active = views
            .iter()
            .filter(|r| r.uid != new_rs && r.replicas > 0)
            .count();
        if old_active == 0 {
            return false;
        }
        let d = &self.deployments[uid];
        let all_pods: i32 = views.iter().map(|r| r.replicas).sum();
        let min_available = d.replicas - d.unavailable();
        let new = &self.replicasets[new_rs];
        let new_unavailable = new.replicas - new.status.available;
        let max_scaled_down = all_pods - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            return false;
        }
        let cleaned = self.cleanup_unhealthy(uid, new_rs, max_scaled_down);
        let scaled = self.scale_down_old(uid, new_rs, min_available);
        cleaned + scaled > 0
    }

    fn old_views(&self, uid: &str, new_rs: &str) -> Vec<RsView> {
        self.views(uid)
            .into_iter()
            .filter(|r| r.uid != new_rs && r.replicas > 0)
            .collect()
    }

    fn cleanup_unhealthy(&mut self, uid: &str, new_rs: &str, max_cleanup: i32) -> i32 {
        let mut total = 0;
        for rs in self.old_views(uid, new_rs) {
            if total >= max_cleanup {
                break;
            }
            let unhealthy = rs.replicas - rs.status.available;
            if unhealthy <= 0 {
                continue;
            }
            let count = (max_cleanup - total).min(unhealthy);
            let cause = self.rollout_cause(uid);
            self.scale_replicaset(uid, &rs.uid, rs.replicas - count, cause);
            total += count;
        }
        total
    }

    fn scale_down_old(&mut self, uid: &str, new_rs: &str, min_available: i32) -> i32 {
        let available: i32 = self.views(uid).iter().map(|r| r.status.available).sum();
        if available <= min_available {
            return 0;
        }
        let wanted = available - min_available;
        let mut total = 0;
        for rs in self.old_views(uid, new_rs) {
            if total >= wanted {
                break;
            }
            let count = rs.replicas.min(wanted - total);
            let cause = self.rollout_cause(uid);
            self.scale_replicaset(uid, &rs.uid, rs.replicas - count, cause);
            total += count;
        }
        total
    }

    /// The `sync` path for a change of `spec.replicas`: scale the active ReplicaSet(s).
    fn scale_deployment(&mut self, uid: &str, new_rs: Option<&str>) {
        let views = self.views(uid);
        let active: Vec<&RsView> = views.iter().filter(|r| r.replicas > 0).collect();
        let d = &self.deployments[uid];
        let (desired, surge) = (d.replicas, d.surge());
        let cause = Cause::Scale(d.scaler.clone());
        let single = match active.as_slice() {
            [one] => Some(one.uid.clone()),
            [] => new_rs
                .map(str::to_string)
                .or_else(|| views.last().map(|r| r.uid.clone())),
            _ => None,
        };
        if let Some(target) = single {
            self.scale_replicaset(uid, &target, desired, cause);
            return;
        }
        let sizes = proportional_sizes(&views, desired, surge);
        for (rs_uid, size) in sizes {
            self.scale_replicaset(uid, &rs_uid, size, cause.clone());
        }
    }

    /// Computes the status; with `rolling`, also the Progressing condition; writes it if it changed.
    fn write_deployment_status(&mut self, uid: &str, new_rs: Option<&str>, rolling: bool) {
        let views = self.views(uid);
        let d = &self.deployments[uid];
        let mut status = self.calculate_status(d, &views, new_rs);
        if rolling {
            if let Some(rs) = new_rs {
                self.progressing_condition(d, &mut status, &self.replicasets[rs].meta.name);
            }
        }
        let complete = is_complete(d, &status);
        let d = &self.deployments[uid];
        if status != d.status {
            if let Some(d) = self.deployments.get_mut(uid) {
                d.status = status;
                if complete {
                    d.rolling = false;
                }
                self.core
                    .commit(d, Some(&Writer::status(MANAGER)), None, EventType::Modified);
            }
        }
        self.requeue_stuck(uid);
    }

    fn calculate_status(
        &self,
        d: &Deployment,
        views: &[RsView],
        new_rs: Option<&str>,
    ) -> DeploymentStatus {
        let available: i32 = views.iter().map(|r| r.status.available).sum();
        let total: i32 = views.iter().map(|r| r.replicas).sum();
        let updated = new_rs
            .and_then(|n| views.iter().find(|r| r.uid == n))
            .map_or(0, |r| r.status.replicas);
        let mut status = DeploymentStatus {
            observed_generation: d.meta.generation,
            replicas: views.iter().map(|r| r.status.replicas).sum(),
            updated,
            ready: views.iter().map(|r| r.status.ready).sum(),
            available,
            unavailable: (total - available).max(0),
            conditions: d.status.conditions.clone(),
        };
        let condition = if available >= d.replicas - d.unavailable() {
            self.condition(
                "Available",
                true,
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.".into(),
            )
        } else {
            self.condition(
                "Available",
                false,
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.".into(),
            )
        };
        set_condition(&mut status.conditions, condition);
        status
    }

    fn progressing_condition(&self, d: &Deployment, status: &mut DeploymentStatus, rs_name: &str) {
        let current = d.status.condition("Progressing").cloned();
        if is_complete(d, status) {
            if current.as_ref().map(|c| c.reason) != Some("NewReplicaSetAvailable") {
                let message = format!("ReplicaSet \"{rs_name}\" has successfully progressed.");
                set_condition(
                    &mut status.conditions,
                    self.condition("Progressing", true, "NewReplicaSetAvailable", message),
                );
            }
        } else if is_progressing(&d.status, status) {
            let message = format!("ReplicaSet \"{rs_name}\" is progressing.");
            let mut condition = self.condition("Progressing", true, "ReplicaSetUpdated", message);
            if let Some(current) = current.filter(|c| c.status) {
                condition.last_transition = current.last_transition;
            }
            status.conditions.retain(|c| c.kind != "Progressing");
            status.conditions.push(condition);
        } else if self.timed_out(d, status) {
            let message = format!("ReplicaSet \"{rs_name}\" has timed out progressing.");
            set_condition(
                &mut status.conditions,
                self.condition("Progressing", false, "ProgressDeadlineExceeded", message),
            );
        }
    }

    fn timed_out(&self, d: &Deployment, status: &DeploymentStatus) -> bool {
        let Some(condition) = status.condition("Progressing") else {
            return false;
        };
        match condition.reason {
            "NewReplicaSetAvailable" => false,
            "ProgressDeadlineExceeded" => true,
            _ => {
                let from = condition.last_update.unwrap_or(condition.last_transition);
                from + d.progress_deadline * SECOND < self.core.now
            }
        }
    }

    /// Queues a re-check for when the progress deadline would pass.
    fn requeue_stuck(&mut self, uid: &str) {
        let Some(d) = self.deployments.get(uid) else {
            return;
        };
        let Some(condition) = d.status.condition("Progressing") else {
            return;
        };
        if condition.reason == "ProgressDeadlineExceeded" || is_complete(d, &d.status) {
            return;
        }
        let from = condition.last_update.unwrap_or(condition.last_transition);
        let due = from + d.progress_deadline * SECOND + SECOND;
        if d.deadline_at == due || due <= self.core.now {
            return;
        }
        let delay = due - self.core.now;
        if let Some(d) = self.deployments.get_mut(uid) {
            d.deadline_at = due;
        }
        self.core
            .after(delay, Task::SyncDeployment(uid.to_string()));
    }
}

fn is_complete(d: &Deployment, status: &DeploymentStatus) -> bool {
    status.updated == d.replicas
        && status.replicas == d.replicas
        && status.available == d.replicas
        && status.observed_generation >= d.meta.generation
}

fn is_progressing(old: &DeploymentStatus, new: &DeploymentStatus) -> bool {
    let old_old = old.replicas - old.updated;
    let new_old = new.replicas - new.updated;
    new.updated > old.updated
        || new_old < old_old
        || new.ready > old.ready
        || new.available > old.available
}

/// `NewRSNewReplicas` for a rolling update.
fn new_rs_replicas(d: &Deployment, views: &[RsView], current: i32) -> i32 {
    let pods: i32 = views.iter().map(|r| r.replicas).sum();
    let max_total = d.replicas + d.surge();
    if pods >= max_total {
        return current;
    }
    let up = (max_total - pods).min(d.replicas - current);
    current + up
}

/// Proportional scaling of several active ReplicaSets to a new replica count.
fn proportional_sizes(views: &[RsView], desired: i32, surge: i32) -> Vec<(String, i32)> {
    let total: i32 = views.iter().map(|r| r.replicas).sum();
    let to_add = desired + surge - total;
    let mut sorted: Vec<&RsView> = views.iter().collect();
    sorted.sort_by(|a, b| {
        b.replicas
            .cmp(&a.replicas)
            .then(b.revision.cmp(&a.revision))
    });
    if to_add < 0 {
        sorted.sort_by(|a, b| {
            b.replicas
                .cmp(&a.replicas)
                .then(a.revision.cmp(&b.revision))
        });
    }
    let mut added = 0;
    let mut sizes: Vec<(String, i32)> = Vec::new();
    for rs in &sorted {
        let proportion = proportion(rs, desired, surge, to_add, added);
        added += proportion;
        sizes.push((rs.uid.clone(), rs.replicas + proportion));
    }
    if let Some(first) = sizes.first_mut() {
        first.1 = (first.1 + to_add - added).max(0);
    }
    sizes
}

fn proportion(rs: &RsView, desired: i32, surge: i32, to_add: i32, added: i32) -> i32 {
    if rs.replicas == 0 || to_add == 0 || to_add == added {
        return 0;
    }
    let annotated = rs.max.unwrap_or(desired + surge).max(1);
    let fraction = if desired == 0 {
        -rs.replicas
    } else {
        let scaled = f64::from(rs.replicas) * f64::from(desired + surge) / f64::from(annotated);
        scaled.round() as i32 - rs.replicas
    };
    let allowed = to_add - added;
    if to_add > 0 {
        fraction.min(allowed)
    } else {
        fraction.max(allowed)
    }
}

fn build_replicaset(
    d: &Deployment,
    hash: &str,
    uid: String,
    now: i64,
    replicas: i32,
    revision: i64,
) -> ReplicaSet {
    let name = format!("{}-{hash}", d.meta.name);
    let mut template = d.template.clone();
    template["metadata"]["labels"]["pod-template-hash"] = json!(hash);
    let labels: BTreeMap<String, String> = template["metadata"]["labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let mut selector = d.selector.clone();
    selector.insert("pod-template-hash".into(), hash.to_string());
    let mut meta = Meta::new(&d.meta.namespace, &name, uid, now);
    meta.labels = labels;
    meta.annotations = BTreeMap::from([
        (DESIRED.to_string(), d.replicas.to_string()),
        (MAX.to_string(), (d.replicas + d.surge()).to_string()),
        (REVISION.to_string(), revision.to_string()),
    ]);
    meta.owner = Some(OwnerRef {
        api_version: "apps/v1",
        kind: "Deployment",
        name: d.meta.name.clone(),
        uid: d.meta.uid.clone(),
    });
    ReplicaSet {
        meta,
        replicas,
        selector,
        template,
        hash: hash.to_string(),
        status: RsStatus::default(),
        owner_uid: d.meta.uid.clone(),
        cause: Cause::Scale(String::new()),
        debts: Default::default(),
        pods: Default::default(),
    }
}
