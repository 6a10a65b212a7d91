//! The WooCommerce simulator over loopback, driven by requests signed with [`super::oauth`].
use crate::{router, Credentials, Seeding, WebhookTarget, WooSim};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use hmac::Mac;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tiltas_sim::{Harness, SimSystem};
use tiltas_woocommerce::oauth::{sign_query, SignatureMethod};

const KEY: &str = "ck_test_key";
const SECRET: &str = "cs_test_secret";

struct Shop {
    url: String,
    sim: Arc<WooSim>,
    client: reqwest::Client,
    nonce: AtomicU64,
}

struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    json: Value,
}

impl Reply {
    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }
}

/// How a test request authenticates.
#[derive(Clone)]
enum SignIn {
    OAuth {
        secret: String,
        method: SignatureMethod,
        timestamp: u64,
        nonce: Option<String>,
    },
    Basic(String, String),
    Query(String, String),
    None,
}

fn now() -> u64 {
    chrono::Utc::now().timestamp() as u64
}

fn oauth() -> SignIn {
    SignIn::OAuth {
        secret: SECRET.into(),
        method: SignatureMethod::HmacSha256,
        timestamp: now(),
        nonce: None,
    }
}

async fn start_with(seeding: Seeding, webhook: Option<WebhookTarget>, assume_https: bool) -> Shop {
    let credentials = Credentials {
        consumer_key: KEY.into(),
        consumer_secret: SECRET.into(),
    };
    let sim = Arc::new(WooSim::new(credentials, seeding, webhook, assume_https));
    let harness = Harness::new(sim.clone(), seeding.seed);
    let url = tiltas_sim::spawn(router(sim.clone(), harness)).await.unwrap();
    Shop {
        url,
        sim,
        client: reqwest::Client::new(),
        nonce: AtomicU64::new(0),
    }
}

fn seeding(products: usize) -> Seeding {
    Seeding {
        seed: 7,
        products,
        customers: 4,
        orders: 0,
        some_without_sku: true,
    }
}

async fn start() -> Shop {
    start_with(seeding(20), None, false).await
}

impl Shop {
    async fn call_as(
        &self,
        auth: SignIn,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        let endpoint = format!("{}/wp-json/wc/v3/{path}", self.url);
        let mut pairs: Vec<(String, String)> = query.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let method_name = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.client.request(method_name, &endpoint);
        match auth {
            SignIn::OAuth {
                secret,
                method: signature_method,
                timestamp,
                nonce,
            } => {
                let nonce = nonce.unwrap_or_else(|| format!("nonce{}", self.nonce.fetch_add(1, Ordering::Relaxed)));
                let signed = sign_query(
                    method,
                    &endpoint,
                    &pairs,
                    KEY,
                    &secret,
                    signature_method,
                    timestamp,
                    &nonce,
                );
                pairs.extend(signed);
            }
            SignIn::Basic(key, secret) => request = request.basic_auth(key, Some(secret)),
            SignIn::Query(key, secret) => {
                pairs.push(("consumer_key".into(), key));
                pairs.push(("consumer_secret".into(), secret));
            }
            SignIn::None => {}
        }
        request = request.query(&pairs);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, headers, json }
    }

    async fn call(&self, method: &str, path: &str, query: &[(&str, &str)], body: Option<Value>) -> Reply {
        self.call_as(oauth(), method, path, query, body).await
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Reply {
        self.call("GET", path, query, None).await
    }

    async fn control(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}/__sim/{path}", self.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn stats(&self) -> Value {
        self.client
            .get(format!("{}/__sim/stats", self.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    fn records(&self, entity: &str) -> Vec<Value> {
        match self.sim.records(entity) {
            Some(Value::Array(records)) => records,
            other => panic!("no records of {entity}: {other:?}"),
        }
    }
}

fn assert_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.json);
    assert_eq!(reply.json["code"], code, "{}", reply.json);
    assert_eq!(reply.json["data"]["status"], status, "{}", reply.json);
}

/// Polls `condition` until it holds, failing after five seconds.
async fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let waited = tokio::time::timeout(Duration::from_secs(5), async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "timed out waiting for {what}");
}

