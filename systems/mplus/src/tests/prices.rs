//! B2B price lists written as the articles' prices per price group.
use super::{item, open_target, requests, start, writing};
use crate::{OpenGate, WriteOutcome};
use serde_json::{json, Value};
use std::sync::Arc;
use tiltas_sim::{Faults, SimSystem};

/// The group prices of article `number` as the simulator holds them.
fn group_prices(sim: &tiltas_mplus_sim::MplusSim, number: i64) -> Vec<Value> {
    let products = sim.records("product").unwrap();
    let article = products
        .as_array()
        .unwrap()
        .iter()
        .find(|article| article["articleNumber"] == number)
        .cloned()
        .unwrap_or_else(|| panic!("article {number}"));
    article["priceGroupList"].as_array().cloned().unwrap_or_default()
}

fn written(outcome: &WriteOutcome) -> &str {
    match outcome {
        WriteOutcome::Written { target_id } => target_id,
        WriteOutcome::Failed(error) => panic!("{error}"),
    }
}

#[tokio::test]
async fn price_lists_land_per_article_in_their_group_and_a_repeat_writes_nothing() {
    let (url, sim, _) = start(5, 0).await;
    let config = writing(&url, "price_list", "");
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    assert!(
        !target.can_lookup(),
        "a group's prices are set, there is nothing to adopt"
    );
    let horeca = json!({"code": "PL-HORECA", "group": "1", "items": [
        {"sku": "1001", "price": "2.00"},
        {"sku": "1002", "discount_percent": "10"},
        {"sku": "1002", "price": "1.50", "min_quantity": "10"},
    ]});
    // No group: the list's code is the price group's number.
    let wholesale = json!({"code": "2", "items": [{"sku": "1001", "price": "1.80", "min_quantity": "5"}]});
    let result = target
        .write_batch(vec![item(horeca.clone()), item(wholesale.clone())])
        .await
        .unwrap();
    assert_eq!((written(&result.outcomes[0]), written(&result.outcomes[1])), ("1", "2"));
    // The second list kept the first's price of article 1001; the till adds VAT (9%).
    assert_eq!(
        group_prices(&sim, 1001),
        vec![
            json!({"priceGroupNumber": 1, "priceExcl": 200, "priceIncl": 218, "discountPercentage": null, "minimumAmount": null}),
            json!({"priceGroupNumber": 2, "priceExcl": 180, "priceIncl": 196, "discountPercentage": null, "minimumAmount": 5}),
        ]
    );
    let article_1002 = group_prices(&sim, 1002);
    assert_eq!(
        article_1002.len(),
        2,
        "a discount and a quantity break: {article_1002:?}"
    );
    assert_eq!(article_1002[0]["discountPercentage"], 10);
    assert_eq!(
        (
            article_1002[1]["priceExcl"].clone(),
            article_1002[1]["minimumAmount"].clone()
        ),
        (json!(150), json!(10))
    );

    let markers = sim.records("product").unwrap();
    let before = requests(&url).await;
    let again = target.write_batch(vec![item(horeca), item(wholesale)]).await.unwrap();
    assert_eq!((written(&again.outcomes[0]), written(&again.outcomes[1])), ("1", "2"));
    // getPriceGroupList and one getProducts a list: no updateProduct.
    assert_eq!((requests(&url).await - before, again.api_calls), (3, 3));
    assert_eq!(sim.records("product").unwrap(), markers, "a repeat changes no article");

    // A changed price replaces the group's entry, nothing else.
    let cheaper = json!({"code": "PL-HORECA", "group": "1", "items": [{"sku": "1001", "price": "1.95"}]});
    let result = target.write_batch(vec![item(cheaper)]).await.unwrap();
    assert_eq!(written(&result.outcomes[0]), "1");
    let prices = group_prices(&sim, 1001);
    assert_eq!(
        (prices[0]["priceExcl"].clone(), prices[1]["priceExcl"].clone()),
        (json!(195), json!(180))
    );

    // The products flow's later update of the article keeps its group prices.
    let products = writing(&url, "product", "");
    let mut products = open_target(&products, &products.flows[0], Arc::new(OpenGate)).unwrap();
    let renamed = products
        .write_batch(vec![item(json!({"sku": "1001", "name": "Koffie groot"}))])
        .await
        .unwrap();
    written(&renamed.outcomes[0]);
    assert_eq!(group_prices(&sim, 1001), prices);
}

#[tokio::test]
async fn a_line_that_cannot_be_written_is_refused_alone_naming_it() {
    let (url, sim, _) = start(5, 0).await;
    let config = writing(&url, "price_list", "");
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let list = json!({"code": "PL-HORECA", "group": "1", "items": [
        {"sku": "9999", "price": "1.00"},
        {"sku": "12-A", "price": "1.00"},
        {"sku": "1003", "discount_percent": "12.5"},
        {"sku": "1004", "price": "3.10"},
    ]});
    let result = target.write_batch(vec![item(list)]).await.unwrap();
    let WriteOutcome::Failed(error) = &result.outcomes[0] else {
        panic!("{:?}", result.outcomes);
    };
    for part in [
        "price list \"PL-HORECA\"",
        "3 of its 4 lines refused, 1 written",
        "line 1 (SKU \"9999\"): article 9999 is not in MplusKASSA: write the product to the till first",
        "line 2 (SKU \"12-A\")",
        "digits only",
        "line 3 (SKU \"1003\"): discount_percent 12.5 is not a whole number",
    ] {
        assert!(error.message.contains(part), "{part:?} in {error}");
    }
    assert_eq!(error.field.as_deref(), Some("items[0].sku"));
    assert_eq!(group_prices(&sim, 1004)[0]["priceExcl"], 310, "the good line landed");
    assert!(group_prices(&sim, 1003).is_empty());

    let named = target
        .write_batch(vec![
            item(json!({"code": "PL-HORECA", "group": "HORECA", "items": []})),
            item(json!({"code": "PL-X", "group": "7", "items": []})),
        ])
        .await
        .unwrap();
    match (&named.outcomes[0], &named.outcomes[1]) {
        (WriteOutcome::Failed(name), WriteOutcome::Failed(missing)) => {
            assert!(
                name.message
                    .contains("group \"HORECA\" is not a MplusKASSA price group number")
                    && name.message.contains("values = { group = { \"HORECA\" = \"1\" } }")
                    && name.message.contains("1 (Horeca), 2 (Groothandel), 3 (Personeel)"),
                "{name}"
            );
            assert_eq!(name.field.as_deref(), Some("group"));
            assert!(missing.message.contains("MplusKASSA has no price group 7"), "{missing}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_refused_or_faulted_price_write_fails_the_list_and_a_retry_lands_it() {
    let (url, sim, harness) = start(3, 0).await;
    let config = writing(&url, "price_list", "");
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap();
    let list = json!({"code": "1", "items": [{"sku": "1001", "price": "4.00"}, {"sku": "1002", "price": "5.00"}]});
    harness.set_faults(Faults {
        invalid_item_rate: 1.0,
        ..Default::default()
    });
    let refused = target.write_batch(vec![item(list.clone())]).await.unwrap();
    let WriteOutcome::Failed(error) = &refused.outcomes[0] else {
        panic!("{:?}", refused.outcomes);
    };
    assert!(error.message.contains("refused as invalid"), "{error}");
    harness.set_faults(Faults::default());
    let retried = target.write_batch(vec![item(list)]).await.unwrap();
    assert_eq!(written(&retried.outcomes[0]), "1");
    assert_eq!(group_prices(&sim, 1002)[0]["priceExcl"], 500);
}
