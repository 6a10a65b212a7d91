//! Reading from MplusKASSA. Lists are paged by **sync marker**: every article, relation and
//! order carries the counter value of its last change (one counter per entity type); a request
//! names the lowest marker wanted (inclusive) and `syncMarkerLimit` caps the page, so the next
//! page asks for the last marker seen + 1. A page's position is `marker:N`.
use crate::client::Client;
use crate::wire;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use std::collections::{BTreeSet, HashMap};
use tiltas_connector::soap::Element;
use tiltas_connector::{ConnectorError, ErrorKind, Page, ReadRequest, RecordFailure, Source, SourceRecord};

/// What a source reads.
pub(crate) enum Reading {
    /// Articles (`getProducts`), one record per article.
    Products,
    /// Relations (`getRelations`).
    Relations,
    /// Article groups (`getArticleGroups`) as categories, subgroups beside their parents.
    Groups,
    /// Invoices (`getInvoices`) as sales-invoice documents.
    Invoices,
    /// Orders (`getOrders`) with their lines.
    Orders,
    /// The stock of one branch (`getStock`).
    Stock { branch: i64 },
}

/// A source on a MplusKASSA connection.
pub(crate) struct MplusSource {
    pub(crate) client: Client,
    pub(crate) reading: Reading,
}

/// The sync marker a page starts at: `marker:N`, or 0 (everything) for a new read.
fn start_marker(position: Option<&str>) -> Result<i64, ConnectorError> {
    let Some(position) = position else { return Ok(0) };
    position
        .strip_prefix("marker:")
        .and_then(|marker| marker.parse::<i64>().ok())
        .ok_or_else(|| {
            ConnectorError::new(
                ErrorKind::Fatal,
                format!("position \"{position}\" is not a MplusKASSA sync marker (marker:N)"),
            )
        })
}

/// The position after a page: the last marker + 1 while pages come full.
fn next_position(markers: &[i64], limit: usize) -> Option<String> {
    let last = markers.iter().max()?;
    (markers.len() >= limit).then(|| format!("marker:{}", last + 1))
}

fn marker_of(element: &Element) -> Option<i64> {
    element.child_text("syncMarker")?.trim().parse().ok()
}

fn text(element: &Element, name: &str) -> Option<String> {
    element
        .child_text(name)
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_string)
}

/// Every leaf child as a string, for `raw` (structures as their text parts).
fn raw_of(element: &Element) -> Value {
    let mut raw = Map::new();
    for child in &element.children {
        if child.children.is_empty() {
            raw.insert(child.name.clone(), Value::String(child.text.clone()));
        } else if child.name.ends_with("Timestamp") {
            if let Some(time) = wire::read_datetime(child) {
                raw.insert(child.name.clone(), Value::String(time.to_rfc3339()));
            }
        }
    }
    Value::Object(raw)
}

fn money(element: &Element, name: &str) -> Value {
    element
        .child_text(name)
        .and_then(wire::from_cents)
        .map_or(Value::Null, |amount| Value::String(amount.to_string()))
}

/// One article as a canonical product: its SKU is `extArticleId` when set (what Tiltas wrote
/// there), else the article number.
pub(crate) fn product(product: &Element, article: &Element) -> Result<SourceRecord, RecordFailure> {
    let number = text(article, "articleNumber");
    let Some(number) = number else {
        return Err(RecordFailure::new(
            "article without number",
            format!("product {}", text(product, "productNumber").unwrap_or_default()),
            "an article came without its articleNumber: it cannot be keyed; check the article in MplusKASSA",
            raw_of(article),
        ));
    };
    let sku = text(article, "extArticleId").unwrap_or_else(|| number.clone());
    let updated_at = article.child("changeTimestamp").and_then(wire::read_datetime);
    let mut raw = raw_of(article);
    if let Value::Object(fields) = &mut raw {
        fields.insert("productNumber".into(), json!(text(product, "productNumber")));
    }
    let groups: Vec<String> = product
        .children_named("groupNumbers")
        .map(|group| group.text.trim().to_string())
        .collect();
    let data = json!({
        "sku": sku,
        "name": text(article, "description").or_else(|| text(product, "description")),
        "long_description": text(product, "extraText"),
        "ean": text(article, "barcode"),
        "unit": text(article, "unit"),
        "price_net": money(article, "priceExcl"),
        "price_gross": money(article, "priceIncl"),
        "vat_rate": text(article, "vatPercentage"),
        "brand": text(article, "brandName"),
        "active": article.child_text("active").map(|active| active.trim() == "true"),
        "categories": groups,
        "updated_at": updated_at.map(|time| time.to_rfc3339()),
        "raw": raw,
    });
    Ok(SourceRecord {
        key: sku,
        updated_at,
        data,
    })
}

