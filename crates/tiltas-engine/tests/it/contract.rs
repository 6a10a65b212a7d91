//! The connector contract for every connector with a simulator, per entity it supports.
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tiltas_model::EntityKind;
use tiltas_sim::Harness;
use tiltas_testkit::connector_contract::Simulated;

type Started = Pin<Box<dyn Future<Output = Simulated> + Send>>;

fn reference(records: usize, entity: EntityKind) -> Started {
    Box::pin(async move {
        use tiltas_systems::reference::simulator::{router, ReferenceSim, Seeding};
        let customers = if entity == EntityKind::Customer { records } else { 0 };
        let products = if customers == 0 { records } else { 0 };
        let sim = Arc::new(ReferenceSim::new(
            "sut-token",
            Seeding {
                seed: 21,
                products,
                customers,
                orders: 0,
            },
        ));
        let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim, 21)))
            .await
            .unwrap();
        let connection = format!("system = \"reference\"\nbase_url = \"{url}\"\ntoken = \"sut-token\"");
        Simulated { url, connection }
    })
}

fn rivile(records: usize, entity: EntityKind) -> Started {
    Box::pin(async move {
        use tiltas_systems::rivile::simulator::{router, RivileSim, Seeding};
        let customers = if entity == EntityKind::Customer { records } else { 0 };
        let products = if customers == 0 { records } else { 0 };
        let sim = Arc::new(RivileSim::new(
            "SUT.key",
            Seeding {
                seed: 22,
                products,
                customers,
            },
        ));
        let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim, 22)))
            .await
            .unwrap();
        // Rivile allows 10 requests/s with bursts of 30: the engine paces itself below that.
        let connection =
            format!("system = \"rivile\"\nbase_url = \"{url}/client/v2\"\napi_key = \"SUT.key\"\nrate_limit = \"9/s\"");
        Simulated { url, connection }
    })
}

mod reference_products {
    use super::*;
    tiltas_testkit::connector_contract_tests!(
        reference,
        EntityKind::Product,
        "product",
        match_on = "sku",
        writes = true
    );
}

mod reference_customers {
    use super::*;
    tiltas_testkit::connector_contract_tests!(
        reference,
        EntityKind::Customer,
        "customer",
        match_on = "code",
        writes = true
    );
}

mod reference_stock {
    use super::*;
    tiltas_testkit::connector_contract_tests!(reference, EntityKind::Stock, "stock", match_on = "", writes = true);
}

mod rivile_products {
    use super::*;
    tiltas_testkit::connector_contract_tests!(rivile, EntityKind::Product, "product", match_on = "sku", writes = true);
}

mod rivile_customers {
    use super::*;
    tiltas_testkit::connector_contract_tests!(
        rivile,
        EntityKind::Customer,
        "customer",
        match_on = "code",
        writes = true
    );
}

mod rivile_stock {
    use super::*;
    tiltas_testkit::connector_contract_tests!(rivile, EntityKind::Stock, "stock", match_on = "", writes = false);
}

fn woocommerce(records: usize, entity: EntityKind) -> Started {
    Box::pin(async move {
        use tiltas_systems::woocommerce::simulator::{router, Credentials, Seeding, WooSim};
        let customers = if entity == EntityKind::Customer { records } else { 0 };
        let products = if customers == 0 { records } else { 0 };
        let sim = Arc::new(WooSim::new(
            Credentials {
                consumer_key: "ck_sut".to_owned(),
                consumer_secret: "cs_sut".to_owned(),
            },
            Seeding {
                seed: 23,
                products,
                customers,
                orders: 0,
                some_without_sku: false,
            },
            None,
            false,
        ));
        let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim, 23)))
            .await
            .unwrap();
        // Plain http: the connector signs every request with OAuth 1.0a, as WooCommerce requires.
        let connection = format!(
            "system = \"woocommerce\"\nbase_url = \"{url}\"\nconsumer_key = \"ck_sut\"\nconsumer_secret = \"cs_sut\""
        );
        Simulated { url, connection }
    })
}

mod woocommerce_products {
    use super::*;
    tiltas_testkit::connector_contract_tests!(
        woocommerce,
        EntityKind::Product,
        "product",
        match_on = "sku",
        writes = true
    );
}

mod woocommerce_customers {
    use super::*;
    tiltas_testkit::connector_contract_tests!(
        woocommerce,
        EntityKind::Customer,
        "customer",
        match_on = "email",
        writes = true
    );
}
