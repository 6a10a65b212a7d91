//! Orders: lines priced from the catalogue (by `product_id`, `variation_id` or `sku`), Lithuanian
//! VAT of 21 % on top (`prices_include_tax: false`), shipping lines, totals, and stock taken
//! when an order is paid or processing and given back when it is cancelled.
use super::api::{invalid_id, Ctx, Resource};
use super::catalog;
use super::customers::{address, merge_address};
use super::input::{self, decimal, money_text};
use super::listing::{self, ListParams};
use super::{Event, Record, Shop, WcError};
use axum::http::StatusCode;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

/// Order statuses (without the `wc-` prefix).
pub(super) const STATUSES: [&str; 8] = [
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "trash",
];

/// Statuses in which the order's stock is taken (`wc_maybe_reduce_stock_levels`).
const STOCK_TAKEN: [&str; 3] = ["processing", "completed", "on-hold"];

/// The standard VAT rate of Lithuania, in percent.
fn vat_rate() -> Decimal {
    Decimal::new(21, 0)
}

fn tax_of(amount: Decimal) -> Decimal {
    (amount * vat_rate() / Decimal::new(100, 0)).round_dp(2)
}

/// A line the shopper asked for: by SKU, variation or product, with a quantity.
struct WantedLine {
    item_id: u64,
    quantity: i64,
    total: Option<Decimal>,
}

fn resolve_line(shop: &Shop, fields: &Map<String, Value>) -> Result<WantedLine, WcError> {
    let invalid_product = || {
        WcError::new(
            StatusCode::BAD_REQUEST,
            "woocommerce_rest_invalid_product_id",
            "Product ID provided is invalid.",
        )
    };
    let sku = input::string(fields, "sku")?.filter(|sku| !sku.is_empty());
    let variation_id = fields
        .get("variation_id")
        .and_then(super::api::id_value)
        .filter(|id| *id != 0);
    let product_id = fields
        .get("product_id")
        .and_then(super::api::id_value)
        .filter(|id| *id != 0);
    let item_id = if let Some(sku) = sku {
        catalog::find_by_sku(shop, &sku).ok_or_else(invalid_product)?
    } else if let Some(variation_id) = variation_id {
        shop.variations
            .get(&variation_id)
            .map(|_| variation_id)
            .ok_or_else(invalid_product)?
    } else if let Some(product_id) = product_id {
        shop.products
            .get(&product_id)
            .map(|_| product_id)
            .ok_or_else(invalid_product)?
    } else {
        return Err(WcError::new(
            StatusCode::BAD_REQUEST,
            "woocommerce_rest_required_product_reference",
            "Product ID or SKU is required.",
        ));
    };
    let quantity = input::integer(fields, "quantity")?.flatten().unwrap_or(1);
    if quantity <= 0 {
        return Err(WcError::new(
            StatusCode::BAD_REQUEST,
            "woocommerce_rest_invalid_product_quantity",
            "Product quantity must be a positive float.",
        ));
    }
    let total = input::money(fields, "total")?
        .filter(|total| !total.is_empty())
        .map(|total| decimal(&total));
    Ok(WantedLine {
        item_id,
        quantity,
        total,
    })
}

