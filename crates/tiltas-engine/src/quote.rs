//! Quoting a part across parts suppliers (`tiltas quote`, `GET /api/v1/quote`): every
//! connection whose system quotes is asked at once, each within the time budget; an answer
//! after the budget is reported as late and not waited for, a failure as failed with the
//! supplier named — neither fails the quote. Requests pass each connection's gate (pacing,
//! daily budget) and vault as flows' do. Offers of the asked part (by [`PartIdentity`], and
//! EAN when given) are priced in the company currency, the best by price and by delivery are
//! named, and each supplier's code is remembered in the identity map under one hub id per part.
use crate::Engine;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use std::time::{Duration, Instant};
use tiltas_config::{Connection, QuoteSettings};
use tiltas_connector::{ConnectorError, PartQuery, PartQuoter};
use tiltas_model::parts::PartIdentity;
use tiltas_model::{EntityKind, SupplierOffer};
use tiltas_store::XrefLink;
use utoipa::ToSchema;

mod best;
pub mod rates;
#[cfg(test)]
mod tests;

pub use best::mark_best;
pub use rates::{parse_ecb, Rates};

/// What is asked.
#[derive(Debug, Clone, PartialEq)]
pub struct QuoteRequest {
    /// The maker's article number as typed (`W 712/75`).
    pub article: String,
    /// The maker, when named (`MANN-FILTER`): offers of other makers are left out.
    pub brand: Option<String>,
    /// The part's EAN, when known: offers with another EAN are left out.
    pub ean: Option<String>,
    /// Pieces wanted (the best price is for this many, among offers with enough stock).
    pub quantity: Decimal,
    /// Supplier connections to ask; empty: every enabled one whose system quotes.
    pub suppliers: Vec<String>,
    /// The time budget; `None`: `[quote] budget` (3 s by default).
    pub budget: Option<Duration>,
}

impl QuoteRequest {
    /// A request for `quantity` of `article`, of any maker, from every supplier.
    pub fn new(article: &str, quantity: Decimal) -> QuoteRequest {
        QuoteRequest {
            article: article.to_owned(),
            brand: None,
            ean: None,
            quantity,
            suppliers: Vec::new(),
            budget: None,
        }
    }
}

/// Why a quote cannot be asked at all (a supplier failing is not one: it is in the answer).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuoteError {
    /// The part has no letters or digits.
    #[error("part {0:?} has no letters or digits: give the maker's article number, e.g. \"W 712/75\"")]
    NoPart(String),
    /// The quantity is zero or negative.
    #[error("quantity {0} must be more than 0")]
    Quantity(String),
    /// A named supplier is not a quoting connection of the file.
    #[error("connection \"{name}\" {why} in {file}; suppliers that quote: {known}")]
    UnknownSupplier {
        /// The name given.
        name: String,
        /// "is not defined" or "cannot quote (system X)".
        why: String,
        /// The flow file.
        file: String,
        /// The quoting connections, comma-separated.
        known: String,
    },
    /// No enabled connection quotes.
    #[error("{file} has no enabled supplier connection that quotes: add one (system intercars, omega, busmarket, …) with its credentials")]
    NoSuppliers {
        /// The flow file.
        file: String,
    },
}

/// An amount net and gross in one currency.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Money {
    /// Without VAT, one piece.
    #[schema(value_type = Option<String>, example = "23.43")]
    pub net: Option<Decimal>,
    /// With VAT, one piece, when the supplier says.
    #[schema(value_type = Option<String>, example = "28.82")]
    pub gross: Option<Decimal>,
    /// ISO 4217.
    pub currency: String,
}

/// Pieces at one branch of a supplier.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BranchStock {
    /// The branch or warehouse, as the supplier names it.
    pub branch: String,
    /// Pieces there (some suppliers cap what they show).
    #[schema(value_type = String, example = "4")]
    pub quantity: Decimal,
    /// When the branch can deliver, when the supplier says.
    pub delivery_date: Option<NaiveDate>,
}

