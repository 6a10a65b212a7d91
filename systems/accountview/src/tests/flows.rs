//! `examples/accountview-mplus.toml` end to end through the engine against both simulators,
//! the AccountView connection authorised as `tiltas connect` leaves it: a refresh token the
//! simulator issued, sealed in the store by the engine's vault.
use super::{credentials, SEED};
use serde_json::json;
use std::sync::Arc;
use tiltas_accountview_sim::{router, AccountViewSim, Seeding};
use tiltas_connector::Systems;
use tiltas_engine::{Engine, SyncOptions};
use tiltas_sim::{Harness, SimSystem};

static SYSTEMS: Systems = Systems::new(&[&crate::AccountViewSystem, &tiltas_mplus::MplusSystem]);

#[tokio::test]
async fn the_five_flow_example_moves_100_articles_stock_prices_and_30_orders_once_each_on_its_buyer() {
    let mut credentials = credentials();
    credentials.company = "1".into();
    let seeding = Seeding {
        seed: SEED,
        articles: 100,
        debtors: 12,
    };
    let books = Arc::new(AccountViewSim::new(credentials, seeding));
    let books_harness = Harness::new(books.clone(), SEED);
    let books_url = tiltas_sim::spawn(router(books.clone(), books_harness.clone()))
        .await
        .unwrap();
    let mplus_seeding = tiltas_mplus_sim::Seeding {
        seed: SEED,
        products: 0,
        customers: 0,
        orders: 0,
    };
    let till = Arc::new(tiltas_mplus_sim::MplusSim::new("demo", "demo-secret", mplus_seeding));
    let till_url = tiltas_sim::spawn(tiltas_mplus_sim::router(till.clone(), Harness::new(till.clone(), SEED)))
        .await
        .unwrap();
    let example = include_str!("../../../../examples/accountview-mplus.toml")
        .replace("http://127.0.0.1:9501/", &format!("{books_url}/"))
        .replace("http://127.0.0.1:9401/", &format!("{till_url}/"))
        .replace("\"av-demo\"", &format!("\"{}\"", super::CLIENT))
        .replace("{ env = \"AV_CLIENT_SECRET\" }", &format!("\"{}\"", super::SECRET))
        .replace("{ env = \"MPLUS_SECRET\" }", "\"demo-secret\"");
    let dir = tempfile::tempdir().unwrap();
    let config = tiltas_config::parse_str(&example, &dir.path().join("accountview-mplus.toml"), &SYSTEMS)
        .unwrap_or_else(|errors| panic!("{errors}"));
    let store = tiltas_store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    let engine = Engine::new(Arc::new(config), store, SYSTEMS);
    // What `tiltas connect accountview --connection books` leaves: the refresh token sealed in
    // the store, through the engine's own vault.
    engine
        .vault()
        .save("books", crate::REFRESH_TOKEN, &books.issue_refresh_token())
        .await
        .unwrap();
    let sync = |flow: &'static str| {
        let engine = &engine;
        async move {
            engine
                .sync(flow, &SyncOptions::default())
                .await
                .unwrap_or_else(|error| panic!("seed {SEED}: {flow}: {error}"))
        }
    };

    let products = sync("products-to-till").await;
    assert_eq!(
        (products.counters.created, products.counters.failed),
        (100, 0),
        "{:?}",
        products.counters
    );
    let articles = till.records("product").unwrap();
    let articles = articles.as_array().unwrap();
    assert_eq!(articles.len(), 100);
    assert!(articles
        .iter()
        .all(|a| a["articleNumber"].as_i64().is_some_and(|n| n > 100_000)));

    let stock = sync("stock-to-till").await;
    assert_eq!(
        (stock.counters.created + stock.counters.updated, stock.counters.failed),
        (90, 0),
        "{:?}",
        stock.counters
    );
    let levels = read_till_stock(&till_url).await;
    let rows = books.records("stock").unwrap();
    for row in rows.as_array().unwrap() {
        let sku = row["ART_CODE"].as_str().unwrap();
        let expected = row["QTY_STOCK"].as_i64().unwrap() - row["QTY_RES"].as_i64().unwrap();
        assert_eq!(levels.get(sku), Some(&expected), "seed {SEED}: stock of {sku}");
    }

    let customers = sync("customers-to-till").await;
    assert_eq!(
        (customers.counters.created, customers.counters.failed),
        (12, 0),
        "{:?}",
        customers.counters
    );

    let prices = sync("prices-to-till").await;
    assert_eq!(
        (prices.counters.created, prices.counters.failed),
        (2, 0),
        "{:?} {:#?}",
        prices.counters,
        prices.problems.first()
    );
    assert_till_has_the_price_lists(&books, &till);

    // Two buyers the till knows and AccountView does not: a company with its contact person
    // and a person in Belgium. The till's orders name its relations in turn (every third order
    // a walk-in sale), so the 30 orders cover every relation.
    add_till_relations(&till_url).await;
    till.mutate("order", 30).unwrap();
    // Every fifth write is applied and then answered with a failure (a crash after the commit):
    // the engine verifies by order number (and a new debtor by e-mail) before resending, so
    // nothing is booked twice.
    books_harness.set_faults(tiltas_sim::Faults {
        commit_then_fail_rate: 0.2,
        ..Default::default()
    });
    let orders = sync("orders-to-books").await;
    books_harness.set_faults(tiltas_sim::Faults::default());
    let retried = sync("orders-to-books").await;
    assert_eq!(
        (
            orders.counters.created + retried.counters.created,
            retried.counters.failed
        ),
        (30, 0),
        "{:?} {:?} {:#?}",
        orders.counters,
        retried.counters,
        orders.problems.first()
    );
    let booked = books.records("order").unwrap();
    let booked = booked.as_array().unwrap();
    assert_eq!(booked.len(), 30);
    assert_orders_on_their_buyers_debtors(&books, &till, booked);
    assert!(
        booked.iter().all(|order| order["EMPL_NR"] == "1"),
        "the till's employee"
    );

    // The two debtors the pipeline made flow to the till once: found there by e-mail (the
    // relations their orders came from), so linked to them, never doubled.
    let linked = sync("customers-to-till").await;
    assert_eq!(
        (linked.counters.created, linked.counters.updated, linked.counters.failed),
        (0, 2, 0),
        "seed {SEED}: {:?}",
        linked.counters
    );
    let relations = till.records("customer").unwrap();
    let relations = relations.as_array().unwrap();
    assert_eq!(relations.len(), 14);
    assert!(
        relations.iter().all(|relation| relation["fields"]["extRelationId"]
            .as_str()
            .is_some_and(|ext| !ext.is_empty())),
        "seed {SEED}: every relation linked to its debtor: {relations:?}"
    );

    for flow in [
        "products-to-till",
        "stock-to-till",
        "customers-to-till",
        "prices-to-till",
        "orders-to-books",
    ] {
        let again = sync(flow).await;
        assert_eq!(
            (again.counters.created, again.counters.updated, again.counters.failed),
            (0, 0, 0),
            "seed {SEED}: {flow} again: {:?}",
            again.counters
        );
    }
    assert_eq!(books.records("order").unwrap().as_array().unwrap().len(), 30);
    assert_eq!(books.duplicates(), 0);

    // An article the till has and AccountView has not: its orders are dead letters naming it.
    add_till_article(&till_url, "5").await;
    till.mutate("order", 3).unwrap();
    let orders = sync("orders-to-books").await;
    assert_eq!(
        (orders.counters.created, orders.counters.failed),
        (0, 3),
        "{:?}",
        orders.counters
    );
    let problem = &orders.problems[0];
    assert!(problem.message.contains("product 5 not in ERP"), "{problem:?}");
    assert_eq!(problem.field.as_deref(), Some("lines[0].sku"), "{problem:?}");
    assert_eq!(books.records("order").unwrap().as_array().unwrap().len(), 30);
}

