//! Shop orders booked exactly as sold (issue: the order path books what the shop sold): real
//! WooCommerce order shapes delivered as signed webhooks into a Rivile document — statuses,
//! currencies, fee and coupon lines, the shop's own line totals, numeric SKUs, and orders
//! whose totals do not add up.
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::str::FromStr;
use std::sync::Arc;
use tiltas_engine::{Engine, SyncOptions, SyncReport};
use tiltas_sim::{Harness, SimSystem};
use tiltas_store::{ActivityFilter, ActivityOutcome, DeadLetterFilter, Store};
use tiltas_systems::rivile::simulator::{router, RivileSim, Seeding};
use tiltas_systems::woocommerce::webhook;

const KEY: &str = "SHOP.key";
/// The flow's `to` settings of a shop that invoices shipping.
const SHIPPING: &str = ", shipping_service = \"PRISTATYMAS\"";

struct Shop {
    _dir: tempfile::TempDir,
    engine: Engine,
    store: Arc<dyn Store>,
    sim: Arc<RivileSim>,
}

/// A WooCommerce shop (webhooks only) whose processing and completed orders go to a Rivile
/// simulator; `to` adds settings to the flow's `to`.
async fn shop(to: &str) -> Shop {
    let sim = Arc::new(RivileSim::new(
        KEY,
        Seeding {
            seed: 7,
            products: 3,
            customers: 0,
        },
    ));
    let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim.clone(), 7)))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"
[connections.shop]
system = "woocommerce"
base_url = "http://127.0.0.1:9"
consumer_key = "ck_test"
consumer_secret = "cs_test"
webhook_secret = "hook-secret"

[connections.erp]
system = "rivile"
base_url = "{url}/client/v2"
api_key = "{KEY}"
warehouse = "CENTR"

[[flows]]
name = "orders"
entity = "order"
from = {{ connection = "shop", statuses = ["processing", "completed"] }}
to = {{ connection = "erp"{to} }}
trigger = "webhook"
match_on = "number"
on_duplicate = "skip"
create_missing_products = true
"#
    );
    let config = tiltas_config::parse_str(
        &text,
        &dir.path().join("flows.toml"),
        tiltas_systems::registry::catalog(),
    )
    .unwrap_or_else(|errors| panic!("{errors}"));
    let store = tiltas_store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    Shop {
        _dir: dir,
        engine: Engine::new(Arc::new(config), store.clone(), tiltas_systems::registry::systems()),
        store,
        sim,
    }
}

/// A WooCommerce order as its webhook sends it: one line of 2 × A00101 at 10.00 + 21 % VAT.
fn woo_order(id: u64, status: &str) -> Value {
    json!({
        "id": id, "number": id.to_string(), "status": status, "currency": "EUR",
        "date_created_gmt": "2026-11-20T10:00:00", "date_modified_gmt": "2026-11-20T10:00:00",
        "total": "24.20", "total_tax": "4.20", "shipping_total": "0.00", "shipping_tax": "0.00",
        "discount_total": "0.00", "payment_method": "bacs",
        "billing": {"first_name": "Ona", "last_name": "Onaitė", "email": "ona@example.lt", "country": "LT"},
        "line_items": [{"id": 1, "sku": "A00101", "name": "Kava", "quantity": 2, "price": 10,
                        "subtotal": "20.00", "subtotal_tax": "4.20", "total": "20.00", "total_tax": "4.20"}],
        "fee_lines": [], "coupon_lines": [], "shipping_lines": [], "refunds": []
    })
}

impl Shop {
    /// Delivers `order` as a signed `topic` webhook, as the server's inbox worker does.
    async fn deliver(&self, topic: &str, order: &Value) -> SyncReport {
        let body = order.to_string();
        let signature = webhook::sign("hook-secret", body.as_bytes());
        webhook::verify_signature("hook-secret", Some(&signature), body.as_bytes()).unwrap();
        assert_eq!(
            webhook::verify_signature("wrong", Some(&signature), body.as_bytes()),
            Err(webhook::WebhookError::BadSignature)
        );
        let (_, record) = webhook::record(topic, body.as_bytes()).unwrap().unwrap();
        self.engine
            .ingest("orders", vec![record], &SyncOptions::default())
            .await
            .unwrap()
    }