#[tokio::test]
async fn the_same_seed_gives_the_same_shop() {
    let one = start().await;
    let two = start().await;
    assert_eq!(one.records("product"), two.records("product"));
    assert_eq!(one.records("customer"), two.records("customer"));
    let products = one.records("product");
    assert_eq!(products.len(), 20);
    assert!(products.iter().any(|p| p["type"] == "variable"));
    assert!(products
        .iter()
        .filter_map(|p| p["sku"].as_str())
        .filter(|s| !s.is_empty())
        .all(|s| s.starts_with("WC-")));
}

#[tokio::test]
async fn oauth_signatures_with_sha1_and_sha256_are_accepted() {
    let shop = start().await;
    for method in [SignatureMethod::HmacSha1, SignatureMethod::HmacSha256] {
        let auth = SignIn::OAuth {
            secret: SECRET.into(),
            method,
            timestamp: now(),
            nonce: None,
        };
        let reply = shop
            .call_as(auth, "GET", "products", &[("search", "a"), ("orderby", "id")], None)
            .await;
        assert_eq!(reply.status, 200, "{method:?}: {}", reply.json);
        let products = reply.json.as_array().unwrap();
        assert!(!products.is_empty());
        assert!(products
            .iter()
            .all(|p| p["name"].as_str().unwrap().to_lowercase().contains('a')));
    }
}

#[tokio::test]
async fn a_wrong_secret_is_an_authentication_error_counted_as_rejected() {
    let shop = start().await;
    let auth = SignIn::OAuth {
        secret: "cs_wrong".into(),
        method: SignatureMethod::HmacSha256,
        timestamp: now(),
        nonce: None,
    };
    let reply = shop.call_as(auth, "GET", "products", &[], None).await;
    assert_error(&reply, 401, "woocommerce_rest_authentication_error");
    assert_eq!(
        reply.json["message"],
        "Invalid signature - provided signature does not match."
    );
    assert_eq!(shop.stats().await["requests"]["rejected"], 1);
}

#[tokio::test]
async fn no_credentials_cannot_list() {
    let shop = start().await;
    let reply = shop.call_as(SignIn::None, "GET", "products", &[], None).await;
    assert_error(&reply, 401, "woocommerce_rest_cannot_view");
    assert_eq!(reply.json["message"], "Sorry, you cannot list resources.");
    let create = shop
        .call_as(SignIn::None, "POST", "products", &[], Some(json!({"name": "x"})))
        .await;
    assert_error(&create, 401, "woocommerce_rest_cannot_create");
}

#[tokio::test]
async fn a_replayed_nonce_is_refused() {
    let shop = start().await;
    let auth = SignIn::OAuth {
        secret: SECRET.into(),
        method: SignatureMethod::HmacSha256,
        timestamp: now(),
        nonce: Some("same-nonce".into()),
    };
    let first = shop.call_as(auth.clone(), "GET", "products", &[], None).await;
    assert_eq!(first.status, 200);
    let replay = shop.call_as(auth, "GET", "products", &[], None).await;
    assert_error(&replay, 401, "woocommerce_rest_authentication_error");
    assert_eq!(replay.json["message"], "Invalid nonce - nonce has already been used.");
}

#[tokio::test]
async fn a_timestamp_older_than_fifteen_minutes_is_refused() {
    let shop = start().await;
    let auth = SignIn::OAuth {
        secret: SECRET.into(),
        method: SignatureMethod::HmacSha1,
        timestamp: now() - 16 * 60,
        nonce: None,
    };
    let reply = shop.call_as(auth, "GET", "products", &[], None).await;
    assert_error(&reply, 401, "woocommerce_rest_authentication_error");
    assert_eq!(reply.json["message"], "Invalid timestamp.");
}

