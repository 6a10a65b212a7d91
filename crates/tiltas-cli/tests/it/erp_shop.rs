//! `examples/erp-shop.toml` end to end over loopback: `tiltas sim rivile`, `tiltas sim
//! woocommerce` and `tiltas sync`, all real processes.
use crate::{simulator, ExampleRun};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};
use tiltas_systems::woocommerce::oauth::{sign_query, SignatureMethod};

const RIVILE_KEY: &str = "SHOP.test-key";
const CK: &str = "ck_e2e";
const CS: &str = "cs_e2e";

fn get(url: &str) -> Value {
    reqwest::blocking::get(url).unwrap().json().unwrap()
}

/// A signed request to the shop's REST API, as any OAuth 1.0a client over http sends it.
fn shop_post(base: &str, path: &str, body: &Value) -> Value {
    let url = format!("{base}/wp-json/wc/v3/{path}");
    let nonce = format!("n{}", rand::random::<u64>());
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let query = sign_query(
        "POST",
        &url,
        &[],
        CK,
        CS,
        SignatureMethod::HmacSha256,
        timestamp,
        &nonce,
    );
    let response = reqwest::blocking::Client::new()
        .post(&url)
        .query(&query)
        .json(body)
        .send()
        .unwrap();
    let status = response.status();
    let answer: Value = response.json().unwrap();
    assert!(status.is_success(), "POST {path}: {status} {answer}");
    answer
}

fn decimal(value: &Value) -> rust_decimal::Decimal {
    match value {
        Value::String(text) => text.trim().parse().unwrap(),
        other => other.to_string().parse().unwrap(),
    }
}

