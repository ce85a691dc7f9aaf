//! Image tags that move: a push makes the registry's tag point at a new digest with its own
//! behaviour, and the kubelet resolves the digest when it pulls.
//!
//! Following Kubernetes v1.31 `pkg/kubelet/images/image_manager.go` `EnsureImageExists`:
//! with `imagePullPolicy: Always` the kubelet pulls (resolves the tag at the registry) for every
//! container it creates, a restart's too (`shouldPullImage`); with `IfNotPresent` it uses the
//! image the node already has, so a node that cached the old digest keeps running it. The container status's `imageID` is the digest
//! the runtime resolved (`pkg/kubelet/kuberuntime` `toKubeContainerStatus`).

use std::collections::BTreeMap;

use super::config::ImageProfile;
use super::model::{normalize_image, Behaviour};
use super::rng::stable_hex;
use super::truth::{CauseTruth, DigestsTruth};
use super::world::{Commit, World};

/// The pushes made to image tags, the behaviour of each pushed digest, and what each node cached.
#[derive(Debug, Default)]
pub(crate) struct ImageTags {
    /// How many times each `image:` string was pushed during the simulation.
    pushes: BTreeMap<String, u32>,
    /// The behaviour of each pushed digest, by image ID.
    profiles: BTreeMap<String, ImageProfile>,
    /// The image ID each node pulled last for an `image:` string, by (node index, image).
    cached: BTreeMap<(usize, String), String>,
    /// The first record showing each pushed digest in a pod status (ground-truth time).
    first_shown: BTreeMap<String, String>,
}

/// The image ID (`repository@sha256:...`) of `image` after `push` pushes; push 0 is the digest
/// the tag had from the start.
pub(crate) fn image_id_at(image: &str, push: u32) -> String {
    let normalized = normalize_image(image);
    let repository = normalized.split(['@', ':']).next().unwrap_or_default();
    let repository = match normalized.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => repository,
    };
    let hex = if push == 0 {
        stable_hex(&normalized, 64)
    } else {
        stable_hex(&format!("{normalized}#push{push}"), 64)
    };
    format!("{repository}@sha256:{hex}")
}

/// The digest part of an image ID (`sha256:...`).
fn digest_part(image_id: &str) -> String {
    image_id
        .rsplit_once('@')
        .map_or(image_id, |(_, d)| d)
        .to_string()
}

impl World {
    /// The registry's tag `image` now points at a new digest that behaves as `profile`.
    pub(crate) fn push_image(&mut self, image: &str, profile: ImageProfile) {
        let tags = &mut self.image_tags;
        let count = tags.pushes.entry(image.to_string()).or_insert(0);
        *count += 1;
        let id = image_id_at(image, *count);
        tags.profiles.insert(id, profile);
    }

    /// Whether `image` was ever pushed (else the kubelet keeps its original bookkeeping).
    pub(crate) fn image_pushed(&self, image: &str) -> bool {
        self.image_tags.pushes.contains_key(image)
    }

    /// The image ID a pull of `image` resolves now (the registry's current digest).
    pub(crate) fn resolve_tag(&self, image: &str) -> String {
        image_id_at(
            image,
            self.image_tags.pushes.get(image).copied().unwrap_or(0),
        )
    }

    /// The image ID node `node` has cached for `image` (the original digest unless it pulled
    /// after a push).
    pub(crate) fn cached_image_id(&self, node: usize, image: &str) -> String {
        self.image_tags
            .cached
            .get(&(node, image.to_string()))
            .cloned()
            .unwrap_or_else(|| image_id_at(image, 0))
    }

    /// Remembers that node `node` now holds `image` at `image_id`.
    pub(crate) fn cache_image(&mut self, node: usize, image: &str, image_id: &str) {
        self.image_tags
            .cached
            .insert((node, image.to_string()), image_id.to_string());
    }

    /// The behaviour of the pod's container `index` running `image_id`: its digest's profile
    /// when pushed, else the tag's.
    pub(crate) fn digest_behaviour(&self, uid: &str, index: usize, image_id: &str) -> Behaviour {
        let pod = self.pods.get(uid);
        let spec = pod
            .and_then(|p| p.spec["containers"].get(index))
            .cloned()
            .unwrap_or_default();
        let image = pod
            .and_then(|p| p.containers.get(index))
            .map(|c| c.image.clone())
            .unwrap_or_default();
        let profile = self
            .image_tags
            .profiles
            .get(image_id)
            .cloned()
            .unwrap_or_else(|| self.profile(&image));
        super::kubelet::behaviour(&spec, &profile)
    }

