//! Orders: one keyset page of `order` rows by `date_modified` (statuses above 0 only: status 0
//! is OpenCart's "missing order", a checkout never confirmed), then their lines, options,
//! totals and history in one query each, and the canonical order.
//!
//! OpenCart keeps line prices without tax (`order_product.price`, `total` = price × quantity)
//! and the tax per unit (`order_product.tax`); the order's `order_total` rows carry the
//! sub-total, shipping (without tax), each tax and the grand total. Shipping tax is the taxes'
//! sum less the lines' tax; any other total row (coupon, voucher, handling) is a fee.
use crate::db::ShopDb;
use crate::read::{decimal, keyset, last_position, money, put, row_object, select_list, text, time, Position};
use crate::{ConnectorError, ReadRequest, RecordFailure, SourceRecord};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

const ORDER_COLUMNS: &[&str] = &[
    "order_id",
    "invoice_no",
    "invoice_prefix",
    "store_id",
    "customer_id",
    "customer_group_id",
    "firstname",
    "lastname",
    "email",
    "telephone",
    "payment_firstname",
    "payment_lastname",
    "payment_company",
    "payment_address_1",
    "payment_address_2",
    "payment_city",
    "payment_postcode",
    "payment_country_id",
    "payment_method",
    "payment_code",
    "shipping_firstname",
    "shipping_lastname",
    "shipping_company",
    "shipping_address_1",
    "shipping_address_2",
    "shipping_city",
    "shipping_postcode",
    "shipping_country_id",
    "shipping_method",
    "shipping_code",
    "comment",
    "total",
    "order_status_id",
    "currency_code",
    "currency_value",
    "date_added",
    "date_modified",
];

/// Rows of `table` (aliased `t`) belonging to `ids`, with `extra` joins and columns.
async fn children(
    db: &ShopDb,
    table: &str,
    columns: &[&str],
    extra: (&str, &str),
    ids: &[u64],
) -> Result<HashMap<String, Vec<Value>>, ConnectorError> {
    let marks = vec!["?"; ids.len()].join(", ");
    let sql = format!(
        "SELECT {}{} FROM {} t {} WHERE t.order_id IN ({marks}) ORDER BY t.order_id, t.`{}`",
        select_list("t", columns),
        extra.0,
        db.table(table),
        extra.1,
        columns[0],
    );
    let mut query = sqlx::query(&sql);
    for id in ids {
        query = query.bind(*id);
    }
    let rows = query
        .fetch_all(db.pool().await?)
        .await
        .map_err(|error| db.error(&format!("reading {}", db.table(table)), error))?;
    let mut by_order: HashMap<String, Vec<Value>> = HashMap::new();
    for row in rows.iter().map(row_object) {
        by_order
            .entry(text(&row, "order_id").unwrap_or_default())
            .or_default()
            .push(row);
    }
    Ok(by_order)
}

/// The details of a page of orders, by order id.
struct Details {
    lines: HashMap<String, Vec<Value>>,
    options: HashMap<String, Vec<Value>>,
    totals: HashMap<String, Vec<Value>>,
    history: HashMap<String, Vec<Value>>,
    /// OpenCart 3: the variant SKUs of the lines' products and the option values that make each.
    variants: HashMap<u64, Vec<(String, Vec<u64>)>>,
}