#[tokio::test]
async fn basic_auth_and_query_keys_work_only_when_the_shop_assumes_https() {
    let plain = start().await;
    let basic = SignIn::Basic(KEY.into(), SECRET.into());
    let refused = plain.call_as(basic.clone(), "GET", "products", &[], None).await;
    assert_error(&refused, 401, "woocommerce_rest_cannot_view");

    let https = start_with(seeding(5), None, true).await;
    let accepted = https.call_as(basic, "GET", "products", &[], None).await;
    assert_eq!(accepted.status, 200);
    assert_eq!(accepted.header("x-wp-total"), "5");
    let by_query = https
        .call_as(SignIn::Query(KEY.into(), SECRET.into()), "GET", "products", &[], None)
        .await;
    assert_eq!(by_query.status, 200);
    let wrong = https
        .call_as(
            SignIn::Basic(KEY.into(), "cs_wrong".into()),
            "GET",
            "products",
            &[],
            None,
        )
        .await;
    assert_error(&wrong, 401, "woocommerce_rest_authentication_error");
    assert_eq!(wrong.json["message"], "Consumer secret is invalid.");
    assert!(
        wrong.header("www-authenticate").starts_with("Basic realm="),
        "{:?}",
        wrong.headers
    );
    let unknown_key = https
        .call_as(
            SignIn::Basic("ck_other".into(), SECRET.into()),
            "GET",
            "products",
            &[],
            None,
        )
        .await;
    assert_error(&unknown_key, 401, "woocommerce_rest_cannot_view");
}

#[tokio::test]
async fn lists_are_paged_with_totals_and_prev_next_links() {
    let shop = start().await;
    let page_two = shop
        .get(
            "products",
            &[("per_page", "7"), ("page", "2"), ("orderby", "id"), ("order", "asc")],
        )
        .await;
    assert_eq!(page_two.status, 200);
    assert_eq!(page_two.header("x-wp-total"), "20");
    assert_eq!(page_two.header("x-wp-totalpages"), "3");
    let ids: Vec<u64> = page_two
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_u64().unwrap())
        .collect();
    let all: Vec<u64> = shop
        .records("product")
        .iter()
        .map(|p| p["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, all[7..14]);
    let link = page_two.header("link");
    let parts: Vec<&str> = link.split(", <").collect();
    assert_eq!(parts.len(), 2, "{link}");
    assert!(parts[0].contains("page=1>; rel=\"prev\""), "{link}");
    assert!(parts[1].contains("page=3>; rel=\"next\""), "{link}");
    assert!(
        parts[0].starts_with(&format!("<{}/wp-json/wc/v3/products?", shop.url)),
        "{link}"
    );

    let past_end = shop.get("products", &[("per_page", "7"), ("page", "4")]).await;
    assert_eq!(past_end.json, json!([]));
    assert_eq!(past_end.header("x-wp-total"), "20");
    assert_eq!(past_end.header("x-wp-totalpages"), "3");

    let default = shop.get("products", &[]).await;
    assert_eq!(default.json.as_array().unwrap().len(), 10);

    for bad in ["101", "0"] {
        let reply = shop.get("products", &[("per_page", bad)]).await;
        assert_error(&reply, 400, "rest_invalid_param");
        assert_eq!(reply.json["message"], "Invalid parameter(s): per_page");
    }
}

#[tokio::test]
async fn the_sku_filter_finds_one_product_or_variation_exactly() {
    let shop = start().await;
    let reply = shop.get("products", &[("sku", "WC-00001")]).await;
    let found = reply.json.as_array().unwrap();
    assert_eq!(found.len(), 1, "{}", reply.json);
    assert_eq!(found[0]["sku"], "WC-00001");
    assert_eq!(shop.get("products", &[("sku", "WC-0000")]).await.json, json!([]));

    let variation = shop.records("variation")[0].clone();
    let sku = variation["sku"].as_str().unwrap();
    let reply = shop.get("products", &[("sku", sku)]).await;
    assert_eq!(reply.json[0]["id"], variation["id"]);
    assert_eq!(reply.json[0]["type"], "variation");
    assert_eq!(reply.json[0]["parent_id"], variation["parent_id"]);
}

#[tokio::test]
async fn modified_after_returns_only_records_written_later() {
    let shop = start().await;
    let newest_seeded = shop
        .records("product")
        .iter()
        .filter_map(|p| p["date_modified_gmt"].as_str().map(str::to_owned))
        .max()
        .unwrap();
    let target = shop.records("product")[2]["id"].as_u64().unwrap();
    let updated = shop
        .call(
            "PUT",
            &format!("products/{target}"),
            &[],
            Some(json!({"regular_price": "12.30"})),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.json);
    assert_eq!(updated.json["price"], "12.30");
    assert!(updated.json["date_modified_gmt"].as_str().unwrap() > newest_seeded.as_str());

    let changed = shop
        .get(
            "products",
            &[
                ("modified_after", &newest_seeded),
                ("dates_are_gmt", "true"),
                ("orderby", "modified"),
                ("order", "asc"),
            ],
        )
        .await;
    let ids: Vec<u64> = changed
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [target]);
    let bad = shop.get("products", &[("modified_after", "last tuesday")]).await;
    assert_error(&bad, 400, "rest_invalid_param");
}

