//! What the simulated users write: deployment, container and probe configurations, and their tools.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

/// A count or a percentage, as in `maxSurge: 25%`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntOrPercent {
    /// An absolute number of pods.
    Int(i32),
    /// A percentage of the desired replicas.
    Percent(i32),
}

impl IntOrPercent {
    /// Resolves against `total`, rounding up or down as the deployment controller does.
    pub fn resolve(self, total: i32, round_up: bool) -> i32 {
        match self {
            IntOrPercent::Int(n) => n,
            IntOrPercent::Percent(p) => {
                let scaled = i64::from(p) * i64::from(total);
                let value = if round_up {
                    (scaled + 99) / 100
                } else {
                    scaled / 100
                };
                value as i32
            }
        }
    }

    /// The JSON form: a number or a `"25%"` string.
    pub fn to_json(self) -> Value {
        match self {
            IntOrPercent::Int(n) => json!(n),
            IntOrPercent::Percent(p) => json!(format!("{p}%")),
        }
    }
}

/// An HTTP probe as written in a container spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeConfig {
    /// The HTTP path probed, e.g. `/healthz`.
    pub path: String,
    /// The container port probed.
    pub port: u16,
    /// Seconds after start before the first probe.
    pub initial_delay_seconds: i64,
    /// Seconds between probes.
    pub period_seconds: i64,
    /// Consecutive failures before the kubelet acts.
    pub failure_threshold: i64,
}

impl ProbeConfig {
    /// An HTTP GET probe of `path` on `port`, 5 s initial delay, every 10 s, 3 failures.
    pub fn http(path: &str, port: u16) -> ProbeConfig {
        ProbeConfig {
            path: path.to_string(),
            port,
            initial_delay_seconds: 5,
            period_seconds: 10,
            failure_threshold: 3,
        }
    }

    /// Sets the probe period.
    pub fn period(mut self, seconds: i64) -> ProbeConfig {
        self.period_seconds = seconds;
        self
    }

    /// Sets the initial delay.
    pub fn initial_delay(mut self, seconds: i64) -> ProbeConfig {
        self.initial_delay_seconds = seconds;
        self
    }

    fn manifest(&self) -> Value {
        json!({
            "httpGet": {"path": self.path, "port": self.port},
            "initialDelaySeconds": self.initial_delay_seconds,
            "periodSeconds": self.period_seconds,
            "failureThreshold": self.failure_threshold,
        })
    }

    fn stored(&self) -> Value {
        json!({
            "httpGet": {"path": self.path, "port": self.port, "scheme": "HTTP"},
            "initialDelaySeconds": self.initial_delay_seconds,
            "timeoutSeconds": 1,
            "periodSeconds": self.period_seconds,
            "successThreshold": 1,
            "failureThreshold": self.failure_threshold,
        })
    }
}

/// One container of a pod template, as the user writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerConfig {
    /// Container name, e.g. `web`.
    pub name: String,
    /// Image reference, e.g. `nginx:1.25`.
    pub image: String,
    /// The TCP port it listens on, if any.
    pub port: Option<u16>,
    /// Environment variables, in order.
    pub env: Vec<(String, String)>,
    /// `resources.requests`, e.g. `memory` → `128Mi`.
    pub requests: BTreeMap<String, String>,
    /// `resources.limits`.
    pub limits: BTreeMap<String, String>,
    /// The liveness probe, if any.
    pub liveness: Option<ProbeConfig>,
    /// The readiness probe, if any.
    pub readiness: Option<ProbeConfig>,
    /// ConfigMaps read whole into the environment (`envFrom[].configMapRef`), read at start.
    pub env_from: Vec<String>,
    /// Volume mounts: volume name and mount path (no `subPath`: updated in place).
    pub mounts: Vec<(String, String)>,
    /// `subPath` mounts: volume name, mount path and the key (file) mounted, read when the
    /// container starts and never updated.
    pub sub_path_mounts: Vec<(String, String, String)>,
    /// Variables read from a Secret key (`env[].valueFrom.secretKeyRef`): variable, Secret
    /// and key, read when the container starts.
    pub secret_env: Vec<(String, String, String)>,
}

