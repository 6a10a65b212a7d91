//! Rivile's error answers in English. Rivile answers in Lithuanian (`I07_KODAS_IS 1:
//! Nenurodytas padalinys`), once per document line; [`describe`] turns an answer into one
//! message that says what is wrong, where, and the fix — naming the flow or connection setting
//! or the field to map — keeps Rivile's own text, and summarises lines that repeat an error
//! ("lines 1–3"). The tables [`DATA_ERRORS`] and [`ANSWERS`] hold what is known; the table in
//! `systems/rivile/README.md` lists the same entries (a test keeps them in step). Codes come
//! from the protocol notes (`shared/protocols/erp-and-suppliers.md` §1: 5008, 2011, 19017
//! seen in clients) and the simulator (the rest, inferred); an unknown code keeps Rivile's text
//! as it is, with the column.
use serde_json::Value;

/// A known `dataErrors[]` entry: Rivile's code on some columns, in English, with the fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KnownDataError {
    /// Rivile's `code` ("1": a required value is missing, per column).
    pub code: &'static str,
    /// The columns (`tag`) it is known on; empty: any column.
    pub columns: &'static [&'static str],
    /// The start of Rivile's `message` when one code means two things (3002 product or
    /// service); empty: any message.
    pub text: &'static str,
    /// What it means, as a short phrase that a place follows ("no warehouse" for line 1).
    pub meaning: &'static str,
    /// What to change: the setting or the field to map. `COLUMN` stands for the column.
    pub fix: &'static str,
}

/// Rivile's data errors (HTTP 400, `errors[].dataErrors[]`), first match wins.
pub(crate) const DATA_ERRORS: &[KnownDataError] = &[
    KnownDataError {
        code: "1",
        columns: &["I07_KODAS_IS", "I06_KODAS_IS"],
        text: "",
        meaning: "no warehouse",
        fix: "set `defaults.warehouse` on the flow or `warehouse` on the connection",
    },
    KnownDataError {
        code: "1",
        columns: &["I06_KODAS_KS"],
        text: "",
        meaning: "no client",
        fix: "map `customer.code` to a Rivile client code (N08_KODAS_KS) or set `default_customer` on the flow",
    },
    KnownDataError {
        code: "1",
        columns: &["I07_KODAS"],
        text: "",
        meaning: "no product code",
        fix: "give every order line a `sku` that is a Rivile product code (N17_KODAS_PS): map `lines.sku`",
    },
    KnownDataError {
        code: "1",
        columns: &["I06_KODAS_VL"],
        text: "",
        meaning: "no currency on a foreign-currency document",
        fix: "map the order's `currency` (a code Rivile knows, e.g. USD)",
    },
    KnownDataError {
        code: "1",
        columns: &["N17_KODAS_PS"],
        text: "",
        meaning: "no product code",
        fix: "map `sku` to the product's code, or set `skip_without_code = true` on the flow",
    },
    KnownDataError {
        code: "1",
        columns: &["N08_KODAS_KS"],
        text: "",
        meaning: "no client code",
        fix: "map `code` (or `email`, from which Tiltas derives a code)",
    },
    KnownDataError {
        code: "1",
        columns: &["I06_KODAS_PO"],
        text: "",
        meaning: "no document system number to change",
        fix: "replay the dead letter: Tiltas looks the document up by its number again",
    },
    KnownDataError {
        code: "1",
        columns: &[],
        text: "",
        meaning: "no value for COLUMN, which Rivile requires",
        fix: "set it through the flow's `map` (`raw.COLUMN`) or `defaults`",
    },
    KnownDataError {
        code: "2",
        columns: &[],
        text: "",
        meaning: "the record to change is no longer in Rivile",
        fix: "it was probably deleted there: create it in Rivile again, then replay the dead letter",
    },
    KnownDataError {
        code: "3001",
        columns: &["I06_KODAS_KS"],
        text: "",
        meaning: "unknown client",
        fix: "create the client in Rivile first, map `customer.code` to an existing client code, or set `default_customer` on the flow",
    },
    KnownDataError {
        code: "3002",
        columns: &["I07_KODAS"],
        text: "Nerasta paslauga",
        meaning: "unknown service",
        fix: "`shipping_service`, `fee_service` and `discount_service` on the flow's `to` must be N25 codes that exist in Rivile",
    },
    KnownDataError {
        code: "3002",
        columns: &["I07_KODAS"],
        text: "",
        meaning: "unknown product",
        fix: "create the product in Rivile, map the line's `sku` to an existing product code, or set `create_missing_products = true` on the flow",
    },
    KnownDataError {
        code: "3003",
        columns: &["I06_KODAS_IS", "I07_KODAS_IS"],
        text: "",
        meaning: "unknown warehouse",
        fix: "use a padalinys code that exists in Rivile (N07) in `defaults.warehouse` on the flow, `warehouse` on the flow's `to` or the connection, or the order's mapped `warehouse`",
    },
    KnownDataError {
        code: "3004",
        columns: &["I06_KODAS_VL"],
        text: "",
        meaning: "unknown currency",
        fix: "correct the order's `currency` (or its value map `values.currency`), or remove it from `currencies` on the flow's `to`",
    },
    KnownDataError {
        code: "5008",
        columns: &[],
        text: "",
        meaning: "duplicate: a product with this code already exists in Rivile",
        fix: "set `match_on = \"sku\"` on the flow so the existing product is found and handled per `on_duplicate`",
    },
    KnownDataError {
        code: "2011",
        columns: &[],
        text: "",
        meaning: "duplicate: a client with this code already exists in Rivile",
        fix: "set `match_on = \"code\"` on the flow so the existing client is found and handled per `on_duplicate`",
    },
    KnownDataError {
        code: "19017",
        columns: &[],
        text: "",
        meaning: "duplicate: this N25 sales/purchase code already exists in Rivile",
        fix: "use another code, or update the existing one instead of creating it",
    },
    KnownDataError {
        code: "8152",
        columns: &[],
        text: "",
        meaning: "a value longer than COLUMN holds",
        fix: "shorten it in the flow's `map` (e.g. an expression that cuts it)",
    },
    KnownDataError {
        code: "8114",
        columns: &[],
        text: "",
        meaning: "a value in COLUMN that is not a number",
        fix: "map a number to it",
    },
];

