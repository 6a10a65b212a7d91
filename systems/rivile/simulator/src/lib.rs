//! A simulator of the Manorivile API v2 gateway (`POST /client/v2`), as its documentation and
//! its clients show it: `ApiKey` header, JSON or XML bodies (`<body>` root), XML answers by
//! default and JSON with `Accept: application/json` (no `RET_DOK`, one row as an object, none
//! as `{}`, every value a string, `CHAR` columns padded to their width), `fil` as a T-SQL
//! `WHERE` fragment, 100 rows a page in primary-key order, 10 requests/s with bursts to 30.
//!
//! It serves the `GET_*_LIST` methods of [`TABLES`](tiltas_rivile::schema::TABLES) and the
//! `EDIT_*` methods of products, clients, services and sales documents; the harness'
//! `invalid_item_rate` makes an `EDIT_*` of a chosen record fail with a data error.
mod contract;
mod flags;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
pub use contract::contract_fixture;
pub use flags::Flags;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tiltas_rivile::fil::{self, FilValue};
use tiltas_rivile::schema::{
    table_of_method, Column, ColumnType, Table, I06, I07, I09, I10, I17, I33, N07, N08, N17, N25, N32, N33, N37,
};
use tiltas_sim::{Harness, RequestKind, SimSystem};

/// Rows per `GET_*_LIST` page.
pub const PAGE_ROWS: usize = 100;
/// Sustained requests per second per key.
pub const RATE_PER_S: u32 = 10;
/// Burst size per key.
pub const BURST: u32 = 30;
/// The empty date of Rivile answers.
const EMPTY_DATE: &str = "1900-01-01T00:00:00";
/// The `dataErrors` code of a record `invalid_item_rate` refuses: the simulator's own, a code
/// Rivile is not known to use, so the connector keeps the text as Rivile's (as for any unknown
/// code).
const REFUSED_ITEM_CODE: &str = "0";
/// The `dataErrors` message of a record `invalid_item_rate` refuses ("record refused as
/// invalid"), in Lithuanian like Rivile's own.
pub const REFUSED_ITEM: &str = "Įrašas atmestas kaip neteisingas (invalid_item_rate, POST /__sim/faults)";

/// A row: column name → stored value (text unpadded, numbers as decimal text, times as
/// `YYYY-MM-DDTHH:MM:SS`; empty for none).
type Row = BTreeMap<&'static str, String>;

#[derive(Debug, Clone, Default)]
struct Db {
    tables: BTreeMap<&'static str, BTreeMap<Vec<String>, Row>>,
    mutations: u64,
    documents: u64,
}

