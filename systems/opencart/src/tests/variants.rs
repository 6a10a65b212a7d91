//! An ERP catalogue with variants through the engine into OpenCart 3 and 4 (MariaDB): 200
//! products, one in four configurable with 2–4 variants (a third of those by two attributes),
//! their stock per variant, a re-run that writes nothing, and shop orders of variants booked in
//! B1 with the variant's SKU on the invoice line.
use super::end_to_end::connector_url;
use super::faults::Faults;
use super::{TestDb, SEED};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tiltas_engine::{Engine, SyncOptions};
use tiltas_opencart_sim::Version;
use tiltas_sim::{Harness, SimSystem};

const PRODUCTS: usize = 200;
const ORDERS: usize = 25;
const B1_KEY: &str = "b1-key";
const B1_SECRET: &str = "b1-private-key";
const SIZES: [&str; 4] = ["S", "M", "L", "XL"];
const COLOURS: [&str; 2] = ["Juoda", "Balta"];
/// A variant's price against its product's, by its place among the variants.
const PRICE_STEPS: [i64; 4] = [0, 150, -50, 200];

/// The ERP's catalogue: product records, stock records, and what each SKU can sell.
struct Catalogue {
    products: Vec<Value>,
    stock: Vec<Value>,
    available: BTreeMap<String, i64>,
    /// Variant SKU → (product SKU, attributes, net price).
    variants: BTreeMap<String, (String, BTreeMap<String, String>, Decimal)>,
}

/// A small deterministic generator (xorshift), seeded from [`SEED`].
struct Rng(u64);

