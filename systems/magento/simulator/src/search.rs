//! `searchCriteria`: filter groups (OR within a group, AND across groups; `filter_groups` or the
//! spec's camelCase `filterGroups`), sort orders, `pageSize` and `currentPage` — and Magento's
//! quirk that a page past the end answers the last page again (magento/magento2#3787).
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::cmp::Ordering;
use std::collections::BTreeMap;

#[derive(Debug, Default, Clone)]
struct Filter {
    field: String,
    value: String,
    condition: String,
}

#[derive(Debug, Default)]
struct Criteria {
    groups: BTreeMap<usize, BTreeMap<usize, Filter>>,
    sort: BTreeMap<usize, (String, String)>,
    page_size: Option<usize>,
    current_page: Option<usize>,
}

/// The numbers in `[…]` of a key such as `searchCriteria[filter_groups][0][filters][1][field]`.
fn parts(key: &str) -> Vec<String> {
    key.split('[')
        .skip(1)
        .map(|part| part.trim_end_matches(']').to_owned())
        .collect()
}

fn criteria(query: &str) -> Criteria {
    let mut criteria = Criteria::default();
    let url = reqwest::Url::parse(&format!("http://x/?{query}"));
    let Ok(url) = url else { return criteria };
    for (key, value) in url.query_pairs() {
        if !key.starts_with("searchCriteria") {
            continue;
        }
        let parts = parts(&key);
        let part = |index: usize| parts.get(index).map(String::as_str);
        match (part(0), part(1), part(2), part(3), part(4)) {
            (Some("filter_groups" | "filterGroups"), Some(group), Some("filters"), Some(filter), Some(name)) => {
                let (Ok(group), Ok(filter)) = (group.parse(), filter.parse()) else {
                    continue;
                };
                let entry = criteria.groups.entry(group).or_default().entry(filter).or_default();
                match name {
                    "field" => entry.field = value.into_owned(),
                    "value" => entry.value = value.into_owned(),
                    "condition_type" | "conditionType" => entry.condition = value.into_owned(),
                    _ => {}
                }
            }
            (Some("sortOrders" | "sort_orders"), Some(index), Some(name), _, _) => {
                let Ok(index) = index.parse() else { continue };
                let entry = criteria
                    .sort
                    .entry(index)
                    .or_insert_with(|| (String::new(), "ASC".to_owned()));
                match name {
                    "field" => entry.0 = value.into_owned(),
                    "direction" => entry.1 = value.to_uppercase(),
                    _ => {}
                }
            }
            (Some("pageSize" | "page_size"), None, ..) => criteria.page_size = value.parse().ok(),
            (Some("currentPage" | "current_page"), None, ..) => criteria.current_page = value.parse().ok(),
            _ => {}
        }
    }
    criteria
}

/// A record's field as text for comparing: top-level, `entity_id` as `id`, or a custom attribute.
fn field(item: &Value, name: &str) -> Option<String> {
    let value = item
        .get(name)
        .or_else(|| if name == "entity_id" { item.get("id") } else { None })
        .cloned()
        .or_else(|| {
            item.get("custom_attributes")?
                .as_array()?
                .iter()
                .find(|attribute| attribute.get("attribute_code").and_then(Value::as_str) == Some(name))
                .and_then(|attribute| attribute.get("value").cloned())
        })?;
    match value {
        Value::Null => None,
        Value::String(text) => Some(text),
        other => Some(other.to_string()),
    }
}

/// Numbers compare as numbers, the rest (dates `YYYY-MM-DD HH:MM:SS` included) as text,
/// ignoring case as MySQL's default collation does.
fn compare(left: &str, right: &str) -> Ordering {
    match (left.parse::<i64>(), right.parse::<i64>()) {
        (Ok(left), Ok(right)) => left.cmp(&right),
        _ => left.to_lowercase().cmp(&right.to_lowercase()),
    }
}

fn like(text: &str, pattern: &str) -> bool {
    let text = text.to_lowercase();
    let pattern = pattern.to_lowercase();
    let pieces: Vec<&str> = pattern.split('%').collect();
    if pieces.len() == 1 {
        return text == pattern;
    }
    let mut rest = text.as_str();
    for (index, piece) in pieces.iter().enumerate() {
        if piece.is_empty() {
            continue;
        }
        if index == 0 {
            let Some(after) = rest.strip_prefix(piece) else {
                return false;
            };
            rest = after;
        } else if index == pieces.len() - 1 {
            return rest.ends_with(piece);
        } else {
            let Some(at) = rest.find(piece) else { return false };
            rest = &rest[at + piece.len()..];
        }
    }
    true
}