/// One supplier's offer of the asked part.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct QuoteOffer {
    /// The supplier connection (as named in the flow file).
    pub supplier: String,
    /// Its system (`intercars`).
    pub system: String,
    /// The supplier's own code of the part (what an order names).
    pub part_code: String,
    /// The maker's number as the supplier writes it.
    pub article: Option<String>,
    /// The maker as the supplier writes it.
    pub brand: Option<String>,
    /// Barcode.
    pub ean: Option<String>,
    /// The supplier's name of the part.
    pub name: Option<String>,
    /// The price of one piece in the offer's currency; absent when the supplier gave none.
    pub price: Option<Money>,
    /// The same in the company currency; null when there is no rate (see `note`).
    pub price_company: Option<Money>,
    /// `price_company.net` × the quantity asked.
    #[schema(value_type = Option<String>)]
    pub total_company: Option<Decimal>,
    /// Pieces in every branch together.
    #[schema(value_type = String)]
    pub available: Decimal,
    /// Whether `available` covers the quantity asked.
    pub enough_stock: bool,
    /// Pieces per branch.
    pub availability: Vec<BranchStock>,
    /// The earliest delivery date of a branch with stock, when the supplier says.
    pub delivery_estimate: Option<NaiveDate>,
    /// The part's hub id in the identity map (entity `supplier_offer`).
    pub hub_id: String,
    /// Why something is missing (no rate for the currency, no price).
    pub note: Option<String>,
}

/// How one supplier answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SupplierStatus {
    /// Answered within the budget (possibly with no offer).
    Answered,
    /// Did not answer within the budget; not waited for.
    Late,
    /// Failed; see `error` and `fix`.
    Failed,
}

/// One supplier asked.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SupplierAnswer {
    /// The connection.
    pub supplier: String,
    /// Its system.
    pub system: String,
    /// How it answered.
    pub status: SupplierStatus,
    /// Offers of the asked part it gave (others it answered are left out).
    pub offers: usize,
    /// How long it took (the budget for a late one).
    pub elapsed_ms: u64,
    /// What failed, naming the supplier and the part.
    pub error: Option<String>,
    /// What to do about it, when known.
    pub fix: Option<String>,
}

/// The offer named best, and why.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BestOffer {
    /// The supplier connection.
    pub supplier: String,
    /// The supplier's code.
    pub part_code: String,
    /// The offer's total in the company currency for the quantity asked.
    #[schema(value_type = Option<String>)]
    pub total_company: Option<Decimal>,
    /// Its delivery estimate.
    pub delivery_estimate: Option<NaiveDate>,
}

/// The rates prices were converted with.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RatesUsed {
    /// Where they came from.
    pub source: String,
    /// The day they are of (ECB), when known.
    pub date: Option<NaiveDate>,
    /// Why they could not be had, when they could not: company prices are then null.
    pub error: Option<String>,
}

/// The answer to a quote.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct QuoteAnswer {
    /// The part as asked.
    pub part: String,
    /// The maker asked for.
    pub brand: Option<String>,
    /// The EAN asked for.
    pub ean: Option<String>,
    /// Pieces asked for.
    #[schema(value_type = String, example = "2")]
    pub quantity: Decimal,
    /// The company currency.
    pub currency: String,
    /// The time budget.
    pub budget_ms: u64,
    /// How long the quote took.
    pub elapsed_ms: u64,
    /// The exchange rates used.
    pub rates: RatesUsed,
    /// Offers of the part, cheapest first (in the company currency), unpriced last.
    pub offers: Vec<QuoteOffer>,
    /// Every supplier asked, in the file's order.
    pub suppliers: Vec<SupplierAnswer>,
    /// The cheapest offer for the quantity among those with enough stock.
    pub best_price: Option<BestOffer>,
    /// The earliest delivery among offers with enough stock.
    pub best_delivery: Option<BestOffer>,
    /// Things that did not stop the quote (the identity map could not be written).
    pub notes: Vec<String>,
}

impl QuoteAnswer {
    /// Whether at least one supplier answered in time.
    pub fn any_answered(&self) -> bool {
        self.suppliers
            .iter()
            .any(|supplier| supplier.status == SupplierStatus::Answered)
    }
}

/// The identity-map namespace of part hub ids (UUIDv5).
const PART_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6b1f_2c7e_93d4_4a51_8e0f_5d2a_7c11_4e18);

/// The hub id of a part in the identity map: the UUIDv5 of its normalised `ARTICLE|BRAND`, the
/// same in every process, so `Store::xref_find_by_hub(&[part_hub_id(..)])` lists each
/// supplier's code of the part (entity `supplier_offer`).
pub fn part_hub_id(identity: &PartIdentity) -> uuid::Uuid {
    use sha1::{Digest, Sha1};
    let mut hasher = Sha1::new();
    hasher.update(PART_NAMESPACE.as_bytes());
    hasher.update(format!("{}|{}", identity.article, identity.brand).as_bytes());
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_sha1_bytes(bytes).into_uuid()
}

