//! Orders through cart → reserve: placed once, found again by the reserve's comment after a
//! lost answer, a half-filled cart reused, refusals naming the order and the line.
use super::{config, parts, set_faults, sim, start, text, SEED};
use crate::registry::open_target;
use crate::{ErrorKind, OpenGate, WriteItem, WriteOutcome};
use serde_json::{json, Value};
use std::sync::Arc;
use tiltas_busmarket_sim::BusmarketSim;
use tiltas_sim::SimSystem;

fn order(number: &str, lines: &[(&str, &str)]) -> WriteItem {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(sku, qty)| json!({ "sku": sku, "quantity": qty }))
        .collect();
    WriteItem {
        source_key: number.to_owned(),
        target_id: None,
        payload: json!({ "number": number, "lines": lines, "note": "rush" }),
    }
}

fn records(sim: &BusmarketSim, entity: &str) -> Vec<Value> {
    sim.records(entity)
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
}

fn reserves_of(sim: &BusmarketSim, number: &str) -> Vec<Value> {
    records(sim, "order")
        .into_iter()
        .filter(|r| crate::wire::comment_names_order(r["comment"].as_str().unwrap_or_default(), number))
        .collect()
}

#[tokio::test]
async fn an_order_becomes_one_reserve_by_code_or_uuid_and_bad_lines_are_refused_alone() {
    let (url, sim, _) = start(sim(30, 0)).await;
    let all = parts(&sim);
    let (code, uuid) = (text(&all[0]["code"]), text(&all[1]["uuid"]));
    let config = config(&url, "warehouse = \"ODESA\"", "order", false, "");
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap_or_else(|e| panic!("{e}"));
    let written = target
        .write_batch(vec![
            order("WO-77", &[(&code, "2"), (&uuid, "1")]),
            order("WO-78", &[("999999", "1")]),
            order("WO-79", &[(&code, "1.5")]),
        ])
        .await
        .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    let WriteOutcome::Written { target_id } = &written.outcomes[0] else {
        panic!("{written:?}")
    };
    let WriteOutcome::Failed(unknown) = &written.outcomes[1] else {
        panic!("{written:?}")
    };
    assert_eq!(unknown.kind, ErrorKind::Invalid);
    assert!(
        unknown.message.contains("order WO-78") && unknown.message.contains("999999"),
        "{}",
        unknown.message
    );
    let WriteOutcome::Failed(fraction) = &written.outcomes[2] else {
        panic!("{written:?}")
    };
    assert!(fraction.message.contains("whole pieces"), "{}", fraction.message);

    let stored = reserves_of(&sim, "WO-77");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["uuid"], target_id.as_str());
    assert_eq!(stored[0]["comment"], "Tiltas order WO-77 rush");
    assert_eq!(stored[0]["warehouse_uuid"], tiltas_busmarket_sim::data::WAREHOUSES[2].1);
    let quantities: Vec<u64> = stored[0]["products"]
        .as_array()
        .map(|lines| lines.iter().filter_map(|l| l["quantity"].as_u64()).collect())
        .unwrap_or_default();
    assert_eq!(quantities, [2, 1]);
    assert_eq!(
        records(&sim, "cart").len(),
        0,
        "the cart became the reserve; none left over"
    );
    assert_eq!(records(&sim, "order").len(), 1, "refused orders made nothing");

    // The same order again (a retried batch): found by the comment, nothing new.
    let again = target
        .write_batch(vec![order("WO-77", &[(&code, "2")])])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.outcomes[0], written.outcomes[0]);
    assert_eq!(records(&sim, "order").len(), 1);
    let found = target
        .lookup(Some("number"), &["WO-77".into(), "WO-7".into()])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(found.found.len(), 1, "WO-7 is not WO-77");
}

