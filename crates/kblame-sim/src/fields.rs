//! managedFields: the structured-merge-diff field sets (`fieldsV1`) and who owns which field.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::clock::{whole_seconds, Ms};

/// A set of fields as a trie; `member` means the node's own path is in the set.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FieldSet {
    member: bool,
    children: BTreeMap<String, FieldSet>,
}

impl FieldSet {
    /// Whether the set holds no path at all.
    pub(crate) fn is_empty(&self) -> bool {
        !self.member && self.children.is_empty()
    }

    fn child(&mut self, key: &str) -> &mut FieldSet {
        self.children.entry(key.to_string()).or_default()
    }

    /// Adds every path of `other`.
    pub(crate) fn union(&mut self, other: &FieldSet) {
        self.member |= other.member;
        for (key, child) in &other.children {
            self.child(key).union(child);
        }
    }

    /// Removes every path of `other`, dropping nodes left empty.
    /// Returns whether anything was removed.
    pub(crate) fn subtract(&mut self, other: &FieldSet) -> bool {
        let mut changed = false;
        if other.member && self.member {
            self.member = false;
            changed = true;
        }
        for (key, theirs) in &other.children {
            if let Some(mine) = self.children.get_mut(key) {
                changed |= mine.subtract(theirs);
                if mine.is_empty() {
                    self.children.remove(key);
                }
            }
        }
        changed
    }

    /// The `fieldsV1` JSON of this set.
    pub(crate) fn to_json(&self) -> Value {
        let mut map = Map::new();
        if self.member && !self.children.is_empty() {
            map.insert(".".to_string(), json!({}));
        }
        for (key, child) in &self.children {
            map.insert(key.clone(), child.to_json());
        }
        Value::Object(map)
    }
}

/// The merge keys of a list field, or `None` when the list is atomic.
fn list_keys(field: &str) -> Option<&'static [&'static str]> {
    match field {
        "containers" | "initContainers" | "env" | "volumes" => Some(&["name"]),
        "volumeMounts" => Some(&["mountPath"]),
        "ports" => Some(&["containerPort", "protocol"]),
        "conditions" => Some(&["type"]),
        "ownerReferences" => Some(&["uid"]),
        "podIPs" => Some(&["ip"]),
        _ => None,
    }
}

/// Fields whose whole value is one leaf of the trie.
fn is_atomic(field: &str) -> bool {
    matches!(
        field,
        "selector"
            | "containerStatuses"
            | "initContainerStatuses"
            | "tolerations"
            | "metrics"
            | "currentMetrics"
            | "involvedObject"
            | "command"
            | "args"
            | "hostIPs"
    )
}

/// Fields the API server fills in outside field management (admission, binding).
fn is_untracked(field: &str) -> bool {
    matches!(
        field,
        "serviceAccountName"
            | "serviceAccount"
            | "tolerations"
            | "priority"
            | "preemptionPolicy"
            | "nodeName"
    )
}

/// Whether a node of this field is itself a member of the set (shown as `.`).
fn owns_itself(field: &str, is_list: bool) -> bool {
    if is_list {
        return field != "containers";
    }
    matches!(
        field,
        "labels"
            | "annotations"
            | "matchLabels"
            | "limits"
            | "requests"
            | "nodeSelector"
            | "rollingUpdate"
            | "livenessProbe"
            | "readinessProbe"
            | "startupProbe"
            | "httpGet"
            | "tcpSocket"
            | "exec"
    )
}

/// Metadata fields that are never part of anyone's set.
fn is_system_metadata(field: &str) -> bool {
    matches!(
        field,
        "name"
            | "namespace"
            | "uid"
            | "resourceVersion"
            | "generation"
            | "creationTimestamp"
            | "deletionTimestamp"
            | "deletionGracePeriodSeconds"
            | "managedFields"
    )
}

