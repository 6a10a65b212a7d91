//! B1.lt (also site.pro My-Accounting) through its JSON API
//! (`shared/protocols/erp-and-suppliers.md` §2): signed requests ([`sign`]), B1's errors and
//! foreign keys in English ([`errors`]), and the connector: reads items, clients, stock per
//! warehouse and documents (sales invoices with their lines, payments); writes items, clients
//! and orders as sales invoices (through the engine's order pipeline: `accounting`).
//! The simulator is the sibling crate `tiltas-b1-sim`.
#![forbid(unsafe_code)]
mod client;
pub mod errors;
mod invoice;
mod payments;
mod read;
pub mod sign;
mod write;

#[cfg(test)]
mod tests;

pub use client::{ALLOWED_ROWS, PLATFORM, VERSION};
use tiltas_config::{EntityAccess, FieldNeed, KeyKind, KeySpec, MoneyPlaces, SystemSpec};
#[allow(unused_imports)] // modules of this crate name the contract as `crate::Source`
use tiltas_connector::*;
use tiltas_connector::{ConnectorError, ErrorKind, OpenContext, Source, Target};
use tiltas_model::EntityKind;

/// The B1 units of measurement by id, as `measurementUnitId` names them: Tiltas writes a
/// product's `unit` as the id of its name (`vnt` when unknown).
pub const UNITS: [(i64, &str); 5] = [(1, "vnt"), (2, "kg"), (3, "m"), (4, "l"), (5, "kompl")];

const ACCESS: [EntityAccess; 6] = [
    EntityAccess {
        entity: EntityKind::Product,
        read: true,
        write: true,
        incremental: true,
    },
    EntityAccess {
        entity: EntityKind::Customer,
        read: true,
        write: true,
        incremental: true,
    },
    EntityAccess {
        entity: EntityKind::Stock,
        read: true,
        write: false,
        incremental: true,
    },
    EntityAccess {
        entity: EntityKind::Order,
        read: false,
        write: true,
        incremental: false,
    },
    EntityAccess {
        entity: EntityKind::Document,
        read: true,
        write: false,
        incremental: true,
    },
    // Bank statement lines booked as payments against open sales invoices.
    EntityAccess::new(EntityKind::BankTransaction, false, true, false),
];

/// `system = "b1"`.
pub static B1: SystemSpec = SystemSpec {
    name: "b1",
    description: "B1.lt (site.pro My-Accounting) through its signed JSON API",
    connection_keys: &[
        KeySpec {
            name: "base_url",
            kind: KeyKind::Url,
            required: true,
            default: None,
            doc: "the API's address, e.g. https://www.b1.lt/api/",
        },
        KeySpec {
            name: "api_key",
            kind: KeyKind::Secret,
            required: true,
            default: None,
            doc: "the API key of the company's integration (Parametrai → Integracijos → API#2)",
        },
        KeySpec {
            name: "private_key",
            kind: KeyKind::Secret,
            required: true,
            default: None,
            doc: "the private key issued with the API key: signs every request (B1-Signature)",
        },
        KeySpec {
            name: "rows",
            kind: KeyKind::OneOf(&ALLOWED_ROWS),
            required: false,
            default: Some("500"),
            doc: "records per list page, from B1's allowed set; larger pages use fewer requests of the daily package",
        },
        KeySpec {
            name: "timeout",
            kind: KeyKind::Duration,
            required: false,
            default: Some("30s"),
            doc: "how long one request may take",
        },
    ],
    source_keys: &[
        KeySpec {
            name: "warehouse",
            kind: KeyKind::String,
            required: false,
            default: None,
            doc: "for stock: the warehouse (its id or name) whose stock is read; unset: every warehouse, one record per item and warehouse",
        },
        KeySpec {
            name: "documents",
            kind: KeyKind::OneOf(&["sales", "payments"]),
            required: false,
            default: Some("sales"),
            doc: "for documents: sales invoices with their lines, or payments received against them",
        },
    ],
    target_keys: &[
        KeySpec {
            name: "warehouse",
            kind: KeyKind::String,
            required: false,
            default: None,
            doc: "for orders: the warehouse (id or name) an invoice is booked in when the order names none",
        },
        KeySpec {
            name: "operation_type",
            kind: KeyKind::String,
            required: false,
            default: None,
            doc: "for orders: the id of the invoice's operation type (operationTypeId); unset: B1's default",
        },
        KeySpec {
            name: "shipping_name",
            kind: KeyKind::String,
            required: false,
            default: Some("Pristatymas"),
            doc: "for orders: the name of the invoice line that carries the shipping charge",
        },
    ],
    entities: &ACCESS,
    accounting: true,
    one_of: &[],
    needs: &[FieldNeed {
        entity: EntityKind::Order,
        field: "warehouse",
        target_key: Some("warehouse"),
        connection_key: None,
        why: "is a dead letter: B1 books every sale in a warehouse (warehouseId)",
    }],
    // Prices are kept with four decimals and sums with two [I].
    money_places: Some(MoneyPlaces {
        unit_price: 4,
        sum: 2,
    }),
};

