//! What an invoice built from an order comes to, checked against the order's own totals before
//! anything is booked: an accounting integration must never book less (or more) than the shop
//! sold without a word. Amounts are the source's own line totals, never recomputed from unit
//! prices, so a hand-set line price or a per-line discount is booked as sold.
use crate::records::{Order, OrderLine};
use rust_decimal::{Decimal, RoundingStrategy};

/// The sums of an invoice made of an order's lines, fees and shipping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvoiceSums {
    /// Without VAT.
    pub net: Decimal,
    /// VAT, when every part states it (or its rate).
    pub vat: Option<Decimal>,
    /// How many invoice lines the sums are made of (each may round by a cent).
    pub lines: usize,
}

fn cents(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// A line's amount without VAT: its own `total`, else price × quantity less its discount.
pub fn line_net(line: &OrderLine) -> Option<Decimal> {
    line.total.or_else(|| {
        line.price
            .map(|price| cents(price * line.quantity - line.discount.unwrap_or_default()))
    })
}

/// A line's VAT: its own `total_tax`, else its net amount at its rate.
pub fn line_vat(line: &OrderLine) -> Option<Decimal> {
    line.total_tax.or_else(|| {
        let net = line_net(line)?;
        line.vat_rate.map(|rate| cents(net * rate / Decimal::ONE_HUNDRED))
    })
}

/// The unit price without VAT a target that wants one books, derived from the line's total so
/// that price × quantity gives the line's amount back at `places` decimals.
pub fn unit_price(line: &OrderLine, places: u32) -> Option<Decimal> {
    let net = line_net(line)?;
    if line.quantity.is_zero() {
        return None;
    }
    Some(
        (net / line.quantity)
            .round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero)
            .normalize(),
    )
}

/// The sums of the invoice an order becomes: every line, every fee and the shipping charge.
pub fn invoice_sums(order: &Order) -> Option<InvoiceSums> {
    let mut net = Decimal::ZERO;
    let mut vat = Some(Decimal::ZERO);
    let mut lines = 0;
    for line in &order.lines {
        net += line_net(line)?;
        vat = vat.zip(line_vat(line)).map(|(sum, part)| sum + part);
        lines += 1;
    }
    for fee in &order.fees {
        net += fee.total;
        let tax = fee
            .total_tax
            .or_else(|| fee.vat_rate.map(|rate| cents(fee.total * rate / Decimal::ONE_HUNDRED)));
        vat = vat.zip(tax).map(|(sum, part)| sum + part);
        lines += 1;
    }
    let totals = order.totals.clone().unwrap_or_default();
    if let Some(shipping) = totals.shipping.filter(|amount| !amount.is_zero()) {
        net += shipping;
        vat = vat
            .zip(totals.shipping_tax.or(Some(Decimal::ZERO)))
            .map(|(sum, part)| sum + part);
        lines += 1;
    }
    Some(InvoiceSums { net, vat, lines })
}

/// Checks that the invoice an order becomes equals the order's own net, VAT and gross totals,
/// within one cent per invoice line; the error names both sums and what to do.
pub fn check_order_totals(order: &Order) -> Result<(), String> {
    let Some(totals) = order.totals.as_ref() else {
        return Ok(());
    };
    let Some(sums) = invoice_sums(order) else {
        return Ok(());
    };
    let tolerance = Decimal::new(1, 2) * Decimal::from(sums.lines.max(1));
    let gross = sums.vat.map(|vat| sums.net + vat);
    let mut differences = Vec::new();
    let mut compare = |name: &str, invoice: Option<Decimal>, order: Option<Decimal>| {
        if let (Some(invoice), Some(order)) = (invoice, order) {
            if (invoice - order).abs() > tolerance {
                differences.push(format!(
                    "{name} {} against the order's {}",
                    cents(invoice),
                    cents(order)
                ));
            }
        }
    };
    compare("net", Some(sums.net), totals.net);
    compare("VAT", sums.vat, totals.vat);
    compare("gross", gross, totals.gross);
    if differences.is_empty() {
        return Ok(());
    }
    Err(format!(
        "the invoice would come to {} (lines, fees and shipping; {} cent(s) of rounding allowed): \
         part of what the buyer paid is not among the order's lines, fees and shipping — check the order \
         in the source system (a charge a plugin added, a line without a total), then retry",
        differences.join(", "),
        sums.lines
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order(value: serde_json::Value) -> Order {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn line_totals_fees_and_shipping_add_up_to_the_order() {
        // A hand-set line price: 3 × 9.99 would be 29.97, the shop charged 28.50.
        let order = order(json!({
            "number": "1",
            "lines": [{"sku": "A", "quantity": "3", "price": "9.99", "total": "28.50", "total_tax": "5.99"}],
            "fees": [{"name": "Pakavimas", "total": "2.00", "total_tax": "0.42"}],
            "totals": {"net": "35.50", "vat": "7.88", "gross": "43.38", "shipping": "5.00", "shipping_tax": "1.05"}
        }));
        let sums = invoice_sums(&order).unwrap();
        assert_eq!(sums.net, Decimal::new(3550, 2));
        assert_eq!(sums.vat, Some(Decimal::new(746, 2)));
        assert_eq!(sums.lines, 3);
        let error = check_order_totals(&order).unwrap_err();
        assert!(error.contains("VAT 7.46 against the order's 7.88"), "{error}");
        assert!(error.contains("gross 42.96 against the order's 43.38"), "{error}");
    }

    #[test]
    fn a_cent_of_rounding_per_line_is_allowed_and_a_missing_fee_is_not() {
        let balanced = order(json!({
            "number": "1",
            "lines": [
                {"sku": "A", "quantity": "1", "total": "10.00", "total_tax": "2.10"},
                {"sku": "B", "quantity": "1", "total": "0.33", "total_tax": "0.07"}
            ],
            "totals": {"net": "10.33", "vat": "2.16", "gross": "12.49"}
        }));
        assert_eq!(check_order_totals(&balanced), Ok(()));
        let fee_dropped = order(json!({
            "number": "1",
            "lines": [{"sku": "A", "quantity": "1", "total": "10.00", "total_tax": "2.10"}],
            "totals": {"net": "12.00", "vat": "2.52", "gross": "14.52"}
        }));
        let error = check_order_totals(&fee_dropped).unwrap_err();
        assert!(error.contains("net 10.00 against the order's 12.00"), "{error}");
    }

    #[test]
    fn a_unit_price_is_derived_from_the_line_total() {
        let line: OrderLine =
            serde_json::from_value(json!({"sku": "A", "quantity": "3", "price": "9.99", "total": "28.50"})).unwrap();
        assert_eq!(unit_price(&line, 4), Some(Decimal::new(95, 1)));
        let line: OrderLine = serde_json::from_value(json!({"sku": "A", "quantity": "3", "total": "10.00"})).unwrap();
        assert_eq!(unit_price(&line, 4), Some(Decimal::new(33333, 4)));
        let line: OrderLine =
            serde_json::from_value(json!({"sku": "A", "quantity": "2", "price": "4.10", "discount": "0.20"})).unwrap();
        assert_eq!(line_net(&line), Some(Decimal::new(800, 2)));
    }
}
