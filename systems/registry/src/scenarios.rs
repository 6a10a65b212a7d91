//! The worlds `tiltas demo` and `tiltas bench webhook` run in: which simulators they start,
//! the flow file they run, and how the world changes. The CLI runs them (store, server,
//! dashboard, timing) without naming any system; the systems are chosen here, in the one
//! crate that lists them.
use serde_json::json;
use std::sync::Arc;
use tiltas_sim::{Harness, SimSystem};

use crate::rivile::simulator::{router as rivile_router, RivileSim, Seeding as RivileSeeding};
use crate::woocommerce::simulator::{
    router as shop_router, Credentials, Seeding as ShopSeeding, WebhookTarget, WooSim,
};

/// The example the demo runs, built into the binary so `demo` works from any directory.
const DEMO_EXAMPLE: &str = include_str!("../../../examples/erp-shop.toml");
const RIVILE_KEY: &str = "DEMO.rivile-key";
const CONSUMER_KEY: &str = "ck_demo";
const CONSUMER_SECRET: &str = "cs_demo";
const WEBHOOK_SECRET: &str = "demo-webhook-secret";

/// The demo: the Rivile GAMA and WooCommerce simulators and `examples/erp-shop.toml`.
pub struct DemoWorld {
    erp: Arc<RivileSim>,
    shop: Arc<WooSim>,
    erp_url: String,
    shop_url: String,
}

impl DemoWorld {
    /// The flow of the shop's orders: run last in the first round, once the catalogue has
    /// reached the shop.
    pub const ORDERS_FLOW: &'static str = "orders-to-erp";
    /// The connection the shop's webhooks are delivered to (`/hooks/{connection}`).
    pub const WEBHOOK_CONNECTION: &'static str = "shop";

    /// Starts the simulators on free loopback ports. With `webhooks_to` (the server's
    /// address), the shop is set up as a user would: webhooks for what the flows read from it
    /// (orders and customers), not for products, which flow the other way.
    pub async fn start(webhooks_to: Option<&str>) -> std::io::Result<DemoWorld> {
        let erp = Arc::new(RivileSim::new(
            RIVILE_KEY,
            RivileSeeding {
                seed: 2026,
                products: 60,
                customers: 12,
            },
        ));
        let erp_url = tiltas_sim::spawn(rivile_router(erp.clone(), Harness::new(erp.clone(), 2026))).await?;
        let webhook = webhooks_to.map(|server| WebhookTarget {
            delivery_url: format!("{server}/hooks/{}", Self::WEBHOOK_CONNECTION),
            secret: WEBHOOK_SECRET.to_owned(),
            resources: vec!["order".to_owned(), "customer".to_owned()],
        });
        // The shop starts with a few products of its own, which the ERP does not have: orders
        // for them show what the order pipeline does with an unknown SKU (a dead letter to fix).
        let shop = Arc::new(WooSim::new(
            Credentials {
                consumer_key: CONSUMER_KEY.to_owned(),
                consumer_secret: CONSUMER_SECRET.to_owned(),
            },
            ShopSeeding {
                seed: 2026,
                products: 3,
                customers: 5,
                orders: 0,
                some_without_sku: false,
            },
            webhook,
            false,
        ));
        let shop_url = tiltas_sim::spawn(shop_router(shop.clone(), Harness::new(shop.clone(), 2026))).await?;
        Ok(DemoWorld {
            erp,
            shop,
            erp_url,
            shop_url,
        })
    }

    /// The example flow file with the simulators' addresses and the demo's credentials.
    pub fn flows(&self) -> String {
        DEMO_EXAMPLE
            .replace("http://127.0.0.1:9101", &self.erp_url)
            .replace("http://127.0.0.1:9201", &self.shop_url)
            .replace("{ env = \"RIVILE_API_KEY\" }", &format!("\"{RIVILE_KEY}\""))
            .replace("{ env = \"WC_KEY\" }", &format!("\"{CONSUMER_KEY}\""))
            .replace("{ env = \"WC_SECRET\" }", &format!("\"{CONSUMER_SECRET}\""))
            .replace("{ env = \"WC_WEBHOOK_SECRET\" }", &format!("\"{WEBHOOK_SECRET}\""))
    }

