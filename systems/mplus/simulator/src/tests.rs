//! The simulator's protocol: what a SOAP client of the Q-API meets.
use crate::{router, MplusSim, Seeding};
use std::sync::Arc;
use tiltas_sim::Harness;

async fn start() -> String {
    let sim = Arc::new(MplusSim::new(
        "id",
        "se cret&",
        Seeding {
            seed: 1,
            products: 5,
            customers: 2,
            orders: 0,
        },
    ));
    tiltas_sim::spawn(router(sim.clone(), Harness::new(sim, 1)))
        .await
        .expect("serve")
}

const CREDENTIALS: &str = "?ident=id&secret=se%20cret%26";

async fn post(url: &str, action: &str, envelope: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(url)
        .header("SOAPAction", action)
        .header("Content-Type", "text/xml; charset=utf-8")
        .body(envelope.to_string())
        .send()
        .await
        .expect("answer");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

fn envelope(body: &str) -> String {
    format!(
        "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:ns1=\"urn:mplusqapi\">\
         <SOAP-ENV:Body>{body}</SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )
}

#[tokio::test]
async fn calls_dispatch_on_the_body_element_whatever_its_prefix_or_soap_action() {
    let url = format!("{}/{CREDENTIALS}", start().await);
    for (action, body) in [
        ("\"\"", "<ns1:getCurrentSyncMarkers/>"),
        ("\"getProducts\"", "<getCurrentSyncMarkers xmlns=\"urn:mplusqapi\"/>"),
    ] {
        let (status, text) = post(&url, action, &envelope(body)).await;
        assert_eq!(status, 200, "{text}");
        assert!(text.contains("<articleSyncMarker>5</articleSyncMarker>"), "{text}");
    }
}

#[tokio::test]
async fn a_wrong_secret_is_a_client_fault_with_http_500() {
    let url = format!("{}/?ident=id&secret=nope", start().await);
    let (status, text) = post(&url, "\"\"", &envelope("<ns1:getCurrentSyncMarkers/>")).await;
    assert_eq!(status, 500);
    assert!(
        text.contains("<faultcode>SOAP-ENV:Client</faultcode>") && text.contains("invalid ident or secret"),
        "{text}"
    );
}

#[tokio::test]
async fn the_sync_marker_is_an_inclusive_lower_bound_and_the_limit_caps_the_page() {
    let url = format!("{}/{CREDENTIALS}", start().await);
    let body = "<ns1:getProducts><ns1:request><ns1:pluNumbers/><ns1:syncMarker>2</ns1:syncMarker>\
                <ns1:syncMarkerLimit>2</ns1:syncMarkerLimit></ns1:request></ns1:getProducts>";
    let (status, text) = post(&url, "\"\"", &envelope(body)).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("<GetProductsResponse"), "{text}");
    let markers: Vec<&str> = text.split("<product><productNumber>").skip(1).collect();
    assert_eq!(markers.len(), 2, "{text}");
    assert!(text.contains("<syncMarker>2</syncMarker>") && text.contains("<syncMarker>3</syncMarker>"));
    assert!(!text.contains("<syncMarker>4</syncMarker>"), "{text}");
}

#[tokio::test]
async fn a_repeated_idempotency_key_replays_the_first_order() {
    let url = format!("{}/{CREDENTIALS}", start().await);
    let body = "<ns1:createOrderV3><ns1:request><ns1:idempotencyKey>k-1</ns1:idempotencyKey><ns1:order><ns1:orderId/>\
                <ns1:extOrderId>W-1</ns1:extOrderId><ns1:lineList><ns1:line><ns1:articleNumber>1001</ns1:articleNumber>\
                <ns1:data><ns1:quantity>1</ns1:quantity></ns1:data></ns1:line></ns1:lineList></ns1:order></ns1:request></ns1:createOrderV3>";
    let (_, first) = post(&url, "\"\"", &envelope(body)).await;
    let (_, again) = post(&url, "\"\"", &envelope(body)).await;
    assert!(
        first.contains("IDEMPOTENCY-RESULT-ORIGINAL-RESPONSE") && first.contains("CREATE-ORDER-RESULT-OK"),
        "{first}"
    );
    assert_eq!(
        again,
        first.replace(
            "IDEMPOTENCY-RESULT-ORIGINAL-RESPONSE",
            "IDEMPOTENCY-RESULT-REPLAY-RESPONSE"
        )
    );
    let (_, orders) = post(&url, "\"\"", &envelope("<ns1:getOrders><ns1:request/></ns1:getOrders>")).await;
    assert_eq!(orders.matches("<extOrderId>W-1</extOrderId>").count(), 1, "{orders}");
}

#[tokio::test]
async fn the_wsdl_is_served_at_query_wsdl_and_a_plain_get_is_405() {
    let base = start().await;
    let wsdl = reqwest::get(format!("{base}/?wsdl")).await.expect("wsdl");
    assert_eq!(wsdl.status().as_u16(), 200);
    let text = wsdl.text().await.expect("text");
    assert!(
        text.contains("targetNamespace=\"urn:mplusqapi\"") && text.contains(&format!("location=\"{base}/\"")),
        "{}",
        &text[..300]
    );
    assert_eq!(
        reqwest::get(format!("{base}/")).await.expect("get").status().as_u16(),
        405
    );
}

#[tokio::test]
async fn price_groups_are_listed_and_an_articles_group_prices_replace_its_list() {
    let url = format!("{}/{CREDENTIALS}", start().await);
    let (status, groups) = post(&url, "\"getPriceGroupList\"", &envelope("<ns1:getPriceGroupList/>")).await;
    assert_eq!(status, 200, "{groups}");
    assert!(
        groups.contains("<getPriceGroupListResponse")
            && groups.contains(
                "<priceGroup><priceGroupNumber>2</priceGroupNumber><description>Groothandel</description></priceGroup>"
            ),
        "{groups}"
    );
    let update = |groups: &str| {
        format!(
            "<ns1:updateProduct><ns1:product><ns1:productNumber>1</ns1:productNumber><ns1:articleList><ns1:article>\
             <ns1:articleNumber>1001</ns1:articleNumber><ns1:priceGroupList>{groups}</ns1:priceGroupList>\
             </ns1:article></ns1:articleList></ns1:product></ns1:updateProduct>"
        )
    };
    let entry = |group: u32, excl: u32| {
        format!("<ns1:priceGroup><ns1:priceGroupNumber>{group}</ns1:priceGroupNumber><ns1:priceExcl>{excl}</ns1:priceExcl></ns1:priceGroup>")
    };
    let (_, unknown) = post(&url, "\"\"", &envelope(&update(&entry(9, 100)))).await;
    assert!(
        unknown.contains("UPDATE-PRODUCT-RESULT-FAILED") && unknown.contains("price group 9 does not exist"),
        "{unknown}"
    );
    let (_, twice) = post(
        &url,
        "\"\"",
        &envelope(&update(&format!("{}{}", entry(1, 100), entry(1, 90)))),
    )
    .await;
    assert!(twice.contains("listed twice"), "{twice}");
    let (_, ok) = post(
        &url,
        "\"\"",
        &envelope(&update(&format!("{}{}", entry(2, 150), entry(1, 100)))),
    )
    .await;
    assert!(ok.contains("UPDATE-PRODUCT-RESULT-OK"), "{ok}");
    let (_, ok) = post(&url, "\"\"", &envelope(&update(&entry(1, 120)))).await;
    assert!(ok.contains("UPDATE-PRODUCT-RESULT-OK"), "{ok}");
    let query =
        "<ns1:getProducts><ns1:request><ns1:articleNumbers>1001</ns1:articleNumbers></ns1:request></ns1:getProducts>";
    let (_, products) = post(&url, "\"\"", &envelope(query)).await;
    // The last list replaced the first; the price with VAT is added at the article's 9%.
    assert!(
        products.contains(
            "<priceGroupList><priceGroup><priceGroupNumber>1</priceGroupNumber><description>Horeca</description>\
             <priceIncl>131</priceIncl><priceExcl>120</priceExcl></priceGroup></priceGroupList>"
        ),
        "{products}"
    );
}

#[tokio::test]
async fn get_relations_answers_only_the_relations_named_in_relation_numbers() {
    let url = format!("{}/{CREDENTIALS}", start().await);
    let body = "<ns1:getRelations><ns1:request><ns1:relationNumbers>2</ns1:relationNumbers>\
                <ns1:relationNumbers>9</ns1:relationNumbers></ns1:request></ns1:getRelations>";
    let (status, text) = post(&url, "\"\"", &envelope(body)).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        text.matches("<relation>").count(),
        1,
        "relation 9 does not exist: {text}"
    );
    assert!(text.contains("<relationNumber>2</relationNumber>"), "{text}");
    let (status, text) = post(
        &url,
        "\"\"",
        &envelope("<ns1:getRelations><ns1:request/></ns1:getRelations>"),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        text.matches("<relation>").count(),
        2,
        "no numbers: every relation: {text}"
    );
    let bad = "<ns1:getRelations><ns1:request><ns1:relationNumbers>two</ns1:relationNumbers></ns1:request></ns1:getRelations>";
    let (status, text) = post(&url, "\"\"", &envelope(bad)).await;
    assert_eq!(status, 500, "{text}");
    assert!(
        text.contains("relationNumbers &quot;two&quot; is not a number"),
        "{text}"
    );
}
