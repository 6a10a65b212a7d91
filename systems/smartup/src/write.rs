//! The write side: items, legal and natural persons, orders and customer payments, each a
//! `$import` of up to 5 000 objects answered object by object: a refused object is a dead
//! letter naming it with Smartup's message, the rest are written. Documents follow the
//! company's duplicate check for their type, read at the first write and checked against the
//! flow's `duplicate_check`. Look-ups read the entity's export once and match locally.
use crate::client::{text, Client, ImportAnswer, Object};
use crate::records;
use crate::wire::{self, DuplicateCheck, Endpoint, IntegrationSettings};
use crate::{BatchResult, ConnectorError, ErrorKind, FoundRecord, Lookup, Target, WriteItem, WriteOutcome};
use async_trait::async_trait;
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};

/// What a target writes.
#[derive(Debug, Clone)]
pub(crate) enum Writing {
    Items,
    Customers,
    Orders {
        status: String,
        warehouse: Option<String>,
    },
    Payments,
    /// Incoming receipts (`input`), booked in the flow's warehouse when they name none.
    Receipts {
        warehouse: Option<String>,
    },
}

impl Writing {
    /// The endpoints looked up, in turn.
    fn endpoints(&self) -> Vec<Endpoint> {
        match self {
            Writing::Items => vec![wire::INVENTORY],
            Writing::Customers => vec![wire::LEGAL_PERSON, wire::NATURAL_PERSON],
            Writing::Orders { .. } => vec![wire::ORDER],
            Writing::Payments => vec![wire::DOCUMENTS[7]],
            Writing::Receipts { .. } => vec![wire::DOCUMENTS[1]],
        }
    }

    /// The field an object is named by in an import answer.
    fn key_field(&self) -> &'static str {
        match self {
            Writing::Items | Writing::Customers => "code",
            Writing::Orders { .. } | Writing::Payments | Writing::Receipts { .. } => "external_id",
        }
    }

    /// The Smartup field a canonical match field is found by.
    fn field_of(&self, match_on: Option<&str>) -> Option<&'static str> {
        match (self, match_on) {
            (Writing::Items, None | Some("sku")) => Some("code"),
            (Writing::Items, Some("ean")) => Some("barcodes"),
            (Writing::Customers, None | Some("code")) => Some("code"),
            (Writing::Customers, Some("email")) => Some("email"),
            (Writing::Customers, Some("vat_code" | "company_code")) => Some("tin"),
            (Writing::Orders { .. } | Writing::Payments | Writing::Receipts { .. }, None | Some("number")) => {
                Some("external_id")
            }
            _ => None,
        }
    }

    fn noun(&self) -> &'static str {
        match self {
            Writing::Items => "item",
            Writing::Customers => "person",
            Writing::Orders { .. } => "order",
            Writing::Payments => "payment",
            Writing::Receipts { .. } => "receipt",
        }
    }
}

/// Writes one entity of a Smartup company.
pub(crate) struct SmartupTarget {
    client: Client,
    writing: Writing,
    /// The duplicate check the flow expects (`duplicate_check`).
    expected: Option<DuplicateCheck>,
    settings: Option<IntegrationSettings>,
    /// Exported objects by endpoint key, for look-ups; dropped after a write.
    cache: HashMap<&'static str, Vec<Object>>,
    /// Person codes by person id, for updates of persons found by another field.
    person_codes: HashMap<String, String>,
}

/// One object to import, and the batch item it came from.
struct Pending {
    index: usize,
    endpoint: Endpoint,
    object: Value,
}

impl SmartupTarget {
    pub fn new(client: Client, writing: Writing, expected: Option<DuplicateCheck>) -> SmartupTarget {
        SmartupTarget {
            client,
            writing,
            expected,
            settings: None,
            cache: HashMap::new(),
            person_codes: HashMap::new(),
        }
    }

    /// Reads the company's settings once; a flow expecting another duplicate check or code
    /// scope than the company applies stops before anything is written.
    async fn check_settings(&mut self) -> Result<u64, ConnectorError> {
        if self.settings.is_some() {
            return Ok(0);
        }
        let settings = self.client.company_settings().await?;
        self.client.check_code(&settings)?;
        let document = self.writing.endpoints()[0].document;
        if let (Some(document), Some(expected)) = (document, self.expected) {
            let company = settings.duplicate_check_of(document);
            if company != expected {
                return Err(crate::fatal(format!(
                    "connection `{}`: the flow expects Smartup's duplicate check for {document} documents to be \
                     \"{}\", but the company's is \"{}\" (Главное → Настройки интеграции со сторонними ПО → Проверка на \
                     дубликат): a {} sent again would be {}. Set duplicate_check = \"{}\" on the flow's `to`, or change \
                     the setting in Smartup",
                    self.client.connection(),
                    expected.as_str(),
                    company.as_str(),
                    self.writing.noun(),
                    match company {
                        DuplicateCheck::Error => "refused",
                        DuplicateCheck::Update => "updated",
                        DuplicateCheck::Skip => "skipped",
                    },
                    company.as_str()
                ))
                .with_fix(format!("set duplicate_check = \"{}\" on the flow", company.as_str())));
            }
        }
        self.settings = Some(settings);
        Ok(1)
    }

