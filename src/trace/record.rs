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
    /// The cluster's name (`record --cluster`, else the kubeconfig context's cluster), when
    /// known: `export` files the trace under it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
}

/// What an import adds to `header.source` (serialized inside `source`, beside [`SourceInfo`]'s
/// fields); empty for recorded traces.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportSource {
    /// Imported audit logs: the audit levels the log held (`Metadata`, `Request`,
    /// `RequestResponse`), in that order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub levels: Option<Vec<String>>,
    /// The files read (`-` for standard input).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// How many input events were read, used and skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counts: Option<ImportCounts>,
    /// What this source cannot tell, in words (`kblame check` prints them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caveats: Vec<String>,
}

/// How many input events an import read, used and skipped (`header.source.counts`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportCounts {
    /// Events (audit events, watch events, objects or list items) found in the input.
    #[serde(default)]
    pub read: u64,
    /// Events that became a record.
    #[serde(default)]
    pub used: u64,
    /// Events not used, by reason (`read`, `failed`, `dry-run`, `stage`, `malformed`, …).
    #[serde(default)]
    pub skipped: std::collections::BTreeMap<String, u64>,
}

/// The request behind an imported record (`record.request`): who asked the API server for
/// what, from an audit event (field names as in `audit.k8s.io/v1` `Event`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestInfo {
    /// The event's `auditID`, shared by every stage of one request.
    #[serde(rename = "auditID", default, skip_serializing_if = "Option::is_none")]
    pub audit_id: Option<String>,
    /// Who the request acted as: `user.username`, or `impersonatedUser.username` when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// That user's groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// With impersonation: the authenticated user (`user.username`) who impersonated `user`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impersonated_by: Option<String>,
    /// The client's `userAgent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The API verb: `create`, `update`, `patch`, `delete`, `deletecollection`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verb: Option<String>,
    /// The `requestURI`, query included.
    #[serde(
        rename = "requestURI",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub request_uri: Option<String>,
    /// `objectRef.subresource`, e.g. `status` or `scale`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subresource: Option<String>,
    /// `requestReceivedTimestamp`: when the API server received the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<String>,
    /// The event's audit `level` (`Metadata`, `Request`, `RequestResponse`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// `responseStatus.code`, the HTTP status of the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    /// The event's `annotations`: authorization decision, admission webhooks
    /// (`mutation.webhook.admission.k8s.io/round_0_index_1`, `patch.webhook.admission.k8s.io/…`),
    /// pod security.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub annotations: std::collections::BTreeMap<String, String>,
}

/// The object a request was about (`objectRef` of a REQUEST record), as the audit event
/// names it (`audit.k8s.io/v1` `ObjectReference`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    /// Plural resource, e.g. `deployments`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Namespace, absent for cluster-scoped objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name; absent in a create by `generateName` unless the importer learned it by UID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// UID, when the event gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// API group; empty or absent for the core group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_group: Option<String>,
    /// API version, e.g. `v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// The resourceVersion the request named or produced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// The subresource, e.g. `status`, `scale`, `binding`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subresource: Option<String>,
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
#[serde(into = "HeaderWire", from = "HeaderWire")]
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
    /// What an import says about its source (written inside `source`); empty otherwise.
    #[serde(skip)]
    pub import: ImportSource,
}

/// The header as written: `source` holds both [`SourceInfo`] and [`ImportSource`] fields.
#[derive(Serialize, Deserialize)]
struct HeaderWire {
    #[serde(rename = "type")]
    record_type: String,
    format: String,
    ts: String,
    #[serde(default)]
    source: SourceWire,
    #[serde(default)]
    resources: Vec<ResourceInfo>,
    #[serde(default)]
    namespaces: Option<Vec<String>>,
    #[serde(default)]
    redacted: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    redaction: Option<RedactionInfo>,
}

#[derive(Default, Serialize, Deserialize)]
struct SourceWire {
    #[serde(flatten)]
    info: SourceInfo,
    #[serde(flatten)]
    import: ImportSource,
}

impl From<Header> for HeaderWire {
    fn from(h: Header) -> HeaderWire {
        HeaderWire {
            record_type: h.record_type,
            format: h.format,
            ts: h.ts,
            source: SourceWire {
                info: h.source,
                import: h.import,
            },
            resources: h.resources,
            namespaces: h.namespaces,
            redacted: h.redacted,
            redaction: h.redaction,
        }
    }
}

impl From<HeaderWire> for Header {
    fn from(w: HeaderWire) -> Header {
        Header {
            record_type: w.record_type,
            format: w.format,
            ts: w.ts,
            source: w.source.info,
            resources: w.resources,
            namespaces: w.namespaces,
            redacted: w.redacted,
            redaction: w.redaction,
            import: w.source.import,
        }
    }
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
            import: ImportSource::default(),
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
        /// The request that made this version, from an audit log (see [`RequestInfo`]).
        request: Option<&'a RawValue>,
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
