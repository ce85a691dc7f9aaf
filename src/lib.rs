//! kblame: `git blame` for a Kubernetes cluster.
//!
//! A recorded trace of what the API server said is replayed offline into a
//! per-object history and a causal graph, which the queries read to answer why
//! pods were created, restarted and removed, and which change made them.
#![deny(missing_docs)]

pub mod admission;
pub mod cause;
pub mod export;
pub mod files;
pub mod graph;
pub mod history;
pub mod import;
pub mod index;
pub mod query;
#[cfg(feature = "record")]
pub mod record;
pub mod redact;
pub mod render;
pub mod timings;
pub mod trace;
pub mod workload;