    /// One line per simulator, for the user.
    pub fn describe(&self) -> String {
        format!(
            "Rivile simulator {}, WooCommerce simulator {}",
            self.erp_url, self.shop_url
        )
    }

    /// Before the first round: the shop's first order is for one of its own products (the
    /// ERP's are not in the shop yet), so the order pipeline dead-letters it as "not in ERP"
    /// for the dashboard's inbox to show.
    pub fn before_first_round(&self) -> Result<(), String> {
        self.shop.mutate("order", 1).map(|_| ())
    }

    /// After the catalogue, stock and customers have reached the shop: it sells.
    pub fn before_orders(&self) -> Result<(), String> {
        self.shop.mutate("order", 12).map(|_| ())
    }

    /// One turn of the running demo: orders arrive by webhook, stock moves in the ERP, now
    /// and then products change. Returns the flows due this turn.
    pub fn turn(&self, turn: u64) -> Vec<&'static str> {
        // A simulator refusing a change is not worth stopping the demo for.
        let _ = self.shop.mutate("order", 2);
        let _ = self.erp.mutate("stock", 5);
        let mut due = vec!["stock-centr-to-shop"];
        if turn % 6 == 0 {
            let _ = self.erp.mutate("product", 3);
            due.extend(["products-to-shop", Self::ORDERS_FLOW]);
        }
        due
    }
}

const BENCH_SECRET: &str = "bench-webhook-secret";

/// The headers of the shop's (WooCommerce's) webhook delivery of `body` under `topic`,
/// signed with `secret`: for tests of the core crates, which name no system.
pub fn shop_webhook_headers(secret: &str, topic: &str, body: &str) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/json".to_owned()),
        ("x-wc-webhook-topic", topic.to_owned()),
        (
            "x-wc-webhook-signature",
            crate::woocommerce::webhook::sign(secret, body.as_bytes()),
        ),
    ]
}

/// The ERP simulator (Rivile GAMA) answering `api_key`, with `products` seeded from `seed`,
/// served on a free loopback port: the simulator and its address (the connection's
/// `base_url` is the address + `/client/v2`). For tests of the core crates.
pub async fn erp_simulator(api_key: &str, seed: u64, products: usize) -> std::io::Result<(Arc<dyn SimSystem>, String)> {
    let erp = Arc::new(RivileSim::new(
        api_key,
        RivileSeeding {
            seed,
            products,
            customers: 0,
        },
    ));
    let url = tiltas_sim::spawn(rivile_router(erp.clone(), Harness::new(erp.clone(), seed))).await?;
    Ok((erp, url))
}

/// The webhook benchmark: signed WooCommerce order webhooks into an order flow that writes
/// to the Rivile simulator (10 requests/s, bursts of 30, as the real gateway).
pub struct WebhookBenchWorld {
    erp: Arc<RivileSim>,
    erp_url: String,
}

/// One webhook delivery: its headers and body.
pub struct Delivery {
    /// Header name and value pairs.
    pub headers: Vec<(&'static str, String)>,
    /// The exact body.
    pub body: String,
}

impl WebhookBenchWorld {
    /// The connection webhooks are posted to (`/hooks/{connection}`).
    pub const WEBHOOK_CONNECTION: &'static str = "shop";
    /// The connection the orders are written to (switched off to measure ingress alone).
    pub const TARGET_CONNECTION: &'static str = "erp";

    /// Starts the ERP simulator.
    pub async fn start() -> std::io::Result<WebhookBenchWorld> {
        let erp = Arc::new(RivileSim::new(
            "BENCH.key",
            RivileSeeding {
                seed: 11,
                products: 25,
                customers: 0,
            },
        ));
        let erp_url = tiltas_sim::spawn(rivile_router(erp.clone(), Harness::new(erp.clone(), 11))).await?;
        Ok(WebhookBenchWorld { erp, erp_url })
    }

    /// The flow file: one webhook-triggered order flow.
    pub fn flows(&self) -> String {
        format!(
            r#"
[connections.shop]
system = "woocommerce"
base_url = "http://127.0.0.1:9"
consumer_key = "ck_bench"
consumer_secret = "cs_bench"
webhook_secret = "{BENCH_SECRET}"

[connections.erp]
system = "rivile"
base_url = "{}/client/v2"
api_key = "BENCH.key"
warehouse = "CENTR"
rate_limit = "9/s"

[[flows]]
name = "orders"
entity = "order"
from = {{ connection = "shop" }}
to = {{ connection = "erp" }}
trigger = "webhook"
match_on = "number"
on_duplicate = "skip"
"#,
            self.erp_url
        )
    }

