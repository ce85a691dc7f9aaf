//! The index of a trace file: where every object's records are, and how objects are related,
//! so a query reads and replays only the records it needs.
//!
//! Building an index reads the whole trace once, decompressing frames in parallel and reading
//! only each record's type, time and object identity ([`scan`]). A query then picks the
//! objects it needs ([`TraceIndex::closure`]) and reads just their records back from the file
//! ([`read`]). The index is saved beside the trace ([`store`]) so the next query skips the scan.

pub mod build;
pub mod cache;
pub mod embedded;
pub mod packed;
pub mod read;
pub mod scan;
pub mod store;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::trace::frames::FrameLoc;
use crate::trace::ReadSummary;

/// Index of a string in one of the index's string tables.
pub type StrId = u32;

/// Where one record is: its line, and its bytes inside a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordLoc {
    /// The line number (1-based; an index covers at most `u32::MAX` lines).
    pub line: u32,
    /// The frame, an index into [`TraceIndex::frames`].
    pub frame: u32,
    /// Offset of the line in the decompressed frame.
    pub offset: u32,
    /// Length of the line, without its newline.
    pub len: u32,
}

impl packed::Words for RecordLoc {
    const WORDS: usize = 4;
    fn put(&self, out: &mut Vec<u32>) {
        out.extend([self.line, self.frame, self.offset, self.len]);
    }
    fn take(w: &[u32]) -> Self {
        RecordLoc {
            line: w[0],
            frame: w[1],
            offset: w[2],
            len: w[3],
        }
    }
}

impl packed::Words for FrameLoc {
    const WORDS: usize = 4;
    fn put(&self, out: &mut Vec<u32>) {
        out.extend([
            self.offset as u32,
            (self.offset >> 32) as u32,
            self.len,
            self.raw_len,
        ]);
    }
    fn take(w: &[u32]) -> Self {
        FrameLoc {
            offset: u64::from(w[0]) | u64::from(w[1]) << 32,
            len: w[2],
            raw_len: w[3],
        }
    }
}

impl packed::Words for IndexedObject {
    const WORDS: usize = 6;
    fn put(&self, out: &mut Vec<u32>) {
        out.extend([
            self.key,
            self.kind,
            self.namespace,
            self.name,
            self.records.0,
            self.records.1,
        ]);
    }
    fn take(w: &[u32]) -> Self {
        IndexedObject {
            key: w[0],
            kind: w[1],
            namespace: w[2],
            name: w[3],
            records: (w[4], w[5]),
        }
    }
}

/// Strings stored end to end, numbered in order (one allocation however many there are).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StringTable {
    text: String,
    #[serde(with = "packed")]
    ends: Vec<u32>,
}

impl StringTable {
    /// Appends a string and returns its number.
    pub fn push(&mut self, text: &str) -> StrId {
        self.text.push_str(text);
        self.ends.push(self.text.len() as u32);
        (self.ends.len() - 1) as StrId
    }

    /// The string numbered `id` (empty when there is none).
    pub fn get(&self, id: StrId) -> &str {
        let id = id as usize;
        let start = match id {
            0 => 0,
            _ => self.ends.get(id - 1).copied().unwrap_or(0) as usize,
        };
        let end = self.ends.get(id).copied().unwrap_or(0) as usize;
        self.text.get(start..end).unwrap_or("")
    }

    /// How many strings there are.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// What the index knows of one object (one UID), and where its records are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexedObject {
    /// The key replay groups its records by: the UID (or `no-uid:KIND/NS/NAME`), in [`TraceIndex::uids`].
    pub key: StrId,
    /// The kind, in [`TraceIndex::words`].
    pub kind: StrId,
    /// The namespace (empty when cluster-scoped), in [`TraceIndex::words`].
    pub namespace: StrId,
    /// The name in its first record, in [`TraceIndex::names`].
    pub name: StrId,
    /// Its records: a range of [`TraceIndex::records`].
    pub records: (u32, u32),
}

