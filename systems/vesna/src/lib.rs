//! Vesna, a parts supplier without a documented API (`shared/protocols/erp-and-suppliers.md`
//! §5) whose prices are in EUR only (`shared/seeds/003_…`), as file feeds: its price and stock
//! list (an XLSX export, or CSV; one row per part by article number and brand, one stock
//! column per branch) dropped into a folder or fetched from a URL with its API token
//! (`Authorization: Bearer`) and `customer_id` (a query parameter); a row priced in another
//! currency is refused with the reason. Its invoices are files of lines (incoming receipts);
//! orders are CSV files in its order layout (with the customer id on every line), written to a
//! folder or uploaded, named by the order's number so each is placed once. The parsing and the
//! sources are `tiltas_feed`'s; this crate is the layouts and the settings.
#![forbid(unsafe_code)]

#[cfg(test)]
mod tests;

use tiltas_config::{KeyKind, KeySpec, KeyTable, OneOf, SystemSpec};
use tiltas_connector::{ConnectorError, OpenContext, PartQuoter, Source, System, Target};
use tiltas_feed::system::{Places, ACCESS, SOURCE_KEYS};
use tiltas_feed::{Credentials, FeedConnection, InvoiceLayout, OrderField, OrderLayout, PriceLayout, Supplier};

/// Vesna's files (English headers as its export writes them).
pub static SUPPLIER: Supplier = Supplier {
    system: "vesna",
    label: "Vesna",
    prices: PriceLayout {
        code: &["Code", "Код"],
        article: &["Article", "Артикул"],
        brand: &["Brand", "Бренд"],
        name: &["Description", "Name", "Найменування"],
        price: &["Price EUR", "Price", "Ціна"],
        currency: &["Currency", "Валюта"],
        ean: &["EAN"],
        stock_prefix: &["Stock ", "Склад "],
    },
    invoices: InvoiceLayout {
        number: &["Invoice No", "Invoice"],
        date: &["Invoice Date", "Date"],
        code: &["Code"],
        article: &["Article"],
        brand: &["Brand"],
        name: &["Description", "Name"],
        quantity: &["Qty", "Quantity"],
        price: &["Price EUR", "Price"],
        vat: &["VAT %", "VAT"],
        currency: &["Currency"],
    },
    orders: OrderLayout {
        delimiter: b',',
        decimal_comma: false,
        columns: &[
            ("customer_id", OrderField::Customer),
            ("order_no", OrderField::Number),
            ("code", OrderField::Code),
            ("quantity", OrderField::Quantity),
            ("price_eur", OrderField::Price),
            ("comment", OrderField::Note),
        ],
    },
    currency: "EUR",
    only_currency: true,
    credential_keys: "`token` and `customer_id`",
};

/// The price list is in a folder or at a URL, never both.
const PRICES_FOLDER_OR_URL: OneOf = OneOf {
    table: KeyTable::Connection,
    choices: &["folder", "feed_url"],
};

/// `system = "vesna"`.
pub static VESNA: SystemSpec = SystemSpec {
    name: "vesna",
    description: "Vesna (parts supplier, EUR only) as file feeds: price and stock lists (XLSX/CSV), invoices, order files — in folders or over HTTP",
    connection_keys: &[
        KeySpec::new("folder", KeyKind::Path, false, None, "the folder Vesna's price list (XLSX or CSV) is saved into: the newest file is read, older ones move to `done/`"),
        KeySpec::new("feed_url", KeyKind::Url, false, None, "or the price list's address, fetched with `token` and `customer_id`"),
        KeySpec::new("invoices_folder", KeyKind::Path, false, None, "the folder invoice files are saved into: each is imported once, then moved to `done/`"),
        KeySpec::new("invoices_url", KeyKind::Url, false, None, "or the invoice lines' address (asked with `?since=YYYY-MM-DD`)"),
        KeySpec::new("orders_folder", KeyKind::Path, false, None, "the folder order files are written into for Vesna to collect"),
        KeySpec::new("order_url", KeyKind::Url, false, None, "or the address order files are uploaded to (HTTP POST)"),
        KeySpec::new("token", KeyKind::Secret, false, None, "the API token Vesna issued (sent as `Authorization: Bearer`)"),
        KeySpec::new("customer_id", KeyKind::String, false, None, "the customer id Vesna issued with the token (sent as `?customer_id=`, and written on order lines)"),
        KeySpec::new("timeout", KeyKind::Duration, false, Some("60s"), "how long one request may take (a price list may be large)"),
    ],
    source_keys: &SOURCE_KEYS,
    target_keys: &[],
    entities: &ACCESS,
    accounting: false,
    one_of: &[PRICES_FOLDER_OR_URL],
    needs: &[],
    money_places: None,
};

/// A Vesna connection, defaults from [`VESNA`]'s spec.
#[derive(Debug, serde::Deserialize)]
struct ConnectionSettings {
    folder: Option<std::path::PathBuf>,
    feed_url: Option<String>,
    invoices_folder: Option<std::path::PathBuf>,
    invoices_url: Option<String>,
    orders_folder: Option<std::path::PathBuf>,
    order_url: Option<String>,
    token: Option<tiltas_config::Secret>,
    customer_id: Option<String>,
    timeout: std::time::Duration,
}

fn connection_of(context: &OpenContext<'_>) -> Result<std::sync::Arc<FeedConnection>, ConnectorError> {
    let settings: ConnectionSettings = context.connection_settings(&VESNA)?;
    let credentials = match (settings.token, settings.customer_id) {
        (Some(token), Some(customer_id)) => Credentials::TokenAndCustomer {
            token: tiltas_connector::http::reveal(&token)?,
            customer_id,
        },
        _ => Credentials::None,
    };
    let places = Places {
        folder: settings.folder,
        feed_url: settings.feed_url,
        invoices_folder: settings.invoices_folder,
        invoices_url: settings.invoices_url,
        orders_folder: settings.orders_folder,
        order_url: settings.order_url,
    };
    tiltas_feed::system::connect(&SUPPLIER, context, places, credentials, settings.timeout)
}

/// Vesna as one system.
pub struct VesnaSystem;

impl System for VesnaSystem {
    fn spec(&self) -> &'static SystemSpec {
        &VESNA
    }

    fn readme(&self) -> Option<tiltas_connector::Readme> {
        tiltas_connector::readme!()
    }

    fn open_source(&self, context: &OpenContext<'_>) -> Result<Box<dyn Source>, ConnectorError> {
        context.check_access(&VESNA, false)?;
        tiltas_feed::system::open_source(context, connection_of(context)?)
    }

    fn open_target(&self, context: &OpenContext<'_>) -> Result<Box<dyn Target>, ConnectorError> {
        context.check_access(&VESNA, true)?;
        tiltas_feed::system::open_target(context, connection_of(context)?)
    }

    fn open_quoter(&self, context: &OpenContext<'_>) -> Result<Box<dyn PartQuoter>, ConnectorError> {
        Ok(tiltas_feed::system::open_quoter(connection_of(context)?))
    }

    fn quotes(&self) -> bool {
        true
    }
}

tiltas_connector::test_registry!(
    &crate::VesnaSystem,
    &tiltas_smartup::SmartupSystem,
    &tiltas_files::JsonlSystem
);
