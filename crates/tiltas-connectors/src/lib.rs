//! The systems of this build, each in its folder: `file` (CSV and JSON Lines feeds),
//! `reference`, `rivile` and `woocommerce`, each implementing [`System`] from the contract
//! crate `tiltas-connector` (re-exported here), and the [`registry`] that lists them.
#![forbid(unsafe_code)]

pub mod file;
pub mod reference;
pub mod registry;
pub mod rivile;
pub mod woocommerce;

pub use tiltas_connector::*;
