//! Supplier invoices as purchase documents: each way a line finds its Rivile product, the look-up
//! by supplier and number, and what is refused (an unknown part, a kind or currency Rivile is
//! not told to book) with the supplier, the code, the brand and the fix.
use super::{item, writing};
use crate::{OpenGate, WriteOutcome};
use serde_json::{json, Value};
use std::sync::Arc;
use tiltas_rivile_sim::{part_product, router, RivileSim, Seeding};
use tiltas_sim::Harness;

const SEED: u64 = 18;

async fn books() -> (String, Arc<RivileSim>) {
    let seeding = Seeding {
        seed: SEED,
        products: 3,
        customers: 0,
    };
    let sim = Arc::new(RivileSim::new(super::KEY, seeding).with_parts(8));
    let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim.clone(), SEED)))
        .await
        .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    (url, sim)
}

/// An Inter Cars invoice: `(supplier's code, maker's number, brand)` per line, 2 pieces at 10.
fn invoice(number: &str, lines: &[(&str, &str, &str)]) -> Value {
    json!({
        "number": number,
        "kind": "incoming_receipt",
        "date": "2026-11-02",
        "counterparty": "INTERCARS",
        "currency": "PLN",
        "lines": lines.iter().map(|(code, _, _)| json!({ "sku": code, "quantity": "2", "price": "10.00", "vat_rate": "23" })).collect::<Vec<_>>(),
        "total": (Value::from(24.6 * lines.len() as f64)),
        "note": "Inter Cars order 1",
        "raw": { "id": "77", "lines": lines.iter().map(|(code, article, brand)| json!({ "sku": code, "index": article, "brand": brand })).collect::<Vec<_>>() }
    })
}

fn catalogue() -> Vec<tiltas_sim::parts::Part> {
    tiltas_sim::parts::catalogue(SEED, 8)
}