#[tokio::test]
async fn simple_and_variable_products_are_created_with_categories_and_variations() {
    let shop = start_with(seeding(0), None, false).await;
    let category = shop
        .call(
            "POST",
            "products/categories",
            &[],
            Some(json!({"name": "Virtuvės reikmenys"})),
        )
        .await;
    assert_eq!(category.status, 201, "{}", category.json);
    assert_eq!(category.json["slug"], "virtuves-reikmenys");
    let category_id = category.json["id"].as_u64().unwrap();
    let again = shop
        .call(
            "POST",
            "products/categories",
            &[],
            Some(json!({"name": "Virtuvės reikmenys"})),
        )
        .await;
    assert_error(&again, 400, "term_exists");

    let simple = shop
        .call(
            "POST",
            "products",
            &[],
            Some(json!({
                "name": "Puodas 5 l", "sku": "POT-5", "regular_price": "20.00", "manage_stock": true,
                "stock_quantity": 0, "categories": [{"id": category_id}]
            })),
        )
        .await;
    assert_eq!(simple.status, 201, "{}", simple.json);
    let simple_id = simple.json["id"].as_u64().unwrap();
    assert_eq!(
        simple.header("location"),
        format!("{}/wp-json/wc/v3/products/{simple_id}", shop.url)
    );
    assert_eq!(simple.json["price"], "20.00");
    assert_eq!(simple.json["stock_status"], "outofstock");
    assert_eq!(
        simple.json["categories"],
        json!([{"id": category_id, "name": "Virtuvės reikmenys", "slug": "virtuves-reikmenys"}])
    );
    let numeric_price = shop
        .call("POST", "products", &[], Some(json!({"name": "x", "regular_price": 20})))
        .await;
    assert_error(&numeric_price, 400, "rest_invalid_param");

    let variable = shop
        .call(
            "POST",
            "products",
            &[],
            Some(json!({
                "name": "Prijuostė", "type": "variable", "sku": "APRON",
                "attributes": [{"name": "Spalva", "variation": true, "visible": true, "options": ["Raudona", "Žalia"]}]
            })),
        )
        .await;
    assert_eq!(variable.status, 201);
    let parent = variable.json["id"].as_u64().unwrap();
    let mut variation_ids = Vec::new();
    for (option, price) in [("Raudona", "9.50"), ("Žalia", "8.75")] {
        let created = shop
            .call(
                "POST",
                &format!("products/{parent}/variations"),
                &[],
                Some(json!({"sku": format!("APRON-{option}"), "regular_price": price, "attributes": [{"name": "Spalva", "option": option}]})),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.json);
        assert_eq!(created.json["parent_id"], parent);
        assert_eq!(created.json["attributes"][0]["option"], option);
        variation_ids.push(created.json["id"].as_u64().unwrap());
    }
    let product = shop.get(&format!("products/{parent}"), &[]).await;
    assert_eq!(product.json["variations"], json!(variation_ids));
    assert_eq!(product.json["price"], "8.75");
    assert_eq!(product.json["attributes"][0]["options"], json!(["Raudona", "Žalia"]));
    let listed = shop
        .get(
            &format!("products/{parent}/variations"),
            &[("orderby", "id"), ("order", "asc")],
        )
        .await;
    assert_eq!(listed.header("x-wp-total"), "2");
    assert_eq!(listed.json[1]["name"], "Prijuostė - Žalia");
}

