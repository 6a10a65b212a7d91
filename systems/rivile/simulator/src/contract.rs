//! Rivile in the connector contract: products and clients read and written, stock read,
//! against this simulator.
use crate::{router, RivileSim, Seeding, REFUSED_ITEM};
use std::sync::Arc;
use tiltas_model::EntityKind;
use tiltas_sim::contract::{ContractFixture, CoveredEntity, NotCovered, Simulated, StartRequest, Starting};
use tiltas_sim::Harness;

/// The API key the system under test accepts.
const API_KEY: &str = "SUT.key";

/// How the connector contract runs against Rivile.
pub fn contract_fixture() -> ContractFixture {
    ContractFixture {
        system: "rivile",
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
                match_on: Some("code"),
                mutate: "customer",
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
        ],
        not_covered: &[
            NotCovered {
                entity: EntityKind::PriceList,
                reason: "the contract's other side (the reference system) takes no price lists; read by \
                         systems/rivile/src/tests.rs (price_lists_are_read_as_one_record_per_level_across_pages, \
                         a_warehouse_price_overrides_the_price_list_and_its_change_is_read_incrementally)",
            },
            NotCovered {
                entity: EntityKind::Document,
                reason: "the contract's other side (the reference system) takes no documents; read by \
                         systems/rivile/src/tests.rs (sales_documents_are_read_with_their_lines, \
                         internal_documents_are_read_with_their_lines); written (suppliers' invoices as \
                         purchases, lines matched to products) by systems/rivile/src/tests/purchases.rs and, \
                         through the engine from three supplier simulators, tests/flows.rs",
            },
            NotCovered {
                entity: EntityKind::Order,
                reason: "orders are written through the order pipeline (buyer found or created, every line's \
                         product checked) as sales documents: covered by crates/tiltas-engine/tests/it/orders.rs \
                         and booking.rs, and systems/rivile/src/tests.rs",
            },
        ],
        refusal_text: REFUSED_ITEM,
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
        let sim = Arc::new(RivileSim::new(
            API_KEY,
            Seeding {
                seed: request.seed,
                products,
                customers,
            },
        ));
        let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim, request.seed)))
            .await
            .expect("start the Rivile simulator on 127.0.0.1");
        // Rivile allows 10 requests/s with bursts of 30: the engine paces itself below that.
        let connection = format!(
            "system = \"rivile\"\nbase_url = \"{url}/client/v2\"\napi_key = \"{API_KEY}\"\nrate_limit = \"9/s\""
        );
        Simulated::new(url, connection)
    })
}
