//! `examples/rivile-to-reference.toml` against the Rivile and reference simulators.
use crate::{simulator, ExampleRun};
use serde_json::{json, Value};

const KEY: &str = "RIVILE.test-key";

fn stats(url: &str) -> Value {
    reqwest::blocking::get(format!("{url}/__sim/stats"))
        .unwrap()
        .json()
        .unwrap()
}

#[test]
fn rivile_products_customers_and_stock_reach_the_shop_once_and_then_only_changes() {
    let (_rivile, rivile_url) = simulator(&[
        "sim",
        "rivile",
        "--port",
        "0",
        "--api-key",
        KEY,
        "--products",
        "250",
        "--customers",
        "30",
    ]);
    let (_shop, shop_url) = simulator(&[
        "sim",
        "reference",
        "--port",
        "0",
        "--token",
        "shop",
        "--products",
        "0",
        "--customers",
        "0",
        "--orders",
        "0",
    ]);
    let example = ExampleRun::new(
        "rivile-to-reference.toml",
        &[
            ("http://127.0.0.1:9102", &rivile_url),
            ("http://127.0.0.1:9103", &shop_url),
            ("8/s", "1000/s"),
        ],
        &[("RIVILE_API_KEY", KEY), ("SHOP_TOKEN", "shop")],
    );
    let sync = |flow: &str| example.sync_ok(flow);

    for (flow, count) in [
        ("rivile-products", 250),
        ("rivile-customers", 30),
        ("rivile-stock", 250),
    ] {
        let first = sync(flow);
        assert_eq!(
            (first["created"].as_u64(), first["failed"].as_u64()),
            (Some(count), Some(0)),
            "{flow}: {first}"
        );
    }
    let shop = stats(&shop_url);
    assert_eq!(
        shop["records"],
        json!({"customer": 30, "order": 0, "product": 250, "stock": 250}),
        "{shop}"
    );
    let records: Value = reqwest::blocking::get(format!("{shop_url}/__sim/records/product"))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(records[0]["unit"], "pcs", "value map applied");
    assert_eq!(records[0]["currency"], "EUR", "default applied");

    let writes = shop["requests"]["write"].as_u64().unwrap();
    for flow in ["rivile-products", "rivile-customers", "rivile-stock"] {
        let again = sync(flow);
        assert_eq!(
            (again["created"].as_u64(), again["updated"].as_u64()),
            (Some(0), Some(0)),
            "{flow}: {again}"
        );
    }
    assert_eq!(
        stats(&shop_url)["requests"]["write"].as_u64().unwrap(),
        writes,
        "a second run writes nothing"
    );

    reqwest::blocking::Client::new()
        .post(format!("{rivile_url}/__sim/mutate"))
        .json(&json!({"entity": "product", "count": 50}))
        .send()
        .unwrap();
    let changed = sync("rivile-products");
    assert_eq!(
        (changed["updated"].as_u64(), changed["created"].as_u64()),
        (Some(50), Some(0)),
        "{changed}"
    );
    assert_eq!(stats(&shop_url)["duplicates"], 0);
}