#[tokio::test]
async fn a_duplicate_sku_is_refused_on_create_and_update() {
    let shop = start().await;
    let create = shop
        .call(
            "POST",
            "products",
            &[],
            Some(json!({"name": "Kopija", "sku": "WC-00001"})),
        )
        .await;
    assert_error(&create, 400, "product_invalid_sku");
    assert_eq!(create.json["message"], "Invalid or duplicated SKU.");
    let other = shop.records("product")[1]["id"].as_u64().unwrap();
    let update = shop
        .call(
            "PUT",
            &format!("products/{other}"),
            &[],
            Some(json!({"sku": "WC-00001"})),
        )
        .await;
    assert_error(&update, 400, "product_invalid_sku");
    assert_eq!(shop.records("product").len(), 20);
    assert_eq!(shop.stats().await["duplicates"], 0);
}

#[tokio::test]
async fn batches_over_one_hundred_items_are_413_and_item_errors_come_back_in_a_200() {
    let shop = start().await;
    let too_many: Vec<Value> = (0..101).map(|n| json!({"name": format!("P{n}")})).collect();
    let reply = shop
        .call("POST", "products/batch", &[], Some(json!({"create": too_many})))
        .await;
    assert_error(&reply, 413, "woocommerce_rest_request_entity_too_large");

    let existing = shop.records("product")[0]["id"].as_u64().unwrap();
    let reply = shop
        .call(
            "POST",
            "products/batch",
            &[],
            Some(json!({
                "create": [{"name": "Naujas", "sku": "NEW-1", "regular_price": "1.00"}, {"name": "Dublis", "sku": "WC-00002"}],
                "update": [{"id": existing, "regular_price": "3.33"}, {"id": 999_999, "regular_price": "1.00"}],
                "delete": [999_998]
            })),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(reply.json["create"][0]["sku"], "NEW-1");
    assert!(reply.json["create"][0]["id"].as_u64().unwrap() > 0);
    assert_eq!(reply.json["create"][1]["id"], 0);
    assert_eq!(reply.json["create"][1]["error"]["code"], "product_invalid_sku");
    assert_eq!(reply.json["create"][1]["error"]["data"]["status"], 400);
    assert_eq!(reply.json["update"][0]["price"], "3.33");
    assert_eq!(reply.json["update"][1]["id"], 999_999);
    assert_eq!(
        reply.json["update"][1]["error"]["code"],
        "woocommerce_rest_product_invalid_id"
    );
    assert_eq!(reply.json["delete"][0]["error"]["data"]["status"], 404);
    assert_eq!(shop.records("product").len(), 21);
}

#[tokio::test]
async fn invalid_item_rate_refuses_chosen_skus_as_invalid_params_alone_every_time() {
    let shop = start().await;
    let (status, _) = shop.control("faults", json!({"invalid_item_rate": 0.5})).await;
    assert_eq!(status, 200);
    let creates: Vec<Value> = (0..20)
        .map(|n| json!({"name": format!("P{n}"), "sku": format!("T-{n:02}"), "regular_price": "1.00"}))
        .collect();
    let reply = shop
        .call("POST", "products/batch", &[], Some(json!({"create": creates})))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let results = reply.json["create"].as_array().unwrap();
    let refused: Vec<String> = (0..20)
        .filter(|n| results[*n].get("error").is_some())
        .map(|n| format!("T-{n:02}"))
        .collect();
    assert!((1..20).contains(&refused.len()), "{}", reply.json);
    let error = &results.iter().find(|result| result.get("error").is_some()).unwrap()["error"];
    assert_eq!(error["code"], "rest_invalid_param", "{error}");
    assert_eq!(error["message"], "Invalid parameter(s): sku", "{error}");
    assert_eq!(error["data"]["status"], 400, "{error}");
    assert!(error["data"]["params"]["sku"].is_string(), "{error}");
    assert_eq!(shop.stats().await["refused_items"], refused.len());
    assert_eq!(shop.records("product").len(), 20 + 20 - refused.len());

    // A single POST of a refused SKU is refused again, with the same error as a 400.
    let again = shop
        .call(
            "POST",
            "products",
            &[],
            Some(json!({"name": "Vėl", "sku": refused[0], "regular_price": "1.00"})),
        )
        .await;
    assert_error(&again, 400, "rest_invalid_param");

    let (status, _) = shop.control("faults", json!({})).await;
    assert_eq!(status, 200);
    let healthy = shop
        .call(
            "POST",
            "products",
            &[],
            Some(json!({"name": "Vėl", "sku": refused[0], "regular_price": "1.00"})),
        )
        .await;
    assert_eq!(healthy.status, 201, "{}", healthy.json);
}

#[tokio::test]
async fn missing_ids_are_404_on_get_and_400_on_update() {
    let shop = start().await;
    let parent = shop.records("variation")[0]["parent_id"].as_u64().unwrap();
    let cases = [
        (
            "products/999999".to_owned(),
            "woocommerce_rest_product_invalid_id",
            "Invalid ID.",
        ),
        (
            format!("products/{parent}/variations/999999"),
            "woocommerce_rest_product_variation_invalid_id",
            "Invalid ID.",
        ),
        (
            "orders/999999".to_owned(),
            "woocommerce_rest_shop_order_invalid_id",
            "Invalid ID.",
        ),
        (
            "customers/999999".to_owned(),
            "woocommerce_rest_invalid_id",
            "Invalid resource ID.",
        ),
    ];
    for (path, code, message) in cases {
        let get = shop.get(&path, &[]).await;
        assert_error(&get, 404, code);
        assert_eq!(get.json["message"], message);
        let put = shop.call("PUT", &path, &[], Some(json!({"status": "publish"}))).await;
        assert_error(&put, 400, code);
    }
    let no_route = shop.get("coupons-nope", &[]).await;
    assert_error(&no_route, 404, "rest_no_route");
    let wrong_method = shop.call("DELETE", "products", &[], None).await;
    assert_error(&wrong_method, 404, "rest_no_route");
}

#[tokio::test]
async fn a_variation_ignores_stock_quantity_unless_it_manages_stock() {
    let shop = start().await;
    let variation = shop.records("variation")[0].clone();
    let (id, parent) = (
        variation["id"].as_u64().unwrap(),
        variation["parent_id"].as_u64().unwrap(),
    );
    let path = format!("products/{parent}/variations/{id}");
    let unmanaged = shop
        .call(
            "PUT",
            &path,
            &[],
            Some(json!({"manage_stock": false, "stock_quantity": 7})),
        )
        .await;
    assert_eq!(unmanaged.status, 200, "{}", unmanaged.json);
    assert_eq!(unmanaged.json["stock_quantity"], Value::Null);
    let managed = shop
        .call(
            "PUT",
            &path,
            &[],
            Some(json!({"manage_stock": true, "stock_quantity": 7})),
        )
        .await;
    assert_eq!(managed.json["manage_stock"], true);
    assert_eq!(managed.json["stock_quantity"], 7);
    assert_eq!(managed.json["stock_status"], "instock");
    let sold_out = shop.call("PUT", &path, &[], Some(json!({"stock_quantity": "0"}))).await;
    assert_eq!(sold_out.json["stock_quantity"], 0);
    assert_eq!(sold_out.json["stock_status"], "outofstock");
}

#[tokio::test]
async fn customers_are_unique_by_email_and_bad_json_is_refused() {
    let shop = start().await;
    let email = shop.records("customer")[0]["email"].as_str().unwrap().to_owned();
    let duplicate = shop
        .call("POST", "customers", &[], Some(json!({"email": email.to_uppercase()})))
        .await;
    assert_error(&duplicate, 400, "registration-error-email-exists");
    let found = shop.get("customers", &[("email", &email)]).await;
    assert_eq!(found.json.as_array().unwrap().len(), 1);
    let created = shop
        .call(
            "POST",
            "customers",
            &[],
            Some(json!({"email": "nauja@example.lt", "first_name": "Nauja", "billing": {"phone": "+37060000000"}})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.json);
    assert_eq!(created.json["username"], "nauja");
    assert_eq!(created.json["billing"]["phone"], "+37060000000");

    let endpoint = format!("{}/wp-json/wc/v3/customers", shop.url);
    let signed = sign_query(
        "POST",
        &endpoint,
        &[],
        KEY,
        SECRET,
        SignatureMethod::HmacSha256,
        now(),
        "raw-json",
    );
    let response = shop
        .client
        .post(&endpoint)
        .query(&signed)
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "rest_invalid_json");
}

/// A webhook receiver on loopback that keeps every delivery and answers `status`.
#[derive(Clone, Default)]
struct Receiver {
    deliveries: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
}

impl Receiver {
    async fn start(status: StatusCode) -> (Receiver, String) {
        let receiver = Receiver::default();
        let kept = receiver.deliveries.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let kept = kept.clone();
                async move {
                    kept.lock().unwrap().push((headers, body));
                    status
                }
            }),
        );
        let url = tiltas_sim::spawn(app).await.unwrap();
        (receiver, format!("{url}/hook"))
    }

    fn with_topic(&self, topic: &str) -> Vec<(HeaderMap, Bytes)> {
        self.deliveries
            .lock()
            .unwrap()
            .iter()
            .filter(|(headers, _)| headers.get("x-wc-webhook-topic").is_some_and(|value| value == topic))
            .cloned()
            .collect()
    }

    fn count(&self) -> usize {
        self.deliveries.lock().unwrap().len()
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or("")
}