/// A relation as a canonical customer: its code is `extRelationId` when set, else the number.
pub(crate) fn customer(relation: &Element) -> Result<SourceRecord, RecordFailure> {
    let Some(number) = text(relation, "relationNumber") else {
        return Err(RecordFailure::new(
            "relation without number",
            "getRelations",
            "a relation came without its relationNumber: check it in MplusKASSA",
            raw_of(relation),
        ));
    };
    let code = text(relation, "extRelationId").unwrap_or(number);
    let updated_at = relation.child("changeTimestamp").and_then(wire::read_datetime);
    let address = |prefix: &str, line: &str| {
        let field = |name: &str| {
            if prefix.is_empty() {
                text(relation, name)
            } else {
                let mut name = name.to_string();
                name[..1].make_ascii_uppercase();
                text(relation, &format!("{prefix}{name}"))
            }
        };
        let (line1, postcode, city, country) =
            (text(relation, line), field("zipcode"), field("city"), field("country"));
        if line1.is_none() && city.is_none() && postcode.is_none() {
            return Value::Null;
        }
        json!({ "line1": line1, "postcode": postcode, "city": city, "country": country })
    };
    let company = text(relation, "companyName");
    // A company's person is its contact.
    let person = company.as_ref().and_then(|_| text(relation, "contact"));
    let data = json!({
        "code": code,
        "kind": if company.is_some() { "company" } else { "person" },
        "name": person.or_else(|| text(relation, "name")),
        "company_name": company,
        "company_code": text(relation, "commerceNumber"),
        "vat_code": text(relation, "vatNumber"),
        "email": text(relation, "email"),
        "phone": text(relation, "telephone").or_else(|| text(relation, "mobile")),
        "group": text(relation, "categoryId"),
        "billing": address("", "address"),
        "shipping": address("delivery", "deliveryAddress"),
        "updated_at": updated_at.map(|time| time.to_rfc3339()),
        "raw": raw_of(relation),
    });
    Ok(SourceRecord {
        key: code,
        updated_at,
        data,
    })
}

/// An order: its number is Mplus' `orderId`; lines in cents and scaled quantities; the
/// employee who took it and the branch it was entered in; its buyer from `relations` (the
/// page's relations by number, see [`buyer`]).
fn order(order: &Element, relations: &HashMap<String, Element>) -> Result<SourceRecord, RecordFailure> {
    let Some(id) = text(order, "orderId") else {
        return Err(RecordFailure::new(
            "order without id",
            "getOrders",
            "an order came without its orderId",
            raw_of(order),
        ));
    };
    let lines = lines(order, "order", &id)?;
    let created = order.child("entryTimestamp").and_then(wire::read_datetime);
    let buyer = buyer(order, relations);
    let data = json!({
        "number": id,
        "created_at": created.map(|time| time.to_rfc3339()),
        "customer": buyer.customer,
        "billing": buyer.billing,
        "shipping": buyer.shipping,
        "lines": lines,
        "totals": { "gross": money(order, "totalInclAmount"), "net": money(order, "totalExclAmount") },
        "employee": text(order, "employeeNumber"),
        "warehouse": text(order, "financialBranchNumber").or_else(|| text(order, "entryBranchNumber")),
        "updated_at": created.map(|time| time.to_rfc3339()),
        "raw": raw_of(order),
    });
    Ok(SourceRecord {
        key: id,
        updated_at: created,
        data,
    })
}