#[test]
fn products_stock_and_orders_travel_between_rivile_and_woocommerce_once() {
    let (_rivile, rivile_url) = simulator(&[
        "sim",
        "rivile",
        "--port",
        "0",
        "--api-key",
        RIVILE_KEY,
        "--products",
        "40",
        "--customers",
        "10",
    ]);
    let (_shop, shop_url) = simulator(&[
        "sim",
        "woocommerce",
        "--port",
        "0",
        "--consumer-key",
        CK,
        "--consumer-secret",
        CS,
        "--products",
        "0",
        "--customers",
        "0",
        "--orders",
        "0",
    ]);
    let example = ExampleRun::new(
        "erp-shop.toml",
        &[
            ("http://127.0.0.1:9101", &rivile_url),
            ("http://127.0.0.1:9201", &shop_url),
            ("rate_limit = \"8/s\"", "rate_limit = \"1000/s\""),
        ],
        &[
            ("RIVILE_API_KEY", RIVILE_KEY),
            ("WC_KEY", CK),
            ("WC_SECRET", CS),
            ("WC_WEBHOOK_SECRET", "hook-secret"),
        ],
    );
    let run = |flow: &str| example.sync(flow);
    let sync = |flow: &str| example.sync_ok(flow);

    // Products: 40 created in the shop with the gross price.
    let products = sync("products-to-shop");
    assert_eq!(
        (products["created"].as_u64(), products["failed"].as_u64()),
        (Some(40), Some(0)),
        "{products}"
    );
    let erp_products = get(&format!("{rivile_url}/__sim/records/product"));
    let erp_prices = get(&format!("{rivile_url}/__sim/records/price"));
    let shop_products = get(&format!("{shop_url}/__sim/records/product"));
    let shop_products = shop_products.as_array().unwrap();
    assert_eq!(shop_products.len(), 40);
    let first_sku = erp_products[0]["N17_KODAS_PS"].as_str().unwrap();
    let in_shop = shop_products.iter().find(|p| p["sku"] == first_sku).unwrap();
    let net = decimal(&erp_prices[0]["N32_KAINA1"]);
    assert_eq!(
        decimal(&in_shop["regular_price"]),
        (net * rust_decimal::Decimal::new(121, 2))
            .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero),
        "gross = net + 21 % VAT: {in_shop}"
    );
    assert_eq!(in_shop["description"], in_shop["name"], "long description on create");

    // Stock: available = on hand − reserved, on every product.
    let stock = sync("stock-centr-to-shop");
    assert_eq!(stock["failed"].as_u64(), Some(0), "{stock}");
    assert_eq!(
        stock["created"].as_u64().unwrap() + stock["updated"].as_u64().unwrap(),
        40,
        "{stock}"
    );
    let erp_stock = get(&format!("{rivile_url}/__sim/records/stock"));
    let shop_products = get(&format!("{shop_url}/__sim/records/product"));
    let quantities: HashMap<&str, &Value> = shop_products
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["sku"].as_str().unwrap(), &p["stock_quantity"]))
        .collect();
    for row in erp_stock.as_array().unwrap() {
        let available = decimal(&row["I17_KIEKIS"]) - decimal(&row["I17_REZERVAS"]);
        let sku = row["I17_KODAS_PS"].as_str().unwrap();
        assert_eq!(
            decimal(quantities[sku]),
            available.max(rust_decimal::Decimal::ZERO).floor(),
            "{sku}"
        );
    }

    // Customers to the shop, so returning buyers are found by e-mail later.
    let customers = sync("customers-to-shop");
    assert_eq!(
        (customers["created"].as_u64(), customers["failed"].as_u64()),
        (Some(10), Some(0)),
        "{customers}"
    );
    let echo = sync("customers-to-erp");
    assert_eq!(
        (echo["created"].as_u64(), echo["updated"].as_u64()),
        (Some(0), Some(0)),
        "the shop's copies of ERP clients are not sent back: {echo}"
    );

    // 25 orders placed in the shop arrive as 25 invoices with their lines and VAT.
    let erp_customers_before = get(&format!("{rivile_url}/__sim/records/customer"));
    let known_emails: BTreeSet<String> = erp_customers_before
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["N08_E_MAIL"].as_str().map(str::to_lowercase))
        .collect();
    let placed = reqwest::blocking::Client::new()
        .post(format!("{shop_url}/__sim/mutate"))
        .json(&json!({"entity": "order", "count": 25}))
        .send()
        .unwrap();
    assert!(placed.status().is_success());
    let orders = sync("orders-to-erp");
    assert_eq!(
        (orders["created"].as_u64(), orders["failed"].as_u64()),
        (Some(25), Some(0)),
        "{orders}"
    );
    let shop_orders = get(&format!("{shop_url}/__sim/records/order"));
    let shop_orders = shop_orders.as_array().unwrap();
    let documents = get(&format!("{rivile_url}/__sim/records/I06"));
    let documents = documents.as_array().unwrap();
    assert_eq!(documents.len(), 25);
    for order in shop_orders {
        let number = order["number"]
            .as_str()
            .map_or_else(|| order["id"].to_string(), str::to_owned);
        let document = documents
            .iter()
            .find(|d| d["I06_DOK_NR"] == number.as_str())
            .unwrap_or_else(|| panic!("order {number} is not in Rivile"));
        assert_eq!(
            decimal(&document["I06_PVM"]),
            decimal(&order["total_tax"]),
            "VAT of {number}"
        );
        assert_eq!(
            decimal(&document["I06_SUMA"]) + decimal(&document["I06_PVM"]),
            decimal(&order["total"]),
            "total of {number}, shipping included as a service line"
        );
    }
    let new_emails: BTreeSet<String> = shop_orders
        .iter()
        .filter_map(|o| o["billing"]["email"].as_str().map(str::to_lowercase))
        .filter(|email| !known_emails.contains(email))
        .collect();
    let erp_customers = get(&format!("{rivile_url}/__sim/records/customer"));
    assert_eq!(
        erp_customers.as_array().unwrap().len(),
        erp_customers_before.as_array().unwrap().len() + new_emails.len(),
        "one client per new buyer e-mail, none for returning ones"
    );
    assert_eq!(get(&format!("{rivile_url}/__sim/stats"))["duplicates"], 0);

    // An order for a product the ERP does not have is a dead letter saying so.
    let stray = shop_post(
        &shop_url,
        "products",
        &json!({"name": "Tik parduotuvėje", "sku": "ONLY-IN-SHOP", "regular_price": "9.99", "type": "simple"}),
    );
    shop_post(
        &shop_url,
        "orders",
        &json!({
            "status": "processing",
            "billing": {"first_name": "Rūta", "last_name": "Rūtaitė", "email": "ruta@example.lt", "country": "LT"},
            "line_items": [{"product_id": stray["id"], "quantity": 1}]
        }),
    );
    let (code, stray_run, _) = run("orders-to-erp");
    assert_eq!(code, Some(3), "a run with dead letters exits 3");
    assert_eq!(
        (stray_run["created"].as_u64(), stray_run["failed"].as_u64()),
        (Some(0), Some(1)),
        "{stray_run}"
    );
    let letters = example.tiltas(&["dead-letters", "list", "--json"]);
    let letters = String::from_utf8_lossy(&letters.stdout);
    assert!(letters.contains("product ONLY-IN-SHOP not in ERP"), "{letters}");

    // Again: nothing new to write anywhere.
    let writes = get(&format!("{rivile_url}/__sim/stats"))["requests"]["write"].clone();
    // (The stray order is read again within the look-back and fails again — its dead letter
    // counts the attempt — until the product exists and the letter is retried.)
    let (_, again, _) = run("orders-to-erp");
    assert_eq!(
        (
            again["created"].as_u64(),
            again["updated"].as_u64(),
            again["unchanged"].as_u64()
        ),
        (Some(0), Some(0), Some(25)),
        "{again}"
    );
    assert_eq!(get(&format!("{rivile_url}/__sim/stats"))["requests"]["write"], writes);
    let products_again = sync("products-to-shop");
    assert_eq!(
        (products_again["created"].as_u64(), products_again["updated"].as_u64()),
        (Some(0), Some(0)),
        "{products_again}"
    );
}

