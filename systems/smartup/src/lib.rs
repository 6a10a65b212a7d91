//! Smartup ERP (smartup.online, Green White) through its `$export` / `$import` API
//! (`shared/protocols/erp-and-suppliers.md` §4): the wire protocol both sides speak
//! ([`wire`]), the client (Basic auth, `project_code` / `filial_id`, daily quotas read from
//! every answer's `limits`, Smartup's errors) and the connector: reads items (with a price
//! type's prices), legal and natural persons, warehouse balances, orders in the exported
//! statuses and the other documents; writes items, persons, orders (through the engine's
//! order pipeline) and customer payments. The company's integration settings
//! (`shared/seeds/002_…`) are read at the first call of every source and target and checked
//! against the flow. The simulator is the sibling crate `tiltas-smartup-sim`.
#![forbid(unsafe_code)]
mod client;
mod read;
mod records;
pub mod wire;
mod write;

#[cfg(test)]
mod tests;

use tiltas_config::{EntityAccess, KeyKind, KeySpec, MoneyPlaces, SystemSpec};
#[allow(unused_imports)] // modules of this crate name the contract as `crate::Source`
use tiltas_connector::*;
use tiltas_connector::{ConnectorError, ErrorKind, OpenContext, Source, Target};
use tiltas_model::EntityKind;

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
        read: true,
        write: true,
        incremental: true,
    },
    // Price types carry no change time: a price list is read whole.
    EntityAccess {
        entity: EntityKind::PriceList,
        read: true,
        write: false,
        incremental: false,
    },
    EntityAccess {
        entity: EntityKind::Document,
        read: true,
        write: true,
        incremental: true,
    },
];

/// The document types a `documents` key names.
const DOCUMENT_TYPES: [&str; 9] = [
    "order_return",
    "input",
    "movement",
    "purchase",
    "return",
    "stocktaking",
    "writeoff",
    "payment",
    "cash",
];

/// `system = "smartup"`.
pub static SMARTUP: SystemSpec = SystemSpec {
    name: "smartup",
    description: "Smartup ERP (smartup.online) through its $export/$import API",
    connection_keys: &[
        KeySpec {
            name: "base_url",
            kind: KeyKind::Url,
            required: true,
            default: None,
            doc: "the company's address, e.g. https://smartup.online or https://app3.greenwhite.uz/xtrade",
        },
        KeySpec {
            name: "login",
            kind: KeyKind::String,
            required: true,
            default: None,
            doc: "the API user as user@company (sent with the password as HTTP Basic)",
        },
        KeySpec {
            name: "password",
            kind: KeyKind::Secret,
            required: true,
            default: None,
            doc: "the API user's password",
        },
        KeySpec {
            name: "filial_id",
            kind: KeyKind::String,
            required: false,
            default: None,
            doc: "the organisation (filial) worked in, sent as the filial_id header; unset: the one the user logs in to",
        },
        KeySpec {
            name: "filial_code",
            kind: KeyKind::String,
            required: false,
            default: None,
            doc: "in a head organisation: the branch read and written (filial_code in the body); unset: every branch",
        },
        KeySpec {
            name: "project_code",
            kind: KeyKind::OneOf(&["trade", "anor"]),
            required: false,
            default: Some("trade"),
            doc: "the project_code header",
        },
        KeySpec {
            name: "code",
            kind: KeyKind::OneOf(&["global", "local"]),
            required: false,
            default: None,
            doc: "the item code the flows identify items by; checked against the company's «Использует код» at the first call (a mismatch stops the run); unset: the company's",
        },
        KeySpec {
            name: "timeout",
            kind: KeyKind::Duration,
            required: false,
            default: Some("60s"),
            doc: "how long one request may take",
        },
    ],
    source_keys: &[
        KeySpec {
            name: "price_type",
            kind: KeyKind::String,
            required: false,
            default: None,
            doc: "for products: the price type (its code, e.g. RETAIL) whose prices become the products' prices (with VAT)",
        },
        KeySpec {
            name: "warehouse",
            kind: KeyKind::String,
            required: false,
            default: None,
            doc: "for stock: the warehouse code whose balances are read; unset: every warehouse, one record per item and warehouse",
        },
        KeySpec {
            name: "statuses",
            kind: KeyKind::StringList,
            required: false,
            default: None,
            doc: "for orders: the statuses read (D, N, B, A, C); combined with the company's exported statuses, the stricter wins",
        },
        KeySpec {
            name: "documents",
            kind: KeyKind::OneOf(&DOCUMENT_TYPES),
            required: false,
            default: Some("input"),
            doc: "for documents: the document type read",
        },
    ],
    target_keys: &[
        KeySpec {
            name: "duplicate_check",
            kind: KeyKind::OneOf(&["error", "update", "skip"]),
            required: false,
            default: None,
            doc: "for orders and documents: the duplicate check the flow expects; checked against the company's setting for the document type at the first write (a mismatch stops the run); unset: the company's",
        },
        KeySpec {
            name: "status",
            kind: KeyKind::OneOf(&["D", "N", "B", "A", "C"]),
            required: false,
            default: Some("N"),
            doc: "for orders: the status an order is imported in",
        },
        KeySpec {
            name: "warehouse",
            kind: KeyKind::String,
            required: false,
            default: None,
            doc: "for orders and receipts: the warehouse code a document is booked in when it names none",
        },
        KeySpec {
            name: "documents",
            kind: KeyKind::OneOf(&["payment", "input"]),
            required: false,
            default: Some("payment"),
            doc: "for documents: the document type written: customer payments, or incoming receipts (input, e.g. supplier invoices)",
        },
    ],
    entities: &ACCESS,
    accounting: true,
    one_of: &[],
    needs: &[],
    // Amounts in sums (UZS) with two decimals [I].
    money_places: Some(MoneyPlaces::all(2)),
};