#[tokio::test]
async fn a_reserve_whose_answer_is_lost_is_found_by_its_comment_not_made_twice() {
    let (url, sim, _) = start(sim(30, 0)).await;
    let all = parts(&sim);
    let code = text(&all[3]["code"]);
    let config = config(&url, "warehouse = \"KYIV\"", "order", false, "");
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap_or_else(|e| panic!("{e}"));

    // Every write is applied and then answered 500: the cart is made, its answer lost.
    set_faults(&url, json!({ "commit_then_fail_rate": 1.0 })).await;
    let lost = target.write_batch(vec![order("WO-80", &[(&code, "3")])]).await;
    assert!(lost.as_ref().is_err_and(|e| e.kind == ErrorKind::Transient), "{lost:?}");
    assert_eq!((records(&sim, "cart").len(), records(&sim, "order").len()), (1, 0));
    set_faults(&url, json!({})).await;
    let retried = target
        .write_batch(vec![order("WO-80", &[(&code, "3")])])
        .await
        .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    assert!(
        matches!(retried.outcomes[0], WriteOutcome::Written { .. }),
        "{retried:?}"
    );
    let stored = reserves_of(&sim, "WO-80");
    assert_eq!(stored.len(), 1, "ordered once: {stored:?}");
    assert_eq!(
        stored[0]["products"][0]["quantity"], 3,
        "the reused cart was not filled twice"
    );
    assert_eq!(records(&sim, "cart").len(), 0, "the first attempt's cart was reused");

    // The reserve is made and its answer lost: the retry finds it by the comment.
    let fresh = config.clone();
    let mut target = open_target(&fresh, &fresh.flows[0], Arc::new(OpenGate)).unwrap_or_else(|e| panic!("{e}"));
    sim_lose_next_reserve(&url, &mut target, &code).await;
    assert_eq!(reserves_of(&sim, "WO-81").len(), 1);
    let retried = target
        .write_batch(vec![order("WO-81", &[(&code, "1")])])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(retried.outcomes[0], WriteOutcome::Written { .. }),
        "{retried:?}"
    );
    assert_eq!(reserves_of(&sim, "WO-81").len(), 1, "not ordered twice");
    assert_eq!(sim.duplicates(), 0);
}

/// Places WO-81 so that only the reserve call's answer is lost: the cart and its line are
/// written without faults, then the reserve with `commit_then_fail_rate` 1.
async fn sim_lose_next_reserve(url: &str, target: &mut Box<dyn crate::Target>, code: &str) {
    let client = reqwest::Client::new();
    let token = super::TOKEN;
    let product: Value = client
        .get(format!("{url}/product/{code}?id_type=code"))
        .header("authorization", token)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let cart: Value = client
        .post(format!("{url}/shopping/carts"))
        .header("authorization", token)
        .json(&json!({ "name": "WO-81" }))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (cart, product) = (text(&cart["cart"]["uuid"]), text(&product["product"]["uuid"]));
    client
        .post(format!("{url}/shopping/cart/{cart}/product/{product}/1"))
        .header("authorization", token)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .unwrap_or_else(|e| panic!("{e}"));
    set_faults(url, json!({ "commit_then_fail_rate": 1.0 })).await;
    let lost = target.write_batch(vec![order("WO-81", &[(code, "1")])]).await;
    set_faults(url, json!({})).await;
    assert!(lost.as_ref().is_err_and(|e| e.kind == ErrorKind::Transient), "{lost:?}");
}

#[tokio::test]
async fn orders_need_a_warehouse_and_a_refused_product_fails_only_its_order() {
    let (url, sim, _) = start(sim(30, 0)).await;
    let config = config(&url, "", "order", false, "");
    let error = open_target(&config, &config.flows[0], Arc::new(OpenGate))
        .err()
        .unwrap_or_else(|| panic!("no warehouse, no orders"));
    assert!(
        error.message.contains("`warehouse`") && error.message.contains("\"bm\""),
        "{}",
        error.message
    );

    let all = parts(&sim);
    let codes: Vec<String> = all.iter().map(|p| text(&p["code"])).collect();
    set_faults(&url, json!({ "invalid_item_rate": 0.5 })).await;
    let config = super::config(&url, "warehouse = \"DNIPRO\"", "order", false, "");
    let mut target = open_target(&config, &config.flows[0], Arc::new(OpenGate)).unwrap_or_else(|e| panic!("{e}"));
    let items: Vec<WriteItem> = codes
        .iter()
        .take(8)
        .enumerate()
        .map(|(at, code)| order(&format!("WO-9{at}"), &[(code, "1")]))
        .collect();
    let written = target
        .write_batch(items)
        .await
        .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    let failed: Vec<_> = written
        .outcomes
        .iter()
        .filter_map(|o| match o {
            WriteOutcome::Failed(error) => Some(error),
            _ => None,
        })
        .collect();
    assert!(
        !failed.is_empty() && failed.len() < 8,
        "seed {SEED}: {} of 8 refused",
        failed.len()
    );
    assert!(failed.iter().all(|e| e.kind == ErrorKind::Invalid
        && e.message.contains("Bus Market refused it")
        && e.message.contains(tiltas_busmarket_sim::REFUSED_ITEM)));
    assert_eq!(records(&sim, "order").len(), 8 - failed.len());
}
