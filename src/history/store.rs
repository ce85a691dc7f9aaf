//! Replay: every version of every object, keyed by UID, with bodies kept as compact raw JSON.
//!
//! Records are applied one at a time through [`History::apply`]. Only the metadata
//! the queries index on is parsed during replay; a body is re-parsed on demand
//! (see [`History::body`] and [`History::parse`]) when a query needs it.

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::Timestamp;
use serde::de::DeserializeOwned;

use super::meta::ObjectHead;
use crate::trace::{parse_ts, EventType, Header, Record, RequestInfo};

/// Index of an object in [`History::objects`].
pub type ObjectId = usize;

/// Where a body lives in the body arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyRef {
    offset: usize,
    len: usize,
}

/// One recorded version of an object.
#[derive(Debug, Clone)]
pub struct Version {
    /// When the record was received.
    pub ts: Timestamp,
    /// The trace line of the record.
    pub line: u64,
    /// How it was delivered.
    pub event: EventType,
    /// `metadata.resourceVersion`.
    pub resource_version: Option<Box<str>>,
    /// `metadata.generation`.
    pub generation: Option<i64>,
    /// `metadata.deletionTimestamp`, once set.
    pub deletion_timestamp: Option<Timestamp>,
    /// The UID of the controlling owner in this version.
    pub controller_uid: Option<Box<str>>,
    /// The request that made this version, when an audit log told it (an imported trace's
    /// `request`, or `--audit`).
    pub request: Option<Box<RequestInfo>>,
    body: BodyRef,
}

/// How an object stopped existing, as far as the trace shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Gone {
    /// The watch delivered DELETED at this time.
    Deleted(Timestamp),
    /// A re-list completed at this time without it: deleted at an unknown time after its last record.
    MissingAtRelist(Timestamp),
}

/// Everything recorded about one object (one UID).
#[derive(Debug, Clone)]
pub struct ObjectHistory {
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.namespace`, empty for cluster-scoped objects.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.uid`.
    pub uid: String,
    /// `metadata.creationTimestamp`.
    pub created: Option<Timestamp>,
    /// For Events: the UID of the object the Event is about.
    pub subject_uid: Option<String>,
    /// Every version, in trace order.
    pub versions: Vec<Version>,
    /// How it went away, if it did.
    pub gone: Option<Gone>,
    /// The request that created it, when an audit log holds it but the trace does not hold the
    /// version it made (the object existed before the trace began).
    pub create_request: Option<Box<RequestInfo>>,
}

impl ObjectHistory {
    /// The first recorded version.
    pub fn first(&self) -> &Version {
        &self.versions[0]
    }

    /// The last recorded version.
    pub fn last(&self) -> &Version {
        &self.versions[self.versions.len() - 1]
    }

    /// Whether the object existed before its first record (that record is not an ADDED).
    pub fn existed_before_first_record(&self) -> bool {
        self.first().event != EventType::Added
    }

    /// The latest version recorded at or before `at`.
    pub fn version_at(&self, at: Timestamp) -> Option<&Version> {
        self.versions.iter().take_while(|v| v.ts <= at).last()
    }

    /// When the object began going away: the first deletionTimestamp seen, else the gone time.
    pub fn deletion_started(&self) -> Option<Timestamp> {
        let first_marked = self
            .versions
            .iter()
            .find(|v| v.deletion_timestamp.is_some() || v.event == EventType::Deleted);
        match (first_marked, &self.gone) {
            (Some(v), _) => Some(v.ts),
            (None, Some(Gone::MissingAtRelist(ts))) => Some(*ts),
            (None, _) => None,
        }
    }

    /// `kind/namespace/name` for messages.
    pub fn display_name(&self) -> String {
        if self.namespace.is_empty() {
            format!("{}/{}", self.kind.to_lowercase(), self.name)
        } else {
            format!(
                "{} {}/{}",
                self.kind.to_lowercase(),
                self.namespace,
                self.name
            )
        }
    }
}

/// A GAP record: a watch broke and events may be missing.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GapInfo {
    /// When.
    pub ts: Timestamp,
    /// Which resource, e.g. `v1/pods`.
    pub resource: String,
    /// Why.
    pub reason: String,
    /// When a re-list of the resource (its SYNCED) closed the gap; `None` while it is open:
    /// nothing of the resource is known after `ts`.
    #[serde(serialize_with = "crate::render::serialize_opt_ts")]
    pub closed: Option<Timestamp>,
}

