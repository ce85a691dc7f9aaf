//! What never enters a trace: Secret values (and any field the user names) become keyed hashes.
//!
//! A redacted value is replaced by `"<redacted hmac-sha256:HEX>"`, the HMAC-SHA256 of the value
//! under a key that is never written: by default 32 random bytes drawn for one recording, so
//! equal values give equal hashes within that trace (a change stays visible) and no dictionary
//! can reverse them; with a key file, hashes compare across recordings that share the key.
//!
//! Besides the named fields, a matching object's `kubectl.kubernetes.io/last-applied-configuration`
//! annotation (where `kubectl apply` keeps a whole copy of the applied object, Secret `data`
//! and `stringData` included) is parsed and redacted by the same rules, keeping its structure.

use std::fmt;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

use crate::history::path::{FieldPath, PathError, Segment};
use crate::trace::RedactionInfo;

/// The annotation in which `kubectl apply` keeps the applied object.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// What a redacted value starts with.
pub const MARK: &str = "<redacted hmac-sha256:";

/// The fewest bytes a key file must hold.
pub const MIN_KEY_BYTES: usize = 16;

/// The rules applied by default: the values of every Secret.
pub const SECRET_RULES: [&str; 2] = ["Secret:data", "Secret:stringData"];

/// Why redaction could not be set up, or an object could not be redacted.
#[derive(Debug, thiserror::Error)]
pub enum RedactError {
    /// A `--redact` rule does not read as `KIND[.GROUP]:FIELD_PATH`.
    #[error("--redact {rule:?} is not KIND[.GROUP]:FIELD_PATH (e.g. Secret:data or Credential.example.com:spec.password): {why}")]
    BadRule {
        /// The rule as given.
        rule: String,
        /// What is wrong with it.
        why: String,
    },
    /// The key file could not be read.
    #[error("cannot read the redaction key file {path}")]
    KeyFile {
        /// The key file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The key file is too short to be a key.
    #[error("the redaction key file {path} holds {len} bytes; a key needs at least {MIN_KEY_BYTES} random bytes")]
    ShortKey {
        /// The key file.
        path: PathBuf,
        /// How many bytes it held.
        len: usize,
    },
    /// No random key could be drawn.
    #[error("cannot draw a random redaction key: {0}")]
    Random(String),
    /// The object is not JSON that can be rewritten.
    #[error("the object could not be parsed for redaction: {0}")]
    Object(String),
}

/// One step of a [`FieldPattern`]: an exact field, list item or index, or `*` for any.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Exact(Segment),
    Any,
}

/// A field path in the syntax of [`FieldPath`] in which a whole segment may be `*` (any map key
/// or list item): `data`, `spec.users[*].password`, `spec.credentials.*.token`,
/// `metadata.annotations["example.com/token"]`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldPattern(Vec<Step>);

impl FieldPattern {
    /// Reads a pattern.
    ///
    /// # Errors
    /// [`PathError`] when a part between wildcards is not a field path.
    pub fn parse(text: &str) -> Result<FieldPattern, PathError> {
        if text.is_empty() {
            return Err(PathError::UnexpectedEnd);
        }
        let mut steps = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let (exact, wildcard, after) = split_at_wildcard(rest);
            let exact = exact.strip_prefix('.').unwrap_or(exact);
            let exact = match wildcard {
                true => exact.strip_suffix('.').unwrap_or(exact),
                false => exact,
            };
            if !exact.is_empty() {
                let path = FieldPath::parse(exact)?;
                steps.extend(path.0.into_iter().map(Step::Exact));
            }
            if wildcard {
                steps.push(Step::Any);
            }
            rest = after;
        }
        Ok(FieldPattern(steps))
    }

    /// Replaces every value this pattern reaches in `value` by `hash(value)`; whether any was.
    fn apply(&self, value: &mut Value, hash: &dyn Fn(&Value) -> Value) -> bool {
        apply_steps(&self.0, value, hash)
    }
}

/// The text before the first whole-segment `*` (`*`, `.*` or `[*]`, followed by the end, `.`
/// or `[`), whether there is one, and the text after it.
fn split_at_wildcard(text: &str) -> (&str, bool, &str) {
    let bytes = text.as_bytes();
    let ends_segment = |at: usize| at >= bytes.len() || bytes[at] == b'.' || bytes[at] == b'[';
    let mut quoted = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => quoted = !quoted,
            b'\\' if quoted => i += 1,
            b'*' if !quoted && (i == 0 || bytes[i - 1] == b'.') && ends_segment(i + 1) => {
                return (&text[..i], true, &text[i + 1..]);
            }
            b'[' if !quoted && text[i..].starts_with("[*]") => {
                return (&text[..i], true, &text[i + 3..]);
            }
            _ => {}
        }
        i += 1;
    }
    (text, false, "")
}