/// The relation number an order or invoice names, `None` for a walk-in sale (0 or absent).
fn relation_number(sale: &Element) -> Option<String> {
    text(sale, "relationNumber").filter(|number| number != "0")
}

/// An order's buyer as the order pipeline reads it.
struct Buyer {
    customer: Value,
    billing: Value,
    shipping: Value,
}

/// The buyer of an order from its relation: e-mail, name, company, phone, VAT and chamber of
/// commerce numbers, and the relation's address (billing) and delivery address (shipping). A
/// company relation's contact person is the buyer's name, split into `billing.first_name` and
/// `last_name` (first word, rest) — the pipeline makes that the company debtor's contact. No
/// `customer.code`: on an order that is the target's customer code (an order naming one keeps
/// it), and the relation number is none; it stays in `raw.relationNumber`. A walk-in sale has
/// no buyer; a relation the till no longer has leaves the order's `relationName` only.
fn buyer(order: &Element, relations: &HashMap<String, Element>) -> Buyer {
    let none = || Buyer {
        customer: Value::Null,
        billing: Value::Null,
        shipping: Value::Null,
    };
    let Some(number) = relation_number(order) else {
        return none();
    };
    let Some(relation) = relations.get(&number) else {
        tracing::warn!(relation = %number, "an order names a relation getRelations did not answer: its buyer is the order's relationName only");
        return Buyer {
            customer: json!({ "name": text(order, "relationName") }),
            ..none()
        };
    };
    let company = text(relation, "companyName");
    let person = match &company {
        Some(_) => text(relation, "contact"),
        None => text(relation, "name"),
    };
    let (first_name, last_name) = match (&company, &person) {
        (Some(_), Some(person)) => match person.split_once(' ') {
            Some((first, last)) => (Some(first.to_owned()), Some(last.trim().to_owned())),
            None => (Some(person.clone()), None),
        },
        _ => (None, None),
    };
    let address = |parts: [&str; 4]| {
        let [line1, postcode, city, country] = parts.map(|name| text(relation, name));
        if line1.is_none() && postcode.is_none() && city.is_none() {
            return None;
        }
        Some(json!({ "line1": line1, "postcode": postcode, "city": city, "country": country }))
    };
    let mut billing = address(["address", "zipcode", "city", "country"]).unwrap_or_else(|| json!({}));
    if let Value::Object(fields) = &mut billing {
        for (field, value) in [
            ("country", text(relation, "country")),
            ("name", person.clone()),
            ("company", company.clone()),
            ("first_name", first_name),
            ("last_name", last_name),
            ("email", text(relation, "email")),
        ] {
            if let Some(value) = value {
                fields.insert(field.to_owned(), Value::String(value));
            }
        }
    }
    Buyer {
        customer: json!({
            "email": text(relation, "email"),
            "name": person.or_else(|| text(relation, "name")),
            "company_name": company,
            "company_code": text(relation, "commerceNumber"),
            "vat_code": text(relation, "vatNumber"),
            "phone": text(relation, "telephone").or_else(|| text(relation, "mobile")),
        }),
        billing,
        shipping: address(["deliveryAddress", "deliveryZipcode", "deliveryCity", "deliveryCountry"])
            .unwrap_or(Value::Null),
    }
}

