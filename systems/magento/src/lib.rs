//! Magento 2 / Adobe Commerce admin REST (`shared/protocols/shops.md` §3): the connector
//! (products with configurable children as variants, customers and orders read by `updated_at`;
//! products, MSI source items and customers written), the wire conventions it shares with its
//! simulator ([`wire`]), and the simulator `tiltas sim magento` in the sibling crate
//! `tiltas-magento-sim`.
#![forbid(unsafe_code)]
mod client;
mod connector;
mod mapping;
pub mod wire;

#[cfg(test)]
mod tests;

use connector::{MagentoSource, MagentoTarget};
use tiltas_config::{EntityAccess, KeyKind, KeySpec, KeyTable, MoneyPlaces, OneOf, SystemSpec};
#[allow(unused_imports)] // modules of this crate name the contract as `crate::Source`
use tiltas_connector::*;
use tiltas_connector::{ConnectorError, ErrorKind, OpenContext, Source, Target};
use tiltas_model::EntityKind;

const ACCESS: [EntityAccess; 5] = [
    EntityAccess {
        entity: EntityKind::Product,
        read: true,
        write: true,
        incremental: true,
    },
    EntityAccess {
        entity: EntityKind::Stock,
        read: false,
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
    EntityAccess::new(EntityKind::Category, true, false, true),
];

/// `system = "magento"`.
pub static MAGENTO: SystemSpec = SystemSpec {
    name: "magento",
    description: "Magento 2 / Adobe Commerce through its admin REST API",
    connection_keys: &[
        KeySpec {
            name: "base_url",
            kind: KeyKind::Url,
            required: true,
            default: None,
            doc: "the shop's address, e.g. https://shop.example.lt (the API is below /rest)",
        },
        KeySpec {
            name: "token",
            kind: KeyKind::Secret,
            required: false,
            default: None,
            doc: "an integration's access token (with `enable_integration_as_bearer`), sent as Bearer; or, instead, \
                  `username` and `password`",
        },
        KeySpec::new(
            "username",
            KeyKind::String,
            false,
            None,
            "an admin user: Tiltas signs in (`integration/admin/token`) and signs in again when the 4-hour token ends",
        ),
        KeySpec::new("password", KeyKind::Secret, false, None, "the admin user's password"),
        KeySpec {
            name: "timeout",
            kind: KeyKind::Duration,
            required: false,
            default: Some("60s"),
            doc: "how long one call may take",
        },
    ],
    source_keys: &[],
    target_keys: &[KeySpec {
        name: "source",
        kind: KeyKind::String,
        required: false,
        default: Some("default"),
        doc: "for stock: the MSI source code the quantities are written to",
    }],
    entities: &ACCESS,
    accounting: false,
    one_of: &[OneOf {
        table: KeyTable::Connection,
        choices: &["token", "username+password"],
    }],
    needs: &[],
    // Catalogue prices are decimal(20,6) in Magento's tables; order amounts decimal(20,4).
    money_places: Some(MoneyPlaces { unit_price: 6, sum: 4 }),
};

/// A Magento connection (`[connections.NAME]`), defaults from [`MAGENTO`]'s spec.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct ConnectionSettings {
    pub base_url: String,
    pub token: Option<tiltas_config::Secret>,
    pub username: Option<String>,
    pub password: Option<tiltas_config::Secret>,
    pub timeout: std::time::Duration,
}

/// A flow's `to` on Magento.
#[derive(Debug, serde::Deserialize)]
struct TargetSettings {
    source: String,
}

fn open_source(context: &OpenContext<'_>) -> Result<Box<dyn Source>, ConnectorError> {
    let connection: ConnectionSettings = context.connection_settings(&MAGENTO)?;
    context.check_access(&MAGENTO, false)?;
    Ok(Box::new(MagentoSource::new(
        client::Client::new(&connection, context.gate.clone())?,
        context.entity,
    )))
}

fn open_target(context: &OpenContext<'_>) -> Result<Box<dyn Target>, ConnectorError> {
    let connection: ConnectionSettings = context.connection_settings(&MAGENTO)?;
    let settings: TargetSettings = context.endpoint_settings(MAGENTO.target_keys)?;
    context.check_access(&MAGENTO, true)?;
    Ok(Box::new(MagentoTarget::new(
        client::Client::new(&connection, context.gate.clone())?,
        context.entity,
        settings.source,
    )))
}

/// Magento as one system: its spec and how to open its sources and targets.
pub struct MagentoSystem;

impl crate::System for MagentoSystem {
    fn spec(&self) -> &'static SystemSpec {
        &MAGENTO
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

tiltas_connector::test_registry!(&crate::MagentoSystem, &tiltas_files::JsonlSystem);
