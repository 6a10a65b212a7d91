//! The company's data: seeding, the stored form of each record and how an export renders it
//! (the `code` of an item is its global or local code, as the company's settings say).
use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use tiltas_smartup::wire::{self, CodeUse, IntegrationSettings};

/// A stored record: Smartup's fields as its API renders them (items keep both codes).
pub(crate) type Record = Map<String, Value>;

/// Units of measure the company knows.
pub(crate) const MEASURES: [&str; 5] = ["pcs", "kg", "l", "m", "box"];
/// Price types of the company: code and name.
pub(crate) const PRICE_TYPES: [(&str, &str); 2] = [("RETAIL", "Розница"), ("WHOLESALE", "Опт")];

/// How the simulator seeds its company.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeding {
    /// Seed of the generated data.
    pub seed: u64,
    /// Items with codes.
    pub items: usize,
    /// Items without a global or local code (exported only with «Выгружать данные без кодов»).
    pub items_without_code: usize,
    /// Customers (every third a legal person, the rest natural persons).
    pub customers: usize,
    /// Orders, statuses in turn D, N, B, A, C.
    pub orders: usize,
    /// Documents of each other type (receipts, movements, payments, …).
    pub documents: usize,
    /// Branches of a head organisation; 0: a single organisation.
    pub filials: usize,
}

/// One filial (organisation) of the company.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Filial {
    pub id: String,
    pub code: String,
    pub head: bool,
}

/// The filials: one organisation `1`, or head `100` with branches `101…` coded `F1…`.
pub(crate) fn filials(count: usize) -> Vec<Filial> {
    if count == 0 {
        return vec![Filial {
            id: "1".into(),
            code: "MAIN".into(),
            head: false,
        }];
    }
    let mut filials = vec![Filial {
        id: "100".into(),
        code: "HEAD".into(),
        head: true,
    }];
    filials.extend((1..=count).map(|n| Filial {
        id: (100 + n).to_string(),
        code: format!("F{n}"),
        head: false,
    }));
    filials
}

/// The company's data.
#[derive(Debug, Clone, Default)]
pub(crate) struct Db {
    pub items: BTreeMap<i64, Record>,
    pub persons: BTreeMap<i64, Record>,
    pub prices: Vec<Record>,
    pub balances: Vec<Record>,
    pub orders: BTreeMap<i64, Record>,
    /// Other documents by type (`input`, `payment`, …), then id.
    pub documents: BTreeMap<String, BTreeMap<i64, Record>>,
    pub settings: IntegrationSettings,
    pub next_id: i64,
}

impl Db {
    pub fn id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    /// The item whose code (in the company's code scope) is `code`.
    pub fn item_by_code(&self, code: &str) -> Option<(i64, &Record)> {
        let field = code_field(self.settings.code_use);
        self.items
            .iter()
            .find(|(_, item)| item.get(field).and_then(Value::as_str) == Some(code))
            .map(|(id, item)| (*id, item))
    }

    /// The person named by `person_id` or `person_code`.
    pub fn person(&self, object: &Record) -> Option<(i64, &Record)> {
        if let Some(id) = integer(object, "person_id") {
            return self.persons.get(&id).map(|person| (id, person));
        }
        let code = text(object, "person_code")?;
        self.persons
            .iter()
            .find(|(_, person)| text(person, "code").as_deref() == Some(code.as_str()))
            .map(|(id, person)| (*id, person))
    }
}

/// The stored field of an item's code in a code scope.
pub(crate) fn code_field(code_use: CodeUse) -> &'static str {
    match code_use {
        CodeUse::Global => "global_code",
        CodeUse::Local => "local_code",
    }
}

/// A time as Smartup writes it.
pub(crate) fn stamp(at: DateTime<Utc>) -> String {
    at.format(wire::TIME).to_string()
}