/// The lines of an order or invoice, `what` naming it in failures.
fn lines(sale: &Element, what: &str, id: &str) -> Result<Vec<Value>, RecordFailure> {
    let mut lines = Vec::new();
    let listed = sale
        .child("lineList")
        .into_iter()
        .flat_map(|list| list.children_named("line"));
    for (index, line) in listed.enumerate() {
        let failure = |message: String, field: String| {
            RecordFailure::new(id, format!("{what} {id}"), message, raw_of(sale)).at_field(field)
        };
        let Some(sku) = text(line, "articleNumber") else {
            return Err(failure(
                format!("line {} of {what} {id} has no articleNumber", index + 1),
                format!("lines[{index}].sku"),
            ));
        };
        let data = line.child("data");
        let quantity =
            data.and_then(|data| wire::from_scaled(data.child_text("quantity")?, data.child_text("decimalPlaces")));
        let Some(quantity) = quantity else {
            return Err(failure(
                format!("line {} of {what} {id} has no readable quantity", index + 1),
                format!("lines[{index}].quantity"),
            ));
        };
        let data_money = |name: &str| data.map_or(Value::Null, |data| money(data, name));
        let vat_rate = data.and_then(|data| text(data, "vatPercentage"));
        lines.push(json!({
            "sku": sku,
            "name": text(line, "text"),
            "quantity": quantity.to_string(),
            "price": data_money("priceExcl"),
            "vat_rate": vat_rate,
            "total": data.and_then(|data| line_net(data, vat_rate.as_deref())).map(|net| net.to_string()),
        }));
    }
    Ok(lines)
}

/// A line's total without VAT (the canonical line `total` is net): its `totalExclAmount`, else
/// its `totalInclAmount` less the VAT at its rate, in cents; `None` when it has neither.
pub(crate) fn line_net(data: &Element, vat_rate: Option<&str>) -> Option<rust_decimal::Decimal> {
    if let Some(net) = data.child_text("totalExclAmount").and_then(wire::from_cents) {
        return Some(net);
    }
    let gross = data.child_text("totalInclAmount").and_then(wire::from_cents)?;
    let rate = vat_rate?.trim().parse::<rust_decimal::Decimal>().ok()?;
    let divisor = rust_decimal::Decimal::ONE + rate / rust_decimal::Decimal::ONE_HUNDRED;
    Some((gross / divisor).round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero))
}

/// An invoice as a sales-invoice document: its number is `invoiceNumber` (year-number) when
/// set, else its `invoiceId`; the counterparty is the relation, the warehouse its branch.
fn invoice(invoice: &Element) -> Result<SourceRecord, RecordFailure> {
    let Some(id) = text(invoice, "invoiceId") else {
        return Err(RecordFailure::new(
            "invoice without id",
            "getInvoices",
            "an invoice came without its invoiceId",
            raw_of(invoice),
        ));
    };
    let number = invoice
        .child("invoiceNumber")
        .and_then(|number| Some(format!("{}-{}", text(number, "year")?, text(number, "number")?)))
        .unwrap_or_else(|| id.clone());
    let date = invoice.child("financialDate").and_then(|date| {
        let part = |name: &str| date.child_text(name)?.trim().parse::<u32>().ok();
        chrono::NaiveDate::from_ymd_opt(i32::try_from(part("year")?).ok()?, part("mon")?, part("day")?)
    });
    let entered = invoice.child("entryTimestamp").and_then(wire::read_datetime);
    let data = json!({
        "number": number,
        "kind": "sales_invoice",
        "date": date.map(|date| date.to_string()),
        "counterparty": relation_number(invoice),
        "warehouse": text(invoice, "financialBranchNumber"),
        "lines": lines(invoice, "invoice", &id)?,
        "total": money(invoice, "totalInclAmount"),
        "updated_at": entered.map(|time| time.to_rfc3339()),
        "raw": raw_of(invoice),
    });
    Ok(SourceRecord {
        key: format!("sales_invoice:{number}"),
        updated_at: entered,
        data,
    })
}

/// An article group and its subgroups (depth first) as categories.
fn groups(group: &Element, parent: Option<&str>, out: &mut Vec<Result<SourceRecord, RecordFailure>>) {
    let Some(code) = text(group, "groupNumber") else {
        out.push(Err(RecordFailure::new(
            "group without number",
            "getArticleGroups",
            "an article group came without its groupNumber",
            raw_of(group),
        )));
        return;
    };
    out.push(Ok(SourceRecord {
        key: code.clone(),
        updated_at: None,
        data: json!({
            "code": code,
            "name": text(group, "name"),
            "parent_code": parent,
            "description": text(group, "text"),
            "raw": raw_of(group),
        }),
    }));
    for child in group
        .child("subGroupList")
        .into_iter()
        .flat_map(|list| list.children_named("articleGroups"))
    {
        groups(child, Some(&code), out);
    }
}

