//! `scale`: a HorizontalPodAutoscaler's decision behind a workload's replica change.
//!
//! The HPA controller (Kubernetes v1.31 `pkg/controller/podautoscaler/horizontal.go`
//! `reconcileAutoscaler`) computes the desired replicas from its metrics, writes them through
//! the target's `/scale` subresource (manager `kube-controller-manager`, operation Update,
//! subresource `scale`), then records `status.desiredReplicas`, `status.currentMetrics` and the
//! `AbleToScale` condition (`SucceededRescale`) in its own status (`setStatus`,
//! `updateStatusIfNeeded`). So the HPA version that explains a scale is the first one at or
//! shortly after the scale whose `desiredReplicas` is the new count.

use jiff::SignedDuration;
use serde_json::Value;

use super::{Cause, CauseKind};
use crate::graph::{Change, ChangeKind, Confidence, ObjectRef};
use crate::history::path::FieldPath;
use crate::history::{History, ObjectId};
use crate::workload::attribution::attribute;
use crate::workload::deployment::make_change;

/// How far around a scale an HPA status write still belongs to it.
const NEAR: SignedDuration = SignedDuration::from_secs(30);

/// The HPA decision behind `change`, a `spec.replicas` change of `workload`, when a recorded
/// HPA targeting it wanted the new count then.
pub fn scale_cause(history: &History, workload: ObjectId, change: &Change) -> Option<Cause> {
    let replicas = FieldPath::parse("spec.replicas").ok()?;
    let field = change.fields.iter().find(|f| f.path == replicas)?;
    let wanted = field.to.as_i64()?;
    let target = history.object(workload);
    let (hpa, version, body) = history
        .of_kind("HorizontalPodAutoscaler")
        .filter(|&id| history.object(id).namespace == target.namespace)
        .flat_map(|id| history.object(id).versions.iter().map(move |v| (id, v)))
        .filter(|(_, v)| v.ts >= change.time - NEAR && v.ts <= change.time + NEAR)
        .filter_map(|(id, v)| Some((id, v, history.parse::<Value>(v).ok()?)))
        .filter(|(_, _, body)| targets(body, &target.kind, &target.name))
        .find(|(_, _, body)| {
            body.pointer("/status/desiredReplicas")
                .and_then(Value::as_i64)
                == Some(wanted)
        })?;
    let metrics = metrics_words(&body);
    let by_scale = change.subresource.as_deref() == Some("scale");
    let confidence = if by_scale {
        Confidence::High
    } else {
        Confidence::Medium
    };
    let from = field
        .from
        .as_i64()
        .map_or("?".to_string(), |n| n.to_string());
    let hpa_object = history.object(hpa);
    let evidence = format!(
        "HorizontalPodAutoscaler {}/{} wanted {wanted} replicas at {} (line {}){metrics}; {} {} was scaled {from} → {wanted} at {} by {}{}",
        hpa_object.namespace,
        hpa_object.name,
        version.ts,
        version.line,
        target.kind.to_lowercase(),
        target.name,
        change.time,
        change.manager.as_deref().unwrap_or("an unknown manager"),
        if by_scale { " through /scale, as the HPA controller writes it" } else { "" }
    );
    let before = history
        .object(hpa)
        .versions
        .iter()
        .take_while(|v| v.line < version.line)
        .last()
        .and_then(|v| history.parse::<Value>(v).ok());
    let hpa_change = status_change(history, hpa, version, before.as_ref(), &body);
    Some(Cause {
        preemptor: None,
        kind: CauseKind::Scale,
        object: ObjectRef::of(hpa_object),
        change: hpa_change,
        digests: None,
        time: version.ts.min(change.time),
        confidence,
        evidence,
        summary: format!(
            "HorizontalPodAutoscaler {}/{} scaled {} to {wanted}",
            hpa_object.namespace, hpa_object.name, target.name
        ),
    })
}

/// Whether an HPA body's `scaleTargetRef` names the workload.
fn targets(body: &Value, kind: &str, name: &str) -> bool {
    let target = |key: &str| {
        body.pointer(&format!("/spec/scaleTargetRef/{key}"))
            .and_then(Value::as_str)
    };
    target("kind") == Some(kind) && target("name") == Some(name)
}

/// `: cpu at 93% of a 70% target`, from `status.currentMetrics` and `spec.metrics`.
fn metrics_words(body: &Value) -> String {
    let current = body
        .pointer("/status/currentMetrics")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let specs = body
        .pointer("/spec/metrics")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let words: Vec<String> = current
        .iter()
        .filter_map(|m| {
            let name = m.pointer("/resource/name").and_then(Value::as_str)?;
            let now = m
                .pointer("/resource/current/averageUtilization")
                .and_then(Value::as_i64)?;
            let goal = specs
                .iter()
                .find(|s| s.pointer("/resource/name").and_then(Value::as_str) == Some(name))
                .and_then(|s| {
                    s.pointer("/resource/target/averageUtilization")
                        .and_then(Value::as_i64)
                });
            Some(match goal {
                Some(goal) => format!("{name} at {now}% of a {goal}% target"),
                None => format!("{name} at {now}%"),
            })
        })
        .collect();
    match words.is_empty() {
        true => String::new(),
        false => format!(": {}", words.join(", ")),
    }
}

/// The HPA's status write, as a CHANGE (its status fields, credited by managedFields).
fn status_change(
    history: &History,
    hpa: ObjectId,
    version: &crate::history::Version,
    before: Option<&Value>,
    after: &Value,
) -> Option<Change> {
    let base = FieldPath::root().child_field("status");
    let null = Value::Null;
    let fields: Vec<_> = crate::history::diff::diff_at(
        before.and_then(|b| b.get("status")).unwrap_or(&null),
        after.get("status").unwrap_or(&null),
        &base,
    )
    .into_iter()
    .filter(|f| {
        let path = f.path.to_string();
        path.starts_with("status.desiredReplicas") || path.starts_with("status.currentMetrics")
    })
    .collect();
    if fields.is_empty() {
        return None;
    }
    let attribution = attribute(before, after, &fields);
    Some(make_change(
        history,
        hpa,
        version,
        version.ts,
        ChangeKind::Spec,
        fields,
        attribution,
        false,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn metrics_read_against_their_targets() {
        let hpa = json!({"spec": {"metrics": [{"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 70}}}]},
            "status": {"currentMetrics": [{"type": "Resource", "resource": {"name": "cpu",
                "current": {"averageUtilization": 93}}}]}});
        assert_eq!(metrics_words(&hpa), ": cpu at 93% of a 70% target");
        assert!(targets(
            &json!({"spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}}}),
            "Deployment",
            "web"
        ));
    }
}
