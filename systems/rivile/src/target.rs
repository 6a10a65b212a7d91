//! The write side of the `rivile` connector: products (`EDIT_N17`), clients (`EDIT_N08_FULL`)
//! and documents (`EDIT_I06_FULL`: orders as sales documents, supplier invoices as purchases),
//! one record per call as the API takes them, found by code or number with `GET_*_LIST`.
use crate::client::{customer_fields, posted, quoted, raw, text, Client, ROWS_PER_CALL};
use crate::{ConnectorError, ErrorKind};
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use tiltas_model::parts::matching::ItemIndex;
use tiltas_model::EntityKind;

/// How canonical fields become the columns of a Rivile table, and back for look-ups.
#[derive(Debug, Clone)]
pub(crate) struct Writing {
    pub entity: EntityKind,
    pub table: &'static crate::schema::Table,
    pub method: &'static str,
    /// For documents: `I06_OP_TIP` (51 sales invoice).
    pub operation: String,
    /// For documents: the warehouse when the order names none.
    pub warehouse: Option<String>,
    /// For documents: post each one after writing it (`EDIT_I06`, `oper` P).
    pub post: bool,
    /// For documents: the N25 service code an order's shipping charge is invoiced under.
    pub shipping_service: Option<String>,
    /// For documents: the N25 service code an order's fees are invoiced under.
    pub fee_service: Option<String>,
    /// For documents: the N25 service code discounts are invoiced under as negative lines
    /// (product lines then at their amounts before discounts); without it lines are booked
    /// after discounts.
    pub discount_service: Option<String>,
    /// For documents: the foreign currencies booked as foreign-currency documents (EUR always).
    pub currencies: Vec<String>,
    /// For purchases: the supplier's N08 client code, over the document's counterparty.
    pub counterparty: Option<String>,
    /// For purchases: the cross-reference of suppliers' codes to Rivile products.
    pub part_xref: Option<crate::purchase::PartXref>,
}

