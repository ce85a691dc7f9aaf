//! Per-kind controller knowledge: lineage, the workload kinds, Deployments and their revisions, ReplicaSet turnover, Pod restarts, Events.

pub mod attribution;
pub mod changes;
pub mod conditions;
pub mod controller_revision;
pub mod deployment;
pub mod events;
pub mod kinds;
pub mod lineage;
pub mod pod;
pub mod replicaset;
pub mod turnover;

use jiff::SignedDuration;

/// How far apart in receive time two causally ordered records of different resources may land
/// in the wrong order.
///
/// Each resource is watched on its own stream, so a pod deletion can be received a few
/// milliseconds before the ReplicaSet update that caused it, and a ReplicaSet update before the
/// Deployment change behind it. Within one resource the API server's order is kept.
pub const WATCH_SKEW: SignedDuration = SignedDuration::from_secs(1);

/// `ts` moved by `by`, stopping at the first or last time jiff can represent: a hostile trace can
/// carry times at those limits, where plain `+` and `-` panic.
pub fn shifted(ts: jiff::Timestamp, by: SignedDuration) -> jiff::Timestamp {
    ts.saturating_add(by).unwrap_or(ts)
}
