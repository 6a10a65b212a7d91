//! Asking a supplier about one part (`tiltas quote`, `GET /api/v1/quote`): a capability beside
//! reading and writing, because a quote is asked by a person choosing whom to order from, for
//! one part, now — not a flow's page of records.
use crate::ConnectorError;
use async_trait::async_trait;
use rust_decimal::Decimal;
use tiltas_model::SupplierOffer;

/// One part asked about.
#[derive(Debug, Clone, PartialEq)]
pub struct PartQuery {
    /// The maker's article number as the person typed it (`W 712/75`, `w71275`).
    pub article: String,
    /// The maker, when the person named one (`MANN-FILTER`).
    pub brand: Option<String>,
    /// How many pieces are wanted.
    pub quantity: Decimal,
}

/// Asks one supplier connection for its offers on a part.
#[async_trait]
pub trait PartQuoter: Send + Sync {
    /// The supplier's offers for `query`: every part it answers for the number (any brand —
    /// the caller matches brands through [`tiltas_model::parts`]), each with `supplier`,
    /// `part_code` (the supplier's code), `article`, `brand`, net `price` for one piece in
    /// `currency`, and availability per branch. Empty when the supplier does not carry it.
    async fn quote(&self, query: &PartQuery) -> Result<Vec<SupplierOffer>, ConnectorError>;
}
