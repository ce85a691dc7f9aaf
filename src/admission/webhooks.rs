//! Mutating webhooks: the calls an audit event records, and, without one, the recorded
//! MutatingWebhookConfigurations that would have been called for a pod.

use serde::Serialize;
use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{labels_of, pointer_path};
use crate::history::path::FieldPath;
use crate::history::History;

/// One webhook call of a create request, from its audit annotations
/// (`mutation.webhook.admission.k8s.io/round_{r}_index_{i}`: configuration, webhook, mutated;
/// `patch.webhook.admission.k8s.io/round_{r}_index_{i}`: the JSON patch, at level Request and
/// above — `mutating/dispatcher.go` `webhookAnnotator`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebhookCall {
    /// The reinvocation round.
    pub round: i64,
    /// The webhook's order within the round.
    pub index: i64,
    /// The MutatingWebhookConfiguration.
    pub configuration: String,
    /// The webhook's name.
    pub webhook: String,
    /// Whether it changed the object.
    pub mutated: bool,
    /// Its JSON patch operations, when the log holds them.
    #[serde(skip)]
    pub patch: Option<Vec<Value>>,
}

impl WebhookCall {
    /// The audit annotation this call was read from: `mutation` or `patch`.
    pub fn annotation_key(&self, which: &str) -> String {
        format!(
            "{which}.webhook.admission.k8s.io/round_{}_index_{}",
            self.round, self.index
        )
    }

    /// The patch operation that made `path` (or the item it lies in), described (`add
    /// /spec/containers/-`); `None` when no operation of its patch touches it.
    pub fn touched(&self, path: &FieldPath, template: &Value) -> Option<String> {
        self.patch.as_ref()?.iter().find_map(|op| {
            let pointer = op.get("path").and_then(Value::as_str)?;
            let target = pointer_path(pointer, template, op.get("value"))?;
            let covers = path.starts_with(&target) || target.starts_with(path);
            covers.then(|| {
                format!(
                    "{} {pointer}",
                    op.get("op").and_then(Value::as_str).unwrap_or("?")
                )
            })
        })
    }
}

/// The webhook calls an audit event's annotations record, in call order.
pub fn calls_from_annotations(annotations: &BTreeMap<String, String>) -> Vec<WebhookCall> {
    let mut calls: Vec<WebhookCall> = Vec::new();
    for (key, value) in annotations {
        let (which, rest) = match key.split_once(".webhook.admission.k8s.io/round_") {
            Some((which @ ("mutation" | "patch"), rest)) => (which, rest),
            _ => continue,
        };
        let Some((round, index)) = rest.split_once("_index_") else {
            continue;
        };
        let (Ok(round), Ok(index)) = (round.parse::<i64>(), index.parse::<i64>()) else {
            continue;
        };
        // The annotation's value is JSON text.
        let Ok(body) = serde_json::from_str::<Value>(value) else {
            continue;
        };
        let text = |k: &str| {
            body.get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let position = calls
            .iter()
            .position(|c| c.round == round && c.index == index);
        let call = match position {
            Some(i) => &mut calls[i],
            None => {
                calls.push(WebhookCall {
                    round,
                    index,
                    configuration: text("configuration"),
                    webhook: text("webhook"),
                    mutated: false,
                    patch: None,
                });
                let last = calls.len() - 1;
                &mut calls[last]
            }
        };
        match which {
            "mutation" => call.mutated = body.get("mutated").and_then(Value::as_bool) == Some(true),
            _ => {
                call.mutated = true;
                call.patch = body.get("patch").and_then(Value::as_array).cloned();
            }
        }
    }
    calls.sort_by_key(|c| (c.round, c.index));
    calls
}

/// A webhook that would be called for the pod.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// Its MutatingWebhookConfiguration.
    pub configuration: String,
    /// The webhook's name.
    pub webhook: String,
}

/// A recorded webhook that would not be called for the pod, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Excluded {
    /// Its MutatingWebhookConfiguration.
    pub configuration: String,
    /// The webhook's name.
    pub webhook: String,
    /// `rules`, `objectSelector` or `namespaceSelector`.
    pub why: &'static str,
}

/// The recorded mutating webhooks for a pod's creation, matched and excluded.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Candidates {
    /// Those whose rules and selectors match.
    pub matched: Vec<Candidate>,
    /// Those that do not, with the first reason.
    pub excluded: Vec<Excluded>,
    /// What could not be checked (a namespace whose labels were not recorded).
    #[serde(skip)]
    pub notes: Vec<String>,
}

