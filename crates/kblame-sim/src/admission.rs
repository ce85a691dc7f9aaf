//! Admission: recorded Namespaces and a MutatingWebhookConfiguration (Istio's sidecar
//! injector), and what the webhook does to a pod at create time.
//!
//! The dispatch follows Kubernetes v1.31
//! `staging/src/k8s.io/apiserver/pkg/admission/plugin/webhook/mutating/dispatcher.go`: webhooks
//! are called in order (configurations sorted by name, then their webhooks), `index` counts
//! every webhook of that list whether called or not, and each called one adds the audit
//! annotation `mutation.webhook.admission.k8s.io/round_0_index_{i}` =
//! `{"configuration","webhook","mutated"}` (logged from level Metadata); one whose patch
//! changed the object also adds `patch.webhook.admission.k8s.io/round_0_index_{i}` =
//! `{"configuration","webhook","patch","patchType":"JSONPatch"}`, logged only from level Request
//! (`AddAnnotationWithLevel(..., LevelRequest)`).
//!
//! The injected sidecar follows Istio 1.23's default injection template (`istio-init`,
//! `istio-proxy`, its volumes, the `sidecar.istio.io/status` annotation, the
//! `security.istio.io/tlsMode` and `service.istio.io/canonical-*` labels) and its default HTTP
//! probe rewriting (`rewriteAppHTTPProbe`): each app container's HTTP readiness and liveness
//! probe is pointed at the agent (`/app-health/<container>/readyz` or `livez` on port 15020),
//! which forwards to the original kept in `ISTIO_KUBE_APP_PROBERS`. Built-in admission runs first (the ServiceAccount plugin's
//! `kube-api-access-*` volume, default tolerations, priority); when the webhook changed the
//! pod the ServiceAccount plugin is invoked again and mounts the token into the injected
//! containers too (admission reinvocation).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::audit::{Annotation, AuditLevel};
use super::model::{Meta, Object};
use super::truth::{InjectedTruth, ModifiedTruth};
use super::world::World;

/// The image of the injected proxy.
pub(crate) const PROXY_IMAGE: &str = "docker.io/istio/proxyv2:1.23.2";
const CONFIGURATION: &str = "istio-sidecar-injector";
const TOKEN_MOUNT: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// A recorded Namespace (cluster-scoped).
#[derive(Debug, Clone)]
pub(crate) struct Namespace {
    pub(crate) meta: Meta,
}

impl Object for Namespace {
    const KIND: &'static str = "Namespace";
    const API_VERSION: &'static str = "v1";
    const RESOURCE: &'static str = "v1/namespaces";

    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }

    fn body(&self, out: &mut Map<String, Value>) {
        out.insert("spec".into(), json!({"finalizers": ["kubernetes"]}));
        out.insert("status".into(), json!({"phase": "Active"}));
    }

    fn render(&self) -> Value {
        cluster_scoped(self)
    }
}

/// A recorded `admissionregistration.k8s.io/v1` MutatingWebhookConfiguration.
#[derive(Debug, Clone)]
pub(crate) struct WebhookConfiguration {
    pub(crate) meta: Meta,
    pub(crate) webhooks: Vec<Value>,
}

impl Object for WebhookConfiguration {
    const KIND: &'static str = "MutatingWebhookConfiguration";
    const API_VERSION: &'static str = "admissionregistration.k8s.io/v1";
    const RESOURCE: &'static str = "admissionregistration.k8s.io/v1/mutatingwebhookconfigurations";

    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }

    fn body(&self, out: &mut Map<String, Value>) {
        out.insert("webhooks".into(), Value::Array(self.webhooks.clone()));
    }

    fn render(&self) -> Value {
        cluster_scoped(self)
    }
}

fn cluster_scoped<O: Object>(object: &O) -> Value {
    let mut map = Map::new();
    map.insert("kind".into(), json!(O::KIND));
    map.insert("apiVersion".into(), json!(O::API_VERSION));
    let mut metadata = object.meta().to_json();
    if let Some(m) = metadata.as_object_mut() {
        m.shift_remove("namespace");
    }
    map.insert("metadata".into(), metadata);
    object.body(&mut map);
    Value::Object(map)
}

