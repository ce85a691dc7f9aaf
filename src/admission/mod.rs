//! Where a pod's fields came from when its template does not hold them (issue 13): what
//! mutating admission webhooks injected or changed, told apart from what built-in admission,
//! defaulting and the controllers add.
//!
//! A pod is its controller's template plus what the controller adds (labels, a StatefulSet's
//! hostname, a DaemonSet's node affinity and tolerations), then what admission does to the create
//! request — built-in plugins (`ServiceAccount`, `DefaultTolerationSeconds`, `Priority`),
//! defaulting (`SetDefaults_Pod`), and mutating webhooks in rounds
//! (`staging/src/k8s.io/apiserver/pkg/admission/plugin/webhook/mutating/dispatcher.go`) — and
//! later the scheduler's binding (`spec.nodeName`). The API server's audit log tells which
//! webhooks mutated the request (`mutation.webhook.admission.k8s.io/round_{r}_index_{i}`) and,
//! at level Request or above, their patches (`patch.webhook.admission.k8s.io/round_{r}_index_{i}`);
//! without it only the recorded MutatingWebhookConfigurations whose rules and selectors match
//! the pod are candidates, and an answer says it is inference.

mod builtin;
mod webhooks;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::history::diff::diff_at;
use crate::history::path::{FieldPath, Segment};
use crate::workload::kinds::Workload;

pub use builtin::{builtin_source, is_daemon_toleration, is_label};
pub use webhooks::{
    calls_from_annotations, candidates, Candidate, Candidates, Excluded, WebhookCall,
};

/// The cluster-scoped kinds a pod question reads to tell which webhooks could have mutated it.
pub const CONFIGURATION_KINDS: &[&str] = &["MutatingWebhookConfiguration"];

/// A field of the pod its template did not have (a container, a volume, an annotation).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Injected {
    /// The item or key added: `spec.containers[name=istio-proxy]`,
    /// `metadata.annotations["sidecar.istio.io/status"]`.
    pub path: FieldPath,
    /// The webhook that did it, when known or inferred.
    pub webhook: Option<String>,
    /// Its MutatingWebhookConfiguration.
    pub configuration: Option<String>,
    /// Whether `webhook` is inferred (no audit evidence names it).
    pub inferred: bool,
    /// What the attribution rests on.
    pub evidence: String,
}

/// A field of the pod whose value differs from its template's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Modified {
    /// The leaf.
    pub path: FieldPath,
    /// The template's value.
    pub from: Value,
    /// The pod's value (`null`: removed).
    pub to: Value,
    /// The webhook that did it, when known or inferred.
    pub webhook: Option<String>,
    /// Its MutatingWebhookConfiguration.
    pub configuration: Option<String>,
    /// Whether `webhook` is inferred.
    pub inferred: bool,
    /// What the attribution rests on.
    pub evidence: String,
}

/// A difference built-in admission, defaulting, the scheduler or the pod's controller made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Builtin {
    /// The item, key or leaf.
    pub path: FieldPath,
    /// Who adds it, with the Kubernetes source.
    pub source: String,
}

/// The differences between a pod and its template, sorted by who made them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Differences {
    /// Items and keys the template lacks, not built in.
    pub injected: Vec<FieldPath>,
    /// Leaves whose value differs, not built in: `(path, template's, pod's)`.
    pub modified: Vec<(FieldPath, Value, Value)>,
    /// What built-in admission, defaulting, the scheduler or the controller added.
    pub builtin: Vec<Builtin>,
}

