//! `kblame import audit`: API server audit events become object records, with the request
//! that made each change.
//!
//! Inputs, in any mix (each file plain, gzip or zstd; `-` for standard input):
//!
//! * `audit.k8s.io/v1` `Event` JSON lines, as the API server's log backend writes them, or a
//!   JSON `EventList` (JSON arrays of events too); also YAML documents of the same;
//! * GKE Cloud Logging entries (JSON or YAML), where the event is a `protoPayload` of
//!   `@type` `AuditLog`: `methodName` `io.k8s.apps.v1.deployments.patch`, `resourceName`
//!   `apps/v1/namespaces/NS/deployments/NAME[/SUBRESOURCE]`, `authenticationInfo.principalEmail`,
//!   `requestMetadata.callerSuppliedUserAgent`, `response`, `status.code` (gRPC, 0 is OK); the
//!   entry's `labels` hold the event's annotations and its `timestamp` the time;
//! * EKS CloudWatch Logs exports: lines `{"@timestamp":…,"@message":"<event JSON>"}` (Logs
//!   Insights), objects `{"events":[{"timestamp":…,"message":"<event JSON>"},…]}`
//!   (`aws logs filter-log-events` / `get-log-events`), or any object whose `message` is an
//!   event's JSON text.
//!
//! Field names are those of `audit.k8s.io/v1` `Event` (kubernetes
//! `staging/src/k8s.io/apiserver/pkg/apis/audit/v1/types.go`): `level`, `auditID`, `stage`,
//! `requestURI`, `verb`, `user`, `impersonatedUser`, `sourceIPs`, `userAgent`, `objectRef`
//! (`resource`, `namespace`, `name`, `uid`, `apiGroup`, `apiVersion`, `resourceVersion`,
//! `subresource`), `responseStatus`, `requestObject`, `responseObject`,
//! `requestReceivedTimestamp`, `stageTimestamp`, `annotations`.
//!
//! Rules (see [`classify`]): only `ResponseComplete` events of successful (`code` < 400),
//! non-dry-run writes (`create`, `update`, `patch`, `delete`, `deletecollection`) are changes.
//! A write whose `responseObject` is a whole object (a `kind` other than `Status`, and
//! `metadata`) on the object itself or its `status` becomes an object record at
//! `stageTimestamp`; any other write becomes a REQUEST record (who and when, no body). Request
//! bodies (`requestObject`) are never copied into the trace.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{
    documents, read_input, redacted, str_at, Described, ImportError, ImportOutcome, ImportSettings,
    Pending, PendingBody, Tally,
};
use crate::redact::Redactor;
use crate::trace::{parse_ts, EventType, ImportSource, ObjectRef, RequestInfo, ResourceInfo};

/// The audit levels, in the order the header lists them.
const LEVELS: [&str; 3] = ["Metadata", "Request", "RequestResponse"];

/// Verbs that change state. `deletecollection` deletes every object of a List answer.
const WRITE_VERBS: [&str; 5] = ["create", "update", "patch", "delete", "deletecollection"];

/// Verbs that only read.
const READ_VERBS: [&str; 3] = ["get", "list", "watch"];

/// Subresources whose answer is the object itself (so it can be recorded as a version of it).
/// Others (`scale`, `binding`, `eviction`, `exec`, `token`, …) answer with another kind.
const OBJECT_SUBRESOURCES: [&str; 3] = ["status", "ephemeralcontainers", "resize"];

/// How deep wrappers may nest (an EventList in a CloudWatch message in an export object).
const MAX_WRAPPING: usize = 4;

/// `user` and `impersonatedUser` (`authentication/v1` `UserInfo`).
#[derive(Debug, Default, Clone, Deserialize)]
struct UserInfo {
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
}

/// `responseStatus` (a `meta/v1` `Status`): only its code matters here.
#[derive(Debug, Default, Clone, Deserialize)]
struct ResponseStatus {
    #[serde(default)]
    code: Option<i64>,
}

/// One audit event (`audit.k8s.io/v1` `Event`), whichever wrapper it came in.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuditEvent {
    #[serde(default)]
    level: Option<String>,
    #[serde(rename = "auditID", default)]
    audit_id: Option<String>,
    #[serde(default)]
    stage: Option<String>,
    #[serde(rename = "requestURI", default)]
    request_uri: Option<String>,
    #[serde(default)]
    verb: Option<String>,
    #[serde(default)]
    user: Option<UserInfo>,
    #[serde(default)]
    impersonated_user: Option<UserInfo>,
    #[serde(default)]
    user_agent: Option<String>,
    #[serde(default)]
    object_ref: Option<ObjectRef>,
    #[serde(default)]
    response_status: Option<ResponseStatus>,
    #[serde(default)]
    response_object: Option<Value>,
    #[serde(default)]
    request_received_timestamp: Option<String>,
    #[serde(default)]
    stage_timestamp: Option<String>,
    /// `audit.k8s.io/v1beta1` events and some exporters carry only this time.
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    /// GKE: the entry's gRPC `status.code` (0 is OK); not a field of the audit Event.
    #[serde(skip)]
    grpc_code: Option<i64>,
}

