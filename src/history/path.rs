//! Field paths such as `spec.template.spec.containers[name=web].image`, with display and parsing.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// One step of a [`FieldPath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// A map key or struct field, e.g. `spec` or `kubectl.kubernetes.io/restartedAt`.
    Field(String),
    /// A list item identified by its merge key, e.g. `[name=web]`.
    Key {
        /// The merge key field name, e.g. `name`.
        name: String,
        /// The merge key value of the item, e.g. `"web"` or `8080`.
        value: Value,
    },
    /// A list item identified by its position, e.g. `[0]`.
    Index(usize),
}

/// A path from the root of an object to one of its fields.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct FieldPath(pub Vec<Segment>);

/// Why a path string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// A character that does not fit the path grammar.
    #[error("unexpected {found:?} at byte {at} in field path")]
    Unexpected {
        /// Byte offset of the offending character.
        at: usize,
        /// The offending character.
        found: char,
    },
    /// The path ended in the middle of a segment.
    #[error("field path ends unexpectedly")]
    UnexpectedEnd,
    /// A `"..."` string inside brackets is not valid JSON.
    #[error("bad quoted string at byte {at} in field path")]
    BadQuotedString {
        /// Byte offset of the opening quote.
        at: usize,
    },
}

impl FieldPath {
    /// The empty path, pointing at the whole object.
    pub fn root() -> FieldPath {
        FieldPath(Vec::new())
    }

    /// The segments of this path, outermost first.
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    /// Whether this is the root path.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// Appends a field segment in place.
    pub fn push_field(&mut self, name: impl Into<String>) {
        self.0.push(Segment::Field(name.into()));
    }

    /// Appends a merge-key list item segment in place.
    pub fn push_key(&mut self, name: impl Into<String>, value: Value) {
        let name = name.into();
        self.0.push(Segment::Key { name, value });
    }

    /// Appends a list index segment in place.
    pub fn push_index(&mut self, index: usize) {
        self.0.push(Segment::Index(index));
    }

    /// A new path with a field segment appended.
    pub fn child_field(&self, name: impl Into<String>) -> FieldPath {
        self.child(Segment::Field(name.into()))
    }

    /// A new path with a merge-key list item segment appended.
    pub fn child_key(&self, name: impl Into<String>, value: Value) -> FieldPath {
        let name = name.into();
        self.child(Segment::Key { name, value })
    }

    /// A new path with a list index segment appended.
    pub fn child_index(&self, index: usize) -> FieldPath {
        self.child(Segment::Index(index))
    }

    /// The value at this path in `body`, list items found by merge key or index; `None` when
    /// absent or null.
    pub fn value_in<'v>(&self, body: &'v Value) -> Option<&'v Value> {
        self.0
            .iter()
            .try_fold(body, |value, segment| match segment {
                Segment::Field(name) => value.get(name.as_str()),
                Segment::Index(index) => value.get(*index),
                Segment::Key { name, value: key } => value
                    .as_array()?
                    .iter()
                    .find(|item| item.get(name.as_str()) == Some(key)),
            })
            .filter(|value| !value.is_null())
    }

    /// Whether `prefix` is this path or one of its ancestors.
    pub fn starts_with(&self, prefix: &FieldPath) -> bool {
        self.0.starts_with(&prefix.0)
    }

    /// The last segment, if any.
    pub fn last(&self) -> Option<&Segment> {
        self.0.last()
    }

    /// Reads a path written in the [`Display`](fmt::Display) form.
    ///
    /// # Errors
    /// [`PathError`] when `text` does not follow that form.
    pub fn parse(text: &str) -> Result<FieldPath, PathError> {
        Parser { text, pos: 0 }.path()
    }

    /// A new path with `segment` appended.
    pub fn child(&self, segment: Segment) -> FieldPath {
        let mut path = self.clone();
        path.0.push(segment);
        path
    }
}

fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn write_quoted(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    // Serializing a str to JSON cannot fail.
    let quoted = serde_json::to_string(text).map_err(|_| fmt::Error)?;
    f.write_str(&quoted)
}

