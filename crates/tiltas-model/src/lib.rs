//! Canonical business records: [`EntityKind`] names what a flow moves; the record types
//! (`Product`, `Customer`, `Order`, …) are what every connector reads and writes;
//! [`fields`] catalogues their field paths and types; [`validate_json`] checks a record and
//! names every wrong field.
#![forbid(unsafe_code)]

mod entity;
pub mod fields;
mod invoice;
mod lenient;
pub mod parts;
mod records;
mod validate;

pub use entity::EntityKind;
pub use invoice::{check_order_totals, invoice_sums, line_net, line_vat, unit_price, InvoiceSums};
pub use records::*;
pub use validate::{
    is_valid_gtin, natural_key, natural_key_fields, validate_json, FieldError, Validate, ValidationErrors,
};