    /// Ground truth after a container of a pushed image started and its status was written in
    /// `commit`: remember when its digest was first shown, and when it will fail on a pushed
    /// digest, note an `image-digest` cause naming the pod's workload.
    pub(crate) fn note_digest_started(&mut self, uid: &str, index: usize, commit: &Commit) {
        let Some(pod) = self.pods.get(uid) else {
            return;
        };
        let Some(c) = pod.containers.get(index) else {
            return;
        };
        let image_id = c.image_id.clone();
        let Some(push) = (1..=self.image_tags.pushes.get(&c.image).copied().unwrap_or(0))
            .find(|&n| image_id_at(&c.image, n) == image_id)
        else {
            return; // The original digest.
        };
        let from = image_id_at(&c.image, push - 1);
        let failing = c.behaviour != Behaviour::Healthy;
        let time = self
            .image_tags
            .first_shown
            .entry(image_id.clone())
            .or_insert_with(|| commit.truth_time())
            .clone();
        if !failing {
            return;
        }
        let Some((kind, name)) = self.workload_of(uid) else {
            return;
        };
        let namespace = pod.meta.namespace.clone();
        let cause = CauseTruth {
            kind: "image-digest".into(),
            object_kind: kind,
            namespace,
            name,
            manager: String::new(),
            time,
            digests: Some(DigestsTruth {
                from: digest_part(&from),
                to: digest_part(&image_id),
            }),
        };
        if let Some(entry) = self
            .causes_entry(uid)
            .filter(|e| !e.restart_causes.contains(&cause))
        {
            entry.restart_causes.push(cause);
        }
    }

    /// The top of the pod's controller chain: (kind, name).
    fn workload_of(&self, uid: &str) -> Option<(String, String)> {
        let pod = self.pods.get(uid)?;
        let rs = self.replicasets.get(&pod.rs_uid)?;
        Some(match &rs.meta.owner {
            Some(owner) => (owner.kind.to_string(), owner.name.clone()),
            None => ("ReplicaSet".to_string(), rs.meta.name.clone()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::clock::utc;
    use super::super::config::{ContainerConfig, DeploymentConfig, ImageProfile, Tool};
    use super::super::Sim;
    use super::image_id_at;

    /// A container's image ID and restart count.
    type Run = (String, i32);

    /// The runs of the 2 pods from before the push and of the 2 a scale-up made after it.
    fn runs(image: &str) -> (Vec<Run>, Vec<Run>) {
        let mut sim = Sim::new(7, utc(2026, 11, 28, 9, 0, 0));
        sim.nodes(2);
        let config = DeploymentConfig::new("team", "web")
            .replicas(2)
            .container(ContainerConfig::new("web", image));
        sim.apply_deployment(&config, Tool::KubectlApply);
        sim.advance(600).start_trace();
        sim.push_image(image, ImageProfile::healthy().crashes_after(3, 1));
        sim.advance(30).scale("team", "web", 4);
        sim.advance(300);
        let mut pods: Vec<_> = sim.world.pods.values().collect();
        pods.sort_by_key(|p| p.meta.created);
        let all: Vec<Run> = pods
            .iter()
            .flat_map(|p| &p.containers)
            .map(|c| (c.image_id.clone(), c.restarts))
            .collect();
        assert_eq!(all.len(), 4);
        let (old, new) = all.split_at(2);
        (old.to_vec(), new.to_vec())
    }

    #[test]
    fn always_pulls_the_moved_tag_and_runs_its_new_behaviour() {
        let image = "ghcr.io/acme/web:latest";
        let (old, new) = runs(image);
        assert!(old
            .iter()
            .all(|(id, r)| *id == image_id_at(image, 0) && *r == 0));
        assert!(new
            .iter()
            .all(|(id, r)| *id == image_id_at(image, 1) && *r > 0));
        assert_ne!(image_id_at(image, 0), image_id_at(image, 1));
    }

    #[test]
    fn if_not_present_keeps_the_digest_the_node_cached() {
        let image = "ghcr.io/acme/web:2.0.0";
        let (old, new) = runs(image);
        // Both nodes pulled the tag before the push: the new pods reuse the cached old digest.
        assert!(old
            .iter()
            .chain(&new)
            .all(|(id, r)| *id == image_id_at(image, 0) && *r == 0));
    }
}