impl ContainerConfig {
    /// A container with only a name and an image.
    pub fn new(name: &str, image: &str) -> ContainerConfig {
        ContainerConfig {
            name: name.to_string(),
            image: image.to_string(),
            port: None,
            env: Vec::new(),
            requests: BTreeMap::new(),
            limits: BTreeMap::new(),
            liveness: None,
            readiness: None,
            env_from: Vec::new(),
            mounts: Vec::new(),
            sub_path_mounts: Vec::new(),
            secret_env: Vec::new(),
        }
    }

    /// Reads every key of ConfigMap `name` into the environment (`envFrom`).
    pub fn env_from_configmap(mut self, name: &str) -> ContainerConfig {
        self.env_from.push(name.to_string());
        self
    }

    /// Mounts volume `volume` at `path`, without `subPath`.
    pub fn mount(mut self, volume: &str, path: &str) -> ContainerConfig {
        self.mounts.push((volume.to_string(), path.to_string()));
        self
    }

    /// Mounts the file `key` of volume `volume` at `path` with `subPath` (a bind mount made at
    /// container start: `kubelet_pods.go` `makeMounts`; the kubelet never updates it).
    pub fn mount_sub_path(mut self, volume: &str, path: &str, key: &str) -> ContainerConfig {
        self.sub_path_mounts
            .push((volume.to_string(), path.to_string(), key.to_string()));
        self
    }

    /// Sets variable `name` from key `key` of Secret `secret` (`valueFrom.secretKeyRef`).
    pub fn env_from_secret_key(mut self, name: &str, secret: &str, key: &str) -> ContainerConfig {
        self.secret_env
            .push((name.to_string(), secret.to_string(), key.to_string()));
        self
    }

    fn has_mounts(&self) -> bool {
        !self.mounts.is_empty() || !self.sub_path_mounts.is_empty()
    }

    fn has_env(&self) -> bool {
        !self.env.is_empty() || !self.secret_env.is_empty()
    }

    fn env_from_json(&self) -> Value {
        Value::Array(
            self.env_from
                .iter()
                .map(|name| json!({"configMapRef": {"name": name}}))
                .collect(),
        )
    }

    fn mounts_json(&self) -> Value {
        Value::Array(
            self.mounts
                .iter()
                .map(|(name, path)| json!({"name": name, "mountPath": path}))
                .chain(self.sub_path_mounts.iter().map(
                    |(name, path, key)| json!({"name": name, "mountPath": path, "subPath": key}),
                ))
                .collect(),
        )
    }

    /// Sets the container port.
    pub fn port(mut self, port: u16) -> ContainerConfig {
        self.port = Some(port);
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, name: &str, value: &str) -> ContainerConfig {
        self.env.push((name.to_string(), value.to_string()));
        self
    }

    /// Sets a resource request, e.g. `("cpu", "100m")`.
    pub fn request(mut self, resource: &str, quantity: &str) -> ContainerConfig {
        self.requests
            .insert(resource.to_string(), quantity.to_string());
        self
    }

    /// Sets a resource limit, e.g. `("memory", "256Mi")`.
    pub fn limit(mut self, resource: &str, quantity: &str) -> ContainerConfig {
        self.limits
            .insert(resource.to_string(), quantity.to_string());
        self
    }

    /// Sets the liveness probe.
    pub fn liveness(mut self, probe: ProbeConfig) -> ContainerConfig {
        self.liveness = Some(probe);
        self
    }

    /// Sets the readiness probe.
    pub fn readiness(mut self, probe: ProbeConfig) -> ContainerConfig {
        self.readiness = Some(probe);
        self
    }

