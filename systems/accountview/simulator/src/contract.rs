//! AccountView in the connector contract: started, but every entity is listed as not covered,
//! because a connection works only once a person has authorised it (`tiltas connect` puts the
//! refresh token in the engine's vault) and a fixture can hand the suite only a
//! `[connections]` table. The connector's own tests (`systems/accountview/src/tests.rs`) run it
//! against this simulator with the token in a vault, and the example end to end through the
//! engine's own vault.
use crate::{router, AccountViewSim, Credentials, Seeding, REFUSED_ITEM};
use std::sync::Arc;
use std::time::Duration;
use tiltas_model::EntityKind;
use tiltas_sim::contract::{ContractFixture, NotCovered, Simulated, StartRequest, Starting};
use tiltas_sim::Harness;

const WHY: &str = "an AccountView connection needs a refresh token in the engine's vault, put there by a person with \
                   `tiltas connect`, and a contract fixture can hand the suite only a [connections] table; covered \
                   against the simulator by systems/accountview/src/tests.rs (reads, incremental reads, writes, \
                   refusals, 429/5xx/HTML) and tests/flows.rs (the example through the engine and its vault)";

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
