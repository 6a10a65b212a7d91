//! Elit (eCat / eConnector, parts supplier in Central and Eastern Europe) through its SOAP
//! services (`shared/protocols/erp-and-suppliers.md` §5): credentials and the per-country
//! company (`ELIT_LT`, `ELIT_CZ` …) in every body, faults as SOAP Faults with HTTP 500 (a refused
//! login is an auth error naming `login` and `password`, a wrong company one naming `company`).
//! It reads, for the item numbers a connection lists (`items` or `items_file`: Elit's documented
//! services have no catalogue listing), availability aggregated by delivery time
//! (`getItemInfoAgregByTime`, up to 100 items a call) as stock per warehouse, and with each
//! item's price (`getItemInfo`) as supplier offers; it places orders (`createOrder`, inferred)
//! exactly once, finding an order made before by the order's number (`getOrders`, inferred);
//! and it answers quotes for one part by the maker's number and brand (`getItemInfo` with
//! `supplierCode`). Elit offers no invoices, so no document is read.
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
use tiltas_connector::{ConnectorError, ErrorKind, OpenContext, PartQuoter, Source, Target};
use tiltas_model::EntityKind;

const ACCESS: [EntityAccess; 3] = [
    EntityAccess::new(EntityKind::Stock, true, false, false),
    EntityAccess::new(EntityKind::SupplierOffer, true, false, false),
    EntityAccess::new(EntityKind::Order, false, true, false),
];

/// `system = "elit"`.
pub static ELIT: SystemSpec = SystemSpec {
    name: "elit",
    description: "Elit (eCat / eConnector, parts supplier): item info and prices, availability by delivery time, orders; no invoices",
    connection_keys: &[
        KeySpec::new("base_url", KeyKind::Url, false, Some("https://econnector.elit.cz"), "the eConnector's address; the services are under /InterCompany-1.87/"),
        KeySpec::new("login", KeyKind::String, true, None, "the eCat login Elit issued"),
        KeySpec::new("password", KeyKind::Secret, true, None, "the eCat password"),
        KeySpec::new("company", KeyKind::String, true, None, "the Elit company of the account's country, as Elit names it (ELIT_LT, ELIT_CZ, ELIT_RO, ELIT_PL …); prices come in its currency"),
        KeySpec::new("application_id", KeyKind::String, false, None, "the application id Elit registered for this integration, when it gave one (`applicationId`)"),
        KeySpec::new("items", KeyKind::StringList, false, None, "for stock and offers: the Elit item numbers to read (Elit has no catalogue listing); or `items_file`"),
        KeySpec::new("items_file", KeyKind::Path, false, None, "for stock and offers: a file of Elit item numbers, one a line (`#` starts a comment); or `items`"),
        KeySpec::new("branch", KeyKind::String, false, None, "the Elit warehouse stock and offers are read for, as Elit names it in the availability answer (`Vilnius`); unset: every one"),
        KeySpec::new("timeout", KeyKind::Duration, false, Some("30s"), "how long one request may take"),
    ],
    source_keys: &[],
    target_keys: &[],
    entities: &ACCESS,
    accounting: false,
    one_of: &[],
    needs: &[],
    money_places: None,
};

/// An Elit connection (`[connections.NAME]`), defaults from [`ELIT`]'s spec.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct ConnectionSettings {
    pub base_url: String,
    pub login: String,
    pub password: tiltas_config::Secret,
    pub company: String,
    pub application_id: Option<String>,
    pub items: Option<Vec<String>>,
    pub items_file: Option<std::path::PathBuf>,
    pub branch: Option<String>,
    pub timeout: std::time::Duration,
}

fn client_of(context: &OpenContext<'_>) -> Result<(client::Client, ConnectionSettings), ConnectorError> {
    let connection: ConnectionSettings = context.connection_settings(&ELIT)?;
    let client = client::Client::new(&context.connection.name, &connection, context.gate.clone())?;
    Ok((client, connection))
}

/// The item numbers a source reads: `items`, or the lines of `items_file`, in order, each once.
fn item_numbers(context: &OpenContext<'_>, settings: &ConnectionSettings) -> Result<Vec<String>, ConnectorError> {
    let connection = &context.connection.name;
    let fail =
        |message: String| ConnectorError::new(ErrorKind::Fatal, format!("connection \"{connection}\": {message}"));
    let listed: Vec<String> = match (&settings.items, &settings.items_file) {
        (Some(items), None) => items.clone(),
        (None, Some(file)) => {
            let path = context.base_dir.join(file);
            let text = std::fs::read_to_string(&path).map_err(|error| {
                fail(format!(
                    "items_file {} cannot be read ({error}): create it with one Elit item number a line, or fix the path",
                    path.display()
                ))
            })?;
            text.lines()
                .map(|line| line.split('#').next().unwrap_or_default().to_owned())
                .collect()
        }
        (Some(_), Some(_)) => return Err(fail("both items and items_file are set: keep one of them".to_owned())),
        (None, None) => {
            return Err(fail(
                "stock and offers are read for listed items — Elit's services have no catalogue listing: set \
                 `items = [\"…\"]` or `items_file` to the Elit item numbers to read"
                    .to_owned(),
            ))
        }
    };
    let mut seen = std::collections::HashSet::new();
    Ok(listed
        .into_iter()
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty() && seen.insert(item.clone()))
        .collect())
}

fn open_source(context: &OpenContext<'_>) -> Result<Box<dyn Source>, ConnectorError> {
    context.check_access(&ELIT, false)?;
    let reading = match context.entity {
        EntityKind::Stock => read::Reading::Stock,
        EntityKind::SupplierOffer => read::Reading::Offers,
        _ => return Err(context.unsupported("source")),
    };
    let (client, settings) = client_of(context)?;
    let items = item_numbers(context, &settings)?;
    let branch = settings
        .branch
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(str::to_owned);
    Ok(Box::new(read::ElitSource {
        client,
        reading,
        items,
        branch,
    }))
}

fn open_target(context: &OpenContext<'_>) -> Result<Box<dyn Target>, ConnectorError> {
    context.check_access(&ELIT, true)?;
    if context.entity != EntityKind::Order {
        return Err(context.unsupported("target"));
    }
    Ok(Box::new(write::OrderTarget {
        client: client_of(context)?.0,
    }))
}

/// Elit as one system: its spec and how to open its sources, target and quoter.
pub struct ElitSystem;

impl crate::System for ElitSystem {
    fn spec(&self) -> &'static SystemSpec {
        &ELIT
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
        Ok(Box::new(quote::ElitQuoter {
            client: client_of(context)?.0,
        }))
    }

    fn quotes(&self) -> bool {
        true
    }
}

tiltas_connector::test_registry!(&crate::ElitSystem, &tiltas_files::JsonlSystem);