impl AuditEvent {
    /// The time of the change: `stageTimestamp`, else `timestamp`, else when received.
    fn time(&self) -> Option<Timestamp> {
        [
            &self.stage_timestamp,
            &self.timestamp,
            &self.request_received_timestamp,
        ]
        .into_iter()
        .flatten()
        .find_map(|text| parse_ts(text))
    }

    fn verb(&self) -> &str {
        self.verb.as_deref().unwrap_or_default()
    }

    fn code(&self) -> Option<i64> {
        self.response_status.as_ref().and_then(|s| s.code)
    }

    fn failed(&self) -> bool {
        self.code().is_some_and(|code| code >= 400) || self.grpc_code.is_some_and(|c| c != 0)
    }

    /// `dryRun` in the query of `requestURI` (`?dryRun=All`, as `kubectl diff` and
    /// `--dry-run=server` send it).
    fn dry_run(&self) -> bool {
        let Some((_, query)) = self.request_uri.as_deref().and_then(|u| u.split_once('?')) else {
            return false;
        };
        query.split('&').any(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            key == "dryRun" && !value.is_empty()
        })
    }

    fn subresource(&self) -> Option<&str> {
        self.object_ref
            .as_ref()
            .and_then(|r| r.subresource.as_deref())
            .filter(|s| !s.is_empty())
    }

    /// The request as a record carries it.
    fn request(&self) -> RequestInfo {
        let user = self.user.clone().unwrap_or_default();
        let acting = self.impersonated_user.clone();
        let impersonated_by = acting.as_ref().and(user.username.clone());
        let acting = acting.unwrap_or(user);
        RequestInfo {
            audit_id: self.audit_id.clone(),
            user: acting.username,
            groups: acting.groups,
            impersonated_by,
            user_agent: self.user_agent.clone(),
            verb: self.verb.clone(),
            request_uri: self.request_uri.clone(),
            subresource: self.subresource().map(str::to_string),
            received: self.request_received_timestamp.clone(),
            level: self.level.clone(),
            code: self.code(),
            annotations: self.annotations.clone(),
        }
    }
}

/// What one event is.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    /// Object records (several for a `deletecollection`).
    Objects(Vec<(EventType, Value)>),
    /// A change whose body the event does not hold.
    Request,
    /// Not a change, for this reason.
    Skip(&'static str),
}

/// Imports audit logs into a trace.
///
/// # Errors
/// An input that cannot be read, no audit event in any input, a bad redaction setting, or a
/// trace that cannot be written.
pub fn import(settings: &ImportSettings) -> Result<ImportOutcome, ImportError> {
    let redactor = Redactor::new(&settings.redaction)?;
    let (events, mut tally) = read_events(&settings.inputs)?;
    let levels = levels(&events);
    let mut replay = Replay::new(&redactor);
    for (ts, event) in &events {
        replay.apply(*ts, event, &mut tally);
    }
    tally.counts.used = replay.used;
    let pending = replay.finish();
    let requests = pending
        .iter()
        .filter(|p| matches!(p.body, PendingBody::Request { .. }))
        .count();
    let caveats = caveats(requests, events.iter().any(|(_, e)| e.grpc_code.is_some()));
    let described = Described {
        kind: "audit",
        import: ImportSource {
            levels: Some(levels),
            files: settings.inputs.clone(),
            counts: Some(tally.counts.clone()),
            caveats: caveats.clone(),
        },
        resources: resources(&pending),
        start: events.first().map(|(ts, _)| *ts),
    };
    let records = super::write_trace(settings, &redactor, described, pending)?;
    Ok(ImportOutcome {
        records,
        counts: tally.counts,
        warnings: tally.warnings,
        caveats,
    })
}

/// Every audit event of the inputs, in time order (several API servers interleave their lines:
/// stable), with what reading them counted; an error when none was found.
fn read_events(inputs: &[String]) -> Result<(Vec<(Timestamp, AuditEvent)>, Tally), ImportError> {
    let mut tally = Tally::default();
    let mut events = Vec::new();
    for name in inputs {
        let Some(text) = read_input(name, &mut tally)? else {
            continue;
        };
        for (line, value) in documents(&text, name, &mut tally) {
            collect(value, name, line, 0, &mut events, &mut tally);
        }
    }
    if events.is_empty() {
        return Err(ImportError::Empty {
            what: "audit event",
            files: inputs.join(", "),
            seen: tally.seen(),
        });
    }
    events.sort_by_key(|(ts, _)| *ts);
    Ok((events, tally))
}

/// One write an audit log recorded, as `--audit` merges it into a watch trace: which object
/// version it made (by UID and resourceVersion when the log holds the response body), else what
/// the request named.
#[derive(Debug, Clone)]
pub struct AuditedWrite {
    /// `stageTimestamp`.
    pub ts: Timestamp,
    /// The object's UID: the response body's, else `objectRef.uid`.
    pub uid: Option<String>,
    /// The response body's resourceVersion: the version this write made.
    pub resource_version: Option<String>,
    /// The plural resource (`pods`).
    pub resource: String,
    /// The namespace.
    pub namespace: Option<String>,
    /// The name (none for a `generateName` create logged without its response).
    pub name: Option<String>,
    /// The request.
    pub request: RequestInfo,
}

