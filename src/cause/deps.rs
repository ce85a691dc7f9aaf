//! What a pod depends on: the ConfigMaps and Secrets it references (and how it reads each), its
//! node, and the images its containers ran with the digests the kubelet reported.
//!
//! How a reference reads a change decides whether a running container can see it (Kubernetes
//! v1.31): a ConfigMap or Secret volume mounted without `subPath` is updated in place by the
//! kubelet's periodic sync (`pkg/kubelet/volumemanager`, `pkg/volume/configmap` and
//! `pkg/volume/secret` `SetUpAt` re-run on every pod sync; the kubelet's `syncFrequency` is 1 min
//! and the ConfigMap/Secret manager's watch cache adds its propagation delay); a `subPath` mount,
//! `envFrom` and `env[].valueFrom` are read once, when the container starts
//! (`pkg/kubelet/kubelet_pods.go` `makeEnvironmentVariables`, `makeMounts`).

use serde::Serialize;
use serde_json::Value;

/// A ConfigMap or Secret a pod references.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reference {
    /// `ConfigMap` or `Secret`.
    pub kind: &'static str,
    /// Its name, in the pod's namespace.
    pub name: String,
    /// How the pod reads it, each place once.
    pub uses: Vec<Use>,
}

impl Reference {
    /// Whether a running container sees a change (a volume mounted without `subPath`).
    pub fn live(&self) -> bool {
        self.uses
            .iter()
            .any(|u| matches!(u, Use::Volume { live: true, .. }))
    }
}

/// One way a pod reads a ConfigMap or Secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "via", rename_all = "kebab-case")]
pub enum Use {
    /// A volume (direct or projected); `live` when some container mounts it without `subPath`.
    Volume {
        /// The volume's name.
        volume: String,
        /// Whether the kubelet updates the mounted files in place.
        live: bool,
    },
    /// `envFrom` of a container: read at container start.
    EnvFrom {
        /// The container.
        container: String,
    },
    /// One `env[].valueFrom` variable of a container: read at container start.
    Env {
        /// The container.
        container: String,
        /// The variable.
        variable: String,
    },
}

impl Use {
    /// `volume config (updated live)`, `env LOG_LEVEL of container web`.
    pub fn words(&self) -> String {
        match self {
            Use::Volume { volume, live: true } => format!("volume {volume} (updated live)"),
            Use::Volume {
                volume,
                live: false,
            } => format!("volume {volume} (subPath: read at start)"),
            Use::EnvFrom { container } => format!("envFrom of container {container}"),
            Use::Env {
                container,
                variable,
            } => format!("env {variable} of container {container}"),
        }
    }
}

/// An image a container ran, with the digest the kubelet reported (`imageID`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageUse {
    /// The container.
    pub container: String,
    /// The `image:` string of its spec.
    pub image: String,
    /// `status.containerStatuses[].imageID`'s digest (`sha256:…`), when reported.
    pub digest: Option<String>,
}

/// What one pod version depends on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Dependencies {
    /// ConfigMaps and Secrets, in the order of first reference.
    pub references: Vec<Reference>,
    /// `spec.nodeName`.
    pub node: Option<String>,
    /// Images of the containers (init containers first), with their digests.
    pub images: Vec<ImageUse>,
}

/// Reads a pod body's dependencies.
pub fn dependencies(pod: &Value) -> Dependencies {
    let mut deps = Dependencies {
        node: text(pod.pointer("/spec/nodeName")),
        ..Dependencies::default()
    };
    let containers: Vec<&Value> = ["/spec/initContainers", "/spec/containers"]
        .iter()
        .filter_map(|p| pod.pointer(p).and_then(Value::as_array))
        .flatten()
        .collect();
    let volumes = pod
        .pointer("/spec/volumes")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    for volume in volumes {
        let Some(name) = text(volume.get("name")) else {
            continue;
        };
        let live = mounted_live(&containers, &name);
        let direct = [
            ("ConfigMap", volume.pointer("/configMap/name")),
            ("Secret", volume.pointer("/secret/secretName")),
        ];
        let projected = volume
            .pointer("/projected/sources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .flat_map(|source| {
                [
                    ("ConfigMap", source.pointer("/configMap/name")),
                    ("Secret", source.pointer("/secret/name")),
                ]
            });
        for (kind, target) in direct.into_iter().chain(projected) {
            if let Some(target) = text(target) {
                let volume = name.clone();
                deps.add(kind, target, Use::Volume { volume, live });
            }
        }
    }
    for container in &containers {
        let Some(cname) = text(container.get("name")) else {
            continue;
        };
        let env_from = container.get("envFrom").and_then(Value::as_array);
        for source in env_from.into_iter().flatten() {
            for (kind, target) in [
                ("ConfigMap", source.pointer("/configMapRef/name")),
                ("Secret", source.pointer("/secretRef/name")),
            ] {
                if let Some(target) = text(target) {
                    let container = cname.clone();
                    deps.add(kind, target, Use::EnvFrom { container });
                }
            }
        }
        let env = container.get("env").and_then(Value::as_array);
        for variable in env.into_iter().flatten() {
            let Some(vname) = text(variable.get("name")) else {
                continue;
            };
            for (kind, target) in [
                (
                    "ConfigMap",
                    variable.pointer("/valueFrom/configMapKeyRef/name"),
                ),
                ("Secret", variable.pointer("/valueFrom/secretKeyRef/name")),
            ] {
                if let Some(target) = text(target) {
                    let used = Use::Env {
                        container: cname.clone(),
                        variable: vname.clone(),
                    };
                    deps.add(kind, target, used);
                }
            }
        }
    }
    deps.images = images(pod, &containers);
    deps
}