#[test]
fn serve_runs_products_before_stock_on_start_up_so_stock_finds_every_product() {
    let (_rivile, rivile_url) = simulator(&[
        "sim",
        "rivile",
        "--port",
        "0",
        "--api-key",
        RIVILE_KEY,
        "--products",
        "30",
        "--customers",
        "0",
    ]);
    let (_shop, shop_url) = simulator(&[
        "sim",
        "woocommerce",
        "--port",
        "0",
        "--consumer-key",
        CK,
        "--consumer-secret",
        CS,
        "--products",
        "0",
        "--customers",
        "0",
        "--orders",
        "0",
    ]);
    let example = ExampleRun::new(
        "erp-shop.toml",
        &[
            ("http://127.0.0.1:9101", &rivile_url),
            ("http://127.0.0.1:9201", &shop_url),
            ("rate_limit = \"8/s\"", "rate_limit = \"1000/s\""),
        ],
        &[
            ("RIVILE_API_KEY", RIVILE_KEY),
            ("WC_KEY", CK),
            ("WC_SECRET", CS),
            ("WC_WEBHOOK_SECRET", "hook-secret"),
        ],
    );
    let key = example.tiltas(&["keys", "create", "--scope", "read", "--name", "test", "--json"]);
    assert!(key.status.success(), "{}", String::from_utf8_lossy(&key.stderr));
    let key: Value = serde_json::from_slice(&key.stdout).unwrap();
    let key = key["key"].as_str().unwrap().to_owned();
    let (_server, url) = example.serve();
    let client = reqwest::blocking::Client::new();
    let api = |path: &str| -> Value {
        client
            .get(format!("{url}/api/v1/{path}"))
            .bearer_auth(&key)
            .send()
            .unwrap()
            .json()
            .unwrap()
    };

    // Every scheduled flow starts at once; the stock flow's first run waits for the products'.
    let deadline = Instant::now() + Duration::from_secs(60);
    let runs = loop {
        let runs = api("runs?limit=100");
        let finished = |flow: &str| {
            runs.as_array()
                .unwrap()
                .iter()
                .any(|run| run["flow"] == flow && !run["finished_at"].is_null())
        };
        if finished("stock-centr-to-shop") && finished("products-to-shop") {
            break runs;
        }
        assert!(Instant::now() < deadline, "no first runs within a minute: {runs}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let first = |flow: &str| {
        runs.as_array()
            .unwrap()
            .iter()
            .filter(|run| run["flow"] == flow)
            .min_by_key(|run| run["id"].as_i64())
            .cloned()
            .unwrap()
    };
    let products = first("products-to-shop");
    let stock = first("stock-centr-to-shop");
    let at = |run: &Value, key: &str| chrono::DateTime::parse_from_rfc3339(run[key].as_str().unwrap()).unwrap();
    assert!(
        at(&stock, "started_at") >= at(&products, "finished_at"),
        "stock started before products finished: {products} {stock}"
    );
    assert_eq!(products["counters"]["created"], 30, "{products}");
    assert_eq!(stock["counters"]["failed"], 0, "{stock}");
    let letters = api("dead-letters?flow=stock-centr-to-shop&status=all");
    assert_eq!(
        letters,
        json!([]),
        "no \"the shop has no product with this SKU\" on the first round"
    );
}
