//! The Webservice's HTTP surface: authentication, routing, list parameters (`display`,
//! `filter`, `sort`, `limit`, `date`, `schema`), XML or JSON output, and writes.
use crate::store::{self, Shop};
use crate::{PrestaSim, PsError};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use percent_encoding::percent_decode_str;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use std::cmp::Ordering;
use std::str::FromStr;
use std::sync::Arc;
use tiltas_prestashop::schema::{self, Resource};
use tiltas_prestashop::xml::Element;
use tiltas_sim::{Harness, RequestKind};

/// The version reported in `PSWS-Version`: the last 1.7, whose Webservice 8.x keeps, and the
/// newest `prestapyt` (0.11) declares it supports (it warns above 1.7.8).
const VERSION: &str = "1.7.8.11";

#[derive(Clone)]
pub(crate) struct AppState {
    pub sim: Arc<PrestaSim>,
    pub harness: Arc<Harness>,
}

/// The headers PrestaShop sends with every answer.
pub(crate) fn xml_headers() -> [(&'static str, &'static str); 3] {
    [
        ("content-type", "text/xml;charset=utf-8"),
        ("psws-version", VERSION),
        ("x-powered-by", "PrestaShop Webservice"),
    ]
}

fn json_headers() -> [(&'static str, &'static str); 3] {
    [
        ("content-type", "application/json;charset=utf-8"),
        ("psws-version", VERSION),
        ("x-powered-by", "PrestaShop Webservice"),
    ]
}

/// Decodes a query component (`+` is a space, as PHP reads it).
fn decode(text: &str) -> String {
    percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// The query's parameters, decoded, the last of a repeated name winning (as in PHP).
fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for part in uri.query().unwrap_or("").split('&').filter(|part| !part.is_empty()) {
        let (name, value) = part.split_once('=').unwrap_or((part, ""));
        let (name, value) = (decode(name), decode(value));
        match pairs.iter_mut().find(|(existing, _)| *existing == name) {
            Some(existing) => existing.1 = value,
            None => pairs.push((name, value)),
        }
    }
    pairs
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// The key a request presents: the Basic-auth user name, else `ws_key`.
fn presented_key(headers: &HeaderMap, pairs: &[(String, String)]) -> Option<String> {
    let basic = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic "))
        .and_then(|encoded| base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .map(|pair| pair.split(':').next().unwrap_or_default().to_owned());
    basic
        .filter(|key| !key.is_empty())
        .or_else(|| param(pairs, "ws_key").map(str::to_owned))
}

fn authenticate(sim: &PrestaSim, headers: &HeaderMap, pairs: &[(String, String)]) -> Result<(), PsError> {
    let unauthorized = |code, message: &str| PsError::new(StatusCode::UNAUTHORIZED, code, message);
    match presented_key(headers, pairs) {
        None => Err(unauthorized(17, "Authentication key is empty")),
        Some(key) if key == sim.key => Ok(()),
        Some(key) if key.len() != 32 => Err(unauthorized(18, "Invalid authentication key format")),
        Some(_) => Err(unauthorized(20, "Authentication key does not exist or is not active")),
    }
}

/// The answer's format: XML unless JSON is asked for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Xml,
    Json,
}

fn format_of(headers: &HeaderMap, pairs: &[(String, String)]) -> Format {
    let asked = param(pairs, "output_format")
        .map(str::to_owned)
        .or_else(|| {
            ["output-format", "io-format"]
                .iter()
                .find_map(|name| headers.get(*name)?.to_str().ok().map(str::to_owned))
        })
        .unwrap_or_default();
    if asked.eq_ignore_ascii_case("json") {
        Format::Json
    } else {
        Format::Xml
    }
}

/// Every request under `/api/`.
pub(crate) async fn handle(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().trim_end_matches('/');
    let Some(rest) = path.strip_prefix("/api") else {
        return (StatusCode::NOT_FOUND, "").into_response();
    };
    let kind = if matches!(method, Method::GET | Method::HEAD) {
        RequestKind::Read
    } else {
        RequestKind::Write
    };
    let admission = match state.harness.admit(kind).await {
        Ok(admission) => admission,
        Err(response) => return response,
    };
    let pairs = query_pairs(&uri);
    if let Err(error) = authenticate(&state.sim, &headers, &pairs) {
        state.harness.count_rejected();
        return error.into_response();
    }
    let format = format_of(&headers, &pairs);
    let segments: Vec<&str> = rest.split('/').filter(|segment| !segment.is_empty()).collect();
    let result = match (&method, segments.as_slice()) {
        (&Method::GET | &Method::HEAD, []) => Ok(Answer::Record(StatusCode::OK, index())),
        (_, [collection, ..]) if schema::resource(collection).is_none() => Err(PsError::bad_request(
            27,
            format!("Resource of type \"{collection}\" does not exists. Did you mean: \"products\"?"),
        )),
        (&Method::GET | &Method::HEAD, [collection]) => list(&state.sim, collection, &pairs),
        (&Method::GET | &Method::HEAD, [collection, id]) => get(&state.sim, collection, id),
        (&Method::POST, [collection]) => write(&state, collection, None, &body, true),
        (&Method::PUT, [collection]) => write(&state, collection, None, &body, false),
        (&Method::PUT, [collection, id]) => write(&state, collection, Some(id), &body, false),
        (&Method::DELETE, [collection]) => delete(&state.sim, collection, param(&pairs, "id").unwrap_or("")),
        (&Method::DELETE, [collection, id]) => delete(&state.sim, collection, id),
        _ => Err(PsError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            0,
            format!("Method {method} is not valid"),
        )),
    };
    let answer = match result {
        Ok(answer) => answer,
        Err(error) => {
            state.harness.count_rejected();
            return error.into_response();
        }
    };
    if admission.fail_after_commit && kind == RequestKind::Write {
        return state.harness.commit_then_fail();
    }
    let mut response = match answer {
        Answer::Empty(status) => (status, xml_headers(), String::new()).into_response(),
        Answer::Record(status, element) => match format {
            Format::Xml => (status, xml_headers(), element.document()).into_response(),
            Format::Json => (status, json_headers(), to_json_document(&element).to_string()).into_response(),
        },
    };
    if method == Method::HEAD {
        *response.body_mut() = axum::body::Body::empty();
    }
    if let Ok(value) = HeaderValue::from_str("0.001") {
        response.headers_mut().insert("execution-time", value);
    }
    response
}

