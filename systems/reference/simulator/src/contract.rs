//! The reference system in the connector contract: products, customers and stock, read and
//! written, against this simulator.
use crate::{router, ReferenceSim, Seeding, REFUSED_ITEM};
use std::sync::Arc;
use tiltas_model::EntityKind;
use tiltas_sim::contract::{ContractFixture, CoveredEntity, NotCovered, Simulated, StartRequest, Starting};
use tiltas_sim::Harness;

/// The bearer token the system under test accepts.
const TOKEN: &str = "sut-token";

/// How the connector contract runs against the reference system.
pub fn contract_fixture() -> ContractFixture {
    ContractFixture {
        system: "reference",
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
                target: true,
            },
        ],
        not_covered: &[NotCovered {
            entity: EntityKind::Order,
            reason: "not covered yet: this simulator's `/__sim/mutate` places new orders instead of changing \
                     existing ones, which the incremental-read case needs; no other test syncs reference orders",
        }],
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
        let sim = Arc::new(ReferenceSim::new(
            TOKEN,
            Seeding {
                seed: request.seed,
                products,
                customers,
                orders: 0,
            },
        ));
        let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim, request.seed)))
            .await
            .expect("start the reference simulator on 127.0.0.1");
        let connection = format!("system = \"reference\"\nbase_url = \"{url}\"\ntoken = \"{TOKEN}\"");
        Simulated::new(url, connection)
    })
}
