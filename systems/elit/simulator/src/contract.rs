//! Elit in the connector contract: stock (at one warehouse, so a seeded part is one record) is
//! read by the shared source cases against this simulator, the connection listing the seeded
//! item numbers (Elit has no catalogue listing); offers and orders are covered by the crate's
//! own tests.
use crate::{router, Access, ElitSim, Seeding, REFUSED_ITEM};
use std::sync::Arc;
use tiltas_model::EntityKind;
use tiltas_sim::contract::{ContractFixture, CoveredEntity, NotCovered, Simulated, StartRequest, Starting};
use tiltas_sim::Harness;

/// How the connector contract runs against Elit.
pub fn contract_fixture() -> ContractFixture {
    ContractFixture {
        system: "elit",
        start,
        covered: &[CoveredEntity {
            entity: EntityKind::Stock,
            match_on: None,
            mutate: "stock",
            source: true,
            target: false,
        }],
        not_covered: &[
            NotCovered {
                entity: EntityKind::SupplierOffer,
                reason: "the contract's peer (the reference system) writes no supplier offers; \
                         systems/elit/src/tests.rs reads every listed item's offer in pages (price in the company's \
                         currency, availability per warehouse with delivery dates) and quotes single parts",
            },
            NotCovered {
                entity: EntityKind::Order,
                reason: "orders are placed, never updated, and the contract's target cases update records; \
                     systems/elit/src/tests.rs covers placing, a retry after a lost answer finding the order by its \
                     number (getOrders), a refused item and bad credentials",
            },
        ],
        refusal_text: REFUSED_ITEM,
    }
}

fn start(request: StartRequest) -> Starting {
    Box::pin(async move {
        let access = Access {
            login: "contract-login".into(),
            password: "contract-password".into(),
            company: "ELIT_LT".into(),
        };
        // About 65 % of the shared catalogue is carried: draw enough parts for `records`.
        let seeding = Seeding {
            seed: request.seed,
            catalogue: request.records * 2 + 10,
        };
        let sim = ElitSim::new(access, seeding).expect("ELIT_LT is a known company");
        sim.truncate(request.records);
        let items: Vec<String> = sim.item_numbers().iter().map(|item| format!("{item:?}")).collect();
        let sim = Arc::new(sim);
        let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim, request.seed)))
            .await
            .expect("start the Elit simulator on 127.0.0.1");
        let connection = format!(
            "system = \"elit\"\nbase_url = \"{url}\"\nlogin = \"contract-login\"\npassword = \"contract-password\"\n\
             company = \"ELIT_LT\"\nbranch = \"Vilnius\"\nitems = [{}]",
            items.join(", ")
        );
        Simulated::new(url, connection)
    })
}