fn line_item(ctx: &mut Ctx<'_>, wanted: &WantedLine) -> Value {
    let (product_id, variation_id, record) = match ctx.shop.variations.get(&wanted.item_id) {
        Some(variation) => (
            variation.body.get("parent_id").and_then(Value::as_u64).unwrap_or(0),
            wanted.item_id,
            variation.clone(),
        ),
        None => match ctx.shop.products.get(&wanted.item_id) {
            Some(product) => (wanted.item_id, 0, product.clone()),
            None => (wanted.item_id, 0, Record::new(Map::new(), 0)),
        },
    };
    let name = if variation_id != 0 {
        catalog::render_variation(ctx.shop, variation_id)
            .and_then(|variation| variation["name"].as_str().map(str::to_owned))
            .unwrap_or_default()
    } else {
        record.str("name").to_owned()
    };
    let quantity = Decimal::from(wanted.quantity);
    let unit_price = decimal(record.str("price"));
    let subtotal = (unit_price * quantity).round_dp(2);
    let total = wanted.total.unwrap_or(subtotal);
    let total_tax = tax_of(total);
    let subtotal_tax = tax_of(subtotal);
    let price = if quantity.is_zero() {
        Decimal::ZERO
    } else {
        total / quantity
    };
    let id = ctx.shop.new_item_id();
    json!({
        "id": id,
        "name": name,
        "product_id": product_id,
        "variation_id": variation_id,
        "quantity": wanted.quantity,
        "tax_class": "",
        "subtotal": money_text(subtotal),
        "subtotal_tax": money_text(subtotal_tax),
        "total": money_text(total),
        "total_tax": money_text(total_tax),
        "taxes": [{ "id": 1, "total": money_text(total_tax), "subtotal": money_text(subtotal_tax) }],
        "meta_data": [],
        "sku": record.str("sku"),
        // The one money field WooCommerce sends as a JSON number.
        "price": price.round_dp(6).to_f64().unwrap_or(0.0),
        "image": { "id": "", "src": "" },
        "parent_name": if variation_id != 0 { json!(name.split(" - ").next().unwrap_or("")) } else { Value::Null },
    })
}

fn shipping_line(ctx: &mut Ctx<'_>, fields: &Map<String, Value>) -> Result<Value, WcError> {
    let total = decimal(&input::money(fields, "total")?.unwrap_or_default());
    let tax = tax_of(total);
    let id = ctx.shop.new_item_id();
    Ok(json!({
        "id": id,
        "method_title": input::string(fields, "method_title")?.unwrap_or_default(),
        "method_id": input::string(fields, "method_id")?.unwrap_or_default(),
        "instance_id": input::string(fields, "instance_id")?.unwrap_or_default(),
        "total": money_text(total),
        "total_tax": money_text(tax),
        "taxes": [{ "id": 1, "total": money_text(tax), "subtotal": "" }],
        "meta_data": [],
    }))
}

fn sum(lines: &[Value], field: &str) -> Decimal {
    lines
        .iter()
        .map(|line| decimal(line[field].as_str().unwrap_or("")))
        .sum()
}