/// One article's stock in a branch: on hand is free plus reserved ([I]: Mplus' "free" stock
/// is what can be sold).
fn stock(row: &Element) -> Result<SourceRecord, RecordFailure> {
    let failure = |message: &str| RecordFailure::new("stock row", "getStock", message, raw_of(row));
    let Some(sku) = text(row, "articleNumber") else {
        return Err(failure("a stock row came without its articleNumber"));
    };
    let branch = text(row, "branchNumber").unwrap_or_default();
    let scaled = |amount: &str, places: &str| match row.child_text(amount) {
        None => Some(rust_decimal::Decimal::ZERO),
        Some(value) => wire::from_scaled(value, row.child_text(places)),
    };
    let (Some(free), Some(reserved)) = (
        scaled("amountFree", "decimalPlacesFree"),
        scaled("amountReserved", "decimalPlacesReserved"),
    ) else {
        return Err(failure("a stock amount or its decimal places is not a number").at_field("on_hand"));
    };
    let updated_at = row.child("changeTimestamp").and_then(wire::read_datetime);
    Ok(SourceRecord {
        key: format!("{sku}@{branch}"),
        updated_at,
        data: json!({
            "sku": sku,
            "warehouse": branch,
            "on_hand": (free + reserved).to_string(),
            "reserved": reserved.to_string(),
            "available": free.to_string(),
            "updated_at": updated_at.map(|time| time.to_rfc3339()),
            "raw": raw_of(row),
        }),
    })
}

impl MplusSource {
    /// A page of orders or invoices by sync marker: `names` are the operation, its list
    /// element and its item element. Returns the items and the position of the next page.
    async fn documents(
        &self,
        request: &ReadRequest,
        limit: usize,
        names: (&str, &str, &str),
    ) -> Result<(Vec<Element>, Option<String>), ConnectorError> {
        let (operation, list_name, item) = names;
        // The official Get{Orders,Invoices}Request require both text-list filters: empty, no filter.
        let query = Element::new("request")
            .with_child(Element::leaf(
                "syncMarker",
                start_marker(request.position.as_deref())?.to_string(),
            ))
            .with_child(Element::leaf("syncMarkerLimit", limit.to_string()))
            .with_child(Element::new("articlePluNumbers"))
            .with_child(Element::new("articleBarcodes"))
            .with_child(Element::leaf("includeLineList", "true"));
        let answer = self.client.call(&Element::new(operation).with_child(query)).await?;
        let list = answer.child(list_name).ok_or_else(|| missing(operation, list_name))?;
        let items: Vec<Element> = list.children_named(item).cloned().collect();
        let markers: Vec<i64> = items.iter().filter_map(marker_of).collect();
        Ok((items, next_position(&markers, limit)))
    }

    /// A page of orders with their buyers: the relations the page names, read in one
    /// `getRelations` call by `relationNumbers` (none when every order is a walk-in sale).
    async fn orders(&self, request: &ReadRequest, limit: usize) -> Result<Page, ConnectorError> {
        let (orders, next) = self
            .documents(request, limit, ("getOrders", "orderList", "order"))
            .await?;
        let numbers: BTreeSet<i64> = orders
            .iter()
            .filter_map(relation_number)
            .filter_map(|number| number.parse::<i64>().ok())
            .collect();
        let mut relations = HashMap::new();
        if !numbers.is_empty() {
            let mut query = Element::new("request");
            for number in &numbers {
                query
                    .children
                    .push(Element::leaf("relationNumbers", number.to_string()));
            }
            let answer = self
                .client
                .call(&Element::new("getRelations").with_child(query))
                .await?;
            let list = answer
                .child("relationList")
                .ok_or_else(|| missing("getRelations", "relationList"))?;
            for relation in list.children_named("relation") {
                if let Some(number) = text(relation, "relationNumber") {
                    relations.insert(number, relation.clone());
                }
            }
        }
        Ok(Page {
            records: orders.iter().map(|item| order(item, &relations)).collect(),
            next,
            api_calls: if numbers.is_empty() { 1 } else { 2 },
        })
    }

