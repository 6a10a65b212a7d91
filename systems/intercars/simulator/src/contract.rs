//! Inter Cars in the connector contract: its products and stock (at one branch) are read by
//! the shared source cases against this simulator; the rest is covered by the crates' own tests.
use crate::{router, Credentials, IntercarsSim, Seeding, REFUSED_ITEM};
use std::sync::Arc;
use std::time::Duration;
use tiltas_model::EntityKind;
use tiltas_sim::contract::{ContractFixture, CoveredEntity, NotCovered, Simulated, StartRequest, Starting};
use tiltas_sim::Harness;

/// How the connector contract runs against Inter Cars.
pub fn contract_fixture() -> ContractFixture {
    ContractFixture {
        system: "intercars",
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
                         systems/intercars/src/tests.rs reads 20 invoices to the end in pages, incrementally by \
                         issue date, and tests/flows.rs writes them into Smartup as receipts through the engine",
            },
            NotCovered {
                entity: EntityKind::SupplierOffer,
                reason: "the contract's cases have no supplier offers (price quotes joined with stock); \
                         systems/intercars/src/tests.rs reads every offer of the catalogue in quote calls of ≤ 20",
            },
            NotCovered {
                entity: EntityKind::Order,
                reason: "orders become requisitions that the supplier never updates and the contract's \
                         target cases update records; systems/intercars/src/tests.rs covers create-then-confirm, \
                         a retry after commit-then-fail finding the requisition by customNumber, and refusals",
            },
        ],
        refusal_text: REFUSED_ITEM,
    }
}

fn start(request: StartRequest) -> Starting {
    Box::pin(async move {
        let credentials = Credentials {
            client_id: "contract".into(),
            client_secret: "contract-secret".into(),
            token_lifetime: Duration::from_secs(3600),
        };
        // About 80 % of the shared catalogue is carried: draw enough parts for `records`.
        let records = request.records;
        let seeding = Seeding {
            seed: request.seed,
            catalogue: records * 2 + 10,
            invoices: 0,
        };
        let sim = IntercarsSim::new(credentials, seeding);
        sim.db().parts.truncate(records);
        let sim = Arc::new(sim.with_max_in_flight(64));
        let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim, request.seed)))
            .await
            .expect("start the Inter Cars simulator on 127.0.0.1");
        let connection = format!(
            "system = \"intercars\"\nbase_url = \"{url}/ic\"\ntoken_url = \"{url}/oauth2/token\"\n\
             client_id = \"contract\"\nclient_secret = \"contract-secret\"\nlocation = \"POZ\""
        );
        Simulated::new(url, connection)
    })
}
