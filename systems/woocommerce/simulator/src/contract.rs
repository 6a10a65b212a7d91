//! WooCommerce in the connector contract: products and customers read and written, against
//! this simulator.
use crate::{router, Credentials, Seeding, WooSim};
use std::sync::Arc;
use tiltas_model::EntityKind;
use tiltas_sim::contract::{ContractFixture, CoveredEntity, NotCovered, Simulated, StartRequest, Starting};
use tiltas_sim::Harness;

/// How the connector contract runs against WooCommerce.
pub fn contract_fixture() -> ContractFixture {
    ContractFixture {
        system: "woocommerce",
        start,
        covered: &[
            CoveredEntity {
                entity: EntityKind::Product,
                match_on: Some("sku"),
                mutate: "product",
                source: true,
                target: true,
            },
            CoveredEntity {
                entity: EntityKind::Customer,
                match_on: Some("email"),
                mutate: "customer",
                source: true,
                target: true,
            },
        ],
        not_covered: &[
            NotCovered {
                entity: EntityKind::Stock,
                reason: "stock is written onto products the shop already has, found by SKU (it creates \
                         nothing), so the contract's write-into-an-empty-system cases do not apply: covered by \
                         systems/woocommerce/src/tests.rs (stock_reaches_simple_products_and_variations_found_by_sku)",
            },
            NotCovered {
                entity: EntityKind::Order,
                reason: "orders are read by status and booked through the order pipeline into an accounting \
                         system, which the contract's other side (the reference system) is not: covered by \
                         systems/woocommerce/src/tests.rs (orders_are_read_by_status_and_change_time) and \
                         crates/tiltas-engine/tests/it/booking.rs",
            },
        ],
        // The connector passes the per-item error's code and message on.
        refusal_text: "rest_invalid_param: Invalid parameter(s)",
    }
}

fn start(request: StartRequest) -> Starting {
    Box::pin(async move {
        let customers = if request.entity == EntityKind::Customer {
            request.records
        } else {
            0
        };
        let products = if customers == 0 { request.records } else { 0 };
        let sim = Arc::new(WooSim::new(
            Credentials {
                consumer_key: "ck_sut".to_owned(),
                consumer_secret: "cs_sut".to_owned(),
            },
            Seeding {
                seed: request.seed,
                products,
                customers,
                orders: 0,
                // The contract counts what is delivered: every product needs its key.
                some_without_sku: false,
            },
            None,
            false,
        ));
        let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim, request.seed)))
            .await
            .expect("start the WooCommerce simulator on 127.0.0.1");
        // Plain http: the connector signs every request with OAuth 1.0a, as WooCommerce requires.
        let connection = format!(
            "system = \"woocommerce\"\nbase_url = \"{url}\"\nconsumer_key = \"ck_sut\"\nconsumer_secret = \"cs_sut\""
        );
        Simulated::new(url, connection)
    })
}
