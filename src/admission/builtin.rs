//! What built-in admission, defaulting, the scheduler and a pod's controller add to a pod
//! beyond its template (Kubernetes v1.31), so that it is never taken for a webhook's work.

use serde_json::Value;

use crate::history::path::{FieldPath, Segment};

/// The ServiceAccount admission plugin's token volume name prefix
/// (`plugin/pkg/admission/serviceaccount/admission.go`: `kube-api-access-` + random suffix).
const TOKEN_VOLUME: &str = "kube-api-access-";

/// Who adds `path` (with `value`, the pod's value there) when not the template, for a pod whose
/// controller is `controller_kind`; `None` when nothing built in does.
pub fn builtin_source(path: &FieldPath, value: &Value, controller_kind: &str) -> Option<String> {
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
        _ => return controller_source(&text, value, controller_kind),
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

/// What the pod's controller adds beyond the template it copies.
fn controller_source(text: &str, value: &Value, controller_kind: &str) -> Option<String> {
    let label = |names: &[&str]| {
        names.iter().any(|name| {
            text == format!("metadata.labels[{name:?}]")
                || text == format!("metadata.labels.{name}")
        })
    };
    let identity = text == "spec.hostname" || text == "spec.subdomain";
    let source = match controller_kind {
        "StatefulSet"
            if identity
                || label(&[
                    "controller-revision-hash",
                    "statefulset.kubernetes.io/pod-name",
                    "apps.kubernetes.io/pod-index",
                ]) =>
        {
            "the StatefulSet controller (pkg/controller/statefulset stateful_set_utils.go newVersionedStatefulSetPod, updateIdentity)"
        }
        // volumeClaimTemplates become volumes (updateStorage).
        "StatefulSet" if text.starts_with("spec.volumes[") || text.contains("].volumeMounts[") => {
            "the StatefulSet controller's claim volumes (stateful_set_utils.go updateStorage)"
        }
        "DaemonSet"
            if text.starts_with("spec.affinity")
                || label(&["controller-revision-hash", "pod-template-generation"]) =>
        {
            "the DaemonSet controller (pkg/controller/daemon daemon_controller.go, util.ReplaceDaemonSetPodNodeNameNodeAffinity)"
        }
        "DaemonSet" if text.starts_with("spec.tolerations") && is_daemon_toleration(value) => {
            "the DaemonSet controller's tolerations (pkg/controller/daemon/util AddOrUpdateDaemonPodTolerations)"
        }
        "Job"
            if identity
                || text.starts_with("metadata.annotations[\"batch.kubernetes.io/")
                || text.contains("].env[name=JOB_COMPLETION_INDEX]")
                || label(&[
                    "batch.kubernetes.io/controller-uid",
                    "batch.kubernetes.io/job-name",
                    "controller-uid",
                    "job-name",
                    "batch.kubernetes.io/job-completion-index",
                ]) =>
        {
            "the Job controller (pkg/controller/job job_controller.go, indexed_job_utils.go)"
        }
        _ => return None,
    };
    Some(source.to_string())
}

/// The tolerations a DaemonSet's pods get (`AddOrUpdateDaemonPodTolerations`).
fn is_daemon_toleration(value: &Value) -> bool {
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
