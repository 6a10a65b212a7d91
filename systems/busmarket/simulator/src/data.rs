//! The simulator's records, seeded from the shared parts catalogue (`tiltas_sim::parts`): Bus
//! Market's six-digit codes and UUIDs, its four warehouses, prices kept in euro and shown in
//! EUR, UAH or PLN by a fixed rate table, carts, reserves and invoices.
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use tiltas_busmarket::wire::{Cart, Document, DocumentHead, DocumentLine, Line, Reserve, WarehouseStock};
use tiltas_sim::parts::{assortment, Part, SupplierProfile};

/// Bus Market's warehouses in the simulator: name and uuid.
pub const WAREHOUSES: &[(&str, &str)] = &[
    ("KYIV", "5b1c0a52-7a51-4c33-9e1e-0c2a4f1b0001"),
    ("LVIV", "5b1c0a52-7a51-4c33-9e1e-0c2a4f1b0002"),
    ("ODESA", "5b1c0a52-7a51-4c33-9e1e-0c2a4f1b0003"),
    ("DNIPRO", "5b1c0a52-7a51-4c33-9e1e-0c2a4f1b0004"),
];
/// Days a delivery from each warehouse takes, in [`WAREHOUSES`]' order.
const DELIVERY_DAYS: [i64; 4] = [1, 2, 2, 3];
/// Units of each currency per euro: the simulator's fixed rate table.
pub const RATES: &[(&str, Decimal)] = &[
    ("EUR", Decimal::from_parts(1, 0, 0, false, 0)),
    ("UAH", Decimal::from_parts(4550, 0, 0, false, 2)),
    ("PLN", Decimal::from_parts(430, 0, 0, false, 2)),
];
/// The contract's currency: prices without `currency=`, and invoices.
pub const CONTRACT_CURRENCY: &str = "UAH";
/// VAT of every line (Ukraine's standard rate).
pub const VAT: Decimal = Decimal::from_parts(20, 0, 0, false, 0);

/// `eur` in `currency` (two decimals), or `None` for a currency outside the rate table.
pub fn convert(eur: Decimal, currency: &str) -> Option<Decimal> {
    RATES
        .iter()
        .find(|(code, _)| code.eq_ignore_ascii_case(currency))
        .map(|(_, rate)| (eur * rate).round_dp(2))
}

/// `net` with VAT.
pub fn with_vat(net: Decimal) -> Decimal {
    (net * (Decimal::ONE_HUNDRED + VAT) / Decimal::ONE_HUNDRED).round_dp(2)
}

/// A stable UUID-shaped id of the `n`th record of `kind` for `seed`.
pub fn uuid(seed: u64, kind: &str, n: u64) -> String {
    let hash = kind
        .bytes()
        .fold(seed ^ 0xB05_3A4E7, |h, b| {
            h.wrapping_mul(0x0100_0000_01b3) ^ u64::from(b)
        })
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(n);
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        hash >> 32,
        (hash >> 16) & 0xffff,
        hash & 0xfff,
        n & 0xfff,
        n
    )
}

/// Bus Market's code of a part: six digits, unique by catalogue position.
fn code(part: &Part, index: usize) -> String {
    let check = part.article.bytes().fold(0u64, |sum, b| sum + u64::from(b)) % 10;
    format!("{}", 100_000 + index as u64 * 10 + check)
}

/// How Bus Market shows the shared catalogue.
pub fn profile() -> SupplierProfile {
    SupplierProfile {
        name: "busmarket",
        share: 0.7,
        code,
        branches: &["KYIV", "LVIV", "ODESA", "DNIPRO"],
        price_percent: 112,
    }
}

/// One part as Bus Market holds it.
#[derive(Debug, Clone)]
pub struct BmPart {
    /// Its id.
    pub uuid: String,
    /// Bus Market's code.
    pub code: String,
    /// The shared part.
    pub part: Part,
    /// The customer's net price, euro.
    pub price_eur: Decimal,
    /// Pieces per warehouse name.
    pub stock: BTreeMap<String, u32>,
    /// When stock or name last changed.
    pub updated_at: DateTime<Utc>,
    /// Whether `/product/{id}…` still answers for it (a withdrawn part stays in the search).
    pub sold: bool,
}

impl BmPart {
    /// Its stock at every warehouse as `in_stocks` shows it.
    pub fn in_stocks(&self) -> Vec<WarehouseStock> {
        let today = Utc::now().date_naive();
        WAREHOUSES
            .iter()
            .zip(DELIVERY_DAYS)
            .map(|((name, uuid), days)| WarehouseStock {
                warehouse_uuid: (*uuid).to_owned(),
                warehouse: (*name).to_owned(),
                quantity: self.stock.get(*name).copied().unwrap_or(0),
                delivery_date: Some((today + Duration::days(days)).format("%Y-%m-%d").to_string()),
            })
            .collect()
    }
}

/// What the simulator holds.
#[derive(Debug, Clone, Default)]
pub struct Db {
    /// Parts in catalogue order.
    pub parts: Vec<BmPart>,
    /// Open carts.
    pub carts: Vec<Cart>,
    /// Reserves in the order they were made.
    pub reserves: Vec<Reserve>,
    /// Invoices in issue order, with lines.
    pub invoices: Vec<Document>,
    /// Ids made so far (carts, reserves, invoices).
    pub made: u64,
    /// The seed ids are made from.
    pub seed: u64,
    /// Draws for invoices and mutations.
    pub rng: Option<StdRng>,
}

