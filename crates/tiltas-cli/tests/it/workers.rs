//! Several workers on one PostgreSQL with `examples/erp-shop.toml`: one `tiltas worker` and two
//! `tiltas serve` share a throwaway database. Signed order webhooks spread over both servers
//! are each processed once (store counters) and book each order in the ERP simulator once;
//! every scheduled flow runs once in its period; the worker is SIGKILLed mid-run and its flow
//! continues on another worker, nothing lost and nothing sent twice; `GET /api/v1/workers`
//! lists the live ones; SIGTERM ends a server cleanly.
use crate::{simulator, started, tiltas, ExampleRun, Process};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::{Duration, Instant};

const RIVILE_KEY: &str = "SHOP.test-key";
const HOOK_SECRET: &str = "hook-secret";
const PRODUCTS: usize = 800;
const ORDERS: usize = 100;
/// Each order is delivered this often (created, updated, and the shop's retries).
const COPIES: usize = 10;

/// A fresh database on the test server, or `None` (skip) when there is none and none is required.
fn postgres_database() -> Option<String> {
    let Ok(url) = std::env::var("TILTAS_TEST_POSTGRES_URL") else {
        let required = std::env::var("CI").is_ok_and(|value| value == "true")
            || std::env::var("TILTAS_REQUIRE_POSTGRES").is_ok_and(|value| value == "1");
        assert!(
            !required,
            "TILTAS_TEST_POSTGRES_URL is not set: run the tests through scripts/with-postgres"
        );
        eprintln!("skipped: set TILTAS_TEST_POSTGRES_URL (scripts/with-postgres does)");
        return None;
    };
    let database = format!("workers_{}", uuid::Uuid::new_v4().simple());
    block_on(async {
        let admin = sqlx::PgPool::connect(&url).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {database}"))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
    });
    let (base, _) = url.rsplit_once('/').unwrap();
    Some(format!("{base}/{database}"))
}

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// Rows of one query on the test database, as JSON objects.
fn query(db: &str, sql: &str) -> Vec<Value> {
    block_on(async {
        let pool = sqlx::PgPool::connect(db).await.unwrap();
        let rows: Vec<(Value,)> = sqlx::query_as(&format!("SELECT row_to_json(t)::jsonb FROM ({sql}) t"))
            .fetch_all(&pool)
            .await
            .unwrap();
        pool.close().await;
        rows.into_iter().map(|(row,)| row).collect()
    })
}

fn get(url: &str) -> Value {
    reqwest::blocking::get(url).unwrap().json().unwrap()
}

