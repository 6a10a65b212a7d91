//! Smartup in the connector contract: items and customers read and written, stock read,
//! against this simulator.
use crate::{router, Seeding, SmartupSim, REFUSED_ITEM};
use std::sync::Arc;
use tiltas_model::EntityKind;
use tiltas_sim::contract::{ContractFixture, CoveredEntity, NotCovered, Simulated, StartRequest, Starting};
use tiltas_sim::Harness;
use tiltas_smartup::wire::QuotaClass;

const LOGIN: &str = "sut@contract";
const PASSWORD: &str = "sut-password";

/// How the connector contract runs against Smartup.
pub fn contract_fixture() -> ContractFixture {
    ContractFixture {
        system: "smartup",
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
                         systems/smartup/src/tests.rs (price_types_are_read_as_price_lists_with_every_items_price)",
            },
            NotCovered {
                entity: EntityKind::Order,
                reason: "orders are written through the order pipeline (buyer found or created as a Smartup person, \
                         every line's item checked) and read filtered by the company's exported statuses, which the \
                         contract's reference peer cannot drive: covered by systems/smartup/src/tests.rs \
                         (orders_follow_the_duplicate_check_error_update_or_skip, \
                         exported_statuses_and_the_flows_statuses_combine_the_stricter_wins) and \
                         src/tests/flows.rs (smartup_shop_example_sends_products_and_stock_and_books_25_shop_orders_once)",
            },
            NotCovered {
                entity: EntityKind::Document,
                reason: "the contract's other side (the reference system) takes no documents; read and written \
                         (payments, receipts) by systems/smartup/src/tests.rs \
                         (stock_of_one_warehouse_and_documents_are_read, \
                         payments_follow_the_duplicate_check_error_update_or_skip, \
                         a_supplier_invoice_becomes_a_receipt_once_and_an_unknown_item_is_a_dead_letter)",
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
        let items = if customers == 0 { request.records } else { 0 };
        let seeding = Seeding {
            seed: request.seed,
            items,
            items_without_code: 0,
            customers,
            orders: 0,
            documents: 0,
            filials: 0,
        };
        // The contract reads and writes far more than a real day's quota allows.
        let sim = Arc::new(
            SmartupSim::new(LOGIN, PASSWORD, seeding)
                .with_quota(QuotaClass::Reference, 1_000_000)
                .with_quota(QuotaClass::Frequent, 1_000_000),
        );
        let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim, request.seed)))
            .await
            .expect("start the Smartup simulator on 127.0.0.1");
        let connection = format!(
            "system = \"smartup\"\nbase_url = \"{url}\"\nlogin = \"{LOGIN}\"\npassword = \"{PASSWORD}\"\nfilial_id = \"1\""
        );
        Simulated::new(url, connection)
    })
}
