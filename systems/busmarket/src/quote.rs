//! A quote for one part: Bus Market's search by the maker's number (it searches codes,
//! articles and names, so results are kept only when their article is the same number once
//! normalised), then for each product its stock per warehouse and its current price in the
//! connection's currency.
use crate::client::Client;
use crate::read::offer;
use crate::wire::{self, Price};
use tiltas_connector::{ConnectorError, ErrorKind, PartQuery, PartQuoter};
use tiltas_model::parts::normalise_article;
use tiltas_model::SupplierOffer;

/// Pages of search results looked through for one number: a number shared by more products
/// than this is not one part.
const MAX_SEARCH_PAGES: usize = 3;

/// The quoter of a connection.
pub(crate) struct Quoter {
    client: Client,
}

impl Quoter {
    pub fn new(client: Client) -> Quoter {
        Quoter { client }
    }

    /// Products whose article is `query`'s number, from every page of the search (up to
    /// [`MAX_SEARCH_PAGES`]).
    async fn products(&self, query: &PartQuery) -> Result<Vec<wire::Product>, ConnectorError> {
        let wanted = normalise_article(&query.article);
        let mut found = Vec::new();
        for page in 1..=MAX_SEARCH_PAGES {
            let results = self
                .client
                .search(query.article.trim(), page, wire::MAX_PER_PAGE)
                .await?;
            found.extend(
                results
                    .products
                    .into_iter()
                    .filter(|product| normalise_article(&product.article) == wanted),
            );
            if page * results.per_page.max(1) >= results.total {
                break;
            }
        }
        Ok(found)
    }
}

impl Quoter {
    /// The offers of every product whose article is `query`'s number.
    async fn offers(&self, query: &PartQuery) -> Result<Vec<SupplierOffer>, ConnectorError> {
        let mut offers = Vec::new();
        for product in self.products(query).await? {
            let priced = async {
                let stock = self.client.stock_of(&product.uuid).await?;
                let path = format!("/product/{}/price", product.uuid);
                let price: Price = self
                    .client
                    .get_patiently(&path, &[("currency", self.client.currency.clone())])
                    .await?;
                Ok::<_, ConnectorError>(offer(&product, &stock, Some(&price)))
            };
            match priced.await {
                Ok(offer) => offers.push(offer),
                // Listed by the search but refused by its product calls: withdrawn, no offer.
                Err(error) if error.kind == ErrorKind::Invalid => {
                    tracing::debug!(code = %product.code, "Bus Market refused a product its search listed: {}", error.message);
                }
                Err(error) => {
                    return Err(ConnectorError {
                        message: format!(
                            "Bus Market code {} ({}): {}",
                            product.code, product.brand, error.message
                        ),
                        ..error
                    })
                }
            }
        }
        Ok(offers)
    }
}

#[async_trait::async_trait]
impl PartQuoter for Quoter {
    async fn quote(&self, query: &PartQuery) -> Result<Vec<SupplierOffer>, ConnectorError> {
        if normalise_article(&query.article).is_empty() {
            return Err(ConnectorError::new(
                ErrorKind::Invalid,
                format!(
                    "connection \"{}\": part {:?} has no letters or digits to search Bus Market for: give the maker's number",
                    self.client.connection, query.article
                ),
            ));
        }
        self.offers(query).await.map_err(|error| ConnectorError {
            message: format!("part {}: {}", query.article.trim(), error.message),
            ..error
        })
    }
}
