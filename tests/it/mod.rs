//! Integration tests, one module per concern.

mod apiserver;
mod apiserver_selftest;
mod bad_input;
mod readme;
mod record;
mod reference;
mod scenarios;
mod support;
