//! Decoding `metadata.managedFields` (structured-merge-diff `FieldsV1` sets) into field ownership.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::diff::canonical_text;

use super::path::{FieldPath, Segment};

/// Why managed fields could not be decoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FieldsError {
    /// `metadata.managedFields` is neither an array nor null.
    #[error("managedFields is not an array")]
    NotAnArray,
    /// A `fieldsV1` node is not a JSON object.
    #[error("fieldsV1 node under {key:?} is not an object")]
    NotAnObject {
        /// The key whose value is malformed (empty for the top level).
        key: String,
    },
    /// A `fieldsV1` key does not start with `f:`, `k:`, `v:`, `i:` or is not `.`.
    #[error("unknown fieldsV1 key {0:?}")]
    UnknownKey(String),
    /// A `k:`, `v:` or `i:` key whose payload cannot be decoded.
    #[error("undecodable fieldsV1 key {0:?}")]
    BadKey(String),
}

/// How a child of a [`FieldSet`] node is identified.
#[derive(Debug, Clone, PartialEq)]
pub enum PathElement {
    /// `f:<name>`: a map key or struct field.
    Field(String),
    /// `k:{...}`: a list item identified by its key fields.
    Key(Map<String, Value>),
    /// `v:<json>`: a set item identified by its value.
    Value(Value),
    /// `i:<n>`: a list item identified by position.
    Index(usize),
}

/// A set of owned fields: a trie decoded from `fieldsV1`.
#[derive(Debug, Clone, Default)]
pub struct FieldSet {
    /// Whether the node itself is owned (the `.` entry).
    owns_itself: bool,
    /// Children in the order they appeared.
    children: Vec<(PathElement, FieldSet)>,
    /// The positions in `children` of the children each path segment can match, by
    /// [`segment_key`]: a node can own tens of thousands of list items, and finding one by a scan
    /// per path would make reading an object quadratic.
    index: HashMap<String, Vec<usize>>,
}

impl PartialEq for FieldSet {
    /// The same fields owned (the index follows from the children).
    fn eq(&self, other: &FieldSet) -> bool {
        self.owns_itself == other.owns_itself && self.children == other.children
    }
}

impl FieldSet {
    /// Decodes a `fieldsV1` JSON object.
    ///
    /// # Errors
    /// [`FieldsError`] when a node is not an object or a key cannot be decoded.
    pub fn from_fields_v1(value: &Value) -> Result<FieldSet, FieldsError> {
        decode_node(value, "")
    }

    /// Whether the owner of this set owns the value at `path`.
    ///
    /// Walking the trie along `path`: reaching the end of the path, or a `{}`
    /// leaf (an atomic value owned whole), means covered; an index into a node
    /// holding `v:` set items is covered by that set's owner. A node holding
    /// only `.` owns the map or list itself but none of its members. An empty
    /// set covers nothing.
    pub fn covers(&self, path: &FieldPath) -> bool {
        !self.is_empty() && self.covers_segments(path.segments())
    }

    /// Every owned leaf as a path.
    ///
    /// A `k:` item becomes a [`Segment::Key`] on its first key field only
    /// (`k:{"containerPort":80,"protocol":"TCP"}` gives `[containerPort=80]`).
    /// `v:` set items are not listed one by one: the set's list path itself is
    /// reported once as a leaf. `.` entries are not separate paths; a node
    /// whose only entry is `.` is a leaf.
    pub fn leaf_paths(&self) -> Vec<FieldPath> {
        let mut paths = Vec::new();
        self.collect_leaves(&FieldPath::root(), &mut paths);
        paths
    }

    /// Whether the set owns nothing at all.
    pub fn is_empty(&self) -> bool {
        !self.owns_itself && self.children.is_empty()
    }

    fn is_leaf(&self) -> bool {
        self.children.is_empty()
    }

    fn is_value_set(&self) -> bool {
        self.children
            .iter()
            .any(|(element, _)| matches!(element, PathElement::Value(_)))
    }

