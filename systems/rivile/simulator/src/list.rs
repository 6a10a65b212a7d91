//! `GET_*_LIST`: `fil`, pages of 100 in primary-key order, `list` A nesting.
use crate::*;

/// `GET_*_LIST`: filter, sort by key, page, render.
pub(crate) fn list(sim: &RivileSim, call: &Call) -> Result<Value, String> {
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