/// The recorded MutatingWebhookConfigurations that existed when `pod` (its body at creation)
/// was created, split by whether each webhook would be called for it: its `rules` cover `CREATE`
/// of `pods` in the core group v1, its `objectSelector` matches the pod's labels, its
/// `namespaceSelector` the labels of the pod's Namespace (recorded, else only the
/// `kubernetes.io/metadata.name` label every namespace carries). `None` when the trace did not
/// record MutatingWebhookConfigurations. Matching follows
/// `staging/src/k8s.io/apiserver/pkg/admission/plugin/webhook/predicates` (rules, object and
/// namespace matchers).
pub fn candidates(
    history: &History,
    pod: &Value,
    namespace: &str,
    at: jiff::Timestamp,
) -> Option<Candidates> {
    let recorded = history
        .facts
        .header
        .as_ref()
        .filter(|h| !h.resources.is_empty())
        .is_none_or(|h| {
            h.resources
                .iter()
                .any(|r| r.resource == "mutatingwebhookconfigurations")
        });
    if !recorded {
        return None;
    }
    let mut out = Candidates::default();
    let pod_labels = labels_of(pod, "/metadata/labels");
    let (ns_labels, ns_known) = namespace_labels(history, namespace, at);
    if !ns_known {
        out.notes.push(format!(
            "namespace {namespace} was not recorded: only its kubernetes.io/metadata.name label is known to the namespace selectors"
        ));
    }
    let mut configurations: Vec<(String, Value)> = history
        .of_kind("MutatingWebhookConfiguration")
        .filter_map(|id| {
            let object = history.object(id);
            // Its version then; one the trace first listed existed since its creation.
            let listed_since = |v: &&crate::history::Version| {
                v.event == crate::trace::EventType::Listed
                    && object.created.is_some_and(|c| c <= at)
            };
            let version = object
                .versions
                .iter()
                .rev()
                .find(|v| v.ts <= at)
                .or_else(|| object.versions.first().filter(listed_since))?;
            if version.event == crate::trace::EventType::Deleted {
                return None;
            }
            let body: Value = history.parse(version).ok()?;
            Some((object.name.clone(), body))
        })
        .collect();
    configurations.sort_by(|a, b| a.0.cmp(&b.0));
    for (configuration, body) in configurations {
        let webhooks = body.get("webhooks").and_then(Value::as_array);
        for webhook in webhooks.into_iter().flatten() {
            let name = webhook
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let why = if !rules_match(webhook.get("rules")) {
                Some("rules")
            } else if !selector_matches(webhook.get("objectSelector"), &pod_labels) {
                Some("objectSelector")
            } else if !selector_matches(webhook.get("namespaceSelector"), &ns_labels) {
                Some("namespaceSelector")
            } else {
                None
            };
            match why {
                None => out.matched.push(Candidate {
                    configuration: configuration.clone(),
                    webhook: name,
                }),
                Some(why) => out.excluded.push(Excluded {
                    configuration: configuration.clone(),
                    webhook: name,
                    why,
                }),
            }
        }
    }
    Some(out)
}

/// The labels of namespace `name` at `at`, and whether the Namespace was recorded; without it,
/// the `kubernetes.io/metadata.name` label the API server puts on every namespace.
fn namespace_labels(
    history: &History,
    name: &str,
    at: jiff::Timestamp,
) -> (Map<String, Value>, bool) {
    let recorded = history
        .by_name("Namespace", None, name)
        .into_iter()
        .find_map(|id| {
            let object = history.object(id);
            let version = object
                .versions
                .iter()
                .rev()
                .find(|v| v.ts <= at)
                .unwrap_or(object.first());
            history.parse::<Value>(version).ok()
        });
    match recorded {
        Some(body) => (labels_of(&body, "/metadata/labels"), true),
        None => {
            let mut labels = Map::new();
            labels.insert(
                "kubernetes.io/metadata.name".into(),
                Value::String(name.into()),
            );
            (labels, false)
        }
    }
}

