//! `$import` and `$change_status`: each object validated on its own, answered
//! `{"successes":[…],"errors":[…]}` in an HTTP 200; items and persons are found by
//! `external_id`, else by code, and updated; documents found by `external_id` follow the
//! company's duplicate check for their type («Выдать ошибку / Обновить / Пропустить»).
use crate::data::{code_field, decimal, integer, stamp, text, Db, Record, MEASURES};
use chrono::{NaiveDate, Utc};
use serde_json::{json, Value};
use tiltas_sim::Harness;
use tiltas_smartup::wire::{self, DuplicateCheck, Endpoint};

/// The answer's `successes` and `errors`.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub successes: Vec<Value>,
    pub errors: Vec<Value>,
}

/// What names an object in an answer: its code and external id as sent.
fn naming(object: &Record) -> Record {
    let mut named = Record::new();
    for field in [
        "code",
        "external_id",
        "deal_id",
        "document_id",
        "person_id",
        "product_id",
    ] {
        if let Some(value) = object.get(field) {
            named.insert(field.into(), value.clone());
        }
    }
    named
}

fn error(object: &Record, code: &str, message: String) -> Value {
    let mut entry = naming(object);
    entry.insert("error_code".into(), json!(code));
    entry.insert("message".into(), json!(message));
    Value::Object(entry)
}

/// The external id, else the code: what makes an import idempotent.
fn natural_key(object: &Record) -> Option<String> {
    text(object, "external_id").or_else(|| text(object, "code"))
}

fn valid_date(object: &Record, field: &str) -> Result<(), String> {
    match text(object, field) {
        None => Err(format!("Поле {field} обязательно (дата дд.мм.гггг)")),
        Some(date) if NaiveDate::parse_from_str(&date, wire::DATE).is_err() => {
            Err(format!("Поле {field}: дата «{date}» не в формате дд.мм.гггг"))
        }
        Some(_) => Ok(()),
    }
}

/// Resolves `products[].product_code` to ids; an unknown code is the object's error.
fn resolve_lines(db: &Db, object: &mut Record) -> Result<(), String> {
    let Some(Value::Array(lines)) = object.get("products").cloned() else {
        return Err("Документ без ТМЦ (products пуст)".into());
    };
    if lines.is_empty() {
        return Err("Документ без ТМЦ (products пуст)".into());
    }
    let mut resolved = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let mut line = line.as_object().cloned().unwrap_or_default();
        let code = text(&line, "product_code").unwrap_or_default();
        let Some((id, _)) = db.item_by_code(&code) else {
            return Err(format!(
                "Строка {}: ТМЦ с кодом «{code}» не найден ({} код)",
                index + 1,
                db.settings.code_use.as_str()
            ));
        };
        match decimal(&line, "quantity") {
            Some(quantity) if quantity > rust_decimal::Decimal::ZERO => {}
            _ => return Err(format!("Строка {}: количество должно быть больше нуля", index + 1)),
        }
        line.remove("product_code");
        line.insert("product_id".into(), json!(id));
        resolved.push(Value::Object(line));
    }
    object.insert("products".into(), Value::Array(resolved));
    Ok(())
}

/// Checks an object of `endpoint` and brings it to its stored form.
fn validate(db: &Db, endpoint: &Endpoint, object: &mut Record) -> Result<(), String> {
    match endpoint.key {
        "inventory" => {
            let code = text(object, "code").ok_or("Код ТМЦ обязателен (code)")?;
            text(object, "name").ok_or("Наименование ТМЦ обязательно (name)")?;
            let measure = text(object, "measure_code").unwrap_or_else(|| "pcs".into());
            if !MEASURES.contains(&measure.as_str()) {
                return Err(format!("Единица измерения «{measure}» не найдена"));
            }
            object.insert(code_field(db.settings.code_use).into(), json!(code));
            object.remove("code");
        }
        "legal_person" => {
            text(object, "code").ok_or("Код клиента обязателен (code)")?;
            text(object, "name").ok_or("Наименование юридического лица обязательно (name)")?;
        }
        "natural_person" => {
            text(object, "code").ok_or("Код клиента обязателен (code)")?;
            text(object, "first_name").ok_or("Имя физического лица обязательно (first_name)")?;
        }
        "order" => {
            text(object, "external_id").ok_or("external_id обязателен для заказа")?;
            valid_date(object, "deal_date")?;
            let (person, _) = db.person(object).ok_or_else(|| {
                format!(
                    "Клиент не найден (person_id {} / person_code {})",
                    text(object, "person_id").unwrap_or_default(),
                    text(object, "person_code").unwrap_or_default()
                )
            })?;
            object.insert("person_id".into(), json!(person));
            object.remove("person_code");
            let status = text(object, "status").unwrap_or_else(|| "N".into());
            if !wire::ORDER_STATUSES.iter().any(|(code, _)| *code == status) {
                return Err(format!("Статус заказа «{status}» неизвестен"));
            }
            object.insert("status".into(), json!(status));
            resolve_lines(db, object)?;
        }
        "payment" | "cash" => {
            text(object, "external_id").ok_or("external_id обязателен для документа")?;
            valid_date(object, "document_date")?;
            let (person, _) = db.person(object).ok_or("Клиент не найден (person_id / person_code)")?;
            object.insert("person_id".into(), json!(person));
            object.remove("person_code");
            match decimal(object, "amount") {
                Some(amount) if amount > rust_decimal::Decimal::ZERO => {}
                _ => return Err("Сумма оплаты должна быть больше нуля (amount)".into()),
            }
        }
        _ => {
            text(object, "external_id").ok_or("external_id обязателен для документа")?;
            valid_date(object, "document_date")?;
            resolve_lines(db, object)?;
        }
    }
    Ok(())
}

