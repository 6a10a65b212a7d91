//! The contract between the engine and the systems it connects: the [`Source`] and [`Target`]
//! traits, [`System`] (a system as one value: spec, opening, webhooks), the [`Systems`] list a
//! build hands to the engine and the server, and the plumbing connectors share: [`http`] (client,
//! secrets, `Retry-After`, failure by status), [`soap`] (SOAP 1.1 envelopes and faults),
//! [`PartQuoter`] (a supplier asked about one part), [`oauth2`] (access tokens: client credentials, rotating refresh tokens), [`Backoff`] (the
//! retry policy inside a page) and [`filedrop`] (a folder of dropped files read by a
//! [`filedrop::FileDropSource`]: each new file imported once, then moved to `done/` or
//! `failed/`; a file system writes only its [`filedrop::FileParser`]) and [`vault`] (credentials
//! obtained at run time, such as rotated refresh tokens, kept by the host).
//!
//! Connectors never touch the store or the engine: the engine owns paging loops, retries,
//! acknowledgements and cursors.
#![forbid(unsafe_code)]

mod api;
mod backoff;
pub mod filedrop;
pub mod http;
pub mod oauth2;
mod quote;
pub mod soap;
mod system;
pub mod vault;

pub use api::*;
pub use backoff::*;
pub use quote::*;
pub use system::*;
