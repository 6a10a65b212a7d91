//! Choosing the best offers: by price (the total in the company currency for the quantity
//! asked) and by delivery (the earliest estimate), each among offers with enough stock —
//! an offer that cannot deliver the quantity is not the cheapest way to get it.
use super::{BestOffer, QuoteOffer};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::cmp::Ordering;

/// `None` after every known value.
fn known_first<T: Ord>(a: Option<T>, b: Option<T>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

fn by_price(a: &QuoteOffer, b: &QuoteOffer) -> Ordering {
    known_first::<Decimal>(a.total_company, b.total_company)
        .then_with(|| known_first::<NaiveDate>(a.delivery_estimate, b.delivery_estimate))
        .then_with(|| (&a.supplier, &a.part_code).cmp(&(&b.supplier, &b.part_code)))
}

fn by_delivery(a: &QuoteOffer, b: &QuoteOffer) -> Ordering {
    known_first::<NaiveDate>(a.delivery_estimate, b.delivery_estimate)
        .then_with(|| known_first::<Decimal>(a.total_company, b.total_company))
        .then_with(|| (&a.supplier, &a.part_code).cmp(&(&b.supplier, &b.part_code)))
}

fn best(offer: &QuoteOffer) -> BestOffer {
    BestOffer {
        supplier: offer.supplier.clone(),
        part_code: offer.part_code.clone(),
        total_company: offer.total_company,
        delivery_estimate: offer.delivery_estimate,
    }
}

/// Orders `offers` cheapest first (unpriced last) and names the best by price and by delivery
/// among those with enough stock (a price in the company currency, respectively a delivery
/// estimate, required).
pub fn mark_best(offers: &mut [QuoteOffer]) -> (Option<BestOffer>, Option<BestOffer>) {
    offers.sort_by(by_price);
    let stocked = || offers.iter().filter(|offer| offer.enough_stock);
    let cheapest = stocked()
        .filter(|offer| offer.total_company.is_some())
        .min_by(|a, b| by_price(a, b))
        .map(best);
    let soonest = stocked()
        .filter(|offer| offer.delivery_estimate.is_some())
        .min_by(|a, b| by_delivery(a, b))
        .map(best);
    (cheapest, soonest)
}
