//! The order pipeline against the Rivile simulator: buyers found or created by e-mail, the
//! default customer, and lines whose product the ERP lacks.
use serde_json::{json, Value};
use std::sync::Arc;
use tiltas_engine::{Engine, SyncOptions};
use tiltas_sim::{Harness, SimSystem};
use tiltas_store::DeadLetterFilter;
use tiltas_systems::rivile::simulator::{router, RivileSim, Seeding};

const KEY: &str = "SHOP.key";

fn order(number: &str, customer: Value, billing: Value, sku: &str) -> Value {
    json!({
        "number": number,
        "created_at": "2026-11-20T10:00:00Z",
        "currency": "EUR",
        "customer": customer,
        "billing": billing,
        "lines": [{"sku": sku, "name": "Prekė", "quantity": "2", "price": "10", "vat_rate": "21"}]
    })
}

struct World {
    dir: tempfile::TempDir,
    engine: Engine,
    store: Arc<dyn tiltas_store::Store>,
    sim: Arc<RivileSim>,
}

async fn world(orders: &[Value], rules: &str) -> World {
    let sim = Arc::new(RivileSim::new(
        KEY,
        Seeding {
            seed: 5,
            products: 3,
            customers: 2,
        },
    ));
    let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim.clone(), 5)))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = orders.iter().map(Value::to_string).collect();
    std::fs::write(dir.path().join("orders.jsonl"), lines.join("\n") + "\n").unwrap();
    let text = format!(
        r#"
[connections.shop]
system = "jsonl"

[connections.erp]
system = "rivile"
base_url = "{url}/client/v2"
api_key = "{KEY}"
warehouse = "CENTR"

[[flows]]
name = "orders"
entity = "order"
from = {{ connection = "shop", file = "orders.jsonl" }}
to = {{ connection = "erp" }}
match_on = "number"
on_duplicate = "skip"
{rules}
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
    World {
        dir,
        engine: Engine::new(Arc::new(config), store.clone(), tiltas_systems::registry::systems()),
        store,
        sim,
    }
}

fn documents(sim: &RivileSim) -> Vec<Value> {
    sim.records("I06").unwrap().as_array().unwrap().clone()
}

fn client_of(documents: &[Value], number: &str) -> String {
    documents
        .iter()
        .find(|document| document["I06_DOK_NR"] == number)
        .unwrap_or_else(|| panic!("no document {number}"))["I06_KODAS_KS"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn buyers_are_found_or_created_once_by_email_and_unknown_products_are_dead_lettered() {
    let seeded = RivileSim::new(
        KEY,
        Seeding {
            seed: 5,
            products: 3,
            customers: 2,
        },
    );
    let known = seeded.records("customer").unwrap()[0].clone();
    let known_email = known["N08_E_MAIL"].as_str().unwrap().to_owned();
    let default_client = seeded.records("customer").unwrap()[1]["N08_KODAS_KS"]
        .as_str()
        .unwrap()
        .to_owned();
    let orders = [
        order(
            "WEB-1",
            json!({"email": "ona@example.lt", "name": "Ona Onaitė"}),
            json!({"first_name": "Ona", "last_name": "Onaitė", "country": "LT"}),
            "A00101",
        ),
        order(
            "WEB-2",
            json!({"email": "ONA@example.lt"}),
            json!({"first_name": "Ona", "last_name": "Onaitė"}),
            "A00102",
        ),
        order(
            "WEB-3",
            json!({"email": "info@testas.lt", "company_name": "UAB Testas"}),
            json!({"first_name": "Jonas", "city": "Kaunas", "country": "LT"}),
            "A00101",
        ),
        order("WEB-4", json!({"email": known_email}), json!({}), "A00103"),
        order("WEB-5", json!({}), json!({}), "A00101"),
        order("WEB-6", json!({"email": "petras@example.lt"}), json!({}), "NOPE"),
    ];
    let world = world(&orders, &format!("default_customer = \"{default_client}\"")).await;
    let customers_before = world.sim.records("customer").unwrap().as_array().unwrap().len();

    let report = world.engine.sync("orders", &SyncOptions::default()).await.unwrap();

    assert_eq!(report.counters.created, 5, "{report:?}");
    assert_eq!(report.counters.failed, 1, "{report:?}");
    let customers = world.sim.records("customer").unwrap().as_array().unwrap().clone();
    assert_eq!(
        customers.len(),
        customers_before + 2,
        "Ona once, UAB Testas once; Petras's order was refused first"
    );
    let documents = documents(&world.sim);
    assert_eq!(documents.len(), 5);
    assert_eq!(
        client_of(&documents, "WEB-1"),
        client_of(&documents, "WEB-2"),
        "same buyer, any case"
    );
    assert_eq!(
        client_of(&documents, "WEB-4"),
        known["N08_KODAS_KS"].as_str().unwrap(),
        "found by e-mail"
    );
    assert_eq!(
        client_of(&documents, "WEB-5"),
        default_client,
        "no e-mail: the default customer"
    );
    let company = customers
        .iter()
        .find(|customer| customer["N08_E_MAIL"] == "info@testas.lt")
        .unwrap();
    assert_eq!(company["N08_PAV"], "UAB Testas");
    assert_eq!(
        client_of(&documents, "WEB-3"),
        company["N08_KODAS_KS"].as_str().unwrap()
    );
    let letters = world.store.dead_letters(&DeadLetterFilter::default()).await.unwrap();
    assert_eq!(letters.len(), 1);
    assert!(
        letters[0].message.starts_with("product NOPE not in ERP"),
        "{}",
        letters[0].message
    );
    assert_eq!(letters[0].field.as_deref(), Some("lines[0].sku"));
    assert!(
        letters[0]
            .fix
            .as_deref()
            .is_some_and(|fix| fix.contains("create_missing_products")),
        "{:?}",
        letters[0].fix
    );

    let again = world.engine.sync("orders", &SyncOptions::default()).await.unwrap();
    assert_eq!((again.counters.created, again.counters.updated), (0, 0), "{again:?}");
    assert_eq!(documents_len(&world.sim), 5);
    drop(world.dir);
}

fn documents_len(sim: &RivileSim) -> usize {
    documents(sim).len()
}

#[tokio::test]
async fn missing_products_are_created_when_the_flow_says_so_and_orders_without_buyer_fail_clearly() {
    let orders = [
        order("WEB-7", json!({"email": "ona@example.lt"}), json!({}), "NAUJA-1"),
        order("WEB-8", json!({}), json!({}), "A00101"),
    ];
    let world = world(&orders, "create_missing_products = true").await;

    let report = world.engine.sync("orders", &SyncOptions::default()).await.unwrap();

    assert_eq!((report.counters.created, report.counters.failed), (1, 1), "{report:?}");
    let products = world.sim.records("product").unwrap();
    let created = products
        .as_array()
        .unwrap()
        .iter()
        .find(|product| product["N17_KODAS_PS"] == "NAUJA-1")
        .expect("the product was created");
    assert_eq!(created["N17_PAV"], "Prekė");
    let letters = world.store.dead_letters(&DeadLetterFilter::default()).await.unwrap();
    assert!(
        letters[0].message.contains("no customer email") && letters[0].message.contains("default_customer"),
        "{}",
        letters[0].message
    );
}
