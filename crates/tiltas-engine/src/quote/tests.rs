//! The best-offer choice, the part filter, pricing in the company currency and hub ids.
use super::*;
use std::collections::BTreeMap;
use std::str::FromStr;
use tiltas_model::BranchAvailability;

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn day(d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(2026, 12, d)
}

fn offer(supplier: &str, total: Option<&str>, stock: &str, delivery: Option<NaiveDate>) -> QuoteOffer {
    QuoteOffer {
        supplier: supplier.to_owned(),
        system: "test".to_owned(),
        part_code: format!("{supplier}-1"),
        article: Some("W 712/75".to_owned()),
        brand: Some("MANN".to_owned()),
        ean: None,
        name: None,
        price: None,
        price_company: None,
        total_company: total.map(dec),
        available: dec(stock),
        enough_stock: dec(stock) >= dec("2"),
        availability: Vec::new(),
        delivery_estimate: delivery,
        hub_id: String::new(),
        note: None,
    }
}

#[test]
fn the_best_price_is_the_cheapest_total_among_offers_with_enough_stock() {
    let mut offers = vec![
        offer("dear", Some("30.00"), "5", day(3)),
        offer("cheap-but-short", Some("10.00"), "1", day(1)),
        offer("unpriced", None, "9", day(1)),
        offer("cheapest-stocked", Some("20.00"), "2", day(5)),
        offer("same-price-later", Some("20.00"), "4", day(6)),
    ];
    let (price, delivery) = mark_best(&mut offers);
    let price = price.unwrap_or_else(|| panic!("no best price"));
    assert_eq!(
        price.supplier, "cheapest-stocked",
        "short stock does not win; a tie goes to the earlier delivery"
    );
    assert_eq!(price.total_company, Some(dec("20.00")));
    let delivery = delivery.unwrap_or_else(|| panic!("no best delivery"));
    assert_eq!(
        delivery.supplier, "unpriced",
        "the earliest delivery with enough stock, priced or not"
    );
    let order: Vec<&str> = offers.iter().map(|o| o.supplier.as_str()).collect();
    assert_eq!(
        order,
        [
            "cheap-but-short",
            "cheapest-stocked",
            "same-price-later",
            "dear",
            "unpriced"
        ],
        "cheapest first, unpriced last"
    );
}

#[test]
fn no_offer_with_enough_stock_names_no_best() {
    let mut offers = vec![offer("a", Some("10"), "1", day(1)), offer("b", Some("12"), "0", None)];
    assert_eq!(mark_best(&mut offers), (None, None));
    assert_eq!(mark_best(&mut []), (None, None));
}

fn supplier_offer(article: &str, brand: Option<&str>, ean: Option<&str>) -> SupplierOffer {
    SupplierOffer {
        supplier: "x".to_owned(),
        part_code: "X-1".to_owned(),
        article: Some(article.to_owned()),
        brand: brand.map(str::to_owned),
        ean: ean.map(str::to_owned),
        name: None,
        price: Some(dec("100")),
        price_gross: Some(dec("123")),
        currency: Some("PLN".to_owned()),
        availability: vec![
            BranchAvailability {
                branch: "WAW".to_owned(),
                quantity: dec("3"),
                delivery_date: day(4),
            },
            BranchAvailability {
                branch: "KRK".to_owned(),
                quantity: dec("0"),
                delivery_date: day(2),
            },
        ],
        updated_at: None,
        raw: serde_json::Map::new(),
    }
}

#[test]
fn offers_are_kept_by_number_and_brand_however_written_and_by_ean_when_asked() {
    let wanted = PartIdentity::new("w712-75", Some("MANN-FILTER"));
    assert!(is_the_part(
        &supplier_offer("W 712/75", Some("MANN"), None),
        &wanted,
        None
    ));
    assert!(
        is_the_part(&supplier_offer("W71275", None, None), &wanted, None),
        "a brand not given matches"
    );
    assert!(!is_the_part(
        &supplier_offer("W 712/75", Some("BOSCH"), None),
        &wanted,
        None
    ));
    assert!(!is_the_part(
        &supplier_offer("W 712/76", Some("MANN"), None),
        &wanted,
        None
    ));
    let ean = Some("4011558734200");
    assert!(is_the_part(
        &supplier_offer("W 712/75", Some("MANN"), ean),
        &wanted,
        Some("4011558734200")
    ));
    assert!(!is_the_part(
        &supplier_offer("W 712/75", Some("MANN"), Some("4011558000000")),
        &wanted,
        ean
    ));
}

fn connection() -> Connection {
    let text = "[quote]\n[connections.ic]\nsystem = \"jsonl\"\n";
    let config = tiltas_config::parse_str(
        text,
        std::path::Path::new("q.toml"),
        tiltas_systems::registry::catalog(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    config.connections[0].clone()
}

#[test]
fn offers_are_priced_in_the_company_currency_or_kept_with_a_note_when_there_is_no_rate() {
    let connection = connection();
    let rates = Rates {
        date: None,
        per_euro: BTreeMap::from([("PLN".to_owned(), dec("4.2675"))]),
    };
    let wanted = PartIdentity::new("W 712/75", Some("MANN"));
    let priced = Priced {
        supplier: &connection,
        rates: Some(&rates),
        company: "EUR",
        quantity: dec("2"),
    };
    let offer = priced.offer(supplier_offer("W 712/75", Some("MANN"), None), &wanted);
    let company = offer
        .price_company
        .clone()
        .unwrap_or_else(|| panic!("no company price"));
    assert_eq!((company.net, company.gross), (Some(dec("23.43")), Some(dec("28.82"))));
    assert_eq!(offer.total_company, Some(dec("46.86")));
    assert_eq!((offer.available, offer.enough_stock), (dec("3"), true));
    assert_eq!(
        offer.delivery_estimate,
        day(4),
        "the earliest date of a branch with stock"
    );
    assert_eq!(offer.hub_id, part_hub_id(&wanted).to_string());

    let mut in_uah = supplier_offer("W 712/75", Some("MANN"), None);
    in_uah.currency = Some("UAH".to_owned());
    let kept = priced.offer(in_uah, &wanted);
    assert_eq!(
        kept.price.map(|p| p.net),
        Some(Some(dec("100"))),
        "kept, in its own currency"
    );
    assert_eq!(kept.price_company, None);
    assert!(kept.note.unwrap_or_default().contains("no exchange rate for UAH"));
}

#[test]
fn a_parts_hub_id_is_the_same_however_the_number_and_brand_are_written() {
    let one = part_hub_id(&PartIdentity::new("W 712/75", Some("MANN-FILTER")));
    assert_eq!(one, part_hub_id(&PartIdentity::new("w71275", Some("mann"))));
    assert_ne!(one, part_hub_id(&PartIdentity::new("W 712/75", Some("BOSCH"))));
    assert_eq!(one.get_version_num(), 5);
}