/// Compares a pod body (its first record) with the template its controller created it from.
/// `controller` is the workload kind of the pod's controller (`ReplicaSet`, `StatefulSet`, …), whose
/// own additions are built in. Only `metadata.labels`, `metadata.annotations` and `spec` are
/// compared: the rest of the metadata is the API server's, `status` the kubelet's.
pub fn differences(
    template: &Value,
    pod: &Value,
    controller: Option<&dyn Workload>,
) -> Differences {
    let mut out = Differences::default();
    let null = Value::Null;
    // The pod's spec first: containers and volumes matter more than labels.
    let parts = [
        (FieldPath::root().child_field("spec"), "/spec"),
        (
            FieldPath::root()
                .child_field("metadata")
                .child_field("labels"),
            "/metadata/labels",
        ),
        (
            FieldPath::root()
                .child_field("metadata")
                .child_field("annotations"),
            "/metadata/annotations",
        ),
    ];
    for (base, pointer) in parts {
        let before = template.pointer(pointer).unwrap_or(&null);
        let after = pod.pointer(pointer).unwrap_or(&null);
        for change in diff_at(before, after, &base) {
            let (path, added) = match change.from.is_null() {
                // The item or key that is new, not each leaf inside it.
                true => (first_absent(&change.path, template), true),
                false => (change.path.clone(), false),
            };
            let value = path.value_in(pod).unwrap_or(&null);
            if let Some(source) = builtin_source(&path, value, controller) {
                if !out.builtin.iter().any(|b| b.path == path) {
                    out.builtin.push(Builtin { path, source });
                }
                continue;
            }
            match added {
                true if !out.injected.contains(&path) => out.injected.push(path),
                true => {}
                false => out.modified.push((path, change.from, change.to)),
            }
        }
    }
    out
}

/// The unit `template` lacks on the way to `path`: the first absent prefix, carried on to the
/// list item (`spec.initContainers[name=istio-init]`, not the whole list the template lacked)
/// or to the label or annotation key (`metadata.annotations["sidecar.istio.io/status"]`);
/// `path` itself when every prefix exists.
fn first_absent(path: &FieldPath, template: &Value) -> FieldPath {
    let segments = path.segments();
    let mut prefix = FieldPath::root();
    for (i, segment) in segments.iter().enumerate() {
        prefix = prefix.child(segment.clone());
        if prefix.value_in(template).is_some() {
            continue;
        }
        let next = segments.get(i + 1);
        let holds_items = matches!(next, Some(Segment::Key { .. }) | Some(Segment::Index(_)));
        let text = prefix.to_string();
        let holds_keys = text == "metadata.labels" || text == "metadata.annotations";
        if let (Some(next), true) = (next, holds_items || holds_keys) {
            prefix = prefix.child(next.clone());
        }
        return prefix;
    }
    path.clone()
}

