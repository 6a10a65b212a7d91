//! Asking Elit about one part: `getItemInfo` with the maker's number as `itemNo` and, when a
//! brand is given, the brand as `supplierCode` — Elit's own way to find an item by the maker's
//! number (without a brand `itemNo` is matched against Elit's numbers and makers' numbers
//! alike) — priced for the asked quantity; then one `getItemInfoAgregByTime` for the items
//! found, for what each warehouse can deliver by when. A part Elit does not carry is an empty
//! answer, not an error.
use crate::client::Client;
use crate::read::offer;
use crate::wire::{self, ItemLine};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use tiltas_connector::{ConnectorError, ErrorKind, PartQuery, PartQuoter};
use tiltas_model::parts::normalise_article;
use tiltas_model::SupplierOffer;

/// The quoter of a connection.
pub(crate) struct ElitQuoter {
    pub client: Client,
}

/// Whole pieces for `quantity` (at least one: Elit prices at least one).
fn pieces(quantity: Decimal) -> u32 {
    quantity.ceil().to_u32().unwrap_or(1).max(1)
}

#[async_trait::async_trait]
impl PartQuoter for ElitQuoter {
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
        let qty = pieces(query.quantity);
        let named = |error: ConnectorError| ConnectorError {
            message: format!(
                "part {article}{}: {}",
                brand.map(|b| format!(" ({b})")).unwrap_or_default(),
                error.message
            ),
            ..error
        };
        let infos = self.client.item_info(article, qty, brand).await.map_err(named)?;
        if infos.is_empty() {
            return Ok(Vec::new());
        }
        // One availability call answers at most `MAX_ITEMS`; a number matching more is not a part.
        let lines: Vec<ItemLine> = infos
            .iter()
            .take(wire::MAX_ITEMS)
            .map(|info| ItemLine {
                item_no: info.item_no.clone(),
                qty,
            })
            .collect();
        let availability = self.client.availability(&lines).await.map_err(named)?;
        Ok(infos
            .iter()
            .map(|info| {
                let found = availability.iter().find(|a| a.item_no == info.item_no);
                offer(info, found, None)
            })
            .collect())
    }
}