    /// The pull policy the API server defaults for this image.
    pub fn pull_policy(&self) -> &'static str {
        let last = self.image.rsplit('/').next().unwrap_or_default();
        if self.image.contains('@') {
            "IfNotPresent"
        } else if !last.contains(':') || last.ends_with(":latest") {
            "Always"
        } else {
            "IfNotPresent"
        }
    }

    fn resources(&self) -> Value {
        let mut map = Map::new();
        if !self.limits.is_empty() {
            map.insert("limits".into(), json!(self.limits));
        }
        if !self.requests.is_empty() {
            map.insert("requests".into(), json!(self.requests));
        }
        Value::Object(map)
    }

    fn env_json(&self) -> Value {
        Value::Array(
            self.env
                .iter()
                .map(|(k, v)| json!({"name": k, "value": v}))
                .chain(self.secret_env.iter().map(|(var, secret, key)| {
                    json!({"name": var, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}})
                }))
                .collect(),
        )
    }

    fn manifest(&self) -> Value {
        let mut map = Map::new();
        map.insert("name".into(), json!(self.name));
        map.insert("image".into(), json!(self.image));
        if let Some(port) = self.port {
            map.insert("ports".into(), json!([{"containerPort": port}]));
        }
        if !self.env_from.is_empty() {
            map.insert("envFrom".into(), self.env_from_json());
        }
        if self.has_env() {
            map.insert("env".into(), self.env_json());
        }
        if !self.limits.is_empty() || !self.requests.is_empty() {
            map.insert("resources".into(), self.resources());
        }
        if self.has_mounts() {
            map.insert("volumeMounts".into(), self.mounts_json());
        }
        if let Some(probe) = &self.liveness {
            map.insert("livenessProbe".into(), probe.manifest());
        }
        if let Some(probe) = &self.readiness {
            map.insert("readinessProbe".into(), probe.manifest());
        }
        Value::Object(map)
    }

    /// The container as the API server stores it, defaults filled in, in Go field order.
    fn stored(&self) -> Value {
        let mut map = Map::new();
        map.insert("name".into(), json!(self.name));
        map.insert("image".into(), json!(self.image));
        if let Some(port) = self.port {
            map.insert(
                "ports".into(),
                json!([{"containerPort": port, "protocol": "TCP"}]),
            );
        }
        if !self.env_from.is_empty() {
            map.insert("envFrom".into(), self.env_from_json());
        }
        if self.has_env() {
            map.insert("env".into(), self.env_json());
        }
        map.insert("resources".into(), self.resources());
        if self.has_mounts() {
            map.insert("volumeMounts".into(), self.mounts_json());
        }
        if let Some(probe) = &self.liveness {
            map.insert("livenessProbe".into(), probe.stored());
        }
        if let Some(probe) = &self.readiness {
            map.insert("readinessProbe".into(), probe.stored());
        }
        map.insert(
            "terminationMessagePath".into(),
            json!("/dev/termination-log"),
        );
        map.insert("terminationMessagePolicy".into(), json!("File"));
        map.insert("imagePullPolicy".into(), json!(self.pull_policy()));
        Value::Object(map)
    }
}

/// A Deployment as the user writes it (the manifest a tool sends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentConfig {
    /// Namespace.
    pub namespace: String,
    /// Deployment name.
    pub name: String,
    /// `spec.replicas`.
    pub replicas: i32,
    /// Labels of the Deployment itself.
    pub labels: BTreeMap<String, String>,
    /// Annotations of the Deployment itself.
    pub annotations: BTreeMap<String, String>,
    /// Pod labels; also the selector.
    pub pod_labels: BTreeMap<String, String>,
    /// Pod template annotations.
    pub pod_annotations: BTreeMap<String, String>,
    /// The containers of the pod template.
    pub containers: Vec<ContainerConfig>,
    /// `maxSurge` if the user sets it (default 25%).
    pub max_surge: Option<IntOrPercent>,
    /// `maxUnavailable` if the user sets it (default 25%).
    pub max_unavailable: Option<IntOrPercent>,
    /// `progressDeadlineSeconds` if the user sets it (default 600).
    pub progress_deadline_seconds: Option<i64>,
    /// The pod template's `priorityClassName`, if any.
    pub priority_class: Option<String>,
    /// ConfigMap volumes of the pod template: volume name and ConfigMap name.
    pub configmap_volumes: Vec<(String, String)>,
    /// Secret volumes of the pod template: volume name and Secret name.
    pub secret_volumes: Vec<(String, String)>,
}

