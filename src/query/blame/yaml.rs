//! Writing an object as YAML one line at a time, each line knowing the field path it shows.
//!
//! The layout follows `kubectl get -o yaml`: two-space indentation, list items at
//! the column of their key, the first key of a map item on the `- ` line, empty
//! maps and lists as `{}` and `[]`, multi-line strings as `|` blocks, and strings
//! that would read back as another type in double quotes. List items get the
//! path segments the diff gives them (`[name=web]`, `[type=Ready]`, or `[0]`).

use serde_json::{Map, Value};

use crate::history::diff::diff_at;
use crate::history::path::{FieldPath, Segment};

/// One line of YAML.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct YamlLine {
    /// The line, indentation included.
    pub text: String,
    /// The leaf value the line shows; `None` for a line that only opens a block.
    pub path: Option<FieldPath>,
    /// For a block opener: the index after the last line of its block.
    pub block_end: usize,
    /// Whether the line shows a `null`.
    pub null: bool,
    /// For a line inside a multi-line text (a `|` block): which line of the text it is.
    pub text_line: Option<usize>,
}

/// Writes `doc` (the object's top-level map) as YAML lines.
pub(super) fn lines(doc: &Map<String, Value>) -> Vec<YamlLine> {
    let mut writer = Writer::default();
    writer.entries(doc, &FieldPath::root(), "", "");
    writer.lines
}

#[derive(Default)]
struct Writer {
    lines: Vec<YamlLine>,
}

impl Writer {
    /// Writes a map's entries: the first after `lead`, the others after `rest`.
    fn entries(&mut self, map: &Map<String, Value>, path: &FieldPath, lead: &str, rest: &str) {
        for (position, (key, value)) in map.iter().enumerate() {
            let prefix = if position == 0 { lead } else { rest };
            let head = format!("{prefix}{}:", string_text(key));
            self.value(&head, value, &path.child_field(key.as_str()), rest);
        }
    }

    /// Writes `head` (`  image:` or `-`) and `value`; `indent` is the column of head's key.
    fn value(&mut self, head: &str, value: &Value, path: &FieldPath, indent: &str) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                let start = self.open(head);
                let inner = format!("{indent}  ");
                self.entries(map, path, &inner, &inner);
                self.close(start);
            }
            Value::Array(items) if !items.is_empty() => {
                let start = self.open(head);
                self.items(items, path, indent);
                self.close(start);
            }
            Value::String(text) if is_block(text) => self.block(head, text, path, indent),
            Value::Null => {
                self.leaf(format!("{head} {}", scalar_text(value)), path);
                if let Some(line) = self.lines.last_mut() {
                    line.null = true;
                }
            }
            scalar => self.leaf(format!("{head} {}", scalar_text(scalar)), path),
        }
    }

    /// Writes list items at the column `indent`.
    fn items(&mut self, items: &[Value], path: &FieldPath, indent: &str) {
        let inner = format!("{indent}  ");
        for (item, segment) in items.iter().zip(item_segments(items, path)) {
            let item_path = path.child(segment);
            match item {
                Value::Object(map) if !map.is_empty() => {
                    self.entries(map, &item_path, &format!("{indent}- "), &inner)
                }
                other => self.value(&format!("{indent}-"), other, &item_path, &inner),
            }
        }
    }

    /// Writes a multi-line string as a literal block; every line shows the same leaf.
    fn block(&mut self, head: &str, text: &str, path: &FieldPath, indent: &str) {
        let body = text.trim_end_matches('\n');
        let indicator = match text.len() - body.len() {
            0 => "|-",
            1 => "|",
            _ => "|+",
        };
        self.leaf(format!("{head} {indicator}"), path);
        let extra = (text.len() - body.len()).saturating_sub(1);
        let lines = body.split('\n').map(Some);
        for (index, line) in lines.chain(std::iter::repeat_n(None, extra)).enumerate() {
            let text = match line {
                None | Some("") => String::new(),
                Some(line) => format!("{indent}  {line}"),
            };
            self.leaf(text, path);
            if let (Some(_), Some(last)) = (line, self.lines.last_mut()) {
                last.text_line = Some(index);
            }
        }
    }

    fn leaf(&mut self, text: String, path: &FieldPath) {
        let block_end = self.lines.len() + 1;
        self.lines.push(YamlLine {
            text,
            path: Some(path.clone()),
            block_end,
            null: false,
            text_line: None,
        });
    }

    fn open(&mut self, head: &str) -> usize {
        self.lines.push(YamlLine {
            text: head.to_string(),
            path: None,
            block_end: 0,
            null: false,
            text_line: None,
        });
        self.lines.len() - 1
    }

    fn close(&mut self, start: usize) {
        self.lines[start].block_end = self.lines.len();
    }
}