/// A successful answer: a body (the element inside `<prestashop>`) or none.
enum Answer {
    Record(StatusCode, Element),
    Empty(StatusCode),
}

/// `GET /api/`: the resources this shop serves.
fn index() -> Element {
    let mut api = Element::new("api").with_attribute("shopName", "Tiltas simulated shop");
    for resource in schema::RESOURCES {
        api.children.push(
            Element::new(resource.collection)
                .with_attribute("xlink:href", format!("/api/{}", resource.collection))
                .with_attribute("get", "true")
                .with_attribute("put", "true")
                .with_attribute("post", "true")
                .with_attribute("delete", "true")
                .with_attribute("head", "true"),
        );
    }
    api
}

fn id_of(text: &str) -> Option<u64> {
    text.parse().ok().filter(|id| *id > 0)
}

fn get(sim: &PrestaSim, collection: &str, id: &str) -> Result<Answer, PsError> {
    let shop = sim.shop();
    match id_of(id).and_then(|id| shop.render(collection, id)) {
        Some(record) => Ok(Answer::Record(StatusCode::OK, record)),
        // A missing id: 404 with an empty body, as PrestaShop answers.
        None => Ok(Answer::Empty(StatusCode::NOT_FOUND)),
    }
}

/// One parsed `filter[field]` condition.
enum Condition {
    AnyOf(Vec<String>),
    Between(String, String),
    Greater(String),
    Less(String),
    Not(String),
    Like { prefix: bool, suffix: bool, text: String },
}

