//! An OpenCart 3.x shop for `tiltas sim opencart --mysql URL`: OpenCart talks to integrators
//! through its database, so the simulator is the database — it creates OpenCart's tables
//! ([`tiltas_opencart::schema`]) in the given MySQL/MariaDB database, seeds them with products,
//! customers and orders from the seed ([`OpenCartSim`]), and serves the `/__sim/` control API
//! (`stats`, `mutate`, `records/{entity}`, `reset`) over HTTP like the other simulators.
//!
//! There is no fault harness: faults of an HTTP API (5xx, 429, a cut body) do not exist between
//! the connector and a database; the connector's handling of a refused login, an unknown
//! database, a stopped server and a refused row is tested against a real MariaDB instead.
mod shop;

pub use shop::{OpenCartSim, Seeding};
/// OpenCart 3 or 4: which tables the shop is built with ([`OpenCartSim::with_version`]).
pub use tiltas_opencart::schema::Version;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;
use tiltas_sim::CommonFlags;
use tokio::sync::OnceCell;

/// Why OpenCart is not run by the connector contract suite, and what covers it instead.
pub const CONTRACT_COVERAGE: &str =
    "the connector talks to OpenCart's MySQL/MariaDB database, not to an HTTP API, so the contract's \
     HTTP faults (5xx, 429, malformed bodies, commit-then-fail, refused items) cannot be injected; \
     systems/opencart/src/tests.rs runs the contract's behaviours against a real MariaDB \
     (products_are_read_in_keyset_pages_to_the_end, changes_are_read_incrementally_after_a_mutation, \
     a_product_written_twice_is_created_once_then_updated, a_refused_row_fails_alone_and_the_rest_of_the_batch_is_written, \
     lookups_find_products_stock_and_customers_by_their_match_keys) and end to end \
     (b1_opencart_example_lands_200_products_and_books_25_orders_once; variants on OpenCart 3 and 4 in \
     src/tests/variants.rs)";

/// What `tiltas sim opencart` takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Flags {
    #[command(flatten)]
    pub common: CommonFlags,
    /// The database to create OpenCart's tables in: mysql://user:password@127.0.0.1:3306/opencart.
    #[arg(long, env = "TILTAS_SIM_MYSQL_URL")]
    pub mysql: String,
    /// The tables' prefix (OpenCart's DB_PREFIX).
    #[arg(long, default_value = "oc_")]
    pub table_prefix: String,
    /// OpenCart's major version whose tables are built: 3 or 4.
    #[arg(long, default_value = "3", value_parser = ["3", "4"])]
    pub opencart_version: String,
    /// Products to start with (when the shop is empty).
    #[arg(long, default_value_t = 100)]
    pub products: usize,
    /// Customers to start with.
    #[arg(long, default_value_t = 20)]
    pub customers: usize,
    /// Confirmed orders to start with (plus one unconfirmed "missing order" per ten).
    #[arg(long, default_value_t = 20)]
    pub orders: usize,
}

/// The shop behind the control API: connected and installed once, on first need.
struct Shared {
    flags: Flags,
    shop: OnceCell<Result<Arc<OpenCartSim>, String>>,
}

impl Shared {
    async fn shop(&self) -> Result<Arc<OpenCartSim>, Response> {
        let shop = self
            .shop
            .get_or_init(|| async {
                let seeding = Seeding {
                    seed: self.flags.common.seed,
                    products: self.flags.products,
                    customers: self.flags.customers,
                    orders: self.flags.orders,
                };
                let version = tiltas_opencart::schema::Version::parse(&self.flags.opencart_version)
                    .ok_or_else(|| "--opencart-version: 3 or 4".to_owned())?;
                let sim = OpenCartSim::connect(&self.flags.mysql, &self.flags.table_prefix, seeding)
                    .await?
                    .with_version(version);
                let seeded = sim.install().await?;
                tracing::info!(seeded, "opencart simulator: tables ready");
                Ok(Arc::new(sim))
            })
            .await;
        shop.clone()
            .map_err(|message| failure(StatusCode::SERVICE_UNAVAILABLE, message))
    }
}

fn failure(status: StatusCode, message: String) -> Response {
    (
        status,
        Json(json!({ "error": { "code": status.as_u16(), "message": message } })),
    )
        .into_response()
}

impl Flags {
    /// The control API over the database these flags name. The tables are created and seeded
    /// in the background as soon as a runtime runs it, and every request waits for that.
    pub fn router(&self) -> Router {
        let shared = Arc::new(Shared {
            flags: self.clone(),
            shop: OnceCell::new(),
        });
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let eager = shared.clone();
            runtime.spawn(async move {
                if let Err(response) = eager.shop().await {
                    tracing::error!(status = %response.status(), "opencart simulator: cannot install the shop");
                }
            });
        }
        router(shared)
    }
}

/// The simulator of an already connected shop (tests).
pub fn router_for(sim: Arc<OpenCartSim>, flags: Flags) -> Router {
    let shop = OnceCell::new_with(Some(Ok(sim)));
    router(Arc::new(Shared { flags, shop }))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Mutation {
    entity: String,
    count: usize,
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/__sim/stats", get(stats))
        .route("/__sim/mutate", post(mutate))
        .route("/__sim/records/{entity}", get(records))
        .route("/__sim/reset", post(reset))
        .with_state(shared)
}

async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    let shop = match shared.shop().await {
        Ok(shop) => shop,
        Err(response) => return response,
    };
    match (shop.record_counts().await, shop.duplicates().await) {
        (Ok(records), Ok(duplicates)) => Json(json!({ "records": records, "duplicates": duplicates })).into_response(),
        (Err(message), _) | (_, Err(message)) => failure(StatusCode::INTERNAL_SERVER_ERROR, message),
    }
}

async fn mutate(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let mutation = match serde_json::from_slice::<Mutation>(&body) {
        Ok(mutation) => mutation,
        Err(error) => {
            return failure(
                StatusCode::BAD_REQUEST,
                format!("mutate: {error}; send {{\"entity\":\"order\",\"count\":N}}"),
            )
        }
    };
    let shop = match shared.shop().await {
        Ok(shop) => shop,
        Err(response) => return response,
    };
    match shop.mutate(&mutation.entity, mutation.count).await {
        Ok(changed) => Json(json!({ "entity": mutation.entity, "changed": changed })).into_response(),
        Err(message) => failure(StatusCode::BAD_REQUEST, message),
    }
}

async fn records(State(shared): State<Arc<Shared>>, Path(entity): Path<String>) -> Response {
    let shop = match shared.shop().await {
        Ok(shop) => shop,
        Err(response) => return response,
    };
    match shop.records(&entity).await {
        Ok(Some(records)) => Json(records).into_response(),
        Ok(None) => failure(
            StatusCode::NOT_FOUND,
            format!("no entity {entity:?}; use product, stock, customer or order"),
        ),
        Err(message) => failure(StatusCode::INTERNAL_SERVER_ERROR, message),
    }
}

async fn reset(State(shared): State<Arc<Shared>>) -> Response {
    let shop = match shared.shop().await {
        Ok(shop) => shop,
        Err(response) => return response,
    };
    match shop.reset().await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(message) => failure(StatusCode::INTERNAL_SERVER_ERROR, message),
    }
}

#[cfg(test)]
mod tests;
