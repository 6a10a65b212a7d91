//! The price and stock list: loading the newest feed (the newest file of the folder, older ones
//! moved to `done/` as superseded; or fetched from the URL), and the source that reads it as
//! products, stock levels or supplier offers.
use crate::connection::{FeedConnection, Location};
use crate::layout::{FeedOffer, RowProblem};
use crate::records::{row_records, FeedFile, Reading};
use crate::table::read_table;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;
use tiltas_connector::filedrop::{FileError, DONE, FAILED};
use tiltas_connector::{ConnectorError, ErrorKind, Page, ReadRequest, Source};

/// A price list as loaded: the file it came from and its rows.
#[derive(Debug, Clone)]
pub struct LoadedFeed {
    /// Which file, published when.
    pub file: FeedFile,
    /// Its rows.
    pub rows: Vec<Result<FeedOffer, RowProblem>>,
}

/// Name endings of files still being written.
const UNFINISHED: [&str; 6] = [".part", ".partial", ".tmp", ".crdownload", ".download", "~"];

/// A feed file of the folder with its modification time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FolderFile {
    pub path: PathBuf,
    pub name: String,
    pub modified: SystemTime,
    pub len: u64,
}

/// The feed files in `folder`, newest first.
pub(crate) fn feed_files(folder: &Path) -> Result<Vec<FolderFile>, ConnectorError> {
    let entries = std::fs::read_dir(folder).map_err(|error| {
        ConnectorError::new(
            ErrorKind::Fatal,
            format!(
                "the feed folder {} cannot be listed: {error}: create it, or correct `folder`",
                folder.display()
            ),
        )
    })?;
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name.starts_with("~$") || UNFINISHED.iter().any(|end| name.ends_with(end)) {
            continue;
        }
        let Ok(metadata) = std::fs::metadata(entry.path()) else {
            continue;
        };
        if !metadata.is_file() || name == DONE || name == FAILED {
            continue;
        }
        files.push(FolderFile {
            path: entry.path(),
            name,
            modified: metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            len: metadata.len(),
        });
    }
    files.sort_by(|a, b| (b.modified, &b.name).cmp(&(a.modified, &a.name)));
    Ok(files)
}

/// Moves feeds older than the newest to `done/` (they are superseded: the newest price list
/// replaces them whole), named as the drop folder names what it imported.
fn retire(folder: &Path, older: &[FolderFile]) {
    if older.is_empty() {
        return;
    }
    let done = folder.join(DONE);
    if let Err(error) = std::fs::create_dir_all(&done) {
        tracing::warn!(folder = %done.display(), %error, "superseded feeds cannot be moved: they stay");
        return;
    }
    let stamp = Utc::now().format("%Y%m%dT%H%M%SZ");
    for file in older {
        let to = done.join(format!("{stamp}_superseded_{}", file.name));
        // Another flow of the same feed may have moved it first: that is the same outcome.
        if let Err(error) = std::fs::rename(&file.path, &to) {
            tracing::debug!(file = %file.path.display(), %error, "superseded feed not moved");
        }
    }
}

impl FeedConnection {
    /// The newest price list, or `None` when the folder holds none yet.
    pub async fn load_prices(&self) -> Result<Option<LoadedFeed>, ConnectorError> {
        match &self.prices {
            Location::Folder(folder) => {
                let files = feed_files(folder)?;
                let Some((newest, older)) = files.split_first() else {
                    return Ok(None);
                };
                retire(folder, older);
                self.load_file(newest).map(Some)
            }
            Location::Url(url) => {
                let fetched = self.fetch(url, &[], "feed_url").await?;
                let name = crate::connection::shown(url)
                    .rsplit('/')
                    .next()
                    .unwrap_or("feed")
                    .to_owned();
                let date = fetched.modified.unwrap_or_else(Utc::now);
                let table = read_table(&fetched.bytes).map_err(|unreadable| {
                    let html = fetched.bytes.trim_ascii_start().starts_with(b"<");
                    let kind = if html { ErrorKind::Transient } else { ErrorKind::Fatal };
                    ConnectorError::new(
                        kind,
                        format!(
                            "{}: the feed cannot be read: {unreadable}{}",
                            self.what("GET", url),
                            if html {
                                " (an HTML page came instead: a proxy or maintenance page? it is tried again)"
                            } else {
                                ""
                            }
                        ),
                    )
                })?;
                self.loaded(&table, name, date, None).map(Some)
            }
        }
    }