fn parse_condition(value: &str) -> Condition {
    let bracketed = |text: &str| -> Option<String> { text.strip_prefix('[')?.strip_suffix(']').map(str::to_owned) };
    if let Some(inner) = value.strip_prefix('>').and_then(bracketed) {
        return Condition::Greater(inner);
    }
    if let Some(inner) = value.strip_prefix('<').and_then(bracketed) {
        return Condition::Less(inner);
    }
    if let Some(inner) = value.strip_prefix('!').and_then(bracketed) {
        return Condition::Not(inner);
    }
    let starts = value.starts_with('%');
    let ends = value.ends_with('%');
    let core = value.trim_start_matches('%').trim_end_matches('%');
    if starts || ends {
        if let Some(inner) = bracketed(core) {
            return Condition::Like {
                prefix: ends && !starts,
                suffix: starts && !ends,
                text: inner.to_lowercase(),
            };
        }
    }
    match bracketed(value) {
        Some(inner) if inner.contains('|') => Condition::AnyOf(inner.split('|').map(str::to_owned).collect()),
        Some(inner) => match inner.split_once(',') {
            Some((low, high)) => Condition::Between(low.to_owned(), high.to_owned()),
            None => Condition::AnyOf(vec![inner]),
        },
        None => Condition::AnyOf(vec![value.to_owned()]),
    }
}

/// Compares as numbers when both are, else as text ignoring case, as MySQL's default
/// collation does (dates compare as text).
fn compare(left: &str, right: &str) -> Ordering {
    match (Decimal::from_str(left.trim()), Decimal::from_str(right.trim())) {
        (Ok(left), Ok(right)) => left.cmp(&right),
        _ => left.to_lowercase().cmp(&right.to_lowercase()),
    }
}

impl Condition {
    fn matches(&self, value: &str) -> bool {
        match self {
            Condition::AnyOf(values) => values.iter().any(|wanted| compare(value, wanted) == Ordering::Equal),
            Condition::Between(low, high) => {
                compare(value, low) != Ordering::Less && compare(value, high) != Ordering::Greater
            }
            Condition::Greater(than) => compare(value, than) == Ordering::Greater,
            Condition::Less(than) => compare(value, than) == Ordering::Less,
            Condition::Not(other) => compare(value, other) != Ordering::Equal,
            Condition::Like { prefix, suffix, text } => {
                let value = value.to_lowercase();
                match (prefix, suffix) {
                    (true, false) => value.starts_with(text.as_str()),
                    (false, true) => value.ends_with(text.as_str()),
                    _ => value.contains(text.as_str()),
                }
            }
        }
    }
}

/// A field's value for filtering and sorting (a language field: its text in the language).
fn field_value(record: &Element, field: &str) -> String {
    record
        .language_text(field, store::LANGUAGE)
        .or_else(|| record.text_of(field))
        .unwrap_or_default()
        .to_owned()
}

fn check_field(resource: &Resource, field: &str, dates: bool, what: &str) -> Result<(), PsError> {
    let known = resource.field(field).is_some();
    let is_date = field == "date_add" || field == "date_upd";
    if known && (!is_date || dates) {
        return Ok(());
    }
    let names: Vec<&str> = resource.fields.iter().map(|field| field.name).collect();
    let hint = if is_date { " (dates need date=1)" } else { "" };
    Err(PsError::bad_request(
        32,
        format!(
            "This {what} does not exist{hint}. Did you mean: \"{}\"? The full list is: \"{}\"",
            names.iter().find(|name| name.contains(field)).unwrap_or(&"id"),
            names.join("\", \"")
        ),
    ))
}