/// Reads audit logs (the shapes `import audit` reads) into the writes they record, in time
/// order, with the warnings reading gave. Bodies are read for their identity only and dropped.
pub fn writes(inputs: &[String]) -> Result<(Vec<AuditedWrite>, Vec<String>), ImportError> {
    let redactor = Redactor::new(&crate::redact::RedactSettings::default())?;
    let (events, mut tally) = read_events(inputs)?;
    let mut replay = Replay::new(&redactor);
    for (ts, event) in &events {
        replay.apply(*ts, event, &mut tally);
    }
    let writes = replay
        .finish()
        .into_iter()
        .filter_map(|pending| {
            let request = pending.request?;
            let resource = pending.resource.unwrap_or_default();
            Some(match pending.body {
                PendingBody::Object { object, .. } => AuditedWrite {
                    ts: pending.ts,
                    uid: str_at(&object, "/metadata/uid").map(str::to_string),
                    resource_version: str_at(&object, "/metadata/resourceVersion")
                        .map(str::to_string),
                    resource,
                    namespace: str_at(&object, "/metadata/namespace").map(str::to_string),
                    name: str_at(&object, "/metadata/name").map(str::to_string),
                    request,
                },
                PendingBody::Request { object_ref } => AuditedWrite {
                    ts: pending.ts,
                    uid: object_ref.uid,
                    resource_version: None,
                    resource,
                    namespace: object_ref.namespace,
                    name: object_ref.name,
                    request,
                },
            })
        })
        .collect();
    Ok((writes, tally.warnings))
}

/// Finds the audit events in one JSON value, unwrapping lists and cloud exports; what is not
/// an audit event is counted and reported with its line.
fn collect(
    value: Value,
    name: &str,
    line: u64,
    depth: usize,
    out: &mut Vec<(Timestamp, AuditEvent)>,
    tally: &mut Tally,
) {
    let recurse = |value: Value, out: &mut Vec<_>, tally: &mut Tally| {
        if depth < MAX_WRAPPING {
            collect(value, name, line, depth + 1, out, tally);
        }
    };
    match value {
        Value::Array(items) => items.into_iter().for_each(|v| recurse(v, out, tally)),
        Value::Object(mut map) => {
            if let Some(Value::Array(items)) = list_items(&mut map) {
                return items.into_iter().for_each(|v| recurse(v, out, tally));
            }
            if let Some(message) = cloudwatch_message(&mut map) {
                return recurse(message, out, tally);
            }
            tally.read();
            match event_of(map) {
                Ok(event) => match event.time() {
                    Some(ts) => out.push((ts, event)),
                    None => tally.skip(
                        "malformed",
                        Some(format!(
                            "{name} line {line}: an audit event without a time, skipped"
                        )),
                    ),
                },
                Err((reason, why)) => {
                    tally.skip(reason, Some(format!("{name} line {line}: {why}, skipped")));
                }
            }
        }
        other => {
            tally.read();
            tally.skip(
                "not-an-audit-event",
                Some(format!(
                    "{name} line {line}: {} is not an audit event, skipped",
                    json_type(&other)
                )),
            );
        }
    }
}

/// The items of an `EventList` (or of a CloudWatch export's `events`).
fn list_items(map: &mut Map<String, Value>) -> Option<Value> {
    let is_list = map.get("kind").and_then(Value::as_str) == Some("EventList");
    if is_list {
        return map.remove("items");
    }
    let export = map.get("events").is_some_and(Value::is_array) && !map.contains_key("kind");
    export.then(|| map.remove("events")).flatten()
}

/// The event inside a CloudWatch record: `@message` or `message`, as JSON text or an object.
fn cloudwatch_message(map: &mut Map<String, Value>) -> Option<Value> {
    if map.contains_key("kind") || map.contains_key("protoPayload") {
        return None;
    }
    let message = map.remove("@message").or_else(|| map.remove("message"))?;
    match message {
        Value::String(text) => serde_json::from_str(&text).ok(),
        object @ Value::Object(_) => Some(object),
        _ => None,
    }
}

/// The audit event in one JSON object: a plain `Event` or a GKE `protoPayload` entry.
/// `Err((reason, why))` when it is not one.
fn event_of(map: Map<String, Value>) -> Result<AuditEvent, (&'static str, String)> {
    if map.contains_key("protoPayload") {
        return gke_event(map);
    }
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or_default();
    let api_version = map
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    // Some exporters (Falco's test traces, webhook backends' consumers) drop `apiVersion`: an
    // `Event` with an `auditID` and a `stage` is one too.
    let audit_shaped = map.contains_key("auditID") && map.contains_key("stage");
    let audit_version =
        api_version.starts_with("audit.k8s.io/") || (api_version.is_empty() && audit_shaped);
    if !(kind == "Event" && audit_version) {
        let what = if kind.is_empty() {
            "an object without kind".to_string()
        } else {
            format!(
                "a {kind} ({})",
                if api_version.is_empty() {
                    "no apiVersion"
                } else {
                    api_version
                }
            )
        };
        return Err((
            "not-an-audit-event",
            format!("{what} is not an audit event"),
        ));
    }
    serde_json::from_value(Value::Object(map)).map_err(|err| {
        (
            "malformed",
            format!("an audit event that does not read ({err})"),
        )
    })
}

