//! The rows of the exported tables and their columns: the contract `docs/export.md` documents.
//!
//! Every table also has the Hive partition columns `cluster` and `date`, which are in the
//! directory names (`cluster=…/date=…`), not in the files: engines add them when they read the
//! directory (DataFusion refuses a partition column that is also in the file).

use jiff::Timestamp;

use super::schema::{Column, Getter, Table};

/// One changed leaf field of one attributed change (a creation is one row without a path).
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRow {
    /// The trace's SHA-256.
    pub trace: String,
    /// The change's identity, shared by its field rows and named by blamed changes elsewhere.
    pub change_id: String,
    /// When.
    pub time: Timestamp,
    /// The changed object's kind.
    pub kind: String,
    /// Its namespace (empty for cluster-scoped objects).
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Its UID.
    pub uid: String,
    /// `create`, `template`, `scale`, `spec`, `data` or `metadata`.
    pub change_kind: String,
    /// The field manager.
    pub manager: Option<String>,
    /// `Apply` or `Update`.
    pub operation: Option<String>,
    /// The subresource written through.
    pub subresource: Option<String>,
    /// The user, from an audit log.
    pub user: Option<String>,
    /// The user agent, from an audit log.
    pub user_agent: Option<String>,
    /// The audit event's ID.
    pub audit_id: Option<String>,
    /// The revision the change made or changed.
    pub revision: Option<i64>,
    /// The changed leaf.
    pub path: Option<String>,
    /// Its old value, JSON text.
    pub old_value: Option<String>,
    /// Its new value, JSON text.
    pub new_value: Option<String>,
    /// Whether the change happened before the trace began.
    pub before_trace: bool,
    /// `high`, `medium` or `low`.
    pub confidence: String,
    /// Why this manager, in words.
    pub attribution: String,
    /// The trace line of the record that shows it.
    pub record_line: Option<i64>,
    /// That record's resourceVersion.
    pub resource_version: Option<String>,
    /// `metadata.generation` after it.
    pub generation: Option<i64>,
}

/// One revision of a workload that numbers them (Deployment, StatefulSet, DaemonSet).
#[derive(Debug, Clone, PartialEq)]
pub struct RevisionRow {
    /// The trace's SHA-256.
    pub trace: String,
    /// The workload's kind.
    pub kind: String,
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Its UID.
    pub uid: String,
    /// The revision number.
    pub revision: i64,
    /// When it was made.
    pub created: Option<Timestamp>,
    /// The change that made it.
    pub change_id: Option<String>,
    /// That change's manager.
    pub change_manager: Option<String>,
    /// That change's operation.
    pub change_operation: Option<String>,
    /// That change's user, from an audit log.
    pub change_user: Option<String>,
    /// Whether the change happened before the trace.
    pub change_before_trace: Option<bool>,
    /// The outcome at the trace's end.
    pub outcome: String,
    /// The controller's first final verdict for it: `complete` or `failed`.
    pub verdict: Option<String>,
    /// When that verdict was first recorded.
    pub verdict_time: Option<Timestamp>,
    /// When the evidence first showed failure.
    pub failing_since: Option<Timestamp>,
    /// Why it failed or is failing.
    pub reason: Option<String>,
    /// The object carrying its pod template (ReplicaSet, ControllerRevision).
    pub carrier_kind: String,
    /// That object's name.
    pub carrier: Option<String>,
}

