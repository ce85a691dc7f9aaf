//! A fast look at one record line: its type, time and the identity of its object, without
//! parsing the body.
//!
//! The scan walks the JSON structure but only decodes the few strings the index needs; strings,
//! arrays and objects it does not need are skipped by searching for the next quote or bracket
//! with `memchr`. It does not validate what it skips (escapes, numbers, UTF-8 inside strings):
//! a line it accepts may still be rejected when a query parses it in full, and then it is
//! reported there. Anything unusual (an escaped name, a duplicated key, a field of the wrong
//! type, a control record) makes it return `None`, and the caller parses the line with serde
//! instead, so unusual lines get exactly the full reader's treatment.

use memchr::{memchr2, memchr3};

use crate::trace::EventType;

/// What the index keeps of one object record, borrowed from the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LineHead<'a> {
    /// The record's `type`, when it is an object record.
    pub event: Option<EventType>,
    /// The record's `ts`, as written.
    pub ts: &'a str,
    /// `object.kind`.
    pub kind: &'a str,
    /// `object.apiVersion`.
    pub api_version: &'a str,
    /// `object.metadata.namespace`.
    pub namespace: &'a str,
    /// `object.metadata.name`, when present.
    pub name: Option<&'a str>,
    /// `object.metadata.uid`.
    pub uid: &'a str,
    /// The UID of the first owner reference with `controller: true`.
    pub controller_uid: Option<&'a str>,
    /// For Events: the UID in `involvedObject` (or, without it, `regarding`).
    pub subject_uid: Option<&'a str>,
}

/// Scans an object record line; `None` when the line is not a plain object record.
pub fn scan_object_line(line: &[u8]) -> Option<LineHead<'_>> {
    let mut cursor = Cursor {
        bytes: line,
        pos: 0,
        stopped: false,
    };
    let mut head = LineHead::default();
    let (mut seen_type, mut seen_ts, mut seen_object) = (false, false, false);
    cursor.fields(|c, key| match key {
        b"type" => {
            once(&mut seen_type)?;
            head.event = Some(EventType::from_type(c.plain_string()?)?);
            Some(())
        }
        b"ts" => {
            once(&mut seen_ts)?;
            head.ts = c.plain_string()?;
            Some(())
        }
        b"object" => {
            once(&mut seen_object)?;
            scan_object(c, &mut head, seen_type && seen_ts)
        }
        _ => c.skip_value(),
    })?;
    let whole = if cursor.stopped {
        line.trim_ascii_end().ends_with(b"}")
    } else {
        cursor.skip_ws();
        cursor.pos == line.len()
    };
    if !whole || !seen_ts || !seen_object {
        return None;
    }
    head.event?;
    Some(head)
}

/// Reads the object's identity. When the record's type and time are already read and the
/// object is not an Event, nothing after `metadata` is needed, and the scan stops there.
fn scan_object<'a>(c: &mut Cursor<'a>, head: &mut LineHead<'a>, may_stop: bool) -> Option<()> {
    let mut seen = [false; 5];
    let (mut involved, mut regarding): (Option<Option<&'a str>>, Option<Option<&'a str>>) =
        (None, None);
    c.fields(|c, key| match key {
        b"kind" => {
            once(&mut seen[0])?;
            head.kind = c.nullable_string()?.unwrap_or("");
            Some(())
        }
        b"apiVersion" => {
            once(&mut seen[1])?;
            head.api_version = c.nullable_string()?.unwrap_or("");
            Some(())
        }
        b"metadata" => {
            once(&mut seen[2])?;
            scan_metadata(c, head)?;
            c.stopped = may_stop && seen[0] && head.kind != "Event";
            Some(())
        }
        // A null reference reads as absent, as serde reads an `Option`.
        b"involvedObject" => {
            once(&mut seen[3])?;
            if !c.null()? {
                involved = Some(scan_reference(c)?);
            }
            Some(())
        }
        b"regarding" => {
            once(&mut seen[4])?;
            if !c.null()? {
                regarding = Some(scan_reference(c)?);
            }
            Some(())
        }
        _ => c.skip_value(),
    })?;
    head.subject_uid = involved.or(regarding).flatten();
    Some(())
}

fn scan_metadata<'a>(c: &mut Cursor<'a>, head: &mut LineHead<'a>) -> Option<()> {
    if c.null()? {
        return Some(());
    }
    let mut seen = [false; 4];
    c.fields(|c, key| match key {
        b"name" => {
            once(&mut seen[0])?;
            head.name = c.nullable_string()?;
            Some(())
        }
        b"namespace" => {
            once(&mut seen[1])?;
            head.namespace = c.nullable_string()?.unwrap_or("");
            Some(())
        }
        b"uid" => {
            once(&mut seen[2])?;
            head.uid = c.nullable_string()?.unwrap_or("");
            Some(())
        }
        b"ownerReferences" => {
            once(&mut seen[3])?;
            head.controller_uid = scan_owners(c)?;
            Some(())
        }
        // Checked by the full parse only for their type; a scalar of the wrong type is rare enough
        // to leave to the query that reads the line.
        _ => c.skip_value(),
    })
}

