//! The PrestaShop Webservice, 1.7 and 8 (`shared/protocols/shops.md` §2): the connector
//! (products with combinations as variants, stock in `stock_availables`, customers with their
//! addresses, orders with their rows), PrestaShop's XML as a small tree ([`xml`]) and the
//! resources it uses ([`schema`]), shared with the simulator `tiltas sim prestashop`.
#![forbid(unsafe_code)]
mod client;
mod connector;
mod mapping;
pub mod schema;
pub mod xml;

#[cfg(test)]
mod tests;

use connector::{PrestaSource, PrestaTarget};
use tiltas_config::{EntityAccess, KeyKind, KeySpec, MoneyPlaces, SystemSpec};
#[allow(unused_imports)] // modules of this crate name the contract as `crate::Source`
use tiltas_connector::*;
use tiltas_connector::{ConnectorError, ErrorKind, OpenContext, Source, Target};
use tiltas_model::EntityKind;

const ACCESS: [EntityAccess; 4] = [
    EntityAccess {
        entity: EntityKind::Product,
        read: true,
        write: true,
        incremental: true,
    },
    EntityAccess {
        entity: EntityKind::Stock,
        read: true,
        write: true,
        incremental: false,
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
        incremental: true,
    },
];

/// `system = "prestashop"`.
pub static PRESTASHOP: SystemSpec = SystemSpec {
    name: "prestashop",
    description: "PrestaShop 1.7 / 8 through its Webservice (XML)",
    connection_keys: &[
        KeySpec {
            name: "base_url",
            kind: KeyKind::Url,
            required: true,
            default: None,
            doc: "the shop's address, e.g. https://shop.example.lt (the Webservice is below /api)",
        },
        KeySpec {
            name: "key",
            kind: KeyKind::Secret,
            required: true,
            default: None,
            doc: "the Webservice key (Advanced Parameters → Webservice), sent as the Basic-auth user name",
        },
        KeySpec {
            name: "language",
            kind: KeyKind::String,
            required: false,
            default: Some("1"),
            doc: "the id of the language names and descriptions are read and written in",
        },
        KeySpec {
            name: "timeout",
            kind: KeyKind::Duration,
            required: false,
            default: Some("60s"),
            doc: "how long one call may take",
        },
    ],
    source_keys: &[
        KeySpec {
            name: "statuses",
            kind: KeyKind::StringList,
            required: false,
            default: None,
            doc: "for orders: only orders in these states (ids of order_states), e.g. [\"2\", \"3\"]",
        },
        KeySpec {
            name: "warehouse",
            kind: KeyKind::String,
            required: false,
            default: Some("shop"),
            doc: "for stock: the warehouse the shop's quantities are read as (PrestaShop keeps one per product)",
        },
    ],
    target_keys: &[],
    entities: &ACCESS,
    accounting: false,
    one_of: &[],
    needs: &[],
    // PrestaShop stores prices and totals as DECIMAL(20,6).
    money_places: Some(MoneyPlaces::all(6)),
};

/// A PrestaShop connection (`[connections.NAME]`), defaults from [`PRESTASHOP`]'s spec.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct ConnectionSettings {
    pub base_url: String,
    pub key: tiltas_config::Secret,
    pub language: String,
    pub timeout: std::time::Duration,
}

/// A flow's `from` on PrestaShop.
#[derive(Debug, serde::Deserialize)]
struct SourceSettings {
    #[serde(default)]
    statuses: Vec<String>,
    warehouse: String,
}

/// Opens a source on a PrestaShop connection.
fn open_source(context: &OpenContext<'_>) -> Result<Box<dyn Source>, ConnectorError> {
    let connection: ConnectionSettings = context.connection_settings(&PRESTASHOP)?;
    let settings: SourceSettings = context.endpoint_settings(PRESTASHOP.source_keys)?;
    context.check_access(&PRESTASHOP, false)?;
    Ok(Box::new(PrestaSource::new(
        client::Client::new(&connection, context.gate.clone())?,
        context.entity,
        settings.statuses,
        settings.warehouse,
    )))
}

/// Opens a target on a PrestaShop connection.
fn open_target(context: &OpenContext<'_>) -> Result<Box<dyn Target>, ConnectorError> {
    let connection: ConnectionSettings = context.connection_settings(&PRESTASHOP)?;
    context.check_access(&PRESTASHOP, true)?;
    Ok(Box::new(PrestaTarget::new(
        client::Client::new(&connection, context.gate.clone())?,
        context.entity,
    )))
}

/// PrestaShop as one system: its spec and how to open its sources and targets.
pub struct PrestaShopSystem;

impl crate::System for PrestaShopSystem {
    fn spec(&self) -> &'static SystemSpec {
        &PRESTASHOP
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

tiltas_connector::test_registry!(&crate::PrestaShopSystem, &tiltas_files::JsonlSystem);
