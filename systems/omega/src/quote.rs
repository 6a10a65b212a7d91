//! Asking Omega about one part: with a brand, `product/searchBrand` (`Code`, `Brand`,
//! `Rest = 1`), the call Omega's clients use; without one, `product/search` by the number as
//! the phrase, keeping the products whose number is the asked one once normalised (Omega's
//! phrase search also finds names and cross numbers).
use crate::client::Client;
use crate::read::offer;
use crate::wire::{self, Product};
use tiltas_connector::{ConnectorError, ErrorKind, PartQuery, PartQuoter};
use tiltas_model::parts::normalise_article;
use tiltas_model::SupplierOffer;

/// The quoter of a connection.
pub(crate) struct OmegaQuoter {
    pub client: Client,
}

#[async_trait::async_trait]
impl PartQuoter for OmegaQuoter {
    async fn quote(&self, query: &PartQuery) -> Result<Vec<SupplierOffer>, ConnectorError> {
        let article = query.article.trim();
        if normalise_article(article).is_empty() {
            return Err(ConnectorError::new(
                ErrorKind::Invalid,
                format!(
                    "connection \"{}\": part {:?} has no letters or digits: give the maker's article number",
                    self.client.connection, query.article
                ),
            ));
        }
        let brand = query.brand.as_deref().map(str::trim).filter(|b| !b.is_empty());
        let (path, answer) = match brand {
            Some(brand) => {
                let fields = [
                    ("Code", article.to_owned()),
                    ("Brand", brand.to_owned()),
                    ("Rest", "1".to_owned()),
                ];
                (
                    wire::SEARCH_BRAND,
                    self.client.form::<Vec<Product>>(wire::SEARCH_BRAND, &fields).await?,
                )
            }
            None => {
                let fields = [
                    ("SearchPhrase", article.to_owned()),
                    ("Rest", "1".to_owned()),
                    ("From", "0".to_owned()),
                    ("Count", wire::MAX_SEARCH_COUNT.to_string()),
                ];
                (
                    wire::SEARCH,
                    self.client.form::<Vec<Product>>(wire::SEARCH, &fields).await?,
                )
            }
        };
        let products = answer.map_err(|text| {
            ConnectorError::new(
                ErrorKind::Invalid,
                format!(
                    "connection \"{}\": part {article}{}: Omega refused POST {path}: {text}; check the number and brand",
                    self.client.connection,
                    brand.map(|b| format!(" ({b})")).unwrap_or_default()
                ),
            )
        })?;
        let wanted = normalise_article(article);
        Ok(products
            .iter()
            .filter(|product| normalise_article(&product.number) == wanted)
            .map(|product| offer(product, &self.client))
            .collect())
    }
}
