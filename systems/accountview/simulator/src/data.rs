//! The simulated administration: tables of rows (JSON objects, as the API shows them), seeded
//! from a number — article groups, articles (simple, configurable parents with their variants),
//! stock per warehouse with sales reservations, debtors (companies with a contact person,
//! persons), price lists per customer group — and sales orders written through the API.
use chrono::{Duration, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// A row of a table.
pub type Row = Map<String, Value>;

/// How many records the simulator starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeding {
    /// Seed of the generated data.
    pub seed: u64,
    /// Article rows in all: every eighth product is a configurable parent followed by two
    /// variant articles (100 rows: 70 simple, 10 configurable, 20 variants).
    pub articles: usize,
    /// Debtors: every other one a company with a contact person.
    pub debtors: usize,
}

impl Seeding {
    /// A seeding of `products` products (every eighth a configurable article with two
    /// variants, which stay inside it when read nested) and no debtors: one seeded product is
    /// one record a nested product read delivers.
    pub fn products(seed: u64, products: usize) -> Seeding {
        Seeding {
            seed,
            articles: products + 2 * (products / 8),
            debtors: 0,
        }
    }

    /// A seeding with `rows` stock rows (one per article that is not a configurable parent)
    /// and no debtors.
    pub fn stock_rows(seed: u64, rows: usize) -> Seeding {
        // Stock rows grow by at most one per article row, so the first count that reaches
        // `rows` gives exactly `rows`.
        let articles = (rows..)
            .find(|&articles| {
                let parents = configurable_plan(articles).iter().filter(|c| **c).count();
                articles - parents >= rows
            })
            .unwrap_or(rows);
        Seeding {
            seed,
            articles,
            debtors: 0,
        }
    }
}

/// Which of the products that fill `rows` article rows are configurable (in order): every
/// eighth, when its two variants still fit.
fn configurable_plan(rows: usize) -> Vec<bool> {
    let (mut used, mut plan) = (0, Vec::new());
    while used < rows {
        let configurable = (plan.len() + 1) % 8 == 0 && used + 3 <= rows;
        used += if configurable { 3 } else { 1 };
        plan.push(configurable);
    }
    plan
}

/// The fields of a table, whether or not it has rows: AccountView knows its tables' columns
/// (an empty table still sorts and filters by them).
pub fn schema(table: &str) -> &'static [&'static str] {
    match table {
        "ARTICLE" => &[
            "RowId",
            "ART_CODE",
            "ART_DESC1",
            "ART_DESC2",
            "ART_TYPE",
            "MAIN_ART",
            "AG_CODE",
            "PX_SELL",
            "VAT_PCT",
            "EAN_CODE",
            "UNIT",
            "BLOCKED",
            "ATTR_SIZE",
            "ATTR_COLOR",
            "FEAT_ORIGIN",
            "CNG_DATE",
        ],
        "ART_GRP" => &["RowId", "AG_CODE", "AG_DESC", "CNG_DATE"],
        "CONTACT" => &[
            "RowId",
            "SUB_NR",
            "ACCT_NAME",
            "CONTACT_TYPE",
            "ADDRESS1",
            "POST_CODE",
            "CITY",
            "CNT_CODE",
            "MAIL_BUS",
            "TEL_BUS",
            "VAT_NO",
            "REV_ACCT",
            "VAT_CODE",
            "CUST_GRP",
            "CNG_DATE",
            "CONTACT_PERSON",
        ],
        "ART_WH" => &["RowId", "ART_CODE", "WH_CODE", "QTY_STOCK", "QTY_RES", "CNG_DATE"],
        "PRICE_LST" => &[
            "RowId", "PL_CODE", "PL_DESC", "CUST_GRP", "CURRENCY", "CNG_DATE", "PRICE_LN",
        ],
        _ => &[],
    }
}

/// The tables, by name.
#[derive(Debug, Clone, Default)]
pub struct Db {
    /// Table name → rows in insertion order.
    pub tables: BTreeMap<&'static str, Vec<Row>>,
    /// The next `RowId` and debtor number.
    pub next_row: u64,
    pub next_debtor: u64,
    /// The day changes are dated (`CNG_DATE`): seeded rows are older.
    pub today: NaiveDate,
}