    /// The object of a payload and the endpoint it goes to.
    fn object(&self, payload: &Value) -> Result<(Endpoint, Value), String> {
        match &self.writing {
            Writing::Items => Ok((wire::INVENTORY, records::item(payload)?)),
            Writing::Customers => {
                let (legal, person) = records::person(payload)?;
                Ok((
                    if legal {
                        wire::LEGAL_PERSON
                    } else {
                        wire::NATURAL_PERSON
                    },
                    person,
                ))
            }
            Writing::Orders { status, warehouse } => {
                Ok((wire::ORDER, records::deal(payload, status, warehouse.as_deref())?))
            }
            Writing::Payments => Ok((wire::DOCUMENTS[7], records::payment(payload)?)),
            Writing::Receipts { warehouse } => {
                Ok((wire::DOCUMENTS[1], records::receipt(payload, warehouse.as_deref())?))
            }
        }
    }

    /// The objects of every endpoint of this target, exported once.
    async fn exported(&mut self) -> Result<(Vec<(Endpoint, Object)>, u64), ConnectorError> {
        let mut calls = 0;
        let mut all = Vec::new();
        for endpoint in self.writing.endpoints() {
            if !self.cache.contains_key(endpoint.key) {
                let objects = self.client.export(&endpoint, Object::new()).await?;
                calls += 1;
                for object in &objects {
                    if let (Some(id), Some(code)) = (text(object, "person_id"), text(object, "code")) {
                        self.person_codes.insert(id, code);
                    }
                }
                self.cache.insert(endpoint.key, objects);
            }
            all.extend(self.cache[endpoint.key].iter().map(|object| (endpoint, object.clone())));
        }
        Ok((all, calls))
    }

    /// A refused object's dead letter: the object, Smartup's code and message, and the fix.
    fn refusal(&self, key: &str, error: &Object) -> ConnectorError {
        let code = text(error, "error_code").unwrap_or_default();
        let said = text(error, "message").unwrap_or_else(|| Value::Object(error.clone()).to_string());
        let document = self.writing.endpoints()[0].document;
        let duplicate = said.contains("дубликат");
        let fix = match document {
            Some(document) if duplicate => format!(
                "Smartup's duplicate check for {document} documents is \"error\": set it to \"update\" or \"skip\" in \
                 Smartup (Главное → Настройки интеграции со сторонними ПО → Проверка на дубликат), or on_duplicate = \
                 \"skip\" on the flow so Tiltas does not send it again"
            ),
            _ => "correct the record (or the Smartup reference it names) and replay the dead letter".to_owned(),
        };
        let mut failure = ConnectorError::new(
            ErrorKind::Invalid,
            format!("Smartup refused {} {key}: {code}: {said} — {fix}", self.writing.noun()),
        )
        .with_fix(fix);
        if said.contains("ТМЦ") {
            failure.field = Some("lines.sku".to_owned());
        } else if said.contains("Клиент") {
            failure.field = Some("customer.code".to_owned());
        }
        failure
    }

    /// The objects of a batch to import; a payload that cannot be one fails in `outcomes`.
    fn prepare(&self, items: &[WriteItem], outcomes: &mut [Option<WriteOutcome>]) -> Vec<Pending> {
        let mut pending = Vec::new();
        for (index, item) in items.iter().enumerate() {
            match self.object(&item.payload) {
                Err(message) => {
                    outcomes[index] = Some(WriteOutcome::Failed(ConnectorError::new(ErrorKind::Invalid, message)))
                }
                Ok((endpoint, mut object)) => {
                    // An update keeps the person's code, whatever field found it.
                    if let Some(code) = item.target_id.as_ref().and_then(|id| self.person_codes.get(id)) {
                        if matches!(self.writing, Writing::Customers) {
                            object["code"] = json!(code);
                        }
                    }
                    pending.push(Pending {
                        index,
                        endpoint,
                        object,
                    });
                }
            }
        }
        pending
    }

    /// The outcome of an object Smartup's answer does not mention: it may or may not be
    /// written, so the engine looks it up before sending it again.
    fn unmentioned(&self, item: &WriteItem) -> WriteOutcome {
        WriteOutcome::Failed(ConnectorError::new(
            ErrorKind::Transient,
            format!(
                "Smartup's $import answer names neither a success nor an error for {} {}",
                self.writing.noun(),
                item.source_key
            ),
        ))
    }

