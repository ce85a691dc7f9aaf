//! The horizontal pod autoscaler: every 15 s it compares CPU utilization with its target and
//! scales the Deployment through the scale subresource.

use std::collections::BTreeMap;

use kblame::trace::EventType;

use super::clock::SECOND;
use super::config::HpaConfig;
use super::fields::Writer;
use super::model::{set_condition, Hpa, HpaStatus, Involved, Meta, Reporter};
use super::world::{Task, World};

const MANAGER: &str = "kube-controller-manager";
const SYNC_PERIOD: i64 = 15 * SECOND;

impl World {
    /// Creates an HPA as `kubectl apply` would, and starts its sync loop.
    pub(crate) fn create_hpa(&mut self, config: &HpaConfig) {
        let uid = self.uid();
        let mut meta = Meta::new(&config.namespace, &config.name, uid.clone(), self.core.now);
        meta.annotations = BTreeMap::from([(
            "kubectl.kubernetes.io/last-applied-configuration".to_string(),
            hpa_manifest(config),
        )]);
        let mut hpa = Hpa {
            meta,
            target: config.target.clone(),
            min: config.min_replicas,
            max: config.max_replicas,
            target_utilization: config.cpu_utilization,
            status: HpaStatus::default(),
            demand: 0,
        };
        if let Some(d) = self.find_deployment(&config.namespace, &config.target) {
            let replicas = self.deployments[&d].replicas;
            hpa.demand = i64::from(config.cpu_utilization) * i64::from(replicas) * 8 / 10;
        }
        let writer = Writer::update("kubectl-client-side-apply");
        self.core
            .commit(&mut hpa, Some(&writer), None, EventType::Added);
        self.hpas.insert(uid.clone(), hpa);
        self.core.after(SYNC_PERIOD, Task::Autoscale(uid));
    }

    /// Sets the total CPU demand so that each of the current replicas runs at `utilization` %.
    pub(crate) fn set_cpu_load(&mut self, namespace: &str, name: &str, utilization: i32) {
        let Some(uid) = self
            .hpas
            .values()
            .find(|h| h.meta.namespace == namespace && h.meta.name == name)
            .map(|h| h.meta.uid.clone())
        else {
            return;
        };
        let replicas = self
            .hpa_target(&uid)
            .map_or(1, |d| self.deployments[&d].replicas);
        if let Some(hpa) = self.hpas.get_mut(&uid) {
            hpa.demand = i64::from(utilization) * i64::from(replicas.max(1));
        }
    }

    fn hpa_target(&self, uid: &str) -> Option<String> {
        let hpa = self.hpas.get(uid)?;
        self.find_deployment(&hpa.meta.namespace, &hpa.target)
    }

    /// One HPA sync: compute the desired count, scale if needed, write status.
    pub(crate) fn autoscale(&mut self, uid: &str) {
        self.core
            .after(SYNC_PERIOD, Task::Autoscale(uid.to_string()));
        let Some(target) = self.hpa_target(uid) else {
            return;
        };
        let current = self.deployments[&target].replicas;
        let Some(hpa) = self.hpas.get(uid) else {
            return;
        };
        let utilization = (hpa.demand / i64::from(current.max(1))) as i32;
        let ratio = f64::from(utilization) / f64::from(hpa.target_utilization.max(1));
        let desired = if (ratio - 1.0).abs() <= 0.1 {
            current
        } else {
            ((f64::from(current) * ratio).ceil() as i32).clamp(hpa.min, hpa.max)
        };
        if desired != current {
            self.hpa_scale(uid, &target, current, desired);
        }
        // Scaling follows the load; the status shows the sample (which the stabilization window
        // smooths away), so only the status moves with the metric jitter.
        let sampled = self.sampled_utilization(uid, utilization);
        self.write_hpa_status(uid, current, desired, sampled);
    }

    fn hpa_scale(&mut self, uid: &str, target: &str, current: i32, desired: i32) {
        let Some(d) = self.deployments.get_mut(target) else {
            return;
        };
        d.replicas = desired;
        d.scaler = MANAGER.to_string();
        self.core
            .commit(d, Some(&Writer::scale(MANAGER)), None, EventType::Modified);
        self.core.soon(Task::SyncDeployment(target.to_string()));
        let Some(hpa) = self.hpas.get_mut(uid) else {
            return;
        };
        hpa.status.last_scale = Some(self.core.now);
        let direction = if desired > current { "above" } else { "below" };
        let message = format!("New size: {desired}; reason: cpu resource utilization (percentage of request) {direction} target");
        let involved = Involved::of(&*hpa, None);
        self.record_event(
            involved,
            Reporter::Controller("horizontal-pod-autoscaler"),
            false,
            "SuccessfulRescale",
            message,
        );
    }

    fn write_hpa_status(&mut self, uid: &str, current: i32, desired: i32, utilization: i32) {
        let scaled = desired != current;
        let mut conditions = self
            .hpas
            .get(uid)
            .map(|h| h.status.conditions.clone())
            .unwrap_or_default();
        let able = if scaled {
            self.hpa_condition(
                "AbleToScale",
                true,
                "SucceededRescale",
                format!("the HPA controller was able to update the target scale to {desired}"),
            )
        } else {
            self.hpa_condition(
                "AbleToScale",
                true,
                "ReadyForNewScale",
                "recommended size matches current size".into(),
            )
        };
        set_condition(&mut conditions, able);
        let active = self.hpa_condition("ScalingActive", true, "ValidMetricFound", "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)".into());
        set_condition(&mut conditions, active);
        let limited = self.hpa_condition(
            "ScalingLimited",
            false,
            "DesiredWithinRange",
            "the desired count is within the acceptable range".into(),
        );
        set_condition(&mut conditions, limited);
        let Some(hpa) = self.hpas.get_mut(uid) else {
            return;
        };
        let status = HpaStatus {
            current,
            desired,
            utilization: Some(utilization),
            last_scale: hpa.status.last_scale,
            conditions,
        };
        if status == hpa.status {
            return;
        }
        hpa.status = status;
        self.core.commit(
            hpa,
            Some(&Writer::status(MANAGER)),
            None,
            EventType::Modified,
        );
    }

    fn hpa_condition(
        &self,
        kind: &'static str,
        status: bool,
        reason: &'static str,
        message: String,
    ) -> super::model::Condition {
        let mut condition = self.condition(kind, status, reason, message);
        condition.last_update = None;
        condition
    }
}

fn hpa_manifest(config: &HpaConfig) -> String {
    let manifest = serde_json::json!({
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": config.name, "namespace": config.namespace},
        "spec": {
            "maxReplicas": config.max_replicas,
            "metrics": [{"resource": {"name": "cpu", "target": {"averageUtilization": config.cpu_utilization, "type": "Utilization"}}, "type": "Resource"}],
            "minReplicas": config.min_replicas,
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": config.target}
        }
    });
    let mut text = String::new();
    super::rng::write_canonical(&manifest, &mut text);
    text.push('\n');
    text
}
