//! `EDIT_*` of one record of products (N17), clients (N08 with N33 addresses) and sales codes
//! (N25), and the checks every edited record passes.
use crate::*;

/// The tables `EDIT_*` methods write, with the duplicate code Rivile answers for each.
pub(crate) fn edit_target(method: &str) -> Option<(&'static Table, &'static str, &'static str)> {
    match method.to_ascii_uppercase().as_str() {
        "EDIT_N17" => Some((&N17, "5008", "Egzistuoja tokia prekė")),
        "EDIT_N08" | "EDIT_N08_FULL" => Some((&N08, "2011", "Egzistuoja toks kliento kodas")),
        "EDIT_N25" => Some((&N25, "19017", "Egzistuoja toks kodas")),
        _ => None,
    }
}

/// The GAMA user an API key writes as: the key's prefix before the dot, at most 7 characters
/// (`USERABC.xxxx` → `USERABC`), which Rivile records in `*_ADDUSR` and `*_USERIS`.
pub(crate) fn key_user(api_key: &str) -> String {
    api_key.split('.').next().unwrap_or_default().chars().take(7).collect()
}

/// A data error in Rivile's envelope.
pub(crate) fn data_error(table: &Table, tag: &str, code: &str, message: &str) -> Value {
    json!({
        "id": "",
        "durationMs": "0",
        "errorMessage": "Data errors",
        "errors": [{ "data": table.code, "dataErrors": [{ "tag": tag, "code": code, "message": message }] }]
    })
}

/// `EDIT_*` of one record: `oper` I (insert, the default), U (update) or D (delete). The answer
/// is the stored record, defaults filled, as the real gateway returns it.
pub(crate) fn edit(sim: &RivileSim, harness: &Harness, call: &Call) -> Result<Value, Value> {
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
pub(crate) fn data_problem(tag: &str, code: &str, message: &str) -> Value {
    json!({ "tag": tag, "code": code, "message": message })
}

/// Checks and converts one record against its table: known columns, widths, numbers. Nested
/// child tables are left to the caller.
pub(crate) fn document_values(
    table: &Table,
    record: &Map<String, Value>,
) -> Result<Vec<(&'static str, String)>, Value> {
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

pub(crate) fn value_of<'a>(values: &'a [(&'static str, String)], column: &str) -> Option<&'a str> {
    values
        .iter()
        .find(|(name, _)| *name == column)
        .map(|(_, value)| value.as_str())
        .filter(|value| !value.is_empty())
}

/// A row rendered as the API shows it.
pub(crate) fn render_row(table: &Table, row: &Row) -> Map<String, Value> {
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
pub(crate) fn replace_addresses(
    db: &mut Db,
    client: &str,
    record: &Map<String, Value>,
    now: &str,
) -> Result<(), Value> {
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
pub(crate) fn children(db: &Db, table: &'static str, key: &str) -> Vec<Value> {
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