fn matches(item: &Value, filter: &Filter) -> bool {
    let actual = field(item, &filter.field);
    let condition = if filter.condition.is_empty() {
        "eq"
    } else {
        filter.condition.as_str()
    };
    let list = || filter.value.split(',').map(str::trim).collect::<Vec<_>>();
    match (condition, actual.as_deref()) {
        ("null", actual) => actual.is_none(),
        ("notnull", actual) => actual.is_some(),
        (_, None) => condition == "neq" || condition == "nin" || condition == "nlike",
        ("eq", Some(actual)) => compare(actual, &filter.value) == Ordering::Equal,
        ("neq", Some(actual)) => compare(actual, &filter.value) != Ordering::Equal,
        ("gt", Some(actual)) => compare(actual, &filter.value) == Ordering::Greater,
        ("gteq" | "from", Some(actual)) => compare(actual, &filter.value) != Ordering::Less,
        ("lt", Some(actual)) => compare(actual, &filter.value) == Ordering::Less,
        ("lteq" | "to", Some(actual)) => compare(actual, &filter.value) != Ordering::Greater,
        ("in", Some(actual)) => list().iter().any(|value| compare(actual, value) == Ordering::Equal),
        ("nin", Some(actual)) => !list().iter().any(|value| compare(actual, value) == Ordering::Equal),
        ("like", Some(actual)) => like(actual, &filter.value),
        ("nlike", Some(actual)) => !like(actual, &filter.value),
        ("finset", Some(actual)) => actual.split(',').any(|part| part.trim() == filter.value),
        _ => false,
    }
}

/// The answer to a search over `items`: `{"items","search_criteria","total_count"}`.
pub(crate) fn answer(mut items: Vec<Value>, query: &str) -> Response {
    let criteria = criteria(query);
    items.retain(|item| {
        criteria
            .groups
            .values()
            .all(|group| group.values().any(|filter| matches(item, filter)))
    });
    if !criteria.sort.is_empty() {
        items.sort_by(|left, right| {
            for (field_name, direction) in criteria.sort.values() {
                let order = match (field(left, field_name), field(right, field_name)) {
                    (Some(left), Some(right)) => compare(&left, &right),
                    (left, right) => left.is_some().cmp(&right.is_some()),
                };
                let order = if direction == "DESC" { order.reverse() } else { order };
                if order != Ordering::Equal {
                    return order;
                }
            }
            Ordering::Equal
        });
    }
    let total_count = items.len();
    let page_size = criteria.page_size.filter(|size| *size > 0);
    let page = match page_size {
        None => items,
        Some(size) => {
            let last_page = total_count.div_ceil(size).max(1);
            // A page past the end is the last page again.
            let current = criteria.current_page.unwrap_or(1).clamp(1, last_page);
            items.into_iter().skip((current - 1) * size).take(size).collect()
        }
    };
    let groups: Vec<Value> = criteria
        .groups
        .values()
        .map(|group| {
            json!({ "filters": group.values().map(|filter| json!({ "field": filter.field, "value": filter.value, "condition_type": if filter.condition.is_empty() { "eq" } else { filter.condition.as_str() } })).collect::<Vec<_>>() })
        })
        .collect();
    let mut search_criteria = json!({ "filter_groups": groups });
    if let Some(size) = page_size {
        search_criteria["page_size"] = json!(size);
        search_criteria["current_page"] = json!(criteria.current_page.unwrap_or(1));
    }
    if !criteria.sort.is_empty() {
        search_criteria["sort_orders"] = json!(criteria
            .sort
            .values()
            .map(|(field, direction)| json!({ "field": field, "direction": direction }))
            .collect::<Vec<_>>());
    }
    Json(json!({ "items": page, "search_criteria": search_criteria, "total_count": total_count })).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_compare_numbers_as_numbers_and_match_like_patterns() {
        let item = json!({"id": 10, "sku": "MT-00010", "updated_at": "2026-01-01 00:00:10"});
        let filter = |field: &str, value: &str, condition: &str| Filter {
            field: field.to_owned(),
            value: value.to_owned(),
            condition: condition.to_owned(),
        };
        assert!(matches(&item, &filter("entity_id", "9", "gt")));
        assert!(!matches(&item, &filter("entity_id", "10", "gt")));
        assert!(matches(&item, &filter("updated_at", "2026-01-01 00:00:10", "gteq")));
        assert!(matches(&item, &filter("sku", "MT-%", "like")));
        assert!(matches(&item, &filter("sku", "A,MT-00010", "in")));
    }
}