impl DeploymentConfig {
    /// A one-replica deployment labelled `app: <name>`, without containers yet.
    pub fn new(namespace: &str, name: &str) -> DeploymentConfig {
        let app = BTreeMap::from([("app".to_string(), name.to_string())]);
        DeploymentConfig {
            namespace: namespace.to_string(),
            name: name.to_string(),
            replicas: 1,
            labels: app.clone(),
            annotations: BTreeMap::new(),
            pod_labels: app,
            pod_annotations: BTreeMap::new(),
            containers: Vec::new(),
            max_surge: None,
            max_unavailable: None,
            progress_deadline_seconds: None,
            priority_class: None,
            configmap_volumes: Vec::new(),
            secret_volumes: Vec::new(),
        }
    }

    /// Adds a volume `volume` holding ConfigMap `configmap`'s keys as files.
    pub fn configmap_volume(mut self, volume: &str, configmap: &str) -> DeploymentConfig {
        self.configmap_volumes
            .push((volume.to_string(), configmap.to_string()));
        self
    }

    /// Adds a volume `volume` holding Secret `secret`'s keys as files.
    pub fn secret_volume(mut self, volume: &str, secret: &str) -> DeploymentConfig {
        self.secret_volumes
            .push((volume.to_string(), secret.to_string()));
        self
    }

    /// The template's volumes as the user writes them, or as the API server stores them
    /// (`defaultMode` 420 filled in); `None` when there are none.
    fn volumes_json(&self, stored: bool) -> Option<Value> {
        if self.configmap_volumes.is_empty() && self.secret_volumes.is_empty() {
            return None;
        }
        let source = |kind: &str, field: &str, name: &str, volume: &str| {
            let mut source = json!({field: name});
            if let (true, Some(map)) = (stored, source.as_object_mut()) {
                map.insert("defaultMode".into(), json!(420));
            }
            json!({"name": volume, kind: source})
        };
        let configmaps = self
            .configmap_volumes
            .iter()
            .map(|(volume, c)| source("configMap", "name", c, volume));
        let secrets = self
            .secret_volumes
            .iter()
            .map(|(volume, s)| source("secret", "secretName", s, volume));
        Some(Value::Array(configmaps.chain(secrets).collect()))
    }

    /// Sets `spec.replicas`.
    pub fn replicas(mut self, replicas: i32) -> DeploymentConfig {
        self.replicas = replicas;
        self
    }

    /// Adds a container.
    pub fn container(mut self, container: ContainerConfig) -> DeploymentConfig {
        self.containers.push(container);
        self
    }

    /// Adds a label to the Deployment and its pods.
    pub fn label(mut self, key: &str, value: &str) -> DeploymentConfig {
        self.labels.insert(key.to_string(), value.to_string());
        self.pod_labels.insert(key.to_string(), value.to_string());
        self
    }

    /// Adds an annotation to the Deployment.
    pub fn annotation(mut self, key: &str, value: &str) -> DeploymentConfig {
        self.annotations.insert(key.to_string(), value.to_string());
        self
    }

    /// Sets `maxSurge` and `maxUnavailable`.
    pub fn rolling(
        mut self,
        max_surge: IntOrPercent,
        max_unavailable: IntOrPercent,
    ) -> DeploymentConfig {
        self.max_surge = Some(max_surge);
        self.max_unavailable = Some(max_unavailable);
        self
    }

    /// Sets the pod template's `priorityClassName`.
    pub fn priority_class(mut self, name: &str) -> DeploymentConfig {
        self.priority_class = Some(name.to_string());
        self
    }

    /// Sets `progressDeadlineSeconds`.
    pub fn progress_deadline(mut self, seconds: i64) -> DeploymentConfig {
        self.progress_deadline_seconds = Some(seconds);
        self
    }

    /// The container called `name`, to change it.
    pub fn container_mut(&mut self, name: &str) -> Option<&mut ContainerConfig> {
        self.containers.iter_mut().find(|c| c.name == name)
    }

