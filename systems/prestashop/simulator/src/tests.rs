//! The simulator against PrestaShop's protocol: authentication, list parameters, JSON output,
//! schemas, writes and their refusals, and the harness' faults in PrestaShop's format.
use crate::{router, PrestaSim, Seeding};
use serde_json::{json, Value};
use std::sync::Arc;
use tiltas_prestashop::xml::Element;
use tiltas_sim::Harness;

const KEY: &str = "SIMTESTPRESTASHOPKEY000000000001";
const SEED: u64 = 11;

async fn start(products: usize, customers: usize, orders: usize) -> String {
    let sim = Arc::new(PrestaSim::new(
        KEY,
        Seeding {
            seed: SEED,
            products,
            customers,
            orders,
            combinations: true,
        },
    ));
    tiltas_sim::spawn(router(sim.clone(), Harness::new(sim, SEED)))
        .await
        .unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn get(url: &str) -> (u16, String) {
    let reply = client().get(url).basic_auth(KEY, Some("")).send().await.unwrap();
    (reply.status().as_u16(), reply.text().await.unwrap())
}

fn xml(text: &str) -> Element {
    Element::parse(text).unwrap_or_else(|e| panic!("seed {SEED}: {e}: {text}"))
}

fn error_code(text: &str) -> String {
    let root = xml(text);
    root.child("errors")
        .and_then(|errors| errors.child("error"))
        .and_then(|error| error.text_of("code"))
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn the_key_is_taken_as_basic_user_or_ws_key_and_refused_with_prestashop_codes() {
    let url = start(2, 0, 0).await;
    let none = client().get(format!("{url}/api/products")).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert!(none.headers().get("www-authenticate").is_some());
    assert_eq!(error_code(&none.text().await.unwrap()), "17");
    let short = client()
        .get(format!("{url}/api/products"))
        .basic_auth("SHORT", Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(&short.text().await.unwrap()), "18");
    let unknown = client()
        .get(format!("{url}/api/products"))
        .basic_auth("ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ", Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(&unknown.text().await.unwrap()), "20");
    let query = client()
        .get(format!("{url}/api/products?ws_key={KEY}"))
        .send()
        .await
        .unwrap();
    assert_eq!(query.status(), 200);
    assert_eq!(query.headers()["psws-version"], "1.7.8.11");
}

#[tokio::test]
async fn lists_take_display_filter_sort_and_limit_and_dates_need_date_1() {
    let url = start(12, 0, 0).await;
    let (status, text) = get(&format!("{url}/api/products")).await;
    assert_eq!(status, 200);
    let ids: Vec<String> = xml(&text)
        .child("products")
        .unwrap()
        .children
        .iter()
        .map(|p| p.attribute("id").unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 12);
    let (_, text) = get(&format!(
        "{url}/api/products?display=[id,reference]&filter[id]=[3,9]&sort=[id_DESC]&limit=2,3"
    ))
    .await;
    let list = xml(&text);
    let references: Vec<&str> = list
        .child("products")
        .unwrap()
        .children
        .iter()
        .filter_map(|p| p.text_of("reference"))
        .collect();
    assert_eq!(references, ["PS-00007", "PS-00006", "PS-00005"]);
    let (status, text) = get(&format!("{url}/api/products?filter[date_upd]=>[2000-01-01 00:00:00]")).await;
    assert_eq!((status, error_code(&text).as_str()), (400, "32"));
    let (_, text) = get(&format!(
        "{url}/api/products?date=1&filter[date_upd]=>[2000-01-01 00:00:00]&limit=0,5"
    ))
    .await;
    assert_eq!(xml(&text).child("products").unwrap().children.len(), 5);
    let (_, text) = get(&format!("{url}/api/products?filter[reference]=%[0001]%&display=full")).await;
    assert_eq!(
        xml(&text).child("products").unwrap().children.len(),
        4,
        "PS-00001 and PS-00010…PS-00012"
    );
    let (_, text) = get(&format!("{url}/api/products?limit=100,10")).await;
    assert!(
        xml(&text).child("products").unwrap().children.is_empty(),
        "a page past the end is empty"
    );
}

#[tokio::test]
async fn json_output_has_strings_language_lists_and_an_empty_list_is_an_array() {
    let url = start(4, 0, 0).await;
    let (status, text) = get(&format!("{url}/api/products/4?output_format=JSON")).await;
    assert_eq!(status, 200);
    let product: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(product["product"]["id"], 4);
    assert_eq!(product["product"]["reference"], "PS-00004");
    assert_eq!(product["product"]["name"][0]["id"], "1");
    assert!(product["product"]["associations"]["combinations"]
        .as_array()
        .is_some_and(|c| !c.is_empty()));
    let (_, text) = get(&format!(
        "{url}/api/products?output_format=JSON&filter[reference]=[NONE]"
    ))
    .await;
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), json!([]));
    let reply = client()
        .get(format!("{url}/api/products?display=[id]"))
        .basic_auth(KEY, Some(""))
        .header("Output-Format", "JSON")
        .send()
        .await
        .unwrap();
    let list: Value = reply.json().await.unwrap();
    assert_eq!(list["products"].as_array().map(Vec::len), Some(4));
}

