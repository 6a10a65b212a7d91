//! Quotes from the last price list: the folder's newest file (read again only when it
//! changed), or the URL's feed fetched at most every [`REFETCH_AFTER`]. A row is an offer for
//! the asked part when its article number, supplier code or EAN is the asked one once
//! normalised; `raw.feed_date` says how old the price is.
use crate::connection::{FeedConnection, Location};
use crate::prices::{feed_files, FolderFile, LoadedFeed};
use crate::records::supplier_offer;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tiltas_connector::{ConnectorError, ErrorKind, PartQuery, PartQuoter};
use tiltas_model::parts::normalise_article;
use tiltas_model::SupplierOffer;

/// How long a fetched feed answers quotes before it is fetched again.
pub const REFETCH_AFTER: Duration = Duration::from_secs(300);

/// What the cached feed was loaded from.
#[derive(Debug, Clone, PartialEq)]
enum Origin {
    File {
        name: String,
        modified: SystemTime,
        len: u64,
    },
    Fetched(Instant),
}

/// A supplier connection asked about parts.
pub struct FeedQuoter {
    connection: Arc<FeedConnection>,
    cache: tokio::sync::Mutex<Option<(Origin, Arc<LoadedFeed>)>>,
}

impl FeedQuoter {
    /// Quotes from `connection`'s price list.
    pub fn new(connection: Arc<FeedConnection>) -> FeedQuoter {
        FeedQuoter {
            connection,
            cache: tokio::sync::Mutex::new(None),
        }
    }

    /// The price list to answer from: cached while still current.
    async fn feed(&self) -> Result<Option<Arc<LoadedFeed>>, ConnectorError> {
        let mut cache = self.cache.lock().await;
        match &self.connection.prices {
            Location::Folder(folder) => {
                let Some(newest) = feed_files(folder)?.into_iter().next() else {
                    return Ok(None);
                };
                let origin = origin_of(&newest);
                if let Some((cached, feed)) = cache.as_ref() {
                    if *cached == origin {
                        return Ok(Some(feed.clone()));
                    }
                }
                let feed = Arc::new(self.connection.load_file(&newest)?);
                *cache = Some((origin, feed.clone()));
                Ok(Some(feed))
            }
            Location::Url(_) => {
                if let Some((Origin::Fetched(at), feed)) = cache.as_ref() {
                    if at.elapsed() < REFETCH_AFTER {
                        return Ok(Some(feed.clone()));
                    }
                }
                let Some(feed) = self.connection.load_prices().await? else {
                    return Ok(None);
                };
                let feed = Arc::new(feed);
                *cache = Some((Origin::Fetched(Instant::now()), feed.clone()));
                Ok(Some(feed))
            }
        }
    }
}

fn origin_of(file: &FolderFile) -> Origin {
    Origin::File {
        name: file.name.clone(),
        modified: file.modified,
        len: file.len,
    }
}

#[async_trait::async_trait]
impl PartQuoter for FeedQuoter {
    async fn quote(&self, query: &PartQuery) -> Result<Vec<SupplierOffer>, ConnectorError> {
        let wanted = normalise_article(&query.article);
        if wanted.is_empty() {
            return Err(ConnectorError::new(
                ErrorKind::Invalid,
                format!(
                    "connection \"{}\": part {:?} has no letters or digits: give the maker's article number",
                    self.connection.name, query.article
                ),
            ));
        }
        let Some(feed) = self.feed().await? else {
            return Ok(Vec::new());
        };
        let supplier = self.connection.supplier;
        Ok(feed
            .rows
            .iter()
            .filter_map(|row| row.as_ref().ok())
            .filter(|offer| {
                normalise_article(&offer.article) == wanted
                    || normalise_article(&offer.code) == wanted
                    || offer.ean.as_deref().is_some_and(|ean| ean == wanted)
            })
            .map(|offer| supplier_offer(supplier, offer, &feed.file))
            .collect())
    }
}