/// The UID of the first owner with `controller: true`.
fn scan_owners<'a>(c: &mut Cursor<'a>) -> Option<Option<&'a str>> {
    if c.null()? {
        return Some(None);
    }
    let mut controller_uid = None;
    c.items(|c| {
        let (mut uid, mut controller) = (None, false);
        let mut seen = [false; 2];
        c.fields(|c, key| match key {
            b"uid" => {
                once(&mut seen[0])?;
                uid = c.nullable_string()?;
                Some(())
            }
            b"controller" => {
                once(&mut seen[1])?;
                controller = c.nullable_bool()?.unwrap_or(false);
                Some(())
            }
            _ => c.skip_value(),
        })?;
        if controller && controller_uid.is_none() {
            controller_uid = Some(uid);
        }
        Some(())
    })?;
    Some(controller_uid.flatten())
}

/// The `uid` of an object reference (`involvedObject`, `regarding`); `None` inside when absent.
fn scan_reference<'a>(c: &mut Cursor<'a>) -> Option<Option<&'a str>> {
    let mut uid = None;
    let mut seen = false;
    c.fields(|c, key| match key {
        b"uid" => {
            once(&mut seen)?;
            uid = c.nullable_string()?;
            Some(())
        }
        _ => c.skip_value(),
    })?;
    Some(uid)
}

/// Fails on the second sighting of a key: serde rejects duplicate fields, so the full parse decides.
fn once(seen: &mut bool) -> Option<()> {
    if *seen {
        return None;
    }
    *seen = true;
    Some(())
}

/// A position in a line; every method returns `None` on anything it does not expect.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Set when the scan has all it needs: every enclosing `fields` returns at once.
    stopped: bool,
}