impl Db {
    fn insert(&mut self, table: &Table, values: &[(&'static str, String)]) {
        let mut row: Row = table
            .columns
            .iter()
            .map(|column| (column.name, String::new()))
            .collect();
        for (name, value) in values {
            row.insert(name, value.clone());
        }
        let key: Vec<String> = table
            .key
            .iter()
            .map(|name| row.get(name).cloned().unwrap_or_default().to_lowercase())
            .collect();
        self.tables.entry(table.code).or_default().insert(key, row);
    }
}

/// How many records the simulator starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeding {
    /// Seed of the generated data.
    pub seed: u64,
    /// Products (N17, with a barcode in N37 and stock in I17).
    pub products: usize,
    /// Clients (N08).
    pub customers: usize,
}

/// The simulated gateway.
pub struct RivileSim {
    api_key: String,
    seeding: Seeding,
    seeded: Db,
    db: Mutex<Db>,
    bucket: Mutex<(f64, Instant)>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

const PRODUCTS: [&str; 10] = [
    "Stabdžių kaladėlės",
    "Alyvos filtras",
    "Oro filtras",
    "Uždegimo žvakė",
    "Valytuvo šluotelė",
    "Akumuliatorius",
    "Stabdžių diskas",
    "Amortizatorius",
    "Paskirstymo diržas",
    "Lemputė H7",
];
const COMPANIES: [&str; 8] = [
    "UAB Ratai",
    "UAB Detalė",
    "MB Autoservisas",
    "UAB Baltijos prekyba",
    "IĮ Jonas",
    "UAB Šilas",
    "UAB Vairas",
    "MB Žibintas",
];

fn timestamp(day: u32, second: u32) -> String {
    format!(
        "2024-{:02}-{:02}T{:02}:{:02}:{:02}",
        1 + day / 28 % 12,
        1 + day % 28,
        second / 3600 % 24,
        second / 60 % 60,
        second % 60
    )
}

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

impl RivileSim {
    /// A gateway accepting `api_key`, with seeded tables.
    pub fn new(api_key: impl Into<String>, seeding: Seeding) -> RivileSim {
        let mut rng = StdRng::seed_from_u64(seeding.seed);
        let mut db = Db::default();
        for table in tiltas_rivile::schema::TABLES {
            db.tables.insert(table.code, BTreeMap::new());
        }
        for (code, name) in [("CENTR", "Centrinis sandėlis"), ("VLN", "Vilniaus parduotuvė")] {
            db.insert(
                &N07,
                &[
                    ("N07_KODAS_IS", code.into()),
                    ("N07_PAV", name.into()),
                    ("N07_R_DATE", timestamp(0, 0)),
                ],
            );
        }
        for (code, name, kind) in [
            ("004", "Prekių pardavimas", "2"),
            ("5006", "Laiptinių valymas", "2"),
            ("PRISTATYMAS", "Prekių pristatymas", "2"),
            ("MOKESTIS", "Apmokėjimo mokestis", "2"),
            ("NUOLAIDA", "Nuolaida", "2"),
            ("P001", "Prekių pirkimas", "1"),
        ] {
            db.insert(
                &N25,
                &[
                    ("N25_KODAS_BS", code.into()),
                    ("N25_PAV", name.into()),
                    ("N25_TIPAS", kind.into()),
                    ("N25_KODAS_SS", "5001".into()),
                    ("N25_KODAS_US", "VNT".into()),
                    ("N25_FRAKCIJA", "100".into()),
                    ("N25_MOKESTIS", "1".into()),
                    ("N25_TAX", "1".into()),
                    ("N25_USERIS", "MASTER".into()),
                    ("N25_ADDUSR", "MASTER".into()),
                    ("N25_R_DATE", "2019-08-13T10:55:42".into()),
                    ("N25_ADD_TIME", "2019-08-13T00:00:00".into()),
                    ("N25_BEG_DATE", "2019-08-12T00:00:00".into()),
                    ("N25_END_DATE", "2019-08-12T00:00:00".into()),
                    ("N25_OP_RUSIS", "1".into()),
                    ("N25_KODAS_LP", "000000000000".into()),
                ],
            );
        }
        for n in 1..=seeding.products {
            let code = format!("A{:05}", 100 + n);
            let changed = timestamp(n as u32 / 50, n as u32 * 37);
            db.insert(
                &N17,
                &[
                    ("N17_KODAS_PS", code.clone()),
                    ("N17_PAV", format!("{} {n}", PRODUCTS[rng.gen_range(0..PRODUCTS.len())])),
                    ("N17_KODAS_US", "VNT".into()),
                    ("N17_TIPAS", "1".into()),
                    ("N17_KODAS_GS", "40".into()),
                    ("N17_KILM", "LT".into()),
                    ("N17_PVM", "21".into()),
                    ("N17_USERIS", "API".into()),
                    ("N17_R_DATE", changed.clone()),
                    ("N17_ADDUSR", "API".into()),
                    ("N17_ADD_DATE", changed.clone()),
                ],
            );
            db.insert(
                &N37,
                &[
                    ("N37_KODAS_PS", code.clone()),
                    ("N37_KODAS_US", "VNT".into()),
                    ("N37_BAR_KODAS", ean13(477_100_000_000 + n as u64)),
                    ("N37_R_DATE", changed.clone()),
                ],
            );
            db.insert(
                &N32,
                &[
                    ("N32_KODAS_PS", format!("A{:05}", 100 + n)),
                    ("N32_KODAS_US", "VNT".into()),
                    ("N32_TIPAS", "1".into()),
                    (
                        "N32_KAINA1",
                        format!("{}.{:02}", rng.gen_range(1..300), rng.gen_range(0..100)),
                    ),
                    ("N32_R_DATE", changed.clone()),
                ],
            );
            // Every third product has its own price in the central warehouse (I33).
            if n % 3 == 0 {
                db.insert(
                    &I33,
                    &[
                        ("I33_KODAS_PS", code.clone()),
                        ("I33_KODAS_IS", "CENTR".into()),
                        ("I33_KODAS_US", "VNT".into()),
                        (
                            "I33_KAINA",
                            format!("{}.{:02}", rng.gen_range(1..300), rng.gen_range(0..100)),
                        ),
                        ("I33_USERIS", "API".into()),
                        ("I33_R_DATE", changed.clone()),
                    ],
                );
            }
            db.insert(
                &I17,
                &[
                    ("I17_KODAS_PS", code),
                    ("I17_KODAS_US", "VNT".into()),
                    ("I17_KODAS_IS", "CENTR".into()),
                    ("I17_KIEKIS", rng.gen_range(0..500).to_string()),
                    ("I17_REZERVAS", rng.gen_range(0..5).to_string()),
                    ("I17_R_DATE", changed),
                ],
            );
        }
        for n in 1..=seeding.customers {
            let company = COMPANIES[rng.gen_range(0..COMPANIES.len())];
            let changed = timestamp(n as u32 / 20, n as u32 * 53);
            db.insert(
                &N08,
                &[
                    ("N08_KODAS_KS", format!("{}", 120_000_000 + n * 7919)),
                    ("N08_PAV", format!("{company} {n}")),
                    ("N08_IM_KODAS", format!("{}", 300_000_000 + n)),
                    ("N08_PVM_KODAS", format!("LT{}", 100_000_000_000u64 + n as u64)),
                    ("N08_ADR", format!("Gedimino pr. {n}")),
                    ("N08_MIESTAS", "Vilnius".into()),
                    ("N08_POST_KOD", format!("LT-{:05}", 1000 + n)),
                    ("N08_SALIS", "LT".into()),
                    ("N08_E_MAIL", format!("info{n}@imone.lt")),
                    ("N08_RUSIS", "1".into()),
                    ("N08_USERIS", "API".into()),
                    ("N08_R_DATE", changed.clone()),
                    ("N08_ADDUSR", "API".into()),
                    ("N08_ADD_DATE", changed.clone()),
                ],
            );
            db.insert(
                &N33,
                &[
                    ("N33_KODAS_KS", format!("{}", 120_000_000 + n * 7919)),
                    ("N33_EIL_NR", "1".into()),
                    ("N33_ADR", format!("Pristatymo g. {n}")),
                    ("N33_MIESTAS", "Kaunas".into()),
                    ("N33_POST_KOD", format!("LT-{:05}", 44_000 + n)),
                    ("N33_SALIS", "LT".into()),
                    ("N33_R_DATE", changed),
                ],
            );
        }
        // Internal documents: a transfer, a write-off and an inventory count per 20 products.
        for n in 1..=seeding.products / 20 {
            let (kind, to) = match n % 3 {
                1 => ("31", "VLN"),
                2 => ("32", ""),
                _ => ("33", ""),
            };
            let key = format!("VD{n:06}");
            let changed = timestamp(n as u32, n as u32 * 61);
            db.insert(
                &I09,
                &[
                    ("I09_KODAS_VD", key.clone()),
                    ("I09_OP_TIP", kind.into()),
                    ("I09_DOK_NR", format!("VD-{n}")),
                    ("I09_OP_DATA", changed.clone()),
                    ("I09_DOK_DATA", changed.clone()),
                    ("I09_KODAS_IS", "CENTR".into()),
                    ("I09_KODAS_IS2", to.into()),
                    ("I09_PERKELTA", "2".into()),
                    ("I09_USERIS", "API".into()),
                    ("I09_R_DATE", changed.clone()),
                ],
            );
            for line in 1..=rng.gen_range(1..=3usize) {
                let product = rng.gen_range(1..=seeding.products);
                db.insert(
                    &I10,
                    &[
                        ("I10_KODAS_VD", key.clone()),
                        ("I10_EIL_NR", line.to_string()),
                        ("I10_KODAS", format!("A{:05}", 100 + product)),
                        ("I10_KODAS_US", "VNT".into()),
                        ("I10_KIEKIS", rng.gen_range(1..20).to_string()),
                        ("I10_R_DATE", changed.clone()),
                    ],
                );
            }
        }
        RivileSim {
            api_key: api_key.into(),
            seeding,
            seeded: db.clone(),
            db: Mutex::new(db),
            bucket: Mutex::new((f64::from(BURST), Instant::now())),
        }
    }

