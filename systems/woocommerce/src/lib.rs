//! WooCommerce REST API v3 (`shared/protocols/shops.md` §1): the OAuth 1.0a signing WooCommerce
//! requires over plain HTTP ([`oauth`]), the connector (products with variations and
//! categories, stock, customers, orders), webhook verification ([`webhook`]), and the
//! simulator `tiltas sim woocommerce` ([`simulator`]).
#![forbid(unsafe_code)]
mod client;
mod connector;
mod mapping;
pub mod oauth;
pub mod webhook;

#[cfg(test)]
mod tests;

use connector::{WooSource, WooTarget};
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
        read: false,
        write: true,
        incremental: false,
    },
    EntityAccess {
        entity: EntityKind::Customer,
        read: true,
        write: true,
        incremental: false,
    },
    EntityAccess {
        entity: EntityKind::Order,
        read: true,
        write: false,
        incremental: true,
    },
];

/// `system = "woocommerce"`.
pub static WOOCOMMERCE: SystemSpec = SystemSpec {
    name: "woocommerce",
    description: "WooCommerce through its REST API v3",
    connection_keys: &[
        KeySpec {
            name: "base_url",
            kind: KeyKind::Url,
            required: true,
            default: None,
            doc: "the shop's address, e.g. https://shop.example.lt (the API is below /wp-json/wc/v3)",
        },
        KeySpec {
            name: "consumer_key",
            kind: KeyKind::Secret,
            required: true,
            default: None,
            doc: "the REST API key's consumer key (ck_…)",
        },
        KeySpec {
            name: "consumer_secret",
            kind: KeyKind::Secret,
            required: true,
            default: None,
            doc: "the REST API key's consumer secret (cs_…)",
        },
        KeySpec {
            name: "webhook_secret",
            kind: KeyKind::Secret,
            required: false,
            default: None,
            doc: "the secret of the shop's webhooks, to verify X-WC-Webhook-Signature",
        },
        KeySpec {
            name: "auth",
            kind: KeyKind::OneOf(&["auto", "oauth1", "basic"]),
            required: false,
            default: Some("auto"),
            doc: "auto: Basic over https, OAuth 1.0a over http, as WooCommerce requires",
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
        name: "statuses",
        kind: KeyKind::StringList,
        required: false,
        default: None,
        doc: "for orders: only orders in these statuses, e.g. [\"processing\", \"completed\"]",
    }],
    target_keys: &[],
    entities: &ACCESS,
    accounting: false,
    one_of: &[],
    needs: &[],
    // The shop stores prices and totals in cents.
    money_places: Some(MoneyPlaces::all(2)),
};

/// A WooCommerce connection (`[connections.NAME]`), defaults from [`WOOCOMMERCE`]'s spec.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct ConnectionSettings {
    pub base_url: String,
    pub consumer_key: tiltas_config::Secret,
    pub consumer_secret: tiltas_config::Secret,
    pub webhook_secret: Option<tiltas_config::Secret>,
    pub auth: String,
    pub timeout: std::time::Duration,
}

/// A flow's `from` on WooCommerce.
#[derive(Debug, serde::Deserialize)]
struct SourceSettings {
    #[serde(default)]
    statuses: Vec<String>,
}

/// Opens a source on a WooCommerce connection.
fn open_source(context: &OpenContext<'_>) -> Result<Box<dyn Source>, ConnectorError> {
    let connection: ConnectionSettings = context.connection_settings(&WOOCOMMERCE)?;
    let settings: SourceSettings = context.endpoint_settings(WOOCOMMERCE.source_keys)?;
    context.check_access(&WOOCOMMERCE, false)?;
    Ok(Box::new(WooSource {
        client: client::Client::new(&connection, context.gate.clone())?,
        entity: context.entity,
        statuses: settings.statuses,
    }))
}

/// Opens a target on a WooCommerce connection.
fn open_target(context: &OpenContext<'_>) -> Result<Box<dyn Target>, ConnectorError> {
    let connection: ConnectionSettings = context.connection_settings(&WOOCOMMERCE)?;
    context.check_access(&WOOCOMMERCE, true)?;
    Ok(Box::new(WooTarget {
        client: client::Client::new(&connection, context.gate.clone())?,
        entity: context.entity,
        categories: None,
        stored: Default::default(),
    }))
}

/// WooCommerce as one system: its spec and how to open its sources and targets.
pub struct WooCommerceSystem;

impl crate::System for WooCommerceSystem {
    fn spec(&self) -> &'static SystemSpec {
        &WOOCOMMERCE
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

    fn webhook(&self) -> Option<&dyn crate::WebhookReceiver> {
        Some(&webhook::WooReceiver)
    }
}

tiltas_connector::test_registry!(&crate::WooCommerceSystem, &tiltas_files::JsonlSystem);
