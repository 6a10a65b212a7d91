//! B1 in the connector contract: items and clients read and written, stock read, against this
//! simulator.
use crate::{router, B1Sim, Seeding, REFUSED_ITEM};
use std::sync::Arc;
use tiltas_model::EntityKind;
use tiltas_sim::contract::{ContractFixture, CoveredEntity, NotCovered, Simulated, StartRequest, Starting};
use tiltas_sim::Harness;

/// The API key the system under test accepts.
const API_KEY: &str = "sut-api-key";
/// The private key its requests are signed with.
const PRIVATE_KEY: &str = "sut-private-key";

/// How the connector contract runs against B1.
pub fn contract_fixture() -> ContractFixture {
    ContractFixture {
        system: "b1",
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
                entity: EntityKind::Order,
                reason: "orders are written through the order pipeline (buyer found or created, every line's \
                         item checked) as sales invoices, which the contract's reference peer cannot drive: covered by \
                         systems/b1/src/tests.rs (an_order_becomes_a_sales_invoice_with_its_lines, \
                         a_partial_completion_is_a_dead_letter_naming_the_created_invoice, \
                         b1_shop_example_books_25_shop_orders_as_25_invoices_once)",
            },
            NotCovered {
                entity: EntityKind::BankTransaction,
                reason: "statement lines are booked against open invoices the simulator seeds, which the contract's \
                         reference peer cannot produce; covered by systems/b1/src/payments.rs (matching) and \
                         crates/tiltas-cli/tests/it/payments.rs (statements dropped twice through the engine)",
            },
            NotCovered {
                entity: EntityKind::Document,
                reason: "the contract's other side (the reference system) takes no documents; read by \
                         systems/b1/src/tests.rs (sales_invoices_are_read_with_their_lines, payments_are_read_as_customer_payments)",
            },
        ],
        refusal_text: REFUSED_ITEM,
    }
}

fn start(request: StartRequest) -> Starting {
    Box::pin(async move {
        let clients = if request.entity == EntityKind::Customer {
            request.records
        } else {
            0
        };
        let items = if clients == 0 { request.records } else { 0 };
        let sim = Arc::new(B1Sim::new(
            API_KEY,
            PRIVATE_KEY,
            Seeding {
                seed: request.seed,
                items,
                clients,
                warehouses: 1,
                invoices: 0,
            },
        ));
        let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim, request.seed)))
            .await
            .expect("start the B1 simulator on 127.0.0.1");
        let connection = format!(
            "system = \"b1\"\nbase_url = \"{url}/api/\"\napi_key = \"{API_KEY}\"\nprivate_key = \"{PRIVATE_KEY}\""
        );
        Simulated::new(url, connection)
    })
}
