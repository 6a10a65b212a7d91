//! `POST accountviewdata`: a header row and its detail rows as positional `Values` per the
//! body's field definitions, detail rows tied to the header by `HeaderId` = the header's
//! `RowId`. Debtors (`AK1`): a new number when `SUB_NR` is empty, an update when it exists.
//! Sales orders (`SO1`) and invoices (`SI1`): the number must be new, the debtor and every article must
//! exist, an employee is required.
use crate::data::{Db, Row};
use crate::query::Refusal;
use serde_json::{json, Map, Value};
use tiltas_accountview::wire::{self, BusinessObject};

/// One table of a write: its name, its field names and its rows as field → value.
struct TableData {
    name: String,
    rows: Vec<Row>,
}

fn field_names(definition: &Value) -> Result<(String, Vec<String>), Refusal> {
    let name = definition
        .get("Name")
        .and_then(Value::as_str)
        .ok_or((2001, "Table definition without Name".to_owned()))?;
    let fields = definition
        .get("Fields")
        .and_then(Value::as_array)
        .ok_or((2001, format!("Table definition {name} without Fields")))?
        .iter()
        .map(|field| field.get("Name").and_then(Value::as_str).map(str::to_uppercase))
        .collect::<Option<Vec<String>>>()
        .ok_or((2001, format!("A field of table definition {name} has no Name")))?;
    Ok((name.to_uppercase(), fields))
}

fn table_rows(name: &str, fields: &[String], rows: Option<&Value>) -> Result<Vec<Row>, Refusal> {
    let rows = rows
        .and_then(|data| data.get("Rows"))
        .and_then(Value::as_array)
        .ok_or((2002, format!("TableData for {name} has no Rows")))?;
    rows.iter()
        .enumerate()
        .map(|(index, row)| {
            let values = row
                .get("Values")
                .and_then(Value::as_array)
                .ok_or((2002, format!("Row {} of {name} has no Values", index + 1)))?;
            if values.len() != fields.len() {
                return Err((
                    2003,
                    format!(
                        "Row {} of {name} has {} values for {} fields: Values are positional, one per field definition",
                        index + 1,
                        values.len(),
                        fields.len()
                    ),
                ));
            }
            Ok(fields.iter().cloned().zip(values.iter().cloned()).collect())
        })
        .collect()
}

/// The header and detail tables of a write body, checked against `object`.
fn parse(body: &Value, object: &BusinessObject) -> Result<(TableData, Option<TableData>), Refusal> {
    let table = body.get("Table").ok_or((2001, "Table is missing".to_owned()))?;
    let (name, fields) = field_names(table.get("Definition").unwrap_or(&Value::Null))?;
    if name != object.table {
        return Err((2001, format!("Business object {} has no table {name}", object.code)));
    }
    let data = body.get("TableData").ok_or((2002, "TableData is missing".to_owned()))?;
    let header = TableData {
        rows: table_rows(&name, &fields, data.get("Data"))?,
        name,
    };
    if header.rows.len() != 1 {
        return Err((2004, "A write takes exactly one header row".to_owned()));
    }
    let detail = match (object.detail, table.get("DetailDefinitions").and_then(Value::as_array)) {
        (Some(expected), Some(definitions)) if !definitions.is_empty() => {
            let (name, fields) = field_names(&definitions[0])?;
            if name != expected {
                return Err((
                    2001,
                    format!("Business object {} has no detail table {name}", object.code),
                ));
            }
            let rows = data.get("DetailData").and_then(Value::as_array).and_then(|d| d.first());
            Some(TableData {
                rows: table_rows(&name, &fields, rows)?,
                name,
            })
        }
        _ => None,
    };
    if let Some(detail) = &detail {
        let header_id = header.rows[0].get("ROWID").cloned().unwrap_or(Value::Null);
        if let Some((index, _)) = detail
            .rows
            .iter()
            .enumerate()
            .find(|(_, row)| row.get("HEADERID") != Some(&header_id) || header_id.is_null())
        {
            return Err((
                2005,
                format!(
                    "Row {} of {}: HeaderId does not match the RowId of a header row",
                    index + 1,
                    detail.name
                ),
            ));
        }
    }
    Ok((header, detail))
}

fn text(row: &Row, field: &str) -> String {
    wire::text(row, field).unwrap_or_default()
}

/// Stores a row: the written fields without the write's own row ids (the row gets its own).
fn stored(db: &mut Db, row: &Row) -> Row {
    let mut kept: Map<String, Value> = row
        .iter()
        .filter(|(field, _)| !matches!(field.as_str(), "ROWID" | "HEADERID"))
        .map(|(field, value)| (field.clone(), value.clone()))
        .collect();
    kept.insert("RowId".into(), json!(db.row_id()));
    kept.insert("CNG_DATE".into(), json!(db.today.format("%Y-%m-%d").to_string()));
    kept
}