const GROUPS: [(&str, &str); 6] = [
    ("KOF", "Koffie"),
    ("THE", "Thee"),
    ("GEB", "Gebak"),
    ("FRI", "Frisdrank"),
    ("KLE", "Kleding"),
    ("SER", "Servies"),
];
const THINGS: [&str; 8] = [
    "Espresso bonen",
    "Earl Grey",
    "Appeltaart",
    "Sinaasappelsap",
    "Cappuccino kopje",
    "Croissant",
    "Muffin",
    "Theepot",
];
const SIZES: [&str; 2] = ["M", "L"];
const COLORS: [&str; 3] = ["Zwart", "Wit", "Rood"];
const COUNTRIES: [&str; 4] = ["NL", "BE", "DE", "FR"];
const NAMES: [(&str, &str); 6] = [
    ("Jan", "de Vries"),
    ("Anna", "Jansen"),
    ("Pieter", "Bakker"),
    ("Sanne", "Visser"),
    ("Lars", "Smit"),
    ("Eva", "Meijer"),
];

/// A price in cents as a JSON number with two decimals (AccountView answers numbers).
fn money(cents: i64) -> Value {
    serde_json::Number::from_f64(cents as f64 / 100.0).map_or(Value::Null, Value::Number)
}

fn date(day: NaiveDate) -> Value {
    json!(day.format("%Y-%m-%d").to_string())
}

impl Db {
    /// A new `RowId`.
    pub fn row_id(&mut self) -> String {
        self.next_row += 1;
        format!("{:08}", self.next_row)
    }

    /// The rows of `table` (empty when none).
    pub fn table(&self, table: &str) -> &[Row] {
        self.tables.get(table).map_or(&[], Vec::as_slice)
    }

    /// The rows of `table`, to change.
    pub fn table_mut(&mut self, table: &'static str) -> &mut Vec<Row> {
        self.tables.entry(table).or_default()
    }

    /// The database `seeding` describes.
    pub fn seeded(seeding: Seeding) -> Db {
        let mut rng = StdRng::seed_from_u64(seeding.seed);
        let base = NaiveDate::from_ymd_opt(2024, 5, 1).unwrap_or_default();
        let mut db = Db {
            next_debtor: 10_000,
            today: chrono::Utc::now().date_naive(),
            ..Db::default()
        };
        for (code, name) in GROUPS {
            let row_id = db.row_id();
            db.table_mut("ART_GRP").push(
                json!({ "RowId": row_id, "AG_CODE": code, "AG_DESC": name, "CNG_DATE": date(base) })
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            );
        }
        db.seed_articles(&mut rng, seeding.articles, base);
        db.seed_debtors(&mut rng, seeding.debtors, base);
        db.seed_price_lists(&mut rng, base);
        db
    }

    fn seed_articles(&mut self, rng: &mut StdRng, count: usize, base: NaiveDate) {
        for (index, configurable) in configurable_plan(count).into_iter().enumerate() {
            let product = index + 1;
            let code = format!("{}", 100_000 + self.table("ARTICLE").len() + 1);
            let thing = THINGS[product % THINGS.len()];
            let (group, _) = GROUPS[product % GROUPS.len()];
            let cents = rng.gen_range(150..9_000);
            let day = base + Duration::days((product % 20) as i64);
            let parent = self.article(&code, &format!("{thing} {product}"), group, cents, day, rng);
            if !configurable {
                self.stock(&code, rng, day);
                self.table_mut("ARTICLE").push(parent);
                continue;
            }
            let mut parent = parent;
            parent.insert("ART_TYPE".into(), json!("C"));
            self.table_mut("ARTICLE").push(parent);
            let color = COLORS[product % COLORS.len()];
            for size in SIZES {
                let variant_code = format!("{}", 100_000 + self.table("ARTICLE").len() + 1);
                let name = format!("{thing} {product} {size} {color}");
                let mut variant = self.article(&variant_code, &name, group, cents, day, rng);
                variant.insert("MAIN_ART".into(), json!(code));
                variant.insert("ATTR_SIZE".into(), json!(size));
                variant.insert("ATTR_COLOR".into(), json!(color));
                self.stock(&variant_code, rng, day);
                self.table_mut("ARTICLE").push(variant);
            }
        }
    }

    fn article(&mut self, code: &str, name: &str, group: &str, cents: i64, day: NaiveDate, rng: &mut StdRng) -> Row {
        let vat = if group == "KLE" || group == "SER" { 21 } else { 9 };
        let ean_body: u64 = 871_000_000_000 + rng.gen_range(0..999_999_999);
        json!({
            "RowId": self.row_id(),
            "ART_CODE": code,
            "ART_DESC1": name,
            "ART_DESC2": format!("{name}: uit ons eigen assortiment, met zorg geselecteerd."),
            "ART_TYPE": "S",
            "MAIN_ART": "",
            "AG_CODE": group,
            "PX_SELL": money(cents),
            "VAT_PCT": vat,
            "EAN_CODE": ean13(ean_body),
            "UNIT": "st",
            "BLOCKED": false,
            "ATTR_SIZE": "",
            "ATTR_COLOR": "",
            "FEAT_ORIGIN": COUNTRIES[rng.gen_range(0..COUNTRIES.len())],
            "CNG_DATE": date(day),
        })
        .as_object()
        .cloned()
        .unwrap_or_default()
    }