#[tokio::test]
async fn mutated_orders_are_delivered_as_signed_order_created_webhooks() {
    let (receiver, hook_url) = Receiver::start(StatusCode::OK).await;
    let target = WebhookTarget {
        delivery_url: hook_url,
        secret: "whsec-test".into(),
        resources: Vec::new(),
    };
    let shop = start_with(seeding(20), Some(target), false).await;
    let (status, reply) = shop.control("mutate", json!({"entity": "order", "count": 3})).await;
    assert_eq!((status, reply["changed"].clone()), (200, json!(3)));
    wait_for("three order.created deliveries", || {
        receiver.with_topic("order.created").len() == 3
    })
    .await;

    let orders = shop.records("order");
    let mut delivered_ids = Vec::new();
    for (headers, body) in receiver.with_topic("order.created") {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"whsec-test").unwrap();
        mac.update(&body);
        let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        assert_eq!(header(&headers, "x-wc-webhook-signature"), expected);
        assert_eq!(header(&headers, "x-wc-webhook-resource"), "order");
        assert_eq!(header(&headers, "x-wc-webhook-event"), "created");
        assert_eq!(header(&headers, "x-wc-webhook-source"), format!("{}/", shop.url));
        assert_eq!(header(&headers, "content-type"), "application/json");
        assert!(header(&headers, "user-agent").starts_with("WooCommerce/"));
        assert!(!header(&headers, "x-wc-webhook-id").is_empty());
        let order: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(order["status"], "pending", "created at checkout, before payment");
        assert_eq!(order["currency"], "EUR");
        assert!(order["billing"]["email"].as_str().unwrap().ends_with("@example.lt"));
        let lines = order["line_items"].as_array().unwrap();
        assert!((1..=3).contains(&lines.len()));
        assert!(lines
            .iter()
            .all(|line| line["sku"].as_str().unwrap().starts_with("WC-") && line["price"].is_number()));
        let stored = orders.iter().find(|stored| stored["id"] == order["id"]).unwrap();
        assert_eq!(stored["total"], order["total"]);
        assert_eq!(stored["status"], "processing", "then paid");
        delivered_ids.push(order["id"].as_u64().unwrap());
    }
    let mut in_order = delivered_ids.clone();
    in_order.sort_unstable();
    assert_eq!(delivered_ids, in_order, "deliveries keep the order of events");
    let order_hook = shop
        .records("webhook")
        .into_iter()
        .find(|hook| hook["topic"] == "order.created")
        .unwrap();
    assert_eq!(order_hook["deliveries"], 3);
}

