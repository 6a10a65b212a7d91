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
        use tiltas_connectors::reference::simulator::{router, ReferenceSim, Seeding};
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
        use tiltas_connectors::rivile::simulator::{router, RivileSim, Seeding};
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