/// A B1 connection (`[connections.NAME]`), defaults from [`B1`]'s spec.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct ConnectionSettings {
    pub base_url: String,
    pub api_key: tiltas_config::Secret,
    pub private_key: tiltas_config::Secret,
    pub rows: String,
    pub timeout: std::time::Duration,
}

/// A flow's `from` on B1.
#[derive(Debug, serde::Deserialize)]
struct SourceSettings {
    warehouse: Option<String>,
    documents: String,
}

/// A flow's `to` on B1.
#[derive(Debug, serde::Deserialize)]
struct TargetSettings {
    warehouse: Option<String>,
    operation_type: Option<String>,
    shipping_name: String,
}

/// Opens a source on a B1 connection.
fn open_source(context: &OpenContext<'_>) -> Result<Box<dyn Source>, ConnectorError> {
    let connection: ConnectionSettings = context.connection_settings(&B1)?;
    let settings: SourceSettings = context.endpoint_settings(B1.source_keys)?;
    let client = client::Client::new(&connection, context.gate.clone())?;
    let reading = match context.entity {
        EntityKind::Product => read::Reading::Items,
        EntityKind::Customer => read::Reading::Clients,
        EntityKind::Stock => read::Reading::Stock {
            warehouse: settings.warehouse,
        },
        EntityKind::Document if settings.documents == "payments" => read::Reading::Payments,
        EntityKind::Document => read::Reading::Sales,
        _ => return Err(context.unsupported("source")),
    };
    Ok(Box::new(read::B1Source::new(client, reading)))
}

/// Opens a target on a B1 connection.
fn open_target(context: &OpenContext<'_>) -> Result<Box<dyn Target>, ConnectorError> {
    let connection: ConnectionSettings = context.connection_settings(&B1)?;
    let settings: TargetSettings = context.endpoint_settings(B1.target_keys)?;
    let client = client::Client::new(&connection, context.gate.clone())?;
    let writing = match context.entity {
        EntityKind::Product => write::Writing::Items,
        EntityKind::Customer => write::Writing::Clients,
        EntityKind::Order => write::Writing::Invoices(invoice::InvoiceSettings {
            warehouse: settings.warehouse,
            operation_type: settings.operation_type,
            shipping_name: settings.shipping_name,
        }),
        EntityKind::BankTransaction => return Ok(Box::new(payments::PaymentsTarget::new(client))),
        _ => return Err(context.unsupported("target")),
    };
    Ok(Box::new(write::B1Target::new(client, writing)))
}

/// B1.lt as one system: its spec and how to open its sources and targets.
pub struct B1System;

impl crate::System for B1System {
    fn spec(&self) -> &'static SystemSpec {
        &B1
    }

    fn readme(&self) -> Option<tiltas_connector::Readme> {
        tiltas_connector::readme!()
    }

    fn open_source(&self, context: &OpenContext<'_>) -> Result<Box<dyn Source>, ConnectorError> {
        open_source(context)
    }

    fn open_target(&self, context: &OpenContext<'_>) -> Result<Box<dyn Target>, ConnectorError> {
        open_target(context)
    }
}

/// A failure of the connector's own making (a setting that cannot be used).
pub(crate) fn fatal(message: impl Into<String>) -> ConnectorError {
    ConnectorError::new(ErrorKind::Fatal, message)
}

tiltas_connector::test_registry!(&crate::B1System, &tiltas_files::JsonlSystem);