    fn document(&self, number: &str) -> Option<Value> {
        let documents = self.sim.records("I06").unwrap();
        documents
            .as_array()
            .unwrap()
            .iter()
            .find(|document| document["I06_DOK_NR"] == number)
            .cloned()
    }

    fn lines(&self, document: &Value) -> Vec<Value> {
        let code = document["I06_KODAS_PO"].as_str().unwrap();
        let lines = self.sim.records("I07").unwrap();
        lines
            .as_array()
            .unwrap()
            .iter()
            .filter(|line| line["I07_KODAS_PO"] == code)
            .cloned()
            .collect()
    }

    async fn dead_letter(&self, key: &str) -> String {
        let letters = self.store.dead_letters(&DeadLetterFilter::default()).await.unwrap();
        letters
            .into_iter()
            .find(|letter| letter.source_key == key)
            .unwrap_or_else(|| panic!("no dead letter for {key}"))
            .message
    }
}

fn decimal(value: &Value) -> Decimal {
    Decimal::from_str(value.as_str().unwrap_or("0")).unwrap()
}

#[tokio::test]
async fn a_pending_order_is_skipped_with_its_reason_and_booked_once_when_it_is_paid() {
    let shop = shop(SHIPPING).await;
    for status in ["pending", "on-hold", "cancelled", "failed", "refunded"] {
        let report = shop.deliver("order.created", &woo_order(501, status)).await;
        assert_eq!(
            (report.counters.skipped, report.counters.created),
            (1, 0),
            "{status}: {report:?}"
        );
    }
    assert!(shop.document("501").is_none(), "an unpaid order is not an invoice");
    let skipped = shop
        .store
        .activity(&ActivityFilter {
            flow: Some("orders".into()),
            source_key: Some("501".into()),
            ..ActivityFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(skipped.len(), 5);
    assert!(skipped.iter().all(|entry| entry.outcome == ActivityOutcome::Skipped));
    let reason = shop
        .store
        .activity_payloads(skipped[0].id)
        .await
        .unwrap()
        .unwrap()
        .response
        .unwrap();
    assert!(
        reason["reason"]
            .as_str()
            .unwrap()
            .contains("is not in the flow's statuses [processing, completed]"),
        "{reason}"
    );

    let paid = shop.deliver("order.updated", &woo_order(501, "processing")).await;
    assert_eq!(paid.counters.created, 1, "{paid:?}");
    let document = shop.document("501").unwrap();
    assert_eq!(
        (document["I06_SUMA"].as_str(), document["I06_PVM"].as_str()),
        (Some("20.00"), Some("4.20"))
    );
    let again = shop.deliver("order.updated", &woo_order(501, "processing")).await;
    assert_eq!((again.counters.created, again.counters.unchanged), (0, 1), "{again:?}");
    let completed = shop.deliver("order.updated", &woo_order(501, "completed")).await;
    assert_eq!(
        (completed.counters.created, completed.counters.failed),
        (0, 0),
        "{completed:?}"
    );
    let documents = shop.sim.records("I06").unwrap();
    let booked = documents
        .as_array()
        .unwrap()
        .iter()
        .filter(|document| document["I06_DOK_NR"] == "501")
        .count();
    assert_eq!(booked, 1, "booked exactly once");
}

#[tokio::test]
async fn a_foreign_currency_order_is_refused_by_name_or_booked_in_its_currency() {
    let mut usd = woo_order(502, "processing");
    usd["currency"] = json!("USD");
    let shop_eur_only = shop(SHIPPING).await;
    let report = shop_eur_only.deliver("order.created", &usd).await;
    assert_eq!(report.counters.failed, 1, "{report:?}");
    let message = shop_eur_only.dead_letter("502").await;
    assert!(
        message.contains("the order is in USD") && message.contains("add \"USD\" to `currencies`"),
        "{message}"
    );
    assert!(shop_eur_only.document("502").is_none());
    let customers = shop_eur_only.sim.records("customer").unwrap();
    assert_eq!(
        customers.as_array().unwrap().len(),
        0,
        "an order that cannot be booked creates no customer"
    );

    let shop = shop(", shipping_service = \"PRISTATYMAS\", currencies = [\"USD\"]").await;
    let report = shop.deliver("order.created", &usd).await;
    assert_eq!(report.counters.created, 1, "{report:?}");
    let document = shop.document("502").unwrap();
    assert_eq!(document["I06_VAL_POZ"], "1", "{document}");
    assert_eq!(document["I06_KODAS_VL"], "USD", "{document}");
    let eur = shop.deliver("order.created", &woo_order(503, "processing")).await;
    assert_eq!(eur.counters.created, 1);
    assert_eq!(shop.document("503").unwrap()["I06_VAL_POZ"], "0");
}

/// An order with a hand-set line price, a 10 % coupon, a payment fee and shipping — the
/// shapes real shops send (numbers for the SKU and quantity, strings for amounts).
fn rich_order(id: u64) -> Value {
    let mut order = woo_order(id, "processing");
    order["line_items"] = json!([
        // 3 × 9.99 would be 29.97: the shop charged 28.50 before the coupon, 25.65 after it.
        {"id": 1, "sku": "A00101", "name": "Kava", "quantity": 3, "price": 8.55,
         "subtotal": "28.50", "subtotal_tax": "5.99", "total": "25.65", "total_tax": "5.39",
         "taxes": [{"id": 1, "total": "5.39", "subtotal": "5.99"}]},
        {"id": 2, "sku": 123, "name": "Puodelis", "quantity": "1", "price": "4.50",
         "subtotal": "5.00", "subtotal_tax": "1.05", "total": "4.50", "total_tax": "0.95",
         "taxes": [{"id": 1, "total": "0.95", "subtotal": "1.05"}]}
    ]);
    order["coupon_lines"] = json!([{"id": 9, "code": "RUDUO10", "discount": "3.35", "discount_tax": "0.70"}]);
    order["fee_lines"] = json!([{"id": 7, "name": "Apmokėjimo mokestis", "total": "2.00", "total_tax": "0.42",
                                 "taxes": [{"id": 1, "total": "0.42"}]}]);
    order["shipping_lines"] = json!([{"id": 5, "method_id": "flat_rate", "total": "5.00", "total_tax": "1.05"}]);
    order["tax_lines"] = json!([{"id": 11, "rate_id": 1, "label": "PVM", "rate_percent": 21}]);
    order["shipping_total"] = json!("5.00");
    order["shipping_tax"] = json!("1.05");
    order["discount_total"] = json!("3.35");
    order["discount_tax"] = json!("0.70");
    // Net 25.65 + 4.50 + 2.00 + 5.00 = 37.15; VAT 5.39 + 0.95 + 0.42 + 1.05 = 7.81.
    order["total_tax"] = json!("7.81");
    order["total"] = json!("44.96");
    order
}

#[tokio::test]
async fn fees_coupons_and_the_shops_line_totals_are_booked_as_sold() {
    let without_fee_service = shop(SHIPPING).await;
    let report = without_fee_service.deliver("order.created", &rich_order(510)).await;
    assert_eq!(report.counters.failed, 1, "{report:?}");
    let message = without_fee_service.dead_letter("510").await;
    assert!(
        message.contains("fee \"Apmokėjimo mokestis\" of 2") && message.contains("fee_service = \"CODE\""),
        "{message}"
    );

    let shop = shop(", shipping_service = \"PRISTATYMAS\", fee_service = \"MOKESTIS\"").await;
    let report = shop.deliver("order.created", &rich_order(511)).await;
    assert_eq!(report.counters.created, 1, "{report:?}");
    let document = shop.document("511").unwrap();
    assert_eq!(decimal(&document["I06_SUMA"]), Decimal::new(3715, 2), "{document}");
    assert_eq!(decimal(&document["I06_PVM"]), Decimal::new(781, 2), "{document}");
    let lines = shop.lines(&document);
    let line = |code: &str| {
        lines
            .iter()
            .find(|line| line["I07_KODAS"] == code)
            .unwrap_or_else(|| panic!("no line {code} in {lines:?}"))
            .clone()
    };
    let coffee = line("A00101");
    assert_eq!(
        decimal(&coffee["I07_SUMA"]),
        Decimal::new(2565, 2),
        "the line's own total"
    );
    assert_eq!(
        decimal(&coffee["I07_KAINA_BE"]),
        Decimal::new(855, 2),
        "derived from the total"
    );
    assert_eq!(decimal(&coffee["I07_PVM"]), Decimal::new(539, 2));
    assert_eq!(decimal(&coffee["I07_MOKESTIS_P"]), Decimal::new(21, 0));
    let mug = line("123");
    assert_eq!(
        decimal(&mug["I07_SUMA"]),
        Decimal::new(450, 2),
        "a numeric SKU is the code 123"
    );
    let fee = line("MOKESTIS");
    assert_eq!(
        (decimal(&fee["I07_SUMA"]), fee["I07_TIPAS"].as_str()),
        (Decimal::new(200, 2), Some("2"))
    );
    assert_eq!(decimal(&line("PRISTATYMAS")["I07_PVM"]), Decimal::new(105, 2));

    // Discounts as lines of their own: products at their prices before the coupon.
    let shop =
        self::shop(", shipping_service = \"PRISTATYMAS\", fee_service = \"MOKESTIS\", discount_service = \"NUOLAIDA\"")
            .await;
    let report = shop.deliver("order.created", &rich_order(512)).await;
    assert_eq!(report.counters.created, 1, "{report:?}");
    let document = shop.document("512").unwrap();
    assert_eq!(decimal(&document["I06_SUMA"]), Decimal::new(3715, 2), "{document}");
    assert_eq!(decimal(&document["I06_PVM"]), Decimal::new(781, 2), "{document}");
    let lines = shop.lines(&document);
    let discount = lines.iter().find(|line| line["I07_KODAS"] == "NUOLAIDA").unwrap();
    assert_eq!(decimal(&discount["I07_SUMA"]), Decimal::new(-335, 2));
    let coffee = lines.iter().find(|line| line["I07_KODAS"] == "A00101").unwrap();
    assert_eq!(decimal(&coffee["I07_SUMA"]), Decimal::new(2850, 2));
}

#[tokio::test]
async fn an_order_whose_lines_do_not_add_up_to_its_total_names_both_sums() {
    let shop = shop(", shipping_service = \"PRISTATYMAS\", fee_service = \"MOKESTIS\"").await;
    let mut order = rich_order(520);
    // A plugin's charge that is in the total but on no line.
    order["total"] = json!("47.38");
    order["total_tax"] = json!("8.23");
    let report = shop.deliver("order.created", &order).await;
    assert_eq!(report.counters.failed, 1, "{report:?}");
    let message = shop.dead_letter("520").await;
    assert!(
        message.contains("net 37.15 against the order's 39.15")
            && message.contains("VAT 7.81 against the order's 8.23"),
        "{message}"
    );
    assert!(shop.document("520").is_none());
}

#[tokio::test]
async fn a_shipping_charge_without_a_service_to_invoice_it_under_is_a_dead_letter() {
    let mut shipped = woo_order(530, "processing");
    shipped["shipping_total"] = json!("3.00");
    shipped["shipping_tax"] = json!("0.63");
    shipped["total"] = json!("27.83");
    shipped["total_tax"] = json!("4.83");
    let no_service = shop("").await;
    let report = no_service.deliver("order.created", &shipped).await;
    assert_eq!(report.counters.failed, 1, "{report:?}");
    let message = no_service.dead_letter("530").await;
    assert!(
        message.contains("charges 3 for shipping") && message.contains("shipping_service = \"CODE\""),
        "{message}"
    );

    let shop = shop(SHIPPING).await;
    let report = shop.deliver("order.created", &shipped).await;
    assert_eq!(report.counters.created, 1, "{report:?}");
    let document = shop.document("530").unwrap();
    assert_eq!(decimal(&document["I06_SUMA"]), Decimal::new(2300, 2), "{document}");
    assert_eq!(decimal(&document["I06_PVM"]), Decimal::new(483, 2), "{document}");
}
