//! AccountView.net's wire shapes, shared with the simulator: business objects and their tables,
//! the filter parameters of `GET accountviewdata`, FoxPro date literals (`{^2024-05-01}`),
//! answers keyed by table (one row an object, many an array), positional write bodies
//! (`Values` per field definition, `HeaderId` → the header's `RowId`) and the error body
//! `{"ErrorType","ErrorNumbers","ErrorMessage"}`.
use chrono::NaiveDate;
use serde_json::{json, Map, Value};

/// The data endpoint, relative to the API's base (`…/api/v3/`).
pub const DATA_PATH: &str = "accountviewdata";
/// The token endpoint, relative to the API's base.
pub const TOKEN_PATH: &str = "token";
/// The authorisation page, relative to the API's base.
pub const AUTHORIZE_PATH: &str = "authorize";
/// The field every table dates its rows' last change in (day precision).
pub const CHANGED: &str = "CNG_DATE";
/// The largest `PageSize` the data endpoint takes [I].
pub const MAX_PAGE_SIZE: usize = 1000;

/// A business object Tiltas uses: its code, its (header) table, the table's key field, its
/// detail table and when the table was last changed (`CNG_DATE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusinessObject {
    /// `AR1`, `AK1`, …
    pub code: &'static str,
    /// The table rows come back under (`ARTICLE`).
    pub table: &'static str,
    /// The field that names a row (`ART_CODE`).
    pub key: &'static str,
    /// The detail table of a header-and-lines object (`SO_LINE`).
    pub detail: Option<&'static str>,
}

/// Articles (simple, configurable parents and their variants, `MAIN_ART` naming the parent).
pub const ARTICLES: BusinessObject = BusinessObject {
    code: "AR1",
    table: "ARTICLE",
    key: "ART_CODE",
    detail: None,
};
/// Article groups.
pub const ARTICLE_GROUPS: BusinessObject = BusinessObject {
    code: "AG1",
    table: "ART_GRP",
    key: "AG_CODE",
    detail: None,
};
/// Debtors: companies (with contact persons) and persons.
pub const DEBTORS: BusinessObject = BusinessObject {
    code: "AK1",
    table: "CONTACT",
    key: "SUB_NR",
    detail: Some("CONTACT_PERSON"),
};
/// Stock per article and warehouse, with what sales orders reserve [I].
pub const STOCK: BusinessObject = BusinessObject {
    code: "AW1",
    table: "ART_WH",
    key: "ART_CODE",
    detail: None,
};
/// Price lists per customer group, with their lines (price or discount per article) [I].
pub const PRICE_LISTS: BusinessObject = BusinessObject {
    code: "PL1",
    table: "PRICE_LST",
    key: "PL_CODE",
    detail: Some("PRICE_LN"),
};
/// Sales orders: header and lines.
pub const SALES_ORDERS: BusinessObject = BusinessObject {
    code: "SO1",
    table: "SO_HDR",
    key: "ORD_NR",
    detail: Some("SO_LINE"),
};

/// Sales invoices: header and lines, shaped as sales orders [I].
pub const SALES_INVOICES: BusinessObject = BusinessObject {
    code: "SI1",
    table: "SI_HDR",
    key: "INV_NR",
    detail: Some("SI_LINE"),
};

/// Every business object the simulator serves.
pub const BUSINESS_OBJECTS: [BusinessObject; 7] = [
    ARTICLES,
    ARTICLE_GROUPS,
    DEBTORS,
    STOCK,
    PRICE_LISTS,
    SALES_ORDERS,
    SALES_INVOICES,
];

/// The business object of a code, case-insensitively.
pub fn business_object(code: &str) -> Option<BusinessObject> {
    BUSINESS_OBJECTS
        .into_iter()
        .find(|object| object.code.eq_ignore_ascii_case(code))
}

/// A field of a write's table definition: its name and FoxPro type (C text, N number, D date,
/// L logical).
pub type FieldDef = (&'static str, &'static str);