    /// Takes a token of the key's bucket (10/s, bursts to 30).
    fn take_token(&self) -> bool {
        let mut bucket = lock(&self.bucket);
        let now = Instant::now();
        bucket.0 =
            (bucket.0 + now.duration_since(bucket.1).as_secs_f64() * f64::from(RATE_PER_S)).min(f64::from(BURST));
        bucket.1 = now;
        if bucket.0 >= 1.0 {
            bucket.0 -= 1.0;
            true
        } else {
            false
        }
    }
}

fn table_name_of(entity: &str) -> Option<&'static Table> {
    match entity {
        "product" | "N17" => Some(&N17),
        "customer" | "N08" => Some(&N08),
        "stock" | "I17" => Some(&I17),
        "N37" => Some(&N37),
        "N33" => Some(&N33),
        "I06" => Some(&I06),
        "I07" => Some(&I07),
        "price" | "N32" => Some(&N32),
        "warehouse_price" | "I33" => Some(&I33),
        "internal_document" | "I09" => Some(&I09),
        "N25" => Some(&N25),
        "N07" => Some(&N07),
        _ => None,
    }
}

impl SimSystem for RivileSim {
    fn record_counts(&self) -> BTreeMap<String, usize> {
        let db = lock(&self.db);
        let count = |code: &str| db.tables.get(code).map_or(0, BTreeMap::len);
        BTreeMap::from([
            ("product".to_owned(), count("N17")),
            ("customer".to_owned(), count("N08")),
            ("stock".to_owned(), count("I17")),
            ("order".to_owned(), count("I06")),
        ])
    }

    fn duplicates(&self) -> usize {
        // Codes are primary keys; documents can repeat a number of the same operation.
        let db = lock(&self.db);
        let mut numbers: BTreeMap<(String, String), usize> = BTreeMap::new();
        for row in db.tables.get("I06").map(|rows| rows.values()).into_iter().flatten() {
            let number = row.get("I06_DOK_NR").cloned().unwrap_or_default();
            if !number.is_empty() {
                *numbers
                    .entry((row.get("I06_OP_TIP").cloned().unwrap_or_default(), number))
                    .or_default() += 1;
            }
        }
        numbers.values().map(|count| count - 1).sum()
    }

    fn mutate(&self, entity: &str, count: usize) -> Result<usize, String> {
        let table = table_name_of(entity)
            .filter(|table| matches!(table.code, "N17" | "N32" | "I33" | "N08" | "I17"))
            .ok_or_else(|| {
                format!("cannot mutate {entity:?}: use product, price, warehouse_price, customer or stock")
            })?;
        let mut db = lock(&self.db);
        db.mutations += 1;
        let mut rng = StdRng::seed_from_u64(self.seeding.seed.wrapping_add(db.mutations * 7919));
        let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string();
        let rows = db.tables.entry(table.code).or_default();
        let mut keys: Vec<Vec<String>> = rows.keys().cloned().collect();
        let mut changed = 0;
        while changed < count && !keys.is_empty() {
            let key = keys.swap_remove(rng.gen_range(0..keys.len()));
            let Some(row) = rows.get_mut(&key) else { continue };
            match table.code {
                "N17" => row.insert(
                    "N17_PAV",
                    format!(
                        "{} (atnaujinta {})",
                        PRODUCTS[rng.gen_range(0..PRODUCTS.len())],
                        db_suffix(&mut rng)
                    ),
                ),
                "N08" => row.insert("N08_TEL", format!("+3706{:07}", rng.gen_range(0..10_000_000))),
                "N32" => row.insert(
                    "N32_KAINA1",
                    format!("{}.{:02}", rng.gen_range(1..300), rng.gen_range(0..100)),
                ),
                "I33" => row.insert(
                    "I33_KAINA",
                    format!("{}.{:02}", rng.gen_range(1..300), rng.gen_range(0..100)),
                ),
                _ => row.insert("I17_KIEKIS", rng.gen_range(0..500).to_string()),
            };
            row.insert(date_column(table), now.clone());
            changed += 1;
        }
        Ok(changed)
    }

    fn records(&self, entity: &str) -> Option<Value> {
        let table = table_name_of(entity)?;
        let db = lock(&self.db);
        let rows = db.tables.get(table.code)?;
        Some(Value::Array(
            rows.values()
                .map(|row| {
                    Value::Object(
                        row.iter()
                            .map(|(k, v)| ((*k).to_owned(), Value::String(v.clone())))
                            .collect(),
                    )
                })
                .collect(),
        ))
    }

    fn reset(&self) {
        *lock(&self.db) = self.seeded.clone();
    }

    fn error_response(&self, status: StatusCode, _code: &str, message: &str) -> Response {
        reply(status, &error_body(message), false)
    }
}

fn db_suffix(rng: &mut StdRng) -> u32 {
    rng.gen_range(1000..9999)
}

fn date_column(table: &Table) -> &'static str {
    table
        .columns
        .iter()
        .find(|column| column.name.ends_with("_R_DATE"))
        .map_or("", |column| column.name)
}

/// The simulator's router: `POST /client/v2` plus `/__sim/`.
pub fn router(sim: Arc<RivileSim>, harness: Arc<Harness>) -> Router {
    Router::new()
        .route("/client/v2", post(gateway))
        .with_state((sim, harness.clone()))
        .merge(tiltas_sim::control_router(harness))
}

/// A parsed request body: `method` and `params`.
struct Call {
    method: String,
    params: Map<String, Value>,
    data: Value,
}

/// Reads a JSON body or an XML `<body>`.
fn parse_call(body: &[u8], xml: bool) -> Result<Call, String> {
    let value: Value = if xml {
        xml_to_json(body)?
    } else {
        serde_json::from_slice(body).map_err(|error| format!("Request body is not valid JSON: {error}"))?
    };
    let method = value
        .get("method")
        .and_then(Value::as_str)
        .ok_or("Parameter 'method' is required")?
        .trim()
        .to_owned();
    let params = match value.get("params") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(params)) => params.clone(),
        Some(Value::String(text)) if text.trim().is_empty() => Map::new(),
        Some(_) => return Err("Parameter 'params' must be an object".into()),
    };
    let data = value.get("data").cloned().unwrap_or(Value::Null);
    Ok(Call { method, params, data })
}