impl Rng {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

fn catalogue() -> Catalogue {
    let mut rng = Rng(SEED.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut catalogue = Catalogue {
        products: Vec::new(),
        stock: Vec::new(),
        available: BTreeMap::new(),
        variants: BTreeMap::new(),
    };
    let stock = |catalogue: &mut Catalogue, sku: &str, rng: &mut Rng| {
        let (on_hand, reserved) = (rng.below(40) as i64, rng.below(6) as i64);
        catalogue.stock.push(
            json!({"sku": sku, "warehouse": "MAIN", "on_hand": on_hand.to_string(), "reserved": reserved.to_string()}),
        );
        catalogue.available.insert(sku.to_owned(), (on_hand - reserved).max(0));
    };
    for index in 0..PRODUCTS {
        let sku = format!("ERP-{:04}", index + 1);
        let price = Decimal::new(500 + rng.below(10_000) as i64, 2);
        let mut product = json!({"sku": sku, "name": format!("Prekė {}", index + 1), "price_net": price.to_string(), "vat_rate": "21", "active": true});
        if index % 4 != 1 {
            catalogue.products.push(product);
            stock(&mut catalogue, &sku, &mut rng);
            continue;
        }
        let two_attributes = index % 3 == 0;
        let mut variants = Vec::new();
        for place in 0..2 + rng.below(3) as usize {
            let variant_sku = format!("{sku}-{}", place + 1);
            let attributes: BTreeMap<String, String> = if two_attributes {
                [("Dydis", SIZES[place / 2]), ("Spalva", COLOURS[place % 2])]
            } else {
                [("Dydis", SIZES[place]), ("Spalva", "")]
            }
            .into_iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
            let variant_price = price + Decimal::new(PRICE_STEPS[place], 2);
            variants
                .push(json!({"sku": variant_sku, "price_net": variant_price.to_string(), "attributes": attributes}));
            stock(&mut catalogue, &variant_sku, &mut rng);
            catalogue
                .variants
                .insert(variant_sku, (sku.clone(), attributes, variant_price));
        }
        product["variants"] = json!(variants);
        catalogue.products.push(product);
    }
    catalogue
}

fn jsonl(path: &std::path::Path, records: &[Value]) {
    let text: String = records.iter().map(|record| format!("{record}\n")).collect();
    std::fs::write(path, text).unwrap();
}

fn config_text(shop_url: &str, b1_url: &str, version: &str) -> String {
    format!(
        "[connections.erp]\nsystem = \"jsonl\"\n\n\
         [connections.b1]\nsystem = \"b1\"\nbase_url = \"{b1_url}/api/\"\napi_key = \"{B1_KEY}\"\nprivate_key = \"{B1_SECRET}\"\n\n\
         [connections.shop]\nsystem = \"opencart\"\nversion = \"{version}\"\ndatabase_url = \"{shop_url}\"\n\n\
         [[flows]]\nname = \"products\"\nentity = \"product\"\nfrom = {{ connection = \"erp\", file = \"products.jsonl\" }}\n\
         to = {{ connection = \"shop\" }}\nmatch_on = \"sku\"\non_duplicate = \"update\"\n\n\
         [[flows]]\nname = \"stock\"\nentity = \"stock\"\nfrom = {{ connection = \"erp\", file = \"stock.jsonl\" }}\n\
         to = {{ connection = \"shop\" }}\nmatch_on = \"sku\"\n\n\
         [[flows]]\nname = \"items\"\nentity = \"product\"\nfrom = {{ connection = \"erp\", file = \"items.jsonl\" }}\n\
         to = {{ connection = \"b1\" }}\nmatch_on = \"sku\"\non_duplicate = \"update\"\n\n\
         [[flows]]\nname = \"orders\"\nentity = \"order\"\nfrom = {{ connection = \"shop\" }}\n\
         to = {{ connection = \"b1\", warehouse = \"Pagrindinis sandėlis\" }}\nmatch_on = \"number\"\non_duplicate = \"skip\"\n\
         look_back = \"10m\"\ncustomer_match = \"email\"\n"
    )
}

#[tokio::test]
async fn opencart_3_keeps_variants_as_option_values_with_their_stock_and_books_their_orders() {
    run("variants_oc3", Version::Three, None).await;
}

#[tokio::test]
async fn opencart_4_keeps_variants_as_products_of_their_master_and_books_their_orders() {
    run("variants_oc4", Version::Four, None).await;
}

/// The fault relay of the example's test (3 % of statements cut, 5 % of commits' answers lost)
/// with variants in the catalogue.
#[tokio::test]
async fn variants_land_once_when_statements_are_cut_and_commits_lost() {
    run(
        "variants_oc3_faults",
        Version::Three,
        Some(Faults::new(SEED, 0.03, 0.05)),
    )
    .await;
}

async fn run(test: &str, version: Version, faults: Option<Arc<Faults>>) {
    static SYSTEMS: tiltas_connector::Systems =
        tiltas_connector::Systems::new(&[&tiltas_b1::B1System, &crate::OpenCartSystem, &tiltas_files::JsonlSystem]);
    let Some(db) = TestDb::create(test).await else {
        return;
    };
    let shop = db.shop_of(version, 0, 0, 0).await;
    let b1_seeding = tiltas_b1_sim::Seeding {
        seed: SEED,
        items: 0,
        clients: 5,
        warehouses: 2,
        invoices: 0,
    };
    let b1 = Arc::new(tiltas_b1_sim::B1Sim::new(B1_KEY, B1_SECRET, b1_seeding));
    let b1_url = tiltas_sim::spawn(tiltas_b1_sim::router(b1.clone(), Harness::new(b1.clone(), SEED)))
        .await
        .unwrap();
    let catalogue = catalogue();
    let dir = tempfile::tempdir().unwrap();
    jsonl(&dir.path().join("products.jsonl"), &catalogue.products);
    jsonl(&dir.path().join("stock.jsonl"), &catalogue.stock);
    // B1 knows every SKU that can be sold: simple products and each variant.
    let items: Vec<Value> = catalogue
        .available
        .keys()
        .map(|sku| json!({"sku": sku, "name": sku, "price_net": "1"}))
        .collect();
    jsonl(&dir.path().join("items.jsonl"), &items);
    let version_text = if version == Version::Three { "3" } else { "4" };
    let text = config_text(&connector_url(&db, faults.clone()).await, &b1_url, version_text);
    let config = tiltas_config::parse_str(&text, &dir.path().join("variants.toml"), &SYSTEMS)
        .unwrap_or_else(|errors| panic!("{errors}"));
    let store = tiltas_store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    let engine = Engine::new(Arc::new(config), store, SYSTEMS);
    let sync = |flow: &'static str| {
        let engine = &engine;
        async move {
            engine
                .sync(flow, &SyncOptions::default())
                .await
                .unwrap_or_else(|error| panic!("seed {SEED}: {flow}: {error}"))
        }
    };

    let products = sync("products").await;
    assert_eq!(
        (
            products.counters.created + products.counters.updated,
            products.counters.failed
        ),
        (PRODUCTS as u64, 0),
        "{:?}",
        products.counters
    );
    let stock = sync("stock").await;
    assert_eq!(
        (stock.counters.created + stock.counters.updated, stock.counters.failed),
        (catalogue.stock.len() as u64, 0),
        "{:?}",
        stock.counters
    );
    let pool = shop.pool();
    match version {
        Version::Three => check_option_values(pool, &catalogue).await,
        Version::Four => check_variant_products(pool, &catalogue).await,
    }
    check_simple_quantities(pool, &catalogue).await;
    assert_eq!(shop.duplicates().await.unwrap(), 0);

    // An idle re-sync writes nothing.
    for flow in ["products", "stock"] {
        let again = sync(flow).await;
        assert_eq!(
            (again.counters.created, again.counters.updated, again.counters.failed),
            (0, 0, 0),
            "{flow}: {:?}",
            again.counters
        );
    }

    let items = sync("items").await;
    assert_eq!(items.counters.failed, 0, "{:?}", items.counters);
    shop.mutate("order", ORDERS).await.unwrap();
    let orders = sync("orders").await;
    assert_eq!(
        (
            orders.counters.created + orders.counters.updated,
            orders.counters.failed
        ),
        (ORDERS as u64, 0),
        "{:?}",
        orders.counters
    );
    check_invoice_lines(pool, &b1.records("order").unwrap(), &catalogue, version).await;
    if let Some(faults) = faults {
        let cuts = faults.cuts.load(std::sync::atomic::Ordering::Relaxed);
        let lost = faults.lost_commits.load(std::sync::atomic::Ordering::Relaxed);
        eprintln!("seed {SEED}: {cuts} statements cut, {lost} commits' answers lost");
        // Landing once proves something only if the relay did break the writes.
        assert!(
            cuts > 0 && lost > 0,
            "seed {SEED}: the relay broke nothing ({cuts} cuts, {lost} lost commits)"
        );
    }
    db.drop().await;
}

/// OpenCart 3: per configurable product one option per attribute name, per value one option
/// value whose quantity is the sum over the variants that have it, priced against the product.
async fn check_option_values(pool: &sqlx::MySqlPool, catalogue: &Catalogue) {
    let rows = sqlx::query(
        "SELECT CAST(p.sku AS CHAR), CAST(od.name AS CHAR), CAST(ovd.name AS CHAR), pov.quantity, \
         CAST(pov.price AS CHAR), CAST(pov.price_prefix AS CHAR), pov.subtract FROM oc_product_option_value pov \
         JOIN oc_product p ON p.product_id = pov.product_id \
         JOIN oc_option_description od ON od.option_id = pov.option_id \
         JOIN oc_option_value_description ovd ON ovd.option_value_id = pov.option_value_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut expected: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    for (sku, (product, attributes, _)) in &catalogue.variants {
        for (name, value) in attributes {
            *expected
                .entry((product.clone(), name.clone(), value.clone()))
                .or_default() += catalogue.available[sku];
        }
    }
    let mut seen = BTreeSet::new();
    for row in &rows {
        let key: (String, String, String) = (row.get(0), row.get(1), row.get(2));
        let quantity: i32 = row.get(3);
        assert_eq!(
            Some(i64::from(quantity)),
            expected.get(&key).copied(),
            "{key:?} (seed {SEED})"
        );
        assert_eq!(row.get::<i8, _>(6), 1, "subtract on for {key:?}");
        // One attribute: the option value's price is the variant's less the product's.
        let single = catalogue
            .variants
            .values()
            .find(|(product, attributes, _)| *product == key.0 && attributes.len() == 1 && attributes[&key.1] == key.2);
        if let Some((_, _, price)) = single {
            let product_price: Decimal = catalogue
                .products
                .iter()
                .find(|product| product["sku"] == key.0.as_str())
                .and_then(|product| product["price_net"].as_str()?.parse().ok())
                .unwrap();
            let amount: Decimal = row.get::<String, _>(4).parse().unwrap();
            let signed = if row.get::<String, _>(5) == "-" {
                -amount
            } else {
                amount
            };
            assert_eq!(signed, *price - product_price, "{key:?}");
        }
        seen.insert(key);
    }
    assert_eq!(seen.len(), expected.len(), "one option value per value (seed {SEED})");
    assert!(catalogue
        .variants
        .values()
        .any(|(_, attributes, _)| attributes.len() == 2));
    // The configurable product's own quantity is the sum of its variants'.
    for product in catalogue
        .products
        .iter()
        .filter(|product| product.get("variants").is_some())
    {
        let sku = product["sku"].as_str().unwrap();
        let sum: i64 = catalogue
            .variants
            .iter()
            .filter(|(_, (parent, _, _))| parent == sku)
            .map(|(variant, _)| catalogue.available[variant])
            .sum();
        let quantity: i32 = sqlx::query_scalar("SELECT quantity FROM oc_product WHERE sku = ?")
            .bind(sku)
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(i64::from(quantity), sum, "{sku}");
    }
}

/// OpenCart 4: each variant a product with `master_id`, its own code, price, `variant` JSON
/// and quantity.
async fn check_variant_products(pool: &sqlx::MySqlPool, catalogue: &Catalogue) {
    let rows = sqlx::query(
        "SELECT CAST(v.sku AS CHAR), CAST(m.sku AS CHAR), v.quantity, CAST(v.price AS CHAR), CAST(v.variant AS CHAR) \
         FROM oc_product v JOIN oc_product m ON m.product_id = v.master_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), catalogue.variants.len(), "seed {SEED}");
    for row in &rows {
        let sku: String = row.get(0);
        let (master, attributes, price) = &catalogue.variants[&sku];
        assert_eq!(&row.get::<String, _>(1), master, "{sku}");
        assert_eq!(i64::from(row.get::<i32, _>(2)), catalogue.available[&sku], "{sku}");
        assert_eq!(row.get::<String, _>(3).parse::<Decimal>().unwrap(), *price, "{sku}");
        let chosen: Value = serde_json::from_str(&row.get::<String, _>(4)).unwrap();
        assert_eq!(
            chosen.as_object().map(|chosen| chosen.len()),
            Some(attributes.len()),
            "{sku}"
        );
    }
}

/// Every simple product's quantity is its stock, on hand less reserved.
async fn check_simple_quantities(pool: &sqlx::MySqlPool, catalogue: &Catalogue) {
    for product in catalogue
        .products
        .iter()
        .filter(|product| product.get("variants").is_none())
    {
        let sku = product["sku"].as_str().unwrap();
        let quantity: i32 = sqlx::query_scalar("SELECT quantity FROM oc_product WHERE sku = ?")
            .bind(sku)
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(i64::from(quantity), catalogue.available[sku], "{sku} (seed {SEED})");
    }
}

/// Each invoice line carries the SKU the shop sold: a variant's own, found from the line's
/// option values (OpenCart 3) or its product (OpenCart 4).
async fn check_invoice_lines(pool: &sqlx::MySqlPool, invoices: &Value, catalogue: &Catalogue, version: Version) {
    let invoices = invoices.as_array().unwrap();
    assert_eq!(invoices.len(), ORDERS);
    let lines = sqlx::query(
        "SELECT op.order_id, op.order_product_id, CAST(p.sku AS CHAR), \
         CAST(COALESCE(GROUP_CONCAT(CONCAT(oo.name, '=', oo.value) ORDER BY oo.name SEPARATOR ';'), '') AS CHAR) \
         FROM oc_order_product op JOIN oc_product p ON p.product_id = op.product_id \
         LEFT JOIN oc_order_option oo ON oo.order_product_id = op.order_product_id \
         GROUP BY op.order_id, op.order_product_id, p.sku ORDER BY op.order_id, op.order_product_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut variant_lines = 0;
    for line in &lines {
        let order: i32 = line.get(0);
        let number = order.to_string();
        let product: String = line.get(2);
        let options: String = line.get(3);
        // The SKU the buyer chose: OpenCart 3 by the chosen values, OpenCart 4 the product's own.
        let expected = match version {
            Version::Three if !options.is_empty() => catalogue
                .variants
                .iter()
                .find(|(_, (parent, attributes, _))| {
                    let chosen: Vec<String> = attributes
                        .iter()
                        .map(|(name, value)| format!("{name}={value}"))
                        .collect();
                    *parent == product && chosen.join(";") == options
                })
                .map(|(sku, _)| sku.clone())
                .unwrap_or_else(|| panic!("order {order}: no variant of {product} with {options}")),
            _ => product.clone(),
        };
        if catalogue.variants.contains_key(&expected) {
            variant_lines += 1;
        }
        let invoice = invoices
            .iter()
            .find(|invoice| invoice["number"].as_str() == Some(number.as_str()))
            .unwrap_or_else(|| panic!("no invoice of order {order}"));
        assert!(
            invoice["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|item| item["code"] == expected.as_str()),
            "order {order}: no invoice line of {expected} in {invoice} (seed {SEED})"
        );
    }
    assert!(variant_lines > 0, "some orders sell variants (seed {SEED})");
    eprintln!("{variant_lines} of {} order lines sold a variant", lines.len());
}
