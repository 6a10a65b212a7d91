//! MplusKASSA through its Q-API (`shared/protocols/erp-and-suppliers.md` §3a): SOAP 1.1
//! document/literal in `urn:mplusqapi`, `ident` and `secret` in the endpoint's query. Reads
//! products (articles, paged by sync marker, changes since a time), customers (relations, paged
//! by sync marker), orders (paged by sync marker, with their lines, employee and buyer) and stock per
//! branch; writes products (`createProduct`/`updateProduct`,
//! numeric article numbers only), customers (`createRelation`/`updateRelation`) and stock
//! (`setStock`), B2B price lists (an article's prices per price group, `priceGroupList` with
//! `updateProduct`, see [`prices`]), and looks products and customers up for adoption. [`wire`] holds the system's value shapes, shared with the simulator.
#![forbid(unsafe_code)]
mod client;
mod prices;
mod source;
mod target;
pub mod wire;

#[cfg(test)]
mod tests;

use client::Client;
use tiltas_config::{EntityAccess, KeyKind, KeySpec, SystemSpec};
#[allow(unused_imports)] // tests name the contract as `crate::…`
use tiltas_connector::*;
use tiltas_connector::{ConnectorError, ErrorKind, OpenContext, Source, Target};
use tiltas_model::EntityKind;

const ACCESS: [EntityAccess; 7] = [
    EntityAccess {
        entity: EntityKind::Document,
        read: true,
        write: false,
        incremental: false,
    },
    EntityAccess {
        entity: EntityKind::Category,
        read: true,
        write: false,
        incremental: false,
    },
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
        entity: EntityKind::Order,
        read: true,
        write: false,
        incremental: false,
    },
    EntityAccess {
        entity: EntityKind::Stock,
        read: true,
        write: true,
        incremental: false,
    },
    EntityAccess::new(EntityKind::PriceList, false, true, false),
];

/// `system = "mplus"`.
pub static MPLUS: SystemSpec = SystemSpec {
    name: "mplus",
    description: "MplusKASSA point of sale through its Q-API (SOAP)",
    connection_keys: &[
        KeySpec {
            name: "base_url",
            kind: KeyKind::Url,
            required: true,
            default: None,
            doc: "the Q-API endpoint without its query, e.g. https://api.mpluskassa.nl:34567/",
        },
        KeySpec {
            name: "ident",
            kind: KeyKind::String,
            required: true,
            default: None,
            doc: "the API identity (`ident` in the query string)",
        },
        KeySpec {
            name: "secret",
            kind: KeyKind::Secret,
            required: true,
            default: None,
            doc: "the API secret (`secret` in the query string)",
        },
        KeySpec {
            name: "branch",
            kind: KeyKind::String,
            required: false,
            default: Some("1"),
            doc: "the branch (branchNumber) whose stock is read, and written when a stock record names no warehouse",
        },
        KeySpec {
            name: "sku_digits",
            kind: KeyKind::OneOf(&["refuse", "keep_digits"]),
            required: false,
            default: Some("refuse"),
            doc: "a SKU that is not all digits cannot be an article number: refuse it (a dead letter naming it) or keep its digits (LT-000123 becomes article 123, the SKU kept in extArticleId)",
        },
        KeySpec {
            name: "timeout",
            kind: KeyKind::Duration,
            required: false,
            default: Some("60s"),
            doc: "how long one call may take",
        },
    ],
    source_keys: &[KeySpec {
        name: "branch",
        kind: KeyKind::String,
        required: false,
        default: None,
        doc: "for stock: read this branch instead of the connection's",
    }],
    target_keys: &[KeySpec {
        name: "stock",
        kind: KeyKind::OneOf(&["available", "on_hand"]),
        required: false,
        default: Some("available"),
        doc: "for stock: the amount setStock sets — what can be sold (available, else on_hand less reserved) or all on hand",
    }],
    entities: &ACCESS,
    accounting: false,
    one_of: &[],
    needs: &[],
    money_places: None,
};

/// A MplusKASSA connection (`[connections.NAME]`), defaults from [`MPLUS`]'s spec.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct ConnectionSettings {
    pub base_url: String,
    pub ident: String,
    pub secret: tiltas_config::Secret,
    pub branch: String,
    pub sku_digits: String,
    pub timeout: std::time::Duration,
}

/// A flow's `to` on MplusKASSA.
#[derive(Debug, serde::Deserialize)]
struct TargetSettings {
    stock: String,
}

/// A flow's `from` on MplusKASSA.
#[derive(Debug, serde::Deserialize)]
struct SourceSettings {
    branch: Option<String>,
}

fn unsupported(what: &str, entity: EntityKind) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::Fatal,
        format!("the mplus connector does not {what} {entity}"),
    )
}

fn branch_number(text: &str) -> Result<i64, ConnectorError> {
    text.trim().parse::<i64>().map_err(|_| {
        ConnectorError::new(
            ErrorKind::Fatal,
            format!("branch \"{text}\" is not a MplusKASSA branch number: set `branch` to the number, e.g. \"1\""),
        )
    })
}

fn open_source(context: &OpenContext<'_>) -> Result<Box<dyn Source>, ConnectorError> {
    let connection: ConnectionSettings = context.connection_settings(&MPLUS)?;
    let settings: SourceSettings = context.endpoint_settings(MPLUS.source_keys)?;
    let client = Client::new(&connection, &context.connection.name, context.gate.clone())?;
    let reading = match context.entity {
        EntityKind::Product => source::Reading::Products,
        EntityKind::Customer => source::Reading::Relations,
        EntityKind::Order => source::Reading::Orders,
        EntityKind::Category => source::Reading::Groups,
        EntityKind::Document => source::Reading::Invoices,
        EntityKind::Stock => source::Reading::Stock {
            branch: branch_number(settings.branch.as_deref().unwrap_or(&connection.branch))?,
        },
        other => return Err(unsupported("read", other)),
    };
    Ok(Box::new(source::MplusSource { client, reading }))
}

fn open_target(context: &OpenContext<'_>) -> Result<Box<dyn Target>, ConnectorError> {
    let connection: ConnectionSettings = context.connection_settings(&MPLUS)?;
    let settings: TargetSettings = context.endpoint_settings(MPLUS.target_keys)?;
    let client = Client::new(&connection, &context.connection.name, context.gate.clone())?;
    let writing = match context.entity {
        EntityKind::Product => target::Writing::Products {
            keep_digits: connection.sku_digits == "keep_digits",
        },
        EntityKind::Customer => target::Writing::Relations,
        EntityKind::Stock => target::Writing::Stock {
            keep_digits: connection.sku_digits == "keep_digits",
            branch: branch_number(&connection.branch)?,
            sends_available: settings.stock == "available",
        },
        EntityKind::PriceList => target::Writing::PriceLists {
            keep_digits: connection.sku_digits == "keep_digits",
        },
        other => return Err(unsupported("write", other)),
    };
    Ok(Box::new(target::MplusTarget { client, writing }))
}

/// MplusKASSA as one system: its spec and how to open its sources and targets.
pub struct MplusSystem;

impl crate::System for MplusSystem {
    fn spec(&self) -> &'static SystemSpec {
        &MPLUS
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

tiltas_connector::test_registry!(&crate::MplusSystem, &tiltas_files::JsonlSystem);
