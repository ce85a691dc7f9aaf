//! Status conditions (`Available`, `Progressing`, `ReplicaFailure`, `Ready`, …), read loosely
//! from any kind's body.

use serde::Deserialize;
use serde_json::Value;

/// One entry of `status.conditions`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Condition {
    /// `type`, e.g. `Progressing`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// The machine-readable reason, e.g. `ProgressDeadlineExceeded`.
    pub reason: Option<String>,
    /// The human-readable message.
    pub message: Option<String>,
    /// `lastUpdateTime` (Deployments), RFC 3339.
    pub last_update_time: Option<String>,
    /// `lastTransitionTime`: when `status` last changed, RFC 3339.
    pub last_transition_time: Option<String>,
}

impl Condition {
    /// The reason, or "" when there is none.
    pub fn reason(&self) -> &str {
        self.reason.as_deref().unwrap_or("")
    }

    /// The message, or "" when there is none.
    pub fn message(&self) -> &str {
        self.message.as_deref().unwrap_or("")
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct WithConditions {
    status: ConditionList,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct ConditionList {
    conditions: Vec<Condition>,
}

/// The conditions of an object's JSON text, parsing nothing else of it.
pub fn parse_conditions(json: &str) -> Vec<Condition> {
    serde_json::from_str::<WithConditions>(json)
        .map(|parsed| parsed.status.conditions)
        .unwrap_or_default()
}

/// The conditions of an already parsed object.
pub fn conditions(body: &Value) -> Vec<Condition> {
    body.pointer("/status/conditions")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|c| Condition::deserialize(c).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The condition of type `kind`, if the object has one.
pub fn condition(body: &Value, kind: &str) -> Option<Condition> {
    conditions(body).into_iter().find(|c| c.kind == kind)
}

/// Conditions of the given types as `Type=Status`, or, when `only_bad`, only those not `True`,
/// as `Type=Status Reason`: the short form `tree` shows.
pub fn condition_words(body: &Value, types: &[&str], only_bad: bool) -> Vec<String> {
    conditions(body)
        .into_iter()
        .filter(|c| types.contains(&c.kind.as_str()))
        .filter(|c| !only_bad || c.status != "True")
        .map(|c| {
            let text = format!("{}={}", c.kind, c.status);
            match c.reason.as_deref() {
                Some(reason) if only_bad => format!("{text} {reason}"),
                _ => text,
            }
        })
        .collect()
}

/// `ready/desired ready` from `status.readyReplicas` and `spec.replicas` (default 1).
pub fn ready_count(body: &Value) -> String {
    let desired = body.pointer("/spec/replicas").and_then(Value::as_i64);
    let ready = body
        .pointer("/status/readyReplicas")
        .and_then(Value::as_i64);
    format!("{}/{} ready", ready.unwrap_or(0), desired.unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_read_the_same_from_text_and_from_a_value() {
        let text = r#"{"status":{"conditions":[{"type":"Progressing","status":"False","reason":"ProgressDeadlineExceeded","lastUpdateTime":"2026-11-26T16:12:12Z"},{"type":"Available"}]}}"#;
        let value: Value = serde_json::from_str(text).unwrap();
        assert_eq!(parse_conditions(text), conditions(&value));
        let progressing = condition(&value, "Progressing").unwrap();
        assert_eq!(
            progressing.reason.as_deref(),
            Some("ProgressDeadlineExceeded")
        );
        assert_eq!(
            progressing.last_update_time.as_deref(),
            Some("2026-11-26T16:12:12Z")
        );
        assert!(condition(&value, "ReplicaFailure").is_none());
        assert!(parse_conditions("not json").is_empty());
    }
}