/// Attributes each injected and modified field to the webhook that made it: from the audited
/// patches when the create request's audit event holds them, else from the audited calls (one
/// webhook that mutated: it; several: none named), else from the candidates (one: it, inferred;
/// several: none named).
pub fn attribute(
    differences: &Differences,
    calls: Option<&[WebhookCall]>,
    audit_id: Option<&str>,
    candidates: Option<&Candidates>,
    template: &Value,
) -> (Vec<Injected>, Vec<Modified>) {
    let who = |path: &FieldPath| -> (Option<String>, Option<String>, bool, String) {
        if let Some(calls) = calls {
            let audit = audit_id.map_or(String::new(), |id| format!(" (audit ID {id})"));
            if let Some((call, op)) = calls
                .iter()
                .find_map(|c| c.touched(path, template).map(|op| (c, op)))
            {
                return (
                    Some(call.webhook.clone()),
                    Some(call.configuration.clone()),
                    false,
                    format!(
                        "the create request's audit event{audit}: {} names webhook {} of {}, whose patch did {op}",
                        call.annotation_key("patch"),
                        call.webhook,
                        call.configuration
                    ),
                );
            }
            let mutated: Vec<&WebhookCall> = calls.iter().filter(|c| c.mutated).collect();
            return match mutated.as_slice() {
                [one] => (
                    Some(one.webhook.clone()),
                    Some(one.configuration.clone()),
                    false,
                    format!(
                        "the create request's audit event{audit}: {} says webhook {} of {} mutated the pod, the only one that did (its patch is not in the log: level Metadata)",
                        one.annotation_key("mutation"),
                        one.webhook,
                        one.configuration
                    ),
                ),
                [] => (
                    None,
                    None,
                    false,
                    format!("the create request's audit event{audit} shows no webhook mutated the pod: the difference is not a webhook's"),
                ),
                several => (
                    None,
                    None,
                    false,
                    format!(
                        "the create request's audit event{audit} shows {} webhooks mutated the pod ({}), and holds no patches to tell which did this",
                        several.len(),
                        several.iter().map(|c| c.webhook.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                ),
            };
        }
        match candidates.map(|c| c.matched.as_slice()) {
            Some([one]) => (
                Some(one.webhook.clone()),
                Some(one.configuration.clone()),
                true,
                format!(
                    "inferred: webhook {} of MutatingWebhookConfiguration {} is the only recorded mutating webhook whose rules and selectors match this pod; no audit log says it ran",
                    one.webhook, one.configuration
                ),
            ),
            Some([]) => (
                None,
                None,
                true,
                "no recorded mutating webhook matches this pod, and no audit log was given".to_string(),
            ),
            Some(several) => (
                None,
                None,
                true,
                format!(
                    "inferred: {} recorded mutating webhooks match this pod ({}); without an audit log, which did this is unknown",
                    several.len(),
                    several.iter().map(|c| c.webhook.as_str()).collect::<Vec<_>>().join(", ")
                ),
            ),
            None => (
                None,
                None,
                true,
                "MutatingWebhookConfigurations were not recorded and no audit log was given: who did this is unknown".to_string(),
            ),
        }
    };
    let injected = differences
        .injected
        .iter()
        .map(|path| {
            let (webhook, configuration, inferred, evidence) = who(path);
            Injected {
                path: path.clone(),
                webhook,
                configuration,
                inferred,
                evidence,
            }
        })
        .collect();
    let modified = differences
        .modified
        .iter()
        .map(|(path, from, to)| {
            let (webhook, configuration, inferred, evidence) = who(path);
            Modified {
                path: path.clone(),
                from: from.clone(),
                to: to.clone(),
                webhook,
                configuration,
                inferred,
                evidence,
            }
        })
        .collect();
    (injected, modified)
}

/// A JSON Pointer (RFC 6901) as a field path, list indexes resolved against `doc` to the item's
/// merge key where it has one (`/spec/containers/1` → `spec.containers[name=istio-proxy]`); an
/// append (`-`) names the item by `value`'s merge key. `None` for a pointer it cannot read.
pub(crate) fn pointer_path(pointer: &str, doc: &Value, value: Option<&Value>) -> Option<FieldPath> {
    let mut path = FieldPath::root();
    let mut at = Some(doc);
    let tokens: Vec<String> = pointer
        .strip_prefix('/')?
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    for (i, token) in tokens.iter().enumerate() {
        let last = i + 1 == tokens.len();
        let field = match path.last() {
            Some(Segment::Field(f)) => f.clone(),
            _ => String::new(),
        };
        let item_token = token == "-" || token.parse::<usize>().is_ok();
        let items = match at {
            Some(Value::Array(items)) => Some(items.as_slice()),
            // A list the document lacks yet (the webhook saw it after built-in admission).
            None if item_token && list_key(&field).is_some() => Some(&[][..]),
            _ => None,
        };
        match (items, at) {
            (Some(items), _) => {
                let item = token.parse::<usize>().ok().and_then(|n| items.get(n));
                let named = match (item, last) {
                    (Some(item), _) => item,
                    (None, true) => value?,
                    (None, false) => return None,
                };
                match list_key(&field).and_then(|k| named.get(k).map(|v| (k, v))) {
                    Some((k, v)) => path.push_key(k, v.clone()),
                    None => path.push_index(token.parse::<usize>().unwrap_or(items.len())),
                }
                at = item;
            }
            (None, Some(Value::Object(map))) => {
                path.push_field(token.clone());
                at = map.get(token.as_str());
            }
            _ => {
                path.push_field(token.clone());
                at = None;
            }
        }
    }
    Some(path)
}

/// The merge key of the pod lists a webhook patches.
fn list_key(field: &str) -> Option<&'static str> {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "volumeMounts"
        | "imagePullSecrets" => Some("name"),
        _ => None,
    }
}