/// The id of an existing object with the same external id, else (references) the same code.
fn existing(db: &Db, endpoint: &Endpoint, object: &Record) -> Option<i64> {
    let external = text(object, "external_id");
    let same = |record: &Record| match &external {
        Some(external) => text(record, "external_id").as_deref() == Some(external.as_str()),
        None => false,
    };
    let found = |records: &std::collections::BTreeMap<i64, Record>, code_field: &str| {
        records
            .iter()
            .find(|(_, record)| {
                same(record)
                    || (endpoint.document.is_none()
                        && text(record, code_field).is_some()
                        && text(record, code_field) == text(object, code_field))
            })
            .map(|(id, _)| *id)
    };
    match endpoint.key {
        "inventory" => found(&db.items, code_field(db.settings.code_use)),
        "legal_person" | "natural_person" => found(&db.persons, "code"),
        "order" => found(&db.orders, "external_id"),
        key => found(db.documents.get(key)?, "external_id"),
    }
}

fn table<'a>(db: &'a mut Db, endpoint: &Endpoint) -> &'a mut std::collections::BTreeMap<i64, Record> {
    match endpoint.key {
        "inventory" => &mut db.items,
        "legal_person" | "natural_person" => &mut db.persons,
        "order" => &mut db.orders,
        key => db.documents.entry(key.to_owned()).or_default(),
    }
}

/// Stores a new object of `endpoint`; its id.
fn create(db: &mut Db, endpoint: &Endpoint, mut object: Record, filial: &str, now: &str) -> i64 {
    let id = db.id();
    object.insert(endpoint.id_field.into(), json!(id));
    if endpoint.key.ends_with("_person") {
        object.insert("kind".into(), json!(endpoint.key));
    }
    if endpoint.document.is_some() && text(&object, "filial_code").is_none() {
        object.insert("filial_code".into(), json!(filial));
    }
    object.insert("created_on".into(), json!(now));
    object.insert("modified_on".into(), json!(now));
    table(db, endpoint).insert(id, object);
    id
}

/// Imports one object: its success entry, or its error entry.
fn import_one(
    db: &mut Db,
    harness: &Harness,
    endpoint: &Endpoint,
    mut object: Record,
    filial: &str,
    now: &str,
) -> Result<Value, Value> {
    let sent = object.clone();
    validate(db, endpoint, &mut object).map_err(|message| error(&sent, "A02-24-010", message))?;
    if harness.refuses_item(&natural_key(&sent).unwrap_or_default()) {
        return Err(error(&sent, "A02-24-011", crate::REFUSED_ITEM.to_owned()));
    }
    let found = existing(db, endpoint, &object);
    let policy = endpoint
        .document
        .map(|document| db.settings.duplicate_check_of(document));
    let mut success = naming(&sent);
    let id = match (found, policy) {
        (Some(id), Some(DuplicateCheck::Error)) => {
            return Err(error(
                &sent,
                "A02-24-020",
                format!(
                    "Найден дубликат: документ с external_id «{}» уже существует (id {id}); проверка на дубликат: выдать ошибку",
                    text(&sent, "external_id").unwrap_or_default()
                ),
            ))
        }
        (Some(id), Some(DuplicateCheck::Skip)) => {
            success.insert("skipped".into(), json!("Y"));
            id
        }
        (Some(id), _) => {
            if let Some(stored) = table(db, endpoint).get_mut(&id) {
                stored.extend(object);
                stored.insert("modified_on".into(), json!(now));
            }
            id
        }
        (None, _) => create(db, endpoint, object, filial, now),
    };
    success.insert(endpoint.id_field.into(), json!(id));
    Ok(Value::Object(success))
}

/// Imports `objects` of `endpoint` (already within the 5 000 limit), each on its own.
pub(crate) fn import(
    db: &mut Db,
    harness: &Harness,
    endpoint: &Endpoint,
    objects: Vec<Value>,
    filial: &str,
) -> Outcome {
    let mut outcome = Outcome::default();
    let now = stamp(Utc::now());
    for object in objects {
        let Value::Object(object) = object else {
            outcome
                .errors
                .push(json!({ "error_code": "A02-24-002", "message": "Объект не является JSON-объектом" }));
            continue;
        };
        match import_one(db, harness, endpoint, object, filial, &now) {
            Ok(success) => outcome.successes.push(success),
            Err(error) => outcome.errors.push(error),
        }
    }
    outcome
}

/// `$change_status` of orders: `{"order":[{"deal_id"|"external_id", "status"}]}`.
pub(crate) fn change_status(db: &mut Db, objects: Vec<Value>) -> Outcome {
    let mut outcome = Outcome::default();
    let now = stamp(Utc::now());
    for object in objects {
        let object = object.as_object().cloned().unwrap_or_default();
        let status = text(&object, "status").unwrap_or_default();
        if !wire::ORDER_STATUSES.iter().any(|(code, _)| *code == status) {
            outcome.errors.push(error(
                &object,
                "A02-24-010",
                format!("Статус заказа «{status}» неизвестен"),
            ));
            continue;
        }
        let external = text(&object, "external_id");
        let wanted = integer(&object, "deal_id");
        let found = db
            .orders
            .iter_mut()
            .find(|(id, order)| Some(**id) == wanted || (external.is_some() && text(order, "external_id") == external));
        match found {
            Some((id, order)) => {
                order.insert("status".into(), json!(status));
                order.insert("modified_on".into(), json!(now));
                let mut success = naming(&object);
                success.insert("deal_id".into(), json!(id));
                outcome.successes.push(Value::Object(success));
            }
            None => outcome
                .errors
                .push(error(&object, "A02-24-030", "Заказ не найден".into())),
        }
    }
    outcome
}
