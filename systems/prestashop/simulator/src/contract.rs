//! PrestaShop in the connector contract: products and customers read and written, stock read,
//! against this simulator.
use crate::{router, PrestaSim, Seeding};
use std::sync::Arc;
use tiltas_model::EntityKind;
use tiltas_sim::contract::{ContractFixture, CoveredEntity, NotCovered, Simulated, StartRequest, Starting};
use tiltas_sim::Harness;

/// The key the system under test accepts.
const KEY: &str = "CONTRACTPRESTASHOPKEY00000000001";

/// How the connector contract runs against PrestaShop.
pub fn contract_fixture() -> ContractFixture {
    ContractFixture {
        system: "prestashop",
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
                entity: EntityKind::Stock,
                match_on: None,
                mutate: "stock",
                source: true,
                target: false,
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
                reason: "stock is read by the contract; it is written into the stock_availables rows of products the shop already has, found \
                         by reference (it creates nothing), so the contract's write-into-an-empty-system cases do \
                         not apply: covered by systems/prestashop/src/tests.rs \
                         (stock_lands_in_stock_availables_of_products_and_combinations)",
            },
            NotCovered {
                entity: EntityKind::Order,
                reason: "orders are read by state and booked through the order pipeline into an accounting system, \
                         which the contract's other side (the reference system) is not: covered by \
                         systems/prestashop/src/tests.rs (orders_are_read_incrementally_with_rows_customer_and_addresses) \
                         and, booked into Rivile by the engine, systems/prestashop/tests/rivile_example.rs \
                         (the_rivile_prestashop_example_moves_products_stock_and_orders_once)",
            },
        ],
        // The connector passes PrestaShop's code and message on.
        refusal_text: "code 85: Validation error",
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
        let sim = Arc::new(PrestaSim::new(
            KEY,
            Seeding {
                seed: request.seed,
                products,
                customers,
                orders: 0,
                // The contract counts stock levels: one row per product.
                combinations: request.entity != EntityKind::Stock,
            },
        ));
        let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim, request.seed)))
            .await
            .expect("start the PrestaShop simulator on 127.0.0.1");
        let connection = format!("system = \"prestashop\"\nbase_url = \"{url}\"\nkey = \"{KEY}\"");
        Simulated::new(url, connection)
    })
}
