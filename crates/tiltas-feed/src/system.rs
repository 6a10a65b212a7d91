//! What a file-feed supplier's `System` shares: the entities it reads and writes, the keys of
//! a flow's `from`, and opening its connection, sources, target and quoter from the settings.
use crate::connection::{Credentials, FeedConnection, Location};
use crate::invoice::Receiving;
use crate::layout::Supplier;
use crate::records::Reading;
use crate::{invoice_source, FeedQuoter, OrderTarget, PriceSource};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tiltas_config::{EntityAccess, KeyKind, KeySpec};
use tiltas_connector::{ConnectorError, OpenContext, PartQuoter, Source, Target};
use tiltas_model::EntityKind;

/// What a feed supplier reads and writes: products, stock and offers from the price list
/// (whole each run), invoices as documents (each new one once), orders as files.
pub const ACCESS: [EntityAccess; 5] = [
    EntityAccess::new(EntityKind::Product, true, false, false),
    EntityAccess::new(EntityKind::Stock, true, false, false),
    EntityAccess::new(EntityKind::SupplierOffer, true, false, false),
    EntityAccess::new(EntityKind::Document, true, false, true),
    EntityAccess::new(EntityKind::Order, false, true, false),
];

/// The keys of a flow's `from` on a feed supplier (they concern invoices).
pub const SOURCE_KEYS: [KeySpec; 3] = [
    KeySpec::new("counterparty", KeyKind::String, false, None, "for documents: the supplier's code in the ERP, written as each invoice's counterparty (unset: the system's name in capitals)"),
    KeySpec::new("warehouse", KeyKind::String, false, None, "for documents: the ERP warehouse the goods are received into"),
    KeySpec::new("since", KeyKind::Integer, false, Some("90"), "for documents from `invoices_url`: on the first run, how many days back invoices are asked for"),
];

/// Where a connection's feeds are, as its settings say.
#[derive(Debug, Clone, Default)]
pub struct Places {
    /// `folder`: the price list's drop folder.
    pub folder: Option<PathBuf>,
    /// `feed_url`: the price list's URL.
    pub feed_url: Option<String>,
    /// `invoices_folder`.
    pub invoices_folder: Option<PathBuf>,
    /// `invoices_url`.
    pub invoices_url: Option<String>,
    /// `orders_folder`.
    pub orders_folder: Option<PathBuf>,
    /// `order_url`.
    pub order_url: Option<String>,
}

fn place(base: &Path, folder: Option<PathBuf>, url: Option<String>) -> Option<Location> {
    match (folder, url) {
        (Some(folder), _) => Some(Location::Folder(base.join(folder))),
        (None, Some(url)) => Some(Location::Url(url)),
        (None, None) => None,
    }
}

/// The connection of `context` (folders relative to the flow file's folder).
pub fn connect(
    supplier: &'static Supplier,
    context: &OpenContext<'_>,
    places: Places,
    credentials: Credentials,
    timeout: std::time::Duration,
) -> Result<Arc<FeedConnection>, ConnectorError> {
    let base = context.base_dir;
    let name = &context.connection.name;
    let prices = place(base, places.folder, places.feed_url).ok_or_else(|| {
        ConnectorError::new(
            tiltas_connector::ErrorKind::Fatal,
            format!("connection \"{name}\": set `folder` (where the price list is saved) or `feed_url`"),
        )
    })?;
    let invoices = place(base, places.invoices_folder, places.invoices_url);
    let orders = place(base, places.orders_folder, places.order_url);
    let connection = FeedConnection::new(
        supplier,
        name,
        prices,
        invoices,
        orders,
        credentials,
        timeout,
        context.gate.clone(),
    )?;
    Ok(Arc::new(connection))
}

/// A flow's `from` on a feed supplier.
#[derive(Debug, serde::Deserialize)]
struct SourceSettings {
    counterparty: Option<String>,
    warehouse: Option<String>,
    since: i64,
}

/// The source of `context`'s flow on `connection`.
pub fn open_source(
    context: &OpenContext<'_>,
    connection: Arc<FeedConnection>,
) -> Result<Box<dyn Source>, ConnectorError> {
    let reading = match context.entity {
        EntityKind::Product => Reading::Products,
        EntityKind::Stock => Reading::Stock,
        EntityKind::SupplierOffer => Reading::Offers,
        EntityKind::Document => {
            let settings: SourceSettings = context.endpoint_settings(&SOURCE_KEYS)?;
            let receiving = Receiving {
                counterparty: settings
                    .counterparty
                    .unwrap_or_else(|| connection.supplier.system.to_uppercase()),
                warehouse: settings.warehouse,
            };
            return invoice_source(connection, receiving, settings.since);
        }
        _ => return Err(context.unsupported("source")),
    };
    Ok(Box::new(PriceSource::new(connection, reading)))
}

/// The order target of `connection`.
pub fn open_target(
    context: &OpenContext<'_>,
    connection: Arc<FeedConnection>,
) -> Result<Box<dyn Target>, ConnectorError> {
    if context.entity != EntityKind::Order {
        return Err(context.unsupported("target"));
    }
    Ok(Box::new(OrderTarget::open(connection)?))
}

/// The quoter of `connection`.
pub fn open_quoter(connection: Arc<FeedConnection>) -> Box<dyn PartQuoter> {
    Box::new(FeedQuoter::new(connection))
}
