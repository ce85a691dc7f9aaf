//! Leaf-by-leaf JSON diff that matches Kubernetes list items by their merge keys.
//!
//! Rules:
//! - only leaves are reported: scalars, and empty maps or lists; a map or list
//!   that appears or disappears whole is reported leaf by leaf;
//! - an absent value and `null` are the same, and show as `null` in a change;
//! - when the value at a path changes between a scalar (or empty container) and
//!   another scalar (or empty container), it is one change at that path;
//!   otherwise (e.g. a map replaced by a string, or a map by a list) the new
//!   leaves are reported as additions first, then the old leaves as removals;
//! - output follows `after`'s order, then what exists only in `before`.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::path::{FieldPath, Segment};

/// One leaf whose value differs between two versions of an object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// Where the leaf is.
    pub path: FieldPath,
    /// The old value, `null` when the leaf did not exist.
    pub from: Value,
    /// The new value, `null` when the leaf was removed.
    pub to: Value,
}

/// Lists every changed leaf between `before` and `after`, with paths relative to them.
pub fn diff(before: &Value, after: &Value) -> Vec<FieldChange> {
    diff_at(before, after, &FieldPath::root())
}

/// Like [`diff`], with every path prefixed by `base` (which also picks list merge keys).
pub fn diff_at(before: &Value, after: &Value, base: &FieldPath) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    diff_node(Some(before), Some(after), base, &mut changes);
    changes
}

fn present(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| !v.is_null())
}

/// A scalar, an empty map or list, or nothing.
fn is_leaf(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Object(map)) => map.is_empty(),
        Some(Value::Array(items)) => items.is_empty(),
        _ => true,
    }
}

fn diff_node(
    before: Option<&Value>,
    after: Option<&Value>,
    path: &FieldPath,
    out: &mut Vec<FieldChange>,
) {
    let (before, after) = (present(before), present(after));
    let no_map = Map::new();
    match (before, after) {
        (Some(Value::Object(b)), Some(Value::Object(a))) => diff_maps(b, a, path, out),
        (None, Some(Value::Object(a))) if !a.is_empty() => diff_maps(&no_map, a, path, out),
        (Some(Value::Object(b)), None) if !b.is_empty() => diff_maps(b, &no_map, path, out),
        (Some(Value::Array(b)), Some(Value::Array(a))) => diff_lists(b, a, path, out),
        (None, Some(Value::Array(a))) if !a.is_empty() => diff_lists(&[], a, path, out),
        (Some(Value::Array(b)), None) if !b.is_empty() => diff_lists(b, &[], path, out),
        _ if before == after => {}
        _ if is_leaf(before) && is_leaf(after) => out.push(FieldChange {
            path: path.clone(),
            from: before.cloned().unwrap_or(Value::Null),
            to: after.cloned().unwrap_or(Value::Null),
        }),
        _ => {
            diff_node(None, after, path, out);
            diff_node(before, None, path, out);
        }
    }
}

fn diff_maps(
    before: &Map<String, Value>,
    after: &Map<String, Value>,
    path: &FieldPath,
    out: &mut Vec<FieldChange>,
) {
    for (key, value) in after {
        diff_node(before.get(key), Some(value), &path.child_field(key), out);
    }
    for (key, value) in before.iter().filter(|(key, _)| !after.contains_key(*key)) {
        diff_node(Some(value), None, &path.child_field(key), out);
    }
}

fn diff_lists(before: &[Value], after: &[Value], path: &FieldPath, out: &mut Vec<FieldChange>) {
    match merge_key(path, before, after) {
        Some(key) => diff_keyed_lists(key, before, after, path, out),
        None => diff_indexed_lists(before, after, path, out),
    }
}

fn diff_indexed_lists(
    before: &[Value],
    after: &[Value],
    path: &FieldPath,
    out: &mut Vec<FieldChange>,
) {
    for index in 0..before.len().max(after.len()) {
        diff_node(
            before.get(index),
            after.get(index),
            &path.child_index(index),
            out,
        );
    }
}