/// The order `number` as WooCommerce's webhook sends it, signed with the flow file's secret.
fn order_delivery(number: usize, topic: &str) -> (Vec<(&'static str, String)>, String) {
    let body = json!({
        "id": number, "number": number.to_string(), "status": "processing", "currency": "EUR",
        "date_created_gmt": "2026-11-20T10:00:00", "date_modified_gmt": "2026-11-20T10:00:00",
        "total": "24.20", "total_tax": "4.20", "shipping_total": "0.00", "payment_method": "bacs",
        "billing": {"first_name": "Ona", "last_name": "Onaitė", "email": format!("buyer{}@example.lt", number % 25),
                    "address_1": "Gedimino pr. 1", "city": "Vilnius", "postcode": "LT-01103", "country": "LT"},
        "line_items": [
            {"id": 1, "sku": format!("A{:05}", 101 + number % 20), "name": "Prekė", "quantity": 2, "price": 10,
             "subtotal": "20.00", "total": "20.00", "total_tax": "4.20"}
        ]
    })
    .to_string();
    let signature = tiltas_systems::woocommerce::webhook::sign(HOOK_SECRET, body.as_bytes());
    let headers = vec![
        ("content-type", "application/json".to_owned()),
        ("x-wc-webhook-topic", topic.to_owned()),
        ("x-wc-webhook-signature", signature),
    ];
    (headers, body)
}

/// A `tiltas` process on the shared store; `serve` ones print their address first.
struct Worker {
    process: Process,
    url: Option<String>,
}

impl Worker {
    fn start(example: &ExampleRun, db: &str, args: &[&str]) -> Worker {
        let mut command = tiltas();
        command
            .args(["--db", db, "--log", "warn"])
            .args(args)
            .arg("--config")
            .arg(&example.flows)
            .envs(example.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("TILTAS_CLAIM_TTL", "10");
        let (process, url) = if args[0] == "serve" {
            let (process, url) = started(&mut command);
            (process, Some(url))
        } else {
            (Process(command.spawn().unwrap()), None)
        };
        Worker { process, url }
    }

    fn pid(&self) -> u32 {
        self.process.0.id()
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

/// Waits for `condition` (checked every 100 ms) up to `limit`, naming `what` when it never holds.
fn wait_for(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !condition() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Posts every order `COPIES` times, spread over `servers`, from 8 threads.
fn post_webhooks(servers: &[String]) -> usize {
    let mut deliveries = Vec::new();
    for copy in 0..COPIES {
        for number in 1..=ORDERS {
            let topic = if copy == 0 { "order.created" } else { "order.updated" };
            deliveries.push((number, topic, &servers[(number + copy) % servers.len()]));
        }
    }
    let chunks: Vec<Vec<_>> = deliveries
        .chunks(deliveries.len().div_ceil(8))
        .map(<[_]>::to_vec)
        .collect();
    std::thread::scope(|scope| {
        let senders: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                scope.spawn(move || {
                    let client = reqwest::blocking::Client::new();
                    for (number, topic, server) in chunk {
                        let (headers, body) = order_delivery(number, topic);
                        let mut request = client.post(format!("{server}/hooks/shop")).body(body);
                        for (name, value) in headers {
                            request = request.header(name, value);
                        }
                        let response = request.send().unwrap();
                        assert!(response.status().is_success(), "{}", response.status());
                    }
                })
            })
            .collect();
        for sender in senders {
            sender.join().unwrap();
        }
    });
    deliveries.len()
}

// Three tiltas processes, two simulators and PostgreSQL: scripts/test runs it by itself after
// the suite (`-- --ignored workers::`), ~35 s. Its takeover once failed for a real reason: two
// workers pacing themselves at Rivile's 10/s share one key, and the resumed run gave up after
// six 429s in a row; a 429 is now waited out (deliver.rs `RATE_LIMIT_PATIENCE`).
#[test]
#[ignore = "needs the machine to itself: scripts/test runs it alone after the suite"]
fn three_workers_on_postgres_process_each_delivery_once_and_take_over_a_killed_workers_flow() {
    let Some(db) = postgres_database() else { return };
    let started = Instant::now();
    let products = PRODUCTS.to_string();
    let (_rivile, rivile_url) = simulator(&[
        "sim",
        "rivile",
        "--port",
        "0",
        "--api-key",
        RIVILE_KEY,
        "--products",
        &products,
        "--customers",
        "0",
    ]);
    let (_shop, shop_url) = simulator(&[
        "sim",
        "woocommerce",
        "--port",
        "0",
        "--consumer-key",
        "ck_e2e",
        "--consumer-secret",
        "cs_e2e",
        "--products",
        "0",
        "--customers",
        "0",
        "--orders",
        "0",
    ]);
    let mut example = ExampleRun::new(
        "erp-shop.toml",
        &[
            ("http://127.0.0.1:9101", &rivile_url),
            ("http://127.0.0.1:9201", &shop_url),
        ],
        &[
            ("RIVILE_API_KEY", RIVILE_KEY),
            ("WC_KEY", "ck_e2e"),
            ("WC_SECRET", "cs_e2e"),
            ("WC_WEBHOOK_SECRET", HOOK_SECRET),
        ],
    );
    example.db.clone_from(&db);
    let key = example.tiltas(&["keys", "create", "--scope", "read", "--name", "t", "--json"]);
    assert!(key.status.success(), "{}", String::from_utf8_lossy(&key.stderr));
    let key: Value = serde_json::from_slice(&key.stdout).unwrap();
    let key = key["key"].as_str().unwrap().to_owned();

    // The worker starts first and takes the products flow; then the two servers join.
    let worker = Worker::start(&example, &db, &["worker"]);
    let lease_holder = || {
        query(&db, "SELECT holder FROM lease WHERE name = 'flow:products-to-shop'")
            .first()
            .and_then(|row| row["holder"].as_str().map(str::to_owned))
    };
    wait_for("the worker takes the products flow", Duration::from_secs(20), || {
        lease_holder().is_some()
    });
    let holder = lease_holder().unwrap();
    assert!(holder.contains(&format!(":{}:", worker.pid())), "{holder}");
    let serve_a = Worker::start(&example, &db, &["serve", "--listen", "127.0.0.1:0"]);
    let serve_b = Worker::start(&example, &db, &["serve", "--listen", "127.0.0.1:0"]);
    let servers = vec![serve_a.url.clone().unwrap(), serve_b.url.clone().unwrap()];
    let api = |server: &str, path: &str| -> Value {
        reqwest::blocking::Client::new()
            .get(format!("{server}/api/v1/{path}"))
            .bearer_auth(&key)
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    wait_for("three live workers", Duration::from_secs(10), || {
        let workers = api(&servers[0], "workers");
        workers
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| w["status"] == "live")
            .count()
            == 3
    });

    let posted = post_webhooks(&servers);
    assert_eq!(posted, ORDERS * COPIES);

    // SIGKILL the worker in the middle of its products run (a page settled, more to come).
    let killed_run = query(
        &db,
        "SELECT id, records_read AS read FROM run WHERE flow = 'products-to-shop' ORDER BY id LIMIT 1",
    );
    wait_for("a settled page of products", Duration::from_secs(20), || {
        query(
            &db,
            "SELECT records_read AS read FROM run WHERE flow = 'products-to-shop' ORDER BY id LIMIT 1",
        )[0]["read"]
            .as_i64()
            .unwrap_or(0)
            > 0
    });
    let still_running = query(
        &db,
        "SELECT status FROM run WHERE flow = 'products-to-shop' ORDER BY id LIMIT 1",
    );
    assert_eq!(
        still_running[0]["status"], "running",
        "the products run ended before the kill: make it longer"
    );
    worker.signal("-KILL");
    let killed_at = Instant::now();
    // Reaped, as its service manager would: a zombie still looks alive in /proc.
    let mut worker = worker;
    let _ = worker.process.0.wait();
    eprintln!("killed {} in its products run {killed_run:?}", worker.pid());

    // Its flow continues on another worker within the lease TTL, to the end.
    wait_for(
        "the products flow finished on another worker",
        Duration::from_secs(90),
        || {
            query(
                &db,
                "SELECT status FROM run WHERE flow = 'products-to-shop' ORDER BY id",
            )
            .iter()
            .any(|run| run["status"] == "succeeded")
        },
    );
    let takeover = killed_at.elapsed();
    let products_runs = query(
        &db,
        "SELECT id, status, records_read AS read, records_created AS created, records_updated AS updated, error FROM run WHERE flow = 'products-to-shop' ORDER BY id",
    );
    assert_eq!(products_runs.len(), 2, "{products_runs:?}");
    let resumed = &products_runs[1];
    assert!(
        resumed["read"].as_i64().unwrap() < PRODUCTS as i64,
        "the second run read from the last settled page, not from the start: {products_runs:?}"
    );
    let shop_products = get(&format!("{shop_url}/__sim/records/product"));
    let skus: BTreeSet<&str> = shop_products
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|product| product["sku"].as_str())
        .collect();
    assert_eq!(skus.len(), PRODUCTS, "every product in the shop");
    assert_eq!(shop_products.as_array().unwrap().len(), PRODUCTS, "no product twice");
    assert_eq!(get(&format!("{shop_url}/__sim/stats"))["duplicates"], 0);

    // Every delivery settled exactly once, every order booked exactly once.
    wait_for("every delivery settled", Duration::from_secs(60), || {
        query(&db, "SELECT count(*) AS n FROM inbox WHERE done_at IS NULL")[0]["n"] == 0
    });
    let inbox = query(
        &db,
        "SELECT count(*) AS n, min(settles) AS least, max(settles) AS most, max(claims) AS claims FROM inbox",
    );
    assert_eq!(inbox[0]["n"], posted, "{inbox:?}");
    assert_eq!(
        (&inbox[0]["least"], &inbox[0]["most"]),
        (&json!(1), &json!(1)),
        "{inbox:?}"
    );
    let documents = get(&format!("{rivile_url}/__sim/records/I06"));
    let mut booked: BTreeMap<String, usize> = BTreeMap::new();
    for document in documents.as_array().unwrap() {
        *booked
            .entry(document["I06_DOK_NR"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    let expected: BTreeMap<String, usize> = (1..=ORDERS).map(|number| (number.to_string(), 1)).collect();
    assert_eq!(booked, expected, "each order in the ERP exactly once");
    assert_eq!(get(&format!("{rivile_url}/__sim/stats"))["duplicates"], 0);
    let letters = api(&servers[0], "dead-letters?flow=orders-to-erp&status=all");
    assert_eq!(letters, json!([]));

    // Each scheduled flow ran once in its period (products: the killed run and its resumption).
    let runs = query(
        &db,
        "SELECT flow, count(*) AS n FROM run WHERE mode = 'incremental' GROUP BY flow ORDER BY flow",
    );
    let runs: BTreeMap<String, i64> = runs
        .iter()
        .map(|row| (row["flow"].as_str().unwrap().to_owned(), row["n"].as_i64().unwrap()))
        .collect();
    let expected_runs: BTreeMap<String, i64> = [
        ("customers-to-erp", 1),
        ("customers-to-shop", 1),
        ("orders-to-erp", 1),
        ("products-to-shop", 2),
        ("stock-centr-to-shop", 1),
    ]
    .into_iter()
    .map(|(flow, n)| (flow.to_owned(), n))
    .collect();
    assert_eq!(runs, expected_runs);

    // The workers list: both servers live, the killed worker gone (or already removed).
    let workers = api(&servers[1], "workers");
    let status: BTreeMap<String, String> = workers
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["id"].as_str().unwrap().to_owned(),
                w["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let live: Vec<&String> = status.iter().filter(|(_, s)| *s == "live").map(|(id, _)| id).collect();
    assert_eq!(live.len(), 2, "{workers}");
    for server in [&serve_a, &serve_b] {
        assert!(
            live.iter().any(|id| id.contains(&format!(":{}:", server.pid()))),
            "{workers}"
        );
    }

    // SIGTERM: the server leaves the list and exits 0.
    serve_a.signal("-TERM");
    let mut serve_a = serve_a;
    let exit = serve_a.process.0.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    let workers = api(&servers[1], "workers");
    assert!(
        !workers.to_string().contains(&format!(":{}:", serve_a.pid())),
        "{workers}"
    );
    eprintln!(
        "{posted} webhooks over 2 servers, {ORDERS} orders booked once; takeover after the kill in {takeover:?}; \
         {:?} in all",
        started.elapsed()
    );
}