/// One run of one container: from a start to its end (or the trace's end).
#[derive(Debug, Clone, PartialEq)]
pub struct PodRunRow {
    /// The trace's SHA-256.
    pub trace: String,
    /// The pod's namespace.
    pub namespace: String,
    /// The pod's name.
    pub pod: String,
    /// The pod's UID.
    pub pod_uid: String,
    /// The container.
    pub container: String,
    /// Whether it is an init container.
    pub init: bool,
    /// The kind at the top of the pod's owner chain.
    pub workload_kind: Option<String>,
    /// That workload's name.
    pub workload: Option<String>,
    /// That workload's UID.
    pub workload_uid: Option<String>,
    /// The workload revision the pod runs.
    pub revision: Option<i64>,
    /// `state.running.startedAt` (or `terminated.startedAt`).
    pub started: Option<Timestamp>,
    /// `terminated.finishedAt`.
    pub ended: Option<Timestamp>,
    /// The exit code.
    pub exit_code: Option<i64>,
    /// `terminated.reason` as the kubelet reported it.
    pub reason: Option<String>,
    /// Why kblame says it ended (`Error`, `OOMKilled`, `LivenessProbe`, …) when it restarted.
    pub restart_reason: Option<String>,
    /// The container's `restartCount` during this run (0 for the first run).
    pub restart_number: i64,
    /// The image as the pod names it.
    pub image: Option<String>,
    /// The image's digest (`sha256:…`) from `imageID`.
    pub image_digest: Option<String>,
    /// The node.
    pub node: Option<String>,
}

/// Why a pod was created, or why it went away.
#[derive(Debug, Clone, PartialEq)]
pub struct PodTurnRow {
    /// The trace's SHA-256.
    pub trace: String,
    /// The pod's namespace.
    pub namespace: String,
    /// The pod's name.
    pub pod: String,
    /// The pod's UID.
    pub pod_uid: String,
    /// The kind at the top of the pod's owner chain.
    pub workload_kind: Option<String>,
    /// That workload's name.
    pub workload: Option<String>,
    /// The workload revision the pod runs.
    pub revision: Option<i64>,
    /// When.
    pub time: Option<Timestamp>,
    /// Whether the time is exact (a deletion seen only at a re-list is not).
    pub time_exact: bool,
    /// The reason, as `analyze --pod` names it.
    pub reason: String,
    /// The blamed change.
    pub change_id: Option<String>,
    /// Its time.
    pub change_time: Option<Timestamp>,
    /// Its kind (`template`, `scale`, …).
    pub change_kind: Option<String>,
    /// Its manager.
    pub change_manager: Option<String>,
    /// Its user, from an audit log.
    pub change_user: Option<String>,
    /// The changed object's kind.
    pub change_object_kind: Option<String>,
    /// The changed object's name.
    pub change_object: Option<String>,
    /// The pod it replaced (a creation) or that replaced it (a deletion).
    pub other_pod: Option<String>,
    /// What the reason rests on, in words.
    pub evidence: String,
}

/// One occurrence of an Event (each count increase is one row).
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    /// The trace's SHA-256.
    pub trace: String,
    /// When the trace saw it.
    pub time: Timestamp,
    /// The Event's namespace.
    pub namespace: String,
    /// The Event object's name.
    pub event: String,
    /// `Normal` or `Warning`.
    pub event_type: String,
    /// The reason (`BackOff`, `Killing`).
    pub reason: String,
    /// The message.
    pub message: String,
    /// The count after this occurrence.
    pub count: i64,
    /// The kind of the object it is about.
    pub object_kind: Option<String>,
    /// Its name.
    pub object_name: Option<String>,
    /// Its UID.
    pub object_uid: Option<String>,
    /// `involvedObject.fieldPath`.
    pub field_path: Option<String>,
    /// The component that reported it.
    pub source: Option<String>,
    /// The trace line.
    pub record_line: i64,
}

/// One object (one UID) the trace recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectRow {
    /// The trace's SHA-256.
    pub trace: String,
    /// UID.
    pub uid: String,
    /// Kind.
    pub kind: String,
    /// `apiVersion`.
    pub api_version: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// `metadata.creationTimestamp`.
    pub created: Option<Timestamp>,
    /// Its first record.
    pub first_seen: Timestamp,
    /// Its last record.
    pub last_seen: Timestamp,
    /// When it went away.
    pub deleted: Option<Timestamp>,
    /// Whether `deleted` is exact (a DELETED record) or a re-list's time.
    pub deleted_exact: Option<bool>,
    /// Recorded versions.
    pub versions: i64,
    /// The controlling owner's kind, at its last record.
    pub owner_kind: Option<String>,
    /// That owner's name.
    pub owner_name: Option<String>,
    /// That owner's UID.
    pub owner_uid: Option<String>,
    /// Its labels at its last record, JSON text.
    pub labels: Option<String>,
}

