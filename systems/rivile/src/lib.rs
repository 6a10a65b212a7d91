//! Rivile GAMA through the Manorivile API v2 (`shared/protocols/erp-and-suppliers.md` §1):
//! the `fil` parser, the table schemas, the gateway simulator, and the connector: reads
//! products (N17 + N37 barcodes + N32/I33 prices), customers (N08 + N33), stock (I17), price
//! lists (N32) and documents (I06/I07 sales and purchases, I09/I10 internal); writes products
//! (`EDIT_N17`), clients (`EDIT_N08_FULL`), orders as sales documents and suppliers' invoices
//! as purchase documents with their lines matched to Rivile's products (`EDIT_I06_FULL`).
#![forbid(unsafe_code)]
mod client;
mod document;
mod errors;
pub mod fil;
mod purchase;
pub mod schema;
mod target;

#[cfg(test)]
mod tests;

use client::{quoted, Client, Reading, RivileSource};
use target::{RivileTarget, Writing};
use tiltas_config::{EntityAccess, FieldNeed, KeyKind, KeySpec, MoneyPlaces, SystemSpec};
#[allow(unused_imports)] // modules of this crate name the contract as `crate::Source`
use tiltas_connector::*;
use tiltas_connector::{ConnectorError, ErrorKind, OpenContext, Source, Target};
use tiltas_model::EntityKind;

const ACCESS: [EntityAccess; 6] = [
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
    EntityAccess {
        entity: EntityKind::Order,
        read: false,
        write: true,
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
        entity: EntityKind::Stock,
        read: true,
        write: false,
        incremental: true,
    },
];

/// `system = "rivile"`.
pub static RIVILE: SystemSpec = SystemSpec {
    name: "rivile",
    description: "Rivile GAMA through the Manorivile API v2",
    connection_keys: &[
        KeySpec {
            name: "base_url",
            kind: KeyKind::Url,
            required: true,
            default: None,
            doc: "the gateway endpoint, e.g. https://api.manorivile.lt/client/v2",
        },
        KeySpec {
            name: "api_key",
            kind: KeyKind::Secret,
            required: true,
            default: None,
            doc: "the ApiKey issued with the service",
        },
        KeySpec {
            name: "warehouse",
            kind: KeyKind::String,
            required: false,
            default: None,
            doc: "the warehouse (padalinys, I17_KODAS_IS) whose stock is read and whose own prices (I33) override the price list; orders without a warehouse are booked in it; stock is read from CENTR (GAMA's main warehouse) when no warehouse is set anywhere",
        },
        KeySpec {
            name: "price_level",
            kind: KeyKind::OneOf(&["1", "2", "3"]),
            required: false,
            default: Some("1"),
            doc: "which N32 price (N32_KAINA1..3) is a product's price_net",
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
            name: "warehouse",
            kind: KeyKind::String,
            required: false,
            default: None,
            doc: "read the stock (and the I33 warehouse prices of products) of this warehouse instead of the connection's",
        },
        KeySpec {
            name: "documents",
            kind: KeyKind::OneOf(&["sales", "internal"]),
            required: false,
            default: Some("sales"),
            doc: "for documents: sales and purchase documents (I06/I07) or internal ones (I09/I10: transfers, write-offs, counts)",
        },
    ],
    target_keys: &[
        KeySpec {
            name: "operation",
            kind: KeyKind::OneOf(&["51", "52"]),
            required: false,
            default: Some("51"),
            doc: "for orders: the document's I06_OP_TIP, 51 sales invoice or 52 sales return",
        },
        KeySpec {
            name: "warehouse",
            kind: KeyKind::String,
            required: false,
            default: None,
            doc: "for orders and purchases: the warehouse when the order or invoice names none",
        },
        KeySpec {
            name: "post",
            kind: KeyKind::Bool,
            required: false,
            default: Some("false"),
            doc: "for orders and purchases: post each document after writing it (EDIT_I06 oper P)",
        },
        KeySpec {
            name: "shipping_service",
            kind: KeyKind::String,
            required: false,
            default: None,
            doc: "for orders: the N25 service code the shipping charge is invoiced under (a service line); an order that charges shipping without it is a dead letter",
        },
        KeySpec {
            name: "fee_service",
            kind: KeyKind::String,
            required: false,
            default: None,
            doc: "for orders: the N25 service code fees (payment surcharges, packaging) are invoiced under; an order with a fee without it is a dead letter",
        },
        KeySpec {
            name: "discount_service",
            kind: KeyKind::String,
            required: false,
            default: None,
            doc: "for orders: the N25 service code discounts (coupons) are invoiced under as negative lines, product lines then at their prices before discounts; without it lines are booked after discounts",
        },
        KeySpec {
            name: "currencies",
            kind: KeyKind::StringList,
            required: false,
            default: None,
            doc: "for orders and purchases: foreign currencies booked as foreign-currency documents (I06_VAL_POZ 1, I06_KODAS_VL); EUR is always booked; an order or invoice in another currency is a dead letter (unset: EUR only)",
        },
        KeySpec {
            name: "counterparty",
            kind: KeyKind::String,
            required: false,
            default: None,
            doc: "for purchases (documents): the supplier's N08 client code the invoices are booked against (I06_KODAS_KS) instead of the document's own counterparty; a purchase is found again by it and its number",
        },
        KeySpec {
            name: "part_xref",
            kind: KeyKind::Path,
            required: false,
            default: None,
            doc: "for purchases: a CSV file with the header supplier,code,item mapping a supplier's part codes to Rivile product codes; asked before the supplier's code and the maker's number (a product code or barcode) are tried",
        },
    ],
    entities: &ACCESS,
    accounting: true,
    one_of: &[],
    needs: &[FieldNeed {
        entity: EntityKind::Order,
        field: "warehouse",
        target_key: Some("warehouse"),
        connection_key: Some("warehouse"),
        why: "is a dead letter: Rivile books every document line in a warehouse (padalinys, I07_KODAS_IS)",
    }],
    // Unit prices are N(14,4) columns (N32_KAINA*, I07_KAINA_BE, I33_KAINA); sums are N(14,2)
    // (I07_SUMA, I07_PVM, I06_SUMA).
    money_places: Some(MoneyPlaces {
        unit_price: 4,
        sum: 2,
    }),
};