fn diff_keyed_lists(
    key: &str,
    before: &[Value],
    after: &[Value],
    path: &FieldPath,
    out: &mut Vec<FieldChange>,
) {
    // Items found by key through a map: lists can hold many thousands of items, and matching
    // each against every other would be quadratic. Keys are unique on both sides (see
    // `merge_key`), so each key finds at most one item.
    let old_by_key: HashMap<String, &Value> = before
        .iter()
        .map(|item| (canonical_text(&item[key]), item))
        .collect();
    let new_keys: HashSet<String> = after
        .iter()
        .map(|item| canonical_text(&item[key]))
        .collect();
    for item in after {
        let id = &item[key];
        let old = old_by_key.get(&canonical_text(id)).copied();
        diff_node(old, Some(item), &path.child_key(key, id.clone()), out);
    }
    for item in before {
        let id = &item[key];
        if !new_keys.contains(&canonical_text(id)) {
            diff_node(Some(item), None, &path.child_key(key, id.clone()), out);
        }
    }
}

/// `path` in the notation [`diff`] uses for the changes between `before` and `after`, so that
/// a path written either way finds them: a list item given by index where the diff matches
/// items by merge key is named by its key (`containers[0]` → `containers[name=web]`), one given
/// by a key where the diff matches items by position is named by its position, and one given by
/// another key than the diff's is named by the diff's. An item found on neither side, and
/// everything after it, is left as written.
pub fn diff_path(path: &FieldPath, before: &Value, after: &Value) -> FieldPath {
    let mut out = FieldPath::root();
    let (mut old, mut new) = (present(Some(before)), present(Some(after)));
    let mut segments = path.segments().iter();
    for segment in segments.by_ref() {
        let (old_items, new_items) = (items_of(old), items_of(new));
        let step = match segment {
            Segment::Field(name) => {
                old = present(old.and_then(|v| v.get(name.as_str())));
                new = present(new.and_then(|v| v.get(name.as_str())));
                out.push_field(name.clone());
                continue;
            }
            Segment::Index(index) => match (new_items.get(*index), old_items.get(*index)) {
                (None, None) => None,
                (found_new, found_old) => Some((found_new, found_old)),
            },
            Segment::Key { name, value } => {
                let find = |items: &'_ [Value]| -> Option<usize> {
                    items.iter().position(|item| {
                        item.get(name.as_str()).is_some_and(|v| same_key(v, value))
                    })
                };
                match (find(new_items), find(old_items)) {
                    (None, None) => None,
                    (n, o) => Some((n.map(|i| &new_items[i]), o.map(|i| &old_items[i]))),
                }
            }
        };
        let Some((found_new, found_old)) = step else {
            out.0.push(segment.clone());
            break;
        };
        match merge_key(&out, old_items, new_items) {
            Some(key) => {
                let Some(id) = found_new.or(found_old).and_then(|item| item.get(key)) else {
                    out.0.push(segment.clone());
                    break;
                };
                old = present(item_with(old_items, key, id));
                new = present(item_with(new_items, key, id));
                out.push_key(key, id.clone());
            }
            None => {
                let at = |items: &[Value], item: Option<&Value>| {
                    item.and_then(|item| items.iter().position(|i| std::ptr::eq(i, item)))
                };
                let Some(index) = at(new_items, found_new).or(at(old_items, found_old)) else {
                    out.0.push(segment.clone());
                    break;
                };
                old = present(old_items.get(index));
                new = present(new_items.get(index));
                out.push_index(index);
            }
        }
    }
    out.0.extend(segments.cloned());
    out
}

fn item_with<'v>(items: &'v [Value], key: &str, id: &Value) -> Option<&'v Value> {
    items.iter().find(|item| item.get(key) == Some(id))
}