/// A known answer without data errors: by HTTP status and/or Rivile's `errorMessage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KnownAnswer {
    /// The HTTP status it comes with, when that identifies it.
    pub status: Option<u16>,
    /// A piece of `errorMessage` (case-insensitive) that identifies it; empty: any.
    pub text: &'static str,
    /// What it means.
    pub meaning: &'static str,
    /// What to change.
    pub fix: &'static str,
}

/// Rivile's answers without data errors, first match wins.
pub(crate) const ANSWERS: &[KnownAnswer] = &[
    KnownAnswer {
        status: None,
        text: "api key is not valid",
        meaning: "Rivile does not accept the API key (wrong, expired or not sent)",
        fix: "check the connection's `api_key`: the whole key issued with the service, `USERABC.xxxx`",
    },
    KnownAnswer {
        status: None,
        text: "rights",
        meaning: "the API key's GAMA user may not call this method",
        fix: "give that user the right to the method in Rivile's API settings, or set `api_key` on the connection to a key of a user who has it",
    },
    KnownAnswer {
        status: Some(401),
        text: "",
        meaning: "Rivile refused the API key",
        fix: "check the connection's `api_key`",
    },
    KnownAnswer {
        status: Some(403),
        text: "",
        meaning: "the API key's GAMA user may not do this",
        fix: "give that user the rights in Rivile, or check the connection's `api_key`",
    },
    KnownAnswer {
        status: Some(429),
        text: "",
        meaning: "too many requests: Rivile allows 10 per second per key, bursts of 30",
        fix: "Tiltas waits and retries; set `rate_limit = \"8/s\"` on the connection to stay under the limit",
    },
    KnownAnswer {
        status: None,
        text: "invalid column name",
        meaning: "a column Rivile does not know",
        fix: "check the `raw.*` keys of the flow's `map` against the Rivile table's columns",
    },
    KnownAnswer {
        status: None,
        text: "unknown method",
        meaning: "the gateway does not know the method",
        fix: "check that the connection's `base_url` is the Manorivile API v2 endpoint (…/client/v2)",
    },
    KnownAnswer {
        status: Some(500),
        text: "",
        meaning: "Rivile's gateway failed",
        fix: "Tiltas retries; if it persists, check the gateway's status with Rivile",
    },
];