fn apply_steps(steps: &[Step], value: &mut Value, hash: &dyn Fn(&Value) -> Value) -> bool {
    let Some((step, rest)) = steps.split_first() else {
        return redact_all(value, hash);
    };
    let mut changed = false;
    match (step, value) {
        (Step::Any, Value::Object(map)) => {
            for child in map.values_mut() {
                changed |= apply_steps(rest, child, hash);
            }
        }
        (Step::Any, Value::Array(items)) => {
            for child in items {
                changed |= apply_steps(rest, child, hash);
            }
        }
        (Step::Exact(Segment::Field(name)), Value::Object(map)) => {
            if let Some(child) = map.get_mut(name) {
                changed = apply_steps(rest, child, hash);
            }
        }
        (Step::Exact(Segment::Index(index)), Value::Array(items)) => {
            if let Some(child) = items.get_mut(*index) {
                changed = apply_steps(rest, child, hash);
            }
        }
        (Step::Exact(Segment::Key { name, value: key }), Value::Array(items)) => {
            for child in items.iter_mut().filter(|item| item.get(name) == Some(key)) {
                changed |= apply_steps(rest, child, hash);
            }
        }
        _ => {}
    }
    changed
}

/// Replaces every scalar under `value` (keys stay, `null` stays); whether any was.
fn redact_all(value: &mut Value, hash: &dyn Fn(&Value) -> Value) -> bool {
    match value {
        Value::Null => false,
        Value::Object(map) => map
            .values_mut()
            .fold(false, |changed, child| redact_all(child, hash) | changed),
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |changed, child| redact_all(child, hash) | changed),
        Value::String(text) if is_redacted(text) => false,
        scalar => {
            *scalar = hash(scalar);
            true
        }
    }
}

/// Whether a string is already a redacted value (of this or an earlier kblame).
pub fn is_redacted(text: &str) -> bool {
    text.starts_with(MARK) || text.starts_with("<redacted sha256:")
}

/// One `--redact KIND[.GROUP]:FIELD_PATH` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The kind (or plural resource name), lowercase, as matched.
    kind: String,
    /// The API group, when the rule names one (`""` for the core group is written `KIND.`).
    group: Option<String>,
    /// The fields.
    pattern: FieldPattern,
    /// The rule as written, for the header.
    text: String,
}

