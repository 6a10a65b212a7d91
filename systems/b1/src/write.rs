//! The write side: items and clients (`create` / `update`, one record per call, as B1 takes
//! them) and orders as sales invoices (one `create-sale` per order); look-ups by a jqGrid
//! filter of `eq` rules joined by OR. A partial completion (HTTP 480: the invoice was created,
//! some lines were not) is a dead letter naming the created invoice — never a resend.
use crate::client::{text, Client};
use crate::invoice::{self, InvoiceSettings};
use crate::{BatchResult, ConnectorError, ErrorKind, FoundRecord, Lookup, Target, WriteItem, WriteOutcome};
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use tiltas_model::EntityKind;

/// What a target writes.
#[derive(Debug, Clone)]
pub(crate) enum Writing {
    Items,
    Clients,
    Invoices(InvoiceSettings),
}

impl Writing {
    fn entity(&self) -> EntityKind {
        match self {
            Writing::Items => EntityKind::Product,
            Writing::Clients => EntityKind::Customer,
            Writing::Invoices(_) => EntityKind::Order,
        }
    }

    fn module(&self) -> &'static str {
        match self {
            Writing::Items => "reference-book/items",
            Writing::Clients => "clients",
            Writing::Invoices(_) => "warehouse/sales",
        }
    }

    /// The B1 field a canonical match field is found by.
    fn field_of(&self, match_on: Option<&str>) -> Option<&'static str> {
        match (self, match_on) {
            (Writing::Items, None | Some("sku")) => Some("code"),
            (Writing::Items, Some("ean")) => Some("barcode"),
            (Writing::Clients, None | Some("code") | Some("company_code")) => Some("code"),
            (Writing::Clients, Some("email")) => Some("email"),
            (Writing::Clients, Some("vat_code")) => Some("vatCode"),
            (Writing::Invoices(_), None | Some("number")) => Some("number"),
            _ => None,
        }
    }
}

/// Writes one entity of a B1 company.
pub(crate) struct B1Target {
    client: Client,
    writing: Writing,
    /// Warehouse ids by the name or id orders give.
    warehouses: HashMap<String, i64>,
}

impl B1Target {
    pub fn new(client: Client, writing: Writing) -> B1Target {
        B1Target {
            client,
            writing,
            warehouses: HashMap::new(),
        }
    }
}