/// Whole-trace counts that a replay of a few objects cannot know.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TraceTotals {
    /// First record time.
    pub start: Option<Timestamp>,
    /// Last record time.
    pub end: Option<Timestamp>,
    /// Object records by kind.
    pub records_by_kind: BTreeMap<String, u64>,
    /// Records by type.
    pub records_by_type: BTreeMap<String, u64>,
    /// Object records without usable metadata.
    pub skipped_objects: u64,
}

/// The index of one trace file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TraceIndex {
    /// Whether the trace is zstd-compressed.
    pub compressed: bool,
    /// The file's pieces, in order.
    #[serde(with = "packed")]
    pub frames: Vec<FrameLoc>,
    /// What reading the whole trace noticed (stored as JSON: the header's optional fields
    /// need a self-describing format).
    #[serde(with = "summary_as_json")]
    pub summary: ReadSummary,
    /// Whole-trace counts.
    pub totals: TraceTotals,
    /// UIDs and object keys (empty in an index loaded from disk until [`TraceIndex::by_uid`]
    /// needs them: see [`TraceIndex::on_disk`]).
    #[serde(skip)]
    pub uids: StringTable,
    /// Kinds and namespaces.
    pub words: StringTable,
    /// Object names.
    pub names: StringTable,
    /// Every object, in order of first record.
    #[serde(with = "packed")]
    pub objects: Vec<IndexedObject>,
    /// The object whose key each UID is ([`NO_OBJECT`] for UIDs only referred to).
    #[serde(with = "packed")]
    pub object_of_uid: Vec<IndexedId>,
    /// (object, UID of a controlling owner it had), every pair once, sorted.
    #[serde(with = "packed")]
    pub controllers: Vec<(IndexedId, StrId)>,
    /// (owner UID, object it controlled), every pair once, sorted.
    #[serde(with = "packed")]
    pub children: Vec<(StrId, IndexedId)>,
    /// (UID of the object an Event was about, Event), every pair once, sorted.
    #[serde(with = "packed")]
    pub subjects: Vec<(StrId, IndexedId)>,
    /// Every object record, grouped by object, in line order within each (empty in an index
    /// loaded from disk: see [`TraceIndex::on_disk`]).
    #[serde(skip)]
    pub records: Vec<RecordLoc>,
    /// The header and control records (SYNCED, GAP, END, unknown types), in line order.
    #[serde(with = "packed")]
    pub meta: Vec<RecordLoc>,
    /// For an index loaded from disk: where its record and UID tables are, read on demand.
    #[serde(skip)]
    pub on_disk: Option<OnDisk>,
}

/// The tables of a saved index that stay in its file until a question needs them: each
/// object's records (checked against a CRC-32 per object) and the UIDs (one CRC-32).
#[derive(Debug, Clone, Default)]
pub struct OnDisk {
    /// The index file.
    pub path: PathBuf,
    /// Where the record table starts (16 bytes a record).
    pub records_at: u64,
    /// CRC-32 of each object's records as stored.
    pub object_crcs: Vec<u32>,
    /// Where the UID table starts.
    pub uids_at: u64,
    /// Its length.
    pub uids_len: u64,
    /// Its CRC-32.
    pub uids_crc: u32,
}

impl OnDisk {
    fn read_at(&self, at: u64, len: usize) -> io::Result<Vec<u8>> {
        let mut file = File::open(&self.path)?;
        file.seek(SeekFrom::Start(at))?;
        let mut bytes = vec![0u8; len];
        file.read_exact(&mut bytes)?;
        Ok(bytes)
    }
}

/// The error for index tables whose checksum does not hold.
fn damaged(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("the index's {what} are damaged"),
    )
}

/// Index of an object in [`TraceIndex::objects`].
pub type IndexedId = u32;

/// In [`TraceIndex::object_of_uid`]: no object has this UID as its key.
pub const NO_OBJECT: IndexedId = u32::MAX;

/// The entries of a sorted pair list whose first element is `key`.
fn equal_range<A: Ord + Copy, B>(pairs: &[(A, B)], key: A) -> &[(A, B)] {
    let start = pairs.partition_point(|(a, _)| *a < key);
    let end = start + pairs[start..].partition_point(|(a, _)| *a == key);
    &pairs[start..end]
}

