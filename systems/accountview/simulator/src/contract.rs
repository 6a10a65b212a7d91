//! AccountView in the connector contract. A connection works only once a person has
//! authorised it (`tiltas connect` puts the refresh token in the engine's vault), so the
//! fixture issues a live refresh token and hands it over as the connection's run-time
//! credential; the suite keeps it in the engine's vault, where the connector finds it.
use crate::{router, AccountViewSim, Credentials, Seeding, REFUSED_ITEM};
use std::sync::Arc;
use std::time::Duration;
use tiltas_model::EntityKind;
use tiltas_sim::contract::{ContractFixture, CoveredEntity, NotCovered, Simulated, StartRequest, Starting};
use tiltas_sim::Harness;

/// How the connector contract runs against AccountView: products (articles, configurable ones
/// with their variants nested, one seeded product one record), debtors both ways, and stock.
pub fn contract_fixture() -> ContractFixture {
    ContractFixture {
        system: "accountview",
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
                source: true,
                target: false,
            },
        ],
        not_covered: &[
            NotCovered {
                entity: EntityKind::Category,
                reason: "the contract's other side (the reference system) takes no categories; article groups are \
                         read against the simulator by systems/accountview/src/tests.rs",
            },
            NotCovered {
                entity: EntityKind::PriceList,
                reason: "the contract's other side (the reference system) takes no price lists; they are read with \
                         their lines by systems/accountview/src/tests.rs \
                         (stock_is_available_less_reserved_and_price_lists_carry_their_lines)",
            },
            NotCovered {
                entity: EntityKind::Order,
                reason: "written only through the engine's order pipeline (a debtor found or created first, articles \
                         checked), which the contract's plain flows do not run; covered by \
                         systems/accountview/src/tests.rs and the AccountView ⇄ MplusKASSA example through the \
                         engine (src/tests/flows.rs)",
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
        let seeding = match request.entity {
            EntityKind::Product => Seeding::products(request.seed, request.records),
            EntityKind::Stock => Seeding::stock_rows(request.seed, request.records),
            _ => Seeding {
                seed: request.seed,
                articles: 0,
                debtors: request.records,
            },
        };
        let sim = Arc::new(AccountViewSim::new(credentials, seeding));
        let refresh_token = sim.issue_refresh_token();
        let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim, request.seed)))
            .await
            .expect("start the AccountView simulator on 127.0.0.1");
        let connection = format!(
            "system = \"accountview\"\nbase_url = \"{url}/api/v3/\"\ncompany = \"1\"\nclient_id = \"contract\"\n\
             client_secret = \"contract-secret\"\nredirect_uri = \"http://127.0.0.1:8765/callback\""
        );
        Simulated::new(url, connection).with_credential("refresh_token", refresh_token)
    })
}
