//! The SDK against loopback servers: every operation, every documented status, the
//! outgoing requests, the errors of every kind, bad input, retries and the fault table.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod conformance;
mod errors;
mod files;
mod input;
#[path = "../common/json.rs"]
mod json;
mod operations;
mod people;
mod purge;
mod requests;
mod retries;
mod support;
mod workflow;