    pub(crate) fn load_file(&self, file: &FolderFile) -> Result<LoadedFeed, ConnectorError> {
        let bytes = std::fs::read(&file.path).map_err(|error| {
            ConnectorError::new(
                ErrorKind::Fatal,
                format!(
                    "connection \"{}\": the feed {} cannot be read: {error}: let the user running Tiltas read it",
                    self.name,
                    file.path.display()
                ),
            )
        })?;
        let table = read_table(&bytes).map_err(|unreadable| self.unreadable(&file.path, unreadable))?;
        let date: DateTime<Utc> = file.modified.into();
        self.loaded(&table, file.name.clone(), date, Some(&file.path))
    }

    fn unreadable(&self, path: &Path, unreadable: tiltas_connector::filedrop::Unreadable) -> ConnectorError {
        let error = FileError::Unreadable(unreadable).for_path(path);
        ConnectorError {
            message: format!(
                "connection \"{}\": {} feed {}",
                self.name, self.supplier.label, error.message
            ),
            ..error
        }
    }

    fn loaded(
        &self,
        table: &crate::table::Table,
        name: String,
        date: DateTime<Utc>,
        path: Option<&Path>,
    ) -> Result<LoadedFeed, ConnectorError> {
        let list = self.supplier.price_list(table).map_err(|unreadable| match path {
            Some(path) => self.unreadable(path, unreadable),
            None => ConnectorError::new(
                ErrorKind::Fatal,
                format!(
                    "connection \"{}\": {} feed {name}: {unreadable}",
                    self.name, self.supplier.label
                ),
            ),
        })?;
        Ok(LoadedFeed {
            file: FeedFile { name, date },
            rows: list.rows,
        })
    }
}

/// A flow's source on a price list.
pub struct PriceSource {
    connection: Arc<FeedConnection>,
    reading: Reading,
    loaded: Option<LoadedFeed>,
}

impl PriceSource {
    /// Reads the connection's price list as `reading`.
    pub fn new(connection: Arc<FeedConnection>, reading: Reading) -> PriceSource {
        PriceSource {
            connection,
            reading,
            loaded: None,
        }
    }
}

#[async_trait::async_trait]
impl Source for PriceSource {
    /// Pages of rows of the newest feed; `next` is the index of the next row. The whole feed is
    /// read every run (a price list replaces the one before it), unchanged records are the
    /// engine's to skip.
    async fn read_page(&mut self, request: &ReadRequest) -> Result<Page, ConnectorError> {
        let offset: usize = request.position.as_deref().and_then(|p| p.parse().ok()).unwrap_or(0);
        let mut calls = 0;
        if offset == 0 || self.loaded.is_none() {
            self.loaded = self.connection.load_prices().await?;
            calls = u64::from(matches!(self.connection.prices, Location::Url(_)));
        }
        let Some(loaded) = &self.loaded else {
            tracing::info!(connection = %self.connection.name, "no feed file in the folder yet");
            return Ok(Page::default());
        };
        let end = offset.saturating_add(request.page_size.max(1)).min(loaded.rows.len());
        let start = offset.min(end);
        let supplier = self.connection.supplier;
        let records = loaded.rows[start..end]
            .iter()
            .flat_map(|row| row_records(supplier, self.reading, row, &loaded.file, &self.connection.name))
            .collect();
        Ok(Page {
            records,
            next: (end < loaded.rows.len()).then(|| end.to_string()),
            api_calls: calls,
        })
    }
}