impl Rule {
    /// Reads `KIND[.GROUP]:FIELD_PATH`, e.g. `Secret:data` or `Credential.example.com:spec.password`.
    ///
    /// # Errors
    /// [`RedactError::BadRule`] when it does not have that form.
    pub fn parse(text: &str) -> Result<Rule, RedactError> {
        let bad = |why: String| RedactError::BadRule {
            rule: text.to_string(),
            why,
        };
        let (target, path) = text
            .split_once(':')
            .ok_or_else(|| bad("no `:` between the kind and the field path".into()))?;
        let (kind, group) = match target.split_once('.') {
            Some((kind, group)) => (kind, Some(group.to_string())),
            None => (target, None),
        };
        if kind.is_empty() || !kind.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(bad(format!("{kind:?} is not a kind")));
        }
        let pattern = FieldPattern::parse(path).map_err(|err| bad(err.to_string()))?;
        if pattern.0.is_empty() {
            return Err(bad("the field path is empty".into()));
        }
        Ok(Rule {
            kind: kind.to_ascii_lowercase(),
            group,
            pattern,
            text: text.to_string(),
        })
    }

    /// Whether the rule covers objects of `kind` (or the plural `resource`) in `group`.
    pub fn covers(&self, group: &str, kind: &str, resource: &str) -> bool {
        let kind_matches =
            self.kind.eq_ignore_ascii_case(kind) || self.kind.eq_ignore_ascii_case(resource);
        kind_matches && self.group.as_deref().is_none_or(|g| g == group)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Where the key comes from.
#[derive(Clone)]
enum KeySource {
    /// Drawn at random for this recording and never written.
    PerRecording,
    /// Read from a file the user keeps.
    File,
}

/// Applies redaction rules to objects before they are written.
#[derive(Clone)]
pub struct Redactor {
    mac: Hmac<Sha256>,
    key: KeySource,
    key_id: String,
    rules: Vec<Rule>,
    secret_values_kept: bool,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key.
        f.debug_struct("Redactor")
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

/// How to set up a [`Redactor`].
#[derive(Debug, Clone, Default)]
pub struct RedactSettings {
    /// Extra rules (`--redact`). Default is none.
    pub rules: Vec<String>,
    /// Keep Secret values (`--record-secret-values`). Default is false.
    pub keep_secret_values: bool,
    /// Read the key from this file instead of drawing one. Default is a random key.
    pub key_file: Option<PathBuf>,
}

impl Redactor {
    /// The Secret rules (unless Secret values are kept) plus the user's rules, under a random
    /// key or the key file's.
    ///
    /// # Errors
    /// A bad rule, an unreadable or short key file, or no randomness.
    pub fn new(settings: &RedactSettings) -> Result<Redactor, RedactError> {
        let defaults: &[&str] = if settings.keep_secret_values {
            &[]
        } else {
            &SECRET_RULES
        };
        let mut rules = Vec::new();
        for text in defaults
            .iter()
            .copied()
            .chain(settings.rules.iter().map(String::as_str))
        {
            let rule = Rule::parse(text)?;
            if !rules.contains(&rule) {
                rules.push(rule);
            }
        }
        let (key, source) = match &settings.key_file {
            Some(path) => (read_key(path)?, KeySource::File),
            None => (random_key()?, KeySource::PerRecording),
        };
        Ok(Redactor::with_key(
            &key,
            source,
            rules,
            settings.keep_secret_values,
        ))
    }

    /// The Secret rules under a key the caller holds (reported as a `file` key, with its
    /// `keyId`): for tools that must redact deterministically, as the simulator does for its
    /// fixtures.
    ///
    /// # Errors
    /// [`RedactError::ShortKey`] when the key has fewer than [`MIN_KEY_BYTES`] bytes.
    pub fn with_secret_key(key: &[u8]) -> Result<Redactor, RedactError> {
        if key.len() < MIN_KEY_BYTES {
            return Err(RedactError::ShortKey {
                path: PathBuf::from("(in memory)"),
                len: key.len(),
            });
        }
        let mut rules = Vec::new();
        for text in SECRET_RULES {
            rules.push(Rule::parse(text)?);
        }
        Ok(Redactor::with_key(key, KeySource::File, rules, false))
    }

    fn with_key(key: &[u8], source: KeySource, rules: Vec<Rule>, kept: bool) -> Redactor {
        // HMAC takes keys of any length.
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
        let key_id = hex(&mac
            .clone()
            .chain_update(b"kblame redaction key id")
            .finalize()
            .into_bytes())[..16]
            .to_string();
        Redactor {
            mac,
            key: source,
            key_id,
            rules,
            secret_values_kept: kept,
        }
    }

    /// Whether objects of `kind` (plural `resource`) in `group` have fields to redact.
    pub fn covers(&self, group: &str, kind: &str, resource: &str) -> bool {
        self.rules.iter().any(|r| r.covers(group, kind, resource))
    }

    /// The object's JSON with its covered values replaced; `None` when nothing was replaced.
    ///
    /// # Errors
    /// [`RedactError::Object`] when the text is not a JSON object; the caller must then not
    /// write the object.
    pub fn redact(
        &self,
        json: &str,
        group: &str,
        kind: &str,
        resource: &str,
    ) -> Result<Option<String>, RedactError> {
        let rules: Vec<&Rule> = self
            .rules
            .iter()
            .filter(|r| r.covers(group, kind, resource))
            .collect();
        if rules.is_empty() {
            return Ok(None);
        }
        let mut object: Map<String, Value> =
            serde_json::from_str(json).map_err(|err| RedactError::Object(err.to_string()))?;
        let mut changed = self.apply_rules(&rules, &mut object);
        changed |= self.redact_last_applied(&rules, &mut object);
        Ok(changed.then(|| Value::Object(object).to_string()))
    }

    fn apply_rules(&self, rules: &[&Rule], object: &mut Map<String, Value>) -> bool {
        let hash = |value: &Value| Value::String(self.hash(value));
        let mut root = Value::Object(std::mem::take(object));
        let changed = rules.iter().fold(false, |changed, rule| {
            rule.pattern.apply(&mut root, &hash) | changed
        });
        if let Value::Object(map) = root {
            *object = map;
        }
        changed
    }

    /// Redacts inside the applied-object copy; a copy that is not JSON is replaced whole.
    fn redact_last_applied(&self, rules: &[&Rule], object: &mut Map<String, Value>) -> bool {
        let Some(Value::String(text)) = object
            .get_mut("metadata")
            .and_then(|m| m.get_mut("annotations"))
            .and_then(|a| a.get_mut(LAST_APPLIED))
        else {
            return false;
        };
        let newline = if text.ends_with('\n') { "\n" } else { "" };
        let redacted = match serde_json::from_str::<Map<String, Value>>(text) {
            Ok(mut applied) => {
                if !self.apply_rules(rules, &mut applied) {
                    return false;
                }
                format!("{}{newline}", Value::Object(applied))
            }
            Err(_) if is_redacted(text) => return false,
            Err(_) => self.hash(&Value::String(text.clone())),
        };
        *text = redacted;
        true
    }

    /// `<redacted hmac-sha256:HEX>` of a value: a string's bytes, else its JSON text.
    pub fn hash(&self, value: &Value) -> String {
        let bytes = match value {
            Value::String(text) => text.as_bytes().to_vec(),
            other => other.to_string().into_bytes(),
        };
        let digest = self
            .mac
            .clone()
            .chain_update(&bytes)
            .finalize()
            .into_bytes();
        format!("{MARK}{}>", hex(&digest))
    }

    /// What the header says about this redaction.
    pub fn info(&self) -> RedactionInfo {
        let secret_values = if self.secret_values_kept {
            "recorded"
        } else {
            "redacted"
        };
        if self.rules.is_empty() {
            return RedactionInfo {
                method: "none".to_string(),
                secret_values: secret_values.to_string(),
                ..RedactionInfo::default()
            };
        }
        let (key, key_id) = match self.key {
            KeySource::PerRecording => ("per-recording", None),
            KeySource::File => ("file", Some(self.key_id.clone())),
        };
        RedactionInfo {
            method: "hmac-sha256".to_string(),
            key: Some(key.to_string()),
            key_id,
            rules: self.rules.iter().map(|r| r.text.clone()).collect(),
            annotations: vec![LAST_APPLIED.to_string()],
            secret_values: secret_values.to_string(),
            format: Some(format!("{MARK}HEX>")),
        }
    }

    /// The rules as the header's `redacted` list names them.
    pub fn rule_names(&self) -> Vec<String> {
        self.rules.iter().map(|r| r.text.clone()).collect()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The key in a key file: its bytes, trailing whitespace (a newline an editor added) removed.
fn read_key(path: &Path) -> Result<Vec<u8>, RedactError> {
    let mut key = std::fs::read(path).map_err(|source| RedactError::KeyFile {
        path: path.to_path_buf(),
        source,
    })?;
    while key.last().is_some_and(u8::is_ascii_whitespace) {
        key.pop();
    }
    if key.len() < MIN_KEY_BYTES {
        return Err(RedactError::ShortKey {
            path: path.to_path_buf(),
            len: key.len(),
        });
    }
    Ok(key)
}

fn random_key() -> Result<Vec<u8>, RedactError> {
    let mut key = vec![0u8; 32];
    getrandom::getrandom(&mut key).map_err(|err| RedactError::Random(err.to_string()))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor(rules: &[&str]) -> Redactor {
        let settings = RedactSettings {
            rules: rules.iter().map(|r| r.to_string()).collect(),
            ..RedactSettings::default()
        };
        Redactor::new(&settings).unwrap()
    }

    fn redact(r: &Redactor, json: &str) -> Value {
        let head: Value = serde_json::from_str(json).unwrap();
        let api_version = head["apiVersion"].as_str().unwrap_or("v1");
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        let kind = head["kind"].as_str().unwrap_or("");
        let text = r
            .redact(json, group, kind, "")
            .unwrap()
            .unwrap_or(json.to_string());
        serde_json::from_str(&text).unwrap()
    }

    const APPLIED_SECRET: &str = r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":"shop","annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"apiVersion\":\"v1\",\"data\":{\"password\":\"aHVudGVyMg==\"},\"kind\":\"Secret\",\"metadata\":{\"annotations\":{},\"name\":\"db\",\"namespace\":\"shop\"},\"stringData\":{\"user\":\"admin\"},\"type\":\"Opaque\"}\n"}},"type":"Opaque","data":{"password":"aHVudGVyMg==","user":"YWRtaW4="}}"#;

    #[test]
    fn secret_values_become_keyed_hashes_and_other_fields_stay() {
        let value = redact(&redactor(&[]), APPLIED_SECRET);
        let password = value["data"]["password"].as_str().unwrap();
        assert!(password.starts_with(MARK) && password.len() == MARK.len() + 64 + 1);
        assert_eq!(value["type"], "Opaque");
        assert_eq!(value["metadata"]["name"], "db");
        let text = value.to_string();
        for secret in ["aHVudGVyMg==", "YWRtaW4=", "admin"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }

    #[test]
    fn the_applied_copy_keeps_its_structure_and_loses_its_values() {
        let value = redact(&redactor(&[]), APPLIED_SECRET);
        let applied = value["metadata"]["annotations"][LAST_APPLIED]
            .as_str()
            .unwrap();
        assert!(applied.ends_with('\n'), "kubectl's trailing newline stays");
        let applied: Value = serde_json::from_str(applied).unwrap();
        assert_eq!(applied["metadata"]["name"], "db");
        assert_eq!(applied["type"], "Opaque");
        assert!(applied["data"]["password"]
            .as_str()
            .unwrap()
            .starts_with(MARK));
        assert!(applied["stringData"]["user"]
            .as_str()
            .unwrap()
            .starts_with(MARK));
        assert_eq!(
            applied["data"]["password"], value["data"]["password"],
            "the same value hashes the same in the object and in its applied copy"
        );
    }

    #[test]
    fn an_applied_copy_that_is_not_json_is_replaced_whole() {
        let secret = r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x","annotations":{"kubectl.kubernetes.io/last-applied-configuration":"data: {password: hunter2"}}}"#;
        let value = redact(&redactor(&[]), secret);
        let applied = value["metadata"]["annotations"][LAST_APPLIED]
            .as_str()
            .unwrap();
        assert!(applied.starts_with(MARK));
    }

    #[test]
    fn equal_values_hash_equal_within_a_recording_but_not_across_random_keys() {
        let one = redactor(&[]);
        let a = redact(&one, r#"{"kind":"Secret","data":{"k":"djE="}}"#);
        let b = redact(&one, r#"{"kind":"Secret","data":{"k":"djE="}}"#);
        let c = redact(&one, r#"{"kind":"Secret","data":{"k":"djI="}}"#);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let other = redact(&redactor(&[]), r#"{"kind":"Secret","data":{"k":"djE="}}"#);
        assert_ne!(a, other, "a new recording draws a new key");
    }

    #[test]
    fn a_key_file_gives_stable_hashes_and_an_id_but_never_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "0123456789abcdef0123456789abcdef\n").unwrap();
        let settings = RedactSettings {
            key_file: Some(path.clone()),
            ..RedactSettings::default()
        };
        let (a, b) = (
            Redactor::new(&settings).unwrap(),
            Redactor::new(&settings).unwrap(),
        );
        assert_eq!(a.hash(&Value::from("x")), b.hash(&Value::from("x")));
        let info = a.info();
        assert_eq!(info.key.as_deref(), Some("file"));
        let id = info.key_id.unwrap();
        assert_eq!(id.len(), 16);
        assert!(!format!("{a:?}").contains("0123456789abcdef"));
        std::fs::write(&path, "short").unwrap();
        assert!(matches!(
            Redactor::new(&settings),
            Err(RedactError::ShortKey { len: 5, .. })
        ));
    }

    #[test]
    fn user_rules_reach_custom_resources_by_kind_group_and_wildcards() {
        let r = redactor(&[
            "Credential.example.com:spec.users[*].password",
            "ConfigMap:data.token",
        ]);
        let cred = r#"{"apiVersion":"example.com/v1","kind":"Credential","metadata":{"name":"c"},"spec":{"users":[{"name":"a","password":"p1"},{"name":"b","password":"p2"}],"endpoint":"db:5432"}}"#;
        let value = redact(&r, cred);
        assert!(value["spec"]["users"][0]["password"]
            .as_str()
            .unwrap()
            .starts_with(MARK));
        assert!(value["spec"]["users"][1]["password"]
            .as_str()
            .unwrap()
            .starts_with(MARK));
        assert_eq!(value["spec"]["users"][0]["name"], "a");
        assert_eq!(value["spec"]["endpoint"], "db:5432");
        let other_group = cred.replace("example.com/v1", "other.io/v1");
        assert_eq!(
            redact(&r, &other_group)["spec"]["users"][0]["password"],
            "p1"
        );
        let cm = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"m"},"data":{"token":"t","mode":"fast"}}"#;
        let value = redact(&r, cm);
        assert!(value["data"]["token"].as_str().unwrap().starts_with(MARK));
        assert_eq!(value["data"]["mode"], "fast");
    }

    #[test]
    fn a_rule_reaches_one_env_var_of_every_container_by_merge_key() {
        let r =
            redactor(&["Deployment.apps:spec.template.spec.containers[*].env[name=API_KEY].value"]);
        let deploy = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"API_KEY","value":"k-123"},{"name":"MODE","value":"prod"}]},{"name":"sidecar","env":[{"name":"API_KEY","value":"k-456"}]}]}}}}"#;
        let value = redact(&r, deploy);
        let containers = &value["spec"]["template"]["spec"]["containers"];
        assert!(containers[0]["env"][0]["value"]
            .as_str()
            .unwrap()
            .starts_with(MARK));
        assert_eq!(containers[0]["env"][1]["value"], "prod");
        assert!(containers[1]["env"][0]["value"]
            .as_str()
            .unwrap()
            .starts_with(MARK));
        assert_eq!(containers[0]["env"][0]["name"], "API_KEY");
    }

    #[test]
    fn keeping_secret_values_keeps_them_but_not_the_users_rules() {
        let settings = RedactSettings {
            rules: vec!["ConfigMap:data".into()],
            keep_secret_values: true,
            key_file: None,
        };
        let r = Redactor::new(&settings).unwrap();
        let value = redact(&r, r#"{"kind":"Secret","data":{"k":"djE="}}"#);
        assert_eq!(value["data"]["k"], "djE=");
        assert_eq!(r.info().secret_values, "recorded");
        assert_eq!(r.info().rules, vec!["ConfigMap:data".to_string()]);
    }

    #[test]
    fn patterns_read_wildcards_merge_keys_and_quoted_keys() {
        let p = FieldPattern::parse("spec.users[*].password").unwrap();
        assert_eq!(p.0.len(), 4);
        assert_eq!(p.0[2], Step::Any);
        let p = FieldPattern::parse("spec.*.token").unwrap();
        assert_eq!(p.0[1], Step::Any);
        let p = FieldPattern::parse(r#"metadata.annotations["example.com/token*"]"#).unwrap();
        assert_eq!(p.0.len(), 3);
        assert!(matches!(&p.0[2], Step::Exact(Segment::Field(f)) if f == "example.com/token*"));
        let p = FieldPattern::parse("spec.containers[name=web].env").unwrap();
        assert_eq!(p.0.len(), 4);
        assert!(FieldPattern::parse("").is_err());
        assert!(FieldPattern::parse("spec..x").is_err());
    }

    #[test]
    fn bad_rules_say_what_is_wrong() {
        for bad in [
            "Secret",
            ":data",
            "Secret:",
            "Se cret:data",
            "Secret:spec[x",
        ] {
            let err = Rule::parse(bad).unwrap_err().to_string();
            assert!(err.contains("KIND[.GROUP]:FIELD_PATH"), "{bad}: {err}");
        }
        let rule = Rule::parse("secrets:data").unwrap();
        assert!(rule.covers("", "Secret", "secrets"));
        assert!(!rule.covers("", "ConfigMap", "configmaps"));
    }

    #[test]
    fn an_object_that_is_not_json_is_an_error_not_a_pass_through() {
        let r = redactor(&[]);
        assert!(r.redact("{not json", "", "Secret", "secrets").is_err());
        assert!(r.redact("{not json", "", "Pod", "pods").unwrap().is_none());
    }

    #[test]
    fn a_held_key_redacts_secrets_the_same_way_every_time_and_a_short_one_is_refused() {
        assert!(Redactor::with_secret_key(b"short").is_err());
        let key = [7u8; 32];
        let (a, b) = (
            Redactor::with_secret_key(&key).unwrap(),
            Redactor::with_secret_key(&key).unwrap(),
        );
        let value = Value::String("c2VjcmV0".into());
        assert_eq!(a.hash(&value), b.hash(&value));
        assert!(a.hash(&value).starts_with(MARK));
        let info = a.info();
        assert_eq!(info.key.as_deref(), Some("file"));
        assert_eq!(info.rules, SECRET_RULES.map(String::from).to_vec());
        assert!(a.covers("", "Secret", "secrets"));
        assert!(!a.covers("", "ConfigMap", "configmaps"));
    }
}
