//! `EDIT_I06_FULL` / `EDIT_I06`: sales and purchase documents with their lines.
use crate::*;

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

/// A document with its lines, as `EDIT_I06_FULL` answers it.
pub(crate) fn render_document(db: &Db, key: &str) -> Value {
    let Some(row) = db.tables.get("I06").and_then(|rows| rows.get(&vec![key.to_owned()])) else {
        return json!({});
    };
    let mut header = render_row(&I06, row);
    header.insert("I07".into(), Value::Array(children(db, "I07", key)));
    json!({ "I06": header })
}