/// What one supplier's task came back with.
enum Outcome {
    Answered(Vec<SupplierOffer>),
    Late,
    Failed(ConnectorError),
}

/// One supplier asked: its connection and what came back after how long.
struct Asked {
    connection: Connection,
    outcome: Outcome,
    elapsed: Duration,
}

impl Engine {
    /// Asks every quoting supplier (or those named) about one part, concurrently within the
    /// time budget, and answers with their offers priced in the company currency.
    pub async fn quote(&self, request: &QuoteRequest) -> Result<QuoteAnswer, QuoteError> {
        let started = Instant::now();
        let settings = self.config.quote.clone().unwrap_or_default();
        let budget = request.budget.unwrap_or(settings.budget);
        check_request(request)?;
        let connections = self.quoting_connections(&request.suppliers)?;
        let query = PartQuery {
            article: request.article.trim().to_owned(),
            brand: request.brand.clone().filter(|brand| !brand.trim().is_empty()),
            quantity: request.quantity,
        };
        let (asked, rates) = tokio::join!(
            self.ask_all(connections, &query, budget),
            rates::load(&settings.rates, budget)
        );
        let mut answer = self.answer(request, &settings, asked, rates, budget);
        answer.notes.extend(self.remember(&answer.offers).await);
        answer.elapsed_ms = millis(started.elapsed());
        Ok(answer)
    }

    /// The enabled connections whose system quotes, or those named (each must quote).
    fn quoting_connections(&self, named: &[String]) -> Result<Vec<Connection>, QuoteError> {
        let systems = self.systems();
        let quotes = |connection: &Connection| {
            systems
                .get(connection.system.name)
                .is_some_and(|system| system.quotes())
        };
        let file = self.config.file.display().to_string();
        let known = || {
            self.config
                .connections
                .iter()
                .filter(|c| quotes(c))
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut chosen = Vec::new();
        for name in named {
            let why = match self.config.connection(name) {
                None => "is not defined".to_owned(),
                Some(connection) if !quotes(connection) => {
                    format!("cannot quote (system {})", connection.system.name)
                }
                Some(connection) => {
                    chosen.push(connection.clone());
                    continue;
                }
            };
            return Err(QuoteError::UnknownSupplier {
                name: name.clone(),
                why,
                file,
                known: known(),
            });
        }
        if named.is_empty() {
            chosen.extend(
                self.config
                    .connections
                    .iter()
                    .filter(|c| c.enabled && quotes(c))
                    .cloned(),
            );
        }
        if chosen.is_empty() {
            return Err(QuoteError::NoSuppliers { file });
        }
        Ok(chosen)
    }

    /// Asks each connection on a task of its own, each bounded by `budget`.
    async fn ask_all(&self, connections: Vec<Connection>, query: &PartQuery, budget: Duration) -> Vec<Asked> {
        let mut tasks = tokio::task::JoinSet::new();
        let mut outcomes: Vec<Option<(Outcome, Duration)>> = Vec::new();
        for (index, connection) in connections.iter().enumerate() {
            outcomes.push(None);
            let quoter = match self.open_quoter(connection) {
                Ok(quoter) => quoter,
                Err(error) => {
                    outcomes[index] = Some((Outcome::Failed(error), Duration::ZERO));
                    continue;
                }
            };
            let query = query.clone();
            tasks.spawn(async move {
                let started = Instant::now();
                let outcome = match tokio::time::timeout(budget, quoter.quote(&query)).await {
                    Ok(Ok(offers)) => Outcome::Answered(offers),
                    Ok(Err(error)) => Outcome::Failed(error),
                    Err(_) => Outcome::Late,
                };
                (index, outcome, started.elapsed())
            });
        }
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((index, outcome, elapsed)) => outcomes[index] = Some((outcome, elapsed)),
                // A connector that panics is a defect; its supplier is reported failed below.
                Err(error) => tracing::error!("a supplier's quote task stopped: {error}"),
            }
        }
        connections
            .into_iter()
            .zip(outcomes)
            .map(|(connection, outcome)| {
                let (outcome, elapsed) = outcome.unwrap_or_else(|| {
                    let error = ConnectorError::new(
                        tiltas_connector::ErrorKind::Fatal,
                        "its quote stopped unexpectedly (a defect in Tiltas, please report it with the log)",
                    );
                    (Outcome::Failed(error), Duration::ZERO)
                });
                Asked {
                    connection,
                    outcome,
                    elapsed,
                }
            })
            .collect()
    }

    /// A quoter on `connection` through its gate and the engine's vault.
    fn open_quoter(&self, connection: &Connection) -> Result<Box<dyn PartQuoter>, ConnectorError> {
        self.systems()
            .open_quoter(&self.config, connection, self.gate(&connection.name), self.vault())
    }

    /// The answer from what the suppliers said and the rates.
    fn answer(
        &self,
        request: &QuoteRequest,
        settings: &QuoteSettings,
        asked: Vec<Asked>,
        rates: Result<Rates, String>,
        budget: Duration,
    ) -> QuoteAnswer {
        let (rates, rates_used) = match rates {
            Ok(rates) => {
                let date = rates.date;
                (Some(rates), (date, None))
            }
            Err(why) => (None, (None, Some(why))),
        };
        let mut offers = Vec::new();
        let mut suppliers = Vec::new();
        for supplier in asked {
            let priced = Priced {
                supplier: &supplier.connection,
                rates: rates.as_ref(),
                company: &settings.currency,
                quantity: request.quantity,
            };
            let (answer, kept) = priced.supplier_answer(supplier.outcome, supplier.elapsed, request, budget);
            suppliers.push(answer);
            offers.extend(kept);
        }
        let (best_price, best_delivery) = mark_best(&mut offers);
        QuoteAnswer {
            part: request.article.trim().to_owned(),
            brand: request.brand.clone(),
            ean: request.ean.clone(),
            quantity: request.quantity,
            currency: settings.currency.clone(),
            budget_ms: millis(budget),
            elapsed_ms: 0,
            rates: RatesUsed {
                source: rates::describe(&settings.rates),
                date: rates_used.0,
                error: rates_used.1,
            },
            offers,
            suppliers,
            best_price,
            best_delivery,
            notes: Vec::new(),
        }
    }

    /// Each offer's supplier code in the identity map under its part's hub id; a store failure
    /// is a note, not a failed quote.
    async fn remember(&self, offers: &[QuoteOffer]) -> Option<String> {
        let links: Vec<XrefLink> = offers
            .iter()
            .filter_map(|offer| {
                Some(XrefLink {
                    hub_id: offer.hub_id.parse().ok()?,
                    entity: EntityKind::SupplierOffer,
                    connection: offer.supplier.clone(),
                    external_id: offer.part_code.clone(),
                    last_hash: None,
                })
            })
            .collect();
        if links.is_empty() {
            return None;
        }
        self.store.xref_upsert(&links).await.err().map(|error| {
            format!("the suppliers' codes could not be kept in the identity map ({error}); the offers are complete")
        })
    }
}