/// Recomputes the order totals from its lines.
fn compute_totals(body: &mut Map<String, Value>) {
    let lines = body
        .get("line_items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let shipping = body
        .get("shipping_lines")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let cart_total = sum(&lines, "total");
    let cart_tax = sum(&lines, "total_tax");
    let shipping_total = sum(&shipping, "total");
    let shipping_tax = sum(&shipping, "total_tax");
    let total_tax = cart_tax + shipping_tax;
    let total = cart_total + shipping_total + total_tax;
    body.insert("discount_total".into(), json!("0.00"));
    body.insert("discount_tax".into(), json!("0.00"));
    body.insert("shipping_total".into(), json!(money_text(shipping_total)));
    body.insert("shipping_tax".into(), json!(money_text(shipping_tax)));
    body.insert("cart_tax".into(), json!(money_text(cart_tax)));
    body.insert("total".into(), json!(money_text(total)));
    body.insert("total_tax".into(), json!(money_text(total_tax)));
    body.insert(
        "tax_lines".into(),
        json!([{
            "id": 1, "rate_code": "LT-PVM-1", "rate_id": 1, "label": "PVM", "compound": false,
            "tax_total": money_text(cart_tax), "shipping_tax_total": money_text(shipping_tax),
            "rate_percent": 21, "meta_data": []
        }]),
    );
}

fn order_defaults() -> Map<String, Value> {
    match json!({
        "parent_id": 0, "status": "pending", "currency": "EUR", "version": "9.8.0",
        "prices_include_tax": false, "customer_id": 0, "order_key": "", "billing": address(None, true),
        "shipping": address(None, false), "payment_method": "", "payment_method_title": "",
        "transaction_id": "", "customer_ip_address": "", "customer_user_agent": "", "created_via": "rest-api",
        "customer_note": "", "date_completed": null, "date_completed_gmt": null, "date_paid": null,
        "date_paid_gmt": null, "cart_hash": "", "number": "", "meta_data": [], "line_items": [],
        "tax_lines": [], "shipping_lines": [], "fee_lines": [], "coupon_lines": [], "refunds": [],
        "currency_symbol": "€"
    }) {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Applies the fields an order create or update may change (not its lines).
fn apply(ctx: &Ctx<'_>, body: &mut Map<String, Value>, input: &Map<String, Value>) -> Result<(), WcError> {
    if let Some(status) = input::one_of(input, "status", &STATUSES[..7])? {
        body.insert("status".into(), json!(status));
    }
    if let Some(currency) = input::string(input, "currency")? {
        body.insert("currency".into(), json!(currency));
    }
    for field in [
        "payment_method",
        "payment_method_title",
        "transaction_id",
        "customer_note",
    ] {
        if let Some(value) = input::string(input, field)? {
            body.insert(field.to_owned(), json!(value));
        }
    }
    if let Some(customer_id) = input::integer(input, "customer_id")? {
        let customer_id = customer_id.unwrap_or(0).max(0) as u64;
        if customer_id != 0 && !ctx.shop.customers.contains_key(&customer_id) {
            return Err(WcError::new(
                StatusCode::BAD_REQUEST,
                "woocommerce_rest_invalid_customer_id",
                "Customer ID is invalid.",
            ));
        }
        body.insert("customer_id".into(), json!(customer_id));
    }
    if let Some(billing) = input::object(input, "billing")? {
        let existing = body
            .entry("billing")
            .or_insert_with(|| Value::Object(address(None, true)));
        merge_address(existing, billing, true);
    }
    if let Some(shipping) = input::object(input, "shipping")? {
        let existing = body
            .entry("shipping")
            .or_insert_with(|| Value::Object(address(None, false)));
        merge_address(existing, shipping, false);
    }
    if let Some(items) = input::array(input, "meta_data")? {
        body.insert("meta_data".into(), Value::Array(items.clone()));
    }
    if input::boolean(input, "set_paid")? == Some(true) {
        // payment_complete(): paid now, and processing unless already further along.
        body.insert("date_paid".into(), json!(super::clock::local(ctx.now)));
        body.insert("date_paid_gmt".into(), json!(super::clock::gmt(ctx.now)));
        let status = body.get("status").and_then(Value::as_str).unwrap_or("pending");
        if matches!(status, "pending" | "on-hold" | "failed" | "cancelled") {
            body.insert("status".into(), json!("processing"));
        }
    }
    if body.get("status").and_then(Value::as_str) == Some("completed")
        && body.get("date_completed").is_none_or(Value::is_null)
    {
        body.insert("date_completed".into(), json!(super::clock::local(ctx.now)));
        body.insert("date_completed_gmt".into(), json!(super::clock::gmt(ctx.now)));
    }
    Ok(())
}

/// `POST orders` (and checkout, for `created_via = "checkout"`).
pub(super) fn create(ctx: &mut Ctx<'_>, input: &Map<String, Value>, created_via: &str) -> Result<u64, WcError> {
    let mut wanted = Vec::new();
    for item in input::array(input, "line_items")?
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let Some(fields) = item.as_object() else {
            return Err(WcError::invalid_param(
                "line_items",
                "line_items[0] is not of type object.",
            ));
        };
        wanted.push(resolve_line(ctx.shop, fields)?);
    }
    let mut body = order_defaults();
    apply(ctx, &mut body, input)?;
    let mut shipping = Vec::new();
    for item in input::array(input, "shipping_lines")?
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        if let Some(fields) = item.as_object() {
            shipping.push(shipping_line(ctx, fields)?);
        }
    }
    let lines: Vec<Value> = wanted.iter().map(|line| line_item(ctx, line)).collect();
    body.insert("line_items".into(), Value::Array(lines));
    body.insert("shipping_lines".into(), Value::Array(shipping));
    body.insert("created_via".into(), json!(created_via));
    compute_totals(&mut body);
    let id = ctx.shop.new_post_id();
    body.insert("number".into(), json!(id.to_string()));
    body.insert(
        "order_key".into(),
        json!(format!(
            "wc_order_{:013x}",
            id.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 12
        )),
    );
    ctx.shop.orders.insert(id, Record::new(body, ctx.now));
    mark_paying_customer(ctx.shop, id);
    if let Some(rendered) = render(ctx.shop, id) {
        ctx.events.push(Event::new("order.created", rendered));
    }
    adjust_stock(ctx, id);
    Ok(id)
}

fn mark_paying_customer(shop: &mut Shop, order_id: u64) {
    let Some(order) = shop.orders.get(&order_id) else {
        return;
    };
    let paid = STOCK_TAKEN.contains(&order.str("status"));
    let customer_id = order.body.get("customer_id").and_then(Value::as_u64).unwrap_or(0);
    if let (true, Some(customer)) = (paid, shop.customers.get_mut(&customer_id)) {
        customer.body.insert("is_paying_customer".into(), json!(true));
    }
}

/// Takes the order's stock when it reaches processing/completed/on-hold, gives it back when
/// cancelled; each product whose stock changed is saved (modified now, `product.updated`).
fn adjust_stock(ctx: &mut Ctx<'_>, order_id: u64) {
    let Some(order) = ctx.shop.orders.get(&order_id) else {
        return;
    };
    let status = order.str("status").to_owned();
    let taken = ctx.shop.stock_reduced.contains(&order_id);
    let direction: i64 = if STOCK_TAKEN.contains(&status.as_str()) && !taken {
        -1
    } else if (status == "cancelled" || status == "pending") && taken {
        1
    } else {
        return;
    };
    let lines: Vec<(u64, u64, i64)> = order
        .body
        .get("line_items")
        .and_then(Value::as_array)
        .map(|lines| {
            lines
                .iter()
                .map(|line| {
                    (
                        line["product_id"].as_u64().unwrap_or(0),
                        line["variation_id"].as_u64().unwrap_or(0),
                        line["quantity"].as_i64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    if direction < 0 {
        ctx.shop.stock_reduced.insert(order_id);
    } else {
        ctx.shop.stock_reduced.remove(&order_id);
    }
    for (product_id, variation_id, quantity) in lines {
        let now = ctx.now;
        // A variation without its own stock draws on its parent's (`manage_stock: "parent"`).
        let variation_manages = ctx
            .shop
            .variations
            .get(&variation_id)
            .is_some_and(|variation| variation.body.get("manage_stock") == Some(&json!(true)));
        let (record, is_variation) = if variation_manages {
            (ctx.shop.variations.get_mut(&variation_id), true)
        } else {
            (ctx.shop.products.get_mut(&product_id), false)
        };
        let Some(record) = record else { continue };
        if record.body.get("manage_stock") != Some(&json!(true)) {
            continue;
        }
        let on_hand = record.body.get("stock_quantity").and_then(Value::as_i64).unwrap_or(0);
        record
            .body
            .insert("stock_quantity".into(), json!(on_hand + direction * quantity));
        catalog::refresh_stock_status(&mut record.body);
        record.modified = now;
        let rendered = if is_variation {
            catalog::sync_variable(ctx.shop, product_id);
            catalog::render_variation(ctx.shop, variation_id)
        } else {
            catalog::render_product(ctx.shop, product_id)
        };
        if let Some(rendered) = rendered {
            ctx.events.push(Event::new("product.updated", rendered));
        }
    }
}

/// `PUT orders/{id}`: status, addresses, payment and notes (lines are kept as they are).
pub(super) fn update(ctx: &mut Ctx<'_>, id: u64, input: &Map<String, Value>) -> Result<(), WcError> {
    let Some(mut body) = ctx.shop.orders.get(&id).map(|record| record.body.clone()) else {
        return Err(invalid_id(Resource::Orders, StatusCode::BAD_REQUEST));
    };
    apply(ctx, &mut body, input)?;
    if let Some(record) = ctx.shop.orders.get_mut(&id) {
        record.body = body;
        record.modified = ctx.now;
    }
    mark_paying_customer(ctx.shop, id);
    if let Some(rendered) = render(ctx.shop, id) {
        ctx.events.push(Event::new("order.updated", rendered));
    }
    adjust_stock(ctx, id);
    Ok(())
}

/// `DELETE orders/{id}`: to the trash, or gone when forced.
pub(super) fn delete(ctx: &mut Ctx<'_>, id: u64, force: bool) -> Result<Value, WcError> {
    let before = render(ctx.shop, id).ok_or_else(|| invalid_id(Resource::Orders, StatusCode::NOT_FOUND))?;
    if force {
        ctx.shop.orders.remove(&id);
        ctx.events.push(Event::new("order.deleted", json!({ "id": id })));
        return Ok(before);
    }
    let Some(record) = ctx.shop.orders.get_mut(&id) else {
        return Err(invalid_id(Resource::Orders, StatusCode::NOT_FOUND));
    };
    if record.str("status") == "trash" {
        return Err(WcError::new(
            StatusCode::GONE,
            "woocommerce_rest_already_trashed",
            "The order has already been deleted.",
        ));
    }
    record.body.insert("status".into(), json!("trash"));
    record.modified = ctx.now;
    ctx.events.push(Event::new("order.deleted", json!({ "id": id })));
    render(ctx.shop, id).ok_or_else(|| invalid_id(Resource::Orders, StatusCode::NOT_FOUND))
}

/// An order as `GET orders/{id}` returns it.
pub(super) fn render(shop: &Shop, id: u64) -> Option<Value> {
    Some(Value::Object(shop.orders.get(&id)?.render(id)))
}

/// `GET orders`.
pub(super) fn list(shop: &Shop, params: &ListParams) -> Result<Vec<u64>, WcError> {
    let statuses = params.list("status");
    if let Some(bad) = statuses
        .iter()
        .find(|status| *status != "any" && !STATUSES.contains(&status.as_str()))
    {
        return Err(WcError::invalid_param(
            "status",
            format!("status[0] is not one of any, {}; found {bad}.", STATUSES.join(", ")),
        ));
    }
    let customer = params.get("customer").and_then(|id| id.parse::<u64>().ok());
    let product = params.get("product").and_then(|id| id.parse::<u64>().ok());
    let mut entries: Vec<(u64, &Record)> = shop
        .orders
        .iter()
        .filter(|(id, record)| {
            listing::common_filter(
                **id,
                record,
                params,
                &[
                    "number",
                    "billing.email",
                    "billing.first_name",
                    "billing.last_name",
                    "billing.company",
                ],
            )
        })
        .filter(|(_, record)| {
            let status = record.str("status");
            if statuses.is_empty() || statuses.iter().any(|wanted| wanted == "any") {
                status != "trash"
            } else {
                statuses.iter().any(|wanted| wanted == status)
            }
        })
        .filter(|(_, record)| {
            customer.is_none_or(|customer| record.body.get("customer_id").and_then(Value::as_u64) == Some(customer))
        })
        .filter(|(_, record)| {
            product.is_none_or(|product| {
                record
                    .body
                    .get("line_items")
                    .and_then(Value::as_array)
                    .is_some_and(|lines| lines.iter().any(|line| line["product_id"].as_u64() == Some(product)))
            })
        })
        .map(|(id, record)| (*id, record))
        .collect();
    listing::sort(&mut entries, params, "number");
    Ok(entries.into_iter().map(|(id, _)| id).collect())
}
