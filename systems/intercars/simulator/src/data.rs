//! The simulator's records, seeded from the shared parts catalogue (`tiltas_sim::parts`):
//! Inter Cars' six-letter codes, its branches, PLN prices, requisitions and invoices.
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use tiltas_intercars::wire::{Invoice, InvoiceHead, InvoiceLine, Requisition};
use tiltas_sim::parts::{assortment, Part, SupplierProfile};

/// Inter Cars' branches in the simulator.
pub const BRANCHES: &[&str] = &["POZ", "WAW", "KRK", "GDA"];
/// PLN per euro of the simulator's prices.
pub const PLN_PER_EUR: Decimal = Decimal::from_parts(430, 0, 0, false, 2);
/// VAT of every line (Poland's standard rate).
pub const VAT: Decimal = Decimal::from_parts(23, 0, 0, false, 0);

/// Inter Cars' code of a part: six letters, the last three the catalogue position in base 26
/// so codes never collide.
fn code(part: &Part, index: usize) -> String {
    let hash = part
        .article
        .bytes()
        .chain(part.brand.bytes())
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let letter = |n: u64| char::from(b'A' + (n % 26) as u8);
    let position = index as u64;
    [hash, hash / 26, hash / 676, position / 676, position / 26, position]
        .into_iter()
        .map(letter)
        .collect()
}

/// How Inter Cars shows the shared catalogue.
pub fn profile() -> SupplierProfile {
    SupplierProfile {
        name: "intercars",
        share: 0.8,
        code,
        branches: BRANCHES,
        price_percent: 115,
    }
}

/// One part as Inter Cars holds it.
#[derive(Debug, Clone)]
pub struct IcPart {
    /// Inter Cars' code.
    pub sku: String,
    /// The shared part.
    pub part: Part,
    /// List price without VAT, PLN.
    pub list_price: Decimal,
    /// The customer's price without VAT, PLN.
    pub customer_price: Decimal,
    /// Pieces per branch (uncapped; the stock call caps what it shows).
    pub stock: BTreeMap<String, u32>,
    /// When stock or price last changed.
    pub updated_at: DateTime<Utc>,
    /// Whether stock and quotes still know it (a withdrawn part stays in the catalogue).
    pub sold: bool,
}

/// What the simulator holds.
#[derive(Debug, Clone, Default)]
pub struct Db {
    /// Parts by catalogue order.
    pub parts: Vec<IcPart>,
    /// Requisitions in creation order.
    pub requisitions: Vec<Requisition>,
    /// Invoices in issue order, with lines.
    pub invoices: Vec<Invoice>,
    /// Draws for mutations.
    pub rng: Option<StdRng>,
}

/// What the simulator starts with.
#[derive(Debug, Clone)]
pub struct Seeding {
    /// Seed of the catalogue (shared with the other suppliers' simulators) and of the rest.
    pub seed: u64,
    /// Parts of the shared catalogue to draw the assortment from (about 80 % are carried).
    pub catalogue: usize,
    /// Invoices to start with, one a day back from today.
    pub invoices: usize,
}

impl Db {
    /// The seeded state.
    pub fn seeded(seeding: &Seeding) -> Db {
        let now = Utc::now();
        let parts = assortment(seeding.seed, seeding.catalogue, &profile())
            .into_iter()
            .map(|carried| {
                let list_price = (carried.price_eur * PLN_PER_EUR).round_dp(2);
                IcPart {
                    sku: carried.code,
                    customer_price: (list_price * Decimal::new(90, 2)).round_dp(2),
                    list_price,
                    stock: carried.stock.into_iter().collect(),
                    part: carried.part,
                    updated_at: now - Duration::days(30),
                    sold: true,
                }
            })
            .collect();
        let mut db = Db {
            parts,
            rng: Some(StdRng::seed_from_u64(seeding.seed ^ 0x1C_A125)),
            ..Db::default()
        };
        let today = now.date_naive();
        for back in (0..seeding.invoices).rev() {
            db.add_invoice(today - Duration::days(back as i64 + 1));
        }
        db
    }

    fn draw(&mut self) -> &mut StdRng {
        self.rng.get_or_insert_with(|| StdRng::seed_from_u64(1))
    }

