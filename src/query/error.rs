//! Questions a trace cannot answer: unknown objects, bad times, times outside the trace.

use jiff::Timestamp;

/// A query that cannot be answered from the trace (exit code 1), or whose arguments cannot be
/// understood (exit code 2, see [`QueryError::is_bad_argument`]).
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// No object of that kind and name (and namespace/UID) is in the trace.
    #[error("no {kind} {name} in the trace{}{}", suggestion_text(.near), pods_text(.pods_of.as_deref()))]
    NotFound {
        /// The kind asked for, lower case (`pod`, `deployment`).
        kind: String,
        /// What was asked for.
        name: String,
        /// Objects of that kind with similar names, `namespace/name`, then objects of other
        /// kinds with that very name, `kind/name (in namespace)`.
        near: Vec<String>,
        /// When a pod was asked for by the name of a workload: the workload and its pods.
        pods_of: Option<Box<PodsOf>>,
    },
    /// `KIND/NAME` names a kind kblame does not know and the trace does not hold.
    #[error("{0:?} is not KIND/NAME with a kind in the trace (e.g. deployment/web, pod/web-7c9f8d6b5-x2x7p)")]
    BadObject(String),
    /// A time that is neither RFC 3339 nor an offset.
    #[error("{text:?} is not a time: use RFC 3339 (2026-11-26T16:05:00Z), a time of day on the trace's day (16:05:00), or an offset from the trace's start (+5m) or end (-5m)")]
    BadTime {
        /// What was given.
        text: String,
    },
    /// A `--uid` prefix that more than one object's UID starts with.
    #[error("UID prefix {prefix} is ambiguous; give more of the UID:{}", candidate_text(.candidates))]
    AmbiguousUid {
        /// What was given.
        prefix: String,
        /// The objects it may mean: `KIND NAMESPACE/NAME UID`.
        candidates: Vec<String>,
    },
    /// A time of day that falls on more than one day of the trace.
    #[error("{text} is on {} days of the trace ({}): give the date, e.g. {example}", .days.len(), .days.join(", "))]
    AmbiguousTime {
        /// What was given.
        text: String,
        /// The days (`2026-11-26`) on which it lies inside the trace.
        days: Vec<String>,
        /// The time on the first of those days, in RFC 3339.
        example: String,
    },
    /// A time outside the trace.
    #[error("{time} is outside the trace, which runs from {start} to {end}")]
    OutsideTrace {
        /// The time asked for.
        time: Timestamp,
        /// The trace's first record.
        start: Timestamp,
        /// The trace's last record.
        end: Timestamp,
    },
    /// The trace holds no records at all.
    #[error("the trace holds no records")]
    EmptyTrace,
    /// The question does not apply to this object.
    #[error("{0}")]
    NotApplicable(String),
    /// An argument that cannot be understood, or arguments that do not go together.
    #[error("{0}")]
    BadArgument(String),
}

impl QueryError {
    /// Whether the arguments are at fault (exit code 2) rather than the trace unable to answer
    /// (exit code 1).
    pub fn is_bad_argument(&self) -> bool {
        matches!(
            self,
            QueryError::BadObject(_)
                | QueryError::BadTime { .. }
                | QueryError::AmbiguousTime { .. }
                | QueryError::AmbiguousUid { .. }
                | QueryError::BadArgument(_)
        )
    }
}

/// A workload (Deployment, ReplicaSet, StatefulSet, …) named where a pod was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodsOf {
    /// Its kind, lower case (`deployment`).
    pub kind: String,
    /// Its namespace (empty when cluster-scoped).
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// The names of the pods it controlled (directly or through ReplicaSets), the first few.
    pub pods: Vec<String>,
    /// How many more pods it controlled.
    pub more: usize,
}

fn pods_text(pods_of: Option<&PodsOf>) -> String {
    let Some(PodsOf {
        kind,
        namespace,
        name,
        pods,
        more,
    }) = pods_of
    else {
        return String::new();
    };
    let what = match namespace.is_empty() {
        true => format!("; {name} is a {kind}"),
        false => format!("; {name} is a {kind} ({namespace}/{name})"),
    };
    match (pods.is_empty(), more) {
        (true, _) => format!("{what}, with no pods in the trace"),
        (false, 0) => format!("{what}; its pods in the trace: {}", pods.join(", ")),
        (false, more) => format!(
            "{what}; its pods in the trace: {} and {more} more",
            pods.join(", ")
        ),
    }
}

fn suggestion_text(near: &[String]) -> String {
    if near.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", near.join(", "))
    }
}

/// How many candidates an ambiguous UID prefix lists.
const MAX_CANDIDATES: usize = 10;

fn candidate_text(candidates: &[String]) -> String {
    let mut text: String = candidates
        .iter()
        .take(MAX_CANDIDATES)
        .map(|candidate| format!("\n  {candidate}"))
        .collect();
    if let more @ 1.. = candidates.len().saturating_sub(MAX_CANDIDATES) {
        text.push_str(&format!("\n  and {more} more"));
    }
    text
}