async fn details(db: &ShopDb, ids: &[u64]) -> Result<Details, ConnectorError> {
    let product = format!(", CAST(p.`{}` AS CHAR) AS product_code", db.sku_column);
    let product_join = format!("LEFT JOIN {} p ON p.product_id = t.product_id", db.table("product"));
    let lines = children(
        db,
        "order_product",
        &[
            "order_product_id",
            "order_id",
            "product_id",
            "name",
            "model",
            "quantity",
            "price",
            "total",
            "tax",
        ],
        (&product, &product_join),
        ids,
    )
    .await?;
    let mut product_ids: Vec<u64> = lines
        .values()
        .flatten()
        .filter_map(|line| text(line, "product_id")?.parse().ok())
        .collect();
    product_ids.sort_unstable();
    product_ids.dedup();
    let variants = crate::variants::variants_of_products(db, db.pool().await?, &product_ids)
        .await
        .map_err(|error| db.error("reading the variants of ordered products", error))?;
    Ok(Details {
        variants,
        lines,
        options: children(
            db,
            "order_option",
            &[
                "order_option_id",
                "order_id",
                "order_product_id",
                "product_option_value_id",
                "name",
                "value",
            ],
            ("", ""),
            ids,
        )
        .await?,
        totals: children(
            db,
            "order_total",
            &["order_total_id", "order_id", "code", "title", "value", "sort_order"],
            ("", ""),
            ids,
        )
        .await?,
        history: children(
            db,
            "order_history",
            &[
                "order_history_id",
                "order_id",
                "order_status_id",
                "comment",
                "date_added",
            ],
            ("", ""),
            ids,
        )
        .await?,
    })
}

/// One page of orders and the position after it (with the number of rows read).
pub(crate) async fn read(
    db: &ShopDb,
    request: &ReadRequest,
    after: Option<&Position>,
    limit: usize,
) -> Result<(Vec<Result<SourceRecord, RecordFailure>>, Option<(Position, usize)>), ConnectorError> {
    let (mut conditions, values) = keyset("o", "order_id", request.changed_since, after);
    conditions.insert(0, "o.store_id = ? AND o.order_status_id > 0".to_owned());
    let sql = format!(
        "SELECT {}, os.name AS status_name, pc.iso_code_2 AS payment_country, sc.iso_code_2 AS shipping_country \
         FROM {} o \
         LEFT JOIN {} os ON os.order_status_id = o.order_status_id AND os.language_id = ? \
         LEFT JOIN {country} pc ON pc.country_id = o.payment_country_id \
         LEFT JOIN {country} sc ON sc.country_id = o.shipping_country_id \
         WHERE {} ORDER BY o.date_modified, o.order_id LIMIT ?",
        select_list("o", ORDER_COLUMNS),
        db.table("order"),
        db.table("order_status"),
        conditions.join(" AND "),
        country = db.table("country"),
    );
    let mut query = sqlx::query(&sql).bind(db.language_id).bind(db.store_id);
    for value in values {
        query = query.bind(value);
    }
    let rows: Vec<Value> = query
        .bind(limit as u64)
        .fetch_all(db.pool().await?)
        .await
        .map_err(|error| db.error("reading orders", error))?
        .iter()
        .map(row_object)
        .collect();
    let last = last_position(&rows, "order_id", true);
    if rows.is_empty() {
        return Ok((Vec::new(), last));
    }
    let ids: Vec<u64> = rows
        .iter()
        .filter_map(|row| text(row, "order_id")?.parse().ok())
        .collect();
    let details = details(db, &ids).await?;
    let records = rows.iter().map(|row| order_record(row, &details)).collect();
    Ok((records, last))
}

