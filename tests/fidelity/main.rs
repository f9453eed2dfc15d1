//! Fidelity: the SDK and the fake against what Tallyfy really sends.
//!
//! - `corpus`: every example answer Tallyfy's API documentation shows for the spec's
//!   operations decodes with the operation's generated types, loses nothing, and
//!   validates against the spec;
//! - `fake`: every answer of the fake validates against the same schemas and has the
//!   corpus's shapes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod corpus;
mod fake;
#[path = "../common/json.rs"]
mod json;
mod schema;