impl Writing {
    /// The Rivile column of a canonical match field.
    fn column_of(&self, field: Option<&str>) -> Option<&'static str> {
        match (self.entity, field) {
            (EntityKind::Product, None | Some("sku")) => Some("N17_KODAS_PS"),
            (EntityKind::Customer, None | Some("code")) => Some("N08_KODAS_KS"),
            (EntityKind::Customer, Some("email")) => Some("N08_E_MAIL"),
            (EntityKind::Customer, Some("company_code")) => Some("N08_IM_KODAS"),
            (EntityKind::Order | EntityKind::Document, None | Some("number")) => Some("I06_DOK_NR"),
            _ => None,
        }
    }

    /// The record to send, checked against the columns' widths: a value that does not fit is
    /// refused here, never cut.
    fn row(&self, payload: &Value, items: Option<&ItemIndex>) -> Result<Map<String, Value>, String> {
        if self.entity == EntityKind::Order {
            return self.document(payload);
        }
        if self.entity == EntityKind::Document {
            return self.purchase(payload, items);
        }
        let field = |path: &str| -> Option<String> {
            let mut value = payload;
            for segment in path.split('.') {
                value = value.get(segment)?;
            }
            match value {
                Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
                Value::Number(number) => Some(number.to_string()),
                _ => None,
            }
        };
        let mut row = Map::new();
        let pairs: &[(&str, &str)] = match self.entity {
            EntityKind::Product => &[
                ("N17_KODAS_PS", "sku"),
                ("N17_PAV", "name"),
                ("N17_KODAS_US", "unit"),
                ("N17_PVM", "vat_rate"),
            ],
            _ => &[
                ("N08_KODAS_KS", "code"),
                ("N08_PAV", "company_name"),
                ("N08_IM_KODAS", "company_code"),
                ("N08_PVM_KODAS", "vat_code"),
                ("N08_E_MAIL", "email"),
                ("N08_TEL", "phone"),
                ("N08_ADR", "billing.line1"),
                ("N08_MIESTAS", "billing.city"),
                ("N08_POST_KOD", "billing.postcode"),
                ("N08_SALIS", "billing.country"),
            ],
        };
        for (column, path) in pairs {
            if let Some(value) = field(path) {
                row.insert((*column).to_owned(), Value::String(value));
            }
        }
        if self.entity == EntityKind::Customer && !row.contains_key("N08_KODAS_KS") {
            // Rivile wants a client code; a buyer from a shop has none. The code is derived
            // from the e-mail (else the name), so a retried creation meets the same code
            // (a 2011 duplicate, then a look-up) instead of making a second client.
            if let Some(identity) = field("email").or_else(|| field("name")) {
                use sha2::Digest;
                let digest = sha2::Sha256::digest(identity.to_lowercase().as_bytes());
                let hex: String = digest.iter().take(6).map(|byte| format!("{byte:02X}")).collect();
                row.insert("N08_KODAS_KS".to_owned(), Value::String(format!("E{}", &hex[..11])));
            }
        }
        if self.entity == EntityKind::Customer && !row.contains_key("N08_PAV") {
            if let Some(name) = field("name") {
                row.insert("N08_PAV".to_owned(), Value::String(name));
            }
        }
        if self.entity == EntityKind::Product {
            row.entry("N17_TIPAS").or_insert(Value::String("1".to_owned()));
        }
        if self.entity == EntityKind::Customer {
            let columns = [
                ("N33_ADR", "shipping.line1"),
                ("N33_MIESTAS", "shipping.city"),
                ("N33_POST_KOD", "shipping.postcode"),
                ("N33_SALIS", "shipping.country"),
            ];
            let shipping: Map<String, Value> = columns
                .into_iter()
                .filter_map(|(column, path)| field(path).map(|value| (column.to_owned(), Value::String(value))))
                .collect();
            if !shipping.is_empty() {
                check_widths(&crate::schema::N33, &shipping)?;
                row.insert("N33".to_owned(), Value::Array(vec![Value::Object(shipping)]));
            }
        }
        // The system's own fields (`raw.N17_KILM`) go to their columns as they are.
        if let Some(Value::Object(raw)) = payload.get("raw") {
            for (name, value) in raw {
                if self.table.column(name).is_some() && !name.ends_with("_R_DATE") && !name.ends_with("_ADD_DATE") {
                    row.insert(
                        name.to_uppercase(),
                        Value::String(value.as_str().unwrap_or_default().trim().to_owned()),
                    );
                }
            }
        }
        check_widths(self.table, &row)?;
        let key = self.table.key[0];
        if !row.contains_key(key) && self.entity != EntityKind::Order {
            return Err(format!(
                "{key} is required: the record has no {}",
                if self.entity == EntityKind::Product {
                    "sku"
                } else {
                    "code"
                }
            ));
        }
        Ok(row)
    }
}