/// A SYNCED record.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SyncInfo {
    /// When.
    pub ts: Timestamp,
    /// Which resource.
    pub resource: String,
    /// Whether this was a re-list (a list after the first one of this resource).
    pub relist: bool,
}

/// Facts about the trace as a whole that queries turn into warnings.
#[derive(Debug, Clone, Default)]
pub struct TraceFacts {
    /// The header, if there was one.
    pub header: Option<Header>,
    /// First record time.
    pub start: Option<Timestamp>,
    /// Last record time.
    pub end: Option<Timestamp>,
    /// Whether END was read.
    pub ended: bool,
    /// GAP records.
    pub gaps: Vec<GapInfo>,
    /// SYNCED records.
    pub syncs: Vec<SyncInfo>,
    /// Object records that could not be placed (no metadata, bad JSON).
    pub skipped_objects: u64,
    /// Object records by kind.
    pub records_by_kind: BTreeMap<String, u64>,
    /// Records by type.
    pub records_by_type: BTreeMap<String, u64>,
}

/// The replayed trace: all objects and their versions.
#[derive(Debug, Default)]
pub struct History {
    objects: Vec<ObjectHistory>,
    by_uid: HashMap<String, ObjectId>,
    by_name: HashMap<(String, String, String), Vec<ObjectId>>,
    /// Every stored body, back to back: a `String` so that [`History::body`] slices it without
    /// checking UTF-8 again on each call (issue 15: that check was half a repeat answer's time).
    arena: String,
    /// Trace-wide facts.
    pub facts: TraceFacts,
    listing: HashMap<String, HashSet<ObjectId>>,
    first_sync_line: HashMap<String, u64>,
    kind_resources: HashMap<(String, String), String>,
    skip_bodies: bool,
}

impl History {
    /// An empty history; `header` (if any) maps kinds to resource names for re-list handling.
    pub fn new(header: Option<&Header>) -> History {
        let mut history = History::default();
        if let Some(header) = header {
            for resource in &header.resources {
                let group = resource.group.clone();
                history
                    .kind_resources
                    .insert((group, resource.kind.clone()), resource.path());
            }
            history.facts.header = Some(header.clone());
        }
        history
    }

    /// An empty history that keeps versions and facts but no bodies (for `check --strict`,
    /// which validates every record but answers no question about one).
    pub fn without_bodies() -> History {
        History {
            skip_bodies: true,
            ..History::default()
        }
    }

    /// Applies one record.
    pub fn apply(&mut self, line: u64, record: &Record<'_>) {
        self.apply_with_head(line, record, None)
    }

    /// Like [`History::apply`], with the head of an object record already parsed (by
    /// [`ObjectHead::parse`] of its object's text, e.g. on another thread: issue 15).
    pub fn apply_with_head(
        &mut self,
        line: u64,
        record: &Record<'_>,
        head: Option<Result<ObjectHead<'_>, serde_json::Error>>,
    ) {
        if let Some(ts) = record.ts() {
            self.facts.start = Some(self.facts.start.map_or(ts, |s| s.min(ts)));
            self.facts.end = Some(self.facts.end.map_or(ts, |e| e.max(ts)));
        }
        match record {
            Record::Header(header) => {
                let skip_bodies = self.skip_bodies;
                *self = History::new(Some(header));
                self.skip_bodies = skip_bodies;
            }
            Record::Object {
                ts,
                event,
                object,
                request,
            } => {
                self.count_type(event.as_str());
                let head = head.unwrap_or_else(|| ObjectHead::parse(object.get()));
                let id = self.apply_object(line, *ts, *event, object.get(), head);
                if let (Some(id), Some(request)) = (id, request) {
                    // A request that does not read is left out, like an unknown field.
                    if let Ok(info) = serde_json::from_str::<RequestInfo>(request.get()) {
                        self.attach_request(id, usize::MAX, info);
                    }
                }
            }
            Record::Synced { ts, resource, .. } => {
                self.count_type("SYNCED");
                self.apply_synced(line, *ts, resource);
            }
            Record::Gap {
                ts,
                resource,
                reason,
            } => {
                self.count_type("GAP");
                self.facts.gaps.push(GapInfo {
                    ts: *ts,
                    resource: resource.clone(),
                    reason: reason.clone(),
                    closed: None,
                });
            }
            Record::End { .. } => {
                self.count_type("END");
                self.facts.ended = true;
            }
            Record::Unknown { record_type } => self.count_type(record_type),
        }
    }