/// A GKE Cloud Logging entry as an audit event. Entries of other services (GKE's own
/// cluster and node-pool operations) are not Kubernetes API requests.
fn gke_event(mut entry: Map<String, Value>) -> Result<AuditEvent, (&'static str, String)> {
    let payload = entry.remove("protoPayload").unwrap_or_default();
    let method = str_at(&payload, "/methodName").unwrap_or_default();
    if !method.starts_with("io.k8s.") {
        return Err((
            "not-kubernetes-api",
            format!("a Cloud Logging entry for {method:?} is not a Kubernetes API request"),
        ));
    }
    let resource_name = str_at(&payload, "/resourceName").unwrap_or_default();
    let mut object_ref = gke_object_ref(resource_name);
    let response = payload.get("response").cloned().map(without_type);
    if let Some(uid) = response.as_ref().and_then(|r| str_at(r, "/metadata/uid")) {
        object_ref.uid = Some(uid.to_string());
    }
    let level = if response.is_some() {
        "RequestResponse"
    } else if payload.get("request").is_some() {
        "Request"
    } else {
        "Metadata"
    };
    let text = |pointer: &str| str_at(&payload, pointer).map(str::to_string);
    let entry_text = |key: &str| entry.get(key).and_then(Value::as_str).map(str::to_string);
    let annotations = match entry.get("labels") {
        Some(Value::Object(labels)) => labels
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect(),
        _ => BTreeMap::new(),
    };
    Ok(AuditEvent {
        level: Some(level.to_string()),
        audit_id: entry
            .get("operation")
            .and_then(|op| str_at(op, "/id"))
            .map(str::to_string)
            .or_else(|| entry_text("insertId")),
        stage: Some("ResponseComplete".to_string()),
        request_uri: None,
        verb: method.rsplit('.').next().map(str::to_string),
        user: Some(UserInfo {
            username: text("/authenticationInfo/principalEmail"),
            groups: Vec::new(),
        }),
        impersonated_user: None,
        user_agent: text("/requestMetadata/callerSuppliedUserAgent"),
        object_ref: Some(object_ref),
        response_status: None,
        response_object: response,
        request_received_timestamp: None,
        stage_timestamp: entry_text("timestamp").or_else(|| entry_text("receiveTimestamp")),
        timestamp: None,
        annotations,
        grpc_code: Some(
            payload
                .pointer("/status/code")
                .and_then(Value::as_i64)
                .unwrap_or(0),
        ),
    })
}

/// `apps/v1/namespaces/NS/deployments/NAME[/SUB]`, `core/v1/nodes/NAME` → an object reference.
fn gke_object_ref(resource_name: &str) -> ObjectRef {
    let parts: Vec<&str> = resource_name.split('/').collect();
    let (group, version, rest) = match parts.as_slice() {
        [group, version, rest @ ..] => (*group, *version, rest),
        _ => ("", "", &[][..]),
    };
    let (namespace, rest) = match rest {
        ["namespaces", ns, resource, rest @ ..] => (Some(*ns), {
            let mut v = vec![*resource];
            v.extend_from_slice(rest);
            v
        }),
        other => (None, other.to_vec()),
    };
    let owned = |s: Option<&&str>| s.filter(|s| !s.is_empty()).map(|s| s.to_string());
    ObjectRef {
        resource: owned(rest.first()),
        namespace: namespace.map(str::to_string),
        name: owned(rest.get(1)),
        uid: None,
        api_group: Some(if group == "core" { "" } else { group }.to_string()),
        api_version: Some(version.to_string()).filter(|v| !v.is_empty()),
        resource_version: None,
        subresource: owned(rest.get(2)),
    }
}