/// A column builder: `text!("name", "doc", field)` for an owned `String` field, and so on.
macro_rules! col {
    (text $name:literal, $doc:literal, $f:ident) => {
        Column {
            name: $name,
            nullable: false,
            doc: $doc,
            get: Getter::Text(|r| Some(r.$f.as_str())),
        }
    };
    (opt_text $name:literal, $doc:literal, $f:ident) => {
        Column {
            name: $name,
            nullable: true,
            doc: $doc,
            get: Getter::Text(|r| r.$f.as_deref()),
        }
    };
    (int $name:literal, $doc:literal, $f:ident) => {
        Column {
            name: $name,
            nullable: false,
            doc: $doc,
            get: Getter::Int(|r| Some(r.$f)),
        }
    };
    (opt_int $name:literal, $doc:literal, $f:ident) => {
        Column {
            name: $name,
            nullable: true,
            doc: $doc,
            get: Getter::Int(|r| r.$f),
        }
    };
    (time $name:literal, $doc:literal, $f:ident) => {
        Column {
            name: $name,
            nullable: false,
            doc: $doc,
            get: Getter::Time(|r| Some(r.$f)),
        }
    };
    (opt_time $name:literal, $doc:literal, $f:ident) => {
        Column {
            name: $name,
            nullable: true,
            doc: $doc,
            get: Getter::Time(|r| r.$f),
        }
    };
    (bool $name:literal, $doc:literal, $f:ident) => {
        Column {
            name: $name,
            nullable: false,
            doc: $doc,
            get: Getter::Bool(|r| Some(r.$f)),
        }
    };
    (opt_bool $name:literal, $doc:literal, $f:ident) => {
        Column {
            name: $name,
            nullable: true,
            doc: $doc,
            get: Getter::Bool(|r| r.$f),
        }
    };
}

const TRACE_DOC: &str = "SHA-256 of the trace file the row comes from (also the file's name)";

impl Table for ChangeRow {
    const NAME: &'static str = "changes";
    const ROW: &'static str =
        "changed leaf field of an attributed change (a creation is one row with a null `path`)";
    fn columns() -> &'static [Column<Self>] {
        static COLUMNS: &[Column<ChangeRow>] = &[
            Column {
                name: "trace",
                nullable: false,
                doc: TRACE_DOC,
                get: Getter::Text(|r| Some(r.trace.as_str())),
            },
            col!(text "change_id", "the change: `UID:LINE` of the record that first shows it (`UID:before-trace:TIME` when it predates the trace); the same in every row of the change and wherever the change is blamed", change_id),
            col!(time "time", "when: the first record showing it, or the managedFields time for a change before the trace", time),
            col!(text "kind", "the changed object's kind", kind),
            col!(text "namespace", "its namespace (empty for cluster-scoped objects)", namespace),
            col!(text "name", "its name", name),
            col!(text "uid", "its UID", uid),
            col!(text "change_kind", "`create`, `template` (a new pod template: a new revision), `scale`, `spec`, `data` (ConfigMap or Secret data) or `metadata`", change_kind),
            col!(opt_text "manager", "the field manager, from managedFields", manager),
            col!(opt_text "operation", "`Apply` or `Update`", operation),
            col!(opt_text "subresource", "the subresource written through (`scale`, `status`)", subresource),
            col!(opt_text "user", "the user who sent the request, when an audit log told it", user),
            col!(opt_text "user_agent", "the request's user agent, from an audit log", user_agent),
            col!(opt_text "audit_id", "the audit event's ID", audit_id),
            col!(opt_int "revision", "the workload revision the change made (template, create) or changed (scale)", revision),
            col!(opt_text "path", "the changed leaf, e.g. `spec.template.spec.containers[name=web].image`; null for a creation", path),
            col!(opt_text "old_value", "its old value as JSON text; null when the leaf did not exist. A Secret's values are never given: `\"(hash)\"`", old_value),
            col!(opt_text "new_value", "its new value as JSON text; null when the leaf was removed. A Secret's: `\"(hash)\"`, `\"(hash changed)\"`", new_value),
            col!(bool "before_trace", "the change happened before the trace began (known from managedFields)", before_trace),
            col!(text "confidence", "how sure the manager attribution is: `high`, `medium` or `low`", confidence),
            col!(text "attribution", "what the attribution rests on, in words", attribution),
            col!(opt_int "record_line", "the trace line of the record that first shows the change", record_line),
            col!(opt_text "resource_version", "that record's resourceVersion", resource_version),
            col!(opt_int "generation", "`metadata.generation` after the change", generation),
        ];
        COLUMNS
    }
}