    fn covers_segments(&self, segments: &[Segment]) -> bool {
        let Some((first, rest)) = segments.split_first() else {
            return true;
        };
        if self.is_leaf() && !self.owns_itself {
            return true;
        }
        if matches!(first, Segment::Index(_)) && self.is_value_set() {
            return true;
        }
        let Some(candidates) = self.index.get(&segment_key(first)) else {
            return false;
        };
        candidates
            .iter()
            .map(|&at| &self.children[at])
            .filter(|(element, _)| element_matches(element, first))
            .any(|(_, child)| child.covers_segments(rest))
    }

    fn collect_leaves(&self, path: &FieldPath, out: &mut Vec<FieldPath>) {
        if self.is_leaf() || self.is_value_set() {
            out.push(path.clone());
        }
        for (element, child) in &self.children {
            if let Some(segment) = element_segment(element) {
                child.collect_leaves(&path.child(segment), out);
            }
        }
    }
}

fn element_matches(element: &PathElement, segment: &Segment) -> bool {
    match (element, segment) {
        (PathElement::Field(owned), Segment::Field(name)) => owned == name,
        (PathElement::Key(fields), Segment::Key { name, value }) => fields.get(name) == Some(value),
        (PathElement::Index(owned), Segment::Index(index)) => owned == index,
        _ => false,
    }
}

/// The lookup key of a path segment in [`FieldSet::index`].
fn segment_key(segment: &Segment) -> String {
    match segment {
        Segment::Field(name) => format!("f:{name}"),
        Segment::Key { name, value } => format!("k:{name}={}", canonical_text(value)),
        Segment::Index(index) => format!("i:{index}"),
    }
}

/// The keys of the segments an element matches (see [`element_matches`]): a keyed item matches
/// a segment naming any one of its key fields.
fn element_keys(element: &PathElement) -> Vec<String> {
    match element {
        PathElement::Field(name) => vec![format!("f:{name}")],
        PathElement::Key(fields) => fields
            .iter()
            .map(|(name, value)| format!("k:{name}={}", canonical_text(value)))
            .collect(),
        PathElement::Index(index) => vec![format!("i:{index}")],
        PathElement::Value(_) => Vec::new(),
    }
}

fn element_segment(element: &PathElement) -> Option<Segment> {
    match element {
        PathElement::Field(name) => Some(Segment::Field(name.clone())),
        PathElement::Key(fields) => fields.iter().next().map(|(name, value)| Segment::Key {
            name: name.clone(),
            value: value.clone(),
        }),
        PathElement::Index(index) => Some(Segment::Index(*index)),
        PathElement::Value(_) => None,
    }
}

fn decode_node(value: &Value, key: &str) -> Result<FieldSet, FieldsError> {
    let object = value.as_object().ok_or_else(|| FieldsError::NotAnObject {
        key: key.to_string(),
    })?;
    let mut set = FieldSet::default();
    for (child_key, child_value) in object {
        if child_key == "." {
            set.owns_itself = true;
            continue;
        }
        let element = decode_key(child_key)?;
        for key in element_keys(&element) {
            set.index.entry(key).or_default().push(set.children.len());
        }
        set.children
            .push((element, decode_node(child_value, child_key)?));
    }
    Ok(set)
}

fn decode_key(key: &str) -> Result<PathElement, FieldsError> {
    let bad = || FieldsError::BadKey(key.to_string());
    let (prefix, payload) = key
        .split_once(':')
        .ok_or_else(|| FieldsError::UnknownKey(key.to_string()))?;
    match prefix {
        "f" => Ok(PathElement::Field(payload.to_string())),
        "k" => serde_json::from_str(payload)
            .map(PathElement::Key)
            .map_err(|_| bad()),
        "v" => serde_json::from_str(payload)
            .map(PathElement::Value)
            .map_err(|_| bad()),
        "i" => payload.parse().map(PathElement::Index).map_err(|_| bad()),
        _ => Err(FieldsError::UnknownKey(key.to_string())),
    }
}

/// One entry of `metadata.managedFields`: who wrote which fields, how and when.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ManagedEntry {
    /// The field manager, e.g. `kubectl-client-side-apply`.
    pub manager: Option<String>,
    /// `Apply` or `Update`.
    pub operation: Option<String>,
    /// The subresource written, e.g. `status`.
    pub subresource: Option<String>,
    /// When the entry was last changed.
    pub time: Option<jiff::Timestamp>,
    /// The API version the fields refer to.
    pub api_version: Option<String>,
    /// The owned fields (empty when `fieldsV1` is missing, of another type or undecodable).
    pub fields: FieldSet,
}