/// Converts `<body><method>…</method><params><fil>…</fil></params></body>` into JSON.
fn xml_to_json(body: &[u8]) -> Result<Value, String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(body);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<(String, Map<String, Value>, String)> = Vec::new();
    let mut root: Option<Value> = None;
    let mut buffer = Vec::new();
    loop {
        match reader.read_event_into(&mut buffer) {
            Ok(Event::Start(start)) => {
                stack.push((
                    String::from_utf8_lossy(start.name().as_ref()).into_owned(),
                    Map::new(),
                    String::new(),
                ));
            }
            Ok(Event::Empty(start)) => {
                let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                match stack.last_mut() {
                    Some(parent) => {
                        parent.1.insert(name, Value::String(String::new()));
                    }
                    None => root = Some(Value::Object(Map::new())),
                }
            }
            Ok(Event::Text(text)) => {
                let text = text
                    .unescape()
                    .map_err(|error| format!("Request body is not valid XML: {error}"))?;
                if let Some(current) = stack.last_mut() {
                    current.2.push_str(&text);
                }
            }
            Ok(Event::CData(data)) => {
                if let Some(current) = stack.last_mut() {
                    current.2.push_str(&String::from_utf8_lossy(&data));
                }
            }
            Ok(Event::End(_)) => {
                let Some((name, children, text)) = stack.pop() else {
                    return Err("Request body is not valid XML".into());
                };
                let value = if children.is_empty() {
                    Value::String(text)
                } else {
                    Value::Object(children)
                };
                match stack.last_mut() {
                    Some(parent) => {
                        parent.1.insert(name, value);
                    }
                    None => {
                        if name != "body" {
                            return Err(format!("The XML root must be <body>, found <{name}>"));
                        }
                        root = Some(value);
                    }
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(error) => return Err(format!("Request body is not valid XML: {error}")),
        }
        buffer.clear();
    }
    match root {
        Some(Value::Object(body)) => Ok(Value::Object(body)),
        _ => Err("The XML root <body> with <method> is required".into()),
    }
}

/// Rivile's error envelope.
fn error_body(message: &str) -> Value {
    json!({ "id": "", "durationMs": "0", "errorMessage": message })
}

fn escape(text: &str) -> String {
    quick_xml::escape::partial_escape(text).into_owned()
}

/// The element of one item of a list that Rivile's XML wraps (`<errors><error>…</error>
/// </errors>`, `<dataErrors><dataError>…`), as clients read `errors.error[].dataErrors.dataError[]`.
fn xml_item_name(list: &str) -> Option<&'static str> {
    match list {
        "errors" => Some("error"),
        "dataErrors" => Some("dataError"),
        _ => None,
    }
}

/// Writes a JSON answer value as Rivile XML elements.
fn xml_element(name: &str, value: &Value, out: &mut String) {
    match value {
        Value::Array(items) => match xml_item_name(name) {
            Some(item_name) => {
                out.push_str(&format!("<{name}>\n"));
                items.iter().for_each(|item| xml_element(item_name, item, out));
                out.push_str(&format!("</{name}>\n"));
            }
            None => items.iter().for_each(|item| xml_element(name, item, out)),
        },
        Value::Object(fields) => {
            out.push_str(&format!("<{name}>\n"));
            for (key, child) in fields {
                xml_element(key, child, out);
            }
            out.push_str(&format!("</{name}>\n"));
        }
        Value::String(text) if text.is_empty() => out.push_str(&format!("<{name}/>\n")),
        Value::String(text) => out.push_str(&format!("<{name}>{}</{name}>\n", escape(text))),
        other => out.push_str(&format!("<{name}>{}</{name}>\n", escape(&other.to_string()))),
    }
}

/// The answer to a missing or wrong key. Its XML is the help page's example byte for byte,
/// whose prolog has no space before `?>`, unlike the gateway's other answers.
fn unauthorized(json: bool) -> Response {
    if json {
        let body = json!({ "id": "", "durationMs": "0", "errorMessage": "Api key is not valid" });
        return reply(StatusCode::UNAUTHORIZED, &body, true);
    }
    let xml = "<?xml version='1.0' encoding='UTF-8'?>\n<RET_DOK>\n<id/>\n<durationMs>0</durationMs>\n<errorMessage>Api key is not valid</errorMessage>\n</RET_DOK>\n";
    (
        StatusCode::UNAUTHORIZED,
        [("content-type", "application/xml;charset=UTF-8")],
        xml,
    )
        .into_response()
}

/// An answer in the format the client asked for.
fn reply(status: StatusCode, body: &Value, json: bool) -> Response {
    if json {
        return (
            status,
            [("content-type", "application/json;charset=UTF-8")],
            body.to_string(),
        )
            .into_response();
    }
    let mut xml = String::from("<?xml version='1.0' encoding='UTF-8' ?>\n<RET_DOK>\n");
    if let Value::Object(fields) = body {
        for (key, value) in fields {
            xml_element(key, value, &mut xml);
        }
    }
    xml.push_str("</RET_DOK>\n");
    (status, [("content-type", "application/xml;charset=UTF-8")], xml).into_response()
}

/// A stored value as the API shows it: padded, fixed decimals, empty dates as 1900-01-01.
fn rendered(column: &Column, value: &str) -> String {
    match column.kind {
        ColumnType::Char(width) => {
            let length = value.chars().count();
            if length >= width {
                value.to_owned()
            } else {
                format!("{value}{}", " ".repeat(width - length))
            }
        }
        ColumnType::Number(_, scale) => {
            let number = Decimal::from_str(value.trim()).unwrap_or_default();
            format!("{:.*}", usize::from(scale), number.round_dp(u32::from(scale)))
        }
        ColumnType::DateTime if value.is_empty() => EMPTY_DATE.to_owned(),
        ColumnType::DateTime => value.to_owned(),
    }
}

fn fil_value(column: &Column, value: &str) -> FilValue {
    match column.kind {
        ColumnType::Number(..) => Decimal::from_str(value.trim()).map_or(FilValue::Null, FilValue::Number),
        ColumnType::DateTime if value.is_empty() => FilValue::Text(EMPTY_DATE.to_owned()),
        _ => FilValue::Text(value.to_owned()),
    }
}

