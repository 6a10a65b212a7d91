//! Parts suppliers without an API publish files: a price and stock list (CSV or XLSX, one row
//! per part by article number and brand, stock in one column per branch) and invoice lines,
//! and take orders as files. What such suppliers share lives here, each supplier describing
//! only its layouts ([`Supplier`]):
//!
//! - [`table`]: a file as rows of cells with their line — CSV separated by `;`, `,` or tabs,
//!   UTF-8 with or without a byte-order mark, or an XLSX workbook's first sheet — and numbers
//!   with a decimal comma or point;
//! - [`layout`]: a supplier's columns and its price list's rows, a bad row a [`RowProblem`]
//!   naming its line and column;
//! - [`FeedConnection`]: where the feeds are (a folder, or a URL fetched with the supplier's
//!   credentials) and the sources on them: [`PriceSource`] (products, stock per branch, offers
//!   from the newest price list), [`invoice_source`] (invoices as incoming receipts, each file
//!   imported once), [`FeedQuoter`] (quotes from the last feed) and [`OrderTarget`] (order
//!   files named by the order's number, placed exactly once);
//! - [`xlsx`]: writing a one-sheet workbook, for simulators and tests.
#![forbid(unsafe_code)]

mod connection;
mod invoice;
mod invoices;
pub mod layout;
mod orders;
mod prices;
mod quote;
mod records;
#[cfg(feature = "sim")]
pub mod sim;
pub mod system;
pub mod table;
pub mod xlsx;

#[cfg(test)]
mod tests;

pub use connection::{Credentials, FeedConnection, Location};
pub use invoice::Receiving;
pub use invoices::invoice_source;
pub use layout::{FeedOffer, InvoiceLayout, OrderField, OrderLayout, PriceLayout, RowProblem, Supplier};
pub use orders::{order_file_name, OrderTarget};
pub use prices::{LoadedFeed, PriceSource};
pub use quote::{FeedQuoter, REFETCH_AFTER};
pub use records::{row_failure, supplier_offer, FeedFile, Reading};
