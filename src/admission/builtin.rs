//! What built-in admission, defaulting, the scheduler and a pod's controller add to a pod
//! beyond its template (Kubernetes v1.31), so that it is never taken for a webhook's work.

use serde_json::Value;

use crate::history::path::{FieldPath, Segment};
use crate::workload::kinds::Workload;

/// The ServiceAccount admission plugin's token volume name prefix
/// (`plugin/pkg/admission/serviceaccount/admission.go`: `kube-api-access-` + random suffix).
const TOKEN_VOLUME: &str = "kube-api-access-";

/// Who adds `path` (with `value`, the pod's value there) when not the template, for a pod whose
/// controller is the workload kind `controller` (its own additions: [`Workload::pod_addition`]);
/// `None` when nothing built in does.
pub fn builtin_source(
    path: &FieldPath,
    value: &Value,
    controller: Option<&dyn Workload>,
) -> Option<String> {
    let segments = path.segments();
    let text = path.to_string();
    let field = |i: usize| match segments.get(i) {
        Some(Segment::Field(f)) => Some(f.as_str()),
        _ => None,
    };
    let key_value = |i: usize| match segments.get(i) {
        Some(Segment::Key { value, .. }) => value.as_str(),
        _ => None,
    };
    let source = match (field(0), field(1)) {
        (Some("spec"), Some("volumes")) if key_value(2).is_some_and(is_token_volume) => {
            "the ServiceAccount admission plugin's token volume (plugin/pkg/admission/serviceaccount admission.go mountServiceAccountToken)"
        }
        (Some("spec"), Some("containers" | "initContainers" | "ephemeralContainers"))
            if field(3) == Some("volumeMounts") && key_value(4).is_some_and(is_token_volume) =>
        {
            "the ServiceAccount admission plugin's token mount (plugin/pkg/admission/serviceaccount admission.go mountServiceAccountToken)"
        }
        (Some("spec"), Some("serviceAccountName" | "serviceAccount")) if segments.len() == 2 => {
            "the ServiceAccount admission plugin's default service account (plugin/pkg/admission/serviceaccount admission.go)"
        }
        (Some("spec"), Some("priority" | "preemptionPolicy" | "priorityClassName"))
            if segments.len() == 2 =>
        {
            "the Priority admission plugin (plugin/pkg/admission/priority admission.go)"
        }
        (Some("spec"), Some("enableServiceLinks")) if segments.len() == 2 => {
            "defaulting (pkg/apis/core/v1 defaults.go SetDefaults_Pod)"
        }
        (Some("spec"), Some("nodeName")) if segments.len() == 2 => {
            "the scheduler's binding (pods/binding)"
        }
        (Some("spec"), Some("tolerations")) if is_default_toleration(value) => {
            "the DefaultTolerationSeconds admission plugin (plugin/pkg/admission/defaulttolerationseconds)"
        }
        _ => return controller?.pod_addition(&text, value).map(str::to_string),
    };
    Some(source.to_string())
}

fn is_token_volume(name: &str) -> bool {
    name.starts_with(TOKEN_VOLUME)
}

/// `node.kubernetes.io/not-ready` or `unreachable`, `Exists`, `NoExecute`, 300 s.
fn is_default_toleration(value: &Value) -> bool {
    let key = value.get("key").and_then(Value::as_str);
    matches!(
        key,
        Some("node.kubernetes.io/not-ready") | Some("node.kubernetes.io/unreachable")
    ) && value.get("effect").and_then(Value::as_str) == Some("NoExecute")
        && value.get("tolerationSeconds").and_then(Value::as_i64) == Some(300)
}

/// Whether `path` is the pod label `name` (`metadata.labels["apps.kubernetes.io/pod-index"]`
/// or `metadata.labels.job-name`), for [`Workload::pod_addition`].
pub fn is_label(path: &str, names: &[&str]) -> bool {
    names.iter().any(|name| {
        path == format!("metadata.labels[{name:?}]") || path == format!("metadata.labels.{name}")
    })
}

/// The tolerations a DaemonSet's pods get (`AddOrUpdateDaemonPodTolerations`).
pub fn is_daemon_toleration(value: &Value) -> bool {
    let key = value.get("key").and_then(Value::as_str).unwrap_or_default();
    [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
        "node.kubernetes.io/disk-pressure",
        "node.kubernetes.io/memory-pressure",
        "node.kubernetes.io/pid-pressure",
        "node.kubernetes.io/unschedulable",
        "node.kubernetes.io/network-unavailable",
    ]
    .contains(&key)
}
