//! `[quote]`: how `tiltas quote` and `GET /api/v1/quote` ask parts suppliers — the company
//! currency prices are converted into, how long suppliers may take, and where exchange rates
//! come from (a fixed table or the ECB's daily reference rates).
use crate::diagnostic::Location;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// The ECB's daily euro foreign exchange reference rates (XML), the default of `ecb_url`.
pub const ECB_DAILY_URL: &str = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml";

/// How long suppliers may take to answer a quote when `budget` is not set.
pub const DEFAULT_QUOTE_BUDGET: Duration = Duration::from_secs(3);

/// Where exchange rates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RateSource {
    /// `[quote.rates] PLN = "4.2675"`: units of each currency per euro, as the ECB writes them.
    Fixed(BTreeMap<String, Decimal>),
    /// `rates = "ecb"`: the ECB daily reference file fetched from this address.
    EcbUrl(String),
    /// `rates = "ecb"` with `ecb_file`: a downloaded copy of that file (resolved path).
    EcbFile(PathBuf),
}

/// The `[quote]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteSettings {
    /// The company currency (ISO 4217) offers are converted into.
    pub currency: String,
    /// How long the quote waits for suppliers; later answers are reported as late.
    pub budget: Duration,
    /// Where exchange rates come from.
    pub rates: RateSource,
    /// Where the table is written (default settings: 0:0).
    pub location: Location,
}

impl Default for QuoteSettings {
    /// EUR, 3 s, no rates (only offers in the company currency get a company price).
    fn default() -> Self {
        QuoteSettings {
            currency: "EUR".to_owned(),
            budget: DEFAULT_QUOTE_BUDGET,
            rates: RateSource::Fixed(BTreeMap::new()),
            location: Location::default(),
        }
    }
}

/// Whether `code` looks like an ISO 4217 currency code (three capital letters).
pub fn is_currency_code(code: &str) -> bool {
    code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase())
}
