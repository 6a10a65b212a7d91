//! A simulated Unique Trade: its assortment drawn from the shared parts catalogue
//! (`tiltas_sim::parts`, about 65 % of it, codes `UT` + the maker's number without
//! separators, stock at Київ, Львів and Дніпро, prices in hryvnias), published as the files
//! the supplier sends — `prices.csv` (`;`, decimal comma, UTF-8 with a byte-order mark,
//! Ukrainian headers) and one CSV per invoice — written into a folder (`--out DIR`) or served
//! over HTTP with Basic credentials checked (401 otherwise), where order files are uploaded
//! and listed by `GET /__sim/records/order`. `GET /__sim/records/part` lists the assortment
//! with the canonical `article` and `brand`. The simulator is `tiltas_feed::sim`'s; this
//! crate is Unique Trade's profile and flags.
#![forbid(unsafe_code)]
mod flags;

#[cfg(test)]
mod tests;

pub use flags::Flags;
pub use tiltas_feed::sim::{router, FeedSim, Seeding, SimCredentials};

use rust_decimal::Decimal;
use tiltas_feed::sim::{FeedProfile, FileFormat};
use tiltas_model::parts::normalise_article;
use tiltas_sim::parts::SupplierProfile;

/// Why the connector contract suite does not drive this simulator, and what covers it instead.
pub const CONTRACT_COVERAGE: &str = "a file feed has no records to write back and no incremental \
     reads of its price list (each run reads the whole newest list, as the supplier replaces it \
     whole): systems/uniquetrade/src/tests.rs reads products, stock and offers from a folder and \
     over HTTP, malformed rows, wrong credentials, quotes, orders exactly once, and 5 invoices \
     into Smartup through the engine";

/// Branches Unique Trade keeps stock at.
pub const BRANCHES: &[&str] = &["Київ", "Львів", "Дніпро"];

/// Unique Trade's simulated files.
pub fn profile() -> FeedProfile {
    FeedProfile {
        supplier: &tiltas_uniquetrade::SUPPLIER,
        parts: SupplierProfile {
            name: "uniquetrade",
            share: 0.65,
            code: |part, _| format!("UT{}", normalise_article(&part.article)),
            branches: BRANCHES,
            price_percent: 109,
        },
        rate: Decimal::new(4450, 2),
        vat: Decimal::from(20),
        invoice_prefix: "UT-",
        prices: (
            "prices.csv",
            FileFormat::Csv {
                delimiter: b';',
                decimal_comma: true,
                bom: true,
            },
        ),
        invoices: FileFormat::Csv {
            delimiter: b';',
            decimal_comma: true,
            bom: true,
        },
    }
}