fn list(sim: &PrestaSim, collection: &str, pairs: &[(String, String)]) -> Result<Answer, PsError> {
    let Some(resource) = schema::resource(collection) else {
        return Err(PsError::bad_request(
            27,
            format!("Resource of type \"{collection}\" does not exists"),
        ));
    };
    match param(pairs, "schema") {
        Some("blank") => return Ok(Answer::Record(StatusCode::OK, store::blank(resource))),
        Some("synopsis") => return Ok(Answer::Record(StatusCode::OK, synopsis(resource))),
        Some(other) => {
            return Err(PsError::bad_request(
                57,
                format!("Please select a schema of type 'synopsis' to get the whole schema informations (which fields are required, which kind of content...) or 'blank' to get an empty schema to fill before using POST request; got '{other}'"),
            ))
        }
        None => {}
    }
    let dates = param(pairs, "date") == Some("1");
    let mut conditions = Vec::new();
    for (name, value) in pairs {
        let Some(field) = name.strip_prefix("filter[").and_then(|rest| rest.strip_suffix(']')) else {
            continue;
        };
        check_field(resource, field, dates, "filter")?;
        conditions.push((field.to_owned(), parse_condition(value)));
    }
    let mut sort: Vec<(String, bool)> = Vec::new();
    if let Some(text) = param(pairs, "sort") {
        let inner = text.trim_start_matches('[').trim_end_matches(']');
        for part in inner.split(',').filter(|part| !part.is_empty()) {
            let (field, ascending) = if let Some(field) = part.strip_suffix("_ASC") {
                (field, true)
            } else if let Some(field) = part.strip_suffix("_DESC") {
                (field, false)
            } else {
                return Err(PsError::bad_request(37, format!("The \"sort\" value has to be formed as this example: \"field_ASC\" or '[field_1_DESC,field_2_ASC,field_3_ASC,...]' (\"field\" has to be an available field); got {part:?}")));
            };
            check_field(resource, field, dates, "sort field")?;
            sort.push((field.to_owned(), ascending));
        }
    }
    let (offset, count) = match param(pairs, "limit") {
        None => (0, usize::MAX),
        Some(text) => {
            let parsed = match text.split_once(',') {
                Some((offset, count)) => offset.trim().parse().ok().zip(count.trim().parse().ok()),
                None => text.trim().parse().ok().map(|count| (0, count)),
            };
            parsed.ok_or_else(|| {
                PsError::bad_request(
                    38,
                    format!("The \"limit\" value has to be formed as this example: \"5,25\" or \"10\"; got {text:?}"),
                )
            })?
        }
    };
    let display = param(pairs, "display");
    // Filter and sort the stored records, render only the page: the computed fields
    // (`quantity`, …) are `notFilterable` in PrestaShop too.
    let shop = sim.shop();
    let mut stored: Vec<(&u64, &Element)> = shop
        .table(collection)
        .map(|table| table.iter().collect())
        .unwrap_or_default();
    stored.retain(|(_, record)| {
        conditions
            .iter()
            .all(|(field, condition)| condition.matches(&field_value(record, field)))
    });
    if !sort.is_empty() {
        stored.sort_by(|(_, left), (_, right)| {
            for (field, ascending) in &sort {
                let order = compare(&field_value(left, field), &field_value(right, field));
                let order = if *ascending { order } else { order.reverse() };
                if order != Ordering::Equal {
                    return order;
                }
            }
            Ordering::Equal
        });
    }
    let records: Vec<Element> = stored
        .into_iter()
        .skip(offset)
        .take(count)
        .filter_map(|(id, _)| shop.render(collection, *id))
        .collect();
    drop(shop);
    let mut list = Element::new(collection);
    for record in records {
        let id = record.text_of("id").unwrap_or_default().to_owned();
        let entry = match display {
            Some("full") => record,
            Some(fields) => {
                let wanted: Vec<&str> = fields
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .split(',')
                    .collect();
                for field in &wanted {
                    if resource.field(field).is_none() && *field != "associations" {
                        return Err(PsError::bad_request(
                            35,
                            format!("The display field \"{field}\" does not exist"),
                        ));
                    }
                }
                let mut entry = Element::new(resource.element);
                entry.children = record
                    .children
                    .into_iter()
                    .filter(|child| wanted.contains(&child.name.as_str()))
                    .collect();
                entry
            }
            None => Element::new(resource.element)
                .with_attribute("id", id.clone())
                .with_attribute("xlink:href", format!("/api/{collection}/{id}")),
        };
        list.children.push(entry);
    }
    Ok(Answer::Record(StatusCode::OK, list))
}

/// `?schema=synopsis`: each field with what it requires.
fn synopsis(resource: &Resource) -> Element {
    let mut record = store::blank(resource);
    for child in &mut record.children {
        if let Some(field) = resource.field(&child.name) {
            if field.required {
                child.attributes.push(("required".to_owned(), "true".to_owned()));
            }
            if field.read_only {
                child.attributes.push(("read_only".to_owned(), "true".to_owned()));
            }
        }
    }
    record
}

/// The natural key `invalid_item_rate` decides on.
fn natural_key(collection: &str, record: &Element) -> Option<String> {
    match collection {
        "products" | "combinations" => record.text_of("reference").map(str::to_owned),
        "customers" => record.text_of("email").map(str::to_owned),
        _ => None,
    }
}

