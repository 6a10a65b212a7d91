//! A simulated Vesna: its assortment drawn from the shared parts catalogue
//! (`tiltas_sim::parts`, about 55 % of it, codes `V-` + the brand's first three letters + the
//! maker's number, stock at Kyiv, Odesa and Kharkiv, prices in EUR only), published as the
//! files the supplier sends — `prices.xlsx` (an Excel export, English headers) and one XLSX
//! per invoice — written into a folder (`--out DIR`) or served over HTTP with the token
//! (`Authorization: Bearer`, 401 otherwise) and the customer id it was issued for
//! (`?customer_id=`, 403 otherwise) checked, where order files are uploaded and listed by
//! `GET /__sim/records/order`. `GET /__sim/records/part` lists the assortment with the
//! canonical `article` and `brand`. The simulator is `tiltas_feed::sim`'s; this crate is
//! Vesna's profile and flags.
#![forbid(unsafe_code)]
mod flags;

#[cfg(test)]
mod tests;

pub use flags::Flags;
pub use tiltas_feed::sim::{router, FeedSim, Seeding, SimCredentials};

use rust_decimal::Decimal;
use tiltas_feed::sim::{FeedProfile, FileFormat};
use tiltas_model::parts::{normalise_article, normalise_brand};
use tiltas_sim::parts::SupplierProfile;

/// Why the connector contract suite does not drive this simulator, and what covers it instead.
pub const CONTRACT_COVERAGE: &str = "a file feed has no records to write back and no incremental \
     reads of its price list (each run reads the whole newest list, as the supplier replaces it \
     whole): systems/vesna/src/tests.rs reads products, stock and offers from a folder (XLSX) and \
     over HTTP, a non-EUR row refused, wrong token or customer id, quotes, orders exactly once, \
     and 5 invoices into Smartup through the engine";

/// Branches Vesna keeps stock at.
pub const BRANCHES: &[&str] = &["Kyiv", "Odesa", "Kharkiv"];

/// Vesna's simulated files.
pub fn profile() -> FeedProfile {
    FeedProfile {
        supplier: &tiltas_vesna::SUPPLIER,
        parts: SupplierProfile {
            name: "vesna",
            share: 0.55,
            code: |part, _| {
                let brand: String = normalise_brand(&part.brand).chars().take(3).collect();
                format!("V-{brand}-{}", normalise_article(&part.article))
            },
            branches: BRANCHES,
            price_percent: 106,
        },
        rate: Decimal::ONE,
        vat: Decimal::from(20),
        invoice_prefix: "VS/",
        prices: ("prices.xlsx", FileFormat::Xlsx),
        invoices: FileFormat::Xlsx,
    }
}