/// Applies a write; `refuses` is the harness' per-record refusal (`invalid_item_rate`).
pub(crate) fn apply(db: &mut Db, body: &Value, refuses: &dyn Fn(&str) -> bool) -> Result<Value, Refusal> {
    let code = body
        .get("BusinessObject")
        .and_then(Value::as_str)
        .ok_or((2001, "BusinessObject is missing".to_owned()))?;
    let object = wire::business_object(code).ok_or_else(|| (1001, format!("Business object {code} does not exist")))?;
    let (header, detail) = parse(body, &object)?;
    match object.code {
        "AK1" => debtor(db, &header.rows[0], detail.map(|d| d.rows).unwrap_or_default(), refuses),
        "SO1" | "SI1" => sale(
            db,
            &object,
            &header.rows[0],
            detail.map(|d| d.rows).unwrap_or_default(),
            refuses,
        ),
        other => Err((
            2006,
            format!("Business object {other} cannot be written through this API"),
        )),
    }
}

fn debtor(db: &mut Db, header: &Row, people: Vec<Row>, refuses: &dyn Fn(&str) -> bool) -> Result<Value, Refusal> {
    let name = text(header, "ACCT_NAME");
    if name.is_empty() {
        return Err((3001, "ACCT_NAME (Naam) is verplicht: a debtor needs a name".to_owned()));
    }
    let kind = text(header, "CONTACT_TYPE");
    if !["B", "P"].contains(&kind.as_str()) {
        return Err((3002, format!("CONTACT_TYPE {kind:?} is not B (business) or P (person)")));
    }
    let email = text(header, "MAIL_BUS");
    if !email.is_empty() && !email.contains('@') {
        return Err((3003, format!("MAIL_BUS {email:?} is not an e-mail address")));
    }
    let mut number = text(header, "SUB_NR");
    if refuses(if number.is_empty() { &name } else { &number }) {
        return Err((3009, crate::REFUSED_ITEM.to_owned()));
    }
    if number.is_empty() {
        db.next_debtor += 1;
        number = db.next_debtor.to_string();
    }
    let mut row = stored(db, header);
    row.insert("SUB_NR".into(), json!(number));
    let people: Vec<Value> = people
        .iter()
        .map(|person| {
            let mut person = stored(db, person);
            person.insert("HeaderId".into(), row["RowId"].clone());
            Value::Object(person)
        })
        .collect();
    if !people.is_empty() {
        row.insert("CONTACT_PERSON".into(), Value::Array(people));
    }
    let table = db.table_mut("CONTACT");
    match table.iter_mut().find(|existing| text(existing, "SUB_NR") == number) {
        Some(existing) => {
            row.insert("RowId".into(), existing["RowId"].clone());
            *existing = row.clone();
        }
        None => table.push(row.clone()),
    }
    Ok(wire::answer("CONTACT", vec![Value::Object(row)]))
}

/// A sales order (`SO1`) or sales invoice (`SI1`): header and lines.
fn sale(
    db: &mut Db,
    object: &BusinessObject,
    header: &Row,
    lines: Vec<Row>,
    refuses: &dyn Fn(&str) -> bool,
) -> Result<Value, Refusal> {
    let (table, key) = (object.table, object.key);
    let number = text(header, key);
    if number.is_empty() {
        return Err((
            4001,
            format!("{key} is verplicht: an order or invoice needs its number"),
        ));
    }
    if db.table(table).iter().any(|row| text(row, key) == number) {
        return Err((
            4002,
            format!(
                "{} {number} already exists",
                if key == "INV_NR" { "Invoice" } else { "Order" }
            ),
        ));
    }
    let debtor = text(header, "SUB_NR");
    if !db.table("CONTACT").iter().any(|row| text(row, "SUB_NR") == debtor) {
        return Err((4003, format!("Debtor {debtor:?} does not exist (SUB_NR)")));
    }
    if text(header, "EMPL_NR").is_empty() {
        return Err((4004, "EMPL_NR (Medewerker) is verplicht".to_owned()));
    }
    if lines.is_empty() {
        return Err((4005, "An order needs at least one line".to_owned()));
    }
    for (index, line) in lines.iter().enumerate() {
        let code = text(line, "ART_CODE");
        if !db.table("ARTICLE").iter().any(|row| text(row, "ART_CODE") == code) {
            return Err((4006, format!("Line {}: article {code:?} does not exist", index + 1)));
        }
        if line.get("QTY").and_then(Value::as_f64).unwrap_or(0.0) == 0.0
            && text(line, "QTY").parse::<f64>().unwrap_or(0.0) == 0.0
        {
            return Err((4008, format!("Line {}: QTY must not be 0", index + 1)));
        }
    }
    if refuses(&number) {
        return Err((4009, crate::REFUSED_ITEM.to_owned()));
    }
    let mut row = stored(db, header);
    let stored_lines: Vec<Value> = lines
        .iter()
        .map(|line| {
            let mut line = stored(db, line);
            line.insert("HeaderId".into(), row["RowId"].clone());
            Value::Object(line)
        })
        .collect();
    row.insert(object.detail.unwrap_or("LINES").to_owned(), Value::Array(stored_lines));
    db.table_mut(table).push(row.clone());
    Ok(wire::answer(table, vec![Value::Object(row)]))
}