impl KnownDataError {
    fn matches(&self, code: &str, column: &str, message: &str) -> bool {
        self.code == code
            && (self.columns.is_empty() || self.columns.iter().any(|known| known.eq_ignore_ascii_case(column)))
            && (self.text.is_empty() || message.trim_start().starts_with(self.text))
    }
}

/// One `dataErrors[]` entry and the document line it concerns (`data` = `I07[2]` → 2).
#[derive(Debug, Clone, PartialEq, Eq)]
struct DataError {
    line: Option<u32>,
    column: String,
    code: String,
    message: String,
}

/// The items of a list Rivile may send as an array, as one object, or (XML converted to JSON)
/// wrapped in `{ "item": … }`.
fn items<'a>(value: Option<&'a Value>, wrapper: &str) -> Vec<&'a Value> {
    match value {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(Value::Object(object)) => match object.get(wrapper) {
            Some(inner) => items(Some(inner), wrapper),
            None => vec![value.unwrap_or(&Value::Null)],
        },
        _ => Vec::new(),
    }
}

fn field(value: &Value, name: &str) -> String {
    match value.get(name) {
        Some(Value::String(text)) => text.trim().to_owned(),
        Some(Value::Number(number)) => number.to_string(),
        _ => String::new(),
    }
}

/// Every data error of an answer, in Rivile's order.
fn data_errors(body: &Value) -> Vec<DataError> {
    let mut found = Vec::new();
    for error in items(body.get("errors"), "error") {
        let data = field(error, "data");
        let line = data
            .split_once('[')
            .and_then(|(_, rest)| rest.strip_suffix(']'))
            .and_then(|number| number.trim().parse().ok());
        for detail in items(error.get("dataErrors"), "dataError") {
            found.push(DataError {
                line,
                column: field(detail, "tag"),
                code: field(detail, "code"),
                message: field(detail, "message"),
            });
        }
    }
    found
}

/// `1`, `1–3`, `1–2, 5` for sorted distinct line numbers.
fn ranges(lines: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let start = lines[index];
        let mut end = start;
        while index + 1 < lines.len() && lines[index + 1] == end + 1 {
            index += 1;
            end = lines[index];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}–{end}")
        });
        index += 1;
    }
    parts.join(", ")
}

/// One explained problem: `no warehouse for lines 1–3 — set … (Rivile: I07_KODAS_IS 1
/// "Nenurodytas padalinys")`.
fn explain(error: &DataError, lines: &[u32]) -> String {
    let place = match lines {
        [] => String::new(),
        [line] => format!(" for line {line}"),
        _ => format!(" for lines {}", ranges(lines)),
    };
    let rivile = format!("{} {} \"{}\"", error.column, error.code, error.message);
    match DATA_ERRORS
        .iter()
        .find(|known| known.matches(&error.code, &error.column, &error.message))
    {
        Some(known) => format!(
            "{}{place} — {} (Rivile: {rivile})",
            known.meaning.replace("COLUMN", &error.column),
            known.fix.replace("COLUMN", &error.column)
        ),
        None => {
            let place = if place.is_empty() {
                " the record".to_owned()
            } else {
                place.replacen(" for", "", 1)
            };
            format!("Rivile refused{place}: {rivile}")
        }
    }
}