    fn count_type(&mut self, record_type: &str) {
        *self
            .facts
            .records_by_type
            .entry(record_type.to_string())
            .or_insert(0) += 1;
    }

    fn apply_object(
        &mut self,
        line: u64,
        ts: Timestamp,
        event: EventType,
        json: &str,
        head: Result<ObjectHead<'_>, serde_json::Error>,
    ) -> Option<ObjectId> {
        let Ok(head) = head else {
            self.facts.skipped_objects += 1;
            return None;
        };
        let kind = head.kind.as_deref().unwrap_or("").to_string();
        *self.facts.records_by_kind.entry(kind.clone()).or_insert(0) += 1;
        let key = object_key(&head, &kind);
        let Some(key) = key else {
            self.facts.skipped_objects += 1;
            return None;
        };
        let body = self.store_body(json);
        let version = Version {
            ts,
            line,
            event,
            resource_version: head.metadata.resource_version.as_deref().map(Box::from),
            generation: head.metadata.generation,
            deletion_timestamp: head
                .metadata
                .deletion_timestamp
                .as_deref()
                .and_then(parse_ts),
            controller_uid: head
                .controller()
                .and_then(|owner| owner.uid.as_deref())
                .map(Box::from),
            request: None,
            body,
        };
        let id = self.object_for(&key, &head, kind);
        let object = &mut self.objects[id];
        object.versions.push(version);
        if event == EventType::Deleted {
            object.gone = Some(Gone::Deleted(ts));
        } else if object.gone.is_some() {
            // Seen again (e.g. a re-list after a wrong guess): it exists after all.
            object.gone = None;
        }
        if event == EventType::Listed {
            if let Some(resource) = self.resource_of(id) {
                self.listing.entry(resource).or_default().insert(id);
            }
        }
        Some(id)
    }

    /// Attaches the request that made a version: `index` into the object's versions, the
    /// last one for `usize::MAX`.
    pub fn attach_request(&mut self, id: ObjectId, index: usize, request: RequestInfo) {
        let Some(object) = self.objects.get_mut(id) else {
            return;
        };
        let index = index.min(object.versions.len().saturating_sub(1));
        if let Some(version) = object.versions.get_mut(index) {
            version.request = Some(Box::new(request));
        }
    }

    /// Keeps the request that created an object whose creation the trace did not record.
    pub fn attach_create_request(&mut self, id: ObjectId, request: RequestInfo) {
        if let Some(object) = self.objects.get_mut(id) {
            object.create_request = Some(Box::new(request));
        }
    }

    fn object_for(&mut self, key: &str, head: &ObjectHead<'_>, kind: String) -> ObjectId {
        if let Some(&id) = self.by_uid.get(key) {
            return id;
        }
        let meta = &head.metadata;
        let object = ObjectHistory {
            api_version: head.api_version.as_deref().unwrap_or("").to_string(),
            kind,
            namespace: meta.namespace.as_deref().unwrap_or("").to_string(),
            name: meta.name.as_deref().unwrap_or("").to_string(),
            uid: key.to_string(),
            created: meta.creation_timestamp.as_deref().and_then(parse_ts),
            subject_uid: head
                .event_subject()
                .and_then(|subject| subject.uid.as_deref())
                .map(str::to_string),
            versions: Vec::new(),
            gone: None,
            create_request: None,
        };
        let id = self.objects.len();
        let name_key = (
            object.kind.to_lowercase(),
            object.namespace.clone(),
            object.name.clone(),
        );
        self.by_name.entry(name_key).or_default().push(id);
        self.by_uid.insert(key.to_string(), id);
        self.objects.push(object);
        id
    }

    fn apply_synced(&mut self, line: u64, ts: Timestamp, resource: &str) {
        for gap in self.facts.gaps.iter_mut().rev() {
            if gap.resource == resource && gap.closed.is_none() {
                gap.closed = Some(ts);
            }
        }
        let relist = self.first_sync_line.contains_key(resource);
        self.first_sync_line
            .entry(resource.to_string())
            .or_insert(line);
        self.facts.syncs.push(SyncInfo {
            ts,
            resource: resource.to_string(),
            relist,
        });
        let listed = self.listing.remove(resource).unwrap_or_default();
        if !relist {
            return;
        }
        for id in 0..self.objects.len() {
            let missing = self.objects[id].gone.is_none()
                && !listed.contains(&id)
                && self.resource_of(id).as_deref() == Some(resource);
            if missing {
                self.objects[id].gone = Some(Gone::MissingAtRelist(ts));
            }
        }
    }

