//! List requests as the WooCommerce CRUD controllers answer them: argument checks
//! (`rest_invalid_param`), the common filters, ordering, and `page`/`per_page` paging with
//! `X-WP-Total`, `X-WP-TotalPages` and a `Link` header carrying prev/next.
use super::{clock, query, Record, WcError};
use rust_decimal::Decimal;
use std::str::FromStr;

/// The WordPress default and the most a page may hold.
const DEFAULT_PER_PAGE: usize = 10;
const MAX_PER_PAGE: usize = 100;

/// How a resource's list may be ordered.
pub(super) struct Ordering {
    /// Accepted `orderby` values.
    pub allowed: &'static [&'static str],
    /// `orderby` when none is given.
    pub default: &'static str,
    /// `order` when none is given.
    pub default_desc: bool,
}

/// A checked list request.
#[derive(Debug)]
pub(super) struct ListParams {
    pub page: usize,
    pub per_page: usize,
    pub offset: Option<usize>,
    pub desc: bool,
    pub orderby: String,
    pub search: Option<String>,
    pub include: Vec<u64>,
    pub exclude: Vec<u64>,
    pub after: Option<i64>,
    pub before: Option<i64>,
    pub modified_after: Option<i64>,
    pub modified_before: Option<i64>,
    /// Every decoded query parameter, for the resource's own filters and the `Link` header.
    pub query: Vec<(String, String)>,
}

impl ListParams {
    /// A non-empty query parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .filter(|value| !value.is_empty())
    }

    /// A comma-separated list parameter (`status=processing,completed`).
    pub fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|value| {
                value
                    .split(',')
                    .map(|item| item.trim().to_owned())
                    .filter(|item| !item.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn integer(query: &[(String, String)], name: &str) -> Result<Option<i64>, WcError> {
    match query.iter().find(|(key, _)| key == name) {
        None => Ok(None),
        Some((_, value)) => value
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| WcError::invalid_param(name, format!("{name} is not of type integer."))),
    }
}

fn ids(query: &[(String, String)], name: &str) -> Result<Vec<u64>, WcError> {
    // `include=1,2` or PHP's `include[0]=1&include[1]=2`.
    let mut found = Vec::new();
    for (key, value) in query {
        if key == name || key.starts_with(&format!("{name}[")) {
            for item in value.split(',').map(str::trim).filter(|item| !item.is_empty()) {
                let id = item
                    .parse::<u64>()
                    .map_err(|_| WcError::invalid_param(name, format!("{name}[0] is not of type integer.")))?;
                found.push(id);
            }
        }
    }
    Ok(found)
}

/// `true`, `1`, `false`, `0`, as `rest_sanitize_boolean` reads them.
pub(super) fn boolean_text(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" | "" => Some(false),
        _ => None,
    }
}

/// Checks the common list arguments.
pub(super) fn parse(query: &[(String, String)], ordering: &Ordering) -> Result<ListParams, WcError> {
    let mut problems: Vec<(&str, String)> = Vec::new();
    let page = match integer(query, "page")? {
        None => 1,
        Some(page) if page >= 1 => page as usize,
        Some(_) => {
            problems.push(("page", "page must be greater than or equal to 1".into()));
            1
        }
    };
    let per_page = match integer(query, "per_page")? {
        None => DEFAULT_PER_PAGE,
        Some(per_page) if (1..=MAX_PER_PAGE as i64).contains(&per_page) => per_page as usize,
        Some(_) => {
            problems.push((
                "per_page",
                format!("per_page must be between 1 (inclusive) and {MAX_PER_PAGE} (inclusive)"),
            ));
            DEFAULT_PER_PAGE
        }
    };
    let offset = match integer(query, "offset")? {
        None => None,
        Some(offset) if offset >= 0 => Some(offset as usize),
        Some(_) => {
            problems.push(("offset", "offset must be greater than or equal to 0".into()));
            None
        }
    };
    let value = |name: &str| {
        query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let desc = match value("order") {
        None => ordering.default_desc,
        Some("desc") => true,
        Some("asc") => false,
        Some(_) => {
            problems.push(("order", "order is not one of asc, desc.".into()));
            ordering.default_desc
        }
    };
    let orderby = match value("orderby") {
        None => ordering.default.to_owned(),
        Some(orderby) if ordering.allowed.contains(&orderby) => orderby.to_owned(),
        Some(_) => {
            problems.push((
                "orderby",
                format!("orderby is not one of {}.", ordering.allowed.join(", ")),
            ));
            ordering.default.to_owned()
        }
    };
    let dates_are_gmt = match value("dates_are_gmt") {
        None => false,
        Some(text) => boolean_text(text).unwrap_or_else(|| {
            problems.push(("dates_are_gmt", "dates_are_gmt is not of type boolean.".into()));
            false
        }),
    };
    let mut date = |name: &'static str| -> Option<i64> {
        let text = value(name)?;
        let parsed = clock::parse_date_param(text, dates_are_gmt);
        if parsed.is_none() {
            problems.push((name, "Invalid date.".into()));
        }
        parsed
    };
    let after = date("after");
    let before = date("before");
    let modified_after = date("modified_after");
    let modified_before = date("modified_before");
    if !problems.is_empty() {
        return Err(WcError::invalid_params(&problems));
    }
    Ok(ListParams {
        page,
        per_page,
        offset,
        desc,
        orderby,
        search: value("search").filter(|text| !text.is_empty()).map(str::to_lowercase),
        include: ids(query, "include")?,
        exclude: ids(query, "exclude")?,
        after,
        before,
        modified_after,
        modified_before,
        query: query.to_vec(),
    })
}

