//! `EDIT_I06_FULL` / `EDIT_I06`: sales (`I06_OP_TIP` 51, 52) and purchase (1) documents with
//! their lines. GAMA checks what a document refers to before storing it: the client (a buyer
//! or, on a purchase, the supplier) in N08, the currency, the warehouse in N07, and each line's
//! product in N17 or service in N25; Rivile keeps no uniqueness of `I06_DOK_NR`, so a document
//! sent twice is stored twice (the connector looks documents up before writing them).
use crate::*;

/// A `dataErrors` list of one table, in Rivile's envelope.
fn data_errors(problems: Vec<Value>) -> Value {
    json!({ "id": "", "durationMs": "0", "errorMessage": "Data errors", "errors": [{ "data": "I06", "dataErrors": problems }] })
}

/// Whether `table` holds a row of the one-column key `key` (case-insensitively, as GAMA's SQL).
fn exists_in(db: &Db, table: &str, key: &str) -> bool {
    db.tables
        .get(table)
        .is_some_and(|rows| rows.contains_key(&vec![key.to_lowercase()]))
}

/// `EDIT_I06_FULL`: a sales or purchase document with its lines (`I07`) in one call. The client,
/// the warehouse and every line's product must exist; with `errorAction: "CONTINUE"` the
/// document is stored with its good lines and answered 207 with the bad lines' errors, else
/// nothing is stored. `oper` U replaces a document, P posts it (`I06_PERKELTA` = 2), D deletes it.
pub(crate) fn edit_document(sim: &RivileSim, call: &Call) -> Result<(StatusCode, Value), Value> {
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
    let head = document_values(&I06, header)?;
    let lines: Vec<Map<String, Value>> = match header.get("I07") {
        Some(Value::Array(items)) => items.iter().filter_map(|item| item.as_object().cloned()).collect(),
        Some(Value::Object(item)) => vec![item.clone()],
        _ => Vec::new(),
    };
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string();
    let mut db = lock(&sim.db);
    if oper != "I" {
        if let Some(answer) = post_or_delete(&mut db, &oper, &head, &now)? {
            return Ok((StatusCode::OK, answer));
        }
    }
    let problems = header_problems(&db, &head);
    if !problems.is_empty() {
        return Err(data_errors(problems));
    }
    let warehouse = value_of(&head, "I06_KODAS_IS").map(str::to_owned);
    let (good_lines, line_errors) = checked_lines(&db, &lines, warehouse.as_deref())?;
    if !line_errors.is_empty() && !carry_on {
        return Err(json!({ "id": "", "durationMs": "0", "errorMessage": "Data errors", "errors": line_errors }));
    }
    let user = key_user(&sim.api_key);
    let key = store_document(&mut db, &oper, head, good_lines, &user, &now);
    let mut answer = render_document(&db, &key);
    if line_errors.is_empty() {
        Ok((StatusCode::OK, answer))
    } else {
        answer["errorMessage"] = Value::String("Data errors".into());
        answer["errors"] = Value::Array(line_errors);
        Ok((StatusCode::MULTI_STATUS, answer))
    }
}