fn check_request(request: &QuoteRequest) -> Result<(), QuoteError> {
    if tiltas_model::parts::normalise_article(&request.article).is_empty() {
        return Err(QuoteError::NoPart(request.article.clone()));
    }
    if request.quantity <= Decimal::ZERO {
        return Err(QuoteError::Quantity(request.quantity.to_string()));
    }
    Ok(())
}

/// The failure of one supplier, naming it and the part (once each).
fn failure_message(connection: &Connection, article: &str, error: &ConnectorError) -> String {
    let mut message = error.message.clone();
    let named = format!("connection \"{}\"", connection.name);
    if !message.contains(&named) {
        message = format!("{named} ({}): {message}", connection.system.name);
    }
    if !message.contains(article.trim()) {
        message = format!("part {}: {message}", article.trim());
    }
    message
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Whether a supplier's offer is the asked part: the EAN decides when both are known,
/// otherwise number and brand ([`PartIdentity::matches`]).
fn is_the_part(offer: &SupplierOffer, wanted: &PartIdentity, ean: Option<&str>) -> bool {
    let digits = |text: &str| text.chars().filter(char::is_ascii_digit).collect::<String>();
    if let (Some(asked), Some(given)) = (ean, offer.ean.as_deref()) {
        return digits(asked) == digits(given);
    }
    let found = PartIdentity::new(
        offer.article.as_deref().unwrap_or(&wanted.article),
        offer.brand.as_deref(),
    );
    wanted.matches(&found)
}

/// Prices an offer of one supplier.
struct Priced<'a> {
    supplier: &'a Connection,
    rates: Option<&'a Rates>,
    company: &'a str,
    quantity: Decimal,
}

