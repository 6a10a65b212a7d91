//! Rivile GAMA through the Manorivile API v2 (`shared/protocols/erp-and-suppliers.md` §1).
//! This increment: the `fil` parser, the table schemas and the gateway simulator's read side;
//! the connector follows.
pub mod fil;
pub mod schema;
pub mod simulator;
