//! The simulator as a SOAP client sees it: raw envelopes in (prefixed as zeep and Metro write
//! them), JAX-WS answers and Faults out, both WSDLs served, the shared catalogue behind it.
use crate::{router, Access, ElitSim, Seeding};
use std::sync::Arc;
use tiltas_connector::soap::{self, Reply};
use tiltas_elit::wire;
use tiltas_model::parts::normalise_article as normalise_free;
use tiltas_sim::{Harness, SimSystem};

const SEED: u64 = 5;

async fn start(company: &str, catalogue: usize) -> (String, Arc<ElitSim>) {
    let access = Access {
        login: "l".into(),
        password: "p".into(),
        company: company.into(),
    };
    let sim = Arc::new(
        ElitSim::new(access, Seeding { seed: SEED, catalogue }).unwrap_or_else(|| panic!("company {company}")),
    );
    let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim.clone(), SEED)))
        .await
        .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    (url, sim)
}

async fn post(url: &str, path: &str, body: String) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(format!("{url}{path}"))
        .header("content-type", "text/xml; charset=utf-8")
        .header("SOAPAction", "\"\"")
        .body(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// An envelope as zeep writes it: `soap-env:` prefixes, the operation under `ns0:`.
fn zeep_envelope(namespace: &str, operation: &str, inner: &str) -> String {
    format!(
        "<?xml version='1.0' encoding='utf-8'?><soap-env:Envelope xmlns:soap-env=\"http://schemas.xmlsoap.org/soap/envelope/\">\
         <soap-env:Body><ns0:{operation} xmlns:ns0=\"{namespace}\">{inner}</ns0:{operation}></soap-env:Body></soap-env:Envelope>"
    )
}

fn credentials(company: &str, password: &str) -> String {
    format!("<arg0><CompanyName>{company}</CompanyName><Login>l</Login><Password>{password}</Password>")
}

fn fault_of(body: &str) -> soap::Fault {
    match soap::read_reply(body) {
        Ok(Reply::Fault(fault)) => fault,
        other => panic!("not a fault: {other:?}"),
    }
}

#[tokio::test]
async fn availability_is_aggregated_by_delivery_time_with_every_warehouse_and_unknown_items_marked() {
    let (url, sim) = start("ELIT_PL", 40).await;
    let item = sim.item_numbers()[0].clone();
    let inner = format!(
        "{}<RequestId>42</RequestId><items><itemNo>{item}</itemNo><qty>2</qty></items>\
         <items><itemNo>NOPE</itemNo><qty>1</qty></items></arg0>",
        credentials("ELIT_PL", "p")
    );
    let (status, body) = post(
        &url,
        wire::BUSINESS_PATH,
        zeep_envelope(wire::BUSINESS_NAMESPACE, wire::AGREG, &inner),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("<ns2:getItemInfoAgregByTimeResponse xmlns=\"\" xmlns:ns2=\"http://ecat.elit.cz/\"><return>"),
        "{body}"
    );
    let Ok(Reply::Body(response)) = soap::read_reply(&body) else {
        panic!("{body}");
    };
    let result = response.child("return").unwrap_or_else(|| panic!("{body}"));
    assert_eq!(result.child_text("RequestId"), Some("42"));
    let items: Vec<wire::ItemAvailability> = result
        .children_named("items")
        .map(|i| wire::ItemAvailability::read(i).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    assert_eq!(items.len(), 2);
    let times: Vec<(&str, &str)> = items[0]
        .deliveries
        .iter()
        .map(|d| (d.time.as_str(), d.warehouse.as_str()))
        .collect();
    assert_eq!(
        times,
        [("0", "Warszawa"), ("1", "Kraków"), ("2-3", "Central warehouse")]
    );
    assert!(!items[1].found && items[1].deliveries.is_empty());
}

#[tokio::test]
async fn credentials_and_the_company_are_checked_in_every_body() {
    let (url, _) = start("ELIT_LT", 10).await;
    let cases = [
        ("ELIT_LT", "wrong", "Invalid login or password"),
        ("ELIT_XX", "p", "Unknown company: ELIT_XX"),
        ("ELIT_CZ", "p", "is not registered in company ELIT_CZ"),
    ];
    for (company, password, words) in cases {
        let inner = format!(
            "{}<items><itemNo>X</itemNo><qty>1</qty></items></arg0>",
            credentials(company, password)
        );
        let (status, body) = post(
            &url,
            wire::BUSINESS_PATH,
            zeep_envelope(wire::BUSINESS_NAMESPACE, wire::AGREG, &inner),
        )
        .await;
        assert_eq!(status, 500, "{body}");
        let fault = fault_of(&body);
        assert_eq!(fault.code, "Server");
        assert!(fault.string.contains(words), "{company}/{password}: {}", fault.string);
    }
    // BuyerService spells them in lower case, straight in the body.
    let inner = "<company>ELIT_LT</company><login>l</login><password>bad</password><itemNo>X</itemNo><qty>1</qty>";
    let (status, body) = post(
        &url,
        wire::BUYER_PATH,
        zeep_envelope(wire::BUYER_NAMESPACE, wire::ITEM_INFO, inner),
    )
    .await;
    assert_eq!(status, 500);
    assert!(fault_of(&body).string.contains("Invalid login or password"));
    // An operation the service does not have, and a body that is not SOAP.
    let (_, body) = post(
        &url,
        wire::BUYER_PATH,
        zeep_envelope(wire::BUYER_NAMESPACE, wire::AGREG, inner),
    )
    .await;
    assert!(fault_of(&body).string.contains("Cannot find dispatch method"), "{body}");
    let (status, body) = post(&url, wire::BUYER_PATH, "{\"itemNo\":1}".into()).await;
    assert_eq!((status, fault_of(&body).code.as_str()), (500, "Client"));
}

#[tokio::test]
async fn item_info_finds_a_part_by_elits_number_or_by_the_makers_number_and_brand() {
    let (url, sim) = start("ELIT_CZ", 40).await;
    let parts = sim
        .records("part")
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default();
    let part = &parts[1];
    let ask = |item: &str, brand: &str| {
        let brand = if brand.is_empty() {
            String::new()
        } else {
            format!("<supplierCode>{brand}</supplierCode>")
        };
        zeep_envelope(
            wire::BUYER_NAMESPACE,
            wire::ITEM_INFO,
            &format!("<company>ELIT_CZ</company><login>l</login><password>p</password><itemNo>{item}</itemNo><qty>1</qty>{brand}"),
        )
    };
    let article = part["article"].as_str().unwrap_or_default();
    let brand = part["brand"].as_str().unwrap_or_default();
    for (item, brand) in [
        (part["itemNo"].as_str().unwrap_or_default(), ""),
        (article, brand),
        (&normalise_free(article), &brand.to_lowercase()),
    ] {
        let (status, body) = post(&url, wire::BUYER_PATH, ask(item, brand)).await;
        assert_eq!(status, 200, "{body}");
        let Ok(Reply::Body(response)) = soap::read_reply(&body) else {
            panic!("{body}");
        };
        let infos: Vec<wire::ItemInfo> = response
            .children_named("return")
            .map(|r| wire::ItemInfo::read(r).unwrap_or_else(|e| panic!("{e}")))
            .collect();
        assert_eq!(infos.len(), 1, "{item} {brand}: {body}");
        assert_eq!(infos[0].currency, "CZK");
        assert_eq!(Some(infos[0].item_no.as_str()), part["itemNo"].as_str());
    }
    let (_, body) = post(&url, wire::BUYER_PATH, ask(article, "NO SUCH BRAND")).await;
    assert!(
        body.contains("<ns2:getItemInfoResponse") && !body.contains("<return>"),
        "{body}"
    );
}

#[tokio::test]
async fn both_services_serve_their_wsdl_at_the_address_asked() {
    let (url, _) = start("ELIT_LT", 5).await;
    for (path, operation) in [
        (wire::BUSINESS_PATH, "getItemInfoAgregByTime"),
        (wire::BUYER_PATH, "getItemInfo"),
    ] {
        let text = reqwest::get(format!("{url}{path}?wsdl"))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .text()
            .await
            .unwrap_or_default();
        assert!(text.contains(&format!("location=\"{url}{path}\"")), "{text}");
        assert!(text.contains(&format!("<operation name=\"{operation}\">")), "{text}");
    }
}

#[test]
fn suppliers_started_with_one_seed_share_parts_under_their_own_codes() {
    let elit = crate::data::Db::seeded(&Seeding {
        seed: 9,
        catalogue: 200,
    });
    let catalogue = tiltas_sim::parts::catalogue(9, 200);
    assert!(
        elit.parts.len() > 100 && elit.parts.len() < 170,
        "{} carried",
        elit.parts.len()
    );
    for part in &elit.parts {
        assert!(catalogue.contains(&part.part));
        assert!(
            part.item_no.ends_with(&normalise_free(&part.part.article)),
            "{}",
            part.item_no
        );
    }
}
