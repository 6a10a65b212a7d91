//! A simulated file-feed supplier (feature `sim`): its assortment drawn from the shared parts
//! catalogue ([`tiltas_sim::parts`]) with the supplier's own profile, published as the files
//! the supplier sends — the price and stock list in its layout (CSV or XLSX) and invoice files
//! in its invoice layout — written into a folder ([`FeedSim::write_files`]) or served over
//! HTTP with the credentials checked ([`router`]), where uploaded orders are kept and listed.
mod api;
mod files;

pub use api::router;
pub use files::{FileFormat, SimFiles};

use crate::layout::Supplier;
use chrono::{Duration, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use tiltas_sim::parts::{assortment, SupplierPart, SupplierProfile};
use tiltas_sim::SimSystem;

/// The answer to an order upload the harness' `invalid_item_rate` refuses.
pub const REFUSED_ORDER: &str = "The order contains an article that is blocked for this customer";

/// The credentials the simulator accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimCredentials {
    /// HTTP Basic.
    Basic {
        /// The login.
        login: String,
        /// The password.
        password: String,
    },
    /// `Authorization: Bearer TOKEN` and `?customer_id=`.
    TokenAndCustomer {
        /// The token.
        token: String,
        /// The customer the token was issued for.
        customer_id: String,
    },
}

/// How one supplier's simulator publishes its files.
#[derive(Debug, Clone)]
pub struct FeedProfile {
    /// The supplier (its layouts and currency).
    pub supplier: &'static Supplier,
    /// Its share of the shared catalogue, code format, branches and margin.
    pub parts: SupplierProfile,
    /// Units of the supplier's currency per euro (the catalogue's prices are in euro).
    pub rate: Decimal,
    /// VAT rate of its invoices, in percent.
    pub vat: Decimal,
    /// Its invoice numbers start with this (`UT-`).
    pub invoice_prefix: &'static str,
    /// The price list's file name and format.
    pub prices: (&'static str, FileFormat),
    /// The invoice files' format.
    pub invoices: FileFormat,
}

/// What the simulator starts with.
#[derive(Debug, Clone, Copy)]
pub struct Seeding {
    /// Seed of the catalogue, assortment, stock and invoices.
    pub seed: u64,
    /// Parts of the shared catalogue the assortment is drawn from.
    pub catalogue: usize,
    /// Invoices, one a day back from yesterday.
    pub invoices: usize,
}

/// One invoice line.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SimLine {
    /// The supplier's code.
    pub code: String,
    /// The maker's number.
    pub article: String,
    /// The maker.
    pub brand: String,
    /// The part's name.
    pub name: String,
    /// Pieces.
    pub quantity: u32,
    /// Net price of one piece, in the supplier's currency.
    pub price: Decimal,
}

/// One invoice.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SimInvoice {
    /// Its number.
    pub number: String,
    /// Its issue date.
    pub date: NaiveDate,
    /// Its lines.
    pub lines: Vec<SimLine>,
}

/// An uploaded order file.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SimOrder {
    /// The file's name (the order's number).
    pub file: String,
    /// The file as uploaded.
    pub text: String,
}

/// The simulator's records.
#[derive(Debug, Default)]
pub(crate) struct Db {
    pub parts: Vec<SupplierPart>,
    pub invoices: Vec<SimInvoice>,
    pub orders: Vec<SimOrder>,
    rng: Option<StdRng>,
}

impl Db {
    fn seeded(profile: &FeedProfile, seeding: &Seeding) -> Db {
        let mut db = Db {
            parts: assortment(seeding.seed, seeding.catalogue, &profile.parts),
            invoices: Vec::new(),
            orders: Vec::new(),
            rng: Some(StdRng::seed_from_u64(seeding.seed ^ 0x1AF0_1CE5)),
        };
        let today = Utc::now().date_naive();
        for back in (1..=seeding.invoices).rev() {
            db.add_invoice(profile, today - Duration::days(back as i64));
        }
        db
    }

    fn rng(&mut self) -> &mut StdRng {
        self.rng.get_or_insert_with(|| StdRng::seed_from_u64(1))
    }

    /// Adds an invoice of 1–4 random parts dated `date`.
    pub(crate) fn add_invoice(&mut self, profile: &FeedProfile, date: NaiveDate) -> Option<String> {
        if self.parts.is_empty() {
            return None;
        }
        let count = self.rng().gen_range(1..=4usize);
        let mut lines: Vec<SimLine> = Vec::new();
        for _ in 0..count {
            let len = self.parts.len();
            let index = self.rng().gen_range(0..len);
            let quantity = self.rng().gen_range(1..=5);
            let part = &self.parts[index];
            if lines.iter().any(|line| line.code == part.code) {
                continue;
            }
            lines.push(SimLine {
                code: part.code.clone(),
                article: part.part.article.clone(),
                brand: part.part.brand.clone(),
                name: part.part.name.clone(),
                quantity,
                price: (part.price_eur * profile.rate).round_dp(2),
            });
        }
        let number = format!("{}{:06}", profile.invoice_prefix, self.invoices.len() + 1);
        self.invoices.push(SimInvoice {
            number: number.clone(),
            date,
            lines,
        });
        Some(number)
    }

