//! Asking Inter Cars about one part: the catalogue by the maker's number
//! (`GET /catalog/products?index=…`, which IC matches ignoring case and separators) gives the
//! SKUs carrying it — one per brand that makes the number; then their stock per branch in one
//! `GET /inventory/stock` call and their prices in `POST /pricing/quote` calls of ≤ 20 lines,
//! for the quantity asked (IC's customer price may depend on it).
use crate::client::Client;
use crate::read::supplier_offer;
use crate::wire::{self, ProductPage, Quote, StockRow};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::json;
use std::collections::BTreeMap;
use tiltas_connector::{ConnectorError, ErrorKind, PartQuery, PartQuoter};
use tiltas_model::parts::normalise_article;
use tiltas_model::SupplierOffer;

/// Catalogue pages looked through for one number: a number carried by more SKUs than this
/// (of [`wire::MAX_PAGE`] each) is not one part.
const MAX_CATALOGUE_PAGES: usize = 3;

/// The quoter of a connection.
pub(crate) struct IntercarsQuoter {
    pub client: Client,
}

/// Pieces asked in a quote line: the quantity rounded up, at least one.
fn pieces(quantity: Decimal) -> u32 {
    quantity.ceil().to_u32().unwrap_or(1).max(1)
}

impl IntercarsQuoter {
    /// The catalogue products whose index is `article` once normalised.
    async fn products(&self, article: &str) -> Result<Vec<wire::Product>, ConnectorError> {
        let wanted = normalise_article(article);
        let mut found = Vec::new();
        for page in 0..MAX_CATALOGUE_PAGES {
            let query = [
                ("index", article.to_owned()),
                ("limit", wire::MAX_PAGE.to_string()),
                ("offset", (page * wire::MAX_PAGE).to_string()),
            ];
            let answer = self.client.get::<ProductPage>("/catalog/products", &query).await?.body;
            let more = answer.has_next_page;
            // IC matches the index loosely; a product of another number is not this part.
            found.extend(
                answer
                    .products
                    .into_iter()
                    .filter(|product| normalise_article(&product.index) == wanted),
            );
            if !more {
                break;
            }
        }
        Ok(found)
    }

    /// Stock rows of `skus` (≤ 100, one call) and the SKUs IC did not know.
    async fn stock(&self, skus: &[String]) -> Result<(Vec<StockRow>, Vec<String>), ConnectorError> {
        let mut query = vec![("sku", skus.join(","))];
        query.extend(self.client.location.iter().map(|l| ("location", l.clone())));
        let answer = self.client.get::<Vec<StockRow>>("/inventory/stock", &query).await?;
        Ok((answer.body, answer.unknown))
    }

    /// Quoted lines of `skus` for `quantity` pieces each, by SKU, and the SKUs IC did not know.
    async fn prices(
        &self,
        skus: &[String],
        quantity: u32,
    ) -> Result<(BTreeMap<String, wire::QuotedLine>, Vec<String>), ConnectorError> {
        let mut prices = BTreeMap::new();
        let mut unknown = Vec::new();
        for chunk in skus.chunks(wire::MAX_QUOTE_LINES) {
            let lines: Vec<_> = chunk
                .iter()
                .map(|sku| json!({ "sku": sku, "quantity": quantity }))
                .collect();
            let answer = self
                .client
                .post::<Quote>("/pricing/quote", &json!({ "lines": lines }))
                .await?;
            unknown.extend(answer.unknown);
            prices.extend(answer.body.lines.into_iter().map(|line| (line.sku.clone(), line)));
        }
        Ok((prices, unknown))
    }

    async fn offers(&self, query: &PartQuery) -> Result<Vec<SupplierOffer>, ConnectorError> {
        let mut products = self.products(query.article.trim()).await?;
        products.truncate(wire::MAX_STOCK_SKUS);
        if products.is_empty() {
            return Ok(Vec::new());
        }
        let skus: Vec<String> = products.iter().map(|p| p.sku.clone()).collect();
        let (rows, mut unknown) = self.stock(&skus).await?;
        let (prices, unpriced) = self.prices(&skus, pieces(query.quantity)).await?;
        unknown.extend(unpriced);
        Ok(products
            .iter()
            // Listed by the catalogue but unknown to stock or pricing: withdrawn, no offer.
            .filter(|product| !unknown.contains(&product.sku))
            .map(|product| supplier_offer(product, &rows, prices.get(&product.sku)))
            .collect())
    }
}

#[async_trait::async_trait]
impl PartQuoter for IntercarsQuoter {
    async fn quote(&self, query: &PartQuery) -> Result<Vec<SupplierOffer>, ConnectorError> {
        if normalise_article(&query.article).is_empty() {
            return Err(ConnectorError::new(
                ErrorKind::Invalid,
                format!(
                    "connection \"{}\": part {:?} has no letters or digits to look Inter Cars' catalogue up by: give the maker's number",
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

#[cfg(test)]
mod tests {
    use super::pieces;
    use rust_decimal::Decimal;

    #[test]
    fn a_quote_asks_whole_pieces_rounded_up_and_at_least_one() {
        assert_eq!(pieces(Decimal::new(25, 1)), 3);
        assert_eq!(pieces(Decimal::ZERO), 1);
        assert_eq!(pieces(Decimal::from(4)), 4);
        assert_eq!(pieces(Decimal::from(-2)), 1);
    }
}
