//! Magento in the connector contract: products and customers read and written, stock (MSI
//! source items) written, against this simulator.
use crate::{router, MagentoSim, Seeding, REFUSED_ITEM};
use std::sync::Arc;
use tiltas_model::EntityKind;
use tiltas_sim::contract::{ContractFixture, CoveredEntity, NotCovered, Simulated, StartRequest, Starting};
use tiltas_sim::Harness;

/// The Bearer token the system under test accepts.
const TOKEN: &str = "sut-magento-token";

/// How the connector contract runs against Magento.
pub fn contract_fixture() -> ContractFixture {
    ContractFixture {
        system: "magento",
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
            CoveredEntity {
                entity: EntityKind::Stock,
                match_on: None,
                mutate: "stock",
                source: false,
                target: true,
            },
        ],
        not_covered: &[
            NotCovered {
                entity: EntityKind::Category,
                reason: "the simulator seeds a fixed category tree rather than N categories for a case: covered by \
                         systems/magento/src/tests.rs (categories_are_read_below_the_store_root_with_their_parents)",
            },
            NotCovered {
                entity: EntityKind::Order,
                reason: "orders are read to be booked through the order pipeline into an accounting system, which \
                     the contract's other side (the reference system) is not: covered by systems/magento/src/tests.rs \
                     (orders_are_read_by_updated_at_with_configurable_lines_booked_once)",
            },
        ],
        refusal_text: REFUSED_ITEM,
    }
}

fn start(request: StartRequest) -> Starting {
    Box::pin(async move {
        let count = |entity: EntityKind| if request.entity == entity { request.records } else { 0 };
        let sim = Arc::new(MagentoSim::new(
            TOKEN,
            Seeding {
                seed: request.seed,
                products: count(EntityKind::Product),
                customers: count(EntityKind::Customer),
                orders: 0,
            },
        ));
        let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim, request.seed)))
            .await
            .expect("start the Magento simulator on 127.0.0.1");
        let connection = format!("system = \"magento\"\nbase_url = \"{url}\"\ntoken = \"{TOKEN}\"");
        Simulated::new(url, connection)
    })
}
