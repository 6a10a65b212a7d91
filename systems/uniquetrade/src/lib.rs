//! Unique Trade, a parts supplier without a documented API (`shared/protocols/erp-and-suppliers.md`
//! §5), as file feeds: its price and stock list (CSV with `;` and decimal commas, UTF-8 with a
//! byte-order mark, or an XLSX export; one row per part by article number and brand, one stock
//! column per branch) dropped into a folder or fetched from a URL with the portal's login and
//! password (HTTP Basic); its invoices as files of lines (incoming receipts); orders as CSV
//! files in its order layout, written to a folder or uploaded, named by the order's number so
//! each is placed once. The parsing and the sources are `tiltas_feed`'s; this crate is the
//! layouts and the settings.
#![forbid(unsafe_code)]

#[cfg(test)]
mod tests;

use tiltas_config::{KeyKind, KeySpec, KeyTable, OneOf, SystemSpec};
use tiltas_connector::{ConnectorError, OpenContext, PartQuoter, Source, System, Target};
use tiltas_feed::system::{Places, ACCESS, SOURCE_KEYS};
use tiltas_feed::{Credentials, FeedConnection, InvoiceLayout, OrderField, OrderLayout, PriceLayout, Supplier};

/// Unique Trade's files: Ukrainian headers as its price list export writes them, English ones
/// accepted too.
pub static SUPPLIER: Supplier = Supplier {
    system: "uniquetrade",
    label: "Unique Trade",
    prices: PriceLayout {
        code: &["Код", "Code"],
        article: &["Артикул", "Article"],
        brand: &["Бренд", "Виробник", "Brand"],
        name: &["Найменування", "Назва", "Name"],
        price: &["Ціна", "Ціна, грн", "Price"],
        currency: &["Валюта", "Currency"],
        ean: &["Штрихкод", "EAN"],
        stock_prefix: &["Склад ", "Stock "],
    },
    invoices: InvoiceLayout {
        number: &["Номер накладної", "Invoice"],
        date: &["Дата", "Date"],
        code: &["Код", "Code"],
        article: &["Артикул", "Article"],
        brand: &["Бренд", "Brand"],
        name: &["Найменування", "Name"],
        quantity: &["Кількість", "Quantity"],
        price: &["Ціна", "Price"],
        vat: &["ПДВ, %", "VAT"],
        currency: &["Валюта", "Currency"],
    },
    orders: OrderLayout {
        delimiter: b';',
        decimal_comma: true,
        columns: &[
            ("Номер замовлення", OrderField::Number),
            ("Код", OrderField::Code),
            ("Найменування", OrderField::Name),
            ("Кількість", OrderField::Quantity),
            ("Ціна", OrderField::Price),
            ("Коментар", OrderField::Note),
        ],
    },
    currency: "UAH",
    only_currency: false,
    credential_keys: "`login` and `password`",
};

/// The price list is in a folder or at a URL, never both.
const PRICES_FOLDER_OR_URL: OneOf = OneOf {
    table: KeyTable::Connection,
    choices: &["folder", "feed_url"],
};

/// `system = "uniquetrade"`.
pub static UNIQUETRADE: SystemSpec = SystemSpec {
    name: "uniquetrade",
    description: "Unique Trade (parts supplier) as file feeds: price and stock lists (CSV/XLSX), invoices, order files — in folders or over HTTP",
    connection_keys: &[
        KeySpec::new("folder", KeyKind::Path, false, None, "the folder Unique Trade's price list (CSV or XLSX) is saved into: the newest file is read, older ones move to `done/`"),
        KeySpec::new("feed_url", KeyKind::Url, false, None, "or the price list's address, fetched with `login` and `password`"),
        KeySpec::new("invoices_folder", KeyKind::Path, false, None, "the folder invoice files are saved into: each is imported once, then moved to `done/`"),
        KeySpec::new("invoices_url", KeyKind::Url, false, None, "or the invoice lines' address (asked with `?since=YYYY-MM-DD`)"),
        KeySpec::new("orders_folder", KeyKind::Path, false, None, "the folder order files are written into for Unique Trade to collect"),
        KeySpec::new("order_url", KeyKind::Url, false, None, "or the address order files are uploaded to (HTTP POST)"),
        KeySpec::new("login", KeyKind::String, false, None, "the portal login (for the `…_url` keys)"),
        KeySpec::new("password", KeyKind::Secret, false, None, "the portal password"),
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

/// A Unique Trade connection, defaults from [`UNIQUETRADE`]'s spec.
#[derive(Debug, serde::Deserialize)]
struct ConnectionSettings {
    folder: Option<std::path::PathBuf>,
    feed_url: Option<String>,
    invoices_folder: Option<std::path::PathBuf>,
    invoices_url: Option<String>,
    orders_folder: Option<std::path::PathBuf>,
    order_url: Option<String>,
    login: Option<String>,
    password: Option<tiltas_config::Secret>,
    timeout: std::time::Duration,
}

fn connection_of(context: &OpenContext<'_>) -> Result<std::sync::Arc<FeedConnection>, ConnectorError> {
    let settings: ConnectionSettings = context.connection_settings(&UNIQUETRADE)?;
    let credentials = match (settings.login, settings.password) {
        (Some(login), Some(password)) => Credentials::Basic {
            login,
            password: tiltas_connector::http::reveal(&password)?,
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

/// Unique Trade as one system.
pub struct UniqueTradeSystem;

impl System for UniqueTradeSystem {
    fn spec(&self) -> &'static SystemSpec {
        &UNIQUETRADE
    }

    fn readme(&self) -> Option<tiltas_connector::Readme> {
        tiltas_connector::readme!()
    }

    fn open_source(&self, context: &OpenContext<'_>) -> Result<Box<dyn Source>, ConnectorError> {
        context.check_access(&UNIQUETRADE, false)?;
        tiltas_feed::system::open_source(context, connection_of(context)?)
    }

    fn open_target(&self, context: &OpenContext<'_>) -> Result<Box<dyn Target>, ConnectorError> {
        context.check_access(&UNIQUETRADE, true)?;
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
    &crate::UniqueTradeSystem,
    &tiltas_smartup::SmartupSystem,
    &tiltas_files::JsonlSystem
);