    /// The selector labels (pod labels minus the helm chart/version bookkeeping).
    pub fn selector(&self) -> BTreeMap<String, String> {
        self.pod_labels
            .iter()
            .filter(|(k, _)| {
                !k.starts_with("helm.sh/") && k.as_str() != "app.kubernetes.io/version"
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The manifest a tool sends, without server defaults.
    pub fn manifest(&self) -> Value {
        let mut metadata = Map::new();
        if !self.annotations.is_empty() {
            metadata.insert("annotations".into(), json!(self.annotations));
        }
        metadata.insert("labels".into(), json!(self.labels));
        metadata.insert("name".into(), json!(self.name));
        metadata.insert("namespace".into(), json!(self.namespace));
        let mut spec = Map::new();
        if let Some(seconds) = self.progress_deadline_seconds {
            spec.insert("progressDeadlineSeconds".into(), json!(seconds));
        }
        spec.insert("replicas".into(), json!(self.replicas));
        spec.insert("selector".into(), json!({"matchLabels": self.selector()}));
        if self.max_surge.is_some() || self.max_unavailable.is_some() {
            spec.insert(
                "strategy".into(),
                json!({"rollingUpdate": self.rolling_json()}),
            );
        }
        spec.insert("template".into(), self.template_manifest());
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata, "spec": spec})
    }

    fn rolling_json(&self) -> Value {
        let mut map = Map::new();
        if let Some(surge) = self.max_surge {
            map.insert("maxSurge".into(), surge.to_json());
        }
        if let Some(unavailable) = self.max_unavailable {
            map.insert("maxUnavailable".into(), unavailable.to_json());
        }
        Value::Object(map)
    }

    fn template_manifest(&self) -> Value {
        let mut metadata = Map::new();
        if !self.pod_annotations.is_empty() {
            metadata.insert("annotations".into(), json!(self.pod_annotations));
        }
        metadata.insert("labels".into(), json!(self.pod_labels));
        let containers: Vec<Value> = self
            .containers
            .iter()
            .map(ContainerConfig::manifest)
            .collect();
        let mut spec = Map::new();
        spec.insert("containers".into(), Value::Array(containers));
        if let Some(volumes) = self.volumes_json(false) {
            spec.insert("volumes".into(), volumes);
        }
        if let Some(class) = &self.priority_class {
            spec.insert("priorityClassName".into(), json!(class));
        }
        json!({"metadata": metadata, "spec": spec})
    }

    /// The pod template as the API server stores it, defaults filled in.
    pub fn stored_template(&self) -> Value {
        let mut metadata = Map::new();
        metadata.insert("creationTimestamp".into(), Value::Null);
        metadata.insert("labels".into(), json!(self.pod_labels));
        if !self.pod_annotations.is_empty() {
            metadata.insert("annotations".into(), json!(self.pod_annotations));
        }
        let containers: Vec<Value> = self
            .containers
            .iter()
            .map(ContainerConfig::stored)
            .collect();
        let mut spec = json!({
            "containers": containers,
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "securityContext": {},
            "schedulerName": "default-scheduler"
        });
        if let (Some(class), Some(map)) = (&self.priority_class, spec.as_object_mut()) {
            map.insert("priorityClassName".into(), json!(class));
        }
        if let (Some(volumes), Some(map)) = (self.volumes_json(true), spec.as_object_mut()) {
            map.shift_insert(0, "volumes".into(), volumes);
        }
        json!({"metadata": metadata, "spec": spec})
    }

    /// The `kubectl.kubernetes.io/last-applied-configuration` text kubectl writes for this manifest.
    pub fn last_applied(&self) -> String {
        let mut text = String::new();
        super::rng::write_canonical(&self.manifest(), &mut text);
        text.push('\n');
        text
    }
}

/// The tool a simulated user changes a Deployment with; it decides the field manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// `kubectl apply` (client-side): manager `kubectl-client-side-apply`, Update, last-applied annotation.
    KubectlApply,
    /// `kubectl apply --server-side`: manager `kubectl`, Apply.
    KubectlServerSideApply,
    /// `helm install/upgrade`: manager `helm`, Update.
    Helm,
}

/// How `kubectl delete` propagates to dependents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    /// The owner goes at once; the garbage collector removes dependents afterwards (kubectl's default).
    Background,
    /// The owner waits (finalizer `foregroundDeletion`) until its dependents are gone.
    Foreground,
}

