//! Integration tests, one module per concern.

mod apiserver;
mod apiserver_selftest;
mod bad_input;
mod blame;
mod commands;
mod index;
mod readme;
mod record;
mod record_faults;
mod record_redaction;
mod reference;
mod rollout;
mod scenarios;
mod support;
mod timeline;
mod tree_diff;