impl TraceIndex {
    /// A word (kind or namespace).
    pub fn word(&self, id: StrId) -> &str {
        self.words.get(id)
    }

    /// The distinct kinds of the trace's objects.
    pub fn kinds(&self) -> Vec<&str> {
        let mut kinds: Vec<&str> = self.objects.iter().map(|o| self.word(o.kind)).collect();
        kinds.sort_unstable();
        kinds.dedup();
        kinds
    }

    /// The records of one object, read from the index file when it was loaded from disk.
    pub fn records_of(&self, id: IndexedId) -> io::Result<Cow<'_, [RecordLoc]>> {
        let object = &self.objects[id as usize];
        let (start, end) = (object.records.0 as usize, object.records.1 as usize);
        let Some(disk) = &self.on_disk else {
            return self
                .records
                .get(start..end)
                .map(Cow::Borrowed)
                .ok_or_else(|| damaged("record ranges"));
        };
        let width = 4 * <RecordLoc as packed::Words>::WORDS;
        let len = end
            .checked_sub(start)
            .ok_or_else(|| damaged("record ranges"))?;
        let bytes = disk.read_at(disk.records_at + (start * width) as u64, len * width)?;
        if disk.object_crcs.get(id as usize) != Some(&crc32fast::hash(&bytes)) {
            return Err(damaged("records"));
        }
        let records: Vec<RecordLoc> = packed::decode_words(&bytes);
        if !records.iter().all(|at| self.locates(at)) {
            return Err(damaged("records"));
        }
        Ok(Cow::Owned(records))
    }

    /// Checks that every table of an index read from a file points where it may: objects and
    /// frames that exist, record ranges inside the `records` stored, frames inside a trace of
    /// `trace_size` bytes. A checksum only says the file is as written; a hostile file can be
    /// written with a good checksum, and a bad pointer must not panic or allocate.
    pub fn validate(&self, records: u64, trace_size: u64) -> Result<(), String> {
        let objects = self.objects.len() as u64;
        let object = |id: IndexedId| id == NO_OBJECT || u64::from(id) < objects;
        let ids_ok = self.object_of_uid.iter().all(|&id| object(id))
            && self
                .controllers
                .iter()
                .all(|&(id, _)| u64::from(id) < objects)
            && self.children.iter().all(|&(_, id)| u64::from(id) < objects)
            && self.subjects.iter().all(|&(_, id)| u64::from(id) < objects);
        if !ids_ok {
            return Err("a table names an object the index does not have".into());
        }
        let ranges_ok = self
            .objects
            .iter()
            .all(|o| o.records.0 <= o.records.1 && u64::from(o.records.1) <= records);
        if !ranges_ok {
            return Err("an object's records lie outside the record table".into());
        }
        let frames_ok = self.frames.iter().all(|f| {
            f.offset.saturating_add(u64::from(f.len)) <= trace_size
                && u64::from(f.raw_len) <= crate::trace::MAX_FRAME_RAW_BYTES
        });
        if !frames_ok || !self.meta.iter().all(|at| self.locates(at)) {
            return Err("a frame or record lies outside the trace".into());
        }
        Ok(())
    }

    /// Whether a record lies inside a frame of the index.
    fn locates(&self, at: &RecordLoc) -> bool {
        self.frames.get(at.frame as usize).is_some_and(|frame| {
            let end = u64::from(at.offset) + u64::from(at.len);
            end <= u64::from(frame.raw_len) || (!self.compressed && end <= u64::from(frame.len))
        })
    }

    /// The checksum of one object's records as [`store`] writes them.
    pub fn records_crc(&self, id: IndexedId) -> u32 {
        let object = &self.objects[id as usize];
        let records = &self.records[object.records.0 as usize..object.records.1 as usize];
        crc32fast::hash(&packed::encode_words(records))
    }

    /// Objects for which `keep(kind, namespace, name)` holds.
    pub fn find(&self, mut keep: impl FnMut(&str, &str, &str) -> bool) -> Vec<IndexedId> {
        (0..self.objects.len() as IndexedId)
            .filter(|&id| {
                let o = &self.objects[id as usize];
                keep(
                    self.word(o.kind),
                    self.word(o.namespace),
                    self.names.get(o.name),
                )
            })
            .collect()
    }

    /// The object with this UID (or key); reads the UID table from the index file when it was
    /// loaded from disk.
    pub fn by_uid(&self, uid: &str) -> io::Result<Option<IndexedId>> {
        self.with_uids(|uids| {
            self.objects
                .iter()
                .position(|o| uids.get(o.key) == uid)
                .map(|id| id as IndexedId)
        })
    }

    /// The object with this UID, or else every object whose UID starts with it (a short UID,
    /// like git's short hashes); reads the UID table as [`TraceIndex::by_uid`] does.
    pub fn by_uid_prefix(&self, prefix: &str) -> io::Result<Vec<IndexedId>> {
        self.with_uids(|uids| {
            let key = |id: usize| uids.get(self.objects[id].key);
            match (0..self.objects.len()).find(|&id| key(id) == prefix) {
                Some(id) => vec![id as IndexedId],
                None => (0..self.objects.len())
                    .filter(|&id| key(id).starts_with(prefix) && !key(id).starts_with("no-uid:"))
                    .map(|id| id as IndexedId)
                    .collect(),
            }
        })
    }

    /// Runs `read` on the UID table, read from the index file when it was loaded from disk.
    fn with_uids<T>(&self, read: impl FnOnce(&StringTable) -> T) -> io::Result<T> {
        match &self.on_disk {
            Some(disk) => {
                let bytes = disk.read_at(disk.uids_at, disk.uids_len as usize)?;
                if crc32fast::hash(&bytes) != disk.uids_crc {
                    return Err(damaged("UIDs"));
                }
                let loaded =
                    postcard::from_bytes::<StringTable>(&bytes).map_err(|_| damaged("UIDs"))?;
                Ok(read(&loaded))
            }
            None => Ok(read(&self.uids)),
        }
    }

    /// Everything a question about `roots` may read: each root's controllers up to the top (or
    /// round a cycle, in a damaged trace), everything those control (transitively, at any time),
    /// and the Events about any of them. Sorted by id.
    pub fn closure(&self, roots: &[IndexedId]) -> Vec<IndexedId> {
        let recorded = |uid: StrId| {
            self.object_of_uid
                .get(uid as usize)
                .copied()
                .filter(|&id| id != NO_OBJECT)
        };
        let mut chosen = vec![false; self.objects.len()];
        let mut climbed = vec![false; self.objects.len()];
        let mut ancestors = Vec::new();
        let mut upward: Vec<IndexedId> = roots.to_vec();
        while let Some(id) = upward.pop() {
            if std::mem::replace(&mut climbed[id as usize], true) {
                continue;
            }
            ancestors.push(id);
            upward.extend(
                equal_range(&self.controllers, id)
                    .iter()
                    .filter_map(|&(_, uid)| recorded(uid)),
            );
        }
        // Down from every object climbed, not only from the tops: the same objects when
        // ownership is a tree (everything climbed lies under a top), and still the roots and
        // their owners when a damaged trace makes it a cycle, which has no top.
        let mut downward = ancestors;
        while let Some(id) = downward.pop() {
            if std::mem::replace(&mut chosen[id as usize], true) {
                continue;
            }
            let key = self.objects[id as usize].key;
            downward.extend(
                equal_range(&self.children, key)
                    .iter()
                    .map(|&(_, child)| child),
            );
        }
        for id in 0..self.objects.len() {
            if chosen[id] {
                let key = self.objects[id].key;
                for &(_, event) in equal_range(&self.subjects, key) {
                    chosen[event as usize] = true;
                }
            }
        }
        (0..self.objects.len() as IndexedId)
            .filter(|&id| chosen[id as usize])
            .collect()
    }

    /// The records to replay for these objects, with the header and control records, in line order.
    pub fn records_for(&self, objects: &[IndexedId]) -> io::Result<Vec<RecordLoc>> {
        let mut records = self.meta.clone();
        for &id in objects {
            records.extend_from_slice(&self.records_of(id)?);
        }
        records.sort_unstable_by_key(|r| r.line);
        Ok(records)
    }
}