/// Whether an unquoted key value would read back as this exact string.
fn reads_back_as_string(text: &str) -> bool {
    !text.is_empty()
        && !text.contains([']', '"'])
        && text.trim() == text
        && serde_json::from_str::<Value>(text).is_err()
}

fn write_key_value(f: &mut fmt::Formatter<'_>, value: &Value) -> fmt::Result {
    match value {
        Value::String(s) if reads_back_as_string(s) => f.write_str(s),
        Value::String(s) => write_quoted(f, s),
        other => write!(f, "{other}"),
    }
}

impl fmt::Display for Segment {
    /// Writes the segment as it appears after another segment.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Segment::Field(name) if is_plain_name(name) => write!(f, ".{name}"),
            Segment::Field(name) => {
                f.write_str("[")?;
                write_quoted(f, name)?;
                f.write_str("]")
            }
            Segment::Key { name, value } => {
                write!(f, "[{name}=")?;
                write_key_value(f, value)?;
                f.write_str("]")
            }
            Segment::Index(index) => write!(f, "[{index}]"),
        }
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (position, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Field(name) if position == 0 && is_plain_name(name) => {
                    f.write_str(name)?
                }
                other => write!(f, "{other}")?,
            }
        }
        Ok(())
    }
}

impl FromStr for FieldPath {
    type Err = PathError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        FieldPath::parse(text)
    }
}