/// Decodes the array at `metadata.managedFields`; `null` gives no entries.
///
/// Entries are lenient: missing or malformed members become `None` or an
/// empty [`FieldSet`].
///
/// # Errors
/// [`FieldsError::NotAnArray`] when the value is neither an array nor null.
pub fn parse_managed_fields(
    metadata_managed_fields: &Value,
) -> Result<Vec<ManagedEntry>, FieldsError> {
    match metadata_managed_fields {
        Value::Null => Ok(Vec::new()),
        Value::Array(entries) => Ok(entries.iter().map(parse_entry).collect()),
        _ => Err(FieldsError::NotAnArray),
    }
}

fn parse_entry(entry: &Value) -> ManagedEntry {
    let text = |name: &str| entry.get(name).and_then(Value::as_str).map(str::to_string);
    ManagedEntry {
        manager: text("manager"),
        operation: text("operation"),
        subresource: text("subresource"),
        time: text("time").and_then(|time| time.parse().ok()),
        api_version: text("apiVersion"),
        fields: parse_entry_fields(entry),
    }
}

fn parse_entry_fields(entry: &Value) -> FieldSet {
    let fields_type = entry.get("fieldsType").and_then(Value::as_str);
    if fields_type.is_some_and(|kind| kind != "FieldsV1") {
        return FieldSet::default();
    }
    entry
        .get("fieldsV1")
        .and_then(|fields| FieldSet::from_fields_v1(fields).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn example() -> FieldSet {
        FieldSet::from_fields_v1(&json!({
            "f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}}},
            "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
                "k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}, "f:ports": {
                    ".": {},
                    "k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}, "f:protocol": {}}
                }}
            }}}}
        }))
        .unwrap()
    }

    fn covers(set: &FieldSet, path: &str) -> bool {
        set.covers(&FieldPath::parse(path).unwrap())
    }

    #[test]
    fn the_example_covers_the_web_image_and_port_protocol() {
        let set = example();
        assert!(covers(
            &set,
            "spec.template.spec.containers[name=web].image"
        ));
        assert!(covers(
            &set,
            "spec.template.spec.containers[name=web].ports[containerPort=80].protocol"
        ));
        assert!(covers(&set, "spec.replicas"));
        assert!(covers(
            &set,
            r#"metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]"#
        ));
    }

    #[test]
    fn the_example_does_not_cover_unowned_fields() {
        let set = example();
        assert!(!covers(
            &set,
            "spec.template.spec.containers[name=web].resources.limits.memory"
        ));
        assert!(!covers(
            &set,
            "spec.template.spec.containers[name=side].image"
        ));
        assert!(!covers(
            &set,
            "spec.template.spec.containers[name=web].ports[containerPort=81].protocol"
        ));
        assert!(!covers(&set, "metadata.annotations.other"));
    }

    #[test]
    fn an_atomic_leaf_covers_everything_below_it() {
        let set =
            FieldSet::from_fields_v1(&json!({"f:spec": {"f:args": {}, "f:subsets": {}}})).unwrap();
        assert!(covers(&set, "spec.args[2]"));
        assert!(covers(&set, "spec.subsets[0].addresses[1].ip"));
        assert!(!covers(&set, "spec.command[0]"));
    }

    #[test]
    fn a_value_set_covers_every_index_of_its_list() {
        let set = FieldSet::from_fields_v1(&json!({"f:metadata": {"f:finalizers": {
            ".": {}, "v:\"foregroundDeletion\"": {}
        }}}))
        .unwrap();
        assert!(covers(&set, "metadata.finalizers[3]"));
        assert_eq!(
            set.leaf_paths(),
            [FieldPath::parse("metadata.finalizers").unwrap()]
        );
    }

    #[test]
    fn index_items_match_by_position() {
        let set = FieldSet::from_fields_v1(&json!({"f:list": {"i:1": {"f:a": {}}}})).unwrap();
        assert!(covers(&set, "list[1].a"));
        assert!(!covers(&set, "list[0].a"));
    }

    #[test]
    fn leaf_paths_list_owned_leaves_with_first_key_fields() {
        let paths: Vec<String> = example()
            .leaf_paths()
            .iter()
            .map(ToString::to_string)
            .collect();
        let containers = "spec.template.spec.containers[name=web]";
        assert_eq!(
            paths,
            [
                r#"metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]"#
                    .to_string(),
                "spec.replicas".to_string(),
                format!("{containers}.image"),
                format!("{containers}.name"),
                format!("{containers}.ports[containerPort=80].containerPort"),
                format!("{containers}.ports[containerPort=80].protocol"),
            ]
        );
    }

    #[test]
    fn malformed_fields_v1_is_an_error() {
        assert!(FieldSet::from_fields_v1(&json!("x")).is_err());
        assert!(FieldSet::from_fields_v1(&json!({"x:y": {}})).is_err());
        assert!(FieldSet::from_fields_v1(&json!({"k:notjson": {}})).is_err());
        assert!(FieldSet::from_fields_v1(&json!({"f:a": 1})).is_err());
        assert!(FieldSet::from_fields_v1(&json!({})).unwrap().is_empty());
    }

    #[test]
    fn a_real_managed_fields_array_with_two_entries_is_decoded() {
        let entries = parse_managed_fields(&json!([
            {
                "manager": "kubectl-client-side-apply", "operation": "Update", "apiVersion": "apps/v1",
                "time": "2026-11-26T16:02:11Z", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}}},
                             "f:spec": {"f:replicas": {}}}
            },
            {
                "manager": "kube-controller-manager", "operation": "Update", "apiVersion": "apps/v1",
                "time": "2026-11-26T16:02:15Z", "fieldsType": "FieldsV1", "subresource": "status",
                "fieldsV1": {"f:status": {"f:conditions": {".": {}, "k:{\"type\":\"Available\"}": {".": {}, "f:status": {}}},
                             "f:replicas": {}}}
            }
        ]))
        .unwrap();
        assert_eq!(entries.len(), 2);
        let (apply, status) = (&entries[0], &entries[1]);
        assert_eq!(apply.manager.as_deref(), Some("kubectl-client-side-apply"));
        assert_eq!(apply.operation.as_deref(), Some("Update"));
        assert_eq!(apply.subresource, None);
        assert_eq!(apply.time, Some("2026-11-26T16:02:11Z".parse().unwrap()));
        assert_eq!(apply.api_version.as_deref(), Some("apps/v1"));
        assert!(covers(&apply.fields, "spec.replicas"));
        assert_eq!(status.manager.as_deref(), Some("kube-controller-manager"));
        assert_eq!(status.subresource.as_deref(), Some("status"));
        assert!(covers(
            &status.fields,
            "status.conditions[type=Available].status"
        ));
        assert!(!covers(&status.fields, "spec.replicas"));
    }

    #[test]
    fn lenient_entries_tolerate_missing_or_odd_members() {
        assert_eq!(parse_managed_fields(&Value::Null).unwrap(), []);
        assert_eq!(
            parse_managed_fields(&json!({})),
            Err(FieldsError::NotAnArray)
        );
        let entries = parse_managed_fields(&json!([
            {"manager": "m", "time": "yesterday", "fieldsV1": {"bad": {}}},
            {"fieldsType": "FieldsV2", "fieldsV1": {"f:a": {}}},
            7
        ]))
        .unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].manager.as_deref(), Some("m"));
        assert_eq!(entries[0].time, None);
        assert!(entries.iter().all(|entry| entry.fields.is_empty()));
    }

    #[test]
    fn the_reference_endpoints_file_has_decodable_managed_fields() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/reference/gitops-engine/pkg/diff/testdata/endpoints-live.json");
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("skipping: {} not found", path.display());
            return;
        };
        let object: Value = serde_json::from_str(&text).unwrap();
        let entries = parse_managed_fields(&object["metadata"]["managedFields"]).unwrap();
        assert!(!entries.is_empty());
        for entry in &entries {
            assert!(entry.manager.is_some());
            assert!(!entry.fields.leaf_paths().is_empty());
        }
        assert!(entries[0]
            .fields
            .covers(&FieldPath::parse("subsets[0].addresses[0].ip").unwrap()));
    }
}
