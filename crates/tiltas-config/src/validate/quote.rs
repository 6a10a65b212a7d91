//! `[quote]`: the company currency, the time budget and the exchange-rate source of
//! `tiltas quote` (see [`crate::QuoteSettings`]).
use super::Checker;
use crate::quote::{is_currency_code, QuoteSettings, RateSource, ECB_DAILY_URL};
use crate::tree::{Entry, Kind, Node};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::str::FromStr;

const QUOTE_KEYS: [&str; 5] = ["currency", "budget", "rates", "ecb_url", "ecb_file"];
const PLACE: &str = "[quote]";

/// What `[quote]` says, before the keys are checked against each other.
#[derive(Default)]
struct Written<'n> {
    rates: Option<RateSource>,
    ecb: bool,
    ecb_url: Option<(String, &'n Entry)>,
    ecb_file: Option<(String, &'n Entry)>,
}

impl Checker<'_> {
    /// The `[quote]` table, when the file has one.
    pub(super) fn quote(&mut self, entry: &Entry) -> Option<QuoteSettings> {
        let Some(items) = entry.node.as_table() else {
            self.wrong_type(entry, "the file", "a table [quote] with currency, budget and rates");
            return None;
        };
        let mut settings = QuoteSettings {
            location: entry.key_at,
            ..QuoteSettings::default()
        };
        let mut written = Written::default();
        for item in items {
            match item.key.as_str() {
                "currency" => {
                    if let Some(code) = self.currency(item, PLACE) {
                        settings.currency = code;
                    }
                }
                "budget" => {
                    if let Some(budget) = self.duration(item, PLACE) {
                        if budget.is_zero() {
                            self.problem(
                                item.node.at,
                                "[quote]: `budget` must be longer than 0s: how long suppliers may take, e.g. \"3s\"",
                            );
                        } else {
                            settings.budget = budget;
                        }
                    }
                }
                "rates" => match &item.node.kind {
                    Kind::Str(text) if text == "ecb" => written.ecb = true,
                    Kind::Table(_) => written.rates = Some(RateSource::Fixed(self.rate_table(item))),
                    _ => self.wrong_type(
                        item,
                        PLACE,
                        "\"ecb\" (the ECB's daily reference rates) or a table [quote.rates] with PLN = \"4.2675\" (units per euro)",
                    ),
                },
                "ecb_url" => written.ecb_url = self.ecb_url(item).map(|url| (url, item)),
                "ecb_file" => written.ecb_file = self.string(item, PLACE).map(|file| (file, item)),
                _ => self.unknown_key(item, PLACE, &QUOTE_KEYS),
            }
        }
        if let Some(rates) = self.rate_source(written) {
            settings.rates = rates;
        }
        self.company_rate(&settings, entry);
        Some(settings)
    }

    /// A three-letter capital currency code.
    fn currency(&mut self, item: &Entry, place: &str) -> Option<String> {
        let code = self.string(item, place)?;
        if is_currency_code(&code) {
            return Some(code);
        }
        self.problem(
            item.node.at,
            format!(
                "{place}: `{}` = {code:?} is not an ISO 4217 code: write three capital letters, e.g. \"EUR\"",
                item.key
            ),
        );
        None
    }

    /// `[quote.rates]`: `CODE = "units per euro"`, each a positive decimal in quotes.
    fn rate_table(&mut self, item: &Entry) -> BTreeMap<String, Decimal> {
        let mut rates = BTreeMap::new();
        for rate in item.node.as_table().unwrap_or_default() {
            if !is_currency_code(&rate.key) {
                self.problem(
                    rate.key_at,
                    format!(
                        "[quote.rates]: {:?} is not an ISO 4217 code: write three capital letters, e.g. PLN = \"4.2675\"",
                        rate.key
                    ),
                );
                continue;
            }
            let parsed = match &rate.node.kind {
                Kind::Str(text) => Decimal::from_str(text.trim()).ok(),
                Kind::Int(number) => Some(Decimal::from(*number)),
                _ => None,
            };
            match parsed {
                Some(value) if value > Decimal::ZERO => {
                    rates.insert(rate.key.clone(), value);
                }
                _ => self.problem(
                    rate.node.at,
                    format!(
                        "[quote.rates]: `{}` must be a positive decimal in quotes (units per euro, as the ECB writes them), e.g. {} = \"4.2675\"; found {}",
                        rate.key,
                        rate.key,
                        found(&rate.node)
                    ),
                ),
            }
        }
        rates
    }

    /// `ecb_url`: an http(s) address.
    fn ecb_url(&mut self, item: &Entry) -> Option<String> {
        let url = self.string(item, PLACE)?;
        if url.starts_with("http://") || url.starts_with("https://") {
            return Some(url);
        }
        self.problem(
            item.node.at,
            format!("[quote]: `ecb_url` = {url:?} is not an http(s) address: leave it out for {ECB_DAILY_URL}"),
        );
        None
    }

    /// The rate source the keys make together, or a problem where they disagree.
    fn rate_source(&mut self, written: Written<'_>) -> Option<RateSource> {
        let stray = [&written.ecb_url, &written.ecb_file]
            .into_iter()
            .flatten()
            .map(|(_, item)| *item)
            .collect::<Vec<_>>();
        if !written.ecb {
            for item in stray {
                self.problem(
                    item.key_at,
                    format!(
                        "[quote]: `{}` is read only with rates = \"ecb\": add it, or remove `{}`",
                        item.key, item.key
                    ),
                );
            }
            return written.rates;
        }
        match (written.ecb_url, written.ecb_file) {
            (Some(_), Some((_, file))) => {
                self.problem(
                    file.key_at,
                    "[quote]: give `ecb_url` or `ecb_file`, not both: the rates come from one place",
                );
                None
            }
            (Some((url, _)), None) => Some(RateSource::EcbUrl(url)),
            (None, Some((file, _))) => Some(RateSource::EcbFile(self.base_dir.join(file))),
            (None, None) => Some(RateSource::EcbUrl(ECB_DAILY_URL.to_owned())),
        }
    }

    /// A fixed table must price the company currency when it is not the euro.
    fn company_rate(&mut self, settings: &QuoteSettings, entry: &Entry) {
        if let RateSource::Fixed(rates) = &settings.rates {
            if settings.currency != "EUR" && !rates.is_empty() && !rates.contains_key(&settings.currency) {
                self.problem(
                    entry.key_at,
                    format!(
                        "[quote]: the company currency {} has no rate in [quote.rates]: add {} = \"…\" (units per euro), or use rates = \"ecb\"",
                        settings.currency, settings.currency
                    ),
                );
            }
        }
    }
}

fn found(node: &Node) -> String {
    match &node.kind {
        Kind::Str(text) => format!("{text:?}"),
        Kind::Int(number) => number.to_string(),
        Kind::Float(number) => format!("{number} (write it in quotes: decimals are kept exact)"),
        _ => node.type_name().to_owned(),
    }
}