impl Serialize for FieldPath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for FieldPath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        FieldPath::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A small recursive-descent reader for the display form.
struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn path(mut self) -> Result<FieldPath, PathError> {
        let mut path = FieldPath::root();
        if self.peek().is_none() {
            return Ok(path);
        }
        if self.peek() != Some('[') {
            path.0.push(Segment::Field(self.plain_name()?));
        }
        while let Some(c) = self.peek() {
            let segment = match c {
                '.' => {
                    self.pos += 1;
                    Segment::Field(self.plain_name()?)
                }
                '[' => self.bracket()?,
                other => return Err(self.unexpected(other)),
            };
            path.0.push(segment);
        }
        Ok(path)
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn unexpected(&self, found: char) -> PathError {
        PathError::Unexpected {
            at: self.pos,
            found,
        }
    }

    fn expect(&mut self, wanted: char) -> Result<(), PathError> {
        match self.peek() {
            Some(c) if c == wanted => {
                self.pos += c.len_utf8();
                Ok(())
            }
            Some(c) => Err(self.unexpected(c)),
            None => Err(PathError::UnexpectedEnd),
        }
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &str {
        let start = self.pos;
        let rest = &self.text[start..];
        let len = rest.find(|c| !keep(c)).unwrap_or(rest.len());
        self.pos += len;
        &self.text[start..start + len]
    }

    fn plain_name(&mut self) -> Result<String, PathError> {
        let name = self.take_while(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !name.is_empty() {
            return Ok(name.to_string());
        }
        match self.peek() {
            Some(c) => Err(self.unexpected(c)),
            None => Err(PathError::UnexpectedEnd),
        }
    }

    fn bracket(&mut self) -> Result<Segment, PathError> {
        self.expect('[')?;
        let segment = if self.peek() == Some('"') {
            Segment::Field(self.quoted()?)
        } else {
            self.index_or_key()?
        };
        self.expect(']')?;
        Ok(segment)
    }

    fn index_or_key(&mut self) -> Result<Segment, PathError> {
        let start = self.pos;
        let name = self.take_while(|c| c != '=' && c != ']').to_string();
        if self.peek() == Some(']') {
            return name
                .parse()
                .map(Segment::Index)
                .map_err(|_| PathError::Unexpected {
                    at: start,
                    found: name.chars().next().unwrap_or(']'),
                });
        }
        self.expect('=')?;
        let value = self.key_value()?;
        Ok(Segment::Key { name, value })
    }

    fn key_value(&mut self) -> Result<Value, PathError> {
        if self.peek() == Some('"') {
            return self.quoted().map(Value::String);
        }
        let raw = self.take_while(|c| c != ']');
        Ok(match serde_json::from_str::<Value>(raw) {
            Ok(value) if !value.is_object() && !value.is_array() => value,
            _ => Value::String(raw.to_string()),
        })
    }

    /// Reads a JSON string literal starting at the current `"`.
    fn quoted(&mut self) -> Result<String, PathError> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let mut end = start + 1;
        while end < bytes.len() && bytes[end] != b'"' {
            end += if bytes[end] == b'\\' { 2 } else { 1 };
        }
        if end >= bytes.len() {
            return Err(PathError::UnexpectedEnd);
        }
        self.pos = end + 1;
        serde_json::from_str(&self.text[start..=end])
            .map_err(|_| PathError::BadQuotedString { at: start })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(text: &str) -> FieldPath {
        let path = FieldPath::parse(text).unwrap();
        assert_eq!(path.to_string(), text);
        path
    }

    #[test]
    fn dotted_fields_and_merge_keys_display_as_written() {
        let path = FieldPath::root()
            .child_field("spec")
            .child_field("template")
            .child_field("spec")
            .child_field("containers")
            .child_key("name", json!("web"))
            .child_field("image");
        assert_eq!(
            path.to_string(),
            "spec.template.spec.containers[name=web].image"
        );
    }

    #[test]
    fn numeric_merge_keys_and_indexes_display_bare() {
        let path = FieldPath::root()
            .child_field("ports")
            .child_key("containerPort", json!(8080))
            .child_field("args")
            .child_index(0);
        assert_eq!(path.to_string(), "ports[containerPort=8080].args[0]");
    }

    #[test]
    fn keys_with_dots_or_slashes_are_quoted_in_brackets() {
        let mut path = FieldPath::root();
        path.push_field("metadata");
        path.push_field("labels");
        path.push_field("app.kubernetes.io/name");
        assert_eq!(
            path.to_string(),
            r#"metadata.labels["app.kubernetes.io/name"]"#
        );
    }

    #[test]
    fn the_root_path_displays_as_empty_string() {
        assert_eq!(FieldPath::root().to_string(), "");
        assert_eq!(FieldPath::parse("").unwrap(), FieldPath::root());
    }

    #[test]
    fn display_and_parse_round_trip() {
        let path = round_trip(
            r#"spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]"#,
        );
        assert_eq!(
            path.last(),
            Some(&Segment::Field("kubectl.kubernetes.io/restartedAt".into()))
        );
        let path = round_trip("spec.containers[name=web].ports[containerPort=8080].protocol");
        assert_eq!(
            path.0[4],
            Segment::Key {
                name: "containerPort".into(),
                value: json!(8080)
            }
        );
        round_trip("spec.containers[0].args[12]");
        round_trip(r#"["a.b"].c["with \"quote\""]"#);
    }

    #[test]
    fn string_keys_that_look_like_numbers_stay_strings() {
        let path = FieldPath::root().child_key("name", json!("8080"));
        assert_eq!(path.to_string(), r#"[name="8080"]"#);
        assert_eq!(FieldPath::parse(&path.to_string()).unwrap(), path);
        let path = FieldPath::root().child_key("name", json!(""));
        assert_eq!(FieldPath::parse(&path.to_string()).unwrap(), path);
    }

    #[test]
    fn malformed_paths_are_rejected() {
        for bad in [
            "spec.",
            "spec..x",
            "spec[",
            "spec[x",
            r#"spec["x]"#,
            "a b",
            "[a]b",
        ] {
            assert!(FieldPath::parse(bad).is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn starts_with_compares_whole_segments() {
        let parent = FieldPath::parse("spec.containers[name=web]").unwrap();
        let child = FieldPath::parse("spec.containers[name=web].image").unwrap();
        let other = FieldPath::parse("spec.containers[name=webx].image").unwrap();
        assert!(child.starts_with(&parent));
        assert!(!other.starts_with(&parent));
        assert!(child.starts_with(&FieldPath::root()));
    }

    #[test]
    fn paths_serialize_as_their_display_string() {
        let path = FieldPath::parse("metadata.labels.app").unwrap();
        let json = serde_json::to_value(&path).unwrap();
        assert_eq!(json, json!("metadata.labels.app"));
        let back: FieldPath = serde_json::from_value(json).unwrap();
        assert_eq!(back, path);
    }
}