/// Whether a webhook's rules cover CREATE of core v1 pods (`predicates/rules` `Matcher`).
fn rules_match(rules: Option<&Value>) -> bool {
    let Some(rules) = rules.and_then(Value::as_array) else {
        return false;
    };
    let has = |rule: &Value, field: &str, wanted: &[&str]| {
        rule.get(field)
            .and_then(Value::as_array)
            .is_some_and(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .any(|item| item == "*" || wanted.contains(&item))
            })
    };
    rules.iter().any(|rule| {
        let scope_ok = rule
            .get("scope")
            .and_then(Value::as_str)
            .is_none_or(|s| s == "*" || s == "Namespaced");
        has(rule, "operations", &["CREATE"])
            && has(rule, "apiGroups", &[""])
            && has(rule, "apiVersions", &["v1"])
            && has(rule, "resources", &["pods", "*/*"])
            && scope_ok
    })
}

/// Whether a LabelSelector matches `labels`; an absent or empty selector matches everything.
fn selector_matches(selector: Option<&Value>, labels: &Map<String, Value>) -> bool {
    let Some(selector) = selector.filter(|s| !s.is_null()) else {
        return true;
    };
    let label = |key: &str| labels.get(key).and_then(Value::as_str);
    let match_labels = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .is_none_or(|wanted| {
            wanted
                .iter()
                .all(|(k, v)| label(k).is_some() && label(k) == v.as_str())
        });
    let expressions = selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    match_labels
        && expressions.iter().all(|e| {
            let key = e.get("key").and_then(Value::as_str).unwrap_or("");
            let values: Vec<&str> = e
                .get("values")
                .and_then(Value::as_array)
                .map(|v| v.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            match e.get("operator").and_then(Value::as_str) {
                Some("In") => label(key).is_some_and(|l| values.contains(&l)),
                Some("NotIn") => label(key).is_none_or(|l| !values.contains(&l)),
                Some("Exists") => label(key).is_some(),
                Some("DoesNotExist") => label(key).is_none(),
                // An operator the API server would have refused: the selector matches nothing.
                _ => false,
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn audit_annotations_give_the_calls_in_order_with_their_patches() {
        let annotations = json!({
            "mutation.webhook.admission.k8s.io/round_0_index_1": "{\"configuration\":\"b\",\"webhook\":\"b.example.com\",\"mutated\":false}",
            "mutation.webhook.admission.k8s.io/round_0_index_0": "{\"configuration\":\"istio-sidecar-injector\",\"webhook\":\"sidecar-injector.istio.io\",\"mutated\":true}",
            "patch.webhook.admission.k8s.io/round_0_index_0": "{\"configuration\":\"istio-sidecar-injector\",\"webhook\":\"sidecar-injector.istio.io\",\"patch\":[{\"op\":\"add\",\"path\":\"/spec/containers/-\",\"value\":{\"name\":\"istio-proxy\"}}],\"patchType\":\"JSONPatch\"}",
            "authorization.k8s.io/decision": "allow"
        });
        let annotations: BTreeMap<String, String> = annotations
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let calls = calls_from_annotations(&annotations);
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].webhook, "sidecar-injector.istio.io");
        assert!(calls[0].mutated);
        assert!(!calls[1].mutated);
        let template = json!({"spec": {"containers": [{"name": "web"}]}});
        let path = FieldPath::parse("spec.containers[name=istio-proxy]").unwrap();
        assert_eq!(
            calls[0].touched(&path, &template).as_deref(),
            Some("add /spec/containers/-")
        );
        assert_eq!(calls[1].touched(&path, &template), None);
    }

    #[test]
    fn selectors_match_as_the_api_server_does() {
        let labels = json!({"app": "web", "istio-injection": "enabled"});
        let labels = labels.as_object().unwrap();
        assert!(selector_matches(None, labels));
        assert!(selector_matches(Some(&json!({})), labels));
        assert!(selector_matches(
            Some(&json!({"matchLabels": {"istio-injection": "enabled"}})),
            labels
        ));
        assert!(!selector_matches(
            Some(
                &json!({"matchExpressions": [{"key": "sidecar.istio.io/inject", "operator": "In", "values": ["true"]}]})
            ),
            labels
        ));
        assert!(selector_matches(
            Some(
                &json!({"matchExpressions": [{"key": "sidecar.istio.io/inject", "operator": "NotIn", "values": ["false"]}]})
            ),
            labels
        ));
        assert!(rules_match(Some(
            &json!([{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}])
        )));
        assert!(!rules_match(Some(
            &json!([{"operations": ["UPDATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}])
        )));
    }
}
