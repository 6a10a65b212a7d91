use super::*;
use std::sync::Arc;

const KEY: &str = "uUCz6UD.sKVrjaWRDJAH1c7l4qL2nOoN2K0jARkvuHDdYsss";

async fn start(products: usize) -> String {
    let sim = Arc::new(RivileSim::new(
        KEY,
        Seeding {
            seed: 3,
            products,
            customers: 5,
        },
    ));
    let harness = Harness::new(sim.clone(), 3);
    tiltas_sim::spawn(router(sim, harness)).await.unwrap()
}

async fn call(url: &str, key: Option<&str>, accept_json: bool, content_type: &str, body: &str) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(format!("{url}/client/v2"))
        .header("Content-Type", content_type)
        .body(body.to_owned());
    if let Some(key) = key {
        request = request.header("ApiKey", key);
    }
    if accept_json {
        request = request.header("Accept", "application/json");
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The seed's PHP example, byte for byte.
const SEED_BODY: &str = "{\n\"method\": \"GET_N25_LIST\",\n\"params\": {\n\"fil\": \"n25_kodas_bs='004'\"\n}\n}";

#[tokio::test]
async fn the_seeds_php_request_gets_the_seeds_xml_answer_shape() {
    let url = start(1).await;
    let (status, body) = call(&url, Some(KEY), false, "application/json", SEED_BODY).await;
    assert_eq!(status, 200);
    assert!(
        body.starts_with("<?xml version='1.0' encoding='UTF-8' ?>\n<RET_DOK>\n<N25>\n<Row_number>1</Row_number>\n"),
        "{body}"
    );
    assert!(
        body.contains("<N25_KODAS_BS>004         </N25_KODAS_BS>"),
        "CHAR(12) padded: {body}"
    );
    assert!(body.contains("<N25_SUMA>0.00</N25_SUMA>"), "{body}");
    assert!(body.contains("<N25_MOK_H>0.0000</N25_MOK_H>"), "{body}");
    assert!(body.contains("<N25_R_DATE>2019-08-13T10:55:42</N25_R_DATE>"), "{body}");
    assert!(body.trim_end().ends_with("</N25>\n</RET_DOK>"), "{body}");
}

#[tokio::test]
async fn json_answers_drop_ret_dok_give_one_row_as_an_object_and_none_as_empty() {
    let url = start(250).await;
    let (_, one) = call(&url, Some(KEY), true, "application/json", SEED_BODY).await;
    let one: Value = serde_json::from_str(&one).unwrap();
    assert!(one["N25"].is_object(), "{one}");
    assert_eq!(one["N25"]["N25_KODAS_BS"], "004         ");
    assert_eq!(one["N25"]["N25_TIPAS"], "2");
    assert_eq!(one["N25"]["N25_END_DATE"], "2019-08-12T00:00:00");

    let (_, none) = call(
        &url,
        Some(KEY),
        true,
        "application/json",
        r#"{"method":"GET_N25_LIST","params":{"fil":"n25_kodas_bs='nope'"}}"#,
    )
    .await;
    assert_eq!(none, "{}");

    let (_, many) = call(
        &url,
        Some(KEY),
        true,
        "application/json",
        r#"{"method":"GET_N17_LIST","params":{"pagenumber":3}}"#,
    )
    .await;
    let many: Value = serde_json::from_str(&many).unwrap();
    let rows = many["N17"].as_array().unwrap();
    assert_eq!(rows.len(), 50, "250 products: page 3 holds the last 50");
    assert_eq!(rows[0]["Row_number"], "201");
    assert_eq!(rows[0]["N17_KODAS_PS"], "A00301      ");
    assert_eq!(rows[0]["N17_PVM"], "21.00");
}

#[tokio::test]
async fn keyset_paging_through_fil_walks_the_primary_key() {
    let url = start(150).await;
    let body = r#"{"method":"GET_N17_LIST","params":{"fil":"n17_kodas_ps > 'A00200' and N17_TIPAS = 1"}}"#;
    let (status, answer) = call(&url, Some(KEY), true, "application/json", body).await;
    assert_eq!(status, 200, "{answer}");
    let answer: Value = serde_json::from_str(&answer).unwrap();
    let rows = answer["N17"].as_array().unwrap();
    assert_eq!(rows.len(), 50);
    assert_eq!(rows[0]["N17_KODAS_PS"].as_str().unwrap().trim_end(), "A00201");
}

#[tokio::test]
async fn a_missing_or_wrong_key_gets_the_seeds_exact_error() {
    let url = start(1).await;
    for key in [None, Some("wrong")] {
        let (status, body) = call(&url, key, false, "application/json", SEED_BODY).await;
        assert_eq!(status, 401);
        assert_eq!(
            body,
            // The help page's example (seeds/004): no space before `?>`, unlike other answers.
            "<?xml version='1.0' encoding='UTF-8'?>\n<RET_DOK>\n<id/>\n<durationMs>0</durationMs>\n<errorMessage>Api key is not valid</errorMessage>\n</RET_DOK>\n"
        );
        let (status, body) = call(&url, key, true, "application/json", SEED_BODY).await;
        assert_eq!(status, 401);
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap(),
            json!({"id": "", "durationMs": "0", "errorMessage": "Api key is not valid"})
        );
    }
}

