//! The simulator's records, seeded from the shared parts catalogue (`tiltas_sim::parts`):
//! Elit's companies (one per country, each with its currency, VAT and warehouses), its item
//! numbers, prices in the company's currency, stock per warehouse and the account's orders.
use chrono::{Duration, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use tiltas_elit::wire::{Delivery, ItemAvailability, ItemInfo, OrderInfo};
use tiltas_model::parts::{normalise_article, normalise_brand};
use tiltas_sim::parts::{assortment, Part, SupplierProfile};

/// One Elit company: a country's branch of Elit, as `CompanyName` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Company {
    /// `ELIT_LT`.
    pub name: &'static str,
    /// ISO 4217 currency of its prices.
    pub currency: &'static str,
    /// Units of `currency` per euro, hundredths.
    pub per_eur_cents: i64,
    /// VAT in percent.
    pub vat: u32,
    /// Its warehouses, nearest first: the local branch (in stock now), the country's hub
    /// (tomorrow) and Elit's central warehouse (2–3 days).
    pub warehouses: [&'static str; 3],
}

/// The companies the simulator knows.
pub const COMPANIES: &[Company] = &[
    Company {
        name: "ELIT_CZ",
        currency: "CZK",
        per_eur_cents: 2500,
        vat: 21,
        warehouses: ["Praha", "Ostrava", "Central warehouse"],
    },
    Company {
        name: "ELIT_SK",
        currency: "EUR",
        per_eur_cents: 100,
        vat: 23,
        warehouses: ["Bratislava", "Žilina", "Central warehouse"],
    },
    Company {
        name: "ELIT_PL",
        currency: "PLN",
        per_eur_cents: 430,
        vat: 23,
        warehouses: ["Warszawa", "Kraków", "Central warehouse"],
    },
    Company {
        name: "ELIT_RO",
        currency: "RON",
        per_eur_cents: 497,
        vat: 21,
        warehouses: ["București", "Cluj-Napoca", "Central warehouse"],
    },
    Company {
        name: "ELIT_LT",
        currency: "EUR",
        per_eur_cents: 100,
        vat: 21,
        warehouses: ["Vilnius", "Kaunas", "Central warehouse"],
    },
    Company {
        name: "ELIT_LV",
        currency: "EUR",
        per_eur_cents: 100,
        vat: 21,
        warehouses: ["Rīga", "Daugavpils", "Central warehouse"],
    },
    Company {
        name: "ELIT_EE",
        currency: "EUR",
        per_eur_cents: 100,
        vat: 24,
        warehouses: ["Tallinn", "Tartu", "Central warehouse"],
    },
    Company {
        name: "ELIT_UA",
        currency: "UAH",
        per_eur_cents: 4450,
        vat: 20,
        warehouses: ["Kyiv", "Lviv", "Central warehouse"],
    },
];

/// The delivery time of each warehouse, nearest first: its label and days from today.
pub const DELIVERY_TIMES: [(&str, i64); 3] = [("0", 0), ("1", 1), ("2-3", 3)];

/// The company named `name`, whatever its case.
pub fn company(name: &str) -> Option<&'static Company> {
    COMPANIES.iter().find(|c| c.name.eq_ignore_ascii_case(name.trim()))
}

/// Elit's item number of a part: the first three letters of the brand and the maker's number
/// without separators (`MANW71275`).
fn code(part: &Part, _index: usize) -> String {
    let brand: String = part
        .brand
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(3)
        .collect::<String>()
        .to_ascii_uppercase();
    format!("{brand}{}", normalise_article(&part.article))
}

/// How Elit shows the shared catalogue.
pub fn profile() -> SupplierProfile {
    SupplierProfile {
        name: "elit",
        share: 0.65,
        code,
        branches: &["local", "hub", "central"],
        price_percent: 109,
    }
}

/// One part as Elit holds it.
#[derive(Debug, Clone)]
pub struct ElitPart {
    /// Elit's item number.
    pub item_no: String,
    /// The shared part.
    pub part: Part,
    /// Net price of one piece, euro (converted into the company's currency when answered).
    pub price_eur: Decimal,
    /// Pieces at the local branch, the hub and the central warehouse.
    pub stock: [u32; 3],
}

impl ElitPart {
    /// The net price of one piece in `company`'s currency.
    pub fn price(&self, company: &Company) -> Decimal {
        (self.price_eur * Decimal::new(company.per_eur_cents, 2)).round_dp(2)
    }