/// The keys of an object as a map, for selectors.
pub(crate) fn labels_of(body: &Value, pointer: &str) -> Map<String, Value> {
    body.pointer(pointer)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template() -> Value {
        json!({"metadata": {"labels": {"app": "web", "pod-template-hash": "abc"}},
               "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}],
                        "restartPolicy": "Always"}})
    }

    fn pod() -> Value {
        json!({"metadata": {"labels": {"app": "web", "pod-template-hash": "abc",
                                       "security.istio.io/tlsMode": "istio"},
                            "annotations": {"sidecar.istio.io/status": "{\"containers\":[\"istio-proxy\"]}"}},
               "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                                        "volumeMounts": [{"name": "kube-api-access-x1y2z", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true},
                                                         {"name": "istio-envoy", "mountPath": "/etc/istio/proxy"}]},
                                       {"name": "istio-proxy", "image": "istio/proxyv2:1.23.0", "args": ["proxy"]}],
                        "initContainers": [{"name": "istio-init", "image": "istio/proxyv2:1.23.0"}],
                        "volumes": [{"name": "kube-api-access-x1y2z", "projected": {"sources": []}},
                                    {"name": "istio-envoy", "emptyDir": {}}],
                        "restartPolicy": "Always",
                        "serviceAccountName": "default", "serviceAccount": "default",
                        "nodeName": "node-1", "priority": 0, "enableServiceLinks": true,
                        "preemptionPolicy": "PreemptLowerPriority",
                        "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                                        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]}})
    }

    #[test]
    fn a_sidecar_is_injected_whole_and_built_in_admission_is_told_apart() {
        let d = differences(&template(), &pod(), None);
        let injected: Vec<String> = d.injected.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            injected,
            [
                "spec.containers[name=web].volumeMounts[name=istio-envoy]",
                "spec.containers[name=istio-proxy]",
                "spec.initContainers[name=istio-init]",
                "spec.volumes[name=istio-envoy]",
                "metadata.labels[\"security.istio.io/tlsMode\"]",
                "metadata.annotations[\"sidecar.istio.io/status\"]",
            ]
        );
        let builtin: Vec<String> = d.builtin.iter().map(|b| b.path.to_string()).collect();
        for want in [
            "spec.volumes[name=kube-api-access-x1y2z]",
            "spec.containers[name=web].volumeMounts[name=kube-api-access-x1y2z]",
            "spec.serviceAccountName",
            "spec.nodeName",
            "spec.priority",
            "spec.enableServiceLinks",
            "spec.tolerations[0]",
        ] {
            assert!(builtin.contains(&want.to_string()), "{want} in {builtin:?}");
        }
        assert!(d.modified.is_empty(), "{:?}", d.modified);
    }

    #[test]
    fn a_json_patch_pointer_names_list_items_by_key() {
        let doc = template();
        let added = json!({"name": "istio-proxy"});
        let path = pointer_path("/spec/containers/-", &doc, Some(&added)).expect("a path");
        assert_eq!(path.to_string(), "spec.containers[name=istio-proxy]");
        let path = pointer_path("/spec/containers/0/image", &doc, None).expect("a path");
        assert_eq!(path.to_string(), "spec.containers[name=web].image");
        let path = pointer_path("/metadata/annotations/sidecar.istio.io~1status", &doc, None)
            .expect("a path");
        assert_eq!(
            path.to_string(),
            "metadata.annotations[\"sidecar.istio.io/status\"]"
        );
    }
}