    /// The resource path (`apps/v1/deployments`) of an object, from the header or guessed from its kind.
    fn resource_of(&self, id: ObjectId) -> Option<String> {
        let object = &self.objects[id];
        let (group, version) = match object.api_version.split_once('/') {
            Some((group, version)) => (group.to_string(), version),
            None => (String::new(), object.api_version.as_str()),
        };
        if let Some(path) = self
            .kind_resources
            .get(&(group.clone(), object.kind.clone()))
        {
            return Some(path.clone());
        }
        if object.kind.is_empty() {
            return None;
        }
        let plural = format!("{}s", object.kind.to_lowercase());
        Some(if group.is_empty() {
            format!("{version}/{plural}")
        } else {
            format!("{group}/{version}/{plural}")
        })
    }

    fn store_body(&mut self, json: &str) -> BodyRef {
        if self.skip_bodies {
            return BodyRef { offset: 0, len: 0 };
        }
        let offset = self.arena.len();
        self.arena.push_str(json);
        BodyRef {
            offset,
            len: json.len(),
        }
    }

    /// Whether the object existed when recording of its resource began: it was in the first list,
    /// or (in a trace without lists, such as converted `kubectl get -w` output) its first record
    /// is a change or deletion of an object created earlier.
    pub fn existed_at_start(&self, id: ObjectId) -> bool {
        let first = self.objects[id].first();
        match first.event {
            EventType::Listed => !self.first_seen_in_relist(id),
            EventType::Modified | EventType::Deleted => !self.listed_before(id, first.line),
            EventType::Added => false,
        }
    }

    /// The object's version in force at `at`: the last recorded at or before it, else — for an
    /// object that existed when recording began and was created by then — its first.
    pub fn state_at(&self, id: ObjectId, at: Timestamp) -> Option<&Version> {
        let object = &self.objects[id];
        object.version_at(at).or_else(|| {
            let listed = self.existed_at_start(id) && object.created.is_some_and(|c| c <= at);
            listed.then(|| object.first())
        })
    }

    /// Whether a list of the object's resource completed before `line`.
    fn listed_before(&self, id: ObjectId, line: u64) -> bool {
        self.resource_of(id)
            .and_then(|resource| self.first_sync_line.get(&resource))
            .is_some_and(|&sync_line| sync_line < line)
    }

    /// Whether the object was first seen in a re-list: it appeared while its watch was down.
    pub fn first_seen_in_relist(&self, id: ObjectId) -> bool {
        let first = self.objects[id].first();
        first.event == EventType::Listed && self.listed_before(id, first.line)
    }

    /// The distinct kinds of the objects.
    pub fn kinds(&self) -> Vec<&str> {
        let mut kinds: Vec<&str> = self.objects.iter().map(|o| o.kind.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        kinds
    }

    /// All objects, indexed by [`ObjectId`].
    pub fn objects(&self) -> &[ObjectHistory] {
        &self.objects
    }

    /// One object.
    pub fn object(&self, id: ObjectId) -> &ObjectHistory {
        &self.objects[id]
    }

    /// The object with this UID.
    pub fn by_uid(&self, uid: &str) -> Option<ObjectId> {
        self.by_uid.get(uid).copied()
    }

    /// Objects of `kind` (case-insensitive) named `name`, in `namespace` or any namespace, oldest first.
    pub fn by_name(&self, kind: &str, namespace: Option<&str>, name: &str) -> Vec<ObjectId> {
        let kind = kind.to_lowercase();
        let mut found: Vec<ObjectId> = match namespace {
            Some(ns) => self
                .by_name
                .get(&(kind, ns.to_string(), name.to_string()))
                .cloned()
                .unwrap_or_default(),
            None => self
                .by_name
                .iter()
                .filter(|((k, _, n), _)| *k == kind && n == name)
                .flat_map(|(_, ids)| ids.iter().copied())
                .collect(),
        };
        found.sort_by_key(|&id| (self.objects[id].first().ts, id));
        found
    }

    /// All objects of `kind` (case-insensitive), in first-seen order.
    pub fn of_kind<'s>(&'s self, kind: &'s str) -> impl Iterator<Item = ObjectId> + 's {
        self.objects
            .iter()
            .enumerate()
            .filter(move |(_, o)| o.kind.eq_ignore_ascii_case(kind))
            .map(|(id, _)| id)
    }

    /// The raw JSON text of a version's body.
    pub fn body(&self, version: &Version) -> &str {
        // The arena only ever receives whole `&str`s, so their bounds are char boundaries.
        self.arena
            .get(version.body.offset..version.body.offset + version.body.len)
            .unwrap_or_default()
    }

    /// Whether a version's body may hold one of `words` in a string: false only when none is in
    /// its text and no `\u` escape could spell one. Lets a question skip parsing the bodies of
    /// a long crash loop that cannot hold what it looks for (issue 15: repeat questions).
    pub fn body_may_mention(&self, version: &Version, words: &[&str]) -> bool {
        let body = self.body(version).as_bytes();
        let has = |word: &[u8]| memchr::memmem::find(body, word).is_some();
        has(b"\\u") || words.iter().any(|word| has(word.as_bytes()))
    }

    /// Parses a version's body into `T` (a typed view or a `serde_json::Value`).
    pub fn parse<T: DeserializeOwned>(&self, version: &Version) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.body(version))
    }

    /// Bytes of bodies held in memory.
    pub fn body_bytes(&self) -> usize {
        self.arena.len()
    }
}