impl Dependencies {
    fn add(&mut self, kind: &'static str, name: String, used: Use) {
        match self
            .references
            .iter_mut()
            .find(|r| r.kind == kind && r.name == name)
        {
            Some(found) if !found.uses.contains(&used) => found.uses.push(used),
            Some(_) => {}
            None => self.references.push(Reference {
                kind,
                name,
                uses: vec![used],
            }),
        }
    }
}

/// Whether some container mounts the volume without `subPath` / `subPathExpr`.
fn mounted_live(containers: &[&Value], volume: &str) -> bool {
    containers
        .iter()
        .filter_map(|c| c.get("volumeMounts").and_then(Value::as_array))
        .flatten()
        .filter(|m| m.get("name").and_then(Value::as_str) == Some(volume))
        .any(|m| {
            let sub = |key: &str| {
                m.get(key)
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.is_empty())
            };
            !sub("subPath") && !sub("subPathExpr")
        })
}

/// Each container's image and the digest of its status's `imageID`
/// (`docker-pullable://repo@sha256:…` or `repo@sha256:…`).
fn images(pod: &Value, containers: &[&Value]) -> Vec<ImageUse> {
    let statuses: Vec<&Value> = ["/status/initContainerStatuses", "/status/containerStatuses"]
        .iter()
        .filter_map(|p| pod.pointer(p).and_then(Value::as_array))
        .flatten()
        .collect();
    containers
        .iter()
        .filter_map(|c| {
            let container = text(c.get("name"))?;
            let image = text(c.get("image"))?;
            let digest = statuses
                .iter()
                .find(|s| s.get("name").and_then(Value::as_str) == Some(container.as_str()))
                .and_then(|s| s.get("imageID").and_then(Value::as_str))
                .and_then(digest_of);
            Some(ImageUse {
                container,
                image,
                digest,
            })
        })
        .collect()
}

/// The `sha256:…` part of an `imageID`.
pub fn digest_of(image_id: &str) -> Option<String> {
    let at = image_id.rfind('@')?;
    let digest = &image_id[at + 1..];
    digest.contains(':').then(|| digest.to_string())
}

fn text(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_way_of_reading_a_configmap_or_secret_is_found() {
        let pod = json!({"spec": {"nodeName": "node-1",
            "volumes": [
                {"name": "config", "configMap": {"name": "app-config"}},
                {"name": "tls", "secret": {"secretName": "app-tls"}},
                {"name": "bundle", "projected": {"sources": [
                    {"configMap": {"name": "ca"}}, {"secret": {"name": "token"}}]}},
                {"name": "one-file", "configMap": {"name": "app-config"}}],
            "containers": [{"name": "web", "image": "web:1",
                "volumeMounts": [{"name": "config", "mountPath": "/etc/app"},
                    {"name": "one-file", "mountPath": "/etc/x.yaml", "subPath": "x.yaml"},
                    {"name": "tls", "mountPath": "/tls", "subPath": "tls.crt"}],
                "envFrom": [{"configMapRef": {"name": "env-config"}}],
                "env": [{"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}]}]},
            "status": {"containerStatuses": [{"name": "web",
                "imageID": "docker.io/library/web@sha256:abc"}]}});
        let deps = dependencies(&pod);
        let names: Vec<(&str, &str, bool)> = deps
            .references
            .iter()
            .map(|r| (r.kind, r.name.as_str(), r.live()))
            .collect();
        assert_eq!(
            names,
            [
                ("ConfigMap", "app-config", true),
                ("Secret", "app-tls", false),
                ("ConfigMap", "ca", false),
                ("Secret", "token", false),
                ("ConfigMap", "env-config", false),
                ("Secret", "db", false),
            ]
        );
        // app-config is read twice: live through `config`, at start through the subPath.
        assert_eq!(deps.references[0].uses.len(), 2);
        assert_eq!(deps.node.as_deref(), Some("node-1"));
        assert_eq!(deps.images[0].digest.as_deref(), Some("sha256:abc"));
    }
}