impl<'a> Cursor<'a> {
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.pos += 1)
    }

    /// Consumes a `null`, returning whether there was one.
    fn null(&mut self) -> Option<bool> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            return Some(true);
        }
        Some(false)
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.pos + word.len();
        (self.bytes.get(self.pos..end)? == word).then(|| self.pos = end)
    }

    /// A string without escapes (the names and UIDs the index reads never have any).
    fn plain_string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.pos;
        let rest = &self.bytes[start..];
        let end = memchr2(b'"', b'\\', rest)?;
        if rest[end] != b'"' {
            return None;
        }
        self.pos = start + end + 1;
        std::str::from_utf8(&rest[..end]).ok()
    }

    fn nullable_string(&mut self) -> Option<Option<&'a str>> {
        if self.null()? {
            return Some(None);
        }
        self.plain_string().map(Some)
    }

    fn nullable_bool(&mut self) -> Option<Option<bool>> {
        match self.peek()? {
            b'n' => self.literal(b"null").map(|()| None),
            b't' => self.literal(b"true").map(|()| Some(true)),
            b'f' => self.literal(b"false").map(|()| Some(false)),
            _ => None,
        }
    }

    /// Calls `field` with each key of an object, the cursor on its value; `field` must consume it.
    fn fields(&mut self, mut field: impl FnMut(&mut Self, &'a [u8]) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.pos += 1;
            return Some(());
        }
        loop {
            self.eat(b'"')?;
            let start = self.pos;
            let end = memchr2(b'"', b'\\', &self.bytes[start..])?;
            if self.bytes[start + end] != b'"' {
                return None;
            }
            let key = &self.bytes[start..start + end];
            self.pos = start + end + 1;
            self.eat(b':')?;
            field(self, key)?;
            if self.stopped {
                return Some(());
            }
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Calls `item` with the cursor on each element of an array; `item` must consume it.
    fn items(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        if self.peek()? == b']' {
            self.pos += 1;
            return Some(());
        }
        loop {
            item(self)?;
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn skip_value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.skip_string(),
            b'{' => self.skip_container(b'{', b'}'),
            b'[' => self.skip_container(b'[', b']'),
            _ => self.skip_scalar(),
        }
    }

    /// Skips a string, the cursor on its opening quote.
    fn skip_string(&mut self) -> Option<()> {
        let mut pos = self.pos + 1;
        loop {
            let found = pos + memchr2(b'"', b'\\', self.bytes.get(pos..)?)?;
            if self.bytes[found] == b'"' {
                self.pos = found + 1;
                return Some(());
            }
            pos = found + 2;
        }
    }

    /// Skips a balanced object or array: only its own brackets and strings matter, because
    /// inside well-formed JSON the other kind of bracket is balanced too.
    fn skip_container(&mut self, open: u8, close: u8) -> Option<()> {
        let mut depth = 0usize;
        let mut pos = self.pos;
        loop {
            let found = pos + memchr3(b'"', open, close, self.bytes.get(pos..)?)?;
            match self.bytes[found] {
                b'"' => {
                    self.pos = found;
                    self.skip_string()?;
                    pos = self.pos;
                    continue;
                }
                byte if byte == open => depth += 1,
                _ => {
                    depth -= 1;
                    if depth == 0 {
                        self.pos = found + 1;
                        return Some(());
                    }
                }
            }
            pos = found + 1;
        }
    }

    /// Skips a number, `true`, `false` or `null`.
    fn skip_scalar(&mut self) -> Option<()> {
        let start = self.pos;
        while let Some(&byte) = self.bytes.get(self.pos) {
            if matches!(byte, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                break;
            }
            self.pos += 1;
        }
        (self.pos > start).then_some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(line: &str) -> Option<LineHead<'_>> {
        scan_object_line(line.as_bytes())
    }

    #[test]
    fn reads_the_identity_of_an_object_record() {
        let line = r#"{"ts":"2026-11-26T07:00:00Z","type":"MODIFIED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-1","namespace":"shop","uid":"u1","labels":{"a":"b{"},"ownerReferences":[{"uid":"o0","controller":false},{"kind":"ReplicaSet","uid":"o1","controller":true}],"managedFields":[{"fieldsV1":{"f:spec":{"f:x":{}}}}]},"spec":{"containers":[{"args":["\"]}"]}]},"status":{"phase":"Running"}}}"#;
        let head = scan(line).unwrap();
        assert_eq!(head.event, Some(EventType::Modified));
        assert_eq!(head.ts, "2026-11-26T07:00:00Z");
        assert_eq!(
            (
                head.kind,
                head.api_version,
                head.namespace,
                head.name,
                head.uid
            ),
            ("Pod", "v1", "shop", Some("web-1"), "u1")
        );
        assert_eq!(head.controller_uid, Some("o1"));
        assert_eq!(head.subject_uid, None);
    }

    #[test]
    fn keys_may_come_in_any_order_and_events_name_their_subject() {
        let line = r#"{ "object" : {"involvedObject":{"uid":"p1","kind":"Pod"},"metadata":{"uid":"e1","name":"e"},"kind":"Event","count":3,"x":[1,true,null,-2.5e3]} , "type":"ADDED","ts":"t"}"#;
        let head = scan(line).unwrap();
        assert_eq!(head.event, Some(EventType::Added));
        assert_eq!(head.uid, "e1");
        assert_eq!(head.subject_uid, Some("p1"));
        let regarding = r#"{"type":"ADDED","ts":"t","object":{"kind":"Event","regarding":{"uid":"p2"},"metadata":{"uid":"e2"}}}"#;
        assert_eq!(scan(regarding).unwrap().subject_uid, Some("p2"));
    }

    #[test]
    fn stops_after_metadata_once_type_and_time_are_known() {
        let line = r#"{"type":"ADDED","ts":"t","object":{"kind":"Pod","metadata":{"uid":"u"},"spec":{"not json at all"}}"#;
        assert_eq!(scan(line).unwrap().uid, "u");
        let cut =
            r#"{"type":"ADDED","ts":"t","object":{"kind":"Pod","metadata":{"uid":"u"},"spec":{"#;
        assert_eq!(scan(cut), None);
        let event_last = r#"{"type":"ADDED","ts":"t","object":{"kind":"Event","metadata":{"uid":"e"},"involvedObject":{"uid":"p"}}}"#;
        assert_eq!(scan(event_last).unwrap().subject_uid, Some("p"));
    }

    #[test]
    fn leaves_unusual_lines_to_the_full_parser() {
        for line in [
            r#"{"type":"SYNCED","ts":"t","resource":"v1/pods"}"#,
            r#"{"type":"ADDED","ts":"t"}"#,
            r#"{"type":"ADDED","type":"ADDED","ts":"t","object":{}}"#,
            r#"{"type":"ADDED","ts":"t","object":{"metadata":{"name":"a\"b"}}}"#,
            r#"{"type":"ADDED","ts":"t","object":{"metadata":{"name":5}}}"#,
            r#"{"type":"ADDED","ts":"t","object":{"metadata":{"name":"a"}}"#,
            r#"{"type":"ADDED","ts":"t","object":{"spec":"unterminated}}"#,
            r#"{"object":{"kind":"Pod","metadata":{"uid":"u"},"spec":{"#,
            r#"{"type":"ADDED","ts":"t","object":{}} trailing"#,
            r#"not json"#,
            "",
        ] {
            assert_eq!(scan(line), None, "{line}");
        }
    }

    #[test]
    fn null_fields_read_as_absent() {
        let line = r#"{"type":"LISTED","ts":"t","object":{"kind":"Node","metadata":{"name":"n1","namespace":null,"uid":"u","ownerReferences":null},"involvedObject":null}}"#;
        let head = scan(line).unwrap();
        assert_eq!((head.namespace, head.controller_uid), ("", None));
        let fallback = r#"{"type":"ADDED","ts":"t","object":{"kind":"Event","involvedObject":null,"regarding":{"uid":"p3"},"metadata":{"uid":"e3"}}}"#;
        assert_eq!(scan(fallback).unwrap().subject_uid, Some("p3"));
    }
}
