//! Products with variants written by the engine into a failing PrestaShop: every product and
//! combination lands once, with the categories and option values it names created once, though
//! writes are applied and then answered with errors.
use serde_json::json;
use std::io::Write;
use std::sync::Arc;
use tiltas_connector::Systems;
use tiltas_engine::{Engine, SyncOptions};
use tiltas_sim::{Harness, SimSystem};

const SEED: u64 = 23;
const KEY: &str = "VARIANTSPRESTASHOPKEY00000000001";

static SYSTEMS: Systems = Systems::new(&[&tiltas_files::JsonlSystem, &tiltas_prestashop::PrestaShopSystem]);

#[tokio::test]
async fn products_with_variants_land_once_when_writes_fail_after_commit() {
    let shop = Arc::new(tiltas_prestashop_sim::PrestaSim::new(
        KEY,
        tiltas_prestashop_sim::Seeding {
            seed: SEED,
            products: 0,
            customers: 0,
            orders: 0,
            combinations: true,
        },
    ));
    let url = tiltas_sim::spawn(tiltas_prestashop_sim::router(
        shop.clone(),
        Harness::new(shop.clone(), SEED),
    ))
    .await
    .unwrap();
    reqwest::Client::new()
        .post(format!("{url}/__sim/faults"))
        .json(&json!({"commit_then_fail_rate": 0.15, "error_rate": 0.05}))
        .send()
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let mut file = std::fs::File::create(dir.path().join("products.jsonl")).unwrap();
    let colours = ["Juoda", "Balta", "Raudona"];
    for n in 1..=30 {
        let variants: Vec<_> = ["S", "M"]
            .iter()
            .map(|size| {
                json!({
                    "sku": format!("V-{n:03}-{size}"),
                    "price_net": format!("{}.50", 10 + n),
                    "attributes": {"Dydis": size, "Spalva": colours[n % 3]}
                })
            })
            .collect();
        let product = json!({
            "sku": format!("V-{n:03}"), "name": format!("Striukė {n}"), "price_net": format!("{}.50", 10 + n),
            "categories": [format!("Striukės {}", n % 4)], "variants": variants
        });
        writeln!(file, "{product}").unwrap();
    }
    drop(file);
    let text = format!(
        "[connections.file]\nsystem = \"jsonl\"\n\n[connections.shop]\nsystem = \"prestashop\"\nbase_url = \"{url}\"\nkey = \"{KEY}\"\n\n\
         [[flows]]\nname = \"products\"\nentity = \"product\"\nfrom = {{ connection = \"file\", file = \"products.jsonl\" }}\n\
         to = {{ connection = \"shop\" }}\nmatch_on = \"sku\"\n"
    );
    let config = tiltas_config::parse_str(&text, &dir.path().join("flows.toml"), &SYSTEMS)
        .unwrap_or_else(|errors| panic!("{errors}"));
    let store = tiltas_store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    let engine = Engine::new(Arc::new(config), store, SYSTEMS);
    let report = engine
        .sync("products", &SyncOptions::default())
        .await
        .unwrap_or_else(|error| panic!("seed {SEED}: {error}"));
    assert_eq!(
        (
            report.counters.created + report.counters.updated,
            report.counters.failed
        ),
        (30, 0),
        "seed {SEED}: {:?}",
        report.counters
    );
    let counts = shop.record_counts();
    assert_eq!(counts["product"], 30, "seed {SEED}: {counts:?}");
    assert_eq!(shop.duplicates(), 0, "seed {SEED}: a product or combination twice");
    // An adopted product (its write applied, its answer lost) keeps the combinations written
    // before the failure; a product whose combinations failed is written again, by reference.
    let categories: Vec<String> = shop
        .records("category")
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|category| category["name"][0]["value"].as_str().map(str::to_owned))
        .collect();
    let mut unique = categories.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        categories.len(),
        "seed {SEED}: a category created twice: {categories:?}"
    );

    // Without faults, a full re-sync completes every product's combinations and changes nothing else.
    reqwest::Client::new()
        .delete(format!("{url}/__sim/faults"))
        .send()
        .await
        .unwrap();
    let full = SyncOptions {
        full: true,
        ..SyncOptions::default()
    };
    let again = engine.sync("products", &full).await.unwrap();
    assert_eq!(again.counters.failed, 0, "{:?}", again.counters);
    let counts = shop.record_counts();
    assert_eq!(
        (counts["product"], counts["combination"]),
        (30, 60),
        "seed {SEED}: {counts:?}"
    );
    assert_eq!(shop.duplicates(), 0);
    let values = reqwest::Client::new()
        .get(format!("{url}/api/product_option_values?display=full"))
        .basic_auth(KEY, Some(""))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let root = tiltas_prestashop::xml::Element::parse(&values).unwrap();
    let mut pairs: Vec<(String, String)> = root
        .child("product_option_values")
        .unwrap()
        .children
        .iter()
        .map(|value| {
            (
                value.text_of("id_attribute_group").unwrap_or_default().to_owned(),
                value.language_text("name", "1").unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let all = pairs.len();
    pairs.sort();
    pairs.dedup();
    assert_eq!(pairs.len(), all, "seed {SEED}: an option value created twice");
}