/// The path segments of a list's items: by merge key when the diff keys this list, else by index.
fn item_segments(items: &[Value], path: &FieldPath) -> Vec<Segment> {
    let depth = path.segments().len();
    let probe = diff_at(&Value::Null, &Value::Array(items.to_vec()), path);
    let key = probe
        .first()
        .and_then(|change| match change.path.segments().get(depth) {
            Some(Segment::Key { name, .. }) => Some(name.clone()),
            _ => None,
        });
    items
        .iter()
        .enumerate()
        .map(|(index, item)| match &key {
            Some(name) => Segment::Key {
                name: name.clone(),
                value: item.get(name).cloned().unwrap_or(Value::Null),
            },
            None => Segment::Index(index),
        })
        .collect()
}

/// Whether a string is written as a `|` block: several lines a literal block can hold exactly.
fn is_block(text: &str) -> bool {
    text.contains('\n')
        && !text.starts_with(char::is_whitespace)
        && !text.trim_end_matches('\n').is_empty()
        && !text.chars().any(|c| c.is_control() && c != '\n')
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::String(text) => string_text(text),
        Value::Object(_) => "{}".to_string(),
        Value::Array(_) => "[]".to_string(),
        other => other.to_string(),
    }
}

/// A string as a plain scalar, or double-quoted (JSON quoting is valid YAML) when plain would misread.
fn string_text(text: &str) -> String {
    if needs_quotes(text) {
        serde_json::to_string(text).unwrap_or_else(|_| format!("{text:?}"))
    } else {
        text.to_string()
    }
}

fn needs_quotes(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return true;
    };
    "-?:,[]{}#&*!|>'\"%@` \t".contains(first)
        || text.ends_with([' ', '\t', ':'])
        || text.contains(": ")
        || text.contains(" #")
        || text.chars().any(char::is_control)
        || is_reserved_word(text)
        || looks_numeric(text)
}

fn is_reserved_word(text: &str) -> bool {
    matches!(
        text.to_ascii_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "~" | ".inf" | ".nan"
    )
}

/// Numbers, dates and times in any YAML version's forms (`80`, `1e3`, `0x1F`, `2026-11-26T16:00:00Z`).
fn looks_numeric(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == '+')
        && text
            .chars()
            .all(|c| c.is_ascii_hexdigit() || "xXoO._:+-TtZz ".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(doc: &Value) -> String {
        let map = doc.as_object().cloned().unwrap_or_default();
        lines(&map)
            .iter()
            .map(|line| format!("{}\n", line.text))
            .collect()
    }

    #[test]
    fn lists_sit_at_their_key_and_map_items_start_on_the_dash_line() {
        let doc = json!({"spec": {"containers": [{"name": "web", "image": "nginx:1.25",
            "ports": [{"containerPort": 80}]}], "securityContext": {}, "args": []}});
        assert_eq!(
            text(&doc),
            "spec:\n  containers:\n  - name: web\n    image: nginx:1.25\n    ports:\n    - containerPort: 80\n  securityContext: {}\n  args: []\n"
        );
    }

    #[test]
    fn every_line_knows_its_path_and_blocks_know_their_end() {
        let doc = json!({"spec": {"containers": [{"name": "web", "image": "a"}]}});
        let lines = lines(doc.as_object().unwrap());
        let paths: Vec<Option<String>> = lines
            .iter()
            .map(|l| l.path.as_ref().map(ToString::to_string))
            .collect();
        assert_eq!(
            paths,
            [
                None,
                None,
                Some("spec.containers[name=web].name".to_string()),
                Some("spec.containers[name=web].image".to_string()),
            ]
        );
        assert_eq!((lines[0].block_end, lines[1].block_end), (4, 4));
    }

    #[test]
    fn ambiguous_strings_are_quoted_and_the_yaml_reads_back_as_the_object() {
        let doc = json!({
            "creationTimestamp": "2026-11-26T15:21:00Z", "port": "80", "flag": "true", "empty": "",
            "cpu": "100m", "surge": "25%", "colon": "a: b", "dash": "-v", "nothing": null,
            "config": "{\"a\":1}\n", "script": "line one\n  line two", "kept": "x\n\n",
            "matrix": [[1, 2], []], "items": [{}, "s", {"k": "multi\nline"}], "on": 1.5,
            "k8s.io/key": "value #not-a-comment", "unicode": "héllo", "tab": "a\tb"
        });
        let yaml = text(&doc);
        assert!(yaml.contains("creationTimestamp: \"2026-11-26T15:21:00Z\"\n"));
        assert!(yaml.contains("cpu: 100m\n") && yaml.contains("surge: 25%\n"));
        assert!(yaml.contains("config: |\n  {\"a\":1}\n"), "{yaml}");
        let back: Value = yaml_serde::from_str(&yaml).unwrap();
        assert_eq!(back, doc, "{yaml}");
    }
}