async fn gateway(
    State((sim, harness)): State<(Arc<RivileSim>, Arc<Harness>)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase()
    };
    let json = header("accept").contains("application/json");
    let kind = if String::from_utf8_lossy(&body).to_ascii_uppercase().contains("EDIT_") {
        RequestKind::Write
    } else {
        RequestKind::Read
    };
    let admission = match harness.admit(kind).await {
        Ok(admission) => admission,
        Err(response) => return response,
    };
    let key_ok = headers
        .get("apikey")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|key| key == sim.api_key);
    if !key_ok {
        harness.count_rejected();
        return unauthorized(json);
    }
    if !sim.take_token() {
        harness.count_rejected();
        let mut response = reply(StatusCode::TOO_MANY_REQUESTS, &error_body("Too many requests"), json);
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from_static("1"));
        return response;
    }
    let content_type = header("content-type");
    let xml = content_type.contains("xml");
    if !xml && !content_type.contains("json") {
        harness.count_rejected();
        return reply(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &error_body("Content-Type must be application/json or application/xml"),
            json,
        );
    }
    let call = match parse_call(&body, xml) {
        Ok(call) => call,
        Err(message) => {
            harness.count_rejected();
            return reply(StatusCode::BAD_REQUEST, &error_body(&message), json);
        }
    };
    let started = Instant::now();
    if call.method.to_ascii_uppercase().starts_with("EDIT_") {
        let document = ["EDIT_I06_FULL", "EDIT_I06"]
            .iter()
            .any(|method| call.method.eq_ignore_ascii_case(method));
        let outcome = if document {
            edit_document(&sim, &call)
        } else {
            edit(&sim, &harness, &call).map(|answer| (StatusCode::OK, answer))
        };
        return match outcome {
            Ok((status, answer)) => {
                if admission.fail_after_commit {
                    return harness.commit_then_fail();
                }
                reply(status, &answer, json)
            }
            Err(mut body) => {
                harness.count_rejected();
                body["id"] = Value::String(format!("{}.{}", std::process::id(), started.elapsed().as_nanos()));
                body["durationMs"] = Value::String(started.elapsed().as_millis().to_string());
                reply(StatusCode::BAD_REQUEST, &body, json)
            }
        };
    }
    match list(&sim, &call) {
        Ok(answer) => reply(StatusCode::OK, &answer, json),
        Err(message) => {
            harness.count_rejected();
            let mut body = error_body(&message);
            body["id"] = Value::String(format!("{}.{}", std::process::id(), started.elapsed().as_nanos()));
            body["durationMs"] = Value::String(started.elapsed().as_millis().to_string());
            reply(StatusCode::BAD_REQUEST, &body, json)
        }
    }
}

/// The tables `EDIT_*` methods write, with the duplicate code Rivile answers for each.
fn edit_target(method: &str) -> Option<(&'static Table, &'static str, &'static str)> {
    match method.to_ascii_uppercase().as_str() {
        "EDIT_N17" => Some((&N17, "5008", "Egzistuoja tokia prekė")),
        "EDIT_N08" | "EDIT_N08_FULL" => Some((&N08, "2011", "Egzistuoja toks kliento kodas")),
        "EDIT_N25" => Some((&N25, "19017", "Egzistuoja toks kodas")),
        _ => None,
    }
}

/// The GAMA user an API key writes as: the key's prefix before the dot, at most 7 characters
/// (`USERABC.xxxx` → `USERABC`), which Rivile records in `*_ADDUSR` and `*_USERIS`.
fn key_user(api_key: &str) -> String {
    api_key.split('.').next().unwrap_or_default().chars().take(7).collect()
}

/// A data error in Rivile's envelope.
fn data_error(table: &Table, tag: &str, code: &str, message: &str) -> Value {
    json!({
        "id": "",
        "durationMs": "0",
        "errorMessage": "Data errors",
        "errors": [{ "data": table.code, "dataErrors": [{ "tag": tag, "code": code, "message": message }] }]
    })
}

/// `EDIT_*` of one record: `oper` I (insert, the default), U (update) or D (delete). The answer
/// is the stored record, defaults filled, as the real gateway returns it.
fn edit(sim: &RivileSim, harness: &Harness, call: &Call) -> Result<Value, Value> {
    let (table, duplicate_code, duplicate_message) =
        edit_target(&call.method).ok_or_else(|| error_body(&format!("Unknown method {}", call.method)))?;
    let oper = call
        .params
        .get("oper")
        .and_then(Value::as_str)
        .unwrap_or("I")
        .trim()
        .to_ascii_uppercase();
    let Some(Value::Object(record)) = call.data.get(table.code) else {
        return Err(error_body(&format!(
            "Parameter 'data' must hold one {} record",
            table.code
        )));
    };
    // Nested child tables of _FULL methods (N33) are skipped here and stored below.
    let mut values = document_values(table, record)?;
    let key: Vec<String> = table
        .key
        .iter()
        .map(|name| {
            values
                .iter()
                .find(|(column, _)| column == name)
                .map(|(_, value)| value.to_lowercase())
                .unwrap_or_default()
        })
        .collect();
    if key.iter().any(String::is_empty) {
        return Err(data_error(
            table,
            table.key[0],
            "1",
            &format!("{} is required", table.key[0]),
        ));
    }
    if matches!(oper.as_str(), "I" | "U") && harness.refuses_item(&key.join("/")) {
        return Err(data_error(table, table.key[0], REFUSED_ITEM_CODE, REFUSED_ITEM));
    }
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string();
    let user = key_user(&sim.api_key);
    let mut db = lock(&sim.db);
    let exists = db.tables.get(table.code).is_some_and(|rows| rows.contains_key(&key));
    match oper.as_str() {
        "I" if exists => return Err(data_error(table, table.key[0], duplicate_code, duplicate_message)),
        "I" => {
            let date = date_column(table);
            values.push((date, now.clone()));
            for (suffix, value) in [
                ("_USERIS", &user),
                ("_ADDUSR", &user),
                ("_ADD_DATE", &now),
                ("_ADD_TIME", &now),
            ] {
                if let Some(column) = table.columns.iter().find(|column| column.name.ends_with(suffix)) {
                    values.push((column.name, value.clone()));
                }
            }
            db.insert(table, &values);
        }
        "U" | "D" if !exists => {
            return Err(data_error(
                table,
                table.key[0],
                "2",
                &format!("{} {} does not exist", table.code, key.join("/")),
            ))
        }
        "U" => {
            let date = date_column(table);
            let changed_by = table.columns.iter().find(|column| column.name.ends_with("_USERIS"));
            if let Some(row) = db.tables.get_mut(table.code).and_then(|rows| rows.get_mut(&key)) {
                for (name, value) in values.iter().cloned() {
                    row.insert(name, value);
                }
                row.insert(date, now.clone());
                // The last writer, whatever the request said; the creator (`_ADDUSR`) stays.
                if let Some(column) = changed_by {
                    row.insert(column.name, user.clone());
                }
            }
        }
        "D" => {
            if let Some(rows) = db.tables.get_mut(table.code) {
                rows.remove(&key);
            }
            return Ok(json!({}));
        }
        other => {
            return Err(error_body(&format!(
                "Parameter 'oper' must be I, U or D, found {other}"
            )))
        }
    }
    if table.code == "N08" && call.method.eq_ignore_ascii_case("EDIT_N08_FULL") {
        let client = values
            .iter()
            .find(|(name, _)| *name == "N08_KODAS_KS")
            .map(|(_, value)| value.clone())
            .unwrap_or_default();
        replace_addresses(&mut db, &client, record, &now)?;
    }
    let row = db
        .tables
        .get(table.code)
        .and_then(|rows| rows.get(&key))
        .cloned()
        .unwrap_or_default();
    let mut fields = Map::new();
    for column in table.columns {
        fields.insert(
            column.name.into(),
            Value::String(rendered(column, row.get(column.name).map_or("", String::as_str))),
        );
    }
    // `_FULL` answers the client with its addresses, as a `list` A read shows them.
    if table.code == "N08" && call.method.eq_ignore_ascii_case("EDIT_N08_FULL") {
        let client = row
            .get("N08_KODAS_KS")
            .map(|code| code.to_lowercase())
            .unwrap_or_default();
        fields.insert("N33".into(), Value::Array(children(&db, "N33", &client)));
    }
    Ok(json!({ table.code: Value::Object(fields) }))
}

