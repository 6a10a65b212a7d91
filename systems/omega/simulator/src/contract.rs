//! Omega in the connector contract: its products and stock (per warehouse) are read by the
//! shared source cases against this simulator; the rest is covered by the crates' own tests.
use crate::{router, Access, OmegaSim, Seeding, REFUSED_ITEM};
use std::sync::Arc;
use tiltas_model::EntityKind;
use tiltas_sim::contract::{ContractFixture, CoveredEntity, NotCovered, Simulated, StartRequest, Starting};
use tiltas_sim::Harness;

/// How the connector contract runs against Omega.
pub fn contract_fixture() -> ContractFixture {
    ContractFixture {
        system: "omega",
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
                         systems/omega/src/tests.rs reads expense documents to the end, incrementally by date, \
                         and tests/flows.rs writes them into Smartup as receipts through the engine",
            },
            NotCovered {
                entity: EntityKind::SupplierOffer,
                reason: "the contract's cases have no supplier offers; systems/omega/src/tests.rs reads every \
                         offer of the product list with prices and rests, and quotes single parts",
            },
            NotCovered {
                entity: EntityKind::Order,
                reason: "orders go through the basket and are never updated, and the contract's target cases \
                         update records; systems/omega/src/tests.rs covers placing, a retry after a lost answer \
                         finding the order by its comment, and refusals",
            },
        ],
        refusal_text: REFUSED_ITEM,
    }
}

fn start(request: StartRequest) -> Starting {
    Box::pin(async move {
        let access = Access {
            key: "contract-key".into(),
            allowed_ip: None,
        };
        // About 70 % of the shared catalogue is carried: draw enough parts for `records`.
        let seeding = Seeding {
            seed: request.seed,
            catalogue: request.records * 2 + 10,
            invoices: 0,
        };
        let sim = OmegaSim::new(access, seeding);
        sim.db().parts.truncate(request.records);
        let sim = Arc::new(sim);
        let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim, request.seed)))
            .await
            .expect("start the Omega simulator on 127.0.0.1");
        let connection = format!(
            "system = \"omega\"\nbase_url = \"{url}/public/api/v1.0\"\nkey = \"contract-key\"\nbranch = \"Харьков\""
        );
        Simulated::new(url, connection)
    })
}
