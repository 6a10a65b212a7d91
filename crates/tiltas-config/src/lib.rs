//! Flow files (DESIGN §3): TOML with `[connections.NAME]` and `[[flows]]`, parsed and then
//! validated into [`ValidatedConfig`]. Every problem becomes a [`Diagnostic`] that prints as
//! `FILE:LINE:COL: message` and names the fix; all problems of a file are reported at once.
//! Warnings ([`Severity::Warning`], e.g. an order flow that names no warehouse a system needs)
//! do not refuse the file: they travel with it in [`ValidatedConfig::warnings`].
//!
//! What a system accepts is declared by its connector as a [`SystemSpec`] and looked up through
//! a [`Catalog`], so this crate knows no connector.
#![forbid(unsafe_code)]

mod diagnostic;
mod quote;
mod secret;
mod spec;
mod tree;
mod types;
mod validate;

pub use diagnostic::{Diagnostic, Diagnostics, Location, Severity};
pub use quote::{is_currency_code, QuoteSettings, RateSource, DEFAULT_QUOTE_BUDGET, ECB_DAILY_URL};
pub use secret::{Secret, SecretOrigin};
pub use spec::*;
pub use types::{
    format_duration, parse_duration, BudgetGroup, Connection, DuplicatePolicy, Endpoint, Expression, Flow, MapEntry,
    MapSource, OrderRules, RateLimit, Schedule, ServerSettings, SettingValue, Settings, SettingsMismatch, Trigger,
    ValidatedConfig, DEFAULT_MAX_INBOX_BACKLOG,
};
pub use validate::{load, parse_str};