    /// Up to `limit` relations from sync marker `from` (inclusive), and their markers.
    async fn relations(&self, from: i64, limit: usize) -> Result<(Vec<Element>, Vec<i64>), ConnectorError> {
        let query = Element::new("request")
            .with_child(Element::leaf("syncMarker", from.to_string()))
            .with_child(Element::leaf("syncMarkerLimit", limit.to_string()));
        let answer = self
            .client
            .call(&Element::new("getRelations").with_child(query))
            .await?;
        let list = answer
            .child("relationList")
            .ok_or_else(|| missing("getRelations", "relationList"))?;
        let relations: Vec<Element> = list.children_named("relation").cloned().collect();
        let markers = relations.iter().filter_map(marker_of).collect();
        Ok((relations, markers))
    }

    /// The first sync marker of relations changed at or after `since`, and the calls it took.
    /// `GetRelationsRequest` has no time filter, but a relation takes the next marker when it
    /// changes, so markers and `changeTimestamp`s rise together: a binary search over markers
    /// (one relation a probe, below `relationSyncMarker`, the head) finds where the changes
    /// since begin in about log2(head) calls instead of a read of every relation. A relation
    /// without a `changeTimestamp` counts as changed, so the search can only start too early.
    async fn first_relation_marker_since(&self, since: DateTime<Utc>) -> Result<(i64, u64), ConnectorError> {
        let heads = self.client.call(&Element::new("getCurrentSyncMarkers")).await?;
        let Some(head) = heads
            .child_text("relationSyncMarker")
            .and_then(|head| head.trim().parse::<i64>().ok())
        else {
            return Err(missing("getCurrentSyncMarkers", "relationSyncMarker"));
        };
        let (mut low, mut high, mut calls) = (0, head.saturating_add(1), 1);
        while low < high {
            let middle = low + (high - low) / 2;
            let (relations, markers) = self.relations(middle, 1).await?;
            calls += 1;
            let changed = relations
                .first()
                .and_then(|relation| relation.child("changeTimestamp"))
                .and_then(wire::read_datetime);
            match (markers.first(), changed) {
                (Some(&marker), Some(changed)) if changed < since => low = marker.saturating_add(1).max(middle + 1),
                _ => high = middle,
            }
        }
        Ok((low, calls))
    }
}