#[tokio::test]
async fn a_webhook_is_disabled_after_more_than_five_failed_deliveries() {
    let (failing, failing_url) = Receiver::start(StatusCode::INTERNAL_SERVER_ERROR).await;
    let shop = start().await;
    let created = shop
        .call(
            "POST",
            "webhooks",
            &[],
            Some(json!({"name": "ERP", "topic": "order.created", "delivery_url": failing_url, "secret": "s"})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.json);
    assert_eq!(created.json["status"], "active");
    let hook_id = created.json["id"].as_u64().unwrap();
    let (status, _) = shop.control("mutate", json!({"entity": "order", "count": 7})).await;
    assert_eq!(status, 200);
    wait_for("the webhook to be disabled", || {
        shop.records("webhook")
            .iter()
            .any(|hook| hook["id"] == hook_id && hook["status"] == "disabled")
    })
    .await;
    let hook = shop.get(&format!("webhooks/{hook_id}"), &[]).await;
    assert_eq!(hook.json["status"], "disabled");
    let record = shop
        .records("webhook")
        .into_iter()
        .find(|hook| hook["id"] == hook_id)
        .unwrap();
    assert_eq!(record["failures"], 6, "{record}");
    assert_eq!(record["last_response_code"], 500);
    assert_eq!(failing.count(), 6, "the seventh order is not delivered");

    // Later orders reach only active webhooks.
    let (working, working_url) = Receiver::start(StatusCode::OK).await;
    let second = shop
        .call(
            "POST",
            "webhooks",
            &[],
            Some(json!({"topic": "order.created", "delivery_url": working_url})),
        )
        .await;
    assert_eq!(second.status, 201);
    shop.control("mutate", json!({"entity": "order", "count": 1})).await;
    wait_for("the active webhook's delivery", || working.count() == 1).await;
    assert_eq!(failing.count(), 6);
}

#[tokio::test]
async fn orders_cannot_be_mutated_into_a_shop_without_skus() {
    let shop = start_with(seeding(0), None, false).await;
    let (status, body) = shop.control("mutate", json!({"entity": "order", "count": 1})).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["message"], "no products with a SKU to order");
}