/// Every order booked on its buyer's debtor: a walk-in sale on the default debtor (10001), a
/// relation that came from AccountView on its own debtor (its `extRelationId`), and a relation
/// only the till knew on the debtor the order pipeline created for it by e-mail — a company
/// (B) with its contact person, a person (P) on its own, revenue account and VAT code by
/// country as the example maps them.
fn assert_orders_on_their_buyers_debtors(
    books: &AccountViewSim,
    till: &tiltas_mplus_sim::MplusSim,
    booked: &[serde_json::Value],
) {
    let relations = till.records("customer").unwrap();
    let debtors = books.records("customer").unwrap();
    let debtors = debtors.as_array().unwrap();
    assert_eq!(debtors.len(), 14, "12 debtors and the two new buyers");
    let debtor_by_mail = |mail: &str| {
        debtors
            .iter()
            .find(|debtor| {
                debtor["MAIL_BUS"]
                    .as_str()
                    .is_some_and(|known| known.eq_ignore_ascii_case(mail))
            })
            .unwrap_or_else(|| panic!("seed {SEED}: no debtor with e-mail {mail}"))
    };
    let expected_debtor = |relation: i64| -> String {
        if relation == 0 {
            return "10001".into();
        }
        let fields = &relations
            .as_array()
            .unwrap()
            .iter()
            .find(|known| known["relationNumber"] == relation)
            .unwrap_or_else(|| panic!("seed {SEED}: relation {relation} in the till"))["fields"];
        match fields["extRelationId"].as_str().filter(|ext| !ext.is_empty()) {
            Some(debtor) => debtor.to_owned(),
            None => debtor_by_mail(fields["email"].as_str().unwrap())["SUB_NR"]
                .as_str()
                .unwrap()
                .to_owned(),
        }
    };
    let (mut walk_ins, mut with_relation) = (0, std::collections::BTreeSet::new());
    for order in till.records("order").unwrap().as_array().unwrap() {
        let relation = order["relationNumber"].as_i64().unwrap();
        let number = order["orderId"].as_str().unwrap();
        let row = booked
            .iter()
            .find(|row| row["ORD_NR"] == number)
            .unwrap_or_else(|| panic!("seed {SEED}: order {number} booked"));
        assert_eq!(
            row["SUB_NR"].as_str(),
            Some(expected_debtor(relation).as_str()),
            "seed {SEED}: order {number} of relation {relation}"
        );
        if relation == 0 {
            walk_ins += 1;
        } else {
            with_relation.insert(relation);
        }
    }
    assert_eq!(walk_ins, 10, "every third order a walk-in sale on the default debtor");
    assert_eq!(with_relation.len(), 14, "every relation's orders on its debtor");
    let company = debtor_by_mail("els@bakkerijnoord.nl");
    assert_eq!(
        (&company["ACCT_NAME"], &company["CONTACT_TYPE"], &company["REV_ACCT"]),
        (&json!("Bakkerij Noord B.V."), &json!("B"), &json!("8000"))
    );
    let contact = &company["CONTACT_PERSON"][0];
    assert_eq!(
        (&contact["CP_FIRST"], &contact["CP_LAST"]),
        (&json!("Els"), &json!("van Noord")),
        "the company's contact person: {company}"
    );
    let person = debtor_by_mail("tom.wit@example.be");
    assert_eq!(
        (
            &person["ACCT_NAME"],
            &person["CONTACT_TYPE"],
            &person["REV_ACCT"],
            &person["VAT_CODE"]
        ),
        (&json!("Tom Wit"), &json!("P"), &json!("8010"), &json!("4"))
    );
    assert!(
        person["CONTACT_PERSON"].as_array().is_none_or(Vec::is_empty),
        "a person debtor has no contact person: {person}"
    );
}

