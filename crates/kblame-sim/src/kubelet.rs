//! The kubelet: pulls, container runs, crashes, probes, back-off, stop.

use kblame::trace::EventType;
use serde_json::Value;

use super::clock::{Ms, SECOND};
use super::config::{memory_mib, ImageProfile, ProbeConfig};
use super::fields::Writer;
use super::model::{
    Behaviour, Container, ContainerState, ExitKind, Involved, Reporter, Terminated,
};
use super::truth::{FinishedTruth, RestartTruth};
use super::world::{Commit, Step, Task, World};

/// The longest crash-loop back-off, in seconds.
const MAX_BACKOFF: i64 = 300;

impl World {
    /// The simulated profile of an image (a healthy web server unless registered otherwise).
    pub(crate) fn profile(&self, image: &str) -> ImageProfile {
        self.images
            .get(image)
            .cloned()
            .unwrap_or_else(ImageProfile::healthy)
    }

    /// The kubelet's view of the containers of a new pod.
    pub(crate) fn containers_for(&self, template_spec: &Value) -> Vec<Container> {
        let list = template_spec["containers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        list.iter().map(|c| self.container_for(c)).collect()
    }

    fn container_for(&self, spec: &Value) -> Container {
        let image = spec["image"].as_str().unwrap_or_default().to_string();
        let profile = self.profile(&image);
        let readiness = parse_probe(&spec["readinessProbe"]).map(|p| {
            let healthy = profile.healthy_paths.contains(&p.path);
            (p, healthy)
        });
        Container {
            name: spec["name"].as_str().unwrap_or_default().to_string(),
            pull_policy: if spec["imagePullPolicy"] == "Always" {
                "Always"
            } else {
                "IfNotPresent"
            },
            behaviour: behaviour(spec, &profile),
            liveness: parse_probe(&spec["livenessProbe"]),
            readiness,
            state: ContainerState::Waiting {
                reason: "ContainerCreating",
                message: None,
            },
            last: None,
            ready: false,
            started: false,
            restarts: 0,
            container_id: None,
            image_id: String::new(),
            image,
            epoch: 0,
            exits: 0,
            backoff: 0,
            probe_failures: 0,
            pull_started: 0,
            last_exit: None,
            unready_for: 0,
        }
    }

    /// The kubelet admits the pod: first status, then each container's pull.
    pub(crate) fn start_sandbox(&mut self, uid: &str) {
        let now = self.core.now;
        let Some(pod) = self.pods.get_mut(uid) else {
            return;
        };
        let Some(node) = pod.node.and_then(|n| self.nodes.get(n)) else {
            return;
        };
        if pod.meta.deleting() {
            return;
        }
        pod.kubelet_started = true;
        pod.host_ip = Some(node.ip.clone());
        pod.start_time = Some(now);
        pod.set_condition("PodReadyToStartContainers", false, now, None, None);
        pod.set_condition("Initialized", true, now, None, None);
        pod.refresh_readiness(now);
        let count = pod.containers.len();
        self.mount_config_volumes(uid);
        self.write_pod_status(uid);
        for index in 0..count {
            let delay = self.core.jitter(150, 500);
            self.queue(uid, index, delay, Step::Pull);
        }
    }

    /// Commits the pod's status as the kubelet.
    pub(crate) fn write_pod_status(&mut self, uid: &str) -> Commit {
        let Some(pod) = self.pods.get_mut(uid) else {
            return Commit::default();
        };
        let commit = self.core.commit(
            pod,
            Some(&Writer::status("kubelet")),
            None,
            EventType::Modified,
        );
        self.pod_changed(uid);
        commit
    }

    fn queue(&mut self, uid: &str, index: usize, delay: Ms, step: Step) {
        let Some(c) = self.pods.get(uid).and_then(|p| p.containers.get(index)) else {
            return;
        };
        let task = Task::Container(uid.to_string(), index, c.epoch, step);
        self.core.after(delay, task);
    }

    pub(crate) fn container_event(
        &mut self,
        uid: &str,
        index: Option<usize>,
        warning: bool,
        reason: &'static str,
        message: String,
    ) {
        let Some(pod) = self.pods.get(uid) else {
            return;
        };
        let Some(node) = pod.node_name.clone() else {
            return;
        };
        let path = index
            .and_then(|i| pod.containers.get(i))
            .map(|c| format!("spec.containers{{{}}}", c.name));
        let involved = Involved::of(pod, path);
        self.record_event(involved, Reporter::Kubelet(node), warning, reason, message);
    }

    /// Runs one kubelet step of a container, unless the pod or the run has moved on.
    pub(crate) fn container_step(&mut self, uid: &str, index: usize, epoch: u32, step: Step) {
        let Some(pod) = self.pods.get(uid) else {
            return;
        };
        let current = pod.containers.get(index).map(|c| c.epoch);
        if pod.meta.deleting() || current != Some(epoch) {
            return;
        }
        match step {
            Step::Pull => self.pull(uid, index),
            Step::Pulled => self.pulled(uid, index),
            Step::PullBackOff => self.pull_backoff(uid, index),
            Step::Start => self.start_container(uid, index),
            Step::Exit(kind) => self.container_exited(uid, index, kind),
            Step::Probe => self.probe(uid, index),
            Step::ReadinessFail(failures) => self.readiness_failed(uid, index, failures),
            Step::Ready => self.readiness_passed(uid, index),
            Step::BackOff => self.crash_backoff(uid, index),
            Step::Restart => self.restart_container(uid, index),
        }
    }

    fn container(&mut self, uid: &str, index: usize) -> Option<&mut Container> {
        self.pods
            .get_mut(uid)
            .and_then(|p| p.containers.get_mut(index))
    }

    fn pull(&mut self, uid: &str, index: usize) {
        let now = self.core.now;
        let Some(pod) = self.pods.get(uid) else {
            return;
        };
        let Some(c) = pod.containers.get(index) else {
            return;
        };
        let present = pod
            .node
            .and_then(|n| self.nodes.get(n))
            .is_some_and(|n| n.images.contains(&c.image));
        let image = c.image.clone();
        if c.pull_policy == "IfNotPresent" && present && c.behaviour != Behaviour::PullFails {
            // The node's cached digest, which stays the old one after a push.
            if let Some(node) = pod.node.filter(|_| self.image_pushed(&image)) {
                let id = self.cached_image_id(node, &image);
                let behaviour = self.digest_behaviour(uid, index, &id);
                if let Some(c) = self.container(uid, index) {
                    c.image_id = id;
                    c.behaviour = behaviour;
                }
            }
            let message = format!("Container image \"{image}\" already present on machine");
            self.container_event(uid, Some(index), false, "Pulled", message);
            let delay = self.core.jitter(80, 300);
            self.queue(uid, index, delay, Step::Start);
            return;
        }
        self.container_event(
            uid,
            Some(index),
            false,
            "Pulling",
            format!("Pulling image \"{image}\""),
        );
        let seconds = self.profile(&image).pull_seconds;
        let delay = seconds * SECOND + self.core.jitter(0, 900);
        if let Some(c) = self.container(uid, index) {
            c.pull_started = now;
        }
        self.queue(uid, index, delay, Step::Pulled);
    }

    fn pulled(&mut self, uid: &str, index: usize) {
        let now = self.core.now;
        let Some(pod) = self.pods.get_mut(uid) else {
            return;
        };
        let node = pod.node;
        let Some(c) = pod.containers.get_mut(index) else {
            return;
        };
        if c.behaviour == Behaviour::PullFails {
            self.pull_failed(uid, index);
            return;
        }
        let image = c.image.clone();
        // A pull resolves the tag at the registry: after a push, the new digest and its behaviour.
        let id = self.resolve_tag(&image);
        if self.image_pushed(&image) {
            let behaviour = self.digest_behaviour(uid, index, &id);
            if let Some(c) = self.container(uid, index) {
                c.behaviour = behaviour;
            }
        }
        let Some(c) = self.container(uid, index) else {
            return;
        };
        c.image_id = id.clone();
        let took = (now - c.pull_started) as f64 / 1000.0;
        if let Some(node) = node {
            self.cache_image(node, &image, &id);
        }
        if let Some(node) = node.and_then(|n| self.nodes.get_mut(n)) {
            node.images.insert(image.clone());
        }
        let size = self.profile(&image).size_bytes;
        let message = format!(
            "Successfully pulled image \"{image}\" in {took:.3}s ({took:.3}s including waiting). Image size: {size} bytes."
        );
        self.container_event(uid, Some(index), false, "Pulled", message);
        let delay = self.core.jitter(60, 250);
        self.queue(uid, index, delay, Step::Start);
    }

    fn pull_failed(&mut self, uid: &str, index: usize) {
        let Some(c) = self.container(uid, index) else {
            return;
        };
        let error = pull_error(&c.image);
        let image = c.image.clone();
        c.state = ContainerState::Waiting {
            reason: "ErrImagePull",
            message: Some(error.clone()),
        };
        let message = format!("Failed to pull image \"{image}\": {error}");
        self.container_event(uid, Some(index), true, "Failed", message);
        self.container_event(
            uid,
            Some(index),
            true,
            "Failed",
            "Error: ErrImagePull".into(),
        );
        self.write_pod_status(uid);
        let delay = self.core.jitter(700, 1800);
        self.queue(uid, index, delay, Step::PullBackOff);
    }

    fn pull_backoff(&mut self, uid: &str, index: usize) {
        let Some(c) = self.container(uid, index) else {
            return;
        };
        let backoff = next_backoff(&mut c.backoff);
        let image = c.image.clone();
        let message = format!(
            "Back-off pulling image \"{image}\": ErrImagePull: {}",
            pull_error(&image)
        );
        c.state = ContainerState::Waiting {
            reason: "ImagePullBackOff",
            message: Some(message),
        };
        self.write_pod_status(uid);
        self.container_event(
            uid,
            Some(index),
            false,
            "BackOff",
            format!("Back-off pulling image \"{image}\""),
        );
        self.container_event(
            uid,
            Some(index),
            true,
            "Failed",
            "Error: ImagePullBackOff".into(),
        );
        self.queue(uid, index, backoff * SECOND, Step::Pull);
    }

    fn start_container(&mut self, uid: &str, index: usize) {
        let now = self.core.now;
        let id = format!("containerd://{}", self.core.rng.hex(64));
        let Some(pod) = self.pods.get_mut(uid) else {
            return;
        };
        let node_ip = pod.node.and_then(|n| self.nodes.get_mut(n)).map(|n| {
            n.next_ip += 1;
            format!("10.244.{}.{}", n.index + 1, n.next_ip)
        });
        if pod.pod_ip.is_none() {
            pod.pod_ip = node_ip;
        }
        let Some(c) = pod.containers.get_mut(index) else {
            return;
        };
        c.epoch += 1;
        c.container_id = Some(id);
        c.state = ContainerState::Running { started_at: now };
        c.started = true;
        c.ready = c.readiness.is_none();
        c.probe_failures = 0;
        if c.image_id.is_empty() {
            c.image_id = image_id(&c.image);
        }
        let (name, behaviour) = (c.name.clone(), c.behaviour);
        let (liveness, readiness) = (c.liveness.clone(), c.readiness.clone());
        pod.set_condition("PodReadyToStartContainers", true, now, None, None);
        pod.phase = "Running";
        pod.refresh_readiness(now);
        self.container_event(
            uid,
            Some(index),
            false,
            "Created",
            format!("Created container {name}"),
        );
        self.container_event(
            uid,
            Some(index),
            false,
            "Started",
            format!("Started container {name}"),
        );
        let commit = self.write_pod_status(uid);
        self.note_digest_started(uid, index, &commit);
        let behaviour = self.run_behaviour(uid, index, behaviour);
        self.plan_run(uid, index, behaviour, liveness, readiness);
    }

    /// Queues what will happen to a container run: its exit, failing probes or readiness.
    fn plan_run(
        &mut self,
        uid: &str,
        index: usize,
        behaviour: Behaviour,
        liveness: Option<ProbeConfig>,
        readiness: Option<(ProbeConfig, bool)>,
    ) {
        match behaviour {
            Behaviour::Crashes { after, code } => {
                let delay = after * SECOND + self.core.jitter(0, 800);
                self.queue(uid, index, delay, Step::Exit(ExitKind::Crashed(code)));
            }
            Behaviour::OomKilled { after } => {
                let delay = after * SECOND + self.core.jitter(0, 800);
                self.queue(uid, index, delay, Step::Exit(ExitKind::OomKilled));
            }
            Behaviour::LivenessFails => {
                let probe = liveness.unwrap_or_else(|| ProbeConfig::http("/", 80));
                let delay = probe.initial_delay_seconds.max(1) * SECOND + self.core.jitter(0, 900);
                self.queue(uid, index, delay, Step::Probe);
            }
            Behaviour::Healthy | Behaviour::PullFails => {}
        }
        if let Some((probe, true)) = readiness {
            let delay = probe.initial_delay_seconds.max(1) * SECOND + self.core.jitter(0, 900);
            self.queue(uid, index, delay, Step::Ready);
        }
    }

    fn container_exited(&mut self, uid: &str, index: usize, kind: ExitKind) {
        let now = self.core.now;
        let Some(pod) = self.pods.get_mut(uid) else {
            return;
        };
        let Some(c) = pod.containers.get_mut(index) else {
            return;
        };
        let ContainerState::Running { started_at } = c.state else {
            return;
        };
        let (reason, exit_code) = kind.status();
        c.state = ContainerState::Terminated(Terminated {
            exit_code,
            reason,
            started_at,
            finished_at: now,
            container_id: c.container_id.clone().unwrap_or_default(),
        });
        c.ready = false;
        c.started = false;
        c.exits += 1;
        c.epoch += 1;
        let first = c.exits == 1;
        pod.refresh_readiness(now);
        if pod.spec["restartPolicy"] == "Never" {
            self.pod_finished(uid);
            return;
        }
        let commit = self.write_pod_status(uid);
        self.note_hidden(uid, &commit);
        if let Some(c) = self.container(uid, index) {
            c.last_exit = Some((kind, commit.ts, commit.recorded));
        }
        let (step, delay) = if first {
            (Step::Restart, self.core.jitter(700, 1500))
        } else {
            (Step::BackOff, self.core.jitter(300, 900))
        };
        self.queue(uid, index, delay, step);
    }

    fn crash_backoff(&mut self, uid: &str, index: usize) {
        let Some(pod) = self.pods.get_mut(uid) else {
            return;
        };
        let pod_ref = format!("{}_{}({})", pod.meta.name, pod.meta.namespace, pod.meta.uid);
        let Some(c) = pod.containers.get_mut(index) else {
            return;
        };
        let backoff = next_backoff(&mut c.backoff);
        if let ContainerState::Terminated(t) = &c.state {
            c.last = Some(t.clone());
        }
        let name = c.name.clone();
        let message =
            format!("back-off {backoff}s restarting failed container={name} pod={pod_ref}");
        c.state = ContainerState::Waiting {
            reason: "CrashLoopBackOff",
            message: Some(message),
        };
        self.write_pod_status(uid);
        let message = format!("Back-off restarting failed container {name} in pod {pod_ref}");
        self.container_event(uid, Some(index), true, "BackOff", message);
        self.queue(uid, index, backoff * SECOND, Step::Restart);
    }

    fn restart_container(&mut self, uid: &str, index: usize) {
        let Some(pod) = self.pods.get_mut(uid) else {
            return;
        };
        let truth = pod.truth;
        let Some(c) = pod.containers.get_mut(index) else {
            return;
        };
        if let ContainerState::Terminated(t) = &c.state {
            c.last = Some(t.clone());
        }
        c.restarts += 1;
        if let Some((kind, at, recorded)) = c.last_exit {
            let (_, exit_code) = kind.status();
            let time = Commit {
                ts: at,
                recorded,
                ..Commit::default()
            }
            .truth_time();
            let restart = RestartTruth {
                container: c.name.clone(),
                reason: kind.truth_reason().into(),
                exit_code,
                time,
            };
            if let Some(entry) = self.book.pods.get_mut(truth) {
                entry.0.restarts.push(restart);
            }
        }
        self.pull(uid, index);
    }

    fn probe(&mut self, uid: &str, index: usize) {
        let Some(c) = self.container(uid, index) else {
            return;
        };
        if !c.running() {
            return;
        }
        c.probe_failures += 1;
        let probe = c
            .liveness
            .clone()
            .unwrap_or_else(|| ProbeConfig::http("/", 80));
        let (failures, name) = (c.probe_failures, c.name.clone());
        let message = "Liveness probe failed: HTTP probe failed with statuscode: 404".to_string();
        self.container_event(uid, Some(index), true, "Unhealthy", message);
        if failures >= probe.failure_threshold {
            let message = format!("Container {name} failed liveness probe, will be restarted");
            self.container_event(uid, Some(index), false, "Killing", message);
            let delay = self.core.jitter(300, 1500);
            self.queue(uid, index, delay, Step::Exit(ExitKind::Liveness));
        } else {
            self.queue(uid, index, probe.period_seconds * SECOND, Step::Probe);
        }
    }

    fn readiness_passed(&mut self, uid: &str, index: usize) {
        let now = self.core.now;
        let Some(pod) = self.pods.get_mut(uid) else {
            return;
        };
        let Some(c) = pod.containers.get_mut(index) else {
            return;
        };
        if !c.running() || c.ready {
            return;
        }
        c.ready = true;
        pod.refresh_readiness(now);
        self.write_pod_status(uid);
    }

    /// A deleted pod's containers get SIGTERM.
    pub(crate) fn terminate_pod(&mut self, uid: &str) {
        let Some(pod) = self.pods.get_mut(uid) else {
            return;
        };
        if !pod.kubelet_started {
            let delay = self.core.jitter(30, 200);
            self.core.after(delay, Task::Remove(uid.to_string()));
            return;
        }
        let running: Vec<(usize, String)> = pod
            .containers
            .iter()
            .enumerate()
            .filter(|(_, c)| c.running())
            .map(|(i, c)| (i, c.name.clone()))
            .collect();
        for c in &mut pod.containers {
            c.epoch += 1;
        }
        for (index, name) in running {
            self.container_event(
                uid,
                Some(index),
                false,
                "Killing",
                format!("Stopping container {name}"),
            );
        }
        let delay = self.core.jitter(200, 1200);
        self.core.after(delay, Task::Stopped(uid.to_string()));
    }

    /// The containers of a deleted or evicted pod have exited; the kubelet reports the terminal
    /// phase. A deleted pod is then removed; an evicted one stays until the pod GC removes it.
    pub(crate) fn pod_stopped(&mut self, uid: &str) {
        let Some(clean) = self.stop_containers(uid) else {
            return;
        };
        if self.pods.get(uid).is_some_and(|p| p.eviction.is_some()) {
            self.finish_eviction(uid);
            return;
        }
        let now = self.core.now;
        let Some(pod) = self.pods.get_mut(uid) else {
            return;
        };
        pod.phase = if clean { "Succeeded" } else { "Failed" };
        let reason = if clean { "PodCompleted" } else { "PodFailed" };
        pod.set_condition("PodReadyToStartContainers", false, now, None, None);
        pod.set_condition("Ready", false, now, Some(reason), None);
        pod.set_condition("ContainersReady", false, now, Some(reason), None);
        pod.ready_since = None;
        self.write_pod_status(uid);
        let delay = self.core.jitter(40, 300);
        self.core.after(delay, Task::Remove(uid.to_string()));
    }

    /// Marks the running containers terminated with their SIGTERM exit codes; returns whether
    /// every container exited 0 (`None` if the pod is gone).
    fn stop_containers(&mut self, uid: &str) -> Option<bool> {
        let now = self.core.now;
        let exits: Vec<i32> = match self.pods.get(uid) {
            Some(pod) => pod
                .containers
                .iter()
                .map(|c| self.profile(&c.image).sigterm_exit)
                .collect(),
            None => return None,
        };
        let pod = self.pods.get_mut(uid)?;
        let mut clean = true;
        for (c, code) in pod.containers.iter_mut().zip(exits) {
            if let ContainerState::Running { started_at } = c.state {
                let reason = if code == 0 { "Completed" } else { "Error" };
                let id = c.container_id.clone().unwrap_or_default();
                c.state = ContainerState::Terminated(Terminated {
                    exit_code: code,
                    reason,
                    started_at,
                    finished_at: now,
                    container_id: id,
                });
                clean &= code == 0;
            } else {
                clean = false;
            }
            c.ready = false;
            c.started = false;
        }
        Some(clean)
    }

    /// A container of a `restartPolicy: Never` pod exited: it is not restarted, and once every
    /// container has terminated the pod is `Succeeded` (all exited 0) or `Failed`, its Ready and
    /// ContainersReady `PodCompleted` (`getPhase` and `generateAPIPodStatus` in the kubelet).
    fn pod_finished(&mut self, uid: &str) {
        let now = self.core.now;
        let Some(pod) = self.pods.get_mut(uid) else {
            return;
        };
        let codes: Option<Vec<i32>> = pod
            .containers
            .iter()
            .map(|c| match &c.state {
                ContainerState::Terminated(t) => Some(t.exit_code),
                _ => None,
            })
            .collect();
        if let Some(codes) = codes {
            pod.phase = if codes.iter().all(|c| *c == 0) {
                "Succeeded"
            } else {
                "Failed"
            };
            pod.set_condition("PodReadyToStartContainers", false, now, None, None);
            pod.set_condition("Ready", false, now, Some("PodCompleted"), None);
            pod.set_condition("ContainersReady", false, now, Some("PodCompleted"), None);
        }
        let finished = pod.is_terminal().then(|| {
            let last = pod.containers.iter().rev().find_map(|c| match &c.state {
                ContainerState::Terminated(t) => Some((t.reason, t.exit_code)),
                _ => None,
            });
            let (reason, exit_code) = last.unwrap_or_default();
            (pod.phase, reason, exit_code, pod.truth)
        });
        let commit = self.write_pod_status(uid);
        self.note_hidden(uid, &commit);
        if let Some((phase, reason, exit_code, truth)) = finished {
            if let Some(entry) = self.book.pods.get_mut(truth) {
                entry.0.finished = Some(FinishedTruth {
                    phase: phase.into(),
                    reason: reason.into(),
                    exit_code,
                    time: commit.truth_time(),
                });
            }
        }
    }

    /// The kubelet's final delete (grace period 0): the pod is gone.
    pub(crate) fn remove_pod(&mut self, uid: &str) {
        let Some(mut pod) = self.pods.remove(uid) else {
            return;
        };
        if pod.meta.deleting() {
            pod.meta.grace = Some(0);
        }
        self.core.commit(&mut pod, None, None, EventType::Deleted);
        if let Some(node) = pod.node.and_then(|n| self.nodes.get_mut(n)) {
            node.pods = node.pods.saturating_sub(1);
        }
        self.pod_gone(&pod.rs_uid, uid);
    }
}

fn next_backoff(current: &mut i64) -> i64 {
    let backoff = if *current == 0 { 10 } else { *current };
    *current = (backoff * 2).min(MAX_BACKOFF);
    backoff
}

fn parse_probe(value: &Value) -> Option<ProbeConfig> {
    let get = |key: &str, default: i64| value.get(key).and_then(Value::as_i64).unwrap_or(default);
    let http = value.get("httpGet")?;
    Some(ProbeConfig {
        path: http
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or("/")
            .to_string(),
        port: http.get("port").and_then(Value::as_u64).unwrap_or(80) as u16,
        initial_delay_seconds: get("initialDelaySeconds", 0),
        period_seconds: get("periodSeconds", 10),
        failure_threshold: get("failureThreshold", 3),
    })
}

/// What a container will do, from its image profile, memory limit and liveness probe.
pub(crate) fn behaviour(spec: &Value, profile: &ImageProfile) -> Behaviour {
    if !profile.exists {
        return Behaviour::PullFails;
    }
    if let Some((after, code)) = profile.exits_after {
        return Behaviour::Crashes { after, code };
    }
    let limit = spec["resources"]["limits"]["memory"]
        .as_str()
        .and_then(memory_mib);
    if limit.is_some_and(|mib| mib < profile.memory_mib) {
        return Behaviour::OomKilled {
            after: profile.warmup_seconds,
        };
    }
    let probe = parse_probe(&spec["livenessProbe"]);
    if probe.is_some_and(|p| !profile.healthy_paths.contains(&p.path)) {
        return Behaviour::LivenessFails;
    }
    Behaviour::Healthy
}

/// The image ID of an image never pushed during the simulation.
fn image_id(image: &str) -> String {
    super::image_tags::image_id_at(image, 0)
}

fn pull_error(image: &str) -> String {
    let full = super::model::normalize_image(image);
    format!(
        "rpc error: code = NotFound desc = failed to pull and unpack image \"{full}\": failed to resolve reference \"{full}\": {full}: not found"
    )
}