fn items_of(value: Option<&Value>) -> &[Value] {
    value.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// Whether a list item's key `found` is the `wanted` one of a path, where `[name=8080]` also
/// finds the string `"8080"`.
fn same_key(found: &Value, wanted: &Value) -> bool {
    found == wanted
        || match (found, wanted) {
            (Value::String(text), other) | (other, Value::String(text)) => {
                !other.is_string() && text.as_str() == other.to_string().as_str()
            }
            _ => false,
        }
}

/// A text that two JSON values share exactly when they are equal (`==`): object keys sorted
/// (maps compare without regard to order), `-0.0` written as `0.0` (they compare equal).
pub fn canonical_text(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable();
            out.push('{');
            for key in keys {
                write_canonical(&Value::String(key.clone()), out);
                out.push(':');
                write_canonical(&map[key], out);
                out.push(',');
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for item in items {
                write_canonical(item, out);
                out.push(',');
            }
            out.push(']');
        }
        Value::Number(n) if n.as_f64() == Some(0.0) && n.is_f64() => out.push_str("0.0"),
        other => out.push_str(&other.to_string()),
    }
}

/// The merge key for this list, if its field name has one and every item carries a unique one.
fn merge_key(path: &FieldPath, before: &[Value], after: &[Value]) -> Option<&'static str> {
    let Some(Segment::Field(field)) = path.last() else {
        return None;
    };
    let key = merge_key_for_field(field, before, after)?;
    let usable = |items: &[Value]| items_have_unique_key(items, key);
    (usable(before) && usable(after)).then_some(key)
}

fn merge_key_for_field(field: &str, before: &[Value], after: &[Value]) -> Option<&'static str> {
    let key = match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "volumeMounts"
        | "imagePullSecrets"
        | "containerStatuses"
        | "initContainerStatuses"
        | "ephemeralContainerStatuses" => "name",
        "ports"
            if items_have_unique_key(before, "containerPort")
                && items_have_unique_key(after, "containerPort") =>
        {
            "containerPort"
        }
        "ports" => "port",
        "conditions" => "type",
        "ownerReferences" => "uid",
        "volumeDevices" => "devicePath",
        "hostAliases" => "ip",
        _ => return None,
    };
    Some(key)
}