/// Whether a record passes `include`, `exclude`, `search` (over `search_fields`) and the date
/// filters (strictly after / before, to the second, as `WP_Date_Query` compares).
pub(super) fn common_filter(id: u64, record: &Record, params: &ListParams, search_fields: &[&str]) -> bool {
    if !params.include.is_empty() && !params.include.contains(&id) {
        return false;
    }
    if params.exclude.contains(&id) {
        return false;
    }
    if let Some(search) = &params.search {
        let found = search_fields.iter().any(|field| {
            let mut value = record.body.get(*field);
            if let Some((outer, inner)) = field.split_once('.') {
                value = record.body.get(outer).and_then(|outer| outer.get(inner));
            }
            value
                .and_then(|value| value.as_str())
                .is_some_and(|text| text.to_lowercase().contains(search.as_str()))
        });
        if !found {
            return false;
        }
    }
    let outside = |at: i64, after: Option<i64>, before: Option<i64>| {
        after.is_some_and(|after| at <= after) || before.is_some_and(|before| at >= before)
    };
    !(outside(record.created, params.after, params.before)
        || outside(record.modified, params.modified_after, params.modified_before))
}

/// Sorts by `orderby` and `order`; ties fall back to the id in the same direction.
pub(super) fn sort(entries: &mut [(u64, &Record)], params: &ListParams, name_field: &str) {
    let text = |record: &Record, field: &str| record.str(field).to_lowercase();
    let price = |record: &Record| Decimal::from_str(record.str("price")).unwrap_or_default();
    let include_position = |id: u64| {
        params
            .include
            .iter()
            .position(|wanted| *wanted == id)
            .unwrap_or(usize::MAX)
    };
    entries.sort_by(|(left_id, left), (right_id, right)| {
        let primary = match params.orderby.as_str() {
            "id" => std::cmp::Ordering::Equal,
            "date" | "registered_date" => left.created.cmp(&right.created),
            "modified" => left.modified.cmp(&right.modified),
            "title" | "name" => text(left, name_field).cmp(&text(right, name_field)),
            "slug" => text(left, "slug").cmp(&text(right, "slug")),
            "price" => price(left).cmp(&price(right)),
            "menu_order" => left
                .body
                .get("menu_order")
                .and_then(|v| v.as_i64())
                .cmp(&right.body.get("menu_order").and_then(|v| v.as_i64())),
            "include" => include_position(*left_id).cmp(&include_position(*right_id)),
            _ => std::cmp::Ordering::Equal,
        };
        let ordering = primary.then(left_id.cmp(right_id));
        if params.desc && params.orderby != "include" {
            ordering.reverse()
        } else {
            ordering
        }
    });
}

/// One page of a list with the headers WordPress sends.
pub(super) struct Page {
    pub ids: Vec<u64>,
    pub total: usize,
    pub total_pages: usize,
    pub link: Option<String>,
}

/// Cuts the page out of the sorted ids; `base_url` is the collection's URL without a query.
pub(super) fn paginate(sorted: Vec<u64>, params: &ListParams, base_url: &str) -> Page {
    let total = sorted.len();
    let total_pages = total.div_ceil(params.per_page);
    let start = params
        .offset
        .unwrap_or((params.page - 1).saturating_mul(params.per_page));
    let ids: Vec<u64> = sorted.into_iter().skip(start).take(params.per_page).collect();
    // WordPress links keep every query parameter (the OAuth ones too) and set `page`.
    let link_to = |page: usize| {
        let mut pairs: Vec<(String, String)> = params.query.iter().filter(|(key, _)| key != "page").cloned().collect();
        pairs.push(("page".into(), page.to_string()));
        format!("{base_url}?{}", query::form_encode(&pairs))
    };
    let mut links = Vec::new();
    if params.page > 1 {
        let previous = (params.page - 1).min(total_pages).max(1);
        links.push(format!("<{}>; rel=\"prev\"", link_to(previous)));
    }
    if total_pages > params.page {
        links.push(format!("<{}>; rel=\"next\"", link_to(params.page + 1)));
    }
    Page {
        ids,
        total,
        total_pages,
        link: (!links.is_empty()).then(|| links.join(", ")),
    }
}
