//! Per-kind controller knowledge: Deployments and their revisions, ReplicaSet turnover, Pod restarts, Events.

pub mod deployment;
pub mod events;
pub mod pod;
pub mod replicaset;
pub mod turnover;