/// The `k:{...}` element naming a keyed list item, or `None` if it lacks its keys.
fn item_element(item: &Value, keys: &[&str]) -> Option<String> {
    let mut key = Map::new();
    for name in keys {
        let value = match (item.get(*name), *name) {
            (Some(v), _) => v.clone(),
            (None, "protocol") => json!("TCP"),
            (None, _) => return None,
        };
        key.insert((*name).to_string(), value);
    }
    Some(format!("k:{}", Value::Object(key)))
}

/// Items injected by admission (the service-account token volume) are not tracked.
fn is_injected_item(item: &Value) -> bool {
    let text = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or_default();
    text("name").starts_with("kube-api-access-")
        || text("mountPath") == "/var/run/secrets/kubernetes.io/serviceaccount"
}

/// The outcome of comparing two versions of an object.
#[derive(Debug, Default)]
pub(crate) struct FieldDiff {
    /// Fields added or changed in the new version.
    pub(crate) changed: FieldSet,
    /// Fields present only in the old version.
    pub(crate) removed: FieldSet,
    /// Leaf paths (in `spec.a[name=x].b` notation) that were added, changed or removed.
    pub(crate) paths: Vec<String>,
}

/// Compares two whole objects (`Value::Null` for "did not exist").
/// A write to the main resource (`subresource` none) leaves out `status`; one through `status`
/// leaves out `spec`.
pub(crate) fn diff_objects(
    old: &Value,
    new: &Value,
    subresource: Option<&str>,
    with_paths: bool,
) -> FieldDiff {
    let mut diff = FieldDiff::default();
    let mut path = String::new();
    let mut paths = Paths {
        enabled: with_paths,
        list: Vec::new(),
    };
    let top = Some(match subresource {
        None => Scope::Main,
        Some("status") => Scope::Status,
        Some(_) => Scope::All,
    });
    let changed = &mut diff.changed;
    walk_object(
        old.as_object(),
        new.as_object(),
        top,
        &mut path,
        changed,
        &mut paths,
    );
    if let (Some(old), Some(new)) = (old.as_object(), new.as_object()) {
        walk_removed(old, new, top, &mut path, &mut diff.removed, &mut paths);
    }
    diff.paths = paths.list;
    diff
}

/// Leaf paths collected during a walk, when wanted.
struct Paths {
    enabled: bool,
    list: Vec<String>,
}

impl Paths {
    fn off() -> Paths {
        Paths {
            enabled: false,
            list: Vec::new(),
        }
    }

    fn push(&mut self, path: &str) {
        if self.enabled {
            self.list.push(path.to_string());
        }
    }
}

/// Which top-level sections a write can change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Everything but `status`.
    Main,
    /// Everything but `spec`.
    Status,
    /// Everything.
    All,
}

/// Whether a key is left out at this level; `top` is `Some(scope)` at the object root.
fn skipped(key: &str, value: &Value, top: Option<Scope>) -> bool {
    let at_top = match top {
        Some(scope) => {
            key == "kind"
                || key == "apiVersion"
                || (scope == Scope::Main && key == "status")
                || (scope == Scope::Status && key == "spec")
        }
        None => false,
    };
    let null_time = value.is_null() && (key == "creationTimestamp" || key == "eventTime");
    at_top || null_time || is_untracked(key)
}

/// The field set of a whole value, as if it had just been created.
pub(crate) fn full_set(value: &Value) -> FieldSet {
    diff_objects(&Value::Null, value, None, false).changed
}

/// The `fieldsV1` JSON of a whole value (every field it sets).
pub fn fields_v1(value: &Value) -> Value {
    full_set(value).to_json()
}

fn push_path(path: &mut String, segment: &str) -> usize {
    let len = path.len();
    let plain = !segment.is_empty()
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if plain {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(segment);
    } else {
        path.push('[');
        path.push_str(&Value::String(segment.to_string()).to_string());
        path.push(']');
    }
    len
}