/// Two relations written to the till only, with the MplusKASSA connector: a company with its
/// contact person and a person.
async fn add_till_relations(url: &str) {
    let config = till_config(url, "customer");
    let mut target = SYSTEMS
        .open_target(&config, &config.flows[0], Arc::new(crate::OpenGate))
        .unwrap();
    let buyers = [
        json!({ "name": "Els van Noord", "company_name": "Bakkerij Noord B.V.", "email": "els@bakkerijnoord.nl",
                "billing": { "line1": "Markt 1", "postcode": "3511 AA", "city": "Utrecht", "country": "NL" } }),
        json!({ "name": "Tom Wit", "email": "tom.wit@example.be",
                "billing": { "line1": "Grote Markt 5", "postcode": "2000", "city": "Antwerpen", "country": "BE" } }),
    ];
    let items = buyers
        .into_iter()
        .map(|payload| crate::WriteItem {
            source_key: payload["email"].as_str().unwrap_or_default().to_owned(),
            target_id: None,
            payload,
        })
        .collect();
    let result = target.write_batch(items).await.unwrap();
    assert!(
        result
            .outcomes
            .iter()
            .all(|outcome| matches!(outcome, crate::WriteOutcome::Written { .. })),
        "{:?}",
        result.outcomes
    );
}

