//! Secrets: data applied by a user with `kubectl apply`, recorded the way `kblame record` records
//! them: every `data` value (and the copy in the last-applied annotation) replaced by
//! `"<redacted hmac-sha256:HEX>"` through [`kblame::redact::Redactor`], here under a fixed key so
//! the fixtures are deterministic.
//!
//! The kubelet treats a Secret volume as a ConfigMap volume (`pkg/volume/secret/secret.go`
//! `secretVolumeMounter.SetUpAt`, the same AtomicWriter and `RequiresRemount()`), and
//! `env[].valueFrom.secretKeyRef` is read at container start (`kubelet_pods.go`
//! `makeEnvironmentVariables`, through `secretManager.GetSecret`): see `config_reads`.

use std::collections::BTreeMap;

use kblame::redact::Redactor;
use kblame::trace::{EventType, RedactionInfo};
use serde_json::{json, Map, Value};

use super::fields::Writer;
use super::model::{Meta, Object};
use super::world::World;

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The simulator's redaction key: fixed, so the same value hashes the same in every run.
const KEY: &[u8; 32] = b"kblame-sim fixed redaction key!!";

/// The redactor the simulator records Secrets with.
pub(crate) fn redactor() -> Option<Redactor> {
    Redactor::with_secret_key(KEY).ok()
}

/// What the trace header says about the redaction (with the rule names for `redacted`).
pub(crate) fn redaction_info() -> Option<(Vec<String>, RedactionInfo)> {
    let redactor = redactor()?;
    Some((redactor.rule_names(), redactor.info()))
}

/// A simulated v1 Secret of type Opaque.
#[derive(Debug, Clone)]
pub(crate) struct Secret {
    pub(crate) meta: Meta,
    /// `data`, key by key, as plain text (base64-encoded only when rendered).
    pub(crate) data: BTreeMap<String, String>,
}

impl Object for Secret {
    const KIND: &'static str = "Secret";
    const API_VERSION: &'static str = "v1";
    const RESOURCE: &'static str = "v1/secrets";

    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }

    fn body(&self, out: &mut Map<String, Value>) {
        out.insert("data".into(), json!(encoded(&self.data)));
        out.insert("type".into(), json!("Opaque"));
    }

    /// The object as the recorder writes it: values redacted. Without a redactor (it cannot
    /// fail with the fixed key) every value is left out rather than written in the clear.
    fn render(&self) -> Value {
        let mut map = Map::new();
        map.insert("kind".into(), json!(Self::KIND));
        map.insert("apiVersion".into(), json!(Self::API_VERSION));
        map.insert("metadata".into(), self.meta.to_json());
        self.body(&mut map);
        let plain = Value::Object(map);
        let redacted = redactor().and_then(|r| {
            let text = r
                .redact(&plain.to_string(), "", "Secret", "secrets")
                .ok()??;
            serde_json::from_str::<Value>(&text).ok()
        });
        redacted.unwrap_or_else(|| {
            let mut bare = plain;
            if let Some(map) = bare.as_object_mut() {
                map.shift_remove("data");
            }
            bare
        })
    }
}

/// `data` as the API server stores it: base64.
fn encoded(data: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    data.iter()
        .map(|(k, v)| (k.clone(), base64(v.as_bytes())))
        .collect()
}

/// Standard base64 with padding (RFC 4648 §4), as Go's `encoding/base64.StdEncoding`.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The manifest `kubectl apply` sends, as its last-applied-configuration annotation holds it.
fn last_applied(namespace: &str, name: &str, data: &BTreeMap<String, String>) -> String {
    let manifest = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"annotations": {}, "name": name, "namespace": namespace},
        "data": encoded(data),
        "type": "Opaque",
    });
    let mut text = String::new();
    super::rng::write_canonical(&manifest, &mut text);
    text.push('\n');
    text
}

impl World {
    /// `kubectl apply` (client-side) of an Opaque Secret holding `data`: creates it or replaces
    /// its data; manager `kubectl-client-side-apply` (Update), with the last-applied annotation.
    pub(crate) fn apply_secret(
        &mut self,
        namespace: &str,
        name: &str,
        data: BTreeMap<String, String>,
    ) {
        let writer = Writer::update("kubectl-client-side-apply");
        let annotation = last_applied(namespace, name, &data);
        let existing = self
            .secrets
            .values()
            .find(|s| s.meta.namespace == namespace && s.meta.name == name)
            .map(|s| s.meta.uid.clone());
        match existing.and_then(|uid| self.secrets.get_mut(&uid)) {
            Some(secret) => {
                secret.data = data;
                secret
                    .meta
                    .annotations
                    .insert(LAST_APPLIED.into(), annotation);
                let commit = self
                    .core
                    .commit(secret, Some(&writer), None, EventType::Modified);
                let source = super::config_reads::Source::secret(name);
                self.source_changed(namespace, &source, &writer.manager, &commit);
            }
            None => {
                let uid = self.uid();
                let mut meta = Meta::new(namespace, name, uid.clone(), self.core.now);
                meta.annotations = BTreeMap::from([(LAST_APPLIED.to_string(), annotation)]);
                let mut secret = Secret { meta, data };
                self.core
                    .commit(&mut secret, Some(&writer), None, EventType::Added);
                self.secrets.insert(uid, secret);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_encoding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn a_recorded_secret_holds_no_value_and_no_base64_of_one() {
        let mut meta = Meta::new("shop", "keys", "u".into(), 0);
        let data = BTreeMap::from([("api-key".to_string(), "sk_live_123".to_string())]);
        meta.annotations
            .insert(LAST_APPLIED.into(), last_applied("shop", "keys", &data));
        let secret = Secret { meta, data };
        let text = secret.render().to_string();
        assert!(!text.contains("sk_live_123"), "{text}");
        assert!(!text.contains(&base64(b"sk_live_123")), "{text}");
        assert!(text.contains("<redacted hmac-sha256:"), "{text}");
        assert_eq!(secret.render(), secret.render(), "deterministic");
    }
}