/// One `dataErrors` entry.
fn data_problem(tag: &str, code: &str, message: &str) -> Value {
    json!({ "tag": tag, "code": code, "message": message })
}

/// Checks and converts one record against its table: known columns, widths, numbers. Nested
/// child tables are left to the caller.
fn document_values(table: &Table, record: &Map<String, Value>) -> Result<Vec<(&'static str, String)>, Value> {
    let mut values = Vec::new();
    for (name, value) in record {
        if value.is_object() || value.is_array() {
            continue;
        }
        let column = table
            .column(name)
            .ok_or_else(|| error_body(&format!("Invalid column name '{name}'.")))?;
        let text = value
            .as_str()
            .map_or_else(|| value.to_string(), str::to_owned)
            .trim()
            .to_owned();
        match column.kind {
            ColumnType::Char(width) if text.chars().count() > width => {
                let message = format!(
                    "String or binary data would be truncated: {} holds {width} characters",
                    column.name
                );
                return Err(data_error(table, column.name, "8152", &message));
            }
            ColumnType::Number(..) if !text.is_empty() && Decimal::from_str(&text).is_err() => {
                let message = format!("Error converting data type to numeric: {text}");
                return Err(data_error(table, column.name, "8114", &message));
            }
            _ => {}
        }
        values.push((column.name, text));
    }
    Ok(values)
}