/// A record's field as text, none when blank.
pub(crate) fn text(record: &Record, field: &str) -> Option<String> {
    match record.get(field)? {
        Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// A record's field as an integer.
pub(crate) fn integer(record: &Record, field: &str) -> Option<i64> {
    match record.get(field)? {
        Value::Number(number) => number.as_i64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// A record's field as a decimal.
pub(crate) fn decimal(record: &Record, field: &str) -> Option<Decimal> {
    text(record, field)?.parse().ok()
}

fn ean13(body: u64) -> String {
    let digits: Vec<u32> = format!("{:012}", body % 1_000_000_000_000)
        .chars()
        .filter_map(|c| c.to_digit(10))
        .collect();
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(index, digit)| if index % 2 == 0 { *digit } else { digit * 3 })
        .sum();
    let check = (10 - sum % 10) % 10;
    format!("{}{check}", digits.iter().map(u32::to_string).collect::<String>())
}

/// Seeded times lie in the past four weeks, none today, so a read of today's changes sees only
/// what was changed since.
fn seeded_time(n: usize) -> String {
    let day = (Utc::now() - Duration::days(1 + (n % 28) as i64)).date_naive();
    stamp(day.and_hms_opt(10, (n % 60) as u32, 0).unwrap_or_default().and_utc())
}

fn seed_items(db: &mut Db, seeding: &Seeding, rng: &mut StdRng) {
    for n in 1..=seeding.items + seeding.items_without_code {
        let id = db.id();
        let coded = n <= seeding.items;
        let (global, local) = if coded {
            (format!("G{n:05}"), format!("L{n:05}"))
        } else {
            (String::new(), String::new())
        };
        let at = seeded_time(n);
        let price = Decimal::from(rng.gen_range(5..500) * 1000);
        db.items.insert(
            id,
            json!({
                "product_id": id,
                "global_code": global,
                "local_code": local,
                "name": format!("Товар {n}"),
                "measure_code": MEASURES[n % 3],
                "state": "A",
                "inventory_kind": "G",
                "barcodes": ean13(4_780_000_000_000 + n as u64),
                "vat_percent": "12",
                "groups": [{ "group_code": format!("GR{}", n % 4 + 1), "type_code": "CATEGORY" }],
                "external_id": "",
                "created_on": at,
                "modified_on": at,
            })
            .as_object()
            .cloned()
            .unwrap_or_default(),
        );
        for (index, (price_type, _)) in PRICE_TYPES.iter().enumerate() {
            let value = if index == 0 { price } else { price * Decimal::new(85, 2) };
            db.prices.push(record(json!({
                "product_id": id,
                "price_type_code": price_type,
                "price": value.normalize().to_string(),
                "currency_code": "UZS",
                "modified_on": at,
            })));
        }
    }
}

fn record(value: Value) -> Record {
    value.as_object().cloned().unwrap_or_default()
}

fn seed_persons(db: &mut Db, seeding: &Seeding) {
    for n in 1..=seeding.customers {
        let id = db.id();
        let at = seeded_time(n);
        let legal = n % 3 == 1;
        let person = if legal {
            json!({
                "person_id": id, "kind": "legal_person", "code": format!("C{n:04}"),
                "name": format!("ООО «Клиент {n}»"), "short_name": format!("Клиент {n}"),
                "tin": format!("{:09}", 300_000_000 + n), "email": format!("client{n}@example.uz"),
                "main_phone": format!("+99890{:07}", 1_000_000 + n), "address": format!("Ташкент, ул. Навои, {n}"),
                "state": "A", "external_id": "", "created_on": at, "modified_on": at,
            })
        } else {
            json!({
                "person_id": id, "kind": "natural_person", "code": format!("C{n:04}"),
                "first_name": format!("Имя{n}"), "last_name": format!("Фамилия{n}"),
                "email": format!("client{n}@example.uz"), "main_phone": format!("+99891{:07}", 1_000_000 + n),
                "address": format!("Самарканд, ул. Регистан, {n}"),
                "state": "A", "external_id": "", "created_on": at, "modified_on": at,
            })
        };
        db.persons.insert(id, record(person));
    }
}

fn seed_stock(db: &mut Db, filials: &[Filial], rng: &mut StdRng) {
    let ids: Vec<i64> = db.items.keys().copied().collect();
    for filial in filials.iter().filter(|filial| !filial.head) {
        for id in &ids {
            let at = db.items[id].get("modified_on").cloned().unwrap_or_default();
            db.balances.push(record(json!({
                "product_id": id,
                "warehouse_code": format!("WH-{}", filial.code),
                "filial_code": filial.code,
                "quantity": rng.gen_range(0..200).to_string(),
                "booked_quantity": rng.gen_range(0..5).to_string(),
                "modified_on": at,
            })));
        }
    }
}

/// Products of a seeded document: two items with their codes, quantities and prices.
fn lines(db: &Db, n: usize) -> Vec<Value> {
    let coded: Vec<&Record> = db
        .items
        .values()
        .filter(|item| text(item, "global_code").is_some())
        .collect();
    if coded.is_empty() {
        return Vec::new();
    }
    (0..2)
        .map(|k| {
            let item = coded[(n + k) % coded.len()];
            json!({
                "product_id": item.get("product_id").cloned().unwrap_or_default(),
                "quantity": (k + 1).to_string(),
                "product_price": "10000",
            })
        })
        .collect()
}

fn seed_documents(db: &mut Db, seeding: &Seeding, filials: &[Filial]) {
    let branch = |n: usize| {
        let branches: Vec<&Filial> = filials.iter().filter(|filial| !filial.head).collect();
        branches[n % branches.len()].code.clone()
    };
    let person_ids: Vec<i64> = db.persons.keys().copied().collect();
    for n in 1..=seeding.orders {
        let id = db.id();
        let at = seeded_time(n);
        let status = wire::ORDER_STATUSES[(n - 1) % wire::ORDER_STATUSES.len()].0;
        let person = person_ids.get(n % person_ids.len().max(1)).copied().unwrap_or_default();
        let products = lines(db, n);
        db.orders.insert(
            id,
            record(json!({
                "deal_id": id, "external_id": format!("SO-{n:05}"), "deal_date": at[..10].to_owned(),
                "person_id": person, "status": status, "currency_code": "UZS", "filial_code": branch(n),
                "warehouse_code": format!("WH-{}", branch(n)), "products": products, "note": "",
                "created_on": at, "modified_on": at,
            })),
        );
    }
    for endpoint in wire::DOCUMENTS {
        let mut documents = BTreeMap::new();
        for n in 1..=seeding.documents {
            let id = db.id();
            let at = seeded_time(n + 3);
            let person = person_ids.get(n % person_ids.len().max(1)).copied().unwrap_or_default();
            let mut document = record(json!({
                "document_id": id, "external_id": format!("{}-{n:05}", endpoint.key.to_uppercase()),
                "document_number": format!("{}-{n:05}", endpoint.key.to_uppercase()),
                "document_date": at[..10].to_owned(), "filial_code": branch(n),
                "warehouse_code": format!("WH-{}", branch(n)), "currency_code": "UZS",
                "created_on": at, "modified_on": at,
            }));
            if matches!(endpoint.key, "payment" | "cash") {
                document.insert("person_id".into(), json!(person));
                document.insert("amount".into(), json!(format!("{}", 50_000 * n)));
            } else {
                document.insert("products".into(), Value::Array(lines(db, n)));
            }
            documents.insert(id, document);
        }
        db.documents.insert(endpoint.key.to_owned(), documents);
    }
}

/// The seeded company.
pub(crate) fn seed(seeding: &Seeding) -> Db {
    let mut rng = StdRng::seed_from_u64(seeding.seed);
    let mut db = Db::default();
    let filials = filials(seeding.filials);
    seed_items(&mut db, seeding, &mut rng);
    seed_persons(&mut db, seeding);
    seed_stock(&mut db, &filials, &mut rng);
    seed_documents(&mut db, seeding, &filials);
    db
}

/// An item as an export shows it: `code` in the company's code scope, the other code hidden.
pub(crate) fn render_item(item: &Record, code_use: CodeUse) -> Record {
    let mut shown = item.clone();
    let code = text(item, code_field(code_use)).unwrap_or_default();
    shown.remove("global_code");
    shown.remove("local_code");
    shown.insert("code".into(), json!(code));
    shown
}

/// Replaces `product_id` in a record (and its `products`) by `product_code` in the company's
/// code scope, as exports name items.
pub(crate) fn with_product_codes(db: &Db, record: &Record) -> Record {
    let code_of = |id: &Value| {
        id.as_i64()
            .and_then(|id| db.items.get(&id))
            .and_then(|item| text(item, code_field(db.settings.code_use)))
            .unwrap_or_default()
    };
    let mut shown = record.clone();
    if let Some(id) = record.get("product_id") {
        shown.insert("product_code".into(), json!(code_of(id)));
    }
    if let Some(Value::Array(products)) = record.get("products") {
        let products = products
            .iter()
            .map(|line| {
                let mut line = line.as_object().cloned().unwrap_or_default();
                if let Some(id) = line.get("product_id").cloned() {
                    line.insert("product_code".into(), json!(code_of(&id)));
                }
                Value::Object(line)
            })
            .collect();
        shown.insert("products".into(), Value::Array(products));
    }
    if let Some(person) = record.get("person_id").and_then(Value::as_i64) {
        if let Some(code) = db.persons.get(&person).and_then(|person| text(person, "code")) {
            shown.insert("person_code".into(), json!(code));
        }
    }
    shown
}