/// Refuses a value longer than its CHAR column, naming the column and both lengths.
pub(crate) fn check_widths(table: &crate::schema::Table, row: &Map<String, Value>) -> Result<(), String> {
    for (name, value) in row {
        if let (Some(column), Some(text)) = (table.column(name), value.as_str()) {
            if let crate::schema::ColumnType::Char(width) = column.kind {
                let length = text.chars().count();
                if length > width {
                    return Err(format!(
                        "{name} holds {width} characters and the value has {length} ({text:?}): shorten it or map another field"
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Writes products (`EDIT_N17`) or clients (`EDIT_N08_FULL`): one record per call, as the API
/// takes them; finds records by code with `GET_*_LIST`.
pub(crate) struct RivileTarget {
    pub client: Client,
    pub writing: Writing,
    /// Clients of the last batch as Rivile answered them, in canonical form (echo detection).
    pub stored: HashMap<String, Value>,
    /// Purchases: the supplier of each document number this run has sent, so a look-up after
    /// an uncertain write finds that supplier's document and no other's of the same number.
    pub suppliers: HashMap<String, String>,
}

impl RivileTarget {
    /// Whether a purchase found by number is the one of the supplier this target sends that
    /// number for (the flow's counterparty, else the one this run sent it with); any row when
    /// neither is known, and for every other entity.
    fn is_supplier_of(&self, number: &str, row: &Map<String, Value>) -> bool {
        if self.writing.entity != EntityKind::Document {
            return true;
        }
        let expected = self
            .writing
            .counterparty
            .as_ref()
            .or_else(|| self.suppliers.get(number));
        match (expected, text(row, "I06_KODAS_KS")) {
            (Some(expected), Some(found)) => expected.eq_ignore_ascii_case(&found),
            (Some(_), None) => false,
            (None, _) => true,
        }
    }

    /// For purchases, the Rivile products the batch's lines could be (`None` for other
    /// entities), with the calls it took.
    async fn items_for(&self, items: &[crate::WriteItem]) -> Result<(Option<ItemIndex>, u64), ConnectorError> {
        if self.writing.entity != EntityKind::Document {
            return Ok((None, 0));
        }
        let payloads: Vec<&Value> = items.iter().map(|item| &item.payload).collect();
        let (index, calls) =
            crate::purchase::items_for(&self.client, &payloads, self.writing.part_xref.as_ref()).await?;
        Ok((Some(index), calls))
    }
}

#[async_trait]
impl crate::Target for RivileTarget {
    /// Every record is its own call; 20 keep settlements frequent.
    fn max_batch(&self) -> usize {
        20
    }

    fn can_lookup(&self) -> bool {
        true
    }

    async fn lookup(&mut self, match_on: Option<&str>, keys: &[String]) -> Result<crate::Lookup, ConnectorError> {
        let column = self.writing.column_of(match_on).ok_or_else(|| {
            ConnectorError::new(
                ErrorKind::Fatal,
                format!(
                    "Rivile cannot find {} by {}",
                    self.writing.entity,
                    match_on.unwrap_or("its key")
                ),
            )
        })?;
        let key_column = self.writing.table.key[0];
        let mut lookup = crate::Lookup::default();
        for chunk in keys.chunks(ROWS_PER_CALL) {
            let list: Vec<String> = chunk.iter().map(|key| quoted(key)).collect();
            let mut fil = format!("{column} in ({})", list.join(","));
            if self.writing.entity == EntityKind::Document {
                // Rivile keeps no unique document number: a purchase is its supplier's number.
                fil.push_str(&format!(" and i06_op_tip = {}", crate::purchase::PURCHASE));
                if let Some(supplier) = &self.writing.counterparty {
                    fil.push_str(&format!(" and i06_kodas_ks = {}", quoted(supplier)));
                }
            }
            let rows = self.client.rows(self.writing.table.code, &fil).await?;
            lookup.api_calls += 1;
            for row in rows {
                if let (Some(found), Some(id)) = (text(&row, column), text(&row, key_column)) {
                    let key = chunk
                        .iter()
                        .find(|key| key.eq_ignore_ascii_case(&found))
                        .cloned()
                        .unwrap_or(found);
                    if lookup.found.contains_key(&key) || !self.is_supplier_of(&key, &row) {
                        continue;
                    }
                    // A document written before a failed post (or a crash between the two
                    // calls) is adopted here instead of being written again: post it now, so
                    // `post = true` holds for every document the flow delivers.
                    if self.writing.post && self.writing.table.code == "I06" && !posted(&row) {
                        self.client
                            .call(
                                "EDIT_I06",
                                json!({ "oper": "P" }),
                                Some(json!({ "I06": { "I06_KODAS_PO": id } })),
                            )
                            .await
                            .map_err(|error| ConnectorError {
                                message: format!("found {id} unposted, posting it failed: {}", error.message),
                                ..error
                            })?;
                        lookup.api_calls += 1;
                    }
                    lookup.found.insert(
                        key,
                        crate::FoundRecord {
                            target_id: id,
                            data: Some(raw(&row)),
                        },
                    );
                }
            }
        }
        Ok(lookup)
    }

    fn stored(&self, target_id: &str) -> Option<Value> {
        self.stored.get(target_id).cloned()
    }

    fn precheck(&self, payload: &Value) -> Result<(), String> {
        if self.writing.entity != EntityKind::Order {
            return self.writing.row(payload, None).map(drop);
        }
        // The buyer's code is filled in by the order pipeline after this check; everything
        // else that decides whether the document can be booked is already in the order.
        let mut order = payload.clone();
        if order.pointer("/customer/code").is_none_or(Value::is_null) {
            if let Value::Object(fields) = &mut order {
                let customer = fields.entry("customer").or_insert_with(|| json!({}));
                if let Value::Object(customer) = customer {
                    customer.insert("code".to_owned(), json!("-"));
                }
            }
        }
        self.writing.document(&order).map(drop)
    }

    async fn write_batch(&mut self, items: Vec<crate::WriteItem>) -> Result<crate::BatchResult, ConnectorError> {
        self.stored.clear();
        let total = items.len();
        let mut outcomes = Vec::with_capacity(total);
        let (index, mut api_calls) = self.items_for(&items).await?;
        for item in items {
            if let (EntityKind::Document, Some(number), Some(supplier)) = (
                self.writing.entity,
                crate::document::text(item.payload.get("number")),
                self.writing.supplier_of(&item.payload),
            ) {
                self.suppliers.insert(number, supplier);
            }
            let mut row = match self.writing.row(&item.payload, index.as_ref()) {
                Ok(row) => row,
                Err(message) => {
                    outcomes.push(crate::WriteOutcome::Failed(ConnectorError::new(
                        ErrorKind::Invalid,
                        message,
                    )));
                    continue;
                }
            };
            let key_column = self.writing.table.key[0];
            if let Some(id) = &item.target_id {
                row.insert(key_column.to_owned(), Value::String(id.clone()));
            }
            let id = row
                .get(key_column)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let oper = if item.target_id.is_some() { "U" } else { "I" };
            let data = json!({ self.writing.table.code: row });
            api_calls += 1;
            match self
                .client
                .call(self.writing.method, json!({ "oper": oper }), Some(data))
                .await
            {
                // A new document's id is the system number Rivile gives it.
                Ok(answer) => {
                    if let (EntityKind::Customer, Some(Value::Object(row))) = (self.writing.entity, answer.get("N08")) {
                        let mut canonical = Map::new();
                        customer_fields(row, &mut canonical);
                        if let Some(code) = text(row, "N08_KODAS_KS") {
                            self.stored.insert(code, Value::Object(canonical));
                        }
                    }
                    // A new document's id is the system number Rivile gives it.
                    let pointer = format!("/{}/{key_column}", self.writing.table.code);
                    let written = if id.is_empty() {
                        answer
                            .pointer(&pointer)
                            .and_then(Value::as_str)
                            .map(|number| number.trim().to_owned())
                    } else {
                        Some(id)
                    };
                    let outcome = match written {
                        None => crate::WriteOutcome::Failed(ConnectorError::new(
                            ErrorKind::Invalid,
                            format!("{}: the answer has no {key_column}", self.writing.method),
                        )),
                        Some(written) if self.writing.post => {
                            api_calls += 1;
                            let data = json!({ "I06": { "I06_KODAS_PO": written } });
                            match self.client.call("EDIT_I06", json!({ "oper": "P" }), Some(data)).await {
                                Ok(_) => crate::WriteOutcome::Written { target_id: written },
                                Err(error) => crate::WriteOutcome::Failed(ConnectorError {
                                    message: format!("written as {written} but not posted: {}", error.message),
                                    ..error
                                }),
                            }
                        }
                        Some(written) => crate::WriteOutcome::Written { target_id: written },
                    };
                    outcomes.push(outcome);
                }
                Err(error) if error.kind == ErrorKind::Invalid => outcomes.push(crate::WriteOutcome::Failed(error)),
                // Stop at a failing server: this record may have been applied (the engine looks it
                // up before resending), the rest were not sent; all are retried by the engine.
                Err(error) if matches!(error.kind, ErrorKind::Transient | ErrorKind::RateLimited) => {
                    outcomes.push(crate::WriteOutcome::Failed(error.clone()));
                    let not_sent = ConnectorError {
                        message: format!("not sent: {}", error.message),
                        ..error
                    };
                    while outcomes.len() < total {
                        outcomes.push(crate::WriteOutcome::Failed(not_sent.clone()));
                    }
                    break;
                }
                Err(error) => return Err(error),
            }
        }
        Ok(crate::BatchResult { outcomes, api_calls })
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        Ok(())
    }
}