fn write(
    state: &AppState,
    collection: &str,
    url_id: Option<&&str>,
    body: &Bytes,
    creating: bool,
) -> Result<Answer, PsError> {
    let resource = schema::resource(collection).ok_or_else(|| PsError::bad_request(27, "unknown resource"))?;
    let text = std::str::from_utf8(body).map_err(|_| PsError::bad_request(30, "XML error: the body is not UTF-8"))?;
    let root = Element::parse(text).map_err(|error| PsError::bad_request(30, format!("XML error: {error}")))?;
    let Some(given) = root.child(resource.element) else {
        return Err(PsError::bad_request(
            30,
            format!("XML error: <prestashop><{}> expected", resource.element),
        ));
    };
    if text.trim_start().starts_with('{') {
        return Err(PsError::bad_request(
            30,
            "XML error: the Webservice takes XML bodies only",
        ));
    }
    let mut stored = Shop::build(resource, given, creating)?;
    if let Some(key) = natural_key(collection, &stored) {
        if state.harness.refuses_item(&key) {
            let class = match collection {
                "customers" => "Customer->email",
                "combinations" => "Combination->reference",
                _ => "Product->reference",
            };
            return Err(PsError::bad_request(
                85,
                format!("Validation error: \"Property {class} is not valid\""),
            ));
        }
    }
    let at = store::now();
    let mut shop = state.sim.shop();
    if creating {
        let id = shop.insert(resource_static(collection), stored, &at);
        after_write(&mut shop, collection, id, true, &at);
        let record = shop.render(collection, id).unwrap_or_default();
        return Ok(Answer::Record(StatusCode::CREATED, record));
    }
    let body_id = given.text_of("id");
    let id = match (url_id, body_id) {
        (Some(url), Some(body)) if *url != body => {
            return Err(PsError::bad_request(
                89,
                "id is invalid: the id in the URL and in the body differ",
            ))
        }
        (Some(url), _) => *url,
        (None, Some(body)) => body,
        (None, None) => return Err(PsError::bad_request(90, "id is required when modifying a resource")),
    };
    let Some(id) = id_of(id) else {
        return Err(PsError::bad_request(90, "id is required when modifying a resource"));
    };
    let Some(current) = shop.tables.get(collection).and_then(|table| table.get(&id)).cloned() else {
        return Err(PsError::new(StatusCode::NOT_FOUND, 87, format!("Invalid ID {id}")));
    };
    stored.set_text("id", id.to_string());
    if stored.child("date_add").is_some() {
        stored.set_text("date_add", current.text_of("date_add").unwrap_or(&at).to_owned());
    }
    if stored.child("date_upd").is_some() {
        stored.set_text("date_upd", at.clone());
    }
    // What PrestaShop computes or keeps: read-only fields and associations not sent.
    for field in resource.fields.iter().filter(|field| field.read_only) {
        if let Some(value) = current.child(field.name).cloned() {
            if let Some(slot) = stored.child_mut(field.name) {
                *slot = value;
            }
        }
    }
    if let Some(kept) = current.child("associations") {
        for association in &kept.children {
            let sent = given
                .child("associations")
                .is_some_and(|sent| sent.child(&association.name).is_some());
            if sent {
                continue;
            }
            if stored.child("associations").is_none() {
                stored.children.push(Element::new("associations"));
            }
            if let Some(associations) = stored.child_mut("associations") {
                associations.remove(&association.name);
                associations.children.push(association.clone());
            }
        }
    }
    if let Some(table) = shop.tables.get_mut(collection) {
        table.insert(id, stored);
    }
    after_write(&mut shop, collection, id, false, &at);
    let record = shop.render(collection, id).unwrap_or_default();
    Ok(Answer::Record(StatusCode::OK, record))
}

fn resource_static(collection: &str) -> &'static str {
    schema::resource(collection).map_or("products", |resource| resource.collection)
}

