//! `GET accountviewdata`: the business object, paging (`PageNumber` from 1, `PageSize` up to
//! 1000), filters (`FilterControlSourceN`, `FilterOperatorN`, `FilterValueTypeN`,
//! `FilterValueN`; all must hold) with FoxPro date literals for dates, and `SortFields`.
use crate::data::Row;
use serde_json::Value;
use std::cmp::Ordering;
use std::collections::HashMap;
use tiltas_accountview::wire::{self, BusinessObject, Filter};

/// A read, parsed from the query string.
#[derive(Debug)]
pub(crate) struct Query {
    pub object: BusinessObject,
    pub page: usize,
    pub size: usize,
    pub filters: Vec<Filter>,
    pub sort: Vec<String>,
    pub descending: bool,
}

/// A refusal: AccountView's error number and message.
pub(crate) type Refusal = (i64, String);

fn number(query: &HashMap<String, String>, name: &str, default: usize) -> Result<usize, Refusal> {
    match query.get(name) {
        None => Ok(default),
        Some(text) => text
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|value| *value >= 1)
            .ok_or_else(|| (1002, format!("{name} must be a whole number from 1, not {text:?}"))),
    }
}

impl Query {
    /// The read a query string asks for, checked against the table's fields (`columns`).
    pub fn parse(query: &HashMap<String, String>, columns: &dyn Fn(&str) -> bool) -> Result<Query, Refusal> {
        let object_code = query
            .get("BusinessObject")
            .ok_or((1001, "BusinessObject is required".to_owned()))?;
        let object = wire::business_object(object_code)
            .ok_or_else(|| (1001, format!("Business object {object_code} does not exist")))?;
        let page = number(query, "PageNumber", 1)?;
        let size = number(query, "PageSize", 100)?;
        if size > wire::MAX_PAGE_SIZE {
            return Err((1002, format!("PageSize may be at most {}", wire::MAX_PAGE_SIZE)));
        }
        let mut filters = Vec::new();
        for n in 1.. {
            let Some(field) = query.get(&format!("FilterControlSource{n}")) else {
                break;
            };
            let get = |name: &str| query.get(&format!("{name}{n}")).cloned().unwrap_or_default();
            let filter = Filter {
                field: field.trim().to_uppercase(),
                operator: get("FilterOperator"),
                value_type: get("FilterValueType"),
                value: get("FilterValue"),
            };
            if !columns(&filter.field) {
                return Err((
                    1003,
                    format!("Field {} does not exist in table {}", filter.field, object.table),
                ));
            }
            if !["Equal", "Contains", "DateOnOrAfterDate"].contains(&filter.operator.as_str()) {
                return Err((
                    1004,
                    format!("FilterOperator{n} {:?} is not supported", filter.operator),
                ));
            }
            if filter.operator == "DateOnOrAfterDate"
                && (filter.value_type != "T" || wire::parse_foxpro_date(&filter.value).is_none())
            {
                return Err((
                    1005,
                    format!(
                        "FilterValue{n} {:?} is not a date: dates are FoxPro literals {{^YYYY-MM-DD}} with FilterValueType T",
                        filter.value
                    ),
                ));
            }
            filters.push(filter);
        }
        let sort: Vec<String> = query
            .get("SortFields")
            .map(|fields| {
                fields
                    .split(',')
                    .map(|field| field.trim().to_uppercase())
                    .filter(|f| !f.is_empty())
                    .collect()
            })
            .unwrap_or_else(|| vec![object.key.to_owned()]);
        if let Some(unknown) = sort.iter().find(|field| !columns(field)) {
            return Err((
                1003,
                format!("Sort field {unknown} does not exist in table {}", object.table),
            ));
        }
        let descending = query
            .get("SortOrder")
            .is_some_and(|order| order.eq_ignore_ascii_case("Descending"));
        Ok(Query {
            object,
            page,
            size,
            filters,
            sort,
            descending,
        })
    }

    /// The page of `rows` this query selects.
    pub fn select(&self, rows: &[Row]) -> Vec<Value> {
        let mut kept: Vec<&Row> = rows
            .iter()
            .filter(|row| self.filters.iter().all(|filter| holds(filter, row)))
            .collect();
        kept.sort_by(|a, b| {
            let order = self
                .sort
                .iter()
                .map(|field| compare(a.get(field), b.get(field)))
                .find(|order| *order != Ordering::Equal)
                .unwrap_or(Ordering::Equal);
            if self.descending {
                order.reverse()
            } else {
                order
            }
        });
        kept.into_iter()
            .skip((self.page - 1) * self.size)
            .take(self.size)
            .map(|row| Value::Object(row.clone()))
            .collect()
    }
}

fn as_text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(text)) => text.trim().to_owned(),
        Some(Value::Number(number)) => number.to_string(),
        Some(Value::Bool(flag)) => flag.to_string(),
        _ => String::new(),
    }
}

fn compare(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a.and_then(Value::as_f64), b.and_then(Value::as_f64)) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => as_text(a).to_lowercase().cmp(&as_text(b).to_lowercase()),
    }
}

fn holds(filter: &Filter, row: &Row) -> bool {
    let value = as_text(row.get(&filter.field));
    match filter.operator.as_str() {
        "Equal" if filter.value_type == "N" => {
            value.parse::<f64>().ok() == filter.value.trim().parse::<f64>().ok() && !value.is_empty()
        }
        "Equal" => value.eq_ignore_ascii_case(filter.value.trim()),
        "Contains" => value.to_lowercase().contains(&filter.value.trim().to_lowercase()),
        "DateOnOrAfterDate" => match (
            chrono::NaiveDate::parse_from_str(&value, "%Y-%m-%d").ok(),
            wire::parse_foxpro_date(&filter.value),
        ) {
            (Some(date), Some(since)) => date >= since,
            _ => false,
        },
        _ => false,
    }
}