fn order_record(row: &Value, details: &Details) -> Result<SourceRecord, RecordFailure> {
    let id = text(row, "order_id").unwrap_or_default();
    let none = Vec::new();
    let lines = details.lines.get(&id).unwrap_or(&none);
    let options = details.options.get(&id).unwrap_or(&none);
    let totals = details.totals.get(&id).unwrap_or(&none);
    let history = details.history.get(&id).unwrap_or(&none);
    let mut order = Map::new();
    order.insert("number".to_owned(), json!(id));
    put(
        &mut order,
        "status",
        text(row, "status_name").or_else(|| text(row, "order_status_id")),
    );
    put(
        &mut order,
        "created_at",
        time(row, "date_added").map(|at| at.to_rfc3339()),
    );
    put(
        &mut order,
        "updated_at",
        time(row, "date_modified").map(|at| at.to_rfc3339()),
    );
    // Amounts are in the store's default currency; `currency_code` is what the buyer saw,
    // converted by `currency_value`, so it names the amounts' currency only at rate 1.
    if decimal(row, "currency_value") == Some(Decimal::ONE) {
        put(&mut order, "currency", text(row, "currency_code"));
    }
    let mut customer = Map::new();
    put(&mut customer, "email", text(row, "email"));
    put(&mut customer, "name", full_name(row, "firstname", "lastname"));
    put(&mut customer, "company_name", text(row, "payment_company"));
    put(&mut customer, "phone", text(row, "telephone"));
    order.insert("customer".to_owned(), Value::Object(customer));
    for side in ["payment", "shipping"] {
        if let Some(address) = address(row, side) {
            order.insert(
                if side == "payment" { "billing" } else { "shipping" }.to_owned(),
                address,
            );
        }
    }
    put(&mut order, "shipping_method", text(row, "shipping_code"));
    put(&mut order, "payment_method", text(row, "payment_code"));
    let mut lines_tax = Decimal::ZERO;
    let mut canonical_lines = Vec::new();
    for line in lines {
        let (canonical, tax) = order_line(&id, line, options, &details.variants)?;
        lines_tax += tax;
        canonical_lines.push(canonical);
    }
    order.insert("lines".to_owned(), Value::Array(canonical_lines));
    let (sums, fees) = order_totals(totals, lines_tax, decimal(row, "total"));
    order.insert("fees".to_owned(), Value::Array(fees));
    order.insert("totals".to_owned(), sums);
    let mut raw = row.clone();
    if let Value::Object(raw) = &mut raw {
        raw.insert("order_total".to_owned(), json!(totals));
        raw.insert("order_history".to_owned(), json!(history));
        raw.insert("order_option".to_owned(), json!(options));
    }
    order.insert("raw".to_owned(), raw);
    Ok(SourceRecord {
        key: id,
        updated_at: time(row, "date_modified"),
        data: Value::Object(order),
    })
}

/// One `order_product` row (with the order's chosen options) as a canonical line, and its tax.
fn order_line(
    id: &str,
    line: &Value,
    options: &[Value],
    variants: &HashMap<u64, Vec<(String, Vec<u64>)>>,
) -> Result<(Value, Decimal), RecordFailure> {
    let line_options: Vec<&Value> = options
        .iter()
        .filter(|option| text(option, "order_product_id") == text(line, "order_product_id"))
        .collect();
    let variant = ordered_variant(line, &line_options, variants);
    let Some(sku) = variant
        .or_else(|| text(line, "product_code"))
        .or_else(|| text(line, "model"))
    else {
        return Err(RecordFailure::new(
            id.to_owned(),
            format!(
                "order {id}, order_product {}",
                text(line, "order_product_id").unwrap_or_default()
            ),
            "a line whose product has neither a code nor a model",
            line.clone(),
        )
        .at_field("lines.sku")
        .with_fix("give the product a SKU (or model) in OpenCart, then touch the order"));
    };
    let quantity = decimal(line, "quantity").unwrap_or_default();
    let tax = decimal(line, "tax").unwrap_or_default() * quantity;
    let chosen: Vec<String> = line_options
        .iter()
        .filter_map(|option| Some(format!("{}: {}", text(option, "name")?, text(option, "value")?)))
        .collect();
    let name = text(line, "name").map(|name| {
        if chosen.is_empty() {
            name
        } else {
            format!("{name} ({})", chosen.join(", "))
        }
    });
    let mut fields = Map::new();
    fields.insert("sku".to_owned(), json!(sku));
    put(&mut fields, "name", name);
    fields.insert("quantity".to_owned(), json!(quantity.normalize().to_string()));
    put(&mut fields, "price", money(line, "price"));
    if let (Some(price), Some(unit_tax)) = (decimal(line, "price"), decimal(line, "tax")) {
        if !price.is_zero() {
            let rate = (unit_tax * Decimal::ONE_HUNDRED / price).round_dp(2);
            fields.insert("vat_rate".to_owned(), json!(rate.normalize().to_string()));
        }
    }
    put(&mut fields, "subtotal", money(line, "total"));
    put(&mut fields, "total", money(line, "total"));
    fields.insert("total_tax".to_owned(), json!(tax.normalize().to_string()));
    Ok((Value::Object(fields), tax))
}