/// A Smartup connection (`[connections.NAME]`), defaults from [`SMARTUP`]'s spec.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct ConnectionSettings {
    pub base_url: String,
    pub login: String,
    pub password: tiltas_config::Secret,
    pub filial_id: Option<String>,
    pub filial_code: Option<String>,
    pub project_code: String,
    pub code: Option<String>,
    pub timeout: std::time::Duration,
}

/// A flow's `from` on Smartup.
#[derive(Debug, serde::Deserialize)]
struct SourceSettings {
    price_type: Option<String>,
    warehouse: Option<String>,
    statuses: Option<Vec<String>>,
    documents: String,
}

/// A flow's `to` on Smartup.
#[derive(Debug, serde::Deserialize)]
struct TargetSettings {
    duplicate_check: Option<String>,
    status: String,
    warehouse: Option<String>,
    documents: String,
}

fn client(context: &OpenContext<'_>) -> Result<client::Client, ConnectorError> {
    let connection: ConnectionSettings = context.connection_settings(&SMARTUP)?;
    client::Client::new(&connection, &context.connection.name, context.gate.clone())
}

/// Opens a source on a Smartup connection; the company's settings are read at its first page.
fn open_source(context: &OpenContext<'_>) -> Result<Box<dyn Source>, ConnectorError> {
    let settings: SourceSettings = context.endpoint_settings(SMARTUP.source_keys)?;
    let client = client(context)?;
    let reading = match context.entity {
        EntityKind::Product => read::Reading::Items {
            price_type: settings.price_type,
        },
        EntityKind::Customer => read::Reading::Customers,
        EntityKind::Stock => read::Reading::Stock {
            warehouse: settings.warehouse,
        },
        EntityKind::Order => read::Reading::Orders {
            statuses: settings.statuses,
        },
        EntityKind::PriceList => read::Reading::PriceLists,
        EntityKind::Document => read::Reading::Documents(
            wire::document(&settings.documents)
                .ok_or_else(|| fatal(format!("unknown document type {:?}", settings.documents)))?,
        ),
        _ => return Err(context.unsupported("source")),
    };
    Ok(Box::new(read::SmartupSource::new(client, reading)))
}

/// Opens a target on a Smartup connection; the company's settings are read at its first write.
fn open_target(context: &OpenContext<'_>) -> Result<Box<dyn Target>, ConnectorError> {
    let settings: TargetSettings = context.endpoint_settings(SMARTUP.target_keys)?;
    let client = client(context)?;
    let expected = settings
        .duplicate_check
        .as_deref()
        .and_then(wire::DuplicateCheck::parse);
    let writing = match context.entity {
        EntityKind::Product => write::Writing::Items,
        EntityKind::Customer => write::Writing::Customers,
        EntityKind::Order => write::Writing::Orders {
            status: settings.status,
            warehouse: settings.warehouse,
        },
        EntityKind::Document if settings.documents == "input" => write::Writing::Receipts {
            warehouse: settings.warehouse,
        },
        EntityKind::Document => write::Writing::Payments,
        _ => return Err(context.unsupported("target")),
    };
    Ok(Box::new(write::SmartupTarget::new(client, writing, expected)))
}

/// Smartup as one system: its spec and how to open its sources and targets.
pub struct SmartupSystem;

impl crate::System for SmartupSystem {
    fn spec(&self) -> &'static SystemSpec {
        &SMARTUP
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

tiltas_connector::test_registry!(&crate::SmartupSystem, &tiltas_files::JsonlSystem);
