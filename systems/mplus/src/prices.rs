//! Writing B2B price lists to MplusKASSA. The Q-API keeps a customer group's prices as price
//! groups: the groups are set up in the back office and listed by `getPriceGroupList` (no
//! operation creates one), and an article's price in each group is the article's
//! `priceGroupList`, written with `updateProduct` — the official WSDL's only write of group
//! prices. A canonical price list becomes, per article it lists, that article's entries of
//! the list's price group (one per quantity break); the article's entries of other groups are
//! sent back unchanged, since a `priceGroupList` replaces them all. Setting them is absolute,
//! so a repeat changes nothing, and an article whose entries already match is not written.
//! The list's price group is its `group` (map a customer group to the group's number in the
//! flow), else its code when that is a number. A line that cannot be written (an SKU that is no
//! article number, an article the till lacks, a fractional discount) is refused alone: the
//! other lines are written and the list's dead letter names the refused lines.
use crate::client::Client;
use crate::target::{decimal, invalid, string};
use crate::wire;
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use tiltas_connector::soap::Element;
use tiltas_connector::ConnectorError;

/// Article numbers asked for in one `getProducts`.
const LOOKUP_CHUNK: usize = 100;

/// One entry of an article's `priceGroupList`; amounts in cents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupPrice {
    pub(crate) group: i64,
    pub(crate) price_incl: Option<i64>,
    pub(crate) price_excl: Option<i64>,
    pub(crate) discount_percentage: Option<i64>,
    pub(crate) minimum_amount: Option<i64>,
}

impl GroupPrice {
    /// Whether the till's entry says what the list's says (the till adds the price with VAT).
    fn matches(&self, wanted: &GroupPrice) -> bool {
        self.group == wanted.group
            && self.price_excl == wanted.price_excl
            && self.discount_percentage == wanted.discount_percentage
            && self.minimum_amount == wanted.minimum_amount
    }

    fn element(&self) -> Element {
        let mut entry =
            Element::new("priceGroup").with_child(Element::leaf("priceGroupNumber", self.group.to_string()));
        for (name, value) in [
            ("priceIncl", self.price_incl),
            ("priceExcl", self.price_excl),
            ("discountPercentage", self.discount_percentage),
            ("minimumAmount", self.minimum_amount),
        ] {
            if let Some(value) = value {
                entry = entry.with_child(Element::leaf(name, value.to_string()));
            }
        }
        entry
    }
}

/// An article as the price write needs it: its product and its group prices.
#[derive(Debug, Clone)]
pub(crate) struct ArticlePrices {
    product_number: String,
    prices: Vec<GroupPrice>,
}

/// The till's price groups: number → description.
pub(crate) async fn price_groups(client: &Client) -> Result<BTreeMap<i64, String>, ConnectorError> {
    let answer = client.call(&Element::new("getPriceGroupList")).await?;
    Ok(answer
        .children_named("priceGroup")
        .filter_map(|group| {
            let number = group.child_text("priceGroupNumber")?.trim().parse().ok()?;
            let description = group.child_text("description").unwrap_or_default().trim().to_string();
            Some((number, description))
        })
        .collect())
}

fn number(element: &Element, name: &str) -> Option<i64> {
    element.child_text(name)?.trim().parse().ok()
}

/// The articles of these numbers with their group prices; one call per hundred numbers.
pub(crate) async fn articles(
    client: &Client,
    numbers: &[i64],
) -> Result<(HashMap<i64, ArticlePrices>, u64), ConnectorError> {
    let mut found = HashMap::new();
    let mut calls = 0;
    for chunk in numbers.chunks(LOOKUP_CHUNK) {
        let mut query = Element::new("request");
        for number in chunk {
            query = query.with_child(Element::leaf("articleNumbers", number.to_string()));
        }
        // The WSDL requires pluNumbers (empty: no filter), after the article numbers.
        let query = query.with_child(Element::new("pluNumbers"));
        calls += 1;
        let answer = client.call(&Element::new("getProducts").with_child(query)).await?;
        for product in answer
            .child("productList")
            .into_iter()
            .flat_map(|list| list.children_named("product"))
        {
            let product_number = product
                .child_text("productNumber")
                .unwrap_or_default()
                .trim()
                .to_string();
            for article in product
                .child("articleList")
                .into_iter()
                .flat_map(|list| list.children_named("article"))
            {
                let Some(article_number) = number(article, "articleNumber") else {
                    continue;
                };
                let prices = article
                    .child("priceGroupList")
                    .into_iter()
                    .flat_map(|list| list.children_named("priceGroup"))
                    .filter_map(|entry| {
                        Some(GroupPrice {
                            group: number(entry, "priceGroupNumber")?,
                            price_incl: number(entry, "priceIncl"),
                            price_excl: number(entry, "priceExcl"),
                            discount_percentage: number(entry, "discountPercentage"),
                            minimum_amount: number(entry, "minimumAmount"),
                        })
                    })
                    .collect();
                found.insert(
                    article_number,
                    ArticlePrices {
                        product_number: product_number.clone(),
                        prices,
                    },
                );
            }
        }
    }
    Ok((found, calls))
}

