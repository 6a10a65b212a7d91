//! Bus Market in the connector contract: its products and stock (at one warehouse) are read by
//! the shared source cases against this simulator; the rest is covered by the crates' own tests.
use crate::{router, BusmarketSim, Seeding, REFUSED_ITEM};
use std::sync::Arc;
use std::time::Duration;
use tiltas_model::EntityKind;
use tiltas_sim::contract::{ContractFixture, CoveredEntity, NotCovered, Simulated, StartRequest, Starting};
use tiltas_sim::Harness;

/// How the connector contract runs against Bus Market.
pub fn contract_fixture() -> ContractFixture {
    ContractFixture {
        system: "busmarket",
        start,
        covered: &[
            CoveredEntity {
                entity: EntityKind::Product,
                match_on: Some("sku"),
                mutate: "product",
                source: true,
                target: false,
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
                entity: EntityKind::Document,
                reason: "the contract's peer (the reference system) writes no documents; \
                         systems/busmarket/src/tests.rs reads invoices to the end in pages, incrementally by date, \
                         and tests/flows.rs writes them into Smartup as receipts through the engine",
            },
            NotCovered {
                entity: EntityKind::SupplierOffer,
                reason: "the contract's cases have no supplier offers (search prices joined with stock per \
                         warehouse); systems/busmarket/src/tests.rs reads every offer and quotes single parts",
            },
            NotCovered {
                entity: EntityKind::Order,
                reason: "orders become reserves that the supplier never updates and the contract's target cases \
                         update records; systems/busmarket/src/tests.rs covers cart → reserve, a retry after \
                         commit-then-fail finding the reserve by its comment, and refusals",
            },
        ],
        refusal_text: REFUSED_ITEM,
    }
}

fn start(request: StartRequest) -> Starting {
    Box::pin(async move {
        // About 70 % of the shared catalogue is carried: draw enough parts for `records`.
        let records = request.records;
        let seeding = Seeding {
            seed: request.seed,
            catalogue: records * 2 + 10,
            invoices: 0,
        };
        let sim = BusmarketSim::new("contract-token", seeding).with_rate_limit(100_000, Duration::from_secs(60));
        sim.db().parts.truncate(records);
        let sim = Arc::new(sim);
        let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim, request.seed)))
            .await
            .expect("start the Bus Market simulator on 127.0.0.1");
        let connection =
            format!("system = \"busmarket\"\nbase_url = \"{url}\"\ntoken = \"contract-token\"\nwarehouse = \"KYIV\"");
        Simulated::new(url, connection)
    })
}