/// Stores a [`ReadSummary`] as a JSON string.
mod summary_as_json {
    use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

    use crate::trace::ReadSummary;

    pub fn serialize<S: Serializer>(summary: &ReadSummary, out: S) -> Result<S::Ok, S::Error> {
        let json = serde_json::to_string(summary).map_err(serde::ser::Error::custom)?;
        out.serialize_str(&json)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(input: D) -> Result<ReadSummary, D::Error> {
        let json = String::deserialize(input)?;
        serde_json::from_str(&json).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(
        index: &mut TraceIndex,
        uid: &str,
        kind: &str,
        controller: Option<&str>,
        subject: Option<&str>,
    ) {
        let mut intern = |s: &str| -> StrId {
            match (0..index.uids.len() as StrId).find(|&id| index.uids.get(id) == s) {
                Some(id) => id,
                None => index.uids.push(s),
            }
        };
        let key = intern(uid);
        let controller = controller.map(&mut intern);
        let subject = subject.map(&mut intern);
        let id = index.objects.len() as IndexedId;
        index.controllers.extend(controller.map(|c| (id, c)));
        index.children.extend(controller.map(|c| (c, id)));
        index.subjects.extend(subject.map(|s| (s, id)));
        if index.object_of_uid.len() <= key as usize {
            index.object_of_uid.resize(key as usize + 1, NO_OBJECT);
        }
        index.object_of_uid[key as usize] = id;
        index.controllers.sort_unstable();
        index.children.sort_unstable();
        index.subjects.sort_unstable();
        let kind = index.words.push(kind);
        let name = index.names.push(uid);
        index.objects.push(IndexedObject {
            key,
            kind,
            namespace: kind,
            name,
            records: (0, 0),
        });
    }

    #[test]
    fn closure_climbs_to_the_top_owner_and_takes_everything_below_with_its_events() {
        let mut index = TraceIndex {
            compressed: true,
            frames: Vec::new(),
            summary: ReadSummary::default(),
            totals: TraceTotals::default(),
            uids: StringTable::default(),
            words: StringTable::default(),
            names: StringTable::default(),
            objects: Vec::new(),
            object_of_uid: Vec::new(),
            controllers: Vec::new(),
            children: Vec::new(),
            subjects: Vec::new(),
            records: Vec::new(),
            meta: Vec::new(),
            on_disk: None,
        };
        object(&mut index, "d", "Deployment", None, None); // 0
        object(&mut index, "rs1", "ReplicaSet", Some("d"), None); // 1
        object(&mut index, "rs2", "ReplicaSet", Some("d"), None); // 2
        object(&mut index, "p1", "Pod", Some("rs1"), None); // 3
        object(&mut index, "p2", "Pod", Some("rs2"), None); // 4
        object(&mut index, "e1", "Event", None, Some("p2")); // 5
        object(&mut index, "other", "Pod", Some("elsewhere"), None); // 6
        object(&mut index, "e2", "Event", None, Some("other")); // 7
        assert_eq!(index.closure(&[3]), vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(index.closure(&[6]), vec![6, 7]);
        assert_eq!(index.closure(&[]), Vec::<IndexedId>::new());
        // Found by the fuzzer's index-against-whole oracle: ownership cycles have no top, and
        // the closure of an object in one used to be empty.
        object(&mut index, "self", "Pod", Some("self"), None); // 8
        object(&mut index, "a", "ReplicaSet", Some("b"), None); // 9
        object(&mut index, "b", "ReplicaSet", Some("a"), None); // 10
        object(&mut index, "p3", "Pod", Some("a"), None); // 11
        assert_eq!(index.closure(&[8]), vec![8]);
        assert_eq!(index.closure(&[11]), vec![9, 10, 11]);
    }
}
