//! The simulator's protocol: tokens, the one-row-an-object quirk, FoxPro date filters, paging,
//! positional writes and AccountView's error body.
use crate::data::Db;
use crate::{router, AccountViewSim, Credentials, Seeding};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tiltas_accountview::wire;
use tiltas_sim::Harness;
use tiltas_sim::SimSystem;

const SEED: u64 = 3;

struct Running {
    url: String,
    token: String,
    http: reqwest::Client,
}

async fn start() -> Running {
    start_with(Seeding {
        seed: SEED,
        articles: 100,
        debtors: 6,
    })
    .await
}

async fn start_with(seeding: Seeding) -> Running {
    let credentials = Credentials {
        client_id: "id".into(),
        client_secret: "secret".into(),
        company: "1".into(),
        token_lifetime: Duration::from_secs(60),
    };
    let sim = Arc::new(AccountViewSim::new(credentials, seeding));
    let refresh = sim.issue_refresh_token();
    let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim, SEED)))
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let answer: Value = http
        .post(format!("{url}/api/v3/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", "id"),
            ("client_secret", "secret"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = answer["access_token"].as_str().unwrap().to_owned();
    // The spent refresh token is dead.
    let again = http
        .post(format!("{url}/api/v3/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", "id"),
            ("client_secret", "secret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 400);
    assert_eq!(again.json::<Value>().await.unwrap()["error"], "invalid_grant");
    Running { url, token, http }
}

impl Running {
    async fn get(&self, query: &[(&str, &str)]) -> (u16, Value) {
        let answer = self
            .http
            .get(format!("{}/api/v3/accountviewdata", self.url))
            .bearer_auth(&self.token)
            .header("x-company", "1")
            .query(query)
            .send()
            .await
            .unwrap();
        (answer.status().as_u16(), answer.json().await.unwrap())
    }

    async fn post(&self, body: &Value) -> (u16, Value) {
        let answer = self
            .http
            .post(format!("{}/api/v3/accountviewdata", self.url))
            .bearer_auth(&self.token)
            .header("x-company", "1")
            .json(body)
            .send()
            .await
            .unwrap();
        (answer.status().as_u16(), answer.json().await.unwrap())
    }
}

#[tokio::test]
async fn one_row_is_an_object_many_an_array_and_pages_end_short() {
    let sim = start().await;
    let (_, many) = sim
        .get(&[("BusinessObject", "AR1"), ("PageSize", "40"), ("PageNumber", "3")])
        .await;
    assert_eq!(
        many["ARTICLE"].as_array().unwrap().len(),
        20,
        "100 rows: the third page of 40 has 20"
    );
    let (_, one) = sim
        .get(&[
            ("BusinessObject", "AR1"),
            ("FilterControlSource1", "ART_CODE"),
            ("FilterOperator1", "Equal"),
            ("FilterValueType1", "C"),
            ("FilterValue1", "100001"),
        ])
        .await;
    assert!(one["ARTICLE"].is_object(), "{one}");
    let (status, error) = sim.get(&[("BusinessObject", "XX9")]).await;
    assert_eq!(status, 400);
    assert!(wire::error_text(&error).unwrap().contains("XX9"), "{error}");
}

#[tokio::test]
async fn date_filters_take_foxpro_literals_only() {
    let sim = start().await;
    let filter = |value: &'static str| {
        [
            ("BusinessObject", "AK1"),
            ("FilterControlSource1", "CNG_DATE"),
            ("FilterOperator1", "DateOnOrAfterDate"),
            ("FilterValueType1", "T"),
            ("FilterValue1", value),
        ]
    };
    let (status, rows) = sim.get(&filter("{^2024-05-04}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        rows["CONTACT"].as_array().unwrap().len(),
        3,
        "debtors 3, 4 and 5 changed on or after the 4th"
    );
    let (status, error) = sim.get(&filter("2024-05-04")).await;
    assert_eq!(status, 400);
    assert!(
        error["ErrorMessage"].as_str().unwrap().contains("{^YYYY-MM-DD}"),
        "{error}"
    );
}

#[tokio::test]
async fn writes_are_positional_and_details_point_at_their_header() {
    let sim = start().await;
    let header = vec![json!("1"), json!(""), json!("Nieuw B.V."), json!("B")];
    let fields: Vec<wire::FieldDef> = wire::DEBTOR_FIELDS[..4].to_vec();
    let person = vec![
        json!("1"),
        json!("1"),
        json!("Ada"),
        json!("Nieuw"),
        json!("ada@nieuw.nl"),
    ];
    let date = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let body = wire::write_body(
        &wire::DEBTORS,
        date,
        &fields,
        header.clone(),
        &wire::CONTACT_PERSON_FIELDS,
        vec![person.clone()],
    );
    let (status, created) = sim.post(&body).await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["CONTACT"]["CONTACT_PERSON"][0]["CP_FIRST"], "Ada");
    assert!(created["CONTACT"]["SUB_NR"].as_str().is_some_and(|n| !n.is_empty()));

    let short = wire::write_body(&wire::DEBTORS, date, &fields, header[..3].to_vec(), &[], Vec::new());
    let (status, error) = sim.post(&short).await;
    assert_eq!(status, 400);
    assert!(
        error["ErrorMessage"].as_str().unwrap().contains("positional"),
        "{error}"
    );

    let mut orphan = person;
    orphan[1] = json!("2");
    let body = wire::write_body(
        &wire::DEBTORS,
        date,
        &fields,
        header,
        &wire::CONTACT_PERSON_FIELDS,
        vec![orphan],
    );
    let (status, error) = sim.post(&body).await;
    assert_eq!(status, 400);
    assert!(error["ErrorMessage"].as_str().unwrap().contains("HeaderId"), "{error}");
}

#[tokio::test]
async fn an_empty_table_still_sorts_and_filters_by_its_columns() {
    let sim = start_with(Seeding {
        seed: SEED,
        articles: 0,
        debtors: 0,
    })
    .await;
    let query = wire::read_query(&wire::ARTICLES, 1, 100, &[wire::Filter::equal("MAIN_ART", "100008")]);
    let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, answer) = sim.get(&query).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["ARTICLE"], json!([]), "{answer}");
    let (status, error) = sim
        .get(&[("BusinessObject", "AR1"), ("SortFields", "NO_SUCH_FIELD")])
        .await;
    assert_eq!(status, 400, "an unknown column is still refused: {error}");
    assert!(
        error["ErrorMessage"].as_str().unwrap().contains("NO_SUCH_FIELD"),
        "{error}"
    );
}