/// Every line of AccountView's price lists is its article's price in the till's price group
/// of the list's customer group (HORECA → 1, GROOTHANDEL → 2, as the example maps them).
fn assert_till_has_the_price_lists(books: &AccountViewSim, till: &tiltas_mplus_sim::MplusSim) {
    let articles = till.records("product").unwrap();
    let lists = books.records("price_list").unwrap();
    let mut lines = 0;
    for list in lists.as_array().unwrap() {
        let group = match list["CUST_GRP"].as_str().unwrap() {
            "HORECA" => 1,
            "GROOTHANDEL" => 2,
            other => panic!("customer group {other}"),
        };
        for line in list["PRICE_LN"].as_array().unwrap() {
            lines += 1;
            let sku = line["ART_CODE"].as_str().unwrap();
            let article = articles
                .as_array()
                .unwrap()
                .iter()
                .find(|article| {
                    sku.parse::<i64>()
                        .is_ok_and(|number| article["articleNumber"] == number)
                })
                .unwrap_or_else(|| panic!("seed {SEED}: article {sku} in the till"));
            let entries: Vec<&serde_json::Value> = article["priceGroupList"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|entry| entry["priceGroupNumber"] == group)
                .collect();
            let cents = (!line["PX_SELL"].is_null()).then(|| {
                let price: rust_decimal::Decimal = line["PX_SELL"].to_string().parse().unwrap();
                serde_json::json!(i64::try_from(price * rust_decimal::Decimal::ONE_HUNDRED).unwrap())
            });
            let expected = serde_json::json!({
                "priceExcl": cents.unwrap_or(serde_json::Value::Null),
                "discountPercentage": line["DISC_PCT"],
                "minimumAmount": line["MIN_QTY"],
            });
            assert_eq!(entries.len(), 1, "seed {SEED}: {sku} in group {group}: {entries:?}");
            for field in ["priceExcl", "discountPercentage", "minimumAmount"] {
                assert_eq!(
                    entries[0][field], expected[field],
                    "seed {SEED}: {field} of {sku} in group {group}"
                );
            }
        }
    }
    assert_eq!(lines, 24, "two lists of 12 lines");
}

/// A product written to the till only, with the MplusKASSA connector.
async fn add_till_article(url: &str, sku: &str) {
    let config = till_config(url, "product");
    let mut target = SYSTEMS
        .open_target(&config, &config.flows[0], Arc::new(crate::OpenGate))
        .unwrap();
    let item = crate::WriteItem {
        source_key: sku.into(),
        target_id: None,
        payload: serde_json::json!({ "sku": sku, "name": "Alleen in de kassa", "price_net": "2.29", "price_gross": "2.50", "vat_rate": "9" }),
    };
    let result = target.write_batch(vec![item]).await.unwrap();
    assert!(
        matches!(result.outcomes[0], crate::WriteOutcome::Written { .. }),
        "{:?}",
        result.outcomes
    );
}

/// A flow file of one `entity` flow between two connections to the till at `url`.
fn till_config(url: &str, entity: &str) -> tiltas_config::ValidatedConfig {
    let text = format!(
        "[connections.till]\nsystem = \"mplus\"\nbase_url = \"{url}/\"\nident = \"demo\"\nsecret = \"demo-secret\"\n\
         [connections.till2]\nsystem = \"mplus\"\nbase_url = \"{url}/\"\nident = \"demo\"\nsecret = \"demo-secret\"\n\n\
         [[flows]]\nname = \"s\"\nentity = \"{entity}\"\nfrom = {{ connection = \"till2\" }}\nto = {{ connection = \"till\" }}\n"
    );
    tiltas_config::parse_str(&text, std::path::Path::new("s.toml"), &SYSTEMS).unwrap()
}

/// The till's stock per article number, read with the MplusKASSA connector.
async fn read_till_stock(url: &str) -> std::collections::HashMap<String, i64> {
    let config = till_config(url, "stock");
    let mut source = SYSTEMS
        .open_source(&config, &config.flows[0], Arc::new(crate::OpenGate))
        .unwrap();
    let mut request = crate::ReadRequest {
        position: None,
        changed_since: None,
        page_size: 500,
    };
    let mut levels = std::collections::HashMap::new();
    loop {
        let page = source.read_page(&request).await.unwrap();
        for record in page.records.into_iter().map(Result::unwrap) {
            let sku = record.data["sku"].as_str().unwrap().to_owned();
            let amount: rust_decimal::Decimal = record.data["on_hand"].as_str().unwrap().parse().unwrap();
            levels.insert(sku, i64::try_from(amount).unwrap());
        }
        match page.next {
            Some(next) => request.position = Some(next),
            None => return levels,
        }
    }
}