/// OpenCart 3: the SKU of the variant a line sold — the one of the line's product whose option
/// values were all chosen (`order_option.product_option_value_id`).
fn ordered_variant(
    line: &Value,
    options: &[&Value],
    variants: &HashMap<u64, Vec<(String, Vec<u64>)>>,
) -> Option<String> {
    let product_id: u64 = text(line, "product_id")?.parse().ok()?;
    let chosen: Vec<u64> = options
        .iter()
        .filter_map(|option| text(option, "product_option_value_id")?.parse().ok())
        .collect();
    variants
        .get(&product_id)?
        .iter()
        .filter(|(_, ids)| !ids.is_empty() && ids.iter().all(|id| chosen.contains(id)))
        // The variant naming the most values (a variant of one value is no match for one of two).
        .max_by_key(|(_, ids)| ids.len())
        .map(|(sku, _)| sku.clone())
}

/// The canonical totals and fees of an order from its `order_total` rows.
fn order_totals(rows: &[Value], lines_tax: Decimal, order_total: Option<Decimal>) -> (Value, Vec<Value>) {
    let mut totals = Map::new();
    let mut vat = Decimal::ZERO;
    let mut shipping = None;
    let mut gross = order_total;
    let mut fees = Vec::new();
    for row in rows {
        let value = decimal(row, "value").unwrap_or_default();
        match text(row, "code").as_deref() {
            Some("sub_total") => {}
            Some("tax") => vat += value,
            Some("shipping") => shipping = Some(shipping.unwrap_or(Decimal::ZERO) + value),
            Some("total") => gross = Some(value),
            _ => fees.push(json!({ "name": text(row, "title"), "total": value.normalize().to_string() })),
        }
    }
    totals.insert("vat".to_owned(), json!(vat.normalize().to_string()));
    if let Some(shipping) = shipping {
        totals.insert("shipping".to_owned(), json!(shipping.normalize().to_string()));
        let shipping_tax = (vat - lines_tax).max(Decimal::ZERO);
        totals.insert("shipping_tax".to_owned(), json!(shipping_tax.normalize().to_string()));
    }
    if let Some(gross) = gross {
        totals.insert("gross".to_owned(), json!(gross.normalize().to_string()));
        totals.insert("net".to_owned(), json!((gross - vat).normalize().to_string()));
    }
    (Value::Object(totals), fees)
}

fn full_name(row: &Value, first: &str, last: &str) -> Option<String> {
    let name = [text(row, first), text(row, last)]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    Some(name).filter(|name| !name.is_empty())
}

/// The payment or shipping address of an order row.
fn address(row: &Value, side: &str) -> Option<Value> {
    let column = |name: &str| text(row, &format!("{side}_{name}"));
    let mut fields = Map::new();
    put(
        &mut fields,
        "name",
        full_name(row, &format!("{side}_firstname"), &format!("{side}_lastname")),
    );
    put(&mut fields, "company", column("company"));
    put(&mut fields, "line1", column("address_1"));
    put(&mut fields, "line2", column("address_2"));
    put(&mut fields, "city", column("city"));
    put(&mut fields, "postcode", column("postcode"));
    put(&mut fields, "country", column("country"));
    put(&mut fields, "phone", text(row, "telephone"));
    put(&mut fields, "email", text(row, "email"));
    fields.contains_key("line1").then_some(Value::Object(fields))
}
