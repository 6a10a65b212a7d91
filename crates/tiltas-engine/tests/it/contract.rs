//! The connector contract for every connector with a simulator.
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tiltas_sim::Harness;
use tiltas_testkit::connector_contract::Simulated;

type Started = Pin<Box<dyn Future<Output = Simulated> + Send>>;

fn reference(records: usize) -> Started {
    Box::pin(async move {
        use tiltas_connectors::reference::simulator::{router, ReferenceSim, Seeding};
        let sim = Arc::new(ReferenceSim::new("sut-token", Seeding::products(21, records)));
        let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim, 21)))
            .await
            .unwrap();
        let connection = format!("system = \"reference\"\nbase_url = \"{url}\"\ntoken = \"sut-token\"");
        Simulated { url, connection }
    })
}

fn rivile(records: usize) -> Started {
    Box::pin(async move {
        use tiltas_connectors::rivile::simulator::{router, RivileSim, Seeding};
        let sim = Arc::new(RivileSim::new(
            "SUT.key",
            Seeding {
                seed: 22,
                products: records,
                customers: 0,
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
    use tiltas_model::EntityKind;
    tiltas_testkit::connector_contract_tests!(
        super::reference,
        EntityKind::Product,
        "product",
        match_on = "sku",
        writes = true
    );
}

mod rivile_products {
    use tiltas_model::EntityKind;
    tiltas_testkit::connector_contract_tests!(
        super::rivile,
        EntityKind::Product,
        "product",
        match_on = "sku",
        writes = true
    );
}