impl Table for RevisionRow {
    const NAME: &'static str = "revisions";
    const ROW: &'static str =
        "revision of a workload that numbers them (Deployment, StatefulSet, DaemonSet)";
    fn columns() -> &'static [Column<Self>] {
        static COLUMNS: &[Column<RevisionRow>] = &[
            Column {
                name: "trace",
                nullable: false,
                doc: TRACE_DOC,
                get: Getter::Text(|r| Some(r.trace.as_str())),
            },
            col!(text "kind", "the workload's kind", kind),
            col!(text "namespace", "its namespace", namespace),
            col!(text "name", "its name", name),
            col!(text "uid", "its UID", uid),
            col!(int "revision", "the revision number (`deployment.kubernetes.io/revision`, a ControllerRevision's `revision`)", revision),
            col!(opt_time "created", "when it was made: its change's time, else its ReplicaSet's or ControllerRevision's creationTimestamp", created),
            col!(opt_text "change_id", "the change that made it (see `changes.change_id`)", change_id),
            col!(opt_text "change_manager", "that change's field manager", change_manager),
            col!(opt_text "change_operation", "that change's operation", change_operation),
            col!(opt_text "change_user", "that change's user, from an audit log", change_user),
            col!(opt_bool "change_before_trace", "that change happened before the trace", change_before_trace),
            col!(text "outcome", "at the trace's end, as `analyze --object` judges it: `complete`, `failed`, `failing`, `progressing`, `superseded`, `paused` or `unknown`", outcome),
            col!(opt_text "verdict", "the controller's first final verdict while it was the newest revision: `complete` or `failed` (as `kubectl rollout status` reads the status)", verdict),
            col!(opt_time "verdict_time", "when the trace first showed that verdict", verdict_time),
            col!(opt_time "failing_since", "when the evidence first showed it failing", failing_since),
            col!(opt_text "reason", "why it failed or is failing, in words", reason),
            col!(text "carrier_kind", "what carries its pod template: `ReplicaSet` or `ControllerRevision`", carrier_kind),
            col!(opt_text "carrier", "that object's name, when recorded", carrier),
        ];
        COLUMNS
    }
}

impl Table for PodRunRow {
    const NAME: &'static str = "pod_runs";
    const ROW: &'static str =
        "run of one container of one pod, as the kubelet's container statuses show it";
    fn columns() -> &'static [Column<Self>] {
        static COLUMNS: &[Column<PodRunRow>] = &[
            Column {
                name: "trace",
                nullable: false,
                doc: TRACE_DOC,
                get: Getter::Text(|r| Some(r.trace.as_str())),
            },
            col!(text "namespace", "the pod's namespace", namespace),
            col!(text "pod", "the pod's name", pod),
            col!(text "pod_uid", "the pod's UID", pod_uid),
            col!(text "container", "the container's name", container),
            col!(bool "init", "an init container", init),
            col!(opt_text "workload_kind", "the kind at the top of the pod's owner chain (`Deployment`, `StatefulSet`, `CronJob`, a custom resource); null for a bare pod", workload_kind),
            col!(opt_text "workload", "that workload's name", workload),
            col!(opt_text "workload_uid", "that workload's UID", workload_uid),
            col!(opt_int "revision", "the workload revision the pod runs, as `analyze --pod` gives it", revision),
            col!(opt_time "started", "when the run started (`startedAt`)", started),
            col!(opt_time "ended", "when it ended (`terminated.finishedAt`); null while it ran at its last record", ended),
            col!(opt_int "exit_code", "its exit code", exit_code),
            col!(opt_text "reason", "`terminated.reason` as the kubelet gave it (`Error`, `OOMKilled`, `Completed`)", reason),
            col!(opt_text "restart_reason", "for a run that ended in a restart, why as `analyze --pod` says (`Error`, `OOMKilled`, `LivenessProbe`, `StartupProbe`, `unknown`)", restart_reason),
            col!(int "restart_number", "the container's `restartCount` during the run: 0 for its first run", restart_number),
            col!(opt_text "image", "the image as the container status names it", image),
            col!(opt_text "image_digest", "the digest that ran (`sha256:…`, from `imageID`)", image_digest),
            col!(opt_text "node", "the node it ran on", node),
        ];
        COLUMNS
    }
}