    /// The order `id` as the shop's webhook sends it, signed.
    pub fn order(&self, id: usize) -> Delivery {
        let body = json!({
            "id": id, "number": id.to_string(), "status": "processing", "currency": "EUR",
            "date_created_gmt": "2026-11-20T10:00:00", "date_modified_gmt": "2026-11-20T10:00:00",
            "total": "24.20", "total_tax": "4.20", "shipping_total": "0.00", "payment_method": "bacs",
            "billing": {"first_name": "Ona", "last_name": "Onaitė", "email": format!("buyer{}@example.lt", id % 25),
                        "address_1": "Gedimino pr. 1", "city": "Vilnius", "postcode": "LT-01103", "country": "LT"},
            "line_items": [
                {"id": 1, "sku": format!("A{:05}", 101 + id % 20), "name": "Prekė", "quantity": 2, "price": 10,
                 "subtotal": "20.00", "total": "20.00", "total_tax": "4.20"}
            ]
        })
        .to_string();
        Delivery {
            headers: shop_webhook_headers(BENCH_SECRET, "order.created", &body),
            body,
        }
    }

    /// Orders booked in the ERP so far.
    pub fn orders_in_target(&self) -> usize {
        self.erp.record_counts().get("order").copied().unwrap_or(0)
    }

    /// The ERP simulator's address (its `/__sim/stats`).
    pub fn target_url(&self) -> &str {
        &self.erp_url
    }
}

/// The remote-limit benchmark: products read from the Rivile simulator, which enforces
/// Rivile's documented limit (10 requests/s, bursts of 30), into the reference simulator. It
/// measures how close a sync comes to the fastest the limit allows.
pub struct RemoteBenchWorld {
    erp: Arc<RivileSim>,
    erp_url: String,
    shop_url: String,
}

impl RemoteBenchWorld {
    /// The flow that reads the limited system.
    pub const FLOW: &'static str = "products";
    /// The documented rate of the limited system, requests per second.
    pub const DOCUMENTED_RATE_PER_S: u32 = crate::rivile::simulator::RATE_PER_S;
    /// The documented burst of the limited system.
    pub const DOCUMENTED_BURST: u32 = crate::rivile::simulator::BURST;

    /// Starts both simulators, the ERP seeded with `products`.
    pub async fn start(products: usize) -> std::io::Result<RemoteBenchWorld> {
        let erp = Arc::new(RivileSim::new(
            "REMOTE.key",
            RivileSeeding {
                seed: 13,
                products,
                customers: 0,
            },
        ));
        let erp_url = tiltas_sim::spawn(rivile_router(erp.clone(), Harness::new(erp.clone(), 13))).await?;
        let shop = Arc::new(
            crate::reference::simulator::ReferenceSim::new(
                "remote-token",
                crate::reference::simulator::Seeding::products(14, 0),
            )
            .with_name_limit(1000),
        );
        let shop_url = tiltas_sim::spawn(crate::reference::simulator::router(
            shop.clone(),
            Harness::new(shop, 14),
        ))
        .await?;
        Ok(RemoteBenchWorld { erp, erp_url, shop_url })
    }

    /// The flow file: the ERP's products into the reference system, paced by the ERP's
    /// documented burst with 5 kept in hand.
    pub fn flows(&self) -> String {
        format!(
            r#"
[connections.erp]
system = "rivile"
base_url = "{}/client/v2"
api_key = "REMOTE.key"
rate_limit = "10/s, burst 25"

[connections.shop]
system = "reference"
base_url = "{}"
token = "remote-token"

[[flows]]
name = "products"
entity = "product"
from = {{ connection = "erp" }}
to = {{ connection = "shop" }}
match_on = "sku"
"#,
            self.erp_url, self.shop_url
        )
    }

    /// The limited system's address (its `/__sim/stats` counts requests and refusals).
    pub fn limited_url(&self) -> &str {
        &self.erp_url
    }

    /// Products the limited system holds.
    pub fn products(&self) -> usize {
        self.erp.record_counts().get("product").copied().unwrap_or(0)
    }
}