fn field(payload: &Value, path: &str) -> Option<String> {
    let value = path.split('.').try_fold(payload, |value, segment| value.get(segment))?;
    match value {
        Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// The EU member states besides Lithuania (B1's `locationId` 2).
const EU: [&str; 26] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LU", "LV", "MT",
    "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// A canonical product as a B1 item.
pub(crate) fn item(payload: &Value) -> Result<Map<String, Value>, String> {
    let mut item = Map::new();
    let code = field(payload, "sku").ok_or("the product has no sku: B1 finds items by their code")?;
    item.insert("code".to_owned(), json!(code));
    item.insert(
        "name".to_owned(),
        json!(field(payload, "name").unwrap_or_else(|| code.clone())),
    );
    if let Some(barcode) = field(payload, "ean") {
        item.insert("barcode".to_owned(), json!(barcode));
    }
    if let Some(price) = field(payload, "price_net") {
        item.insert("price".to_owned(), json!(price));
    }
    if let Some(rate) = field(payload, "vat_rate") {
        item.insert("vatRate".to_owned(), json!(rate));
    }
    let unit = field(payload, "unit").unwrap_or_default().to_lowercase();
    let unit = unit.trim_end_matches('.');
    let unit_id = crate::UNITS
        .iter()
        .find(|(_, name)| *name == unit)
        .map_or(1, |(id, _)| *id);
    // An item is goods (attribute 1) in a unit: B1 requires both on create and update.
    item.insert("attributeId".to_owned(), json!(1));
    item.insert("measurementUnitId".to_owned(), json!(unit_id));
    Ok(item)
}

/// A canonical customer as a B1 client.
pub(crate) fn client_record(payload: &Value) -> Result<Map<String, Value>, String> {
    let company = field(payload, "kind").as_deref() == Some("company") || field(payload, "company_name").is_some();
    let person = match (field(payload, "first_name"), field(payload, "last_name")) {
        (Some(first), Some(last)) => Some(format!("{first} {last}")),
        (one, other) => one.or(other),
    };
    let name = if company {
        field(payload, "company_name").or_else(|| field(payload, "name"))
    } else {
        field(payload, "name").or(person)
    }
    .or_else(|| field(payload, "email"))
    .ok_or("the customer has no name, company name or e-mail: B1 requires a client's name")?;
    let mut client = Map::new();
    client.insert("name".to_owned(), json!(name));
    client.insert("isCompany".to_owned(), json!(company));
    let mut put = |name: &str, value: Option<String>| {
        if let Some(value) = value {
            client.insert(name.to_owned(), json!(value));
        }
    };
    put(
        "code",
        field(payload, "code").or_else(|| field(payload, "company_code")),
    );
    put("vatCode", field(payload, "vat_code"));
    put("email", field(payload, "email"));
    put("phone", field(payload, "phone"));
    put("address", field(payload, "billing.line1"));
    put("cityName", field(payload, "billing.city"));
    put("postCode", field(payload, "billing.postcode"));
    let country = field(payload, "billing.country").map(|country| country.to_uppercase());
    let location = match country.as_deref() {
        None | Some("LT") => 1,
        Some(code) if EU.contains(&code) => 2,
        Some(_) => 3,
    };
    put("countryCode", country);
    client.insert("locationId".to_owned(), json!(location));
    Ok(client)
}

impl B1Target {
    fn body(&self, payload: &Value) -> Result<Map<String, Value>, String> {
        match &self.writing {
            Writing::Items => item(payload),
            Writing::Clients => client_record(payload),
            Writing::Invoices(settings) => match invoice::sale(payload, settings, 0)? {
                Value::Object(sale) => Ok(sale),
                _ => Err("the sale is not an object".to_owned()),
            },
        }
    }

    async fn warehouse_id(&mut self, warehouse: &str) -> Result<i64, ConnectorError> {
        if let Some(id) = self.warehouses.get(warehouse) {
            return Ok(*id);
        }
        let id = self.client.warehouse_id(warehouse).await?;
        self.warehouses.insert(warehouse.to_owned(), id);
        Ok(id)
    }

    /// Writes one record; `Ok(Err(..))` is a failure of the record alone.
    async fn write_one(&mut self, item: &WriteItem) -> Result<Result<String, ConnectorError>, ConnectorError> {
        let mut body = match self.body(&item.payload) {
            Ok(body) => body,
            Err(message) => return Ok(Err(ConnectorError::new(ErrorKind::Invalid, message))),
        };
        if let Writing::Invoices(settings) = &self.writing {
            let warehouse = invoice::warehouse_of(&item.payload, settings).unwrap_or_default();
            let id = match self.warehouse_id(&warehouse).await {
                Ok(id) => id,
                Err(error) if error.kind == ErrorKind::Fatal => {
                    return Ok(Err(ConnectorError {
                        kind: ErrorKind::Invalid,
                        ..error
                    }))
                }
                Err(error) => return Err(error),
            };
            body.insert("warehouseId".to_owned(), json!(id));
            let answer = match self
                .client
                .call("e-commerce/orders/create-sale", &Value::Object(body))
                .await
            {
                Ok(answer) => answer,
                Err(error) if error.kind == ErrorKind::Invalid => return Ok(Err(error)),
                Err(error) => return Err(error),
            };
            let Some(id) = answer.created_id() else {
                return Ok(Err(ConnectorError::new(
                    ErrorKind::Invalid,
                    "create-sale: B1's answer has no data.id",
                )));
            };
            if answer.code == 480 {
                return Ok(Err(partial(&id, &item.payload, &answer.body)));
            }
            return Ok(Ok(id));
        }
        let action = match &item.target_id {
            Some(id) => {
                // An update sends the whole record with its id.
                body.insert(
                    "id".to_owned(),
                    json!(id.parse::<i64>().map_or_else(|_| json!(id), |id| json!(id))),
                );
                "update"
            }
            None => "create",
        };
        let path = format!("{}/{action}", self.writing.module());
        match self.client.call(&path, &Value::Object(body)).await {
            Ok(answer) => Ok(match (&item.target_id, answer.created_id()) {
                (Some(id), _) => Ok(id.clone()),
                (None, Some(id)) => Ok(id),
                (None, None) => Err(ConnectorError::new(
                    ErrorKind::Invalid,
                    format!("{path}: B1's answer has no data.id"),
                )),
            }),
            Err(error) if error.kind == ErrorKind::Invalid => Ok(Err(error)),
            Err(error) => Err(error),
        }
    }
}

/// The dead letter of a partial completion: the invoice exists, some lines do not.
fn partial(id: &str, payload: &Value, body: &Value) -> ConnectorError {
    let number = field(payload, "number").unwrap_or_default();
    let explained = crate::errors::describe(body);
    let mut error = ConnectorError::new(
        ErrorKind::Invalid,
        format!(
            "B1 created invoice {number} (id {id}) without some of its lines (HTTP 480, partial completion): {} \
             Add the missing lines to the invoice in B1 by hand; replaying this dead letter finds the invoice by \
             its number and does not create it again",
            explained.message
        ),
    )
    .with_fix(
        explained
            .fix
            .unwrap_or_else(|| "add the missing lines to the invoice in B1".to_owned()),
    );
    error.field = explained.field;
    error
}

#[async_trait]
impl Target for B1Target {
    /// Every record is its own call; 20 keep settlements frequent.
    fn max_batch(&self) -> usize {
        20
    }

    fn can_lookup(&self) -> bool {
        true
    }

    async fn lookup(&mut self, match_on: Option<&str>, keys: &[String]) -> Result<Lookup, ConnectorError> {
        let name = self.writing.field_of(match_on).ok_or_else(|| {
            crate::fatal(format!(
                "B1 cannot find a {} by {}",
                self.writing.entity(),
                match_on.unwrap_or("its key")
            ))
        })?;
        let path = format!("{}/list", self.writing.module());
        let mut lookup = Lookup::default();
        let rows = self.client.page_rows(0);
        for chunk in keys.chunks(rows.min(100)) {
            let rules: Vec<Value> = chunk
                .iter()
                .map(|key| json!({ "field": name, "op": "eq", "data": key }))
                .collect();
            // A key can match several records (duplicates made by hand): read every page.
            let mut after = None;
            loop {
                let records = self.client.list(&path, "OR", rules.clone(), after, rows).await?;
                lookup.api_calls += 1;
                for record in &records {
                    let (Some(found), Some(id)) = (text(record, name), text(record, "id")) else {
                        continue;
                    };
                    let Some(key) = chunk.iter().find(|key| key.eq_ignore_ascii_case(&found)) else {
                        continue;
                    };
                    // The oldest record wins when B1 holds duplicates.
                    lookup.found.entry(key.clone()).or_insert_with(|| FoundRecord {
                        target_id: id,
                        data: Some(canonical(&self.writing, record)),
                    });
                }
                if records.len() < rows {
                    break;
                }
                after = records.iter().filter_map(|record| record.get("id")?.as_i64()).max();
            }
        }
        Ok(lookup)
    }

    fn precheck(&self, payload: &Value) -> Result<(), String> {
        let Writing::Invoices(settings) = &self.writing else {
            return self.body(payload).map(drop);
        };
        // The buyer is filled in by the order pipeline after this check.
        let mut order = payload.clone();
        if order.pointer("/customer/code").is_none_or(Value::is_null) {
            if let Value::Object(fields) = &mut order {
                fields.insert("customer".to_owned(), json!({ "code": "0" }));
            }
        }
        invoice::sale(&order, settings, 0).map(drop)
    }

    async fn write_batch(&mut self, items: Vec<WriteItem>) -> Result<BatchResult, ConnectorError> {
        let total = items.len();
        let mut outcomes = Vec::with_capacity(total);
        let mut api_calls = 0;
        for item in &items {
            api_calls += 1;
            match self.write_one(item).await {
                Ok(Ok(target_id)) => outcomes.push(WriteOutcome::Written { target_id }),
                Ok(Err(error)) => outcomes.push(WriteOutcome::Failed(error)),
                // Stop at a failing server: this record may have been applied (the engine looks
                // it up before resending), the rest were not sent; all are retried by the engine.
                Err(error) if matches!(error.kind, ErrorKind::Transient | ErrorKind::RateLimited) => {
                    outcomes.push(WriteOutcome::Failed(error.clone()));
                    let not_sent = ConnectorError {
                        message: format!("not sent: {}", error.message),
                        ..error
                    };
                    while outcomes.len() < total {
                        outcomes.push(WriteOutcome::Failed(not_sent.clone()));
                    }
                    break;
                }
                Err(error) => return Err(error),
            }
        }
        Ok(BatchResult { outcomes, api_calls })
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        Ok(())
    }
}

/// A found record in canonical form.
fn canonical(writing: &Writing, record: &Map<String, Value>) -> Value {
    let mut data = match writing {
        Writing::Items => crate::read::product(record),
        Writing::Clients => crate::read::customer(record),
        Writing::Invoices(_) => Map::new(),
    };
    data.insert("raw".to_owned(), Value::Object(record.clone()));
    Value::Object(data)
}
