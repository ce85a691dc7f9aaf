//! The records of a trace: the header, object records and control records.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The `format` string of the header of a version 1 trace.
pub const FORMAT_V1: &str = "kblame-trace/v1";

/// How an object record came to be: the watch event type, or `LISTED` for a list item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum EventType {
    /// The watch reported the object as created (or first seen after a resumed watch).
    Added,
    /// The watch reported a change of the object.
    Modified,
    /// The watch reported the object as deleted; the body is its last state.
    Deleted,
    /// The object was an item of a list (initial list or re-list); it existed at `ts`.
    Listed,
}

impl EventType {
    /// Parses a record `type` that names an object event; `None` for control records.
    pub fn from_type(name: &str) -> Option<EventType> {
        match name {
            "ADDED" => Some(EventType::Added),
            "MODIFIED" => Some(EventType::Modified),
            "DELETED" => Some(EventType::Deleted),
            "LISTED" => Some(EventType::Listed),
            _ => None,
        }
    }

    /// The record `type` string, e.g. `MODIFIED`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
            EventType::Listed => "LISTED",
        }
    }
}

/// Where a trace came from (`header.source`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceInfo {
    /// `watch`, `audit`, `kubectl-watch` or `snapshot`.
    #[serde(default)]
    pub kind: String,
    /// The program that wrote the trace, e.g. `kblame 0.1.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// The API server URL, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// The API server's version, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
}

/// One recorded resource type (`header.resources[]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceInfo {
    /// API group; empty for the core group.
    #[serde(default)]
    pub group: String,
    /// API version, e.g. `v1`.
    #[serde(default)]
    pub version: String,
    /// Plural resource name, e.g. `deployments`.
    #[serde(default)]
    pub resource: String,
    /// Kind, e.g. `Deployment`.
    #[serde(default)]
    pub kind: String,
    /// Whether objects of this resource live in a namespace.
    #[serde(default)]
    pub namespaced: bool,
}

impl ResourceInfo {
    /// The resource as control records name it: `apps/v1/deployments`, or `v1/pods` for the core group.
    pub fn path(&self) -> String {
        if self.group.is_empty() {
            format!("{}/{}", self.version, self.resource)
        } else {
            format!("{}/{}/{}", self.group, self.version, self.resource)
        }
    }
}

/// The first line of a trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Always `HEADER`.
    #[serde(rename = "type")]
    pub record_type: String,
    /// The format version, `kblame-trace/v1`.
    pub format: String,
    /// When recording started.
    pub ts: String,
    /// Where the records came from.
    #[serde(default)]
    pub source: SourceInfo,
    /// The resources that were recorded.
    #[serde(default)]
    pub resources: Vec<ResourceInfo>,
    /// The namespaces recorded, or `null` for all.
    #[serde(default)]
    pub namespaces: Option<Vec<String>>,
    /// The fields whose values were redacted, as `KIND[.GROUP]:FIELD_PATH` (older traces:
    /// `Secret.data`).
    #[serde(default)]
    pub redacted: Vec<String>,
    /// How values were redacted; absent in traces written before kblame said so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redaction: Option<RedactionInfo>,
}

impl Header {
    /// A v1 header with the given start time and source; no resources yet.
    pub fn new(ts: Timestamp, source: SourceInfo) -> Header {
        Header {
            record_type: "HEADER".to_string(),
            format: FORMAT_V1.to_string(),
            ts: super::format_ts(ts),
            source,
            resources: Vec::new(),
            namespaces: None,
            redacted: Vec::new(),
            redaction: None,
        }
    }
}

/// What the header says about redaction (`header.redaction`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RedactionInfo {
    /// `hmac-sha256`, or `none` when nothing was redacted.
    pub method: String,
    /// `per-recording` (random, never written: hashes compare only within this trace) or
    /// `file` (hashes compare across traces recorded with the same key file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// With a key file: an identifier of the key (an HMAC of a fixed text, not the key), so
    /// two traces can be seen to share a key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The rules applied, as `KIND[.GROUP]:FIELD_PATH`.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Annotations redacted by the same rules inside (the applied-object copies).
    #[serde(default)]
    pub annotations: Vec<String>,
    /// `redacted`, or `recorded` when the recording was asked to keep Secret values.
    #[serde(default)]
    pub secret_values: String,
    /// What a redacted value looks like.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// A record read from a trace line; object bodies borrow from the line.
#[derive(Debug, Clone)]
pub enum Record<'a> {
    /// The header (normally line 1).
    Header(Box<Header>),
    /// An object as the watch or a list delivered it.
    Object {
        /// When the record was received.
        ts: Timestamp,
        /// How it was delivered.
        event: EventType,
        /// The whole object, as the server sent it.
        object: &'a RawValue,
    },
    /// A (re)list of `resource` has been fully written.
    Synced {
        /// When the list completed.
        ts: Timestamp,
        /// The resource, e.g. `apps/v1/deployments`.
        resource: String,
        /// The list's resourceVersion, when given.
        resource_version: Option<String>,
    },
    /// The watch of `resource` broke; events may be missing.
    Gap {
        /// When the break was noticed.
        ts: Timestamp,
        /// The resource, e.g. `v1/pods`.
        resource: String,
        /// Why, e.g. `410 Gone: too old resource version`.
        reason: String,
    },
    /// The recorder stopped cleanly after writing `records` records.
    End {
        /// When recording stopped.
        ts: Timestamp,
        /// How many records the writer wrote before END, when given.
        records: Option<u64>,
    },
    /// A record type this version does not know; ignored with a warning.
    Unknown {
        /// The record's `type`.
        record_type: String,
    },
}

impl Record<'_> {
    /// The record's time, when it has one.
    pub fn ts(&self) -> Option<Timestamp> {
        match self {
            Record::Object { ts, .. }
            | Record::Synced { ts, .. }
            | Record::Gap { ts, .. }
            | Record::End { ts, .. } => Some(*ts),
            Record::Header(_) | Record::Unknown { .. } => None,
        }
    }
}
