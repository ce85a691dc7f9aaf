//! Integration tests, one module per concern.

mod bad_input;
mod readme;
mod reference;
mod scenarios;
mod support;
