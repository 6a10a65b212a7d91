//! Canonical business records: [`EntityKind`] names what a flow moves; the record types
//! (`Product`, `Customer`, `Order`, …) are what every connector reads and writes.
#![forbid(unsafe_code)]

mod entity;

pub use entity::EntityKind;