fn value_of<'a>(values: &'a [(&'static str, String)], column: &str) -> Option<&'a str> {
    values
        .iter()
        .find(|(name, _)| *name == column)
        .map(|(_, value)| value.as_str())
        .filter(|value| !value.is_empty())
}

/// `EDIT_I06_FULL`: a sales or purchase document with its lines (`I07`) in one call. The client,
/// the warehouse and every line's product must exist; with `errorAction: "CONTINUE"` the
/// document is stored with its good lines and answered 207 with the bad lines' errors, else
/// nothing is stored. `oper` U replaces a document, P posts it (`I06_PERKELTA` = 2), D deletes it.
fn edit_document(sim: &RivileSim, call: &Call) -> Result<(StatusCode, Value), Value> {
    let oper = call
        .params
        .get("oper")
        .and_then(Value::as_str)
        .unwrap_or("I")
        .trim()
        .to_ascii_uppercase();
    let carry_on = call
        .params
        .get("errorAction")
        .and_then(Value::as_str)
        .is_some_and(|action| action.eq_ignore_ascii_case("CONTINUE"));
    let Some(Value::Object(header)) = call.data.get("I06") else {
        return Err(error_body("Parameter 'data' must hold one I06 document"));
    };
    let mut head = document_values(&I06, header)?;
    let lines: Vec<Map<String, Value>> = match header.get("I07") {
        Some(Value::Array(items)) => items.iter().filter_map(|item| item.as_object().cloned()).collect(),
        Some(Value::Object(item)) => vec![item.clone()],
        _ => Vec::new(),
    };
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string();
    let user = key_user(&sim.api_key);
    let mut db = lock(&sim.db);
    let exists_in = |db: &Db, table: &str, key: &str| {
        db.tables
            .get(table)
            .is_some_and(|rows| rows.contains_key(&vec![key.to_lowercase()]))
    };
    if oper != "I" {
        let Some(code) = value_of(&head, "I06_KODAS_PO").map(str::to_lowercase) else {
            return Err(data_error(&I06, "I06_KODAS_PO", "1", "I06_KODAS_PO is required"));
        };
        let Some(document) = db
            .tables
            .get_mut("I06")
            .and_then(|rows| rows.get_mut(&vec![code.clone()]))
        else {
            return Err(data_error(
                &I06,
                "I06_KODAS_PO",
                "2",
                &format!("document {code} does not exist"),
            ));
        };
        match oper.as_str() {
            "P" => {
                document.insert("I06_PERKELTA", "2".into());
                document.insert("I06_R_DATE", now);
                let answer = render_document(&db, &code);
                return Ok((StatusCode::OK, answer));
            }
            "D" => {
                if let Some(rows) = db.tables.get_mut("I06") {
                    rows.remove(&vec![code.clone()]);
                }
                if let Some(rows) = db.tables.get_mut("I07") {
                    rows.retain(|key, _| key.first() != Some(&code));
                }
                return Ok((StatusCode::OK, json!({})));
            }
            "U" => {}
            other => {
                return Err(error_body(&format!(
                    "Parameter 'oper' must be I, U, P or D, found {other}"
                )))
            }
        }
    }
    let mut problems = Vec::new();
    match value_of(&head, "I06_KODAS_KS") {
        None => problems.push(data_problem("I06_KODAS_KS", "1", "Nenurodytas klientas")),
        Some(client) if !exists_in(&db, "N08", client) => problems.push(data_problem(
            "I06_KODAS_KS",
            "3001",
            &format!("Nerastas klientas '{client}'"),
        )),
        _ => {}
    }
    // A foreign-currency document (I06_VAL_POZ 1) names its currency [I].
    match (value_of(&head, "I06_VAL_POZ"), value_of(&head, "I06_KODAS_VL")) {
        (Some("1"), None) => problems.push(data_problem("I06_KODAS_VL", "1", "Nenurodyta valiuta")),
        (Some("1"), Some(code)) if iso_currency::Currency::from_code(code).is_none() => problems.push(data_problem(
            "I06_KODAS_VL",
            "3004",
            &format!("Nerasta valiuta '{code}'"),
        )),
        _ => {}
    }
    let warehouse = value_of(&head, "I06_KODAS_IS").map(str::to_owned);
    if let Some(code) = &warehouse {
        if !exists_in(&db, "N07", code) {
            problems.push(data_problem(
                "I06_KODAS_IS",
                "3003",
                &format!("Nerastas padalinys '{code}'"),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(
            json!({ "id": "", "durationMs": "0", "errorMessage": "Data errors", "errors": [{ "data": "I06", "dataErrors": problems }] }),
        );
    }
    let mut good_lines = Vec::new();
    let mut line_errors = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let mut values = document_values(&I07, line)?;
        let mut problems = Vec::new();
        match value_of(&values, "I07_KODAS") {
            None => problems.push(data_problem("I07_KODAS", "1", "Nenurodyta prekė")),
            // I07_TIPAS 2 is a service line: its code is an N25 sales code, not a product.
            Some(service) if value_of(&values, "I07_TIPAS") == Some("2") && !exists_in(&db, "N25", service) => problems
                .push(data_problem(
                    "I07_KODAS",
                    "3002",
                    &format!("Nerasta paslauga '{service}'"),
                )),
            Some(_) if value_of(&values, "I07_TIPAS") == Some("2") => {}
            Some(product) if !exists_in(&db, "N17", product) => {
                problems.push(data_problem("I07_KODAS", "3002", &format!("Nerasta prekė '{product}'")))
            }
            _ => {}
        }
        let line_warehouse = value_of(&values, "I07_KODAS_IS")
            .map(str::to_owned)
            .or_else(|| warehouse.clone());
        match &line_warehouse {
            Some(code) if !exists_in(&db, "N07", code) => problems.push(data_problem(
                "I07_KODAS_IS",
                "3003",
                &format!("Nerastas padalinys '{code}'"),
            )),
            None => problems.push(data_problem("I07_KODAS_IS", "1", "Nenurodytas padalinys")),
            _ => {}
        }
        if problems.is_empty() {
            if let Some(code) = line_warehouse {
                values.retain(|(name, _)| *name != "I07_KODAS_IS");
                values.push(("I07_KODAS_IS", code));
            }
            good_lines.push(values);
        } else {
            line_errors.push(json!({ "data": format!("I07[{}]", index + 1), "dataErrors": problems }));
        }
    }
    if !line_errors.is_empty() && !carry_on {
        return Err(json!({ "id": "", "durationMs": "0", "errorMessage": "Data errors", "errors": line_errors }));
    }
    let code = match (oper.as_str(), value_of(&head, "I06_KODAS_PO")) {
        ("U", Some(code)) => code.to_owned(),
        _ => {
            db.documents += 1;
            format!("010R{:08}", db.documents)
        }
    };
    let key = code.to_lowercase();
    if let Some(rows) = db.tables.get_mut("I07") {
        rows.retain(|line_key, _| line_key.first() != Some(&key));
    }
    let (mut total, mut vat) = (Decimal::ZERO, Decimal::ZERO);
    for (index, mut values) in good_lines.into_iter().enumerate() {
        let number = |column: &str| {
            value_of(&values, column)
                .and_then(|value| Decimal::from_str(value).ok())
                .unwrap_or_default()
        };
        // Sums sent with the line are kept (a line's amount as sold); else GAMA computes them
        // from quantity × price [I: systems/rivile/README.md].
        let given = |column: &str| value_of(&values, column).and_then(|value| Decimal::from_str(value).ok());
        let mut sum = given("I07_SUMA").unwrap_or_else(|| (number("I07_KIEKIS") * number("I07_KAINA_BE")).round_dp(2));
        let mut line_vat =
            given("I07_PVM").unwrap_or_else(|| (sum * number("I07_MOKESTIS_P") / Decimal::ONE_HUNDRED).round_dp(2));
        // N(14,2) columns answer with their two decimals.
        sum.rescale(2);
        line_vat.rescale(2);
        total += sum;
        vat += line_vat;
        values.retain(|(name, _)| !matches!(*name, "I07_KODAS_PO" | "I07_EIL_NR" | "I07_SUMA" | "I07_PVM"));
        values.extend([
            ("I07_KODAS_PO", code.clone()),
            ("I07_EIL_NR", (index + 1).to_string()),
            ("I07_SUMA", sum.to_string()),
            ("I07_PVM", line_vat.to_string()),
            ("I07_R_DATE", now.clone()),
        ]);
        db.insert(&I07, &values);
    }
    head.retain(|(name, _)| !matches!(*name, "I06_KODAS_PO" | "I06_SUMA" | "I06_PVM" | "I06_R_DATE"));
    head.extend([
        ("I06_KODAS_PO", code.clone()),
        ("I06_SUMA", total.to_string()),
        ("I06_PVM", vat.to_string()),
        ("I06_R_DATE", now.clone()),
        ("I06_USERIS", user.clone()),
    ]);
    if oper == "I" {
        head.extend([("I06_ADDUSR", user), ("I06_ADD_DATE", now)]);
    } else if let Some(before) = db.tables.get("I06").and_then(|rows| rows.get([key.clone()].as_slice())) {
        // An update rewrites the document but keeps who created it and when.
        head.retain(|(name, _)| !matches!(*name, "I06_ADDUSR" | "I06_ADD_DATE"));
        for column in ["I06_ADDUSR", "I06_ADD_DATE"] {
            head.push((column, before.get(column).cloned().unwrap_or_default()));
        }
    }
    db.insert(&I06, &head);
    let mut answer = render_document(&db, &key);
    if line_errors.is_empty() {
        Ok((StatusCode::OK, answer))
    } else {
        answer["errorMessage"] = Value::String("Data errors".into());
        answer["errors"] = Value::Array(line_errors);
        Ok((StatusCode::MULTI_STATUS, answer))
    }
}

/// A row rendered as the API shows it.
fn render_row(table: &Table, row: &Row) -> Map<String, Value> {
    table
        .columns
        .iter()
        .map(|column| {
            (
                column.name.to_owned(),
                Value::String(rendered(column, row.get(column.name).map_or("", String::as_str))),
            )
        })
        .collect()
}

/// `EDIT_N08_FULL`'s nested `N33`: the client's further addresses are replaced by these.
fn replace_addresses(db: &mut Db, client: &str, record: &Map<String, Value>, now: &str) -> Result<(), Value> {
    let items: Vec<Map<String, Value>> = match record.get("N33") {
        Some(Value::Array(items)) => items.iter().filter_map(|item| item.as_object().cloned()).collect(),
        Some(Value::Object(item)) => vec![item.clone()],
        _ => return Ok(()),
    };
    let key = client.to_lowercase();
    if let Some(rows) = db.tables.get_mut("N33") {
        rows.retain(|row_key, _| row_key.first() != Some(&key));
    }
    for (index, item) in items.iter().enumerate() {
        let mut values = document_values(&N33, item)?;
        values.retain(|(name, _)| !matches!(*name, "N33_KODAS_KS" | "N33_EIL_NR" | "N33_R_DATE"));
        values.extend([
            ("N33_KODAS_KS", client.to_owned()),
            ("N33_EIL_NR", (index + 1).to_string()),
            ("N33_R_DATE", now.to_owned()),
        ]);
        db.insert(&N33, &values);
    }
    Ok(())
}

/// Rows of a child table whose first key column is `key` (lower-cased), rendered.
fn children(db: &Db, table: &'static str, key: &str) -> Vec<Value> {
    let Some(schema) = tiltas_rivile::schema::TABLES.iter().find(|t| t.code == table) else {
        return Vec::new();
    };
    db.tables
        .get(table)
        .map(|rows| {
            rows.iter()
                .filter(|(child_key, _)| child_key.first().map(String::as_str) == Some(key))
                .map(|(_, row)| Value::Object(render_row(schema, row)))
                .collect()
        })
        .unwrap_or_default()
}

/// A document with its lines, as `EDIT_I06_FULL` answers it.
fn render_document(db: &Db, key: &str) -> Value {
    let Some(row) = db.tables.get("I06").and_then(|rows| rows.get(&vec![key.to_owned()])) else {
        return json!({});
    };
    let mut header = render_row(&I06, row);
    header.insert("I07".into(), Value::Array(children(db, "I07", key)));
    json!({ "I06": header })
}

/// `GET_*_LIST`: filter, sort by key, page, render.
fn list(sim: &RivileSim, call: &Call) -> Result<Value, String> {
    let table = table_of_method(&call.method).ok_or_else(|| format!("Unknown method {}", call.method))?;
    let text = |name: &str| {
        call.params
            .get(name)
            .map(|value| value.as_str().map_or_else(|| value.to_string(), str::to_owned))
    };
    let filter = match text("fil").filter(|fil| !fil.trim().is_empty()) {
        None => None,
        Some(fil) => {
            let filter = fil::parse(&fil).map_err(|error| error.0)?;
            if let Some(unknown) = filter.columns().into_iter().find(|name| table.column(name).is_none()) {
                return Err(format!("Invalid column name '{unknown}'."));
            }
            Some(filter)
        }
    };
    let page: usize = match text("pagenumber") {
        None => 1,
        Some(number) => number
            .trim()
            .parse()
            .ok()
            .filter(|page| *page >= 1)
            .ok_or("Parameter 'pagenumber' must be a number from 1")?,
    };
    // `list` A nests related tables (I06 → I07 lines); H, the default, is the header only.
    let nested = text("list").is_some_and(|list| list.trim().eq_ignore_ascii_case("A"));
    let db = lock(&sim.db);
    let rows = db.tables.get(table.code).ok_or("Unknown table")?;
    let matching = rows.values().filter(|row| {
        filter.as_ref().is_none_or(|filter| {
            filter.matches(&|name| match table.column(name) {
                Some(column) => fil_value(column, row.get(column.name).map_or("", String::as_str)),
                None => FilValue::Null,
            })
        })
    });
    let rendered_rows: Vec<Value> = matching
        .skip((page - 1) * PAGE_ROWS)
        .take(PAGE_ROWS)
        .enumerate()
        .map(|(index, row)| {
            let mut fields = Map::new();
            fields.insert(
                "Row_number".into(),
                Value::String(((page - 1) * PAGE_ROWS + index + 1).to_string()),
            );
            for column in table.columns {
                fields.insert(
                    column.name.into(),
                    Value::String(rendered(column, row.get(column.name).map_or("", String::as_str))),
                );
            }
            if nested {
                let children = match table.code {
                    "I06" => Some((
                        "I07",
                        children(
                            &db,
                            "I07",
                            &row.get("I06_KODAS_PO").map(|c| c.to_lowercase()).unwrap_or_default(),
                        ),
                    )),
                    "I09" => Some((
                        "I10",
                        children(
                            &db,
                            "I10",
                            &row.get("I09_KODAS_VD").map(|c| c.to_lowercase()).unwrap_or_default(),
                        ),
                    )),
                    "N08" => Some((
                        "N33",
                        children(
                            &db,
                            "N33",
                            &row.get("N08_KODAS_KS").map(|c| c.to_lowercase()).unwrap_or_default(),
                        ),
                    )),
                    _ => None,
                };
                if let Some((name, rows)) = children {
                    fields.insert(name.into(), Value::Array(rows));
                }
            }
            Value::Object(fields)
        })
        .collect();
    Ok(match rendered_rows.len() {
        0 => json!({}),
        1 => json!({ table.code: rendered_rows[0] }),
        _ => json!({ table.code: rendered_rows }),
    })
}

#[cfg(test)]
mod tests;
