//! The contract between the engine and the systems it connects: the [`Source`] and [`Target`]
//! traits, [`System`] (a system as one value: spec, opening, webhooks), the [`Systems`] list a
//! build hands to the engine and the server, and the plumbing connectors share ([`http`]).
//!
//! Connectors never touch the store or the engine: the engine owns paging loops, retries,
//! acknowledgements and cursors.
#![forbid(unsafe_code)]

mod api;
pub mod http;
mod system;

pub use api::*;
pub use system::*;