    fn change_stock(&mut self, count: usize) -> usize {
        let count = count.min(self.parts.len());
        for index in 0..count {
            let quantity = self.rng().gen_range(0..40);
            if let Some((_, stock)) = self.parts[index].stock.first_mut() {
                *stock = quantity;
            }
        }
        count
    }
}

/// One simulated file-feed supplier.
pub struct FeedSim {
    profile: FeedProfile,
    seeding: Seeding,
    credentials: SimCredentials,
    db: Mutex<Db>,
    /// When the price list was last published (its `Last-Modified`).
    published: Mutex<chrono::DateTime<Utc>>,
}

impl FeedSim {
    /// A simulator with the seeded assortment and invoices.
    pub fn new(profile: FeedProfile, credentials: SimCredentials, seeding: Seeding) -> FeedSim {
        FeedSim {
            db: Mutex::new(Db::seeded(&profile, &seeding)),
            profile,
            seeding,
            credentials,
            published: Mutex::new(Utc::now()),
        }
    }

    pub(crate) fn db(&self) -> MutexGuard<'_, Db> {
        self.db.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The supplier's files as they are now.
    pub fn files(&self) -> SimFiles {
        SimFiles::of(&self.profile, &self.db())
    }

    /// Writes the price list into `out` and each invoice into `out/invoices/`, and makes
    /// `out/orders/`; returns a line saying what was written.
    pub fn write_files(&self, out: &std::path::Path) -> std::io::Result<String> {
        self.files().write(out)
    }

    /// Adds an invoice dated today with one line of a part no other record knows (tests:
    /// an unknown part); returns its number.
    pub fn add_unknown_part_invoice(&self, code: &str, article: &str, brand: &str) -> Option<String> {
        let mut db = self.db();
        let number = db.add_invoice(&self.profile, Utc::now().date_naive())?;
        let invoice = db.invoices.last_mut()?;
        invoice.lines.push(SimLine {
            code: code.into(),
            article: article.into(),
            brand: brand.into(),
            name: "Unknown part".into(),
            quantity: 1,
            price: Decimal::new(1000, 2),
        });
        Some(number)
    }

    /// The credentials it accepts.
    pub fn credentials(&self) -> &SimCredentials {
        &self.credentials
    }

    fn part_record(&self, part: &SupplierPart) -> Value {
        let stock: serde_json::Map<String, Value> = part
            .stock
            .iter()
            .map(|(branch, quantity)| (branch.clone(), json!(quantity)))
            .collect();
        json!({
            "article": part.part.article, "brand": part.part.brand, "ean": part.part.ean,
            "name": part.part.name, "sku": part.code, "code": part.code,
            "price": (part.price_eur * self.profile.rate).round_dp(2).to_string(),
            "currency": self.profile.supplier.currency, "stock": stock,
        })
    }
}

impl SimSystem for FeedSim {
    fn record_counts(&self) -> BTreeMap<String, usize> {
        let db = self.db();
        BTreeMap::from([
            ("part".to_owned(), db.parts.len()),
            ("invoice".to_owned(), db.invoices.len()),
            ("order".to_owned(), db.orders.len()),
        ])
    }

    fn duplicates(&self) -> usize {
        let db = self.db();
        let mut seen = std::collections::HashSet::new();
        db.orders
            .iter()
            .filter(|order| !seen.insert(order.file.clone()))
            .count()
    }

    fn mutate(&self, entity: &str, count: usize) -> Result<usize, String> {
        let changed = {
            let mut db = self.db();
            match entity {
                "invoice" | "document" => {
                    let today = Utc::now().date_naive();
                    (0..count).filter_map(|_| db.add_invoice(&self.profile, today)).count()
                }
                "stock" | "supplier_offer" | "product" | "part" => db.change_stock(count),
                other => {
                    return Err(format!(
                        "{}'s simulator mutates invoice (new invoices dated today) or stock (pieces at the first branch), not {other:?}",
                        self.profile.supplier.label
                    ))
                }
            }
        };
        *self.published.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Utc::now();
        Ok(changed)
    }

    fn records(&self, entity: &str) -> Option<Value> {
        let db = self.db();
        match entity {
            "part" | "product" => Some(Value::Array(db.parts.iter().map(|p| self.part_record(p)).collect())),
            "invoice" => serde_json::to_value(&db.invoices).ok(),
            "order" => serde_json::to_value(&db.orders).ok(),
            _ => None,
        }
    }

    fn reset(&self) {
        *self.db() = Db::seeded(&self.profile, &self.seeding);
    }
}