/// A Rivile connection (`[connections.NAME]`), defaults from [`RIVILE`]'s spec.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct ConnectionSettings {
    pub base_url: String,
    pub api_key: tiltas_config::Secret,
    pub warehouse: Option<String>,
    pub price_level: String,
    pub timeout: std::time::Duration,
}

/// A flow's `from` on Rivile.
#[derive(Debug, serde::Deserialize)]
struct SourceSettings {
    warehouse: Option<String>,
    documents: String,
}

/// A flow's `to` on Rivile.
#[derive(Debug, serde::Deserialize)]
struct TargetSettings {
    operation: String,
    warehouse: Option<String>,
    post: bool,
    shipping_service: Option<String>,
    fee_service: Option<String>,
    discount_service: Option<String>,
    #[serde(default)]
    currencies: Vec<String>,
    counterparty: Option<String>,
    part_xref: Option<std::path::PathBuf>,
}

/// The warehouse stock is read from when neither the flow nor the connection names one:
/// GAMA's main warehouse. Not a spec default of `warehouse`, because an order with no
/// warehouse must stay a dead letter rather than be booked in CENTR unasked.
const STOCK_WAREHOUSE: &str = "CENTR";

/// Opens a source on a Rivile connection.
fn open_source(context: &OpenContext<'_>) -> Result<Box<dyn Source>, ConnectorError> {
    let connection: ConnectionSettings = context.connection_settings(&RIVILE)?;
    let settings: SourceSettings = context.endpoint_settings(RIVILE.source_keys)?;
    let client = Client::new(&connection, context.gate.clone())?;
    let warehouse = settings.warehouse.or(connection.warehouse);
    let reading = match context.entity {
        EntityKind::Product => Reading {
            entity: context.entity,
            key: &["N17_KODAS_PS"],
            table: "N17",
            date_column: "N17_R_DATE",
            fixed: None,
        },
        EntityKind::Customer => Reading {
            entity: context.entity,
            key: &["N08_KODAS_KS"],
            table: "N08",
            date_column: "N08_R_DATE",
            fixed: None,
        },
        EntityKind::Document if settings.documents == "internal" => Reading {
            entity: context.entity,
            key: &["I09_KODAS_VD"],
            table: "I09",
            date_column: "I09_R_DATE",
            fixed: None,
        },
        EntityKind::Document => Reading {
            entity: context.entity,
            key: &["I06_KODAS_PO"],
            table: "I06",
            date_column: "I06_R_DATE",
            fixed: None,
        },
        EntityKind::PriceList => Reading {
            entity: context.entity,
            key: &["N32_KODAS_PS", "N32_KODAS_US"],
            table: "N32",
            date_column: "N32_R_DATE",
            fixed: None,
        },
        EntityKind::Stock => Reading {
            entity: context.entity,
            key: &["I17_KODAS_PS", "I17_KODAS_US"],
            table: "I17",
            date_column: "I17_R_DATE",
            fixed: Some(format!(
                "i17_kodas_is = {}",
                quoted(warehouse.as_deref().unwrap_or(STOCK_WAREHOUSE))
            )),
        },
        other => {
            return Err(ConnectorError::new(
                ErrorKind::Fatal,
                format!("the rivile connector does not read {other} yet"),
            ))
        }
    };
    Ok(Box::new(RivileSource {
        client,
        reading,
        price_level: connection.price_level,
        warehouse_prices: warehouse,
        also_changed: None,
        seen: Default::default(),
    }))
}