/// A GKE body without its `@type` (`core.k8s.io/v1.Pod`), which is not part of the object.
fn without_type(mut value: Value) -> Value {
    if let Value::Object(map) = &mut value {
        map.remove("@type");
    }
    value
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// What one event means for the trace (see the module doc); `last` is the last known body of
/// the object, for deletes answered with a Status.
fn classify(event: &AuditEvent, last: Option<&Value>) -> Outcome {
    if event.stage.as_deref() != Some("ResponseComplete") {
        return Outcome::Skip("stage");
    }
    let verb = event.verb();
    if READ_VERBS.contains(&verb) {
        return Outcome::Skip("read");
    }
    if !WRITE_VERBS.contains(&verb) {
        return Outcome::Skip("not-a-write");
    }
    if event.failed() {
        return Outcome::Skip("failed");
    }
    if event.dry_run() {
        return Outcome::Skip("dry-run");
    }
    if event
        .object_ref
        .as_ref()
        .and_then(|r| r.resource.as_deref())
        .is_none_or(str::is_empty)
    {
        return Outcome::Skip("no-object");
    }
    if event
        .subresource()
        .is_some_and(|sub| !OBJECT_SUBRESOURCES.contains(&sub))
    {
        return Outcome::Request;
    }
    let body = event.response_object.as_ref().filter(|b| whole_object(b));
    match (verb, body) {
        ("deletecollection", _) => deleted_items(event.response_object.as_ref()),
        ("delete", Some(body)) => Outcome::Objects(vec![(deletion(body), body.clone())]),
        ("delete", None) => match last {
            Some(last) => Outcome::Objects(vec![(EventType::Deleted, last.clone())]),
            None => Outcome::Request,
        },
        ("create", Some(body)) => Outcome::Objects(vec![(EventType::Added, body.clone())]),
        // A patch or update that creates (server-side apply of a new object) answers 201.
        (_, Some(body)) if event.code() == Some(201) => {
            Outcome::Objects(vec![(EventType::Added, body.clone())])
        }
        (_, Some(body)) => Outcome::Objects(vec![(EventType::Modified, body.clone())]),
        (_, None) => Outcome::Request,
    }
}

/// A whole object: a `kind` that is not `Status`, and `metadata` with a name or UID.
fn whole_object(body: &Value) -> bool {
    let kind = str_at(body, "/kind").unwrap_or_default();
    !kind.is_empty()
        && kind != "Status"
        && (str_at(body, "/metadata/uid").is_some() || str_at(body, "/metadata/name").is_some())
}

/// A delete answered with the object: gone (DELETED), or only marked for deletion (MODIFIED)
/// while finalizers or a grace period (a pod's) keep it.
fn deletion(body: &Value) -> EventType {
    let marked = body.pointer("/metadata/deletionTimestamp").is_some();
    let finalizers = body
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty());
    let grace = body
        .pointer("/metadata/deletionGracePeriodSeconds")
        .and_then(Value::as_i64)
        .is_some_and(|s| s > 0);
    if marked && (finalizers || grace) {
        EventType::Modified
    } else {
        EventType::Deleted
    }
}

/// A `deletecollection` answered with the List of what it deleted.
fn deleted_items(response: Option<&Value>) -> Outcome {
    let items = response
        .and_then(|r| r.get("items"))
        .and_then(Value::as_array);
    let Some(items) = items else {
        return Outcome::Request;
    };
    let list_version = response
        .and_then(|r| str_at(r, "/apiVersion"))
        .unwrap_or_default();
    let item_kind = response
        .and_then(|r| str_at(r, "/kind"))
        .and_then(|k| k.strip_suffix("List"))
        .unwrap_or_default();
    let objects = items
        .iter()
        .filter_map(|item| {
            let mut item = item.clone();
            let map = item.as_object_mut()?;
            map.entry("apiVersion")
                .or_insert_with(|| Value::from(list_version));
            map.entry("kind").or_insert_with(|| Value::from(item_kind));
            whole_object(&item).then(|| (deletion(&item), item))
        })
        .collect();
    Outcome::Objects(objects)
}

/// The levels present, in [`LEVELS`] order (unknown levels after them, sorted).
fn levels(events: &[(Timestamp, AuditEvent)]) -> Vec<String> {
    let seen: BTreeSet<&str> = events
        .iter()
        .filter_map(|(_, e)| e.level.as_deref())
        .collect();
    let known = LEVELS
        .iter()
        .filter(|l| seen.contains(*l))
        .map(|l| l.to_string());
    let other = seen
        .iter()
        .filter(|l| !LEVELS.contains(l))
        .map(|l| l.to_string());
    known.chain(other).collect()
}

fn caveats(requests: usize, gke: bool) -> Vec<String> {
    let mut caveats = vec![
        "an audit log holds requests, not states: objects that no logged request changed are absent, and there is no initial list (no LISTED or SYNCED records)".to_string(),
        "controllers' writes are here only as far as the audit policy logged them".to_string(),
    ];
    if requests > 0 {
        caveats.push(format!(
            "{requests} change(s) carry no object body (logged at Metadata or Request level, a Status answer, or a subresource such as scale): they are REQUEST records, who and when without the object"
        ));
    }
    if gke {
        caveats.push("GKE Cloud Logging entries carry no audit level, stage, HTTP code or requestURI: the level is inferred from the bodies present, a non-zero status.code counts as failed, and dry runs cannot be told apart".to_string());
    }
    caveats
}

/// The resources the records touch, for the header.
fn resources(pending: &[Pending]) -> Vec<ResourceInfo> {
    let mut seen = BTreeMap::new();
    for record in pending {
        let (PendingBody::Object { object, .. }, Some(_)) = (&record.body, &record.request) else {
            continue;
        };
        let api_version = str_at(object, "/apiVersion").unwrap_or_default();
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let kind = str_at(object, "/kind").unwrap_or_default();
        let Some(resource) = record.resource.as_deref() else {
            continue;
        };
        seen.entry((group.to_string(), version.to_string(), resource.to_string()))
            .or_insert_with(|| ResourceInfo {
                group: group.to_string(),
                version: version.to_string(),
                resource: resource.to_string(),
                kind: kind.to_string(),
                namespaced: object.pointer("/metadata/namespace").is_some(),
            });
    }
    seen.into_values().collect()
}