/// The four webhooks of Istio's default (revision `default`) injector configuration.
fn istio_webhooks() -> Vec<Value> {
    let hook = |name: &str, namespace_selector: Value, object_selector: Value| {
        json!({
            "name": name,
            "clientConfig": {"service": {"namespace": "istio-system", "name": "istiod",
                "path": "/inject", "port": 443}, "caBundle": "LS0tLS1CRUdJTi...LS0tLQo="},
            "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"],
                "resources": ["pods"], "scope": "*"}],
            "failurePolicy": "Fail",
            "matchPolicy": "Equivalent",
            "namespaceSelector": namespace_selector,
            "objectSelector": object_selector,
            "sideEffects": "None",
            "timeoutSeconds": 10,
            "admissionReviewVersions": ["v1beta1", "v1"],
            "reinvocationPolicy": "Never"
        })
    };
    let expr = |key: &str, op: &str, values: &[&str]| {
        if values.is_empty() {
            json!({"key": key, "operator": op})
        } else {
            json!({"key": key, "operator": op, "values": values})
        }
    };
    vec![
        hook(
            "rev.namespace.sidecar-injector.istio.io",
            json!({"matchExpressions": [expr("istio.io/rev", "In", &["default"]),
                expr("istio-injection", "DoesNotExist", &[])]}),
            json!({"matchExpressions": [expr("sidecar.istio.io/inject", "NotIn", &["false"])]}),
        ),
        hook(
            "rev.object.sidecar-injector.istio.io",
            json!({"matchExpressions": [expr("istio.io/rev", "DoesNotExist", &[]),
                expr("istio-injection", "DoesNotExist", &[])]}),
            json!({"matchExpressions": [expr("sidecar.istio.io/inject", "NotIn", &["false"]),
                expr("istio.io/rev", "In", &["default"])]}),
        ),
        hook(
            "namespace.sidecar-injector.istio.io",
            json!({"matchExpressions": [expr("istio-injection", "In", &["enabled"])]}),
            json!({"matchExpressions": [expr("sidecar.istio.io/inject", "NotIn", &["false"])]}),
        ),
        hook(
            "object.sidecar-injector.istio.io",
            json!({"matchExpressions": [expr("istio-injection", "DoesNotExist", &[]),
                expr("istio.io/rev", "DoesNotExist", &[])]}),
            json!({"matchExpressions": [expr("sidecar.istio.io/inject", "In", &["true"]),
                expr("istio.io/rev", "DoesNotExist", &[])]}),
        ),
    ]
}

