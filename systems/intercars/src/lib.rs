//! Inter Cars through its IC API (`shared/protocols/erp-and-suppliers.md` §5): OAuth2 client
//! credentials (a token cached until it expires, renewed once on a 401), the catalogue paged to
//! the end, stock per branch for the catalogue's SKUs in calls of ≤ 100, supplier offers (price
//! quotes in calls of ≤ 20 joined with stock), supplier invoices with lines read incrementally
//! by issue date as incoming documents, and orders written as requisitions (create, then
//! confirm) that a retry finds again by `customNumber` instead of ordering twice.
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

/// `system = "intercars"`.
pub static INTERCARS: SystemSpec = SystemSpec {
    name: "intercars",
    description: "Inter Cars (parts supplier) through the IC API: catalogue, stock per branch, price quotes, requisitions, invoices",
    connection_keys: &[
        KeySpec::new("base_url", KeyKind::Url, false, Some("https://api.webapi.intercars.eu/ic"), "the API's address (…/ic)"),
        KeySpec::new("token_url", KeyKind::Url, false, Some("https://is.webapi.intercars.eu/oauth2/token"), "the OAuth2 token endpoint"),
        KeySpec::new("client_id", KeyKind::String, true, None, "the ClientID Inter Cars sent"),
        KeySpec::new("client_secret", KeyKind::Secret, true, None, "the ClientSecret Inter Cars sent"),
        KeySpec::new("client_auth", KeyKind::OneOf(&["basic", "form"]), false, Some("form"), "how the client id and secret reach the token endpoint: an HTTP Basic header or form fields"),
        KeySpec::new("scope", KeyKind::String, false, None, "the OAuth2 scope to ask for (`allinone` on some accounts)"),
        KeySpec::new("location", KeyKind::String, false, None, "the branch (`POZ`) stock and offers are read for; unset: every branch"),
        KeySpec::new("ship_to", KeyKind::String, false, None, "Master accounts: the customer number goods go to (`shipTo`)"),
        KeySpec::new("timeout", KeyKind::Duration, false, Some("30s"), "how long one request may take"),
    ],
    source_keys: &[
        KeySpec::new("counterparty", KeyKind::String, false, Some("INTERCARS"), "for documents: the supplier's code in the ERP, written as each invoice's counterparty"),
        KeySpec::new("warehouse", KeyKind::String, false, None, "for documents: the ERP warehouse the goods are received into"),
        KeySpec::new("since", KeyKind::Integer, false, Some("90"), "for documents: on the first run, how many days back invoices are read"),
    ],
    target_keys: &[
        KeySpec::new("delivery_method", KeyKind::String, false, None, "for orders: `deliveryMethod` (5 Xpress, 6 parcel lockers); unset: the customer card's default"),
        KeySpec::new("confirm", KeyKind::Bool, false, Some("true"), "for orders: confirm each requisition so it becomes an order (false leaves it for a person to confirm in the portal)"),
        KeySpec::new("lookback_days", KeyKind::Integer, false, Some("30"), "for orders: how many days of requisitions are searched for one with the order's number before creating it"),
    ],
    entities: &ACCESS,
    accounting: false,
    one_of: &[],
    needs: &[],
    money_places: None,
};

/// An Inter Cars connection (`[connections.NAME]`), defaults from [`INTERCARS`]'s spec.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct ConnectionSettings {
    pub base_url: String,
    pub token_url: String,
    pub client_id: String,
    pub client_secret: tiltas_config::Secret,
    pub client_auth: String,
    pub scope: Option<String>,
    pub location: Option<String>,
    pub ship_to: Option<String>,
    pub timeout: std::time::Duration,
}

/// A flow's `from` on Inter Cars.
#[derive(Debug, serde::Deserialize)]
struct SourceSettings {
    counterparty: String,
    warehouse: Option<String>,
    since: i64,
}

/// A flow's `to` on Inter Cars.
#[derive(Debug, serde::Deserialize)]
struct TargetSettings {
    delivery_method: Option<String>,
    confirm: bool,
    lookback_days: i64,
}

fn open_source(context: &OpenContext<'_>) -> Result<Box<dyn Source>, ConnectorError> {
    context.check_access(&INTERCARS, false)?;
    let connection: ConnectionSettings = context.connection_settings(&INTERCARS)?;
    let settings: SourceSettings = context.endpoint_settings(INTERCARS.source_keys)?;
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
    let client = client::Client::new(&context.connection.name, &connection, context.gate.clone())?;
    Ok(Box::new(read::IntercarsSource::new(client, reading)))
}

fn open_target(context: &OpenContext<'_>) -> Result<Box<dyn Target>, ConnectorError> {
    context.check_access(&INTERCARS, true)?;
    let connection: ConnectionSettings = context.connection_settings(&INTERCARS)?;
    let settings: TargetSettings = context.endpoint_settings(INTERCARS.target_keys)?;
    if context.entity != EntityKind::Order {
        return Err(context.unsupported("target"));
    }
    let client = client::Client::new(&context.connection.name, &connection, context.gate.clone())?;
    Ok(Box::new(write::RequisitionTarget {
        client,
        delivery_method: settings.delivery_method,
        confirm: settings.confirm,
        lookback_days: settings.lookback_days.max(1),
    }))
}

/// Inter Cars as one system: its spec and how to open its sources and targets.
pub struct IntercarsSystem;

impl crate::System for IntercarsSystem {
    fn spec(&self) -> &'static SystemSpec {
        &INTERCARS
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
        let connection: ConnectionSettings = context.connection_settings(&INTERCARS)?;
        let client = client::Client::new(&context.connection.name, &connection, context.gate.clone())?;
        Ok(Box::new(quote::IntercarsQuoter { client }))
    }

    fn quotes(&self) -> bool {
        true
    }
}

tiltas_connector::test_registry!(
    &crate::IntercarsSystem,
    &tiltas_smartup::SmartupSystem,
    &tiltas_files::JsonlSystem
);