/// The header fields Tiltas writes for a debtor, in `Values` order.
pub const DEBTOR_FIELDS: [FieldDef; 14] = [
    ("RowId", "C"),
    ("SUB_NR", "C"),
    ("ACCT_NAME", "C"),
    ("CONTACT_TYPE", "C"),
    ("ADDRESS1", "C"),
    ("POST_CODE", "C"),
    ("CITY", "C"),
    ("CNT_CODE", "C"),
    ("MAIL_BUS", "C"),
    ("TEL_BUS", "C"),
    ("VAT_NO", "C"),
    ("REV_ACCT", "C"),
    ("VAT_CODE", "C"),
    ("CUST_GRP", "C"),
];
/// The contact person fields of a company debtor.
pub const CONTACT_PERSON_FIELDS: [FieldDef; 5] = [
    ("RowId", "C"),
    ("HeaderId", "C"),
    ("CP_FIRST", "C"),
    ("CP_LAST", "C"),
    ("CP_MAIL", "C"),
];
/// The header fields of a sales order.
pub const ORDER_FIELDS: [FieldDef; 13] = [
    ("RowId", "C"),
    ("ORD_NR", "C"),
    ("ORD_DATE", "D"),
    ("SUB_NR", "C"),
    ("EMPL_NR", "C"),
    ("PAY_COND", "C"),
    ("PAY_METH", "C"),
    ("SHIP_METH", "C"),
    ("ORD_STAT", "C"),
    ("CURRENCY", "C"),
    ("WH_CODE", "C"),
    ("TOT_EXCL", "N"),
    ("REMARK", "C"),
];
/// The header fields of a sales invoice [I].
pub const INVOICE_FIELDS: [FieldDef; 13] = [
    ("RowId", "C"),
    ("INV_NR", "C"),
    ("INV_DATE", "D"),
    ("SUB_NR", "C"),
    ("EMPL_NR", "C"),
    ("PAY_COND", "C"),
    ("PAY_METH", "C"),
    ("SHIP_METH", "C"),
    ("INV_STAT", "C"),
    ("CURRENCY", "C"),
    ("WH_CODE", "C"),
    ("TOT_EXCL", "N"),
    ("REMARK", "C"),
];
/// The line fields of a sales order or invoice.
pub const ORDER_LINE_FIELDS: [FieldDef; 8] = [
    ("RowId", "C"),
    ("HeaderId", "C"),
    ("ART_CODE", "C"),
    ("ART_DESC", "C"),
    ("QTY", "N"),
    ("PX_SELL", "N"),
    ("VAT_PCT", "N"),
    ("AMOUNT", "N"),
];

/// A FoxPro date literal, as AccountView's filters take dates: `{^2024-05-01}`.
pub fn foxpro_date(date: NaiveDate) -> String {
    format!("{{^{}}}", date.format("%Y-%m-%d"))
}

/// The date of a FoxPro date literal `{^YYYY-MM-DD}`.
pub fn parse_foxpro_date(text: &str) -> Option<NaiveDate> {
    let inner = text.trim().strip_prefix("{^")?.strip_suffix('}')?;
    NaiveDate::parse_from_str(inner.trim(), "%Y-%m-%d").ok()
}

/// One filter of a read: `FilterControlSourceN`, `FilterOperatorN`, `FilterValueTypeN`,
/// `FilterValueN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// The field (`CNG_DATE`).
    pub field: String,
    /// `Equal`, `Contains`, `DateOnOrAfterDate`.
    pub operator: String,
    /// `C` text, `N` number, `T` date (a FoxPro literal).
    pub value_type: String,
    /// The value.
    pub value: String,
}

impl Filter {
    /// `field` equal to the text `value`.
    pub fn equal(field: &str, value: &str) -> Filter {
        Filter {
            field: field.to_owned(),
            operator: "Equal".to_owned(),
            value_type: "C".to_owned(),
            value: value.to_owned(),
        }
    }

    /// `field` (a date) on or after `date`.
    pub fn on_or_after(field: &str, date: NaiveDate) -> Filter {
        Filter {
            field: field.to_owned(),
            operator: "DateOnOrAfterDate".to_owned(),
            value_type: "T".to_owned(),
            value: foxpro_date(date),
        }
    }
}

