//! How a pod's containers read ConfigMaps, after the kubelet of Kubernetes v1.31, and an app
//! that cannot run with a bad value (issue 12).
//!
//! * A ConfigMap volume is written when the pod's volumes are set up, before its containers
//!   start, and rewritten in place at the pod's next periodic sync after the ConfigMap changes:
//!   the configmap plugin's `RequiresRemount()` is true, so every `SyncPod`
//!   (`pkg/kubelet/kubelet.go`, run for each pod every `syncFrequency`, 1 min, from
//!   `syncLoopIteration`'s `syncCh` through `HandlePodSyncs`) makes `WaitForAttachAndMount`
//!   (`pkg/kubelet/volumemanager/volume_manager.go`) remount it, and `configMapVolumeMounter.SetUpAt`
//!   (`pkg/volume/configmap/configmap.go`) writes `makePayload`'s files with the `AtomicWriter`.
//!   The data comes from the kubelet's ConfigMap manager (watch-based cache, adding a short
//!   propagation delay). Here each pod's next sync comes after a delay drawn from the seeded rng
//!   in [`SYNC_DELAY`].
//! * `envFrom` and `env[].valueFrom` are read once, when the container is created
//!   (`kubelet_pods.go` `makeEnvironmentVariables`, through `configMapManager.GetConfigMap`),
//!   and so is a `subPath` mount (a bind mount of one file made by `makeMounts`, which the
//!   AtomicWriter's symlink swap never reaches): a running container never sees a change
//!   through them. A `subPath` mount shows the file as the kubelet last wrote the volume when
//!   the container started (kubernetes.io docs, ConfigMaps: "A container using a ConfigMap as a
//!   subPath volume mount will not receive ConfigMap updates"; the same holds for Secrets).
//! * Secrets behave the same: a Secret volume is written and rewritten like a ConfigMap volume
//!   (`pkg/volume/secret/secret.go` `secretVolumeMounter.SetUpAt`), and `envFrom[].secretRef` /
//!   `env[].valueFrom.secretKeyRef` are read at container start.
//! * An image with [`ImageProfile::rejects`] set exits 1 [`CRASH_SECONDS`] after it starts with
//!   the bad value in any ConfigMap it reads, or after it reloads a volume the kubelet rewrote
//!   with it; the kubelet then restarts it with back-off, so it crash-loops with no new revision.

use std::collections::BTreeMap;

use serde_json::Value;

use super::clock::{Ms, SECOND};
use super::model::{Behaviour, ContainerState, ExitKind};
use super::truth::{CauseTruth, PodCausesTruth};
use super::world::{Commit, Step, Task, World};

#[cfg(doc)]
use super::config::ImageProfile;

/// How long after a ConfigMap change a pod's next sync rewrites its volume, in ms: somewhere in
/// the 1 min sync period, plus the ConfigMap cache's propagation.
pub(crate) const SYNC_DELAY: (Ms, Ms) = (8 * SECOND, 70 * SECOND);

/// Seconds after a start or reload with a bad value until the app exits 1.
pub(crate) const CRASH_SECONDS: i64 = 2;

/// What the kubelet wrote into ConfigMap volumes, and the ConfigMap changes made.
#[derive(Debug, Default)]
pub(crate) struct ConfigReads {
    /// Per pod UID, per volume: the ConfigMap data the kubelet last wrote into it.
    mounted: BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>>,
    /// The last data change of each ConfigMap or Secret by namespace: its truth and commit time.
    changes: BTreeMap<(String, Source), (CauseTruth, Ms)>,
    /// Known causes by the pod's ground-truth index.
    causes: BTreeMap<usize, PodCausesTruth>,
}

/// Where a container reads configuration from: a ConfigMap or a Secret of the pod's namespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Source {
    /// `ConfigMap` or `Secret`.
    pub(crate) kind: &'static str,
    /// Its name.
    pub(crate) name: String,
}