/// What PrestaShop does beside a write: stock rows for new products and combinations, an
/// order's state from its new history, a product's total stock from its combinations'.
fn after_write(shop: &mut Shop, collection: &str, id: u64, created: bool, at: &str) {
    match (collection, created) {
        ("products", true) => shop.add_stock(id, 0, 0, at),
        ("combinations", true) => {
            let product = shop
                .tables
                .get("combinations")
                .and_then(|table| table.get(&id))
                .and_then(|combination| combination.text_of("id_product"))
                .and_then(|product| product.parse().ok())
                .unwrap_or(0);
            shop.add_stock(product, id, 0, at);
            touch_product(shop, product, at);
        }
        ("combinations", false) => {
            let product = shop
                .tables
                .get("combinations")
                .and_then(|table| table.get(&id))
                .and_then(|combination| combination.text_of("id_product"))
                .and_then(|product| product.parse().ok())
                .unwrap_or(0);
            touch_product(shop, product, at);
        }
        ("stock_availables", _) => {
            let product = shop
                .tables
                .get("stock_availables")
                .and_then(|table| table.get(&id))
                .and_then(|row| row.text_of("id_product"))
                .and_then(|product| product.parse().ok())
                .unwrap_or(0);
            shop.sync_product_stock(product);
        }
        ("order_histories", true) => {
            let history = shop
                .tables
                .get("order_histories")
                .and_then(|table| table.get(&id))
                .cloned();
            if let Some(history) = history {
                let order: u64 = history
                    .text_of("id_order")
                    .and_then(|order| order.parse().ok())
                    .unwrap_or(0);
                if let Some(record) = shop.tables.get_mut("orders").and_then(|table| table.get_mut(&order)) {
                    record.set_text("current_state", history.text_of("id_order_state").unwrap_or("0"));
                    record.set_text("date_upd", at);
                }
            }
        }
        _ => {}
    }
}

/// A change to a combination is a change to its product (`date_upd`).
fn touch_product(shop: &mut Shop, product: u64, at: &str) {
    if let Some(record) = shop
        .tables
        .get_mut("products")
        .and_then(|table| table.get_mut(&product))
    {
        record.set_text("date_upd", at);
    }
}

fn delete(sim: &PrestaSim, collection: &str, ids: &str) -> Result<Answer, PsError> {
    let ids: Vec<u64> = ids
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .filter_map(|id| id_of(id.trim()))
        .collect();
    if ids.is_empty() {
        return Err(PsError::bad_request(90, "id is required when deleting a resource"));
    }
    let mut shop = sim.shop();
    for id in &ids {
        if shop.tables.get(collection).is_none_or(|table| !table.contains_key(id)) {
            return Err(PsError::new(
                StatusCode::NOT_FOUND,
                87,
                format!("Id(s) not exists: {id}"),
            ));
        }
    }
    for id in ids {
        shop.delete(collection, id);
    }
    Ok(Answer::Empty(StatusCode::OK))
}

/// A record as the Webservice's JSON shows it: texts as strings, `id` a number, language
/// fields `[{"id","value"}]`, associations as lists of objects.
pub(crate) fn to_json(record: &Element) -> Value {
    let mut fields = Map::new();
    for child in &record.children {
        let value = if child.name == "associations" {
            let mut associations = Map::new();
            for list in &child.children {
                let items: Vec<Value> = list.children.iter().map(to_json).collect();
                associations.insert(list.name.clone(), Value::Array(items));
            }
            Value::Object(associations)
        } else if !child.children.is_empty() && child.children.iter().all(|entry| entry.name == "language") {
            Value::Array(
                child
                    .children
                    .iter()
                    .map(|entry| json!({ "id": entry.attribute("id").unwrap_or(store::LANGUAGE), "value": entry.text }))
                    .collect(),
            )
        } else if child.name == "id" {
            child
                .text
                .parse::<u64>()
                .map_or_else(|_| json!(child.text), |id| json!(id))
        } else {
            json!(child.text)
        };
        fields.insert(child.name.clone(), value);
    }
    for (name, value) in &record.attributes {
        if name == "id" {
            fields.insert(
                "id".to_owned(),
                value.parse::<u64>().map_or_else(|_| json!(value), |id| json!(id)),
            );
        }
    }
    Value::Object(fields)
}

/// A whole JSON answer: `{"product":{…}}`, `{"products":[…]}`, or `[]` for an empty list.
fn to_json_document(element: &Element) -> Value {
    let is_list = schema::resource(&element.name).is_some();
    if is_list {
        if element.children.is_empty() {
            return json!([]);
        }
        let items: Vec<Value> = element.children.iter().map(to_json).collect();
        return json!({ element.name.clone(): items });
    }
    json!({ element.name.clone(): to_json(element) })
}