/// The creations table: a [`PodTurnRow`] per pod the trace saw created.
#[derive(Debug, Clone, PartialEq)]
pub struct Creation(pub PodTurnRow);
/// The deletions table: a [`PodTurnRow`] per pod the trace saw go away.
#[derive(Debug, Clone, PartialEq)]
pub struct Deletion(pub PodTurnRow);

macro_rules! turn_columns {
    ($t:ident, $other:literal, $time:literal) => {
        &[
            Column { name: "trace", nullable: false, doc: TRACE_DOC, get: Getter::Text(|r: &$t| Some(r.0.trace.as_str())) },
            Column { name: "namespace", nullable: false, doc: "the pod's namespace", get: Getter::Text(|r: &$t| Some(r.0.namespace.as_str())) },
            Column { name: "pod", nullable: false, doc: "the pod's name", get: Getter::Text(|r: &$t| Some(r.0.pod.as_str())) },
            Column { name: "pod_uid", nullable: false, doc: "the pod's UID", get: Getter::Text(|r: &$t| Some(r.0.pod_uid.as_str())) },
            Column { name: "workload_kind", nullable: true, doc: "the kind at the top of the pod's owner chain; null for a bare pod", get: Getter::Text(|r: &$t| r.0.workload_kind.as_deref()) },
            Column { name: "workload", nullable: true, doc: "that workload's name", get: Getter::Text(|r: &$t| r.0.workload.as_deref()) },
            Column { name: "revision", nullable: true, doc: "the workload revision the pod runs", get: Getter::Int(|r: &$t| r.0.revision) },
            Column { name: "time", nullable: true, doc: $time, get: Getter::Time(|r: &$t| r.0.time) },
            Column { name: "time_exact", nullable: false, doc: "whether `time` is exact (false: a re-list found it gone, or it predates the trace)", get: Getter::Bool(|r: &$t| Some(r.0.time_exact)) },
            Column { name: "reason", nullable: false, doc: "the reason as `analyze --pod` names it (`rollout`, `scale-up`, `replacement`, `eviction`, `external-delete`, `unknown`, …)", get: Getter::Text(|r: &$t| Some(r.0.reason.as_str())) },
            Column { name: "change_id", nullable: true, doc: "the blamed change (see `changes.change_id`)", get: Getter::Text(|r: &$t| r.0.change_id.as_deref()) },
            Column { name: "change_time", nullable: true, doc: "its time", get: Getter::Time(|r: &$t| r.0.change_time) },
            Column { name: "change_kind", nullable: true, doc: "its kind (`template`, `scale`, `create`, …)", get: Getter::Text(|r: &$t| r.0.change_kind.as_deref()) },
            Column { name: "change_manager", nullable: true, doc: "its field manager", get: Getter::Text(|r: &$t| r.0.change_manager.as_deref()) },
            Column { name: "change_user", nullable: true, doc: "its user, from an audit log", get: Getter::Text(|r: &$t| r.0.change_user.as_deref()) },
            Column { name: "change_object_kind", nullable: true, doc: "the changed object's kind", get: Getter::Text(|r: &$t| r.0.change_object_kind.as_deref()) },
            Column { name: "change_object", nullable: true, doc: "the changed object's name", get: Getter::Text(|r: &$t| r.0.change_object.as_deref()) },
            Column { name: $other, nullable: true, doc: "the other pod of the same slot", get: Getter::Text(|r: &$t| r.0.other_pod.as_deref()) },
            Column { name: "evidence", nullable: false, doc: "what the reason rests on, in words", get: Getter::Text(|r: &$t| Some(r.0.evidence.as_str())) },
        ]
    };
}