/// What the simulator starts with.
#[derive(Debug, Clone)]
pub struct Seeding {
    /// Seed of the catalogue (shared with the other suppliers' simulators) and of the rest.
    pub seed: u64,
    /// Parts of the shared catalogue to draw the assortment from (about 70 % are carried).
    pub catalogue: usize,
    /// Invoices to start with, one a day back from yesterday.
    pub invoices: usize,
}

impl Db {
    /// The seeded state.
    pub fn seeded(seeding: &Seeding) -> Db {
        let now = Utc::now();
        let parts = assortment(seeding.seed, seeding.catalogue, &profile())
            .into_iter()
            .enumerate()
            .map(|(at, carried)| BmPart {
                uuid: uuid(seeding.seed, "product", at as u64),
                code: carried.code,
                price_eur: carried.price_eur,
                stock: carried.stock.into_iter().collect(),
                part: carried.part,
                updated_at: now - Duration::days(30),
                sold: true,
            })
            .collect();
        let mut db = Db {
            parts,
            seed: seeding.seed,
            rng: Some(StdRng::seed_from_u64(seeding.seed ^ 0xB5_3A4E)),
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

    /// A new id of `kind`.
    pub fn new_uuid(&mut self, kind: &str) -> String {
        self.made += 1;
        uuid(self.seed, kind, self.made)
    }

    /// The part with id `uuid`, or with Bus Market code `code` when `by_code`.
    pub fn part(&self, id: &str, by_code: bool) -> Option<&BmPart> {
        self.parts
            .iter()
            .find(|part| if by_code { part.code == id } else { part.uuid == id })
    }

    /// An invoice line of `quantity` pieces of the part at `at`.
    fn line(&self, at: usize, quantity: u32) -> DocumentLine {
        let part = &self.parts[at];
        DocumentLine {
            product_uuid: part.uuid.clone(),
            code: part.code.clone(),
            article: part.part.article.clone(),
            brand: part.part.brand.clone(),
            name: part.part.name.clone(),
            quantity: Decimal::from(quantity),
            price: convert(part.price_eur, CONTRACT_CURRENCY).unwrap_or_default(),
            vat: VAT,
        }
    }

    /// Adds an invoice of `lines` dated `date`; its id.
    pub fn push_invoice(&mut self, date: NaiveDate, lines: Vec<DocumentLine>, comment: Option<String>) -> String {
        let total: Decimal = lines.iter().map(|l| (l.quantity * l.price).round_dp(2)).sum();
        let number = self.invoices.len() + 1;
        let id = self.new_uuid("invoice");
        self.invoices.push(Document {
            head: DocumentHead {
                uuid: id.clone(),
                kind: tiltas_busmarket::wire::INVOICE_TYPE.into(),
                number: format!("BM-{}-{number:06}", date.format("%y%m")),
                date: date.format("%Y-%m-%d").to_string(),
                currency: CONTRACT_CURRENCY.into(),
                total,
                total_with_vat: with_vat(total),
                comment,
            },
            products: lines,
        });
        id
    }

    /// A new invoice of one to four lines dated `date`; `None` with no parts.
    pub fn add_invoice(&mut self, date: NaiveDate) -> Option<String> {
        if self.parts.is_empty() {
            return None;
        }
        let wanted = self.draw().gen_range(1..=4);
        let mut lines = Vec::new();
        for _ in 0..wanted {
            let count = self.parts.len();
            let at = self.draw().gen_range(0..count);
            let quantity = self.draw().gen_range(1..=6);
            lines.push(self.line(at, quantity));
        }
        Some(self.push_invoice(date, lines, None))
    }

    /// The invoice of a reserve, dated today.
    pub fn invoice_reserve(&mut self, reserve: &Reserve) {
        let lines = reserve
            .products
            .iter()
            .filter_map(|line| {
                let at = self.parts.iter().position(|p| p.uuid == line.product_uuid)?;
                Some(self.line(at, line.quantity))
            })
            .collect();
        self.push_invoice(Utc::now().date_naive(), lines, Some(reserve.comment.clone()));
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

    /// Changes the stock of `count` distinct parts at every warehouse.
    pub fn change_stock(&mut self, count: usize) -> usize {
        let now = Utc::now();
        let chosen = self.distinct(count);
        for &at in &chosen {
            let names: Vec<String> = self.parts[at].stock.keys().cloned().collect();
            for name in names {
                let step = self.draw().gen_range(1..20);
                let part = &mut self.parts[at];
                let old = part.stock.get(&name).copied().unwrap_or(0);
                part.stock.insert(name, (old + step) % 40);
            }
            self.parts[at].updated_at = now;
        }
        chosen.len()
    }

    /// Renames `count` distinct parts.
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

    /// A cart's products as lines of the parts they name.
    pub fn cart_line(&self, product_uuid: &str, quantity: u32) -> Option<Line> {
        self.part(product_uuid, false).map(|part| Line {
            product_uuid: part.uuid.clone(),
            code: part.code.clone(),
            quantity,
        })
    }
}
