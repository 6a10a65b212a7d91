//! Connectors: the [`Source`] and [`Target`] traits every external system implements, the
//! [`registry`] that lists the systems, and one module per system (`file` for CSV and JSON
//! Lines feeds).
//!
//! Connectors never touch the store or the engine: the engine owns paging loops, retries,
//! acknowledgements and cursors.
#![forbid(unsafe_code)]

mod api;
pub mod file;
mod http;
pub mod reference;
pub mod registry;
pub mod rivile;
pub mod woocommerce;

pub use api::*;