/// The key an object is tracked by: its UID, or (when it has none) kind/namespace/name.
fn object_key(head: &ObjectHead<'_>, kind: &str) -> Option<String> {
    let meta = &head.metadata;
    if let Some(uid) = meta.uid.as_deref().filter(|uid| !uid.is_empty()) {
        return Some(uid.to_string());
    }
    let name = meta.name.as_deref()?;
    Some(format!(
        "no-uid:{kind}/{}/{name}",
        meta.namespace.as_deref().unwrap_or("")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{ResourceInfo, SourceInfo};
    use serde_json::{json, value::RawValue};

    fn at(secs: i64) -> Timestamp {
        "2026-11-26T16:00:00Z".parse::<Timestamp>().unwrap() + jiff::SignedDuration::from_secs(secs)
    }

    fn pod(name: &str) -> String {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "ns", "uid": format!("uid-{name}")}})
            .to_string()
    }

    fn object(history: &mut History, line: u64, secs: i64, event: EventType, text: &str) {
        let raw: &RawValue = serde_json::from_str(text).unwrap();
        history.apply(
            line,
            &Record::Object {
                ts: at(secs),
                event,
                object: raw,
                request: None,
            },
        );
    }

    fn synced(history: &mut History, line: u64, secs: i64) {
        let record = Record::Synced {
            ts: at(secs),
            resource: "v1/pods".into(),
            resource_version: None,
        };
        history.apply(line, &record);
    }

    fn header() -> Header {
        let mut header = Header::new(at(0), SourceInfo::default());
        header.resources.push(ResourceInfo {
            group: String::new(),
            version: "v1".into(),
            resource: "pods".into(),
            kind: "Pod".into(),
            namespaced: true,
        });
        header
    }

    #[test]
    fn an_object_missing_from_a_relist_is_gone_at_an_unknown_time() {
        let mut history = History::new(Some(&header()));
        object(&mut history, 2, 0, EventType::Listed, &pod("a"));
        object(&mut history, 3, 0, EventType::Listed, &pod("b"));
        synced(&mut history, 4, 0);
        history.apply(
            5,
            &Record::Gap {
                ts: at(50),
                resource: "v1/pods".into(),
                reason: "410 Gone".into(),
            },
        );
        object(&mut history, 6, 60, EventType::Listed, &pod("a"));
        synced(&mut history, 7, 60);
        let b = history.by_uid("uid-b").unwrap();
        assert_eq!(history.object(b).gone, Some(Gone::MissingAtRelist(at(60))));
        assert_eq!(history.object(history.by_uid("uid-a").unwrap()).gone, None);
        assert_eq!(history.facts.syncs.iter().filter(|s| s.relist).count(), 1);
    }

    #[test]
    fn names_reused_after_deletion_are_separate_objects() {
        let mut history = History::new(None);
        let first = pod("a");
        let second = first.replace("uid-a", "uid-a2");
        object(&mut history, 1, 0, EventType::Added, &first);
        object(&mut history, 2, 5, EventType::Deleted, &first);
        object(&mut history, 3, 9, EventType::Added, &second);
        let found = history.by_name("pod", Some("ns"), "a");
        assert_eq!(found.len(), 2);
        assert_eq!(history.object(found[0]).gone, Some(Gone::Deleted(at(5))));
        assert_eq!(history.object(found[1]).uid, "uid-a2");
        assert_eq!(history.body(history.object(found[1]).first()), second);
    }
}