#[tokio::test]
async fn an_unknown_column_is_refused_in_sql_servers_words() {
    let url = start(1).await;
    let body = r#"{"method":"GET_N25_LIST","params":{"fil":"N25_KODAS_BSs='004'"}}"#;
    let (status, answer) = call(&url, Some(KEY), false, "application/json", body).await;
    assert_eq!(status, 400);
    assert!(
        answer.contains("<errorMessage>Invalid column name 'N25_KODAS_BSs'.</errorMessage>"),
        "{answer}"
    );
    assert!(answer.contains("<durationMs>"), "{answer}");
}

#[tokio::test]
async fn an_xml_request_body_is_understood() {
    let url = start(1).await;
    let body = "<body>\n<method>GET_N25_LIST</method>\n<params>\n<fil>n25_kodas_bs='004'</fil>\n</params>\n</body>";
    let (status, answer) = call(&url, Some(KEY), true, "application/xml", body).await;
    assert_eq!(status, 200, "{answer}");
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(
        answer["N25"]["N25_PAV"].as_str().unwrap().trim_end(),
        "Prekių pardavimas"
    );
}

#[tokio::test]
async fn more_than_thirty_requests_at_once_meet_a_429_with_retry_after() {
    let url = start(1).await;
    let mut statuses = Vec::new();
    for _ in 0..40 {
        statuses.push(call(&url, Some(KEY), true, "application/json", SEED_BODY).await.0);
    }
    assert!(statuses[..30].iter().all(|status| *status == 200), "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
}

#[tokio::test]
async fn unknown_methods_and_bad_bodies_are_400_with_a_message() {
    let url = start(1).await;
    let (status, answer) = call(
        &url,
        Some(KEY),
        true,
        "application/json",
        r#"{"method":"GET_X99_LIST"}"#,
    )
    .await;
    assert_eq!(status, 400);
    assert!(answer.contains("Unknown method GET_X99_LIST"), "{answer}");
    let (status, answer) = call(&url, Some(KEY), true, "application/json", "{not json").await;
    assert_eq!(status, 400);
    assert!(answer.contains("not valid JSON"), "{answer}");
    let (status, _) = call(&url, Some(KEY), true, "text/plain", SEED_BODY).await;
    assert_eq!(status, 415);
}

/// The stored row of `table` whose `column` is `value` (trimmed), from the control API.
async fn stored(url: &str, table: &str, column: &str, value: &str) -> Value {
    let rows: Value = reqwest::get(format!("{url}/__sim/records/{table}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .find(|row| row[column].as_str().map(str::trim) == Some(value))
        .cloned()
        .unwrap_or_else(|| panic!("no {table} row with {column} = {value}"))
}

#[tokio::test]
async fn writes_record_the_keys_user_as_creator_and_as_last_changer() {
    let url = start(3).await;
    let insert = r#"{"method":"EDIT_N17","params":{"oper":"I"},"data":{"N17":{"N17_KODAS_PS":"NEW-1","N17_PAV":"Nauja","N17_KODAS_US":"VNT","N17_TIPAS":"1"}}}"#;
    let (status, answer) = call(&url, Some(KEY), true, "application/json", insert).await;
    assert_eq!(status, 200, "{answer}");
    let created = stored(&url, "product", "N17_KODAS_PS", "NEW-1").await;
    assert_eq!(
        (created["N17_ADDUSR"].as_str(), created["N17_USERIS"].as_str()),
        (Some("uUCz6UD"), Some("uUCz6UD"))
    );

    // A seeded product was created by someone else ("API"); the update names this key's user.
    let seeded = stored(&url, "product", "N17_KODAS_PS", "A00101").await;
    let before = seeded["N17_ADDUSR"].clone();
    let update = r#"{"method":"EDIT_N17","params":{"oper":"U"},"data":{"N17":{"N17_KODAS_PS":"A00101","N17_PAV":"Pervadinta","N17_USERIS":"SPOOF"}}}"#;
    let (status, answer) = call(&url, Some(KEY), true, "application/json", update).await;
    assert_eq!(status, 200, "{answer}");
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(
        answer["N17"]["N17_USERIS"].as_str().map(str::trim_end),
        Some("uUCz6UD"),
        "{answer}"
    );
    let updated = stored(&url, "product", "N17_KODAS_PS", "A00101").await;
    assert_eq!(updated["N17_USERIS"], "uUCz6UD");
    assert_eq!(updated["N17_ADDUSR"], before, "the creator stays");
    assert_ne!(before, "uUCz6UD");
}

#[tokio::test]
async fn xml_data_errors_are_wrapped_as_error_and_data_error_elements() {
    let url = start(3).await;
    let duplicate =
        r#"{"method":"EDIT_N17","params":{"oper":"I"},"data":{"N17":{"N17_KODAS_PS":"A00101","N17_PAV":"Dar kartą"}}}"#;
    let (status, xml) = call(&url, Some(KEY), false, "application/json", duplicate).await;
    assert_eq!(status, 400, "{xml}");
    assert!(
        xml.contains(
            "<errors>\n<error>\n<data>N17</data>\n<dataErrors>\n<dataError>\n<tag>N17_KODAS_PS</tag>\n<code>5008</code>\n<message>Egzistuoja tokia prekė</message>\n</dataError>\n</dataErrors>\n</error>\n</errors>\n"
        ),
        "{xml}"
    );
    let (_, json) = call(&url, Some(KEY), true, "application/json", duplicate).await;
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["errors"][0]["dataErrors"][0]["code"], "5008", "{json}");
}

#[tokio::test]
async fn invalid_item_rate_refuses_chosen_records_with_a_data_error_every_time() {
    let url = start(3).await;
    let faults = |body: &'static str| {
        let url = url.clone();
        async move {
            let response = reqwest::Client::new()
                .post(format!("{url}/__sim/faults"))
                .header("Content-Type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
        }
    };
    faults(r#"{"invalid_item_rate": 0.5}"#).await;
    let insert = |code: &str| {
        format!(
            r#"{{"method":"EDIT_N17","params":{{"oper":"I"}},"data":{{"N17":{{"N17_KODAS_PS":"{code}","N17_PAV":"Nauja"}}}}}}"#
        )
    };
    let mut refused = Vec::new();
    for n in 0..20 {
        let code = format!("NEW-{n:02}");
        let (status, answer) = call(&url, Some(KEY), true, "application/json", &insert(&code)).await;
        if status == 400 {
            let answer: Value = serde_json::from_str(&answer).unwrap();
            assert_eq!(answer["errorMessage"], "Data errors", "{answer}");
            assert_eq!(answer["errors"][0]["data"], "N17", "{answer}");
            assert_eq!(
                answer["errors"][0]["dataErrors"][0],
                json!({"tag": "N17_KODAS_PS", "code": "0", "message": REFUSED_ITEM}),
                "{answer}"
            );
            refused.push(code);
        } else {
            assert_eq!(status, 200, "{answer}");
        }
    }
    assert!((1..20).contains(&refused.len()), "{refused:?}");
    let rows: Value = reqwest::get(format!("{url}/__sim/records/product"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 3 + 20 - refused.len());

    let (status, _) = call(&url, Some(KEY), true, "application/json", &insert(&refused[0])).await;
    assert_eq!(status, 400, "the same record is refused again");
    faults("{}").await;
    let (status, answer) = call(&url, Some(KEY), true, "application/json", &insert(&refused[0])).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn purchases_are_stored_against_a_supplier_listed_and_refused_for_an_unknown_product() {
    let sim = Arc::new(
        RivileSim::new(
            KEY,
            Seeding {
                seed: 18,
                products: 0,
                customers: 0,
            },
        )
        .with_parts(4),
    );
    let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim.clone(), 18)))
        .await
        .unwrap();
    let part = tiltas_sim::parts::catalogue(18, 1).remove(0);
    let (code, _) = part_product(&part, 0);
    let purchase = |number: &str, product: &str| {
        json!({ "method": "EDIT_I06_FULL", "params": { "oper": "I" }, "data": { "I06": {
            "I06_OP_TIP": "1", "I06_DOK_NR": number, "I06_OP_DATA": "2026-11-02", "I06_KODAS_KS": "INTERCARS",
            "I06_VAL_POZ": "1", "I06_KODAS_VL": "PLN", "I06_KODAS_IS": "CENTR",
            "I07": [{ "I07_KODAS": product, "I07_TIPAS": "1", "I07_KIEKIS": "2", "I07_KAINA_BE": "10", "I07_MOKESTIS_P": "23" }]
        } } })
        .to_string()
    };
    let (status, body) = call(&url, Some(KEY), true, "application/json", &purchase("FV/1", &code)).await;
    assert_eq!(status, 200, "{body}");
    let stored: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(stored["I06"]["I06_SUMA"], "20.00");
    assert_eq!(stored["I06"]["I06_PVM"], "4.60");

    let (status, body) = call(&url, Some(KEY), true, "application/json", &purchase("FV/2", "W99999")).await;
    assert_eq!(status, 400, "{body}");
    let refused: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(refused["errors"][0]["data"], "I07[1]");
    assert_eq!(refused["errors"][0]["dataErrors"][0]["code"], "3002");
    assert_eq!(
        refused["errors"][0]["dataErrors"][0]["message"],
        "Nerasta prekė 'W99999'"
    );

    let list = json!({ "method": "GET_I06_LIST", "params": { "fil": "i06_op_tip = 1 and i06_kodas_ks = 'INTERCARS'", "list": "A" } });
    let (_, body) = call(&url, Some(KEY), true, "application/json", &list.to_string()).await;
    let listed: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(listed["I06"]["I06_DOK_NR"].as_str().map(str::trim), Some("FV/1"));
    assert_eq!(
        listed["I06"]["I07"][0]["I07_KODAS"].as_str().map(str::trim),
        Some(code.as_str())
    );
    assert_eq!(sim.purchases().len(), 1);
    assert_eq!(sim.record_counts().get("purchase"), Some(&1));
}
