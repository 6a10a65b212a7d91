//! The simulator's records, seeded from the shared parts catalogue (`tiltas_sim::parts`):
//! Omega's numeric product ids, its warehouses, hryvnia prices, the basket, orders and expense
//! documents (sales invoices) with lines.
use chrono::{Duration, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use tiltas_omega::wire::{self, BasketLine, ExpenseHead, ExpenseLine, Order, Product, Rest};
use tiltas_sim::parts::{assortment, Part, SupplierProfile};

/// Omega's warehouses as its answers name them (`Rests[].Key`, spelled as a client shows them).
pub const WAREHOUSES: &[&str] = &["Киев", "Харьков", "Киев (Левый берег)", "Одесса"];
/// Hryvnia per euro of the simulator's prices.
pub const UAH_PER_EUR: Decimal = Decimal::from_parts(4450, 0, 0, false, 2);
/// VAT of every line (Ukraine's standard rate).
pub const VAT: u32 = 20;
/// The first product id; a part's id is this plus its catalogue position.
const FIRST_ID: u64 = 1_000_000;

/// Omega's code of a part: its numeric product id.
fn code(_part: &Part, index: usize) -> String {
    (FIRST_ID + index as u64).to_string()
}

/// How Omega shows the shared catalogue.
pub fn profile() -> SupplierProfile {
    SupplierProfile {
        name: "omega",
        share: 0.7,
        code,
        branches: WAREHOUSES,
        price_percent: 112,
    }
}

/// One part as Omega holds it.
#[derive(Debug, Clone)]
pub struct OmegaPart {
    /// Omega's product id (its code).
    pub product_id: u64,
    /// The shared part.
    pub part: Part,
    /// The customer's price for one piece, hryvnia.
    pub price: Decimal,
    /// Pieces per warehouse.
    pub rests: Vec<(String, u32)>,
}

impl OmegaPart {
    /// The part as a search answers it, with rests when `rests` is asked.
    pub fn product(&self, rests: bool) -> Product {
        Product {
            product_id: self.product_id,
            number: self.part.article.clone(),
            brand_description: self.part.brand.clone(),
            description: self.part.name.clone(),
            customer_price: self.price,
            currency: None,
            rests: if rests {
                self.rests
                    .iter()
                    .map(|(key, value)| Rest {
                        key: key.clone(),
                        value: Decimal::from(*value),
                    })
                    .collect()
            } else {
                Vec::new()
            },
        }
    }
}

/// An expense document with its lines.
#[derive(Debug, Clone)]
pub struct Expense {
    /// The head as the list shows it.
    pub head: ExpenseHead,
    /// Its lines.
    pub lines: Vec<ExpenseLine>,
}

/// What the simulator holds.
#[derive(Debug, Clone, Default)]
pub struct Db {
    /// Parts by catalogue order.
    pub parts: Vec<OmegaPart>,
    /// The account's basket.
    pub basket: Vec<BasketLine>,
    /// Orders in creation order.
    pub orders: Vec<Order>,
    /// Expense documents in issue order.
    pub expenses: Vec<Expense>,
    /// Draws for new invoices and mutations.
    pub rng: Option<StdRng>,
    /// Expense documents whose lines Omega refuses to give (tests), by `DocId`.
    pub withheld: std::collections::HashSet<String>,
}

/// What the simulator starts with.
#[derive(Debug, Clone)]
pub struct Seeding {
    /// Seed of the catalogue (shared with the other suppliers' simulators) and of the rest.
    pub seed: u64,
    /// Parts of the shared catalogue to draw the assortment from (about 70 % are carried).
    pub catalogue: usize,
    /// Expense documents to start with, one a day back from yesterday.
    pub invoices: usize,
}

impl Db {
    /// The seeded state.
    pub fn seeded(seeding: &Seeding) -> Db {
        let parts = assortment(seeding.seed, seeding.catalogue, &profile())
            .into_iter()
            .map(|carried| OmegaPart {
                product_id: carried.code.parse().unwrap_or(FIRST_ID),
                price: (carried.price_eur * UAH_PER_EUR).round_dp(2),
                rests: carried.stock,
                part: carried.part,
            })
            .collect();
        let mut db = Db {
            parts,
            rng: Some(StdRng::seed_from_u64(seeding.seed ^ 0x0E6A)),
            ..Db::default()
        };
        let today = Utc::now().date_naive();
        for back in (0..seeding.invoices).rev() {
            db.add_invoice(today - Duration::days(back as i64 + 1));
        }
        db
    }

    fn draw(&mut self) -> &mut StdRng {
        self.rng.get_or_insert_with(|| StdRng::seed_from_u64(1))
    }

    /// The part with Omega's id `product_id`.
    pub fn part(&self, product_id: u64) -> Option<&OmegaPart> {
        self.parts.iter().find(|part| part.product_id == product_id)
    }

    /// An expense document of `lines` (product id, pieces) dated `date`.
    pub fn invoice(&mut self, date: NaiveDate, lines: &[(u64, u32)]) -> Option<String> {
        let lines: Vec<ExpenseLine> = lines
            .iter()
            .filter_map(|(id, count)| self.part(*id).map(|part| (part, count)))
            .map(|(part, count)| ExpenseLine {
                code: part.product_id.to_string(),
                description: part.part.name.clone(),
                count: Decimal::from(*count),
                price_with_vat: (part.price * Decimal::from(100 + VAT) / Decimal::ONE_HUNDRED).round_dp(2),
                number: Some(part.part.article.clone()),
                brand: Some(part.part.brand.clone()),
                vat_percent: Some(VAT),
            })
            .collect();
        if lines.is_empty() {
            return None;
        }
        let number = self.expenses.len() + 1;
        let summ = lines.iter().map(|l| (l.count * l.price_with_vat).round_dp(2)).sum();
        let doc_id = format!("{}", 70_000_000 + number);
        self.expenses.push(Expense {
            head: ExpenseHead {
                doc_id: doc_id.clone(),
                number: format!("OM-RN-{number:07}"),
                date: date.format(wire::DATE_FORMAT).to_string(),
                summ,
                currency: None,
            },
            lines,
        });
        Some(doc_id)
    }

    /// A new expense document of one to four drawn lines dated `date`.
    pub fn add_invoice(&mut self, date: NaiveDate) -> Option<String> {
        if self.parts.is_empty() {
            return None;
        }
        let wanted = self.draw().gen_range(1..=4);
        let mut lines = Vec::new();
        for _ in 0..wanted {
            let count = self.parts.len();
            let at = self.draw().gen_range(0..count);
            let pieces = self.draw().gen_range(1..=6);
            lines.push((self.parts[at].product_id, pieces));
        }
        self.invoice(date, &lines)
    }

    /// `count` distinct parts from a drawn start, in catalogue order (wrapping).
    fn distinct(&mut self, count: usize) -> Vec<usize> {
        let len = self.parts.len();
        if len == 0 {
            return Vec::new();
        }
        let start = self.draw().gen_range(0..len);
        (0..count.min(len)).map(|n| (start + n) % len).collect()
    }

    /// Changes the rests of `count` distinct parts at every warehouse.
    pub fn change_rests(&mut self, count: usize) -> usize {
        let chosen = self.distinct(count);
        for &at in &chosen {
            for slot in 0..self.parts[at].rests.len() {
                let step = self.draw().gen_range(1..20);
                let rest = &mut self.parts[at].rests[slot];
                rest.1 = (rest.1 + step) % 40;
            }
        }
        chosen.len()
    }

    /// Renames `count` distinct parts (a new description).
    pub fn rename(&mut self, count: usize) -> usize {
        let chosen = self.distinct(count);
        let stamp = Utc::now().timestamp_micros() % 10_000;
        for &at in &chosen {
            let part = &mut self.parts[at];
            part.part.name = format!("{} (rev. {stamp})", part.part.name);
        }
        chosen.len()
    }
}
