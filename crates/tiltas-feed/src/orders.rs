//! Orders as files in the supplier's order layout, named by the order's number
//! (`<number>.csv`): written into a folder the supplier collects, or POSTed to its upload URL.
//! Exactly once: the name is the key — a file already there (on disk, or a 409 / a listed
//! file from the URL) is the order placed before, found by `lookup`, never written twice.
use crate::connection::{FeedConnection, Location};
use crate::layout::OrderField;
use rust_decimal::prelude::ToPrimitive;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use tiltas_connector::{BatchResult, ConnectorError, ErrorKind, FoundRecord, Lookup, Target, WriteItem, WriteOutcome};
use tiltas_model::Order;

/// The order target of a connection.
pub struct OrderTarget {
    connection: Arc<FeedConnection>,
    location: Location,
}

/// The file name of an order: its number, with characters file systems or URLs take badly
/// replaced by `_`.
pub fn order_file_name(number: &str) -> String {
    let safe: String = number
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}.csv")
}

fn invalid(message: String, field: &str) -> ConnectorError {
    ConnectorError::new(ErrorKind::Invalid, message).at_field(field)
}

fn decimal(value: rust_decimal::Decimal, comma: bool) -> String {
    let text = value.normalize().to_string();
    if comma {
        text.replace('.', ",")
    } else {
        text
    }
}

impl OrderTarget {
    /// Orders of `connection`, to its `orders_folder` or `order_url`.
    pub fn open(connection: Arc<FeedConnection>) -> Result<OrderTarget, ConnectorError> {
        let location = connection.orders.clone().ok_or_else(|| {
            ConnectorError::new(
                ErrorKind::Fatal,
                format!(
                    "connection \"{}\": no place for orders: set `orders_folder` (a folder {} collects) or `order_url`",
                    connection.name, connection.supplier.label
                ),
            )
        })?;
        Ok(OrderTarget { connection, location })
    }

    /// The order file of a payload: its name and CSV text, or why it cannot be one.
    fn order_file(&self, payload: &Value) -> Result<(String, String), ConnectorError> {
        let order: Order = serde_json::from_value(payload.clone())
            .map_err(|error| invalid(format!("not an order: {error}"), "lines"))?;
        let connection = &self.connection.name;
        if order.number.trim().is_empty() {
            return Err(invalid(
                format!("connection \"{connection}\": the order has no number, which names its file so it is placed once: map `number`"),
                "number",
            ));
        }
        if order.lines.is_empty() {
            return Err(invalid(format!("order {} has no lines", order.number), "lines"));
        }
        let layout = &self.connection.supplier.orders;
        let mut writer = csv::WriterBuilder::new()
            .delimiter(layout.delimiter)
            .from_writer(Vec::new());
        let header: Vec<&str> = layout.columns.iter().map(|(name, _)| *name).collect();
        let csv_error = |error: csv::Error| ConnectorError::new(ErrorKind::Fatal, format!("order file: {error}"));
        writer.write_record(&header).map_err(csv_error)?;
        for (at, line) in order.lines.iter().enumerate() {
            let whole = line
                .quantity
                .to_u32()
                .filter(|q| *q > 0 && line.quantity.fract().is_zero());
            if whole.is_none() || line.sku.trim().is_empty() {
                return Err(invalid(
                    format!(
                        "order {}: line {} ({:?}) has quantity {}; {} takes whole pieces above 0 of a supplier code: correct the order",
                        order.number, at + 1, line.sku, line.quantity, self.connection.supplier.label
                    ),
                    &format!("lines[{at}].quantity"),
                ));
            }
            let cells: Vec<String> = layout
                .columns
                .iter()
                .map(|(_, field)| match field {
                    OrderField::Number => order.number.clone(),
                    OrderField::Customer => self.connection.credentials.customer_id().unwrap_or("").to_owned(),
                    OrderField::Code => line.sku.trim().to_owned(),
                    OrderField::Name => line.name.clone().unwrap_or_default(),
                    OrderField::Quantity => line.quantity.normalize().to_string(),
                    OrderField::Price => line.price.map(|p| decimal(p, layout.decimal_comma)).unwrap_or_default(),
                    OrderField::Note => order.note.clone().unwrap_or_default(),
                })
                .collect();
            writer.write_record(&cells).map_err(csv_error)?;
        }
        let bytes = writer
            .into_inner()
            .map_err(|error| ConnectorError::new(ErrorKind::Fatal, format!("order file: {error}")))?;
        Ok((
            order_file_name(&order.number),
            String::from_utf8_lossy(&bytes).into_owned(),
        ))
    }