    fn stock(&mut self, code: &str, rng: &mut StdRng, day: NaiveDate) {
        let on_hand: i64 = rng.gen_range(0..60);
        let reserved = if on_hand == 0 {
            0
        } else {
            rng.gen_range(0..=on_hand.min(8))
        };
        let row = json!({
            "RowId": self.row_id(),
            "ART_CODE": code,
            "WH_CODE": "HOOFD",
            "QTY_STOCK": on_hand,
            "QTY_RES": reserved,
            "CNG_DATE": date(day),
        });
        self.table_mut("ART_WH")
            .push(row.as_object().cloned().unwrap_or_default());
    }

    fn seed_debtors(&mut self, rng: &mut StdRng, count: usize, base: NaiveDate) {
        for index in 0..count {
            let (first, last) = NAMES[index % NAMES.len()];
            let country = COUNTRIES[index % COUNTRIES.len()];
            let company = index % 2 == 0;
            self.next_debtor += 1;
            let number = self.next_debtor.to_string();
            let row_id = self.row_id();
            let name = if company {
                format!("{last} Horeca {index} B.V.")
            } else {
                format!("{first} {last}")
            };
            let email = format!(
                "{}.{}{index}@example.nl",
                first.to_lowercase(),
                last.replace(' ', "").to_lowercase()
            );
            let mut row = json!({
                "RowId": row_id,
                "SUB_NR": number,
                "ACCT_NAME": name,
                "CONTACT_TYPE": if company { "B" } else { "P" },
                "ADDRESS1": format!("Dorpsstraat {}", rng.gen_range(1..200)),
                "POST_CODE": format!("{} AB", rng.gen_range(1000..9999)),
                "CITY": "Utrecht",
                "CNT_CODE": country,
                "MAIL_BUS": email,
                "TEL_BUS": format!("+31 6 {}", rng.gen_range(10_000_000..99_999_999)),
                "VAT_NO": if company { format!("{country}{:09}B01", rng.gen_range(0..999_999_999)) } else { String::new() },
                "REV_ACCT": "8000",
                "VAT_CODE": "2",
                "CUST_GRP": if company { "HORECA" } else { "PARTICULIER" },
                "CNG_DATE": date(base + Duration::days((index % 10) as i64)),
            })
            .as_object()
            .cloned()
            .unwrap_or_default();
            if company {
                let person = json!({
                    "RowId": self.row_id(), "HeaderId": row_id,
                    "CP_FIRST": first, "CP_LAST": last, "CP_MAIL": row["MAIL_BUS"].clone(),
                });
                row.insert("CONTACT_PERSON".into(), json!([person]));
            }
            self.table_mut("CONTACT").push(row);
        }
    }

    fn seed_price_lists(&mut self, rng: &mut StdRng, base: NaiveDate) {
        let codes: Vec<String> = self
            .table("ARTICLE")
            .iter()
            .filter(|row| row.get("ART_TYPE") != Some(&json!("C")))
            .filter_map(|row| row.get("ART_CODE")?.as_str().map(str::to_owned))
            .collect();
        for (index, (list, group)) in [("PL-HORECA", "HORECA"), ("PL-GROOT", "GROOTHANDEL")]
            .iter()
            .enumerate()
        {
            let row_id = self.row_id();
            let lines: Vec<Value> = codes
                .iter()
                .skip(index * 3)
                .step_by(4)
                .take(12)
                .map(|code| {
                    let discount = rng.gen_range(0..4) == 0;
                    json!({
                        "RowId": self.row_id(), "HeaderId": row_id, "ART_CODE": code,
                        "PX_SELL": if discount { Value::Null } else { money(rng.gen_range(100..5_000)) },
                        "DISC_PCT": if discount { json!(rng.gen_range(5..25)) } else { Value::Null },
                        "MIN_QTY": if index == 1 { 10 } else { 1 },
                    })
                })
                .collect();
            let row = json!({
                "RowId": row_id, "PL_CODE": list, "PL_DESC": format!("Prijslijst {group}"),
                "CUST_GRP": group, "CURRENCY": "EUR", "CNG_DATE": date(base), "PRICE_LN": lines,
            });
            self.table_mut("PRICE_LST")
                .push(row.as_object().cloned().unwrap_or_default());
        }
    }
}

/// A valid EAN-13 (check digit computed) from its first 12 digits.
fn ean13(body: u64) -> String {
    let digits = format!("{:012}", body % 1_000_000_000_000);
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    format!("{digits}{}", (10 - sum % 10) % 10)
}
