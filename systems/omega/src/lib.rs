//! Omega (omega.page, Ukraine) through its public API (`shared/protocols/erp-and-suppliers.md`
//! §5): every call a `POST` with the connection's `key` in the body, errors as `Success: false`
//! inside HTTP 200 (a refused key or a key used from another IP address is an auth error naming
//! `key`; anything else fails the one part or record with Omega's words). It reads the product
//! list page by page (`product/search` by `From`/`Count`, with warehouse rests) as products,
//! stock per warehouse and supplier offers; expense documents (the supplier's sales invoices)
//! by date with their lines as incoming documents; it places orders through the basket
//! (`basket/clear`, `basket/addProductList`, `order/create`) exactly once, finding an order
//! made before by the order's number in its comment; and it answers quotes for one part
//! (`product/searchBrand` by the maker's number and brand).
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

/// `system = "omega"`.
pub static OMEGA: SystemSpec = SystemSpec {
    name: "omega",
    description: "Omega (omega.page, parts supplier): search by code and brand, warehouse rests, prices, orders, expense invoices",
    connection_keys: &[
        KeySpec::new("base_url", KeyKind::Url, false, Some("https://public.omega.page/public/api/v1.0"), "the API's address (…/public/api/v1.0)"),
        KeySpec::new("key", KeyKind::Secret, true, None, "the key (token) Omega issued for this account and for the IP address Tiltas connects from"),
        KeySpec::new("currency", KeyKind::String, false, Some("UAH"), "the currency of the account's prices, for answers that do not name one"),
        KeySpec::new("branch", KeyKind::String, false, None, "the Omega warehouse (`Киев`) stock and offers are read for, as Omega names it in `Rests`; unset: every warehouse"),
        KeySpec::new("vat_percent", KeyKind::Integer, false, Some("20"), "VAT rate in percent: offers' gross prices and invoice lines' net prices are derived with it"),
        KeySpec::new("timeout", KeyKind::Duration, false, Some("30s"), "how long one request may take"),
    ],
    source_keys: &[
        KeySpec::new("counterparty", KeyKind::String, false, Some("OMEGA"), "for documents: the supplier's code in the ERP, written as each invoice's counterparty"),
        KeySpec::new("warehouse", KeyKind::String, false, None, "for documents: the ERP warehouse the goods are received into"),
        KeySpec::new("since", KeyKind::Integer, false, Some("90"), "for documents: on the first run, how many days back invoices are read"),
    ],
    target_keys: &[
        KeySpec::new("lookback_days", KeyKind::Integer, false, Some("30"), "for orders: how many days of Omega's orders are searched for one with the order's number before placing it"),
    ],
    entities: &ACCESS,
    accounting: false,
    one_of: &[],
    needs: &[],
    money_places: None,
};

/// An Omega connection (`[connections.NAME]`), defaults from [`OMEGA`]'s spec.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct ConnectionSettings {
    pub base_url: String,
    pub key: tiltas_config::Secret,
    pub currency: String,
    pub branch: Option<String>,
    pub vat_percent: i64,
    pub timeout: std::time::Duration,
}

/// A flow's `from` on Omega.
#[derive(Debug, serde::Deserialize)]
struct SourceSettings {
    counterparty: String,
    warehouse: Option<String>,
    since: i64,
}

/// A flow's `to` on Omega.
#[derive(Debug, serde::Deserialize)]
struct TargetSettings {
    lookback_days: i64,
}

fn client_of(context: &OpenContext<'_>) -> Result<client::Client, ConnectorError> {
    let connection: ConnectionSettings = context.connection_settings(&OMEGA)?;
    client::Client::new(&context.connection.name, &connection, context.gate.clone())
}

fn open_source(context: &OpenContext<'_>) -> Result<Box<dyn Source>, ConnectorError> {
    context.check_access(&OMEGA, false)?;
    let settings: SourceSettings = context.endpoint_settings(OMEGA.source_keys)?;
    let reading = match context.entity {
        EntityKind::Product => read::Reading::Products,
        EntityKind::Stock => read::Reading::Stock,
        EntityKind::SupplierOffer => read::Reading::Offers,
        EntityKind::Document => read::Reading::Invoices {
            counterparty: settings.counterparty,
            warehouse: settings.warehouse,
            since_days: settings.since.max(0),
        },
        _ => return Err(context.unsupported("source")),
    };
    Ok(Box::new(read::OmegaSource::new(client_of(context)?, reading)))
}

fn open_target(context: &OpenContext<'_>) -> Result<Box<dyn Target>, ConnectorError> {
    context.check_access(&OMEGA, true)?;
    let settings: TargetSettings = context.endpoint_settings(OMEGA.target_keys)?;
    if context.entity != EntityKind::Order {
        return Err(context.unsupported("target"));
    }
    Ok(Box::new(write::OrderTarget {
        client: client_of(context)?,
        lookback_days: settings.lookback_days.max(1),
    }))
}

/// Omega as one system: its spec and how to open its sources, targets and quoter.
pub struct OmegaSystem;

impl crate::System for OmegaSystem {
    fn spec(&self) -> &'static SystemSpec {
        &OMEGA
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
        Ok(Box::new(quote::OmegaQuoter {
            client: client_of(context)?,
        }))
    }

    fn quotes(&self) -> bool {
        true
    }
}

tiltas_connector::test_registry!(
    &crate::OmegaSystem,
    &tiltas_smartup::SmartupSystem,
    &tiltas_files::JsonlSystem
);