impl Table for Creation {
    const NAME: &'static str = "creations";
    const ROW: &'static str = "pod and why it was created (`analyze --pod`'s `created`)";
    fn columns() -> &'static [Column<Self>] {
        static COLUMNS: &[Column<Creation>] = turn_columns!(
            Creation,
            "replaced_pod",
            "when it was created; null when it predates the trace"
        );
        COLUMNS
    }
}

impl Table for Deletion {
    const NAME: &'static str = "deletions";
    const ROW: &'static str = "pod the trace saw go away, and why (`analyze --pod`'s `deleted`)";
    fn columns() -> &'static [Column<Self>] {
        static COLUMNS: &[Column<Deletion>] =
            turn_columns!(Deletion, "replaced_by", "when it began going away");
        COLUMNS
    }
}

impl Table for EventRow {
    const NAME: &'static str = "events";
    const ROW: &'static str = "occurrence of an Event (each increase of its count is one row)";
    fn columns() -> &'static [Column<Self>] {
        static COLUMNS: &[Column<EventRow>] = &[
            Column {
                name: "trace",
                nullable: false,
                doc: TRACE_DOC,
                get: Getter::Text(|r| Some(r.trace.as_str())),
            },
            col!(time "time", "when the trace saw it (the record's time)", time),
            col!(text "namespace", "the Event's namespace", namespace),
            col!(text "event", "the Event object's name", event),
            col!(text "event_type", "`Normal` or `Warning`", event_type),
            col!(text "reason", "the reason (`BackOff`, `Killing`, `FailedScheduling`)", reason),
            col!(text "message", "the message", message),
            col!(int "count", "the Event's count after this occurrence", count),
            col!(opt_text "object_kind", "the kind of the object it is about (`involvedObject`, `regarding`)", object_kind),
            col!(opt_text "object_name", "that object's name", object_name),
            col!(opt_text "object_uid", "that object's UID", object_uid),
            col!(opt_text "field_path", "`involvedObject.fieldPath`, e.g. `spec.containers{web}`", field_path),
            col!(opt_text "source", "the component that reported it (`source.component`, `reportingController`)", source),
            col!(int "record_line", "the trace line of the record", record_line),
        ];
        COLUMNS
    }
}

impl Table for ObjectRow {
    const NAME: &'static str = "objects";
    const ROW: &'static str = "object (one UID) the trace recorded";
    fn columns() -> &'static [Column<Self>] {
        static COLUMNS: &[Column<ObjectRow>] = &[
            Column {
                name: "trace",
                nullable: false,
                doc: TRACE_DOC,
                get: Getter::Text(|r| Some(r.trace.as_str())),
            },
            col!(text "uid", "UID", uid),
            col!(text "kind", "kind", kind),
            col!(text "api_version", "`apiVersion`", api_version),
            col!(text "namespace", "namespace (empty for cluster-scoped objects)", namespace),
            col!(text "name", "name", name),
            col!(opt_time "created", "`metadata.creationTimestamp`", created),
            col!(time "first_seen", "the time of its first record", first_seen),
            col!(time "last_seen", "the time of its last record", last_seen),
            col!(opt_time "deleted", "when it went away: the DELETED record, else the re-list that no longer listed it", deleted),
            col!(opt_bool "deleted_exact", "`deleted` is a DELETED record's time (false: a re-list's)", deleted_exact),
            col!(int "versions", "how many versions the trace recorded", versions),
            col!(opt_text "owner_kind", "its controlling owner's kind, at its last record", owner_kind),
            col!(opt_text "owner_name", "that owner's name", owner_name),
            col!(opt_text "owner_uid", "that owner's UID", owner_uid),
            col!(opt_text "labels", "its labels at its last record, as a JSON object", labels),
        ];
        COLUMNS
    }
}