/// A failed call's answer in English: each data error explained once with the lines it
/// concerns, else the known answer for the status and `errorMessage`, else Rivile's text.
pub(crate) fn describe(status: u16, body: &Value) -> String {
    let errors = data_errors(body);
    if !errors.is_empty() {
        // The same error on several lines is one problem; the order of first appearance stays.
        let mut groups: Vec<(DataError, Vec<u32>)> = Vec::new();
        for error in errors {
            let key = DataError {
                line: None,
                ..error.clone()
            };
            let header = error.line.is_none();
            match groups
                .iter_mut()
                .find(|(known, lines)| *known == key && lines.is_empty() == header)
            {
                Some((_, lines)) => lines.extend(error.line),
                None => groups.push((key, error.line.into_iter().collect())),
            }
        }
        return groups
            .iter_mut()
            .map(|(error, lines)| {
                lines.sort_unstable();
                lines.dedup();
                explain(error, lines)
            })
            .collect::<Vec<_>>()
            .join("; ");
    }
    let text = answer_text(body);
    match known_answer(status, &text) {
        Some(answer) if text.is_empty() => format!("{} — {}", answer.meaning, answer.fix),
        Some(answer) => format!("{} — {} (Rivile: \"{text}\")", answer.meaning, answer.fix),
        None => text,
    }
}

/// Rivile's own text of an answer without data errors (at most 300 characters of anything else).
fn answer_text(body: &Value) -> String {
    body.get("errorMessage")
        .or_else(|| body.get("error"))
        .and_then(Value::as_str)
        .map_or_else(
            || match body {
                Value::String(text) => text.chars().take(300).collect(),
                other => other.to_string().chars().take(300).collect(),
            },
            |text| text.trim().to_owned(),
        )
}

/// The known answer for a status and Rivile's text, first match wins.
fn known_answer(status: u16, text: &str) -> Option<&'static KnownAnswer> {
    let lowered = text.to_lowercase();
    ANSWERS.iter().find(|answer| {
        answer.status.is_none_or(|known| known == status)
            && (answer.text.is_empty() || lowered.contains(answer.text))
            && (answer.status.is_some() || !answer.text.is_empty())
    })
}

/// The canonical field a Rivile column holds, where that is one field of the record Tiltas
/// sends. Document lines are not mapped to an order line's index: service lines (shipping,
/// discounts) are numbered among them.
fn canonical_field(column: &str) -> Option<&'static str> {
    match column {
        "I06_KODAS_KS" => Some("customer.code"),
        "I06_KODAS_VL" => Some("currency"),
        "I06_KODAS_IS" | "I07_KODAS_IS" => Some("warehouse"),
        "I07_KODAS" => Some("lines.sku"),
        "N17_KODAS_PS" => Some("sku"),
        "N08_KODAS_KS" => Some("code"),
        _ => None,
    }
}

/// The parts of a failed call's answer beside its sentence ([`describe`]), for the dead letter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AnswerParts {
    /// The document lines of the first data error (`document lines 1–3`).
    pub location: Option<String>,
    /// The canonical field of the first data error's column, where it maps to one.
    pub field: Option<String>,
    /// The fix of the first data error, or of the known answer.
    pub fix: Option<String>,
}