/// The price group a list is written to, or why it has none (naming the fix).
pub(crate) fn group_of(payload: &Value, groups: &BTreeMap<i64, String>) -> Result<i64, ConnectorError> {
    let code = string(payload, "code").unwrap_or_default();
    let (field, named) = match string(payload, "group") {
        Some(group) => ("group", group),
        None => ("code", code.clone()),
    };
    let known = groups
        .iter()
        .map(|(number, description)| format!("{number} ({description})"))
        .collect::<Vec<_>>()
        .join(", ");
    let Ok(group) = named.parse::<i64>() else {
        return Err(invalid(format!(
            "price list \"{code}\": {field} \"{named}\" is not a MplusKASSA price group number: map `group` to the \
             number of the till's price group in the flow (values = {{ group = {{ \"{named}\" = \"1\" }} }}); the till has {known}"
        ))
        .at_field(field));
    };
    if !groups.contains_key(&group) {
        return Err(invalid(format!(
            "price list \"{code}\": MplusKASSA has no price group {group}: set it up in the till's back office or map \
             `group` to one it has: {known}"
        ))
        .at_field(field));
    }
    Ok(group)
}

/// A whole number of a line's `field` that MplusKASSA keeps as an `xsd:int`.
fn whole(line: &Value, field: &str, what: &str) -> Result<Option<i64>, String> {
    let value = decimal(line, field).map_err(|error| error.message)?;
    match value {
        None => Ok(None),
        Some(value) if value.fract() != Decimal::ZERO => Err(format!(
            "{field} {value} is not a whole number, as MplusKASSA keeps a group's {what}: round it in the flow"
        )),
        Some(value) => i64::try_from(value.trunc().mantissa())
            .map(Some)
            .map_err(|_| format!("{field} {value} is too large for MplusKASSA")),
    }
}

/// A list line as the entry it sets: (SKU, group price), or why it cannot be one.
pub(crate) fn entry(line: &Value, group: i64) -> Result<(String, GroupPrice), String> {
    let sku = string(line, "sku").ok_or("the line has no sku")?;
    let price_excl = match decimal(line, "price").map_err(|error| error.message)? {
        None => None,
        Some(price) => Some(wire::to_cents(price).ok_or(format!("price {price} is too large for MplusKASSA"))?),
    };
    let discount_percentage = whole(line, "discount_percent", "discount percentage")?;
    let minimum_amount = whole(line, "min_quantity", "minimum amount")?;
    if price_excl.is_none() && discount_percentage.is_none() {
        return Err(format!(
            "the line of SKU \"{sku}\" has neither a price nor a discount_percent"
        ));
    }
    Ok((
        sku,
        GroupPrice {
            group,
            price_incl: None,
            price_excl,
            discount_percentage,
            minimum_amount,
        },
    ))
}

/// The `updateProduct` that gives an article `wanted` as its entries of `group`, or `None`
/// when it already has them.
pub(crate) fn update(number: i64, article: &ArticlePrices, group: i64, wanted: &[GroupPrice]) -> Option<Element> {
    let current: Vec<&GroupPrice> = article.prices.iter().filter(|price| price.group == group).collect();
    let unchanged = current.len() == wanted.len()
        && wanted
            .iter()
            .all(|wanted| current.iter().any(|price| price.matches(wanted)));
    if unchanged {
        return None;
    }
    let mut list = Element::new("priceGroupList");
    for price in article.prices.iter().filter(|price| price.group != group).chain(wanted) {
        list.children.push(price.element());
    }
    let written = Element::new("article")
        .with_child(Element::leaf("articleNumber", number.to_string()))
        .with_child(list);
    let product = Element::new("product")
        .with_child(Element::leaf("productNumber", article.product_number.clone()))
        .with_child(Element::new("articleList").with_child(written));
    Some(Element::new("updateProduct").with_child(product))
}

