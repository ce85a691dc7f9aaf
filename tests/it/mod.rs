//! Integration tests, one module per concern.

mod apiserver;
mod apiserver_selftest;
mod arguments;
mod bad_input;
mod blame;
mod commands;
mod fuzz;
mod get;
mod hostile_shapes;
mod index;
mod jobs;
mod limits;
mod readme;
mod record;
mod record_faults;
mod record_redaction;
mod reference;
mod replay_invariants;
mod rollout;
mod scenarios;
mod small_things;
mod support;
mod timeline;
mod tree_diff;
mod values;
mod workloads;