/// Replays events in time order into records, remembering each object's last body.
struct Replay<'a> {
    redactor: &'a Redactor,
    /// Last body by UID.
    by_uid: HashMap<String, Value>,
    /// UID by (group, resource, namespace, name).
    uid_by_key: HashMap<(String, String, String, String), String>,
    /// Names learned by UID, for REQUEST records of `generateName` creates.
    name_by_uid: HashMap<String, String>,
    pending: Vec<Pending>,
    /// Events that became at least one record.
    used: u64,
}

impl<'a> Replay<'a> {
    fn new(redactor: &'a Redactor) -> Self {
        Replay {
            redactor,
            by_uid: HashMap::new(),
            uid_by_key: HashMap::new(),
            name_by_uid: HashMap::new(),
            pending: Vec::new(),
            used: 0,
        }
    }

    fn key(object_ref: &ObjectRef, name: &str) -> (String, String, String, String) {
        (
            object_ref.api_group.clone().unwrap_or_default(),
            object_ref.resource.clone().unwrap_or_default(),
            object_ref.namespace.clone().unwrap_or_default(),
            name.to_string(),
        )
    }

    /// The last body of the object an event names: by UID, else by name.
    fn last_body(&self, object_ref: &ObjectRef) -> Option<&Value> {
        let uid = object_ref.uid.clone().or_else(|| {
            let name = object_ref.name.as_deref()?;
            self.uid_by_key.get(&Self::key(object_ref, name)).cloned()
        })?;
        self.by_uid.get(&uid)
    }

    fn apply(&mut self, ts: Timestamp, event: &AuditEvent, tally: &mut Tally) {
        let object_ref = event.object_ref.clone().unwrap_or_default();
        if let (Some(uid), Some(name)) = (&object_ref.uid, &object_ref.name) {
            self.name_by_uid.insert(uid.clone(), name.clone());
        }
        let outcome = classify(event, self.last_body(&object_ref));
        let resource = object_ref.resource.clone().unwrap_or_default();
        let request = Some(event.request());
        if !matches!(outcome, Outcome::Skip(_)) {
            self.used += 1;
        }
        match outcome {
            Outcome::Skip(reason) => tally.skip(reason, None),
            Outcome::Request => self.pending.push(Pending {
                ts,
                body: PendingBody::Request { object_ref },
                request,
                resource: Some(resource),
            }),
            Outcome::Objects(objects) => {
                for (kind, body) in objects {
                    self.object(ts, kind, body, &object_ref, &request, tally);
                }
            }
        }
    }

    fn object(
        &mut self,
        ts: Timestamp,
        event: EventType,
        body: Value,
        object_ref: &ObjectRef,
        request: &Option<RequestInfo>,
        tally: &mut Tally,
    ) {
        let resource = object_ref.resource.clone().unwrap_or_default();
        let body = match redacted(self.redactor, body, &resource) {
            Ok(body) => body,
            Err(why) => {
                tally.skip(
                    "not-redactable",
                    Some(format!(
                        "a {resource} body could not be redacted ({why}) and was not written"
                    )),
                );
                return;
            }
        };
        let uid = str_at(&body, "/metadata/uid").map(str::to_string);
        let name = str_at(&body, "/metadata/name").map(str::to_string);
        if let (Some(uid), Some(name)) = (&uid, &name) {
            self.name_by_uid.insert(uid.clone(), name.clone());
            self.uid_by_key
                .insert(Self::key(object_ref, name), uid.clone());
            self.by_uid.insert(uid.clone(), body.clone());
        }
        self.pending.push(Pending {
            ts,
            body: PendingBody::Object {
                event,
                object: body,
            },
            request: request.clone(),
            resource: Some(resource),
        });
    }