fn items_have_unique_key(items: &[Value], key: &str) -> bool {
    let mut seen = HashSet::with_capacity(items.len());
    items
        .iter()
        .all(|item| present(item.get(key)).is_some_and(|id| seen.insert(canonical_text(id))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_path_in_any_notation_is_written_as_the_diff_writes_it() {
        let before = deployment(json!([{"name": "web", "image": "nginx:1", "args": ["-a"],
            "ports": [{"containerPort": 80, "name": "http"}]}]));
        let after = deployment(json!([{"name": "log", "image": "fluent"},
            {"name": "web", "image": "nginx:2", "args": ["-b"],
            "ports": [{"containerPort": 80, "name": "http"}]}]));
        let written =
            |path: &str| diff_path(&FieldPath::parse(path).unwrap(), &before, &after).to_string();
        let web = "spec.template.spec.containers[name=web]";
        assert_eq!(
            written("spec.template.spec.containers[1].image"),
            format!("{web}.image")
        );
        assert_eq!(written(&format!("{web}.image")), format!("{web}.image"));
        assert_eq!(
            written(&format!("{web}.args[name=x]")),
            format!("{web}.args[name=x]")
        );
        assert_eq!(written(&format!("{web}.args[0]")), format!("{web}.args[0]"));
        assert_eq!(
            written(&format!("{web}.ports[name=http].containerPort")),
            format!("{web}.ports[containerPort=80].containerPort")
        );
        assert_eq!(
            written(r#"spec["template"].spec.containers[0]"#),
            "spec.template.spec.containers[name=log]"
        );
        // Only before holds it: a removed item is still found.
        assert_eq!(
            diff_path(
                &FieldPath::parse("spec.template.spec.containers[0]").unwrap(),
                &before,
                &Value::Null
            )
            .to_string(),
            web
        );
        assert_eq!(
            written("spec.template.spec.containers[7].image"),
            "spec.template.spec.containers[7].image"
        );
        // An item of a list without merge key, given by a field's value, is named by position.
        let before = json!({"items": [{"id": "a", "v": 1}, {"id": "b", "v": 1}]});
        let after = json!({"items": [{"id": "a", "v": 1}, {"id": "b", "v": 2}]});
        let path = diff_path(&FieldPath::parse("items[id=b].v").unwrap(), &before, &after);
        assert_eq!(path.to_string(), "items[1].v");
        assert_eq!(diff(&before, &after)[0].path, path);
        let path = diff_path(
            &FieldPath::parse("items[id=\"b\"]").unwrap(),
            &before,
            &after,
        );
        assert_eq!(path.to_string(), "items[1]");
        let numbers = json!({"items": [{"id": "8080"}]});
        let path = diff_path(
            &FieldPath::parse("items[id=8080]").unwrap(),
            &numbers,
            &numbers,
        );
        assert_eq!(path.to_string(), "items[0]");
    }

    fn rendered(changes: &[FieldChange]) -> Vec<String> {
        changes
            .iter()
            .map(|c| format!("{}: {} -> {}", c.path, c.from, c.to))
            .collect()
    }

    fn deployment(containers: Value) -> Value {
        json!({"spec": {"template": {"spec": {"containers": containers}}}})
    }

    #[test]
    fn equal_inputs_give_no_changes() {
        let value = deployment(json!([{"name": "web", "image": "nginx:1"}]));
        assert!(diff(&value, &value.clone()).is_empty());
    }

    #[test]
    fn an_image_change_is_reported_under_the_container_name() {
        let before = deployment(
            json!([{"name": "web", "image": "nginx:1"}, {"name": "log", "image": "fluent"}]),
        );
        let after = deployment(
            json!([{"name": "log", "image": "fluent"}, {"name": "web", "image": "nginx:2"}]),
        );
        assert_eq!(
            rendered(&diff(&before, &after)),
            [r#"spec.template.spec.containers[name=web].image: "nginx:1" -> "nginx:2""#]
        );
    }

    #[test]
    fn a_container_added_whole_is_reported_leaf_by_leaf() {
        let before = deployment(json!([{"name": "web", "image": "nginx"}]));
        let after = deployment(json!([
            {"name": "web", "image": "nginx"},
            {"name": "side", "image": "envoy", "args": ["-v"], "resources": {}}
        ]));
        assert_eq!(
            rendered(&diff(&before, &after)),
            [
                r#"spec.template.spec.containers[name=side].name: null -> "side""#,
                r#"spec.template.spec.containers[name=side].image: null -> "envoy""#,
                r#"spec.template.spec.containers[name=side].args[0]: null -> "-v""#,
                "spec.template.spec.containers[name=side].resources: null -> {}",
            ]
        );
    }

    #[test]
    fn an_env_var_removed_is_reported_leaf_by_leaf() {
        let before = json!({"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]});
        let after = json!({"env": [{"name": "B", "value": "2"}]});
        assert_eq!(
            rendered(&diff(&before, &after)),
            [
                r#"env[name=A].name: "A" -> null"#,
                r#"env[name=A].value: "1" -> null"#
            ]
        );
    }

    #[test]
    fn container_ports_are_keyed_by_container_port() {
        let before = json!({"ports": [{"containerPort": 80, "protocol": "TCP"}]});
        let after = json!({"ports": [{"containerPort": 8080, "protocol": "TCP"}, {"containerPort": 80, "protocol": "UDP"}]});
        assert_eq!(
            rendered(&diff(&before, &after)),
            [
                "ports[containerPort=8080].containerPort: null -> 8080",
                r#"ports[containerPort=8080].protocol: null -> "TCP""#,
                r#"ports[containerPort=80].protocol: "TCP" -> "UDP""#,
            ]
        );
    }

    #[test]
    fn service_ports_are_keyed_by_port() {
        let before = json!({"ports": [{"port": 80, "targetPort": 8080}]});
        let after = json!({"ports": [{"port": 80, "targetPort": 9090}]});
        assert_eq!(
            rendered(&diff(&before, &after)),
            ["ports[port=80].targetPort: 8080 -> 9090"]
        );
    }

    #[test]
    fn duplicate_merge_keys_fall_back_to_indexes() {
        let before = json!({"env": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]});
        let after = json!({"env": [{"name": "A", "value": "1"}, {"name": "A", "value": "3"}]});
        assert_eq!(
            rendered(&diff(&before, &after)),
            [r#"env[1].value: "2" -> "3""#]
        );
    }

    #[test]
    fn scalar_lists_are_matched_by_index() {
        let before = json!({"args": ["a", "b", "c"]});
        let after = json!({"args": ["a", "x"]});
        assert_eq!(
            rendered(&diff(&before, &after)),
            [r#"args[1]: "b" -> "x""#, r#"args[2]: "c" -> null"#]
        );
    }

    #[test]
    fn annotations_added_whole_are_reported_key_by_key() {
        let before = json!({"metadata": {"name": "x"}});
        let after = json!({"metadata": {"name": "x", "annotations": {"a/b": "x", "c": "y"}}});
        assert_eq!(
            rendered(&diff(&before, &after)),
            [
                r#"metadata.annotations["a/b"]: null -> "x""#,
                r#"metadata.annotations.c: null -> "y""#
            ]
        );
    }

    #[test]
    fn an_empty_map_or_list_is_a_leaf() {
        let before = json!({"spec": {"a": 1}});
        let after = json!({"spec": {"a": 1, "resources": {}, "args": []}});
        assert_eq!(
            rendered(&diff(&before, &after)),
            ["spec.resources: null -> {}", "spec.args: null -> []"]
        );
        assert_eq!(
            rendered(&diff(&after, &before)),
            ["spec.resources: {} -> null", "spec.args: [] -> null"]
        );
    }

    #[test]
    fn a_map_replaced_by_a_scalar_adds_the_scalar_then_removes_old_leaves() {
        let before = json!({"x": {"a": 1, "b": 2}});
        let after = json!({"x": "flat"});
        assert_eq!(
            rendered(&diff(&before, &after)),
            [r#"x: null -> "flat""#, "x.a: 1 -> null", "x.b: 2 -> null"]
        );
    }

    #[test]
    fn explicit_null_counts_as_absent() {
        assert!(diff(&json!({"a": null}), &json!({})).is_empty());
        assert_eq!(
            rendered(&diff(&json!({"a": null}), &json!({"a": 1}))),
            ["a: null -> 1"]
        );
    }

    #[test]
    fn diff_at_prefixes_paths_and_uses_the_base_for_merge_keys() {
        let base = FieldPath::parse("spec.containers").unwrap();
        let before = json!([{"name": "web", "image": "a"}]);
        let after = json!([{"name": "web", "image": "b"}]);
        assert_eq!(
            rendered(&diff_at(&before, &after, &base)),
            [r#"spec.containers[name=web].image: "a" -> "b""#]
        );
    }

    #[test]
    fn removed_items_come_after_items_in_the_new_order() {
        let before = json!({"conditions": [{"type": "Ready", "status": "True"}, {"type": "Old", "status": "True"}]});
        let after = json!({"conditions": [{"type": "New", "status": "True"}, {"type": "Ready", "status": "False"}]});
        let paths: Vec<String> = diff(&before, &after)
            .iter()
            .map(|c| c.path.to_string())
            .collect();
        assert_eq!(
            paths,
            [
                "conditions[type=New].type",
                "conditions[type=New].status",
                "conditions[type=Ready].status",
                "conditions[type=Old].type",
                "conditions[type=Old].status",
            ]
        );
    }
}