#[test]
fn a_seeding_of_n_products_or_n_stock_rows_has_exactly_that_many() {
    for n in 0..300 {
        let db = Db::seeded(Seeding::products(SEED, n));
        let products = db
            .table("ARTICLE")
            .iter()
            .filter(|row| wire::text(row, "MAIN_ART").is_none());
        assert_eq!(products.count(), n, "products({n})");
        assert!(
            n < 8 || db.table("ARTICLE").len() > n,
            "products({n}) has configurable ones"
        );
        let db = Db::seeded(Seeding::stock_rows(SEED, n));
        assert_eq!(db.table("ART_WH").len(), n, "stock_rows({n})");
    }
}

#[test]
fn mutating_products_changes_products_not_their_variants() {
    let credentials = Credentials {
        client_id: "id".into(),
        client_secret: "secret".into(),
        company: "1".into(),
        token_lifetime: Duration::from_secs(60),
    };
    let sim = AccountViewSim::new(credentials, Seeding::products(SEED, 40));
    assert_eq!(sim.mutate("product", 12), Ok(12));
    let rows = sim.records("product").unwrap();
    let today = chrono::Utc::now().date_naive().format("%Y-%m-%d").to_string();
    let changed: Vec<&Value> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["CNG_DATE"] == json!(today))
        .collect();
    assert_eq!(changed.len(), 12);
    assert!(changed.iter().all(|row| row["MAIN_ART"] == ""), "{changed:?}");
    assert!(
        changed.iter().any(|row| row["ART_TYPE"] == "C"),
        "a configurable parent among them"
    );
}