    /// The records, REQUEST records of unnamed objects named by their UID where it is known.
    fn finish(mut self) -> Vec<Pending> {
        for record in &mut self.pending {
            if let PendingBody::Request { object_ref } = &mut record.body {
                if object_ref.name.is_none() {
                    object_ref.name = object_ref
                        .uid
                        .as_ref()
                        .and_then(|uid| self.name_by_uid.get(uid))
                        .cloned();
                }
            }
        }
        self.pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::RedactSettings;
    use serde_json::json;

    fn event(verb: &str, code: i64, response: Option<Value>) -> Value {
        let mut event = json!({
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
            "auditID": format!("id-{verb}"), "stage": "ResponseComplete",
            "requestURI": "/apis/apps/v1/namespaces/shop/deployments/web", "verb": verb,
            "user": {"username": "alice", "groups": ["devs"]}, "userAgent": "kubectl/v1.31.0",
            "objectRef": {"resource": "deployments", "namespace": "shop", "name": "web",
                          "apiGroup": "apps", "apiVersion": "v1"},
            "responseStatus": {"code": code},
            "requestReceivedTimestamp": "2026-11-26T16:00:00.000000Z",
            "stageTimestamp": "2026-11-26T16:00:00.100000Z",
        });
        if let Some(response) = response {
            event["responseObject"] = response;
        }
        event
    }

    fn deployment() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "namespace": "shop", "uid": "d1"}})
    }

    fn parse(value: Value) -> AuditEvent {
        let Value::Object(map) = value else {
            panic!("an object")
        };
        event_of(map).expect("an audit event")
    }

    fn outcome(value: Value) -> Outcome {
        classify(&parse(value), None)
    }

    fn one(event: EventType) -> Outcome {
        Outcome::Objects(vec![(event, deployment())])
    }

    #[test]
    fn successful_writes_with_a_body_are_object_records_of_their_verb() {
        assert_eq!(
            outcome(event("create", 201, Some(deployment()))),
            one(EventType::Added)
        );
        assert_eq!(
            outcome(event("patch", 200, Some(deployment()))),
            one(EventType::Modified)
        );
        assert_eq!(
            outcome(event("update", 200, Some(deployment()))),
            one(EventType::Modified)
        );
        assert_eq!(
            outcome(event("delete", 200, Some(deployment()))),
            one(EventType::Deleted)
        );
        // Server-side apply of a new object is a patch answered 201.
        assert_eq!(
            outcome(event("patch", 201, Some(deployment()))),
            one(EventType::Added)
        );
    }

    #[test]
    fn reads_failures_dry_runs_and_other_stages_are_not_changes() {
        assert_eq!(
            outcome(event("get", 200, Some(deployment()))),
            Outcome::Skip("read")
        );
        assert_eq!(outcome(event("watch", 200, None)), Outcome::Skip("read"));
        assert_eq!(
            outcome(event("patch", 409, Some(deployment()))),
            Outcome::Skip("failed")
        );
        assert_eq!(outcome(event("create", 403, None)), Outcome::Skip("failed"));
        let mut dry = event("patch", 200, Some(deployment()));
        dry["requestURI"] =
            json!("/apis/apps/v1/namespaces/shop/deployments/web?dryRun=All&fieldManager=kubectl");
        assert_eq!(outcome(dry), Outcome::Skip("dry-run"));
        for stage in ["RequestReceived", "ResponseStarted", "Panic"] {
            let mut early = event("patch", 200, Some(deployment()));
            early["stage"] = json!(stage);
            assert_eq!(outcome(early), Outcome::Skip("stage"));
        }
    }

    #[test]
    fn a_write_without_a_whole_object_is_a_request_and_a_delete_keeps_the_last_body() {
        assert_eq!(outcome(event("patch", 200, None)), Outcome::Request);
        let status = json!({"kind": "Status", "apiVersion": "v1", "status": "Success"});
        assert_eq!(
            outcome(event("delete", 200, Some(status.clone()))),
            Outcome::Request
        );
        let last = deployment();
        let parsed = parse(event("delete", 200, Some(status)));
        assert_eq!(classify(&parsed, Some(&last)), one(EventType::Deleted));
        let mut scale = event(
            "update",
            200,
            Some(
                json!({"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": {"name": "web", "uid": "d1"}}),
            ),
        );
        scale["objectRef"]["subresource"] = json!("scale");
        assert_eq!(outcome(scale), Outcome::Request);
        // A pod deleted gracefully is only marked: MODIFIED, not gone.
        let mut marked = deployment();
        marked["metadata"]["deletionTimestamp"] = json!("2026-11-26T16:00:00Z");
        marked["metadata"]["deletionGracePeriodSeconds"] = json!(30);
        assert_eq!(deletion(&marked), EventType::Modified);
    }

    #[test]
    fn impersonation_names_the_impersonated_user_and_who_impersonated() {
        let mut value = event("patch", 200, None);
        value["impersonatedUser"] = json!({"username": "bob", "groups": ["qa"]});
        value["annotations"] = json!({"mutation.webhook.admission.k8s.io/round_0_index_0": "{}"});
        let request = parse(value).request();
        assert_eq!(request.user.as_deref(), Some("bob"));
        assert_eq!(request.groups, ["qa"]);
        assert_eq!(request.impersonated_by.as_deref(), Some("alice"));
        assert_eq!(request.annotations.len(), 1);
        assert_eq!(
            request.received.as_deref(),
            Some("2026-11-26T16:00:00.000000Z")
        );
    }

    #[test]
    fn gke_entries_are_read_from_proto_payload_and_labels() {
        let entry = json!({
            "insertId": "x", "labels": {"authorization.k8s.io/decision": "allow"},
            "operation": {"id": "audit-1", "first": true, "last": true},
            "protoPayload": {
                "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
                "authenticationInfo": {"principalEmail": "dev@example.com"},
                "methodName": "io.k8s.core.v1.pods.status.patch",
                "resourceName": "core/v1/namespaces/shop/pods/web-1/status",
                "requestMetadata": {"callerSuppliedUserAgent": "kubelet/v1.28"},
                "response": {"@type": "core.k8s.io/v1.Pod", "apiVersion": "v1", "kind": "Pod",
                             "metadata": {"name": "web-1", "namespace": "shop", "uid": "p1"}},
                "status": {"code": 0}
            },
            "timestamp": "2024-01-01T01:00:00Z"
        });
        let event = parse(entry.clone());
        let request = event.request();
        assert_eq!(request.user.as_deref(), Some("dev@example.com"));
        assert_eq!(request.verb.as_deref(), Some("patch"));
        assert_eq!(request.subresource.as_deref(), Some("status"));
        assert_eq!(request.audit_id.as_deref(), Some("audit-1"));
        let Outcome::Objects(objects) = classify(&event, None) else {
            panic!("objects")
        };
        assert_eq!(objects[0].0, EventType::Modified);
        assert!(objects[0].1.get("@type").is_none());
        let mut failed = entry;
        failed["protoPayload"]["status"]["code"] = json!(7);
        assert_eq!(classify(&parse(failed), None), Outcome::Skip("failed"));
        let ops = json!({"protoPayload": {"methodName": "google.container.v1.ClusterManager.CreateCluster"}});
        let Value::Object(map) = ops else { panic!() };
        assert_eq!(
            event_of(map).map_err(|e| e.0).err(),
            Some("not-kubernetes-api")
        );
    }

    #[test]
    fn eks_cloudwatch_exports_and_event_lists_are_unwrapped() {
        let inner = event("create", 201, Some(deployment())).to_string();
        let shapes = [
            json!({"@timestamp": "2026-11-26 16:00:00.100", "@message": inner}),
            json!({"events": [{"timestamp": 1, "message": inner}], "searchedLogStreams": []}),
            json!({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": [serde_json::from_str::<Value>(&inner).unwrap()]}),
        ];
        for shape in shapes {
            let (mut out, mut tally) = (Vec::new(), Tally::default());
            collect(shape.clone(), "f", 1, 0, &mut out, &mut tally);
            assert_eq!(out.len(), 1, "{shape}");
            assert_eq!(tally.counts.read, 1);
        }
    }

    fn import_text(text: &str) -> (ImportOutcome, String) {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("audit.log");
        std::fs::write(&input, text).unwrap();
        let output = dir.path().join("t.ndjson");
        let settings = ImportSettings {
            inputs: vec![input.display().to_string()],
            output: output.clone(),
            redaction: RedactSettings::default(),
            time: None,
        };
        let outcome = import(&settings).unwrap();
        (outcome, std::fs::read_to_string(output).unwrap())
    }

    #[test]
    fn malformed_lines_are_reported_with_their_numbers_and_the_rest_is_used() {
        let good = event("create", 201, Some(deployment())).to_string();
        let (outcome, trace) = import_text(&format!("{good}\n{{not json\n\n{good}\n"));
        assert_eq!(outcome.counts.read, 3);
        assert_eq!(outcome.counts.used, 2);
        assert_eq!(outcome.counts.skipped["malformed"], 1);
        assert!(
            outcome.warnings[0].contains("line 2"),
            "{:?}",
            outcome.warnings
        );
        assert_eq!(trace.lines().count(), 4);
    }

    #[test]
    fn generate_name_creates_at_metadata_level_are_named_by_a_later_event_with_the_uid() {
        let mut create = event("create", 201, None);
        create["level"] = json!("Metadata");
        create["objectRef"] = json!({"resource": "pods", "namespace": "shop", "uid": "p9"});
        let mut later = event("patch", 200, None);
        later["level"] = json!("Metadata");
        later["stageTimestamp"] = json!("2026-11-26T16:00:05Z");
        later["objectRef"] = json!({"resource": "pods", "namespace": "shop", "name": "web-abc12", "uid": "p9", "subresource": "status"});
        let (outcome, trace) = import_text(&format!("{create}\n{later}\n"));
        assert_eq!(outcome.records, 2);
        let first: Value = serde_json::from_str(trace.lines().nth(1).unwrap()).unwrap();
        assert_eq!(first["type"], "REQUEST");
        assert_eq!(first["objectRef"]["name"], "web-abc12");
        assert_eq!(first["request"]["user"], "alice");
        let header: Value = serde_json::from_str(trace.lines().next().unwrap()).unwrap();
        assert_eq!(header["source"]["levels"], json!(["Metadata"]));
    }

    #[test]
    fn secret_values_never_reach_the_trace_in_bodies_or_last_applied() {
        let applied = r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db"},"stringData":{"password":"hunter2-plain"}}"#;
        let secret = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db", "namespace": "shop", "uid": "s1",
                         "annotations": {"kubectl.kubernetes.io/last-applied-configuration": applied}},
            "data": {"password": "aHVudGVyMi1iYXNlNjQ="}});
        let mut create = event("create", 201, Some(secret));
        create["objectRef"] =
            json!({"resource": "secrets", "namespace": "shop", "name": "db", "apiVersion": "v1"});
        let (outcome, trace) = import_text(&format!("{create}\n"));
        assert_eq!(outcome.records, 1);
        assert!(!trace.contains("hunter2-plain") && !trace.contains("aHVudGVyMi1iYXNlNjQ="));
        assert!(trace.contains("<redacted hmac-sha256:"));
    }
}
