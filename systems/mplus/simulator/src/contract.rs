//! MplusKASSA in the connector contract: products and customers read and written, stock read,
//! against this simulator; price lists (written only) are not covered, with the reason.
use crate::{router, MplusSim, Seeding, REFUSED_ITEM};
use std::sync::Arc;
use tiltas_model::EntityKind;
use tiltas_sim::contract::{ContractFixture, CoveredEntity, NotCovered, Simulated, StartRequest, Starting};
use tiltas_sim::Harness;

const IDENT: &str = "contract";
const SECRET: &str = "SUT.secret";

/// How the connector contract runs against MplusKASSA.
pub fn contract_fixture() -> ContractFixture {
    ContractFixture {
        system: "mplus",
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
                entity: EntityKind::Document,
                reason: "the contract's other side (the reference system) takes no documents; invoices are read \
                         by systems/mplus/src/tests.rs (invoices_are_read_by_sync_marker_as_sales_invoices)",
            },
            NotCovered {
                entity: EntityKind::Category,
                reason: "the contract's other side (the reference system) takes no categories; article groups are \
                         read by systems/mplus/src/tests.rs (article_groups_are_read_as_categories_with_their_subgroups)",
            },
            NotCovered {
                entity: EntityKind::Stock,
                reason: "written with setStock, which takes a numeric branch, while the contract's peer names \
                         warehouses by text; covered by systems/mplus/src/tests.rs \
                         (stock_is_set_per_branch_absolutely_and_a_repeat_changes_nothing)",
            },
            NotCovered {
                entity: EntityKind::PriceList,
                reason: "written as the articles' prices per price group, but the contract's other side (the \
                         reference system) keeps no price lists to drive it; covered by systems/mplus/src/tests/prices.rs \
                         (price_lists_land_per_article_in_their_group_and_a_repeat_writes_nothing, \
                         a_line_that_cannot_be_written_is_refused_alone_naming_it) and end to end by \
                         systems/accountview/src/tests/flows.rs",
            },
            NotCovered {
                entity: EntityKind::Order,
                reason:
                    "the contract's incremental case expects mutated records to come back as updates, but a till's \
                     new orders are new records; orders are read by sync marker in systems/mplus/src/tests.rs \
                     (orders_are_read_by_sync_marker_with_lines_employee_and_branch) and created idempotently by \
                     zeep in scripts/mplus_client_check.py",
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
        let products = if customers == 0 { request.records } else { 0 };
        let sim = Arc::new(MplusSim::new(
            IDENT,
            SECRET,
            Seeding {
                seed: request.seed,
                products,
                customers,
                orders: 0,
            },
        ));
        let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim, request.seed)))
            .await
            .expect("start the MplusKASSA simulator on 127.0.0.1");
        // The reference system's SKUs (LT-000123) are not article numbers: keep their digits.
        let connection = format!(
            "system = \"mplus\"\nbase_url = \"{url}/\"\nident = \"{IDENT}\"\nsecret = \"{SECRET}\"\nsku_digits = \"keep_digits\""
        );
        Simulated::new(url, connection)
    })
}