/// Opens a target on a Rivile connection.
fn open_target(context: &OpenContext<'_>) -> Result<Box<dyn Target>, ConnectorError> {
    let connection: ConnectionSettings = context.connection_settings(&RIVILE)?;
    let settings: TargetSettings = context.endpoint_settings(RIVILE.target_keys)?;
    let client = Client::new(&connection, context.gate.clone())?;
    let simple = |table: &'static schema::Table, method: &'static str| Writing {
        entity: context.entity,
        table,
        method,
        operation: String::new(),
        warehouse: None,
        post: false,
        shipping_service: None,
        fee_service: None,
        discount_service: None,
        currencies: Vec::new(),
        counterparty: None,
        part_xref: None,
    };
    let writing = match context.entity {
        EntityKind::Product => simple(&schema::N17, "EDIT_N17"),
        EntityKind::Customer => simple(&schema::N08, "EDIT_N08_FULL"),
        EntityKind::Order => Writing {
            entity: context.entity,
            table: &schema::I06,
            method: "EDIT_I06_FULL",
            operation: settings.operation,
            warehouse: settings.warehouse.or(connection.warehouse),
            post: settings.post,
            shipping_service: settings.shipping_service,
            fee_service: settings.fee_service,
            discount_service: settings.discount_service,
            currencies: settings.currencies,
            counterparty: None,
            part_xref: None,
        },
        EntityKind::Document => Writing {
            entity: context.entity,
            table: &schema::I06,
            method: "EDIT_I06_FULL",
            operation: purchase::PURCHASE.to_owned(),
            warehouse: settings.warehouse.or(connection.warehouse),
            post: settings.post,
            shipping_service: None,
            fee_service: None,
            discount_service: None,
            currencies: settings.currencies,
            counterparty: settings.counterparty,
            part_xref: match &settings.part_xref {
                Some(path) => Some(purchase::read_xref(path).map_err(|message| {
                    ConnectorError::new(ErrorKind::Fatal, message)
                        .with_fix("create the part_xref file or correct it, then run the flow again")
                })?),
                None => None,
            },
        },
        other => {
            return Err(ConnectorError::new(
                ErrorKind::Fatal,
                format!("the rivile connector does not write {other} yet"),
            ))
        }
    };
    Ok(Box::new(RivileTarget {
        client,
        writing,
        stored: Default::default(),
        suppliers: Default::default(),
    }))
}

/// Rivile GAMA as one system: its spec and how to open its sources and targets.
pub struct RivileSystem;

impl crate::System for RivileSystem {
    fn spec(&self) -> &'static SystemSpec {
        &RIVILE
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

tiltas_connector::test_registry!(&crate::RivileSystem, &tiltas_files::JsonlSystem);