impl Priced<'_> {
    /// How the supplier answered, and its offers of the part priced.
    fn supplier_answer(
        &self,
        outcome: Outcome,
        elapsed: Duration,
        request: &QuoteRequest,
        budget: Duration,
    ) -> (SupplierAnswer, Vec<QuoteOffer>) {
        let wanted = PartIdentity::new(&request.article, request.brand.as_deref());
        let (status, kept, error, elapsed) = match outcome {
            Outcome::Answered(found) => {
                let kept: Vec<QuoteOffer> = found
                    .into_iter()
                    .filter(|offer| is_the_part(offer, &wanted, request.ean.as_deref()))
                    .map(|offer| self.offer(offer, &wanted))
                    .collect();
                (SupplierStatus::Answered, kept, None, elapsed)
            }
            Outcome::Late => (SupplierStatus::Late, Vec::new(), None, budget),
            Outcome::Failed(error) => (SupplierStatus::Failed, Vec::new(), Some(error), elapsed),
        };
        let answer = SupplierAnswer {
            supplier: self.supplier.name.clone(),
            system: self.supplier.system.name.to_owned(),
            status,
            offers: kept.len(),
            elapsed_ms: millis(elapsed),
            error: error
                .as_ref()
                .map(|error| failure_message(self.supplier, &request.article, error)),
            fix: error.and_then(|error| error.fix),
        };
        (answer, kept)
    }

    fn offer(&self, offer: SupplierOffer, wanted: &PartIdentity) -> QuoteOffer {
        let available: Decimal = offer.availability.iter().map(|branch| branch.quantity).sum();
        let delivery_estimate = offer
            .availability
            .iter()
            .filter(|branch| branch.quantity > Decimal::ZERO)
            .filter_map(|branch| branch.delivery_date)
            .min();
        let mut identity = PartIdentity::new(
            offer.article.as_deref().unwrap_or(&wanted.article),
            offer.brand.as_deref(),
        );
        if identity.brand.is_empty() {
            identity.brand.clone_from(&wanted.brand);
        }
        let (price, price_company, note) = self.prices(&offer);
        QuoteOffer {
            supplier: self.supplier.name.clone(),
            system: self.supplier.system.name.to_owned(),
            total_company: price_company
                .as_ref()
                .and_then(|money| money.net)
                .map(|net| (net * self.quantity).round_dp(2)),
            part_code: offer.part_code,
            article: offer.article,
            brand: offer.brand,
            ean: offer.ean,
            name: offer.name,
            price,
            price_company,
            available,
            enough_stock: available >= self.quantity,
            availability: offer
                .availability
                .into_iter()
                .map(|branch| BranchStock {
                    branch: branch.branch,
                    quantity: branch.quantity,
                    delivery_date: branch.delivery_date,
                })
                .collect(),
            delivery_estimate,
            hub_id: part_hub_id(&identity).to_string(),
            note,
        }
    }

    /// The offer's price, the same in the company currency, and why the latter is missing.
    fn prices(&self, offer: &SupplierOffer) -> (Option<Money>, Option<Money>, Option<String>) {
        let Some(currency) = offer.currency.clone().filter(|c| !c.trim().is_empty()) else {
            let note = if offer.price.is_some() {
                "the supplier named no currency for its price: no company price"
            } else {
                "the supplier gave no price"
            };
            return (None, None, Some(note.to_owned()));
        };
        let currency = currency.trim().to_uppercase();
        let price = Money {
            net: offer.price,
            gross: offer.price_gross,
            currency: currency.clone(),
        };
        if offer.price.is_none() {
            return (Some(price), None, Some("the supplier gave no price".to_owned()));
        }
        let Some(rates) = self.rates else {
            return (
                Some(price),
                None,
                Some("no exchange rates (see rates.error)".to_owned()),
            );
        };
        let convert = |amount: Option<Decimal>| amount.and_then(|a| rates.convert(a, &currency, self.company));
        match convert(offer.price) {
            Some(net) => {
                let company = Money {
                    net: Some(net),
                    gross: convert(offer.price_gross),
                    currency: self.company.to_owned(),
                };
                (Some(price), Some(company), None)
            }
            None => {
                let missing = if rates.convert(Decimal::ONE, &currency, "EUR").is_none() {
                    currency.as_str()
                } else {
                    self.company
                };
                let note = format!(
                    "no exchange rate for {missing}: add {missing} = \"…\" (units per euro) to [quote.rates], or use rates = \"ecb\""
                );
                (Some(price), None, Some(note))
            }
        }
    }
}