#[async_trait]
impl Source for MplusSource {
    async fn read_page(&mut self, request: &ReadRequest) -> Result<Page, ConnectorError> {
        let limit = request.page_size.max(1);
        match self.reading {
            Reading::Products => {
                let mut query = Element::new("request")
                    .with_child(Element::new("pluNumbers"))
                    .with_child(Element::leaf(
                        "syncMarker",
                        start_marker(request.position.as_deref())?.to_string(),
                    ))
                    .with_child(Element::leaf("syncMarkerLimit", limit.to_string()));
                // The engine's cursor is a change time; the Q-API filters on it beside the
                // marker, so a later run reads only what changed since.
                if let Some(since) = request.changed_since {
                    query = query.with_child(wire::datetime("changedSinceTimestamp", since));
                }
                let answer = self.client.call(&Element::new("getProducts").with_child(query)).await?;
                let list = answer
                    .child("productList")
                    .ok_or_else(|| missing("getProducts", "productList"))?;
                let products: Vec<&Element> = list.children_named("product").collect();
                let markers: Vec<i64> = products.iter().filter_map(|product| marker_of(product)).collect();
                let mut records = Vec::new();
                for product in &products {
                    let articles = product.child("articleList");
                    for article in articles.into_iter().flat_map(|list| list.children_named("article")) {
                        records.push(self::product(product, article));
                    }
                }
                Ok(Page {
                    records,
                    next: next_position(&markers, limit),
                    api_calls: 1,
                })
            }
            Reading::Relations => {
                let mut api_calls = 0;
                let start = match (request.position.as_deref(), request.changed_since) {
                    (None, Some(since)) => {
                        let (start, calls) = self.first_relation_marker_since(since).await?;
                        api_calls += calls;
                        start
                    }
                    (position, _) => start_marker(position)?,
                };
                let (relations, markers) = self.relations(start, limit).await?;
                api_calls += 1;
                Ok(Page {
                    records: relations.iter().map(customer).collect(),
                    next: next_position(&markers, limit),
                    api_calls,
                })
            }
            Reading::Groups => {
                let query = Element::new("request")
                    .with_child(Element::leaf(
                        "syncMarker",
                        start_marker(request.position.as_deref())?.to_string(),
                    ))
                    .with_child(Element::leaf("syncMarkerLimit", limit.to_string()));
                let answer = self
                    .client
                    .call(&Element::new("getArticleGroups").with_child(query))
                    .await?;
                let list = answer
                    .child("articleGroupList")
                    .ok_or_else(|| missing("getArticleGroups", "articleGroupList"))?;
                let top: Vec<&Element> = list.children_named("articleGroups").collect();
                let markers: Vec<i64> = top.iter().filter_map(|group| marker_of(group)).collect();
                let mut records = Vec::new();
                for group in top {
                    groups(group, None, &mut records);
                }
                Ok(Page {
                    records,
                    next: next_position(&markers, limit),
                    api_calls: 1,
                })
            }
            Reading::Invoices => {
                let (invoices, next) = self
                    .documents(request, limit, ("getInvoices", "invoiceList", "invoice"))
                    .await?;
                Ok(Page {
                    records: invoices.iter().map(invoice).collect(),
                    next,
                    api_calls: 1,
                })
            }
            Reading::Orders => self.orders(request, limit).await,
            Reading::Stock { branch } => {
                // getStock does not page: a page of articles (by sync marker) names the
                // articles whose stock the page holds, so stock pages like products do.
                let query = Element::new("request")
                    .with_child(Element::new("pluNumbers"))
                    .with_child(Element::leaf(
                        "syncMarker",
                        start_marker(request.position.as_deref())?.to_string(),
                    ))
                    .with_child(Element::leaf("syncMarkerLimit", limit.to_string()));
                let answer = self.client.call(&Element::new("getProducts").with_child(query)).await?;
                let list = answer
                    .child("productList")
                    .ok_or_else(|| missing("getProducts", "productList"))?;
                let products: Vec<&Element> = list.children_named("product").collect();
                let markers: Vec<i64> = products.iter().filter_map(|product| marker_of(product)).collect();
                let mut numbers = Element::new("articleNumbers");
                for product in &products {
                    for article in product
                        .child("articleList")
                        .into_iter()
                        .flat_map(|list| list.children_named("article"))
                    {
                        if let Some(number) = article.child_text("articleNumber") {
                            numbers.children.push(Element::leaf("articleNumbers", number.trim()));
                        }
                    }
                }
                if numbers.children.is_empty() {
                    return Ok(Page {
                        records: Vec::new(),
                        next: None,
                        api_calls: 1,
                    });
                }
                let query = Element::new("request")
                    .with_child(Element::leaf("branchNumber", branch.to_string()))
                    .with_child(numbers);
                let answer = self.client.call(&Element::new("getStock").with_child(query)).await?;
                Ok(Page {
                    records: answer.children_named("articleStocks").map(stock).collect(),
                    next: next_position(&markers, limit),
                    api_calls: 2,
                })
            }
        }
    }
}

fn missing(operation: &str, name: &str) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::Transient,
        format!("{operation} answered without <{name}>: the answer is incomplete; retried"),
    )
}