    /// Whether `item_no` (and `supplier_code`, a brand) names this part: Elit's number, or
    /// the maker's number, compared without case and separators.
    pub fn answers(&self, item_no: &str, supplier_code: Option<&str>) -> bool {
        let wanted = normalise_article(item_no);
        let number = wanted == normalise_article(&self.item_no) || wanted == normalise_article(&self.part.article);
        number && supplier_code.is_none_or(|brand| normalise_brand(brand) == normalise_brand(&self.part.brand))
    }

    /// The part as `getItemInfo` answers it for `company`.
    pub fn info(&self, company: &Company) -> ItemInfo {
        let price = self.price(company);
        ItemInfo {
            item_no: self.item_no.clone(),
            supplier_item_no: Some(self.part.article.clone()),
            supplier_code: Some(self.part.brand.clone()),
            name: Some(self.part.name.clone()),
            ean: Some(self.part.ean.clone()),
            price,
            price_vat: Some((price * Decimal::from(100 + company.vat) / Decimal::ONE_HUNDRED).round_dp(2)),
            vat_rate: Some(Decimal::from(company.vat)),
            currency: company.currency.to_owned(),
            qty_available: Decimal::from(self.stock.iter().sum::<u32>()),
        }
    }

    /// The part as `getItemInfoAgregByTime` answers it for `company` on `today`: one bucket per
    /// delivery time, zero quantities included.
    pub fn availability(&self, company: &Company, today: NaiveDate) -> ItemAvailability {
        ItemAvailability {
            item_no: self.item_no.clone(),
            found: true,
            deliveries: DELIVERY_TIMES
                .iter()
                .zip(company.warehouses)
                .zip(self.stock)
                .map(|(((time, days), warehouse), qty)| Delivery {
                    time: (*time).to_owned(),
                    date: Some(today + Duration::days(*days)),
                    warehouse: warehouse.to_owned(),
                    qty: Decimal::from(qty),
                })
                .collect(),
        }
    }
}

/// What the simulator starts with.
#[derive(Debug, Clone)]
pub struct Seeding {
    /// Seed of the catalogue (shared with the other suppliers' simulators) and of the rest.
    pub seed: u64,
    /// Parts of the shared catalogue to draw the assortment from (about 65 % are carried).
    pub catalogue: usize,
}

/// What the simulator holds.
#[derive(Debug, Clone, Default)]
pub struct Db {
    /// Parts in catalogue order.
    pub parts: Vec<ElitPart>,
    /// Orders in creation order.
    pub orders: Vec<OrderInfo>,
    /// Draws for mutations.
    pub rng: Option<StdRng>,
}

impl Db {
    /// The seeded state.
    pub fn seeded(seeding: &Seeding) -> Db {
        let parts = assortment(seeding.seed, seeding.catalogue, &profile())
            .into_iter()
            .map(|carried| {
                let mut stock = [0; 3];
                for (slot, (_, qty)) in stock.iter_mut().zip(&carried.stock) {
                    *slot = *qty;
                }
                ElitPart {
                    item_no: carried.code,
                    price_eur: carried.price_eur,
                    stock,
                    part: carried.part,
                }
            })
            .collect();
        Db {
            parts,
            orders: Vec::new(),
            rng: Some(StdRng::seed_from_u64(seeding.seed ^ 0xE117)),
        }
    }

    fn draw(&mut self) -> &mut StdRng {
        self.rng.get_or_insert_with(|| StdRng::seed_from_u64(1))
    }

    /// The part with Elit's number `item_no`.
    pub fn part(&self, item_no: &str) -> Option<&ElitPart> {
        let item_no = item_no.trim();
        self.parts
            .iter()
            .find(|part| part.item_no.eq_ignore_ascii_case(item_no))
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
        let chosen = self.distinct(count);
        for &at in &chosen {
            for slot in 0..3 {
                let step = self.draw().gen_range(1..20);
                let qty = &mut self.parts[at].stock[slot];
                *qty = (*qty + step) % 40;
            }
        }
        chosen.len()
    }

    /// Raises the price of `count` distinct parts by 5 %.
    pub fn change_prices(&mut self, count: usize) -> usize {
        let chosen = self.distinct(count);
        for &at in &chosen {
            let part = &mut self.parts[at];
            part.price_eur = (part.price_eur * Decimal::new(105, 2)).round_dp(2);
        }
        chosen.len()
    }

    /// Elit's next order id.
    pub fn next_order_id(&self) -> String {
        format!("EO{:08}", 10_000 + self.orders.len())
    }

    /// Today, as the simulator dates deliveries and orders.
    pub fn today() -> NaiveDate {
        Utc::now().date_naive()
    }
}