/// Whether a `metav1.LabelSelector` (matchLabels and matchExpressions) selects `labels`.
pub(crate) fn selects(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
    let labelled = selector["matchLabels"].as_object().into_iter().flatten();
    for (key, value) in labelled {
        if labels.get(key).map(String::as_str) != value.as_str() {
            return false;
        }
    }
    let expressions = selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten();
    for e in expressions {
        let key = e["key"].as_str().unwrap_or_default();
        let values: Vec<&str> = e["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let have = labels.get(key).map(String::as_str);
        let ok = match e["operator"].as_str().unwrap_or_default() {
            "In" => have.is_some_and(|v| values.contains(&v)),
            "NotIn" => !have.is_some_and(|v| values.contains(&v)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// What admission did to one pod: the audit annotations and the injected paths.
#[derive(Debug, Default)]
pub(crate) struct Admitted {
    pub(crate) annotations: Vec<Annotation>,
    pub(crate) injected: Vec<InjectedTruth>,
    pub(crate) modified: Vec<ModifiedTruth>,
}

impl World {
    /// `kubectl create namespace` with `labels` (plus `kubernetes.io/metadata.name`, which the
    /// NamespaceDefaultLabelName admission plugin adds).
    pub(crate) fn create_namespace(&mut self, name: &str, labels: &[(&str, &str)]) {
        let uid = self.uid();
        let mut meta = Meta::new("", name, uid, self.core.now);
        meta.labels = labels
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        meta.labels
            .insert("kubernetes.io/metadata.name".into(), name.into());
        let mut namespace = Namespace { meta };
        let writer = super::fields::Writer::update("kubectl-create");
        self.core.commit(
            &mut namespace,
            Some(&writer),
            None,
            kblame::trace::EventType::Added,
        );
        self.namespaces.insert(name.to_string(), namespace);
    }

    /// Installs Istio's injector configuration (by helm, as the `istiod` chart does).
    pub(crate) fn install_istio_injector(&mut self) {
        let uid = self.uid();
        let mut meta = Meta::new("", CONFIGURATION, uid, self.core.now);
        meta.labels = [
            ("app", "sidecar-injector"),
            ("app.kubernetes.io/managed-by", "Helm"),
            ("istio.io/rev", "default"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut configuration = WebhookConfiguration {
            meta,
            webhooks: istio_webhooks(),
        };
        let writer = super::fields::Writer::update("helm");
        self.core.commit(
            &mut configuration,
            Some(&writer),
            None,
            kblame::trace::EventType::Added,
        );
        self.webhook_configs
            .insert(CONFIGURATION.to_string(), configuration);
    }

    /// Runs the mutating webhooks on a pod being created (after built-in admission wrote
    /// `spec`): returns the audit annotations and what was injected. Does nothing without
    /// webhook configurations.
    pub(crate) fn admit_pod(&self, meta: &mut Meta, spec: &mut Value) -> Admitted {
        let mut admitted = Admitted::default();
        if self.webhook_configs.is_empty() {
            return admitted;
        }
        let namespace_labels = self
            .namespaces
            .get(&meta.namespace)
            .map(|n| n.meta.labels.clone())
            .unwrap_or_else(|| {
                BTreeMap::from([(
                    "kubernetes.io/metadata.name".to_string(),
                    meta.namespace.clone(),
                )])
            });
        let mut index = 0;
        for (configuration, config) in &self.webhook_configs {
            for hook in &config.webhooks {
                let called = selects(&hook["namespaceSelector"], &namespace_labels)
                    && selects(&hook["objectSelector"], &meta.labels);
                if called {
                    let webhook = hook["name"].as_str().unwrap_or_default();
                    let patch = inject_sidecar(meta, spec, &mut admitted);
                    for item in &mut admitted.injected {
                        item.webhook = webhook.to_string();
                        item.configuration = configuration.clone();
                    }
                    for item in &mut admitted.modified {
                        item.webhook = webhook.to_string();
                        item.configuration = configuration.clone();
                    }
                    let key = format!("round_0_index_{index}");
                    let mutation = json!({"configuration": configuration, "webhook": webhook,
                        "mutated": true});
                    admitted.annotations.push((
                        format!("mutation.webhook.admission.k8s.io/{key}"),
                        mutation.to_string(),
                        AuditLevel::Metadata,
                    ));
                    let patch = json!({"configuration": configuration, "webhook": webhook,
                        "patch": patch, "patchType": "JSONPatch"});
                    admitted.annotations.push((
                        format!("patch.webhook.admission.k8s.io/{key}"),
                        patch.to_string(),
                        AuditLevel::Request,
                    ));
                }
                index += 1;
            }
        }
        admitted
    }
}

/// Escapes a JSON Pointer token (`/` → `~1`, `~` → `~0`).
fn pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Istio's injection: applies it to `meta` and `spec`, notes the injected paths, and returns
/// the JSON patch the webhook answers with.
fn inject_sidecar(meta: &mut Meta, spec: &mut Value, admitted: &mut Admitted) -> Value {
    let mut ops = Vec::new();
    let probers = rewrite_probes(spec, &mut ops, &mut admitted.modified);
    let injected = &mut admitted.injected;
    let mut note = |path: String| {
        injected.push(InjectedTruth {
            path,
            ..InjectedTruth::default()
        })
    };
    let app = spec["containers"][0]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let canonical = meta
        .labels
        .get("app")
        .cloned()
        .unwrap_or_else(|| meta.name.clone());
    let labels = [
        ("security.istio.io/tlsMode", "istio".to_string()),
        ("service.istio.io/canonical-name", canonical),
        ("service.istio.io/canonical-revision", "latest".to_string()),
    ];
    for (key, value) in labels {
        ops.push(
            json!({"op": "add", "path": format!("/metadata/labels/{}", pointer(key)),
            "value": value}),
        );
        note(format!("metadata.labels[\"{key}\"]"));
        meta.labels.insert(key.to_string(), value);
    }
    let volumes = [
        json!({"name": "workload-socket", "emptyDir": {}}),
        json!({"name": "istio-envoy", "emptyDir": {"medium": "Memory"}}),
        json!({"name": "istio-data", "emptyDir": {}}),
        json!({"name": "istio-podinfo", "downwardAPI": {"items": [
            {"path": "labels", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.labels"}},
            {"path": "annotations", "fieldRef": {"apiVersion": "v1",
                "fieldPath": "metadata.annotations"}}], "defaultMode": 420}}),
        json!({"name": "istio-token", "projected": {"sources": [{"serviceAccountToken": {
            "audience": "istio-ca", "expirationSeconds": 43200, "path": "istio-token"}}],
            "defaultMode": 420}}),
        json!({"name": "istiod-ca-cert", "configMap": {"name": "istio-ca-root-cert",
            "defaultMode": 420}}),
    ];
    let names: Vec<&str> = volumes.iter().filter_map(|v| v["name"].as_str()).collect();
    let status = json!({"initContainers": ["istio-init"], "containers": ["istio-proxy"],
        "volumes": names, "imagePullSecrets": null, "revision": "default"})
    .to_string();
    let annotations = [
        ("istio.io/rev", "default".to_string()),
        ("kubectl.kubernetes.io/default-container", app.clone()),
        ("kubectl.kubernetes.io/default-logs-container", app),
        ("prometheus.io/path", "/stats/prometheus".to_string()),
        ("prometheus.io/port", "15020".to_string()),
        ("prometheus.io/scrape", "true".to_string()),
        ("sidecar.istio.io/status", status),
    ];
    if meta.annotations.is_empty() {
        ops.push(json!({"op": "add", "path": "/metadata/annotations", "value": {}}));
    }
    for (key, value) in annotations {
        ops.push(json!({"op": "add",
            "path": format!("/metadata/annotations/{}", pointer(key)), "value": value}));
        note(format!("metadata.annotations[\"{key}\"]"));
        meta.annotations.insert(key.to_string(), value);
    }
    let token_mount = spec["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|v| {
            v["name"]
                .as_str()
                .filter(|n| n.starts_with("kube-api-access-"))
        })
        .map(|n| json!({"name": n, "readOnly": true, "mountPath": TOKEN_MOUNT}));
    let mut proxy = proxy_container();
    if let (false, Some(env)) = (probers.is_empty(), proxy["env"].as_array_mut()) {
        let value = Value::Object(probers).to_string();
        env.push(json!({"name": "ISTIO_KUBE_APP_PROBERS", "value": value}));
    }
    let init = init_container();
    ops.push(json!({"op": "add", "path": "/spec/initContainers", "value": [init]}));
    note("spec.initContainers[name=istio-init]".into());
    let count = spec["containers"].as_array().map_or(0, Vec::len);
    ops.push(json!({"op": "add", "path": format!("/spec/containers/{count}"), "value": proxy}));
    note("spec.containers[name=istio-proxy]".into());
    let start = spec["volumes"].as_array().map_or(0, Vec::len);
    for (i, volume) in volumes.iter().enumerate() {
        ops.push(
            json!({"op": "add", "path": format!("/spec/volumes/{}", start + i),
            "value": volume}),
        );
        note(format!(
            "spec.volumes[name={}]",
            volume["name"].as_str().unwrap_or_default()
        ));
    }
    // Reinvoked, the ServiceAccount plugin mounts the token into the injected containers.
    let with_token = |mut c: Value| {
        if let (Some(mount), Some(mounts)) = (&token_mount, c["volumeMounts"].as_array_mut()) {
            mounts.push(mount.clone());
        }
        c
    };
    if let Some(map) = spec.as_object_mut() {
        let mut rebuilt = Map::new();
        for (key, value) in std::mem::take(map) {
            if key == "containers" {
                rebuilt.insert(
                    "initContainers".into(),
                    json!([with_token(init_container())]),
                );
            }
            rebuilt.insert(key, value);
        }
        *map = rebuilt;
    }
    if let Some(list) = spec["containers"].as_array_mut() {
        list.push(with_token(proxy));
    }
    if let Some(list) = spec["volumes"].as_array_mut() {
        list.extend(volumes);
    }
    Value::Array(ops)
}

/// Points each app container's HTTP readiness and liveness probe at the Istio agent; returns
/// the originals by their new paths (`ISTIO_KUBE_APP_PROBERS`).
fn rewrite_probes(
    spec: &mut Value,
    ops: &mut Vec<Value>,
    modified: &mut Vec<ModifiedTruth>,
) -> Map<String, Value> {
    let mut probers = Map::new();
    let containers = spec["containers"].as_array_mut().into_iter().flatten();
    for (i, container) in containers.enumerate() {
        let name = container["name"].as_str().unwrap_or_default().to_string();
        for (probe, suffix) in [("readinessProbe", "readyz"), ("livenessProbe", "livez")] {
            if container[probe]["httpGet"].is_null() {
                continue;
            }
            let new_path = format!("/app-health/{name}/{suffix}");
            let timeout = container[probe]["timeoutSeconds"].clone();
            let get = &mut container[probe]["httpGet"];
            probers.insert(
                new_path.clone(),
                json!({"httpGet": get.clone(), "timeoutSeconds": timeout}),
            );
            for (field, to) in [("path", json!(new_path)), ("port", json!(15020))] {
                let from = get[field].clone();
                ops.push(json!({"op": "replace",
                    "path": format!("/spec/containers/{i}/{probe}/httpGet/{field}"), "value": to}));
                modified.push(ModifiedTruth {
                    path: format!("spec.containers[name={name}].{probe}.httpGet.{field}"),
                    from,
                    to: to.clone(),
                    ..ModifiedTruth::default()
                });
                get[field] = to;
            }
        }
    }
    probers
}

fn istio_resources() -> Value {
    json!({"limits": {"cpu": "2", "memory": "1Gi"}, "requests": {"cpu": "10m", "memory": "40Mi"}})
}

/// Istio's `istio-init`: sets up the pod's iptables redirection, then exits.
pub(crate) fn init_container() -> Value {
    json!({
        "name": "istio-init",
        "image": PROXY_IMAGE,
        "args": ["istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT",
            "-i", "*", "-x", "", "-b", "*", "-d", "15090,15021,15020",
            "--log_output_level=default:info"],
        "resources": istio_resources(),
        "volumeMounts": [],
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent",
        "securityContext": {"capabilities": {"add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]},
            "privileged": false, "runAsUser": 0, "runAsGroup": 0, "runAsNonRoot": false,
            "readOnlyRootFilesystem": false, "allowPrivilegeEscalation": false}
    })
}

/// Istio's `istio-proxy` sidecar (Envoy and its agent).
fn proxy_container() -> Value {
    let field = |path: &str| json!({"fieldRef": {"apiVersion": "v1", "fieldPath": path}});
    json!({
        "name": "istio-proxy",
        "image": PROXY_IMAGE,
        "args": ["proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local",
            "--proxyLogLevel=warning", "--proxyComponentLogLevel=misc:error",
            "--log_output_level=default:info"],
        "ports": [{"name": "http-envoy-prom", "containerPort": 15090, "protocol": "TCP"}],
        "env": [
            {"name": "PILOT_CERT_PROVIDER", "value": "istiod"},
            {"name": "CA_ADDR", "value": "istiod.istio-system.svc:15012"},
            {"name": "POD_NAME", "valueFrom": field("metadata.name")},
            {"name": "POD_NAMESPACE", "valueFrom": field("metadata.namespace")},
            {"name": "INSTANCE_IP", "valueFrom": field("status.podIP")},
            {"name": "SERVICE_ACCOUNT", "valueFrom": field("spec.serviceAccountName")},
            {"name": "ISTIO_META_CLUSTER_ID", "value": "Kubernetes"}
        ],
        "resources": istio_resources(),
        "volumeMounts": [
            {"name": "workload-socket", "mountPath": "/var/run/secrets/workload-spiffe-uds"},
            {"name": "istiod-ca-cert", "mountPath": "/var/run/secrets/istio"},
            {"name": "istio-data", "mountPath": "/var/lib/istio/data"},
            {"name": "istio-token", "mountPath": "/var/run/secrets/tokens"},
            {"name": "istio-envoy", "mountPath": "/etc/istio/proxy"},
            {"name": "istio-podinfo", "mountPath": "/etc/istio/pod"}
        ],
        "readinessProbe": {"httpGet": {"path": "/healthz/ready", "port": 15021, "scheme": "HTTP"},
            "initialDelaySeconds": 1, "timeoutSeconds": 3, "periodSeconds": 15,
            "successThreshold": 1, "failureThreshold": 4},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent",
        "securityContext": {"capabilities": {"drop": ["ALL"]}, "privileged": false,
            "runAsUser": 1337, "runAsGroup": 1337, "runAsNonRoot": true,
            "readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_namespace_webhook_selects_a_labelled_namespace() {
        let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect()
        };
        let enabled = labels(&[("istio-injection", "enabled")]);
        let plain = labels(&[("kubernetes.io/metadata.name", "web")]);
        let pod = labels(&[("app", "web")]);
        let called: Vec<&str> = istio_webhooks()
            .iter()
            .filter(|h| {
                selects(&h["namespaceSelector"], &enabled) && selects(&h["objectSelector"], &pod)
            })
            .filter_map(|h| h["name"].as_str())
            .map(|n| {
                if n.starts_with("namespace.") {
                    "ns"
                } else {
                    "other"
                }
            })
            .collect();
        assert_eq!(called, vec!["ns"]);
        assert!(!istio_webhooks().iter().any(
            |h| selects(&h["namespaceSelector"], &plain) && selects(&h["objectSelector"], &pod)
        ));
    }
}
