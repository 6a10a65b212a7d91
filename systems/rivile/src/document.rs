//! An order as a Rivile sales document: header `I06` with its lines in `I07`, booked exactly as
//! the shop sold it — each line's own net amount and VAT (`I07_SUMA`, `I07_PVM`) with the unit
//! price derived from them at Rivile's four decimals, the shipping charge, fees and (when asked)
//! discounts as service lines, and the order's currency. What cannot be booked that way is
//! refused with the field and the fix, never written short.
use super::schema;
use super::target::{check_widths, Writing};
use chrono::Utc;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Value};
use tiltas_model::{Order, OrderLine};

/// Rivile's national currency: `I06_VAL_POZ` 0.
const NATIONAL_CURRENCY: &str = "EUR";

pub(crate) fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

pub(crate) fn put(row: &mut Map<String, Value>, column: &str, value: Option<String>) {
    if let Some(value) = value {
        row.insert(column.to_owned(), Value::String(value));
    }
}

pub(crate) fn cents(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

pub(crate) fn amount(value: Decimal) -> String {
    cents(value).normalize().to_string()
}

/// A service line (`I07_TIPAS` 2) of `net` and `vat` under an N25 code.
fn service_line(code: &str, net: Decimal, vat: Option<Decimal>, rate: Option<Decimal>) -> Map<String, Value> {
    let rate = rate.or_else(|| {
        vat.filter(|_| !net.is_zero())
            .map(|vat| (vat / net * Decimal::ONE_HUNDRED).round_dp(0))
    });
    let mut row = Map::new();
    put(&mut row, "I07_KODAS", Some(code.to_owned()));
    put(&mut row, "I07_TIPAS", Some("2".to_owned()));
    put(&mut row, "I07_KIEKIS", Some("1".to_owned()));
    put(&mut row, "I07_KAINA_BE", Some(amount(net)));
    put(&mut row, "I07_SUMA", Some(amount(net)));
    put(&mut row, "I07_PVM", vat.map(amount));
    put(&mut row, "I07_MOKESTIS", Some("1".to_owned()));
    put(
        &mut row,
        "I07_MOKESTIS_P",
        rate.map(|rate| rate.normalize().to_string()),
    );
    row
}

impl Writing {
    /// The order's currency columns: none for EUR; `I06_VAL_POZ` 1 and `I06_KODAS_VL` for a
    /// currency listed in `currencies` (GAMA applies its own rate for the document date unless
    /// the mapping sets `raw.I06_KURSAS`); refused otherwise.
    pub(crate) fn currency_columns(
        &self,
        currency: Option<&str>,
        what: &str,
    ) -> Result<Vec<(&'static str, String)>, String> {
        let currency = currency
            .map(str::trim)
            .filter(|code| !code.is_empty())
            .unwrap_or(NATIONAL_CURRENCY)
            .to_uppercase();
        if currency == NATIONAL_CURRENCY {
            return Ok(vec![("I06_VAL_POZ", "0".to_owned())]);
        }
        if self.currencies.iter().any(|code| code.eq_ignore_ascii_case(&currency)) {
            return Ok(vec![("I06_VAL_POZ", "1".to_owned()), ("I06_KODAS_VL", currency)]);
        }
        Err(format!(
            "the {what} is in {currency} and this Rivile target books {}: to book it as a foreign-currency \
             document add \"{currency}\" to `currencies` on the flow's `to` (GAMA applies its {currency} rate of \
             the document date), or leave such records out with filter = \"${{ currency == \\\"EUR\\\" }}\" — \
             Tiltas never converts amounts itself",
            if self.currencies.is_empty() {
                "EUR only".to_owned()
            } else {
                format!("EUR and {}", self.currencies.join(", "))
            }
        ))
    }

    /// A product line at the line's own amounts (before discounts when discounts are lines).
    fn product_line(&self, line: &OrderLine, index: usize) -> Result<Map<String, Value>, String> {
        let place = || format!("line {} ({})", index + 1, line.sku);
        let net = if self.discount_service.is_some() {
            line.subtotal.or_else(|| tiltas_model::line_net(line))
        } else {
            tiltas_model::line_net(line)
        }
        .ok_or_else(|| format!("{}: the line has neither a total nor a price", place()))?;
        let vat = if self.discount_service.is_some() && line.subtotal.is_some() {
            line.vat_rate.map(|rate| cents(net * rate / Decimal::ONE_HUNDRED))
        } else {
            tiltas_model::line_vat(line)
        };
        if line.quantity.is_zero() {
            return Err(format!("{}: the quantity is 0", place()));
        }
        let unit = (net / line.quantity)
            .round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)
            .normalize();
        let mut row = Map::new();
        put(&mut row, "I07_KODAS", Some(line.sku.trim().to_owned()));
        put(&mut row, "I07_TIPAS", Some("1".to_owned()));
        put(&mut row, "I07_KIEKIS", Some(line.quantity.normalize().to_string()));
        put(&mut row, "I07_KAINA_BE", Some(unit.to_string()));
        put(&mut row, "I07_SUMA", Some(amount(net)));
        put(&mut row, "I07_PVM", vat.map(amount));
        put(&mut row, "I07_MOKESTIS", Some("1".to_owned()));
        put(
            &mut row,
            "I07_MOKESTIS_P",
            line.vat_rate.map(|rate| rate.normalize().to_string()),
        );
        check_widths(&schema::I07, &row).map_err(|message| format!("{}: {message}", place()))?;
        Ok(row)
    }

    /// An order as a document: header `I06` with its lines in `I07`.
    pub(crate) fn document(&self, payload: &Value) -> Result<Map<String, Value>, String> {
        let order: Order = serde_json::from_value(payload.clone()).map_err(|error| format!("not an order: {error}"))?;
        let number = text(payload.get("number")).ok_or("the order has no number")?;
        let client = text(payload.pointer("/customer/code"))
            .ok_or("the order has no customer code (customer.code): map or default it to a Rivile client code")?;
        let date = text(payload.get("created_at"))
            .map(|at| at.chars().take(10).collect::<String>())
            .unwrap_or_else(|| Utc::now().format("%Y-%m-%d").to_string());
        let warehouse = text(payload.get("warehouse")).or_else(|| self.warehouse.clone());
        let mut header = Map::new();
        put(&mut header, "I06_OP_TIP", Some(self.operation.clone()));
        put(&mut header, "I06_DOK_NR", Some(number));
        put(&mut header, "I06_OP_DATA", Some(date.clone()));
        put(&mut header, "I06_DOK_DATA", Some(date));
        put(&mut header, "I06_KODAS_KS", Some(client));
        for (column, value) in self.currency_columns(order.currency.as_deref(), "order")? {
            put(&mut header, column, Some(value));
        }
        put(&mut header, "I06_KODAS_IS", warehouse);
        put(&mut header, "I06_PASTABA", text(payload.get("note")));
        // `raw.I06_*` in the mapped payload sets Rivile's own header columns.
        if let Some(Value::Object(raw)) = payload.get("raw") {
            for (name, value) in raw {
                let Some(column) = self.table.column(name) else {
                    return Err(format!("raw.{name}: I06 has no such column"));
                };
                put(&mut header, column.name, text(Some(value)));
            }
        }
        check_widths(self.table, &header)?;
        let mut lines = Vec::new();
        for (index, line) in order.lines.iter().enumerate() {
            lines.push(Value::Object(self.product_line(line, index)?));
        }
        if lines.is_empty() {
            return Err("the order has no lines".to_owned());
        }
        let totals = order.totals.clone().unwrap_or_default();
        if let Some(shipping) = totals.shipping.filter(|amount| !amount.is_zero()) {
            let Some(service) = &self.shipping_service else {
                return Err(format!(
                    "the order charges {} for shipping and the flow names no service to invoice it under: set \
                     shipping_service = \"CODE\" (an N25 service code) on the flow's `to`, then retry",
                    amount(shipping)
                ));
            };
            let vat = totals.shipping_tax.or(Some(Decimal::ZERO));
            lines.push(Value::Object(service_line(service, shipping, vat, None)));
        }
        for fee in &order.fees {
            let name = fee.name.clone().unwrap_or_else(|| "fee".to_owned());
            let Some(service) = &self.fee_service else {
                return Err(format!(
                    "the order has a fee {name:?} of {} and the flow names no service to invoice fees under: set \
                     fee_service = \"CODE\" (an N25 service code) on the flow's `to`, then retry",
                    amount(fee.total)
                ));
            };
            lines.push(Value::Object(service_line(
                service,
                fee.total,
                fee.total_tax,
                fee.vat_rate,
            )));
        }
        if let Some(service) = &self.discount_service {
            for discount in &order.discounts {
                lines.push(Value::Object(service_line(
                    service,
                    -discount.total,
                    discount.total_tax.map(|tax| -tax),
                    None,
                )));
            }
        }
        self.check_sums(&order, &lines)?;
        header.insert("I07".to_owned(), Value::Array(lines));
        Ok(header)
    }

    /// The document's lines must add up to the order's net and VAT totals (a cent per line).
    fn check_sums(&self, order: &Order, lines: &[Value]) -> Result<(), String> {
        let Some(totals) = &order.totals else { return Ok(()) };
        let sum = |column: &str| -> Option<Decimal> {
            lines
                .iter()
                .map(|line| line.get(column).and_then(Value::as_str)?.parse::<Decimal>().ok())
                .sum()
        };
        let tolerance = Decimal::new(1, 2) * Decimal::from(lines.len());
        let mut differences = Vec::new();
        for (name, document, ordered) in [
            ("net", sum("I07_SUMA"), totals.net),
            ("VAT", sum("I07_PVM"), totals.vat),
        ] {
            if let (Some(document), Some(ordered)) = (document, ordered) {
                if (document - ordered).abs() > tolerance {
                    differences.push(format!(
                        "{name} {} against the order's {}",
                        amount(document),
                        amount(ordered)
                    ));
                }
            }
        }
        if differences.is_empty() {
            return Ok(());
        }
        Err(format!(
            "the document's lines come to {}: the order has amounts this document would leave out (a discount \
             with discount_service set but no coupon amounts?) — check the order and the flow's services, then retry",
            differences.join(", ")
        ))
    }
}