/// Where, which field and the fix of an answer: from its first data error (a record is filed
/// under one field; the sentence lists them all), else from the known answer.
pub(crate) fn parts(status: u16, body: &Value) -> AnswerParts {
    let errors = data_errors(body);
    let Some(first) = errors.first() else {
        return AnswerParts {
            fix: known_answer(status, &answer_text(body)).map(|answer| answer.fix.to_owned()),
            ..AnswerParts::default()
        };
    };
    let same =
        |error: &DataError| error.column == first.column && error.code == first.code && error.message == first.message;
    let mut lines: Vec<u32> = errors
        .iter()
        .filter(|error| same(error))
        .filter_map(|error| error.line)
        .collect();
    lines.sort_unstable();
    lines.dedup();
    let location = match lines.as_slice() {
        [] => None,
        [line] => Some(format!("document line {line}")),
        _ => Some(format!("document lines {}", ranges(&lines))),
    };
    let fix = DATA_ERRORS
        .iter()
        .find(|known| known.matches(&first.code, &first.column, &first.message))
        .map(|known| known.fix.replace("COLUMN", &first.column));
    AnswerParts {
        location,
        field: canonical_field(&first.column).map(str::to_owned),
        fix,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_data_error_names_its_lines_canonical_field_and_fix_apart() {
        let answer = per_line(&[1, 2, 3], "I07_KODAS", "1", "Nenurodyta prekė");
        let found = parts(400, &answer);
        assert_eq!(found.location.as_deref(), Some("document lines 1–3"));
        assert_eq!(found.field.as_deref(), Some("lines.sku"));
        assert!(
            found.fix.as_deref().is_some_and(|fix| fix.contains("map `lines.sku`")),
            "{found:?}"
        );
    }

    #[test]
    fn a_known_column_gives_its_field_and_fix_and_an_unknown_one_neither() {
        let answer = per_line(&[1], "I07_KODAS_IS", "1", "Nenurodytas padalinys");
        let found = parts(400, &answer);
        assert_eq!(found.field.as_deref(), Some("warehouse"));
        assert!(found
            .fix
            .as_deref()
            .is_some_and(|fix| fix.contains("defaults.warehouse")));
        let unknown = per_line(&[1], "I07_KITAS", "77", "Kažkas");
        assert_eq!(parts(400, &unknown).field, None);
        assert_eq!(parts(400, &unknown).fix, None);
    }

    /// An `EDIT_I06_FULL` answer with one data error per line, as Rivile sends them.
    fn per_line(lines: &[u32], tag: &str, code: &str, message: &str) -> Value {
        let errors: Vec<Value> = lines
            .iter()
            .map(|line| json!({"data": format!("I07[{line}]"), "dataErrors": [{"tag": tag, "code": code, "message": message}]}))
            .collect();
        json!({"id": "", "durationMs": "3", "errorMessage": "Data errors", "errors": errors})
    }

    fn header(data: &str, tag: &str, code: &str, message: &str) -> Value {
        json!({"errorMessage": "Data errors", "errors": [{"data": data, "dataErrors": [{"tag": tag, "code": code, "message": message}]}]})
    }

    /// One sample answer per entry of [`DATA_ERRORS`], with the exact message it becomes.
    fn data_samples() -> Vec<(Value, &'static str)> {
        vec![
            (
                per_line(&[1], "I07_KODAS_IS", "1", "Nenurodytas padalinys"),
                "no warehouse for line 1 — set `defaults.warehouse` on the flow or `warehouse` on the connection \
                 (Rivile: I07_KODAS_IS 1 \"Nenurodytas padalinys\")",
            ),
            (
                header("I06", "I06_KODAS_KS", "1", "Nenurodytas klientas"),
                "no client — map `customer.code` to a Rivile client code (N08_KODAS_KS) or set `default_customer` \
                 on the flow (Rivile: I06_KODAS_KS 1 \"Nenurodytas klientas\")",
            ),
            (
                per_line(&[2], "I07_KODAS", "1", "Nenurodyta prekė"),
                "no product code for line 2 — give every order line a `sku` that is a Rivile product code \
                 (N17_KODAS_PS): map `lines.sku` (Rivile: I07_KODAS 1 \"Nenurodyta prekė\")",
            ),
            (
                header("I06", "I06_KODAS_VL", "1", "Nenurodyta valiuta"),
                "no currency on a foreign-currency document — map the order's `currency` (a code Rivile knows, \
                 e.g. USD) (Rivile: I06_KODAS_VL 1 \"Nenurodyta valiuta\")",
            ),
            (
                header("N17", "N17_KODAS_PS", "1", "N17_KODAS_PS is required"),
                "no product code — map `sku` to the product's code, or set `skip_without_code = true` on the flow \
                 (Rivile: N17_KODAS_PS 1 \"N17_KODAS_PS is required\")",
            ),
            (
                header("N08", "N08_KODAS_KS", "1", "N08_KODAS_KS is required"),
                "no client code — map `code` (or `email`, from which Tiltas derives a code) \
                 (Rivile: N08_KODAS_KS 1 \"N08_KODAS_KS is required\")",
            ),
            (
                header("I06", "I06_KODAS_PO", "1", "I06_KODAS_PO is required"),
                "no document system number to change — replay the dead letter: Tiltas looks the document up by \
                 its number again (Rivile: I06_KODAS_PO 1 \"I06_KODAS_PO is required\")",
            ),
            (
                header("I06", "I06_DOK_NR", "1", "Nenurodytas numeris"),
                "no value for I06_DOK_NR, which Rivile requires — set it through the flow's `map` (`raw.I06_DOK_NR`) \
                 or `defaults` (Rivile: I06_DOK_NR 1 \"Nenurodytas numeris\")",
            ),
            (
                header("N17", "N17_KODAS_PS", "2", "N17 b200 does not exist"),
                "the record to change is no longer in Rivile — it was probably deleted there: create it in Rivile \
                 again, then replay the dead letter (Rivile: N17_KODAS_PS 2 \"N17 b200 does not exist\")",
            ),
            (
                header("I06", "I06_KODAS_KS", "3001", "Nerastas klientas '000'"),
                "unknown client — create the client in Rivile first, map `customer.code` to an existing client \
                 code, or set `default_customer` on the flow (Rivile: I06_KODAS_KS 3001 \"Nerastas klientas '000'\")",
            ),
            (
                per_line(&[4], "I07_KODAS", "3002", "Nerasta paslauga 'SIUNTA'"),
                "unknown service for line 4 — `shipping_service`, `fee_service` and `discount_service` on the flow's \
                 `to` must be N25 codes that exist in Rivile (Rivile: I07_KODAS 3002 \"Nerasta paslauga 'SIUNTA'\")",
            ),
            (
                per_line(&[1], "I07_KODAS", "3002", "Nerasta prekė 'NERA'"),
                "unknown product for line 1 — create the product in Rivile, map the line's `sku` to an existing \
                 product code, or set `create_missing_products = true` on the flow \
                 (Rivile: I07_KODAS 3002 \"Nerasta prekė 'NERA'\")",
            ),
            (
                header("I06", "I06_KODAS_IS", "3003", "Nerastas padalinys 'XX'"),
                "unknown warehouse — use a padalinys code that exists in Rivile (N07) in `defaults.warehouse` on the \
                 flow, `warehouse` on the flow's `to` or the connection, or the order's mapped `warehouse` \
                 (Rivile: I06_KODAS_IS 3003 \"Nerastas padalinys 'XX'\")",
            ),
            (
                header("I06", "I06_KODAS_VL", "3004", "Nerasta valiuta 'XYZ'"),
                "unknown currency — correct the order's `currency` (or its value map `values.currency`), or remove \
                 it from `currencies` on the flow's `to` (Rivile: I06_KODAS_VL 3004 \"Nerasta valiuta 'XYZ'\")",
            ),
            (
                header("N17", "N17_KODAS_PS", "5008", "Egzistuoja tokia prekė"),
                "duplicate: a product with this code already exists in Rivile — set `match_on = \"sku\"` on the flow \
                 so the existing product is found and handled per `on_duplicate` \
                 (Rivile: N17_KODAS_PS 5008 \"Egzistuoja tokia prekė\")",
            ),
            (
                header("N08", "N08_KODAS_KS", "2011", "Egzistuoja toks kliento kodas"),
                "duplicate: a client with this code already exists in Rivile — set `match_on = \"code\"` on the flow \
                 so the existing client is found and handled per `on_duplicate` \
                 (Rivile: N08_KODAS_KS 2011 \"Egzistuoja toks kliento kodas\")",
            ),
            (
                header("N25", "N25_KODAS_BS", "19017", "Egzistuoja toks kodas"),
                "duplicate: this N25 sales/purchase code already exists in Rivile — use another code, or update the \
                 existing one instead of creating it (Rivile: N25_KODAS_BS 19017 \"Egzistuoja toks kodas\")",
            ),
            (
                header("N17", "N17_PAV", "8152", "String or binary data would be truncated"),
                "a value longer than N17_PAV holds — shorten it in the flow's `map` (e.g. an expression that cuts it) \
                 (Rivile: N17_PAV 8152 \"String or binary data would be truncated\")",
            ),
            (
                per_line(&[3], "I07_KIEKIS", "8114", "Error converting data type to numeric: du"),
                "a value in I07_KIEKIS that is not a number for line 3 — map a number to it \
                 (Rivile: I07_KIEKIS 8114 \"Error converting data type to numeric: du\")",
            ),
        ]
    }

    #[test]
    fn every_known_data_error_reads_in_english_with_its_fix_and_rivile_text() {
        for (body, expected) in data_samples() {
            assert_eq!(describe(400, &body), expected);
        }
    }

    #[test]
    fn every_entry_of_the_data_error_table_has_a_wording_test() {
        let covered: Vec<&KnownDataError> = data_samples()
            .iter()
            .flat_map(|(body, _)| data_errors(body))
            .filter_map(|error| {
                DATA_ERRORS
                    .iter()
                    .find(|known| known.matches(&error.code, &error.column, &error.message))
            })
            .collect();
        for entry in DATA_ERRORS {
            assert!(covered.contains(&entry), "no wording test for {entry:?}");
        }
    }

    /// One sample per entry of [`ANSWERS`].
    fn answer_samples() -> Vec<(u16, Value, &'static str)> {
        vec![
            (
                401,
                json!({"id": "", "durationMs": "0", "errorMessage": "Api key is not valid"}),
                "Rivile does not accept the API key (wrong, expired or not sent) — check the connection's `api_key`: \
                 the whole key issued with the service, `USERABC.xxxx` (Rivile: \"Api key is not valid\")",
            ),
            (
                403,
                json!({"errorMessage": "No rights for method EDIT_I06_FULL"}),
                "the API key's GAMA user may not call this method — give that user the right to the method in \
                 Rivile's API settings, or set `api_key` on the connection to a key of a user who has it \
                 (Rivile: \"No rights for method EDIT_I06_FULL\")",
            ),
            (
                401,
                Value::String(String::new()),
                "Rivile refused the API key — check the connection's `api_key`",
            ),
            (
                403,
                json!({"errorMessage": "Forbidden"}),
                "the API key's GAMA user may not do this — give that user the rights in Rivile, or check the \
                 connection's `api_key` (Rivile: \"Forbidden\")",
            ),
            (
                429,
                json!({"errorMessage": "Too many requests"}),
                "too many requests: Rivile allows 10 per second per key, bursts of 30 — Tiltas waits and retries; \
                 set `rate_limit = \"8/s\"` on the connection to stay under the limit (Rivile: \"Too many requests\")",
            ),
            (
                400,
                json!({"errorMessage": "Invalid column name 'N17_KILMX'."}),
                "a column Rivile does not know — check the `raw.*` keys of the flow's `map` against the Rivile \
                 table's columns (Rivile: \"Invalid column name 'N17_KILMX'.\")",
            ),
            (
                400,
                json!({"errorMessage": "Unknown method EDIT_X"}),
                "the gateway does not know the method — check that the connection's `base_url` is the Manorivile \
                 API v2 endpoint (…/client/v2) (Rivile: \"Unknown method EDIT_X\")",
            ),
            (
                500,
                json!({"status": 500, "error": "Internal Server Error", "message": "No message available"}),
                "Rivile's gateway failed — Tiltas retries; if it persists, check the gateway's status with Rivile \
                 (Rivile: \"Internal Server Error\")",
            ),
        ]
    }

    #[test]
    fn every_known_answer_reads_in_english_with_its_fix_and_rivile_text() {
        for (status, body, expected) in answer_samples() {
            assert_eq!(describe(status, &body), expected);
        }
    }

    #[test]
    fn every_entry_of_the_answer_table_has_a_wording_test() {
        for (index, entry) in ANSWERS.iter().enumerate() {
            assert!(
                answer_samples()
                    .iter()
                    .any(|(_, _, expected)| expected.starts_with(&format!("{} — ", entry.meaning))),
                "no wording test for ANSWERS[{index}] {entry:?}"
            );
        }
    }

    #[test]
    fn lines_repeating_an_error_are_summarised_once() {
        let body = per_line(&[1, 2, 3, 5], "I07_KODAS_IS", "1", "Nenurodytas padalinys");
        assert_eq!(
            describe(400, &body),
            "no warehouse for lines 1–3, 5 — set `defaults.warehouse` on the flow or `warehouse` on the connection \
             (Rivile: I07_KODAS_IS 1 \"Nenurodytas padalinys\")"
        );
    }

    #[test]
    fn different_errors_on_lines_stay_apart_in_order() {
        let mut body = per_line(&[1, 2], "I07_KODAS_IS", "1", "Nenurodytas padalinys");
        let extra = per_line(&[2], "I07_KODAS", "3002", "Nerasta prekė 'NERA'");
        if let (Some(Value::Array(errors)), Some(Value::Array(more))) = (body.get_mut("errors"), extra.get("errors")) {
            errors.extend(more.iter().cloned());
        }
        let message = describe(400, &body);
        let (first, second) = message.split_once("; ").unwrap_or_else(|| panic!("{message}"));
        assert!(first.starts_with("no warehouse for lines 1–2 — "), "{message}");
        assert!(second.starts_with("unknown product for line 2 — "), "{message}");
    }

    #[test]
    fn an_unknown_code_keeps_rivile_text_and_column() {
        assert_eq!(
            describe(400, &per_line(&[2, 3], "I07_NUOL", "4711", "Neleistina nuolaida")),
            "Rivile refused lines 2–3: I07_NUOL 4711 \"Neleistina nuolaida\""
        );
        assert_eq!(
            describe(400, &header("N17", "N17_KODAS_GS", "4712", "Nėra grupės")),
            "Rivile refused the record: N17_KODAS_GS 4712 \"Nėra grupės\""
        );
        assert_eq!(describe(400, &json!({"errorMessage": "Kita klaida"})), "Kita klaida");
    }

    #[test]
    fn xml_shaped_error_lists_are_read_too() {
        let body = json!({"errorMessage": "Data errors", "errors": {"error": [
            {"data": "I07[1]", "dataErrors": {"dataError": {"tag": "I07_KODAS_IS", "code": "1", "message": "Nenurodytas padalinys"}}},
            {"data": "I07[2]", "dataErrors": {"dataError": [{"tag": "I07_KODAS_IS", "code": "1", "message": "Nenurodytas padalinys"}]}}
        ]}});
        assert!(
            describe(400, &body).starts_with("no warehouse for lines 1–2 — "),
            "{}",
            describe(400, &body)
        );
    }

    #[test]
    fn the_connector_docs_list_every_known_error() {
        let docs = include_str!("../README.md");
        for entry in DATA_ERRORS {
            assert!(
                docs.contains(&format!("| `{}` |", entry.code)) && docs.contains(entry.meaning),
                "systems/rivile/README.md does not list {entry:?}"
            );
        }
        for entry in ANSWERS {
            assert!(
                docs.contains(entry.meaning),
                "systems/rivile/README.md does not list {entry:?}"
            );
        }
    }
}