    /// A new invoice of one to four lines dated `date`; `None` with no parts.
    pub fn add_invoice(&mut self, date: NaiveDate) -> Option<String> {
        if self.parts.is_empty() {
            return None;
        }
        let number = self.invoices.len() + 1;
        let lines_wanted = self.draw().gen_range(1..=4);
        let mut lines = Vec::new();
        for _ in 0..lines_wanted {
            let count = self.parts.len();
            let at = self.draw().gen_range(0..count);
            let quantity = Decimal::from(self.draw().gen_range(1..=6));
            let part = &self.parts[at];
            lines.push(InvoiceLine {
                sku: part.sku.clone(),
                index: part.part.article.clone(),
                brand: part.part.brand.clone(),
                description: part.part.name.clone(),
                quantity,
                price_net: part.customer_price,
                vat_percentage: VAT,
            });
        }
        let total_net: Decimal = lines.iter().map(|l| (l.quantity * l.price_net).round_dp(2)).sum();
        let total_gross = (total_net * (Decimal::ONE_HUNDRED + VAT) / Decimal::ONE_HUNDRED).round_dp(2);
        let id = format!("{}", 9_100_000 + number);
        self.invoices.push(Invoice {
            head: InvoiceHead {
                id: id.clone(),
                number: format!("FV/{}/{number:05}", date.format("%Y/%m")),
                issue_date: date.format("%Y-%m-%d").to_string(),
                currency_code: "PLN".into(),
                total_net,
                total_gross,
            },
            custom_number: None,
            lines,
        });
        Some(id)
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

    /// Changes the stock of `count` distinct parts at every branch, each to a number that
    /// differs from the old one as the stock call shows it (capped at 10).
    pub fn change_stock(&mut self, count: usize) -> usize {
        let now = Utc::now();
        let chosen = self.distinct(count);
        for &at in &chosen {
            let branches: Vec<String> = self.parts[at].stock.keys().cloned().collect();
            for branch in branches {
                let step = self.draw().gen_range(1..10);
                let part = &mut self.parts[at];
                let shown = part.stock.get(&branch).copied().unwrap_or(0).min(10);
                part.stock.insert(branch, (shown + step) % 11);
            }
            self.parts[at].updated_at = now;
        }
        chosen.len()
    }

    /// Renames `count` distinct parts (a new catalogue description).
    pub fn rename(&mut self, count: usize) -> usize {
        let chosen = self.distinct(count);
        let now = Utc::now();
        for &at in &chosen {
            let part = &mut self.parts[at];
            part.part.name = format!("{} (rev. {})", part.part.name, now.timestamp_micros() % 10_000);
            part.updated_at = now;
        }
        chosen.len()
    }

    /// The part with Inter Cars' code `sku`.
    pub fn part(&self, sku: &str) -> Option<&IcPart> {
        self.parts.iter().find(|part| part.sku.eq_ignore_ascii_case(sku))
    }

    /// A requisition by id.
    pub fn requisition(&mut self, id: &str) -> Option<&mut Requisition> {
        self.requisitions.iter_mut().find(|r| r.id == id)
    }

    /// Invoices of requisition `id`'s order when it is confirmed: one dated today.
    pub fn invoice_order(&mut self, requisition: &Requisition) {
        let date = Utc::now().date_naive();
        let lines: Vec<InvoiceLine> = requisition
            .lines
            .iter()
            .filter_map(|line| self.part(&line.sku).map(|part| (line, part)))
            .map(|(line, part)| InvoiceLine {
                sku: part.sku.clone(),
                index: part.part.article.clone(),
                brand: part.part.brand.clone(),
                description: part.part.name.clone(),
                quantity: Decimal::from(line.required_quantity),
                price_net: part.customer_price,
                vat_percentage: VAT,
            })
            .collect();
        let total_net: Decimal = lines.iter().map(|l| (l.quantity * l.price_net).round_dp(2)).sum();
        let number = self.invoices.len() + 1;
        self.invoices.push(Invoice {
            head: InvoiceHead {
                id: format!("{}", 9_100_000 + number),
                number: format!("FV/{}/{number:05}", date.format("%Y/%m")),
                issue_date: date.format("%Y-%m-%d").to_string(),
                currency_code: "PLN".into(),
                total_net,
                total_gross: (total_net * Decimal::new(123, 2)).round_dp(2),
            },
            custom_number: requisition.custom_number.clone(),
            lines,
        });
    }
}

/// Midnight (UTC) at the start of a day: where a date range begins.
pub fn day_start(date: NaiveDate) -> DateTime<Utc> {
    date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}