/// A HorizontalPodAutoscaler as the user writes it (CPU utilization target).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HpaConfig {
    /// Namespace.
    pub namespace: String,
    /// HPA name.
    pub name: String,
    /// The Deployment it scales.
    pub target: String,
    /// `minReplicas`.
    pub min_replicas: i32,
    /// `maxReplicas`.
    pub max_replicas: i32,
    /// Target average CPU utilization in percent.
    pub cpu_utilization: i32,
}

/// How an image behaves when run; the simulator derives container behaviour from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageProfile {
    /// Whether the registry has it (otherwise ErrImagePull / ImagePullBackOff).
    pub exists: bool,
    /// Exits on its own after this many seconds with this exit code.
    pub exits_after: Option<(i64, i32)>,
    /// Memory the process needs, in MiB; a lower limit gets it OOMKilled.
    pub memory_mib: i64,
    /// Seconds until it allocates its working memory (when it would be OOMKilled).
    pub warmup_seconds: i64,
    /// HTTP paths that answer 200; other probed paths fail.
    pub healthy_paths: Vec<String>,
    /// Exit code on SIGTERM: 0 (Completed) or 143 (Error).
    pub sigterm_exit: i32,
    /// Seconds a pull takes.
    pub pull_seconds: i64,
    /// Image size in bytes, as the Pulled event reports it.
    pub size_bytes: i64,
    /// A ConfigMap key and a value the app cannot run with: it exits 1 about 2 s after starting
    /// or reloading with that value in any ConfigMap it reads (see `config_reads`).
    pub rejects: Option<(String, String)>,
}

impl ImageProfile {
    /// A well-behaved web server: 48 MiB, answers `/`, `/healthz`, `/ready`, exits 0 on SIGTERM.
    pub fn healthy() -> ImageProfile {
        ImageProfile {
            exists: true,
            exits_after: None,
            memory_mib: 48,
            warmup_seconds: 3,
            healthy_paths: vec![
                "/".into(),
                "/healthz".into(),
                "/ready".into(),
                "/index.html".into(),
            ],
            sigterm_exit: 0,
            pull_seconds: 2,
            size_bytes: 72_950_530,
            rejects: None,
        }
    }

    /// Makes the app exit 1 when a ConfigMap it reads holds `value` under `key`.
    pub fn rejects(mut self, key: &str, value: &str) -> ImageProfile {
        self.rejects = Some((key.to_string(), value.to_string()));
        self
    }

    /// Sets the memory the process needs.
    pub fn memory(mut self, mib: i64) -> ImageProfile {
        self.memory_mib = mib;
        self
    }

    /// Makes the process exit with `code` after `seconds`.
    pub fn crashes_after(mut self, seconds: i64, code: i32) -> ImageProfile {
        self.exits_after = Some((seconds, code));
        self
    }

    /// Makes the image missing from the registry.
    pub fn missing(mut self) -> ImageProfile {
        self.exists = false;
        self
    }

    /// Sets the exit code on SIGTERM.
    pub fn sigterm_exit(mut self, code: i32) -> ImageProfile {
        self.sigterm_exit = code;
        self
    }
}

/// Parses a memory quantity such as `64Mi`, `1Gi` or `128M` into MiB.
pub(crate) fn memory_mib(quantity: &str) -> Option<i64> {
    let split = quantity
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(quantity.len());
    let number: i64 = quantity[..split].parse().ok()?;
    let unit = match &quantity[split..] {
        "Ki" => return Some(number / 1024),
        "Mi" => 1,
        "Gi" => 1024,
        "M" => return Some(number * 1_000_000 / 1_048_576),
        "G" => return Some(number * 1_000_000_000 / 1_048_576),
        "" => return Some(number / 1_048_576),
        _ => return None,
    };
    Some(number * unit)
}

/// Parses a CPU quantity such as `250m`, `1` or `1.5` into millicores.
pub(crate) fn cpu_millis(quantity: &str) -> Option<i64> {
    if let Some(milli) = quantity.strip_suffix('m') {
        return milli.parse().ok();
    }
    let (whole, fraction) = quantity.split_once('.').unwrap_or((quantity, ""));
    let whole: i64 = whole.parse().ok()?;
    let digits = format!("{fraction:0<3}");
    let fraction: i64 = digits.get(..3)?.parse().ok()?;
    Some(whole * 1000 + fraction)
}