/// The query of one page: business object, page, filters (numbered from 1) and sort order
/// (by change date, then by key).
pub fn read_query(object: &BusinessObject, page: usize, size: usize, filters: &[Filter]) -> Vec<(String, String)> {
    let mut query = vec![
        ("BusinessObject".to_owned(), object.code.to_owned()),
        ("PageNumber".to_owned(), page.to_string()),
        ("PageSize".to_owned(), size.to_string()),
    ];
    for (index, filter) in filters.iter().enumerate() {
        let n = index + 1;
        query.push((format!("FilterControlSource{n}"), filter.field.clone()));
        query.push((format!("FilterOperator{n}"), filter.operator.clone()));
        query.push((format!("FilterValueType{n}"), filter.value_type.clone()));
        query.push((format!("FilterValue{n}"), filter.value.clone()));
    }
    // In change order, then by key: a page's newest change is then a cursor from which a
    // later read (one resuming a run that died between pages) finds every row not yet read.
    query.push(("SortFields".to_owned(), format!("{CHANGED},{}", object.key)));
    query.push(("SortOrder".to_owned(), "Ascending".to_owned()));
    query
}

/// The rows of an answer keyed by `table`: an array, or one object for a single row; an
/// answer without the table is `None` (not AccountView's answer).
pub fn rows(answer: &Value, table: &str) -> Option<Vec<Map<String, Value>>> {
    let found = answer
        .as_object()?
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(table))
        .map(|(_, value)| value)?;
    match found {
        Value::Array(items) => Some(items.iter().filter_map(|item| item.as_object().cloned()).collect()),
        Value::Object(row) => Some(vec![row.clone()]),
        Value::Null => Some(Vec::new()),
        _ => None,
    }
}

/// Rows as AccountView answers them: one row as an object, several (or none) as an array.
pub fn answer(table: &str, rows: Vec<Value>) -> Value {
    let mut body = Map::new();
    let value = if rows.len() == 1 {
        rows.into_iter().next().unwrap_or(Value::Null)
    } else {
        Value::Array(rows)
    };
    body.insert(table.to_owned(), value);
    Value::Object(body)
}

/// A write body: one header row (its values in `header_fields` order, `RowId` first) and
/// detail rows (`RowId`, `HeaderId`, …) in `detail_fields` order.
pub fn write_body(
    object: &BusinessObject,
    book_date: NaiveDate,
    header_fields: &[FieldDef],
    header: Vec<Value>,
    detail_fields: &[FieldDef],
    details: Vec<Vec<Value>>,
) -> Value {
    let definition = |name: &str, fields: &[FieldDef]| {
        json!({
            "Name": name,
            "Fields": fields.iter().map(|(name, kind)| json!({ "Name": name, "FieldType": kind })).collect::<Vec<_>>(),
        })
    };
    let mut table = json!({ "Definition": definition(object.table, header_fields) });
    let mut data = json!({ "Data": { "Rows": [{ "Values": header }] } });
    if let Some(detail) = object.detail {
        table["DetailDefinitions"] = json!([definition(detail, detail_fields)]);
        let rows: Vec<Value> = details.into_iter().map(|values| json!({ "Values": values })).collect();
        data["DetailData"] = json!([{ "Rows": rows }]);
    }
    json!({
        "BookDate": book_date.format("%Y-%m-%d").to_string(),
        "BusinessObject": object.code,
        "Table": table,
        "TableData": data,
    })
}

/// AccountView's error body.
pub fn error_body(kind: &str, numbers: &[i64], message: &str) -> Value {
    json!({ "ErrorType": kind, "ErrorNumbers": numbers, "ErrorMessage": message })
}

/// The message of an error body: `ErrorType (numbers): ErrorMessage`.
pub fn error_text(body: &Value) -> Option<String> {
    let message = body.get("ErrorMessage")?.as_str()?.trim();
    let kind = body.get("ErrorType").and_then(Value::as_str).unwrap_or("Error");
    let numbers: Vec<String> = body
        .get("ErrorNumbers")
        .and_then(Value::as_array)
        .map(|numbers| numbers.iter().map(Value::to_string).collect())
        .unwrap_or_default();
    Some(if numbers.is_empty() {
        format!("{kind}: {message}")
    } else {
        format!("{kind} ({}): {message}", numbers.join(", "))
    })
}

/// A field of a row as text (numbers as written), trimmed; `None` when empty.
pub fn text(row: &Map<String, Value>, field: &str) -> Option<String> {
    match row.get(field)? {
        Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}
