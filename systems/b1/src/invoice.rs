//! An order as a B1 sale (`e-commerce/orders/create-sale`): the header (number, date, client,
//! warehouse, currency, operation type) with its lines in one call — each product line by its
//! item code with the shop's own net amount and the unit price derived from it, the shipping
//! charge and fees as named lines without an item. What cannot be booked is refused with the
//! field and the fix before anything is sent.
use chrono::Utc;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{json, Map, Value};
use tiltas_model::Order;

/// How orders are booked: the flow's `to` settings.
#[derive(Debug, Clone)]
pub(crate) struct InvoiceSettings {
    pub warehouse: Option<String>,
    pub operation_type: Option<String>,
    pub shipping_name: String,
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn cents(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// An amount as JSON text with at most `places` decimals.
fn decimal(amount: Decimal, places: u32) -> Value {
    Value::String(
        amount
            .round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero)
            .normalize()
            .to_string(),
    )
}

/// A named line without an item (shipping, a fee) of `net` and `vat`.
fn named_line(name: &str, net: Decimal, vat: Option<Decimal>, rate: Option<Decimal>) -> Value {
    let rate = rate
        .or_else(|| {
            vat.filter(|_| !net.is_zero())
                .map(|vat| (vat / net * Decimal::ONE_HUNDRED).round_dp(0))
        })
        .unwrap_or_default();
    json!({
        "name": name,
        "quantity": "1",
        "price": decimal(net, 4),
        "sum": decimal(net, 2),
        "vatPercent": decimal(rate, 2),
    })
}

/// The warehouse an order is booked in: its own, else the flow's.
pub(crate) fn warehouse_of(payload: &Value, settings: &InvoiceSettings) -> Option<String> {
    text(payload.get("warehouse")).or_else(|| settings.warehouse.clone())
}

/// The sale body of an order, with `warehouse_id` resolved by the caller (0 in a precheck).
pub(crate) fn sale(payload: &Value, settings: &InvoiceSettings, warehouse_id: i64) -> Result<Value, String> {
    let order: Order = serde_json::from_value(payload.clone()).map_err(|error| format!("not an order: {error}"))?;
    let number = text(payload.get("number")).ok_or("the order has no number")?;
    let client = text(payload.pointer("/customer/code")).ok_or(
        "the order has no buyer (customer.code): let the order pipeline find or create it, or set default_customer \
         on the flow to a B1 client id",
    )?;
    let client_id: i64 = client.parse().map_err(|_| {
        format!(
            "customer.code {client:?} is not a B1 client id: B1 names clients by number on a sale — set \
             default_customer to the client's id (in the address of its page in B1), or let the order pipeline \
             find the buyer by e-mail"
        )
    })?;
    if warehouse_of(payload, settings).is_none() {
        return Err(
            "the order names no warehouse and the flow none: set warehouse = \"ID or name\" on the flow's `to` \
             or defaults.warehouse"
                .to_owned(),
        );
    }
    let date = text(payload.get("created_at"))
        .map(|at| at.chars().take(10).collect::<String>())
        .unwrap_or_else(|| Utc::now().format("%Y-%m-%d").to_string());
    let currency = order
        .currency
        .as_deref()
        .map(str::trim)
        .filter(|code| !code.is_empty())
        .unwrap_or("EUR")
        .to_uppercase();
    let mut items = Vec::new();
    for (index, line) in order.lines.iter().enumerate() {
        let place = format!("line {} ({})", index + 1, line.sku);
        let net =
            tiltas_model::line_net(line).ok_or_else(|| format!("{place}: the line has neither a total nor a price"))?;
        if line.quantity.is_zero() {
            return Err(format!("{place}: the quantity is 0"));
        }
        let mut item = Map::new();
        item.insert("code".to_owned(), json!(line.sku.trim()));
        item.insert(
            "name".to_owned(),
            json!(line.name.clone().unwrap_or_else(|| line.sku.trim().to_owned())),
        );
        item.insert("quantity".to_owned(), decimal(line.quantity, 4));
        item.insert("price".to_owned(), decimal(net / line.quantity, 4));
        item.insert("sum".to_owned(), decimal(net, 2));
        item.insert("vatPercent".to_owned(), decimal(line.vat_rate.unwrap_or_default(), 2));
        items.push(Value::Object(item));
    }
    if items.is_empty() {
        return Err("the order has no lines".to_owned());
    }
    let totals = order.totals.clone().unwrap_or_default();
    if let Some(shipping) = totals.shipping.filter(|amount| !amount.is_zero()) {
        items.push(named_line(
            &settings.shipping_name,
            shipping,
            Some(totals.shipping_tax.unwrap_or_default()),
            None,
        ));
    }
    for fee in &order.fees {
        let name = fee.name.clone().unwrap_or_else(|| "Mokestis".to_owned());
        items.push(named_line(&name, fee.total, fee.total_tax, fee.vat_rate));
    }
    check_sums(&order, &items)?;
    let mut sale = json!({
        "number": number,
        "saleDate": date,
        "clientId": client_id,
        "warehouseId": warehouse_id,
        "currencyCode": currency,
        "items": items,
    });
    if let Some(operation) = &settings.operation_type {
        let id: i64 = operation
            .trim()
            .parse()
            .map_err(|_| format!("operation_type {operation:?} is not an id: set it to the operation type's number"))?;
        sale["operationTypeId"] = json!(id);
    }
    // `raw.X` in the mapped payload sets B1's own sale fields (`raw.seriesId`, `raw.employeeId`).
    if let (Some(Value::Object(raw)), Value::Object(fields)) = (payload.get("raw"), &mut sale) {
        for (name, value) in raw {
            fields.insert(name.clone(), value.clone());
        }
    }
    Ok(sale)
}

/// The sale's line sums must come to the order's net total (a cent per line).
fn check_sums(order: &Order, items: &[Value]) -> Result<(), String> {
    let Some(net) = order.totals.as_ref().and_then(|totals| totals.net) else {
        return Ok(());
    };
    let sum: Decimal = items
        .iter()
        .filter_map(|item| item.get("sum")?.as_str()?.parse::<Decimal>().ok())
        .sum();
    let tolerance = Decimal::new(1, 2) * Decimal::from(items.len());
    if (sum - net).abs() > tolerance {
        return Err(format!(
            "the invoice's lines come to {} net against the order's {}: the order has amounts the lines leave \
             out — check its lines, fees and shipping, then retry",
            cents(sum).normalize(),
            cents(net).normalize()
        ));
    }
    Ok(())
}