    /// Fills `outcomes` from an import answer for `sent` (index, key) pairs.
    fn settle(
        &self,
        endpoint: &Endpoint,
        sent: &[(usize, String)],
        answer: ImportAnswer,
        outcomes: &mut [Option<WriteOutcome>],
    ) {
        let field = self.writing.key_field();
        let mut waiting: HashMap<&str, VecDeque<usize>> = HashMap::new();
        for (index, key) in sent {
            waiting.entry(key.as_str()).or_default().push_back(*index);
        }
        let mut take = |entry: &Object| {
            text(entry, field).and_then(|key| waiting.get_mut(key.as_str())?.pop_front().map(|index| (index, key)))
        };
        for success in &answer.successes {
            if let Some((index, key)) = take(success) {
                if text(success, "skipped").as_deref() == Some("Y") {
                    tracing::info!(
                        "Smartup skipped {} {key}: it exists and the duplicate check is \"skip\"",
                        self.writing.noun()
                    );
                }
                let target_id = text(success, endpoint.id_field).unwrap_or(key);
                outcomes[index] = Some(WriteOutcome::Written { target_id });
            }
        }
        for error in &answer.errors {
            if let Some((index, key)) = take(error) {
                outcomes[index] = Some(WriteOutcome::Failed(self.refusal(&key, error)));
            }
        }
    }
}

#[async_trait]
impl Target for SmartupTarget {
    /// One `$import` takes 5 000 objects; 500 keep settlements frequent.
    fn max_batch(&self) -> usize {
        500
    }

    fn can_lookup(&self) -> bool {
        true
    }

    async fn lookup(&mut self, match_on: Option<&str>, keys: &[String]) -> Result<Lookup, ConnectorError> {
        let field = self.writing.field_of(match_on).ok_or_else(|| {
            crate::fatal(format!(
                "Smartup cannot find a {} by {}",
                self.writing.noun(),
                match_on.unwrap_or("its key")
            ))
        })?;
        let mut lookup = Lookup {
            api_calls: self.check_settings().await?,
            ..Lookup::default()
        };
        let (objects, calls) = self.exported().await?;
        lookup.api_calls += calls;
        let wanted: HashMap<String, &String> = keys.iter().map(|key| (key.to_lowercase(), key)).collect();
        for (endpoint, object) in &objects {
            let (Some(found), Some(id)) = (text(object, field), text(object, endpoint.id_field)) else {
                continue;
            };
            let Some(key) = wanted.get(&found.to_lowercase()) else {
                continue;
            };
            let mut data = match &self.writing {
                Writing::Items => records::product(object, None),
                Writing::Customers => records::customer(object, endpoint.key == "legal_person"),
                Writing::Orders { .. } => records::order(object),
                Writing::Payments | Writing::Receipts { .. } => records::document(endpoint, object),
            };
            data.insert("raw".to_owned(), Value::Object(object.clone()));
            lookup.found.entry((*key).clone()).or_insert(FoundRecord {
                target_id: id,
                data: Some(Value::Object(data)),
            });
        }
        Ok(lookup)
    }

    fn precheck(&self, payload: &Value) -> Result<(), String> {
        if let Writing::Orders { .. } = self.writing {
            // The buyer is filled in by the order pipeline after this check.
            let mut order = payload.clone();
            if order.pointer("/customer/code").is_none_or(Value::is_null) {
                if let Value::Object(fields) = &mut order {
                    fields.insert("customer".to_owned(), json!({ "code": "0" }));
                }
            }
            return self.object(&order).map(drop);
        }
        self.object(payload).map(drop)
    }

    async fn write_batch(&mut self, items: Vec<WriteItem>) -> Result<BatchResult, ConnectorError> {
        let mut api_calls = self.check_settings().await?;
        if matches!(self.writing, Writing::Customers) && items.iter().any(|item| item.target_id.is_some()) {
            api_calls += self.exported().await?.1;
        }
        let mut outcomes: Vec<Option<WriteOutcome>> = vec![None; items.len()];
        let pending = self.prepare(&items, &mut outcomes);
        let field = self.writing.key_field();
        for endpoint in self.writing.endpoints() {
            let mine: Vec<&Pending> = pending.iter().filter(|p| p.endpoint.key == endpoint.key).collect();
            for chunk in mine.chunks(wire::MAX_IMPORT) {
                let sent: Vec<(usize, String)> = chunk
                    .iter()
                    .map(|p| {
                        (
                            p.index,
                            p.object
                                .get(field)
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned(),
                        )
                    })
                    .collect();
                let objects = chunk.iter().map(|p| p.object.clone()).collect();
                self.cache.clear();
                let answer = self.client.import(&endpoint, "import", objects).await?;
                api_calls += 1;
                self.settle(&endpoint, &sent, answer, &mut outcomes);
            }
        }
        let outcomes = outcomes
            .into_iter()
            .zip(&items)
            .map(|(outcome, item)| outcome.unwrap_or_else(|| self.unmentioned(item)))
            .collect();
        Ok(BatchResult { outcomes, api_calls })
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        Ok(())
    }
}
