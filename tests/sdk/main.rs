//! The SDK against loopback servers: every operation, every documented status, the
//! outgoing requests, the errors of every kind, and bad input.

mod errors;
mod input;
mod operations;
mod requests;
mod support;