fn walk_object(
    old: Option<&Map<String, Value>>,
    new: Option<&Map<String, Value>>,
    top: Option<Scope>,
    path: &mut String,
    set: &mut FieldSet,
    paths: &mut Paths,
) {
    let Some(new) = new else { return };
    for (key, value) in new {
        if skipped(key, value, top) {
            continue;
        }
        if top.is_none() && path == "metadata" && is_system_metadata(key) {
            continue;
        }
        let old_value = old.and_then(|m| m.get(key));
        let len = push_path(path, key);
        let mut child = FieldSet::default();
        walk_field(key, old_value, value, path, &mut child, paths);
        path.truncate(len);
        if !child.is_empty() {
            set.child(&format!("f:{key}")).union(&child);
        }
    }
}

fn walk_field(
    field: &str,
    old: Option<&Value>,
    new: &Value,
    path: &mut String,
    set: &mut FieldSet,
    paths: &mut Paths,
) {
    let is_new = old.is_none();
    match new {
        Value::Object(map) if !map.is_empty() && !is_atomic(field) => {
            set.member = is_new && owns_itself(field, false);
            walk_object(
                old.and_then(Value::as_object),
                Some(map),
                None,
                path,
                set,
                paths,
            );
        }
        Value::Array(items) if !is_atomic(field) => match list_keys(field) {
            Some(keys) => {
                set.member = is_new && owns_itself(field, true);
                walk_list(
                    field,
                    keys,
                    old.and_then(Value::as_array),
                    items,
                    path,
                    set,
                    paths,
                );
                if !items.is_empty() && set.children.is_empty() {
                    set.member = false;
                }
            }
            None => leaf(old, new, path, set, paths),
        },
        _ => leaf(old, new, path, set, paths),
    }
}

fn leaf(old: Option<&Value>, new: &Value, path: &str, set: &mut FieldSet, paths: &mut Paths) {
    if old != Some(new) {
        set.member = true;
        paths.push(path);
    }
}

fn walk_list(
    field: &str,
    keys: &[&str],
    old: Option<&Vec<Value>>,
    items: &[Value],
    path: &mut String,
    set: &mut FieldSet,
    paths: &mut Paths,
) {
    for item in items {
        if is_injected_item(item) {
            continue;
        }
        let Some(element) = item_element(item, keys) else {
            continue;
        };
        let old_item = old.and_then(|list| {
            list.iter()
                .find(|o| item_element(o, keys).as_deref() == Some(element.as_str()))
        });
        let len = path.len();
        path.push_str(&item_label(item, keys));
        let mut child = FieldSet::default();
        if field == "ownerReferences" {
            leaf(old_item, item, path, &mut child, paths);
        } else {
            child.member = old_item.is_none();
            walk_object(
                old_item.and_then(Value::as_object),
                item.as_object(),
                None,
                path,
                &mut child,
                paths,
            );
        }
        path.truncate(len);
        if !child.is_empty() {
            set.child(&element).union(&child);
        }
    }
}

/// `[name=web]`: a list item by its first merge key.
fn item_label(item: &Value, keys: &[&str]) -> String {
    let key = keys.first().copied().unwrap_or("name");
    match item.get(key) {
        Some(Value::String(s)) => format!("[{key}={s}]"),
        Some(other) => format!("[{key}={other}]"),
        None => String::new(),
    }
}

/// Adds to `set` the fields of `old` that `new` no longer has.
fn walk_removed(
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    top: Option<Scope>,
    path: &mut String,
    set: &mut FieldSet,
    paths: &mut Paths,
) {
    for (key, old_value) in old {
        let system = top.is_none() && path == "metadata" && is_system_metadata(key);
        if system || skipped(key, old_value, top) {
            continue;
        }
        let len = push_path(path, key);
        let mut child = FieldSet::default();
        match new.get(key) {
            None => {
                let mut ignored = Paths::off();
                walk_field(key, None, old_value, path, &mut child, &mut ignored);
                paths.push(path);
            }
            Some(new_value) => removed_within(key, old_value, new_value, path, &mut child, paths),
        }
        path.truncate(len);
        if !child.is_empty() {
            set.child(&format!("f:{key}")).union(&child);
        }
    }
}