#[tokio::test]
async fn lines_find_products_by_xref_supplier_code_makers_number_and_barcode() {
    let (url, sim) = books().await;
    let parts = catalogue();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let xref = dir.path().join("xref.csv");
    std::fs::write(&xref, "supplier,code,item\nINTERCARS,IC-OWN,A00102\n").unwrap_or_else(|e| panic!("{e}"));
    let to = format!(
        ", counterparty = \"INTERCARS\", currencies = [\"PLN\"], part_xref = \"{}\"",
        xref.display()
    );
    let config = writing(&url, "document", &to, "match_on = \"number\"");
    let mut target =
        crate::registry::open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap_or_else(|e| panic!("{e}"));
    // Part 0 is coded by its maker's number, part 1 keeps it as a barcode.
    let (by_number, _) = part_product(&parts[0], 0);
    let (by_barcode, barcode) = part_product(&parts[1], 1);
    assert!(barcode.is_some(), "part 1 is found by its barcode");
    let lines = [
        ("IC-1", parts[0].article.as_str(), parts[0].brand.as_str()),
        ("IC-2", parts[1].article.as_str(), parts[1].brand.as_str()),
        ("A00101", "", "BOSCH"),
        ("IC-OWN", "X 1", "NGK"),
    ];
    let payload = invoice("FV/2026/1", &lines);
    assert_eq!(target.precheck(&payload), Ok(()));
    let result = target
        .write_batch(vec![item(payload, None)])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(&result.outcomes[0], WriteOutcome::Written { .. }),
        "{:?}",
        result.outcomes
    );
    let purchases = sim.purchases();
    assert_eq!(purchases.len(), 1);
    let purchase = &purchases[0];
    assert_eq!(
        (
            &purchase["I06_OP_TIP"],
            &purchase["I06_KODAS_KS"],
            &purchase["I06_KODAS_VL"],
            &purchase["I06_KODAS_IS"]
        ),
        (&json!("1"), &json!("INTERCARS"), &json!("PLN"), &json!("CENTR"))
    );
    let codes: Vec<&str> = purchase["I07"]
        .as_array()
        .map(|lines| lines.iter().filter_map(|line| line["I07_KODAS"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(codes, [by_number.as_str(), by_barcode.as_str(), "A00101", "A00102"]);
    assert_eq!(purchase["I06_SUMA"], "80.00");
    assert_eq!(purchase["I06_PVM"], "18.40");

    // Found again by supplier and number; another supplier's same number is not it.
    let found = target
        .lookup(Some("number"), &["FV/2026/1".to_owned()])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(found.found.contains_key("FV/2026/1"), "{:?}", found.found.keys());
    let omega = writing(&url, "document", ", counterparty = \"OMEGA\"", "match_on = \"number\"");
    let mut other =
        crate::registry::open_target(&omega, &omega.flows[0], Arc::new(OpenGate)).unwrap_or_else(|e| panic!("{e}"));
    let found = other
        .lookup(Some("number"), &["FV/2026/1".to_owned()])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(found.found.is_empty(), "{:?}", found.found.keys());
}

#[tokio::test]
async fn an_unknown_part_fails_the_invoice_naming_supplier_code_brand_and_the_fix() {
    let (url, sim) = books().await;
    let parts = catalogue();
    let config = writing(
        &url,
        "document",
        ", counterparty = \"INTERCARS\", currencies = [\"PLN\"]",
        "match_on = \"number\"",
    );
    let mut target =
        crate::registry::open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap_or_else(|e| panic!("{e}"));
    let lines = [
        ("IC-1", parts[0].article.as_str(), parts[0].brand.as_str()),
        ("ZZQNEW", "W 999/99", "MANN-FILTER"),
    ];
    let result = target
        .write_batch(vec![item(invoice("FV/2026/9", &lines), None)])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let WriteOutcome::Failed(error) = &result.outcomes[0] else {
        panic!("written: {:?}", result.outcomes)
    };
    assert_eq!(error.kind, crate::ErrorKind::Invalid);
    for needed in [
        "line 2",
        "INTERCARS",
        "ZZQNEW",
        "W 999/99",
        "MANN-FILTER",
        "create the item",
        "part_xref",
    ] {
        assert!(error.message.contains(needed), "{needed}: {}", error.message);
    }
    assert!(sim.purchases().is_empty(), "nothing of the invoice is booked");

    // Kinds and currencies Rivile is not told to book are refused before anything is sent.
    let mut sale = invoice("S-1", &lines[..1]);
    sale["kind"] = json!("sales_invoice");
    assert!(target.precheck(&sale).is_err_and(|m| m.contains("purchase documents")));
    let mut dollars = invoice("U-1", &lines[..1]);
    dollars["currency"] = json!("USD");
    assert!(target
        .precheck(&dollars)
        .is_err_and(|m| m.contains("add \"USD\" to `currencies`")));
    // A supplier's code longer than Rivile's 12 characters is no reason to refuse: it is matched.
    let long = [("INTERCARS-CODE-42", parts[0].article.as_str(), parts[0].brand.as_str())];
    assert_eq!(target.precheck(&invoice("L-1", &long)), Ok(()));
    let mut short = invoice("T-1", &lines[..1]);
    short["total"] = json!("5");
    assert!(target.precheck(&short).is_err_and(|m| m.contains("its total is 5")));
}

#[tokio::test]
async fn a_bad_cross_reference_file_stops_the_flow_naming_the_file_and_line() {
    let (url, _sim) = books().await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let xref = dir.path().join("xref.csv");
    std::fs::write(&xref, "supplier,code,item\nINTERCARS,,A1\n").unwrap_or_else(|e| panic!("{e}"));
    let to = format!(", part_xref = \"{}\"", xref.display());
    let config = writing(&url, "document", &to, "match_on = \"number\"");
    let Err(error) = crate::registry::open_target(&config, &config.flows[0], Arc::new(OpenGate)) else {
        panic!("a bad part_xref opened")
    };
    assert!(
        error.message.contains("xref.csv") && error.message.contains("line 2"),
        "{}",
        error.message
    );
}