/// `oper` P (post) and D (delete) of an existing document, answered here; `None` for U, which
/// rewrites the document like an insert.
fn post_or_delete(db: &mut Db, oper: &str, head: &[(&'static str, String)], now: &str) -> Result<Option<Value>, Value> {
    let Some(code) = value_of(head, "I06_KODAS_PO").map(str::to_lowercase) else {
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
    match oper {
        "P" => {
            document.insert("I06_PERKELTA", "2".into());
            document.insert("I06_R_DATE", now.to_owned());
            Ok(Some(render_document(db, &code)))
        }
        "D" => {
            if let Some(rows) = db.tables.get_mut("I06") {
                rows.remove(&vec![code.clone()]);
            }
            if let Some(rows) = db.tables.get_mut("I07") {
                rows.retain(|key, _| key.first() != Some(&code));
            }
            Ok(Some(json!({})))
        }
        "U" => Ok(None),
        other => Err(error_body(&format!(
            "Parameter 'oper' must be I, U, P or D, found {other}"
        ))),
    }
}

/// What GAMA refuses in a header: no client or an unknown one, a foreign currency without its
/// code or with an unknown one, an unknown warehouse.
fn header_problems(db: &Db, head: &[(&'static str, String)]) -> Vec<Value> {
    let mut problems = Vec::new();
    match value_of(head, "I06_KODAS_KS") {
        None => problems.push(data_problem("I06_KODAS_KS", "1", "Nenurodytas klientas")),
        Some(client) if !exists_in(db, "N08", client) => problems.push(data_problem(
            "I06_KODAS_KS",
            "3001",
            &format!("Nerastas klientas '{client}'"),
        )),
        _ => {}
    }
    // A foreign-currency document (I06_VAL_POZ 1) names its currency [I].
    match (value_of(head, "I06_VAL_POZ"), value_of(head, "I06_KODAS_VL")) {
        (Some("1"), None) => problems.push(data_problem("I06_KODAS_VL", "1", "Nenurodyta valiuta")),
        (Some("1"), Some(code)) if iso_currency::Currency::from_code(code).is_none() => problems.push(data_problem(
            "I06_KODAS_VL",
            "3004",
            &format!("Nerasta valiuta '{code}'"),
        )),
        _ => {}
    }
    if let Some(code) = value_of(head, "I06_KODAS_IS") {
        if !exists_in(db, "N07", code) {
            problems.push(data_problem(
                "I06_KODAS_IS",
                "3003",
                &format!("Nerastas padalinys '{code}'"),
            ));
        }
    }
    problems
}

/// A line's checked values.
type LineValues = Vec<(&'static str, String)>;

/// The lines GAMA accepts (each with its warehouse, the header's when it names none) and the
/// errors of the others, as `I07[n]` entries: an unknown product (N17) or service (N25), an
/// unknown or missing warehouse.
fn checked_lines(
    db: &Db,
    lines: &[Map<String, Value>],
    warehouse: Option<&str>,
) -> Result<(Vec<LineValues>, Vec<Value>), Value> {
    let mut good_lines = Vec::new();
    let mut line_errors = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let mut values = document_values(&I07, line)?;
        let mut problems = Vec::new();
        let service = value_of(&values, "I07_TIPAS") == Some("2");
        match value_of(&values, "I07_KODAS") {
            None => problems.push(data_problem("I07_KODAS", "1", "Nenurodyta prekė")),
            // I07_TIPAS 2 is a service line: its code is an N25 sales code, not a product.
            Some(code) if service && !exists_in(db, "N25", code) => {
                problems.push(data_problem("I07_KODAS", "3002", &format!("Nerasta paslauga '{code}'")))
            }
            Some(code) if !service && !exists_in(db, "N17", code) => {
                problems.push(data_problem("I07_KODAS", "3002", &format!("Nerasta prekė '{code}'")))
            }
            _ => {}
        }
        let line_warehouse = value_of(&values, "I07_KODAS_IS")
            .map(str::to_owned)
            .or_else(|| warehouse.map(str::to_owned));
        match &line_warehouse {
            Some(code) if !exists_in(db, "N07", code) => problems.push(data_problem(
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
    Ok((good_lines, line_errors))
}

/// Stores a document with its lines (replacing an updated one's) and returns its key: the
/// system number GAMA gives a new document (`010R00000001`), with the sums of its lines.
fn store_document(
    db: &mut Db,
    oper: &str,
    mut head: Vec<(&'static str, String)>,
    lines: Vec<LineValues>,
    user: &str,
    now: &str,
) -> String {
    let code = match (oper, value_of(&head, "I06_KODAS_PO")) {
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
    for (index, mut values) in lines.into_iter().enumerate() {
        let (sum, line_vat) = line_sums(&values);
        total += sum;
        vat += line_vat;
        values.retain(|(name, _)| !matches!(*name, "I07_KODAS_PO" | "I07_EIL_NR" | "I07_SUMA" | "I07_PVM"));
        values.extend([
            ("I07_KODAS_PO", code.clone()),
            ("I07_EIL_NR", (index + 1).to_string()),
            ("I07_SUMA", sum.to_string()),
            ("I07_PVM", line_vat.to_string()),
            ("I07_R_DATE", now.to_owned()),
        ]);
        db.insert(&I07, &values);
    }
    head.retain(|(name, _)| !matches!(*name, "I06_KODAS_PO" | "I06_SUMA" | "I06_PVM" | "I06_R_DATE"));
    head.extend([
        ("I06_KODAS_PO", code.clone()),
        ("I06_SUMA", total.to_string()),
        ("I06_PVM", vat.to_string()),
        ("I06_R_DATE", now.to_owned()),
        ("I06_USERIS", user.to_owned()),
    ]);
    if oper == "I" {
        head.extend([("I06_ADDUSR", user.to_owned()), ("I06_ADD_DATE", now.to_owned())]);
    } else if let Some(before) = db.tables.get("I06").and_then(|rows| rows.get([key.clone()].as_slice())) {
        // An update rewrites the document but keeps who created it and when.
        head.retain(|(name, _)| !matches!(*name, "I06_ADDUSR" | "I06_ADD_DATE"));
        for column in ["I06_ADDUSR", "I06_ADD_DATE"] {
            head.push((column, before.get(column).cloned().unwrap_or_default()));
        }
    }
    db.insert(&I06, &head);
    key
}

/// A line's net sum and VAT: as sent (a line's amount as sold), else computed by GAMA from
/// quantity × price and the VAT rate [I: systems/rivile/README.md]; two decimals, as N(14,2)
/// columns answer.
fn line_sums(values: &[(&'static str, String)]) -> (Decimal, Decimal) {
    let given = |column: &str| value_of(values, column).and_then(|value| Decimal::from_str(value).ok());
    let number = |column: &str| given(column).unwrap_or_default();
    let mut sum = given("I07_SUMA").unwrap_or_else(|| (number("I07_KIEKIS") * number("I07_KAINA_BE")).round_dp(2));
    let mut vat =
        given("I07_PVM").unwrap_or_else(|| (sum * number("I07_MOKESTIS_P") / Decimal::ONE_HUNDRED).round_dp(2));
    sum.rescale(2);
    vat.rescale(2);
    (sum, vat)
}

/// A document with its lines, as `EDIT_I06_FULL` answers it.
pub(crate) fn render_document(db: &Db, key: &str) -> Value {
    let Some(row) = db.tables.get("I06").and_then(|rows| rows.get(&vec![key.to_owned()])) else {
        return json!({});
    };
    let mut header = render_row(&I06, row);
    header.insert("I07".into(), Value::Array(children(db, "I07", key)));
    json!({ "I06": header })
}
