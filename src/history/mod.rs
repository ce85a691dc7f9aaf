//! Replay and field-level history: versions per UID, paths, JSON diffs and managedFields ownership.
pub mod diff;
pub mod lines;
pub mod managed_fields;
pub mod meta;
pub mod path;
mod store;

pub use store::{
    BodyRef, GapInfo, Gone, History, ObjectHistory, ObjectId, SyncInfo, TraceFacts, Version,
};
