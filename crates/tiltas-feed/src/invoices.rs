//! Invoices as a flow's source: a folder of invoice files, each imported once as the drop
//! folder does ([`tiltas_connector::filedrop`]: moved to `done/` when settled, an unreadable
//! file to `failed/`), or fetched from a URL by issue date (`?since=YYYY-MM-DD`) — the day of
//! the last run's `changed_since`, or `since` days back on the first.
use crate::connection::{FeedConnection, Location};
use crate::invoice::Receiving;
use crate::table::read_table;
use chrono::{Duration, Utc};
use std::sync::Arc;
use tiltas_connector::filedrop::{DroppedFile, FileDropSource, FileError, FileParser, FileReader, ParsedFile};
use tiltas_connector::{ConnectorError, ErrorKind, Page, ReadRequest, RecordFailure, Source, SourceRecord};

/// Reads one dropped invoice file.
struct InvoiceParser {
    connection: Arc<FeedConnection>,
    receiving: Receiving,
}

impl FileParser for InvoiceParser {
    fn open(&self, file: &DroppedFile) -> Result<Box<dyn FileReader>, FileError> {
        let bytes = std::fs::read(&file.path).map_err(|error| {
            ConnectorError::new(
                ErrorKind::Fatal,
                format!("{} cannot be read: {error}", file.path.display()),
            )
        })?;
        let table = read_table(&bytes)?;
        let records = self
            .connection
            .supplier
            .invoices(&table, &file.name, &self.connection.name, &self.receiving)?;
        Ok(Box::new(ParsedFile::new(records)))
    }
}

/// Invoices fetched over HTTP.
pub struct RemoteInvoices {
    connection: Arc<FeedConnection>,
    url: String,
    receiving: Receiving,
    since_days: i64,
    fetched: Vec<Result<SourceRecord, RecordFailure>>,
}

/// The invoice source of a connection.
pub fn invoice_source(
    connection: Arc<FeedConnection>,
    receiving: Receiving,
    since_days: i64,
) -> Result<Box<dyn Source>, ConnectorError> {
    match connection.invoices.clone() {
        None => Err(ConnectorError::new(
            ErrorKind::Fatal,
            format!(
                "connection \"{}\": no invoices to read: set `invoices_folder` (where {} invoice files are saved) or `invoices_url`",
                connection.name, connection.supplier.label
            ),
        )),
        Some(Location::Folder(folder)) => {
            let parser = InvoiceParser { connection, receiving };
            Ok(Box::new(FileDropSource::open(folder, parser)?))
        }
        Some(Location::Url(url)) => Ok(Box::new(RemoteInvoices {
            connection,
            url,
            receiving,
            since_days: since_days.max(0),
            fetched: Vec::new(),
        })),
    }
}

#[async_trait::async_trait]
impl Source for RemoteInvoices {
    async fn read_page(&mut self, request: &ReadRequest) -> Result<Page, ConnectorError> {
        let offset: usize = request.position.as_deref().and_then(|p| p.parse().ok()).unwrap_or(0);
        let mut calls = 0;
        if offset == 0 || self.fetched.is_empty() {
            let since = request
                .changed_since
                .map(|since| since.date_naive())
                .unwrap_or_else(|| Utc::now().date_naive() - Duration::days(self.since_days));
            let query = [("since", since.format("%Y-%m-%d").to_string())];
            let fetched = self.connection.fetch(&self.url, &query, "invoices_url").await?;
            calls = 1;
            let what = self.connection.what("GET", &self.url);
            let table = read_table(&fetched.bytes)
                .map_err(|unreadable| ConnectorError::new(ErrorKind::Transient, format!("{what}: {unreadable}")))?;
            let name = crate::connection::shown(&self.url)
                .rsplit('/')
                .next()
                .unwrap_or("invoices")
                .to_owned();
            self.fetched = self
                .connection
                .supplier
                .invoices(&table, &name, &self.connection.name, &self.receiving)
                .map_err(|unreadable| ConnectorError::new(ErrorKind::Fatal, format!("{what}: {unreadable}")))?;
        }
        let end = offset.saturating_add(request.page_size.max(1)).min(self.fetched.len());
        Ok(Page {
            records: self.fetched[offset.min(end)..end].to_vec(),
            next: (end < self.fetched.len()).then(|| end.to_string()),
            api_calls: calls,
        })
    }
}
