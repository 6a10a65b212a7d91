//! OpenCart 3.x through its MySQL/MariaDB database (`shared/protocols/shops.md` §4): OpenCart's
//! own API only edits the carts and orders of a signed-in session, so integrators read and write
//! the catalogue in the shop's tables. The connector reads products by `date_modified`,
//! customers by id and orders by `date_modified` (with their lines, options, totals and
//! history); it writes products (description per language, price, status), stock (the
//! product's `quantity`) and customers (with their address), each record in its own
//! transaction. [`schema`] is the subset of OpenCart's tables it uses, shared with the
//! simulator `tiltas sim opencart` in the sibling crate `tiltas-opencart-sim`.
#![forbid(unsafe_code)]
mod db;
mod orders;
mod read;
pub mod schema;
mod variants;
mod write;

#[cfg(test)]
mod tests;

pub use db::{connect_options, ShopDb};
use tiltas_config::{EntityAccess, KeyKind, KeySpec, MoneyPlaces, SystemSpec};
#[allow(unused_imports)] // modules of this crate name the contract as `crate::Source`
use tiltas_connector::*;
use tiltas_connector::{ConnectorError, OpenContext, Source, Target};
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
    // OpenCart 3's `customer` table has `date_added` only: customers are read whole.
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

/// `system = "opencart"`.
pub static OPENCART: SystemSpec = SystemSpec {
    name: "opencart",
    description: "OpenCart 3.x and 4.x through its MySQL/MariaDB database (the oc_ tables)",
    connection_keys: &[
        KeySpec {
            name: "database_url",
            kind: KeyKind::Secret,
            required: true,
            default: None,
            doc: "the shop's database, e.g. mysql://user:password@127.0.0.1:3306/opencart (OpenCart's \
                  config.php has DB_HOSTNAME, DB_USERNAME, DB_PASSWORD, DB_DATABASE)",
        },
        KeySpec {
            name: "version",
            kind: KeyKind::OneOf(&["3", "4"]),
            required: false,
            default: Some("3"),
            doc: "OpenCart's major version: 3 (variants as options of one product, stock per option value) \
                  or 4 (variants as products with a master_id)",
        },
        KeySpec {
            name: "table_prefix",
            kind: KeyKind::String,
            required: false,
            default: Some("oc_"),
            doc: "the prefix of OpenCart's tables (DB_PREFIX in config.php)",
        },
        KeySpec {
            name: "language_id",
            kind: KeyKind::Integer,
            required: false,
            default: Some("1"),
            doc: "the language whose names and descriptions are read and written (oc_language)",
        },
        KeySpec {
            name: "store_id",
            kind: KeyKind::Integer,
            required: false,
            default: Some("0"),
            doc:
                "the store whose products and orders are read; products written are added to it (0: the default store)",
        },
        KeySpec {
            name: "customer_group_id",
            kind: KeyKind::Integer,
            required: false,
            default: Some("1"),
            doc: "the customer group new customers join (1: Default)",
        },
        KeySpec {
            name: "tax_class_id",
            kind: KeyKind::Integer,
            required: false,
            default: Some("9"),
            doc: "the tax class of products created (oc_tax_class; 9: Taxable Goods of a fresh install, 0: none)",
        },
        KeySpec {
            name: "sku_column",
            kind: KeyKind::OneOf(&["sku", "model"]),
            required: false,
            default: Some("sku"),
            doc: "the product column holding the code the ERP knows: `sku`, or `model` for shops that keep codes there",
        },
        KeySpec {
            name: "lock_wait",
            kind: KeyKind::Duration,
            required: false,
            default: Some("20s"),
            doc: "how long a write waits for a row the shop holds locked before it is retried later \
                  (innodb_lock_wait_timeout of the connector's sessions, whole seconds)",
        },
        KeySpec {
            name: "timeout",
            kind: KeyKind::Duration,
            required: false,
            default: Some("30s"),
            doc: "how long to wait for a database connection",
        },
    ],
    source_keys: &[],
    target_keys: &[],
    entities: &ACCESS,
    accounting: false,
    one_of: &[],
    needs: &[],
    // Prices, order lines and totals are all decimal(15,4) in OpenCart's tables.
    money_places: Some(MoneyPlaces { unit_price: 4, sum: 4 }),
};

/// An OpenCart connection (`[connections.NAME]`), defaults from [`OPENCART`]'s spec.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ConnectionSettings {
    /// `mysql://user:password@host:port/database`.
    pub database_url: tiltas_config::Secret,
    /// `3` or `4`.
    pub version: String,
    /// `oc_` unless the shop was installed with another.
    pub table_prefix: String,
    /// The language of names and descriptions.
    pub language_id: u64,
    /// The store read and written.
    pub store_id: u64,
    /// The group of new customers.
    pub customer_group_id: u64,
    /// The tax class of new products.
    pub tax_class_id: u64,
    /// `sku` or `model`.
    pub sku_column: String,
    /// Row lock wait of the connector's sessions.
    pub lock_wait: std::time::Duration,
    /// Connection wait.
    pub timeout: std::time::Duration,
}

fn open(context: &OpenContext<'_>, writing: bool) -> Result<ShopDb, ConnectorError> {
    let connection: ConnectionSettings = context.connection_settings(&OPENCART)?;
    context.check_access(&OPENCART, writing)?;
    ShopDb::open(&context.connection.name, &connection, context.gate.clone())
}

/// OpenCart as one system: its spec and how to open its sources and targets.
pub struct OpenCartSystem;

impl crate::System for OpenCartSystem {
    fn spec(&self) -> &'static SystemSpec {
        &OPENCART
    }

    fn readme(&self) -> Option<tiltas_connector::Readme> {
        tiltas_connector::readme!()
    }

    fn open_source(&self, context: &OpenContext<'_>) -> Result<Box<dyn Source>, ConnectorError> {
        Ok(Box::new(read::OpenCartSource::new(
            open(context, false)?,
            context.entity,
        )))
    }

    fn open_target(&self, context: &OpenContext<'_>) -> Result<Box<dyn Target>, ConnectorError> {
        Ok(Box::new(write::OpenCartTarget::new(
            open(context, true)?,
            context.entity,
        )))
    }
}

tiltas_connector::test_registry!(&crate::OpenCartSystem, &tiltas_files::JsonlSystem);
