//! Bus Market (bm.parts) through its REST API (`shared/protocols/erp-and-suppliers.md` §5): the
//! raw token in `Authorization`, product search paged to the end (products with UUIDs and
//! prices in the connection's currency), stock per warehouse (`in_stocks`), quotes for one part
//! (search by the maker's number → UUID → stock and current price), supplier invoices with
//! lines read incrementally by date as incoming documents, and orders placed as a cart that is
//! reserved — found again by the reserve's comment, so a retry never orders twice. Every
//! answer's rate-limit headers are reported to the connection's quota gauge.
#![forbid(unsafe_code)]
mod client;
mod quote;
mod read;
pub mod wire;
mod write;

#[cfg(test)]
mod tests;

use tiltas_config::{EntityAccess, KeyKind, KeySpec, SystemSpec};
#[allow(unused_imports)] // modules of this crate name the contract as `crate::Source`
use tiltas_connector::*;
use tiltas_connector::{ConnectorError, OpenContext, PartQuoter, Source, Target};
use tiltas_model::EntityKind;

const ACCESS: [EntityAccess; 5] = [
    EntityAccess::new(EntityKind::Product, true, false, false),
    EntityAccess::new(EntityKind::Stock, true, false, false),
    EntityAccess::new(EntityKind::SupplierOffer, true, false, false),
    EntityAccess::new(EntityKind::Document, true, false, true),
    EntityAccess::new(EntityKind::Order, false, true, false),
];

/// `system = "busmarket"`.
pub static BUSMARKET: SystemSpec = SystemSpec {
    name: "busmarket",
    description: "Bus Market (parts supplier, bm.parts) through its REST API: search, stock per warehouse, prices in a currency, carts → reserves, invoices",
    connection_keys: &[
        KeySpec::new("base_url", KeyKind::Url, false, Some("https://api.bm.parts"), "the API's address"),
        KeySpec::new("token", KeyKind::Secret, true, None, "the API token Bus Market issued (sent as it is in `Authorization`)"),
        KeySpec::new("currency", KeyKind::OneOf(&["EUR", "UAH", "PLN"]), false, Some("EUR"), "the currency prices are asked in"),
        KeySpec::new("warehouse", KeyKind::String, false, None, "the warehouse (name such as `KYIV`, or its uuid) stock is read for and orders are reserved at; unset: stock of every warehouse"),
        KeySpec::new("timeout", KeyKind::Duration, false, Some("30s"), "how long one request may take"),
    ],
    source_keys: &[
        KeySpec::new("search", KeyKind::String, false, None, "for products, stock and offers: the search text (`q`) whose results are read; unset: the whole assortment"),
        KeySpec::new("counterparty", KeyKind::String, false, Some("BUSMARKET"), "for documents: the supplier's code in the ERP, written as each invoice's counterparty"),
        KeySpec::new("warehouse", KeyKind::String, false, None, "for documents: the ERP warehouse the goods are received into"),
        KeySpec::new("since", KeyKind::Integer, false, Some("90"), "for documents: on the first run, how many days back invoices are read"),
    ],
    target_keys: &[
        KeySpec::new("lookback_pages", KeyKind::Integer, false, Some("10"), "for orders: how many pages (of 100, newest first) of reserves are searched for one with the order's number before ordering"),
    ],
    entities: &ACCESS,
    accounting: false,
    one_of: &[],
    needs: &[],
    money_places: None,
};

/// A Bus Market connection (`[connections.NAME]`), defaults from [`BUSMARKET`]'s spec.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct ConnectionSettings {
    pub base_url: String,
    pub token: tiltas_config::Secret,
    pub currency: String,
    pub warehouse: Option<String>,
    pub timeout: std::time::Duration,
}

/// A flow's `from` on Bus Market.
#[derive(Debug, serde::Deserialize)]
struct SourceSettings {
    search: Option<String>,
    counterparty: String,
    warehouse: Option<String>,
    since: i64,
}

/// A flow's `to` on Bus Market.
#[derive(Debug, serde::Deserialize)]
struct TargetSettings {
    lookback_pages: i64,
}

fn client_of(context: &OpenContext<'_>) -> Result<client::Client, ConnectorError> {
    let connection: ConnectionSettings = context.connection_settings(&BUSMARKET)?;
    client::Client::new(&context.connection.name, &connection, context.gate.clone())
}

fn open_source(context: &OpenContext<'_>) -> Result<Box<dyn Source>, ConnectorError> {
    context.check_access(&BUSMARKET, false)?;
    let settings: SourceSettings = context.endpoint_settings(BUSMARKET.source_keys)?;
    let search = settings.search.unwrap_or_default();
    let reading = match context.entity {
        EntityKind::Product => read::Reading::Products { search },
        EntityKind::Stock => read::Reading::Stock { search },
        EntityKind::SupplierOffer => read::Reading::Offers { search },
        EntityKind::Document => read::Reading::Invoices {
            counterparty: settings.counterparty,
            warehouse: settings.warehouse,
            since_days: settings.since.max(0),
        },
        _ => return Err(context.unsupported("source")),
    };
    Ok(Box::new(read::BusmarketSource::new(client_of(context)?, reading)))
}

fn open_target(context: &OpenContext<'_>) -> Result<Box<dyn Target>, ConnectorError> {
    context.check_access(&BUSMARKET, true)?;
    let settings: TargetSettings = context.endpoint_settings(BUSMARKET.target_keys)?;
    if context.entity != EntityKind::Order {
        return Err(context.unsupported("target"));
    }
    Ok(Box::new(write::ReserveTarget::new(
        client_of(context)?,
        settings.lookback_pages.clamp(1, 1000) as usize,
    )?))
}

/// Bus Market as one system: its spec and how to open its sources, targets and quoter.
pub struct BusmarketSystem;

impl crate::System for BusmarketSystem {
    fn spec(&self) -> &'static SystemSpec {
        &BUSMARKET
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

    fn open_quoter(&self, context: &OpenContext<'_>) -> Result<Box<dyn PartQuoter>, ConnectorError> {
        Ok(Box::new(quote::Quoter::new(client_of(context)?)))
    }

    fn quotes(&self) -> bool {
        true
    }
}

tiltas_connector::test_registry!(
    &crate::BusmarketSystem,
    &tiltas_smartup::SmartupSystem,
    &tiltas_files::JsonlSystem
);