/// A refused line: where it is in the list and why.
struct Refused {
    index: usize,
    /// The line's field at fault: `sku` or the whole line (`None`).
    field: Option<&'static str>,
    reason: String,
}

/// Writes one price list to `group`: each line's article gets the line's entry, lines that
/// cannot be written are refused alone. `Ok(Err(error))`: the list's dead letter (the other
/// lines written); `Err`: a failure of the whole list (a call that failed).
pub(crate) async fn write_list(
    client: &Client,
    article_number: &(dyn Fn(&str) -> Result<i64, String> + Sync),
    payload: &Value,
    group: i64,
    api_calls: &mut u64,
) -> Result<Result<(), ConnectorError>, ConnectorError> {
    let code = string(payload, "code").unwrap_or_default();
    let mut refused = Vec::new();
    // Article number → (line indexes, entries), in the list's order.
    let mut wanted: BTreeMap<i64, (Vec<usize>, Vec<GroupPrice>)> = BTreeMap::new();
    let lines = payload
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (index, line) in lines.iter().enumerate() {
        let numbered = entry(line, group)
            .map_err(|reason| (None, reason))
            .and_then(|(sku, price)| Ok((article_number(&sku).map_err(|reason| (Some("sku"), reason))?, price)));
        match numbered {
            Ok((number, price)) => {
                let slot = wanted.entry(number).or_default();
                slot.0.push(index);
                slot.1.push(price);
            }
            Err((field, reason)) => refused.push(Refused { index, field, reason }),
        }
    }
    let numbers: Vec<i64> = wanted.keys().copied().collect();
    let (found, calls) = articles(client, &numbers).await?;
    *api_calls += calls;
    let mut written = 0;
    for (number, (indexes, prices)) in &wanted {
        let Some(article) = found.get(number) else {
            for index in indexes {
                refused.push(Refused {
                    index: *index,
                    field: Some("sku"),
                    reason: format!(
                        "article {number} is not in MplusKASSA: write the product to the till first (the products flow)                          or drop the line from the price list"
                    ),
                });
            }
            continue;
        };
        let Some(call) = update(*number, article, group, prices) else {
            written += indexes.len();
            continue;
        };
        *api_calls += 1;
        let answer = client.call(&call).await?;
        let result = answer.child_text("result").unwrap_or_default().trim().to_string();
        if result.ends_with("-RESULT-OK") {
            written += indexes.len();
            continue;
        }
        let message = answer.child_text("errorMessage").unwrap_or_default().trim().to_string();
        for index in indexes {
            refused.push(Refused {
                index: *index,
                field: None,
                reason: format!("updateProduct of article {number} answered {result}: {message}"),
            });
        }
    }
    if refused.is_empty() {
        return Ok(Ok(()));
    }
    Ok(Err(dead_letter(&code, group, &lines, refused, written)))
}

/// The dead letter of a list some of whose lines were refused: each refused line, why, and
/// the field of the first.
fn dead_letter(code: &str, group: i64, lines: &[Value], mut refused: Vec<Refused>, written: usize) -> ConnectorError {
    refused.sort_by_key(|refused| refused.index);
    let first = match refused[0].field {
        Some(field) => format!("items[{}].{field}", refused[0].index),
        None => format!("items[{}]", refused[0].index),
    };
    let reasons: Vec<String> = refused
        .iter()
        .map(|refused| {
            let sku = lines[refused.index].get("sku").and_then(Value::as_str).unwrap_or("?");
            format!("line {} (SKU \"{sku}\"): {}", refused.index + 1, refused.reason)
        })
        .collect();
    invalid(format!(
        "price list \"{code}\" (price group {group}): {} of its {} lines refused, {written} written — {}",
        refused.len(),
        lines.len(),
        reasons.join("; ")
    ))
    .at_field(first)
}