fn removed_within(
    field: &str,
    old: &Value,
    new: &Value,
    path: &mut String,
    set: &mut FieldSet,
    paths: &mut Paths,
) {
    if is_atomic(field) {
        return;
    }
    match (old, new, list_keys(field)) {
        (Value::Object(o), Value::Object(n), _) => walk_removed(o, n, None, path, set, paths),
        (Value::Array(o), Value::Array(n), Some(keys)) => {
            for item in o {
                let Some(element) = item_element(item, keys) else {
                    continue;
                };
                let kept = n
                    .iter()
                    .find(|x| item_element(x, keys).as_deref() == Some(element.as_str()));
                let len = path.len();
                path.push_str(&item_label(item, keys));
                let mut child = FieldSet::default();
                match kept {
                    None => {
                        let mut ignored = Paths::off();
                        child.member = true;
                        if field != "ownerReferences" {
                            walk_object(
                                None,
                                item.as_object(),
                                None,
                                path,
                                &mut child,
                                &mut ignored,
                            );
                        }
                        paths.push(path);
                    }
                    Some(kept) if field != "ownerReferences" => {
                        removed_within("", item, kept, path, &mut child, paths)
                    }
                    Some(_) => {}
                }
                path.truncate(len);
                if !child.is_empty() {
                    set.child(&element).union(&child);
                }
            }
        }
        _ => {}
    }
}

/// How a manager wrote: the `operation` of its managedFields entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Operation {
    /// Server-side apply.
    Apply,
    /// Create, update or patch.
    Update,
}

impl Operation {
    /// The wire name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// Who writes: a field manager, its operation and the subresource it goes through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Writer {
    /// The field manager name, e.g. `kube-controller-manager`.
    pub(crate) manager: String,
    /// Apply or Update.
    pub(crate) operation: Operation,
    /// `status`, `scale` or none.
    pub(crate) subresource: Option<&'static str>,
}

impl Writer {
    /// An Update by `manager` on the main resource.
    pub(crate) fn update(manager: &str) -> Writer {
        Writer {
            manager: manager.to_string(),
            operation: Operation::Update,
            subresource: None,
        }
    }

    /// An Update by `manager` through the status subresource.
    pub(crate) fn status(manager: &str) -> Writer {
        Writer {
            subresource: Some("status"),
            ..Writer::update(manager)
        }
    }

    /// An Update by `manager` through the scale subresource.
    pub(crate) fn scale(manager: &str) -> Writer {
        Writer {
            subresource: Some("scale"),
            ..Writer::update(manager)
        }
    }

    /// A server-side apply by `manager`.
    pub(crate) fn apply(manager: &str) -> Writer {
        Writer {
            operation: Operation::Apply,
            ..Writer::update(manager)
        }
    }
}

/// One managedFields entry.
#[derive(Debug, Clone)]
struct Entry {
    writer: Writer,
    time: Option<Ms>,
    fields: FieldSet,
    /// The rendered entry, until the entry changes.
    json: Option<Value>,
}

/// The managedFields of one object.
#[derive(Debug, Clone, Default)]
pub(crate) struct ManagedFields {
    entries: Vec<Entry>,
}

impl ManagedFields {
    /// Records a write: changed fields move to the writer, removed fields leave everyone.
    pub(crate) fn record(
        &mut self,
        writer: &Writer,
        diff: &FieldDiff,
        applied: Option<&FieldSet>,
        now: Ms,
    ) {
        for entry in &mut self.entries {
            let mut changed = entry.fields.subtract(&diff.removed);
            if entry.writer != *writer {
                changed |= entry.fields.subtract(&diff.changed);
            }
            if changed {
                entry.json = None;
            }
        }
        let touched = !diff.changed.is_empty() || applied.is_some();
        let entry = self.entry_for(writer);
        if touched {
            entry.json = None;
        }
        match applied {
            Some(set) => entry.fields = set.clone(),
            None => entry.fields.union(&diff.changed),
        }
        if touched && writer.subresource != Some("scale") {
            entry.time = Some(now);
        }
        self.entries.retain(|e| !e.fields.is_empty());
        let key = |e: &Entry| (e.writer.operation, e.time.map_or(0, |t| t.div_euclid(1000)));
        self.entries.sort_by(|a, b| {
            (key(a), &a.writer.manager, a.writer.subresource).cmp(&(
                key(b),
                &b.writer.manager,
                b.writer.subresource,
            ))
        });
    }