impl Source {
    /// The ConfigMap `name`.
    pub(crate) fn configmap(name: &str) -> Source {
        Source {
            kind: "ConfigMap",
            name: name.to_string(),
        }
    }

    /// The Secret `name`.
    pub(crate) fn secret(name: &str) -> Source {
        Source {
            kind: "Secret",
            name: name.to_string(),
        }
    }
}

/// A pod's ConfigMap and Secret volumes: volume name → source.
fn config_volumes(spec: &Value) -> BTreeMap<String, Source> {
    spec["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| {
            let volume = v["name"].as_str()?.to_string();
            match (
                v["configMap"]["name"].as_str(),
                v["secret"]["secretName"].as_str(),
            ) {
                (Some(c), _) => Some((volume, Source::configmap(c))),
                (None, Some(s)) => Some((volume, Source::secret(s))),
                (None, None) => None,
            }
        })
        .collect()
}

/// The volumes a container mounts with `subPath`, and the file each shows.
fn sub_path_mounts(container: &Value) -> Vec<(String, String)> {
    container["volumeMounts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| Some((m["name"].as_str()?, m["subPath"].as_str()?)))
        .map(|(v, k)| (v.to_string(), k.to_string()))
        .collect()
}

/// The volumes a container mounts without `subPath`.
fn live_mounts(container: &Value) -> Vec<String> {
    container["volumeMounts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m.get("subPath").is_none())
        .filter_map(|m| m["name"].as_str().map(str::to_string))
        .collect()
}

/// The ConfigMaps and Secrets a container reads through its environment (`envFrom`,
/// `env[].valueFrom`).
fn env_sources(container: &Value) -> Vec<Source> {
    let list = |field: &str| container[field].as_array().into_iter().flatten();
    let from = list("envFrom").filter_map(|e| {
        let configmap = e["configMapRef"]["name"].as_str().map(Source::configmap);
        configmap.or_else(|| e["secretRef"]["name"].as_str().map(Source::secret))
    });
    let keys = list("env").filter_map(|e| {
        let from = &e["valueFrom"];
        let configmap = from["configMapKeyRef"]["name"]
            .as_str()
            .map(Source::configmap);
        configmap.or_else(|| from["secretKeyRef"]["name"].as_str().map(Source::secret))
    });
    from.chain(keys).collect()
}

impl World {
    fn source_data(&self, namespace: &str, source: &Source) -> BTreeMap<String, String> {
        let name = source.name.as_str();
        match source.kind {
            "Secret" => self
                .secrets
                .values()
                .find(|s| s.meta.namespace == namespace && s.meta.name == name)
                .map(|s| s.data.clone()),
            _ => self
                .configmaps
                .values()
                .find(|c| c.meta.namespace == namespace && c.meta.name == name)
                .map(|c| c.data.clone()),
        }
        .unwrap_or_default()
    }

    /// Whether the app of `image` cannot run with `data`.
    fn rejects(&self, image: &str, data: &BTreeMap<String, String>) -> bool {
        self.profile(image)
            .rejects
            .is_some_and(|(key, value)| data.get(&key) == Some(&value))
    }

    /// The volume setup before a pod's containers start: every ConfigMap or Secret volume gets
    /// its source's current data.
    pub(crate) fn mount_config_volumes(&mut self, uid: &str) {
        let Some(pod) = self.pods.get(uid) else {
            return;
        };
        let namespace = pod.meta.namespace.clone();
        let volumes = config_volumes(&pod.spec);
        if volumes.is_empty() {
            return;
        }
        let written = volumes
            .into_iter()
            .map(|(volume, source)| (volume, self.source_data(&namespace, &source)))
            .collect();
        self.config_reads.mounted.insert(uid.to_string(), written);
    }

    /// A ConfigMap's data changed in `commit` by `manager`: see [`World::source_changed`].
    pub(crate) fn configmap_changed(
        &mut self,
        namespace: &str,
        name: &str,
        manager: &str,
        commit: &Commit,
    ) {
        self.source_changed(namespace, &Source::configmap(name), manager, commit);
    }

    /// A ConfigMap's or Secret's data changed in `commit` by `manager`: remember it, and queue
    /// the next sync of every started pod that has it as a volume (however it is mounted: the
    /// kubelet rewrites the volume; only containers mounting it without `subPath` see that).
    pub(crate) fn source_changed(
        &mut self,
        namespace: &str,
        source: &Source,
        manager: &str,
        commit: &Commit,
    ) {
        let truth = CauseTruth {
            kind: "config".into(),
            object_kind: source.kind.into(),
            namespace: namespace.into(),
            name: source.name.clone(),
            manager: manager.into(),
            time: commit.truth_time(),
            digests: None,
        };
        let key = (namespace.to_string(), source.clone());
        self.config_reads.changes.insert(key, (truth, commit.ts));
        let readers: Vec<String> = self
            .pods
            .iter()
            .filter(|(_, p)| p.meta.namespace == namespace && p.kubelet_started)
            .filter(|(_, p)| !p.meta.deleting())
            .filter(|(_, p)| config_volumes(&p.spec).values().any(|s| s == source))
            .map(|(uid, _)| uid.clone())
            .collect();
        for uid in readers {
            let delay = self.core.jitter(SYNC_DELAY.0, SYNC_DELAY.1);
            self.core.after(delay, Task::SyncConfigVolumes(uid));
        }
    }

    /// The pod's periodic sync: rewrite its ConfigMap volumes, and let each running container
    /// that mounts a rewritten one reload it.
    pub(crate) fn sync_config_volumes(&mut self, uid: &str) {
        let Some(pod) = self.pods.get(uid).filter(|p| !p.meta.deleting()) else {
            return;
        };
        let namespace = pod.meta.namespace.clone();
        let mut rewritten = Vec::new();
        for (volume, source) in config_volumes(&pod.spec) {
            let data = self.source_data(&namespace, &source);
            let mounted = self
                .config_reads
                .mounted
                .entry(uid.to_string())
                .or_default();
            if mounted.get(&volume) != Some(&data) {
                mounted.insert(volume.clone(), data);
                rewritten.push((volume, source));
            }
        }
        for (volume, source) in rewritten {
            self.reload(uid, &volume, &source);
        }
    }

    /// The apps of the running containers mounting `volume` reload it; one that rejects the new
    /// data exits.
    fn reload(&mut self, uid: &str, volume: &str, source: &Source) {
        let Some(pod) = self.pods.get(uid) else {
            return;
        };
        let Some(data) = self
            .config_reads
            .mounted
            .get(uid)
            .and_then(|m| m.get(volume))
            .cloned()
        else {
            return;
        };
        let specs = pod.spec["containers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut crashing = Vec::new();
        for (index, c) in pod.containers.iter().enumerate() {
            let running = matches!(c.state, ContainerState::Running { .. });
            let mounts = specs
                .get(index)
                .is_some_and(|s| live_mounts(s).iter().any(|v| v == volume));
            if running && mounts && self.rejects(&c.image, &data) {
                crashing.push((index, c.epoch));
            }
        }
        for (index, epoch) in crashing {
            self.note_config_cause(uid, source);
            let delay = CRASH_SECONDS * SECOND + self.core.jitter(0, 800);
            let step = Step::Exit(ExitKind::Crashed(1));
            self.core
                .after(delay, Task::Container(uid.to_string(), index, epoch, step));
        }
    }

    /// What a container will do in the run that starts now: exit 1 when a ConfigMap it reads
    /// (its environment now, its volumes as last written) holds a value its app rejects.
    pub(crate) fn run_behaviour(
        &mut self,
        uid: &str,
        index: usize,
        planned: Behaviour,
    ) -> Behaviour {
        let Some(pod) = self.pods.get(uid) else {
            return planned;
        };
        let Some((spec, c)) = pod.spec["containers"]
            .get(index)
            .zip(pod.containers.get(index))
        else {
            return planned;
        };
        let namespace = pod.meta.namespace.clone();
        let volumes = config_volumes(&pod.spec);
        let mounted = self.config_reads.mounted.get(uid);
        let from_volumes = live_mounts(spec).into_iter().filter_map(|v| {
            let data = mounted.and_then(|m| m.get(&v)).cloned().unwrap_or_default();
            Some((volumes.get(&v)?.clone(), data))
        });
        // A `subPath` mount: the one file, as the kubelet last wrote the volume, bound now.
        let from_sub_paths = sub_path_mounts(spec).into_iter().filter_map(|(v, key)| {
            let file = mounted.and_then(|m| m.get(&v)).and_then(|d| d.get(&key));
            let data = file.map(|f| BTreeMap::from([(key.clone(), f.clone())]));
            Some((volumes.get(&v)?.clone(), data.unwrap_or_default()))
        });
        let from_env = env_sources(spec).into_iter().map(|source| {
            let data = self.source_data(&namespace, &source);
            (source, data)
        });
        let bad = from_env
            .chain(from_volumes)
            .chain(from_sub_paths)
            .find(|(_, data)| self.rejects(&c.image, data))
            .map(|(source, _)| source);
        match bad {
            Some(source) => {
                self.note_config_cause(uid, &source);
                Behaviour::Crashes {
                    after: CRASH_SECONDS,
                    code: 1,
                }
            }
            None => planned,
        }
    }

    /// Ground truth: the pod's failures come from the last change of this ConfigMap or Secret.
    fn note_config_cause(&mut self, uid: &str, source: &Source) {
        let Some(pod) = self.pods.get(uid) else {
            return;
        };
        let key = (pod.meta.namespace.clone(), source.clone());
        let Some((cause, _)) = self.config_reads.changes.get(&key).cloned() else {
            return; // Never changed: the app was given a bad value from the start.
        };
        let entry = self.causes_entry(uid);
        if let Some(entry) = entry.filter(|e| !e.restart_causes.contains(&cause)) {
            entry.restart_causes.push(cause);
        }
    }

    /// The pod's entry of known causes.
    pub(crate) fn causes_entry(&mut self, uid: &str) -> Option<&mut PodCausesTruth> {
        let pod = self.pods.get(uid)?;
        let entry = PodCausesTruth {
            namespace: pod.meta.namespace.clone(),
            name: pod.meta.name.clone(),
            uid: uid.to_string(),
            ..PodCausesTruth::default()
        };
        Some(self.config_reads.causes.entry(pod.truth).or_insert(entry))
    }

    /// Ground truth: the known causes of the pods visible in the trace, in pod order.
    pub(crate) fn pod_causes_truth(&self) -> Vec<PodCausesTruth> {
        self.config_reads
            .causes
            .iter()
            .filter(|(index, _)| self.book.pods.get(**index).is_some_and(|(_, v)| *v))
            .map(|(_, entry)| entry.clone())
            .collect()
    }

    /// Ground truth for a pod just created by a `kubectl rollout restart` revision: the last
    /// change, before the pod, of a ConfigMap it reads is why someone restarted (its
    /// `created.root_cause`).
    pub(crate) fn note_config_root_cause(&mut self, uid: &str) {
        let Some(pod) = self.pods.get(uid) else {
            return;
        };
        let Some((truth, _)) = self.book.pods.get(pod.truth) else {
            return;
        };
        if truth.created.reason != "rollout"
            || truth.created.change_manager.as_deref() != Some("kubectl-rollout")
        {
            return;
        }
        let namespace = &pod.meta.namespace;
        let containers = pod.spec["containers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let volumes = config_volumes(&pod.spec);
        let read: Vec<Source> = containers
            .iter()
            .flat_map(env_sources)
            .chain(volumes.into_values())
            .collect();
        let latest = read
            .iter()
            .filter_map(|source| {
                let key = (namespace.clone(), source.clone());
                self.config_reads.changes.get(&key)
            })
            .filter(|(_, ts)| *ts <= self.core.now)
            .max_by_key(|(_, ts)| *ts)
            .map(|(cause, _)| cause.clone());
        let Some(cause) = latest else {
            return;
        };
        if let Some(entry) = self.causes_entry(uid) {
            entry.root_cause = Some(cause);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::clock::parse_time;
    use super::super::scenarios::{all, Fixture};
    use super::SYNC_DELAY;

    fn generate(name: &str) -> Fixture {
        let scenario = all().into_iter().find(|s| s.name == name);
        scenario
            .expect("scenario exists")
            .generate()
            .expect("generates")
    }

    fn ms(time: &str) -> i64 {
        parse_time(time).expect("truth times parse")
    }

    #[test]
    fn a_live_mounted_configmap_change_crashes_every_reader_after_its_next_sync() {
        let fixture = generate("config-reload-crash");
        let causes = &fixture.truth.pod_causes;
        assert_eq!(causes.len(), 3, "every cart pod failed from the change");
        for pod in &fixture.truth.pods {
            let cause = causes.iter().find(|c| c.uid == pod.uid).expect("a cause");
            let change = ms(&cause.restart_causes[0].time);
            let first = ms(&pod.restarts[0].time);
            assert_eq!(cause.restart_causes[0].name, "cart-config");
            assert_eq!(cause.restart_causes[0].manager, "helm");
            // The sync, then the reload and its crash (2 s and a little jitter).
            assert!(
                first >= change + SYNC_DELAY.0,
                "{} crashed too early",
                pod.name
            );
            assert!(
                first <= change + SYNC_DELAY.1 + 4_000,
                "{} crashed too late",
                pod.name
            );
            assert!(cause.root_cause.is_none());
        }
    }

    #[test]
    fn env_read_at_start_breaks_only_the_pods_started_after_the_change() {
        let fixture = generate("config-rollout-restart");
        let [cause] = fixture.truth.pod_causes.as_slice() else {
            panic!("one pod has a known cause: {:?}", fixture.truth.pod_causes);
        };
        let root = cause.root_cause.as_ref().expect("the restart's root cause");
        assert_eq!(
            (root.name.as_str(), root.manager.as_str()),
            ("ledger-env", "kubectl-client-side-apply")
        );
        for pod in &fixture.truth.pods {
            let failed = !pod.restarts.is_empty();
            assert_eq!(
                failed,
                pod.revision == 2,
                "{} (revision {})",
                pod.name,
                pod.revision
            );
        }
    }

    #[test]
    fn a_rotated_secret_breaks_its_live_readers_and_never_a_sub_path_reader() {
        let fixture = generate("secret-rotation-crash");
        let causes = &fixture.truth.pod_causes;
        assert_eq!(causes.len(), 3, "every checkout pod, no webhooks pod");
        for cause in causes {
            assert!(cause.name.starts_with("checkout-"), "{}", cause.name);
            let change = &cause.restart_causes[0];
            assert_eq!(
                (change.object_kind.as_str(), change.name.as_str()),
                ("Secret", "payment-keys")
            );
        }
        // The webhooks pod that restarted for another reason read the new key then, and ran.
        let restarted: Vec<_> = fixture
            .truth
            .pods
            .iter()
            .filter(|p| p.name.starts_with("webhooks-") && !p.restarts.is_empty())
            .collect();
        assert_eq!(restarted.len(), 1);
        assert_eq!(restarted[0].restarts.len(), 1);
        assert_eq!(restarted[0].restarts[0].exit_code, 2);
    }

    #[test]
    fn a_configmap_change_the_app_accepts_is_no_cause() {
        let fixture = generate("config-after-failure");
        assert!(fixture.truth.pod_causes.is_empty());
    }
}