    /// Whether the order file `name` is already placed.
    async fn placed(&self, name: &str) -> Result<bool, ConnectorError> {
        match &self.location {
            Location::Folder(folder) => Ok(folder.join(name).is_file()),
            Location::Url(url) => {
                let file_url = format!("{}/{name}", url.trim_end_matches('/'));
                let what = self.connection.what("GET", &file_url);
                let fetched = self.connection.send(&what, self.connection.http.get(&file_url)).await?;
                Ok(fetched.status.is_success())
            }
        }
    }

    /// Places an order file exactly once; `Ok(false)` when it was already there.
    async fn place(&self, name: &str, text: &str) -> Result<bool, ConnectorError> {
        match &self.location {
            Location::Folder(folder) => write_once(folder, name, text),
            Location::Url(url) => {
                let what = self.connection.what("POST", url);
                let request = self
                    .connection
                    .http
                    .post(url)
                    .header("content-type", "text/csv; charset=utf-8")
                    .header("content-disposition", format!("attachment; filename=\"{name}\""))
                    .body(text.to_owned());
                let sent = self.connection.send(&what, request).await?;
                match sent.status.as_u16() {
                    409 => Ok(false),
                    404 => Err(ConnectorError::new(
                        ErrorKind::Fatal,
                        format!("{what}: 404: no order upload at this address: correct `order_url`"),
                    )),
                    _ => Ok(true),
                }
            }
        }
    }
}

/// Writes `folder/name` unless it exists: to a hidden temporary file first, then linked under
/// its name (which fails when the name is taken), so the supplier never picks up half a file
/// and two writers never both place it.
fn write_once(folder: &Path, name: &str, text: &str) -> Result<bool, ConnectorError> {
    let fatal = |error: std::io::Error, what: &str| {
        ConnectorError::new(
            ErrorKind::Fatal,
            format!(
                "the order file {} cannot be {what}: {error}: check `orders_folder` and that Tiltas may write there",
                folder.join(name).display()
            ),
        )
    };
    let temporary = folder.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&temporary, text).map_err(|error| fatal(error, "written"))?;
    let linked = std::fs::hard_link(&temporary, folder.join(name));
    let _ = std::fs::remove_file(&temporary);
    match linked {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(error) => Err(fatal(error, "placed")),
    }
}

#[async_trait::async_trait]
impl Target for OrderTarget {
    fn max_batch(&self) -> usize {
        20
    }

    fn can_lookup(&self) -> bool {
        true
    }

    async fn lookup(&mut self, _match_on: Option<&str>, keys: &[String]) -> Result<Lookup, ConnectorError> {
        let mut found = std::collections::HashMap::new();
        let mut api_calls = 0;
        for key in keys {
            let name = order_file_name(key);
            api_calls += u64::from(matches!(self.location, Location::Url(_)));
            if self.placed(&name).await? {
                found.insert(
                    key.clone(),
                    FoundRecord {
                        target_id: name,
                        data: None,
                    },
                );
            }
        }
        Ok(Lookup { found, api_calls })
    }

    async fn write_batch(&mut self, items: Vec<WriteItem>) -> Result<BatchResult, ConnectorError> {
        let mut outcomes = Vec::new();
        let mut api_calls = 0;
        for item in items {
            let (name, text) = match self.order_file(&item.payload) {
                Ok(file) => file,
                Err(error) => {
                    outcomes.push(WriteOutcome::Failed(error));
                    continue;
                }
            };
            api_calls += u64::from(matches!(self.location, Location::Url(_)));
            let placed = self.place(&name, &text).await?;
            if !placed {
                tracing::info!(connection = %self.connection.name, file = %name, "order already placed: not written again");
            }
            outcomes.push(WriteOutcome::Written { target_id: name });
        }
        Ok(BatchResult { outcomes, api_calls })
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        Ok(())
    }
}