    fn entry_for(&mut self, writer: &Writer) -> &mut Entry {
        let index = match self.entries.iter().position(|e| e.writer == *writer) {
            Some(index) => index,
            None => {
                self.entries.push(Entry {
                    writer: writer.clone(),
                    time: None,
                    fields: FieldSet::default(),
                    json: None,
                });
                self.entries.len() - 1
            }
        };
        &mut self.entries[index]
    }

    /// The `metadata.managedFields` JSON (entries are rendered once per change).
    pub(crate) fn render(&mut self, api_version: &str) -> Value {
        let entries = self.entries.iter_mut().map(|e| {
            e.json
                .get_or_insert_with(|| entry_json(e.writer.clone(), e.time, &e.fields, api_version))
                .clone()
        });
        Value::Array(entries.collect())
    }
}

/// One rendered managedFields entry.
fn entry_json(writer: Writer, time: Option<Ms>, fields: &FieldSet, api_version: &str) -> Value {
    let mut map = Map::new();
    map.insert("manager".into(), json!(writer.manager));
    map.insert("operation".into(), json!(writer.operation.as_str()));
    map.insert("apiVersion".into(), json!(api_version));
    if let Some(time) = time {
        map.insert("time".into(), json!(whole_seconds(time)));
    }
    map.insert("fieldsType".into(), json!("FieldsV1"));
    map.insert("fieldsV1".into(), fields.to_json());
    if let Some(sub) = writer.subresource {
        map.insert("subresource".into(), json!(sub));
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fields_v1_of_a_small_container_spec_matches_the_api_server() {
        let spec = json!({"spec": {"containers": [{
            "name": "web", "image": "nginx:1.25",
            "ports": [{"containerPort": 80, "protocol": "TCP"}],
            "resources": {"limits": {"memory": "64Mi"}}
        }], "securityContext": {}}});
        let expected = json!({"f:spec": {
            "f:containers": {"k:{\"name\":\"web\"}": {
                ".": {}, "f:image": {}, "f:name": {},
                "f:ports": {".": {}, "k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {
                    ".": {}, "f:containerPort": {}, "f:protocol": {}}},
                "f:resources": {"f:limits": {".": {}, "f:memory": {}}}
            }},
            "f:securityContext": {}
        }});
        assert_eq!(fields_v1(&spec), expected);
    }

    #[test]
    fn a_changed_image_moves_to_the_writer_and_names_its_path() {
        let old = json!({"spec": {"containers": [{"name": "web", "image": "a"}]}});
        let new = json!({"spec": {"containers": [{"name": "web", "image": "b"}]}});
        let diff = diff_objects(&old, &new, None, true);
        assert_eq!(
            diff.paths,
            vec!["spec.containers[name=web].image".to_string()]
        );
        let mut managed = ManagedFields::default();
        managed.record(
            &Writer::update("helm"),
            &diff_objects(&Value::Null, &old, None, false),
            None,
            0,
        );
        managed.record(&Writer::update("kubectl"), &diff, None, 1000);
        let json = managed.render("apps/v1");
        assert_eq!(json[1]["manager"], "kubectl");
        assert_eq!(
            json[1]["fieldsV1"],
            json!({"f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {"f:image": {}}}}})
        );
        assert!(
            json[0]["fieldsV1"]["f:spec"]["f:containers"]["k:{\"name\":\"web\"}"]
                .get("f:image")
                .is_none()
        );
    }

    #[test]
    fn map_keys_with_dots_are_quoted_in_paths() {
        let old = json!({"spec": {"template": {"metadata": {}}}});
        let new = json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "t"}}}}});
        let diff = diff_objects(&old, &new, None, true);
        assert_eq!(
            diff.paths,
            vec![
                r#"spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]"#
                    .to_string()
            ]
        );
    }
}
