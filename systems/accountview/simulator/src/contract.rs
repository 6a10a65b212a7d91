//! AccountView in the connector contract: started, but every entity is listed as not covered
//! for now, because the contract suite runs connectors through the engine, which opens them
//! without a credential vault (`NoVault`), and AccountView's rotating refresh token has to be
//! kept in one. The connector's own tests (`systems/accountview/src/tests.rs`) run it with a
//! vault against this simulator.
use crate::{router, AccountViewSim, Credentials, Seeding, REFUSED_ITEM};
use std::sync::Arc;
use std::time::Duration;
use tiltas_model::EntityKind;
use tiltas_sim::contract::{ContractFixture, NotCovered, Simulated, StartRequest, Starting};
use tiltas_sim::Harness;

const WHY: &str = "the contract suite opens connectors through the engine, which hands them no credential vault yet \
                   (NoVault), and AccountView's rotating refresh token must be kept in one; covered against the \
                   simulator with a vault by systems/accountview/src/tests.rs";

/// How the connector contract runs against AccountView.
pub fn contract_fixture() -> ContractFixture {
    ContractFixture {
        system: "accountview",
        start,
        covered: &[],
        not_covered: &[
            NotCovered {
                entity: EntityKind::Product,
                reason: WHY,
            },
            NotCovered {
                entity: EntityKind::Category,
                reason: WHY,
            },
            NotCovered {
                entity: EntityKind::Customer,
                reason: WHY,
            },
            NotCovered {
                entity: EntityKind::Stock,
                reason: WHY,
            },
            NotCovered {
                entity: EntityKind::PriceList,
                reason: WHY,
            },
            NotCovered {
                entity: EntityKind::Order,
                reason: WHY,
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
            company: "1".into(),
            token_lifetime: Duration::from_secs(3600),
        };
        let articles = if request.entity == EntityKind::Product {
            request.records
        } else {
            0
        };
        let debtors = if request.entity == EntityKind::Customer {
            request.records
        } else {
            0
        };
        let sim = Arc::new(AccountViewSim::new(
            credentials,
            Seeding {
                seed: request.seed,
                articles,
                debtors,
            },
        ));
        let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim, request.seed)))
            .await
            .expect("start the AccountView simulator on 127.0.0.1");
        let connection = format!(
            "system = \"accountview\"\nbase_url = \"{url}/api/v3/\"\ncompany = \"1\"\nclient_id = \"contract\"\n\
             client_secret = \"contract-secret\"\nredirect_uri = \"http://127.0.0.1:8765/callback\""
        );
        Simulated { url, connection }
    })
}
