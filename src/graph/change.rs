//! A change: one recorded modification of an object's spec, with who made it and what it changed.

use jiff::Timestamp;
use serde::Serialize;

use crate::history::diff::FieldChange;
use crate::history::ObjectHistory;
use crate::trace::RequestInfo;

/// A reference to an object by kind, namespace, name and UID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectRef {
    /// Kind.
    pub kind: String,
    /// Namespace (empty for cluster-scoped objects).
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
}

impl ObjectRef {
    /// The reference to a recorded object.
    pub fn of(object: &ObjectHistory) -> ObjectRef {
        ObjectRef {
            kind: object.kind.clone(),
            namespace: object.namespace.clone(),
            name: object.name.clone(),
            uid: object.uid.clone(),
        }
    }
}

/// What a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// The object was created.
    Create,
    /// `spec.template` changed: a new revision.
    Template,
    /// Only `spec.replicas` changed: a scale.
    Scale,
    /// Another part of the spec changed.
    Spec,
    /// A ConfigMap's or Secret's data changed.
    Data,
    /// Only labels, annotations or finalizers changed.
    Metadata,
}

/// How sure an attribution is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// A guess from weak evidence.
    #[default]
    Low,
    /// Likely, with some evidence missing.
    Medium,
    /// Shown directly by the records.
    High,
}

/// What an attribution rests on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeEvidence {
    /// The trace line of the record that first shows the change, when recorded.
    pub record_line: Option<u64>,
    /// That record's resourceVersion.
    pub resource_version: Option<String>,
    /// `metadata.generation` after the change.
    pub generation: Option<i64>,
    /// Why this manager was chosen, in words.
    pub attribution: String,
    /// How sure the manager attribution is.
    pub confidence: Confidence,
}

/// One change of an object (the CHANGE of the JSON contract).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// The changed object.
    pub object: ObjectRef,
    /// When: the `ts` of the first record showing it, or the managedFields time when before the trace.
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub time: Timestamp,
    /// The field manager, from managedFields.
    pub manager: Option<String>,
    /// `Apply` or `Update`.
    pub operation: Option<String>,
    /// The subresource written through (`scale`, `status`), if any.
    pub subresource: Option<String>,
    /// The Deployment revision this change made (template changes) or changed (scales).
    pub revision: Option<i64>,
    /// Whether the change happened before the trace began.
    pub before_trace: bool,
    /// Leaf fields that changed (empty for a creation).
    pub fields: Vec<FieldChange>,
    /// What kind of change this is.
    pub kind: ChangeKind,
    /// What the attribution rests on.
    pub evidence: ChangeEvidence,
    /// The request that made it, when an audit log told it.
    #[serde(flatten)]
    pub request: Requester,
}

/// Who sent the request that made a change, from an audit log (issue 13's CHANGE fields): all
/// null when the trace holds no request for it. managedFields name a manager
/// (`kubectl-client-side-apply`), never a person.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Requester {
    /// The user the request acted as (the impersonated one, when impersonating).
    pub user: Option<String>,
    /// That user's groups.
    pub groups: Vec<String>,
    /// The client's user agent.
    pub user_agent: Option<String>,
    /// `create`, `update`, `patch`, `delete`.
    pub verb: Option<String>,
    /// The audit event's ID.
    pub audit_id: Option<String>,
    /// When the API server received the request.
    pub request_received: Option<String>,
    /// With impersonation: the authenticated user who impersonated `user`.
    pub impersonated_by: Option<String>,
}

impl Requester {
    /// The requester of a version's request, or nobody known.
    pub fn of(request: Option<&RequestInfo>) -> Requester {
        let Some(r) = request else {
            return Requester::default();
        };
        Requester {
            user: r.user.clone(),
            groups: r.groups.clone(),
            user_agent: r.user_agent.clone(),
            verb: r.verb.clone(),
            audit_id: r.audit_id.clone(),
            request_received: r.received.clone(),
            impersonated_by: r.impersonated_by.clone(),
        }
    }
}