#[tokio::test]
async fn an_order_placed_by_sku_is_priced_from_the_catalogue_with_21_percent_vat() {
    let shop = start().await;
    let product = shop.get("products", &[("sku", "WC-00001")]).await.json[0].clone();
    let created = shop
        .call(
            "POST",
            "orders",
            &[],
            Some(json!({
                "set_paid": true,
                "billing": {"email": "svecias@example.lt", "company": "UAB Testas"},
                "line_items": [{"sku": "WC-00001", "quantity": 2}],
                "shipping_lines": [{"method_id": "flat_rate", "method_title": "Kurjeris", "total": "3.00"}]
            })),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.json);
    let order = created.json;
    assert_eq!(order["status"], "processing");
    assert_eq!(order["customer_id"], 0);
    assert_eq!(order["prices_include_tax"], false);
    let line = &order["line_items"][0];
    assert_eq!(line["product_id"], product["id"]);
    assert_eq!(line["name"], product["name"]);
    let unit: rust_decimal::Decimal = product["price"].as_str().unwrap().parse().unwrap();
    let net = unit * rust_decimal::Decimal::from(2);
    let tax = (net * rust_decimal::Decimal::new(21, 2)).round_dp(2);
    assert_eq!(line["total"], format!("{:.2}", net));
    assert_eq!(line["total_tax"], format!("{:.2}", tax));
    let shipping_tax = rust_decimal::Decimal::new(63, 2);
    assert_eq!(
        order["total"],
        format!("{:.2}", net + tax + rust_decimal::Decimal::new(300, 2) + shipping_tax)
    );
    assert_eq!(order["number"], order["id"].to_string());
}
