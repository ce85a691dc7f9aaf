//! What keeps a big cluster busy between rollouts, all off unless asked for (the fixtures use
//! none of it): the client-go event spam filter, HPA metrics that move every sample, readiness
//! probes that fail for a while, containers that crash once, and agents that keep their own
//! pod's annotations current.

use std::collections::BTreeMap;

use kblame::trace::EventType;

use super::clock::{Ms, MINUTE, SECOND};
use super::fields::Writer;
use super::model::{Container, ContainerState, ExitKind, Reporter};
use super::rng::fnv64a;
use super::world::{Step, Task, World};

/// How often metrics-server has a new CPU sample for an HPA.
const METRIC_RESOLUTION: Ms = MINUTE;

/// Churn settings and state.
#[derive(Debug, Default)]
pub(crate) struct Churn {
    /// The spam filter: burst and the time one token takes to come back.
    spam_filter: Option<(i64, Ms)>,
    /// The spam filter's buckets by reporter and involved object: tokens (in `refill` units of
    /// time) and when they were counted.
    buckets: BTreeMap<String, (i64, Ms)>,
    /// How many percentage points a CPU sample strays from the load, at most.
    pub(crate) metric_jitter: i32,
}

impl World {
    /// Turns on the kubelet's and controllers' event spam filter (client-go's
    /// `EventSourceObjectSpamFilter`): per reporter and involved object, `burst` Events, then one
    /// more each `refill`.
    pub(crate) fn set_spam_filter(&mut self, burst: u32, refill: Ms) {
        self.churn.spam_filter = Some((i64::from(burst), refill.max(1)));
    }

    /// Whether the spam filter lets an Event of `reporter` about `uid` through now.
    pub(crate) fn event_allowed(&mut self, reporter: &Reporter, uid: &str) -> bool {
        let Some((burst, refill)) = self.churn.spam_filter else {
            return true;
        };
        let now = self.core.now;
        let source = match reporter {
            Reporter::Kubelet(node) => node.as_str(),
            Reporter::Controller(name) => name,
            Reporter::Scheduler => "default-scheduler",
        };
        let full = burst * refill;
        let key = format!("{source}|{uid}");
        let bucket = self.churn.buckets.entry(key).or_insert((full, now));
        let tokens = (bucket.0 + (now - bucket.1)).min(full);
        let allowed = tokens >= refill;
        *bucket = (if allowed { tokens - refill } else { tokens }, now);
        allowed
    }

    /// The CPU utilization an HPA reads now: `utilization`, moved by up to the metric jitter,
    /// with a new sample each minute.
    pub(crate) fn sampled_utilization(&self, hpa_uid: &str, utilization: i32) -> i32 {
        let jitter = i64::from(self.churn.metric_jitter);
        if jitter <= 0 {
            return utilization;
        }
        let sample = self.core.now / METRIC_RESOLUTION;
        let hash = fnv64a(format!("{hpa_uid}/{sample}").as_bytes());
        let offset = (hash % (2 * jitter as u64 + 1)) as i64 - jitter;
        (i64::from(utilization) + offset).max(0) as i32
    }

    /// Container `index` of pod `uid`, unless the pod is gone or being deleted.
    fn live_container(&mut self, uid: &str, index: usize) -> Option<&mut Container> {
        self.pods
            .get_mut(uid)
            .filter(|p| !p.meta.deleting())
            .and_then(|p| p.containers.get_mut(index))
    }

    /// The readiness probe of container `index` of a ready pod starts failing: after
    /// `failureThreshold` failures (an `Unhealthy` Event each) the pod is not ready, and
    /// `recover_after` later the probe passes again.
    pub(crate) fn fail_readiness(&mut self, uid: &str, index: usize, recover_after: Ms) {
        let delay = self.core.jitter(100, 4_000);
        let Some(c) = self.live_container(uid, index) else {
            return;
        };
        if !c.running() || !c.ready || c.readiness.is_none() {
            return;
        }
        c.unready_for = recover_after;
        let task = Task::Container(uid.to_string(), index, c.epoch, Step::ReadinessFail(1));
        self.core.after(delay, task);
    }

    /// One failed readiness probe (the `failures`th in a row).
    pub(crate) fn readiness_failed(&mut self, uid: &str, index: usize, failures: i64) {
        let now = self.core.now;
        let Some(pod) = self.pods.get_mut(uid) else {
            return;
        };
        let Some(c) = pod.containers.get_mut(index) else {
            return;
        };
        let Some((probe, _)) = c.readiness.clone() else {
            return;
        };
        if !c.running() {
            return;
        }
        let (epoch, recover) = (c.epoch, c.unready_for);
        let message = "Readiness probe failed: HTTP probe failed with statuscode: 503".to_string();
        self.container_event(uid, Some(index), true, "Unhealthy", message);
        if failures < probe.failure_threshold {
            let task = Task::Container(uid.into(), index, epoch, Step::ReadinessFail(failures + 1));
            self.core.after(probe.period_seconds * SECOND, task);
            return;
        }
        let Some(pod) = self.pods.get_mut(uid) else {
            return;
        };
        match pod.containers.get_mut(index) {
            Some(c) if c.ready => c.ready = false,
            // Another failing streak made it unready already; that one brings it back.
            _ => return,
        }
        pod.refresh_readiness(now);
        self.write_pod_status(uid);
        let task = Task::Container(uid.to_string(), index, epoch, Step::Ready);
        self.core
            .after(recover.max(probe.period_seconds * SECOND), task);
    }

    /// Container `index` of a running pod exits by itself once (`code`, or OOM-killed when
    /// `None`). A container that ran ten minutes or more restarts without back-off, as the
    /// kubelet forgets back-off after ten minutes of running.
    pub(crate) fn crash_container(&mut self, uid: &str, index: usize, code: Option<i32>) {
        let now = self.core.now;
        let delay = self.core.jitter(50, 900);
        let Some(c) = self.live_container(uid, index) else {
            return;
        };
        let ContainerState::Running { started_at } = c.state else {
            return;
        };
        if now - started_at >= 10 * MINUTE {
            c.exits = 0;
            c.backoff = 0;
        }
        let kind = code.map_or(ExitKind::OomKilled, ExitKind::Crashed);
        let task = Task::Container(uid.to_string(), index, c.epoch, Step::Exit(kind));
        self.core.after(delay, task);
    }

    /// An agent in the pod (as Patroni does) writes `value` into the pod's annotation `key`
    /// with its own field manager.
    pub(crate) fn annotate_pod(&mut self, uid: &str, manager: &str, key: &str, value: &str) {
        let Some(pod) = self.pods.get_mut(uid).filter(|p| !p.meta.deleting()) else {
            return;
        };
        if pod.meta.annotations.get(key).map(String::as_str) == Some(value) {
            return;
        }
        pod.meta
            .annotations
            .insert(key.to_string(), value.to_string());
        let writer = Writer::update(manager);
        self.core
            .commit(pod, Some(&writer), None, EventType::Modified);
    }
}
