//! Secret redaction: `data`/`stringData` values become `<redacted sha256:…>` so that a change is
//! still visible as a changed hash, but the value is not stored.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The fields redacted, as the header lists them.
pub const REDACTED_FIELDS: &[&str] = &["Secret.data", "Secret.stringData"];

/// The object's JSON with its Secret values replaced; `None` when it is not a Secret or has none.
pub fn redact_secret(json: &str) -> Option<String> {
    let mut object: Map<String, Value> = serde_json::from_str(json).ok()?;
    if object.get("kind").and_then(Value::as_str) != Some("Secret") {
        return None;
    }
    let mut changed = false;
    for field in ["data", "stringData"] {
        if let Some(Value::Object(values)) = object.get_mut(field) {
            for value in values.values_mut() {
                *value = Value::String(hash_of(value));
                changed = true;
            }
        }
    }
    changed.then(|| Value::Object(object).to_string())
}

fn hash_of(value: &Value) -> String {
    let bytes = match value {
        Value::String(text) => text.as_bytes().to_vec(),
        other => other.to_string().into_bytes(),
    };
    let digest = Sha256::digest(&bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("<redacted sha256:{hex}>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_values_become_hashes_and_other_fields_stay() {
        let secret = r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db"},"type":"Opaque","data":{"password":"aHVudGVyMg=="},"stringData":{"user":"admin"}}"#;
        let redacted = redact_secret(secret).unwrap();
        let value: Value = serde_json::from_str(&redacted).unwrap();
        let password = value["data"]["password"].as_str().unwrap();
        assert!(
            password.starts_with("<redacted sha256:")
                && password.len() == "<redacted sha256:>".len() + 64
        );
        assert_ne!(value["stringData"]["user"], "admin");
        assert_eq!(value["type"], "Opaque");
        assert!(!redacted.contains("aHVudGVyMg=="));
    }

    #[test]
    fn equal_values_hash_equal_so_changes_stay_visible() {
        let a = redact_secret(r#"{"kind":"Secret","data":{"k":"djE="}}"#).unwrap();
        let b = redact_secret(r#"{"kind":"Secret","data":{"k":"djE="}}"#).unwrap();
        let c = redact_secret(r#"{"kind":"Secret","data":{"k":"djI="}}"#).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn other_kinds_are_left_alone() {
        assert_eq!(
            redact_secret(r#"{"kind":"ConfigMap","data":{"k":"v"}}"#),
            None
        );
    }
}