#[tokio::test]
async fn writes_are_xml_validated_and_full_replaces() {
    let url = start(1, 0, 0).await;
    let (_, blank) = get(&format!("{url}/api/products?schema=blank")).await;
    assert!(xml(&blank)
        .child("product")
        .unwrap()
        .child("manufacturer_name")
        .is_some());
    let (_, synopsis) = get(&format!("{url}/api/products?schema=synopsis")).await;
    let price = xml(&synopsis)
        .child("product")
        .unwrap()
        .child("price")
        .cloned()
        .unwrap();
    assert_eq!(price.attribute("required"), Some("true"));

    let endpoint = format!("{url}/api/products");
    let post = |body: String| {
        let endpoint = endpoint.clone();
        async move {
            let reply = client()
                .post(endpoint)
                .basic_auth(KEY, Some(""))
                .body(body)
                .send()
                .await
                .unwrap();
            (reply.status().as_u16(), reply.text().await.unwrap())
        }
    };
    let product = |extra: &str| {
        format!("<prestashop><product>{extra}<reference>NEW</reference><price>9.5</price><name><language id=\"1\">Naujas</language></name></product></prestashop>")
    };
    let (status, text) = post(product("<id>5</id>")).await;
    assert_eq!((status, error_code(&text).as_str()), (400, "91"));
    let (status, text) = post(product("<quantity>3</quantity>")).await;
    assert_eq!((status, error_code(&text).as_str()), (400, "93"));
    assert!(text.contains("parameter \"quantity\" not writable"), "{text}");
    let (status, text) = post("<prestashop><product><reference>X</reference></product></prestashop>".to_owned()).await;
    assert_eq!((status, error_code(&text).as_str()), (400, "41"), "{text}");
    let (status, text) = post(product("<ean13>12x</ean13>")).await;
    assert_eq!((status, error_code(&text).as_str()), (400, "85"), "{text}");
    let (status, text) = post("{\"product\":{}}".to_owned()).await;
    assert_eq!(status, 400, "{text}");
    let (status, text) = post(product("<weight>2</weight>")).await;
    assert_eq!(status, 201, "{text}");
    let created = xml(&text);
    let id = created.child("product").unwrap().text_of("id").unwrap().to_owned();
    assert_eq!(id, "2");
    let (_, stock) = get(&format!(
        "{url}/api/stock_availables?filter[id_product]=[2]&display=full"
    ))
    .await;
    assert_eq!(
        xml(&stock).child("stock_availables").unwrap().children.len(),
        1,
        "a new product gets its stock row"
    );

    // A PUT without weight empties it: PUT replaces the whole record.
    let body = format!("<prestashop><product><id>{id}</id><reference>NEW</reference><price>10</price><name><language id=\"1\">Naujas</language></name></product></prestashop>");
    let reply = client()
        .put(format!("{url}/api/products"))
        .basic_auth(KEY, Some(""))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let (_, text) = get(&format!("{url}/api/products/{id}")).await;
    let stored = xml(&text);
    assert_eq!(stored.child("product").unwrap().text_of("weight"), None);
    assert_eq!(stored.child("product").unwrap().text_of("price"), Some("10"));
    let no_id = client()
        .put(format!("{url}/api/products"))
        .basic_auth(KEY, Some(""))
        .body(product(""))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(&no_id.text().await.unwrap()), "90");
    let missing = client()
        .put(format!("{url}/api/products/77"))
        .basic_auth(KEY, Some(""))
        .body(product(""))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    let deleted = client()
        .delete(format!("{url}/api/products/?id=[1,{id}]"))
        .basic_auth(KEY, Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    let (status, text) = get(&format!("{url}/api/products/{id}")).await;
    assert_eq!((status, text.as_str()), (404, ""));
}

#[tokio::test]
async fn an_order_history_changes_the_orders_state() {
    let url = start(6, 2, 2).await;
    let body = "<prestashop><order_history><id_order>1</id_order><id_order_state>4</id_order_state></order_history></prestashop>";
    let reply = client()
        .post(format!("{url}/api/order_histories"))
        .basic_auth(KEY, Some(""))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 201);
    let (_, text) = get(&format!("{url}/api/orders/1")).await;
    assert_eq!(xml(&text).child("order").unwrap().text_of("current_state"), Some("4"));
}

#[tokio::test]
async fn injected_faults_answer_in_prestashop_xml_and_refusals_name_the_property() {
    let url = start(0, 0, 0).await;
    client()
        .post(format!("{url}/__sim/faults"))
        .json(&json!({"error_rate": 1.0}))
        .send()
        .await
        .unwrap();
    let (status, text) = get(&format!("{url}/api/products")).await;
    assert_eq!(status, 503);
    assert!(xml(&text).child("errors").is_some(), "{text}");
    client()
        .post(format!("{url}/__sim/faults"))
        .json(&json!({"invalid_item_rate": 1.0}))
        .send()
        .await
        .unwrap();
    let body = "<prestashop><customer><passwd>x</passwd><lastname>A</lastname><firstname>B</firstname><email>a@b.lt</email></customer></prestashop>";
    let reply = client()
        .post(format!("{url}/api/customers"))
        .basic_auth(KEY, Some(""))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 400);
    let text = reply.text().await.unwrap();
    assert_eq!(error_code(&text), "85");
    assert!(
        text.contains("Validation error: \"Property Customer->email is not valid\""),
        "{text}"
    );
    let stats: Value = reqwest::get(format!("{url}/__sim/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["records"]["customer"], 0);
    assert_eq!(stats["refused_items"], 1);
}
