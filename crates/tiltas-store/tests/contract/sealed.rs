//! The sealed-credentials contract on both backends: the listing and the one-transaction
//! re-seal of `tiltas secrets rotate-master`.
use std::sync::Arc;
use tiltas_store::{Resealed, Store, StoreError};

async fn three_credentials(store: &Arc<dyn Store>) {
    store
        .credential_put("shop", "secret:consumer_secret", "v1:shop-cs")
        .await
        .unwrap();
    store
        .credential_put("books", "refresh_token", "v1:books-rt")
        .await
        .unwrap();
    store
        .credential_put("books", "secret:client_secret", "v1:books-cs")
        .await
        .unwrap();
}

fn reseal(connection: &str, name: &str, old: &str, new: &str) -> Resealed {
    Resealed {
        connection: connection.into(),
        name: name.into(),
        old: old.into(),
        new: new.into(),
    }
}

/// Every credential is listed by connection and name with when it was written.
pub async fn every_credential_is_listed_in_order_with_its_time(store: Arc<dyn Store>) {
    assert!(store.credentials_all().await.unwrap().is_empty());
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    three_credentials(&store).await;
    let all = store.credentials_all().await.unwrap();
    let names: Vec<(&str, &str, &str)> = all
        .iter()
        .map(|entry| (entry.connection.as_str(), entry.name.as_str(), entry.sealed.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("books", "refresh_token", "v1:books-rt"),
            ("books", "secret:client_secret", "v1:books-cs"),
            ("shop", "secret:consumer_secret", "v1:shop-cs"),
        ]
    );
    assert!(all.iter().all(|entry| entry.updated_at >= before), "{all:?}");
}

/// A re-seal replaces all values at once; one value changed meanwhile leaves every one as it was.
pub async fn a_reseal_replaces_all_or_nothing(store: Arc<dyn Store>) {
    three_credentials(&store).await;
    let stale = [
        reseal("books", "refresh_token", "v1:books-rt", "v1:new-rt"),
        reseal("shop", "secret:consumer_secret", "v1:not-what-it-holds", "v1:new-cs"),
    ];
    let error = store.credentials_reseal(&stale).await.unwrap_err();
    assert!(matches!(error, StoreError::Changed { .. }), "{error:?}");
    assert!(error.to_string().contains("shop/secret:consumer_secret"), "{error}");
    assert_eq!(
        store.credential("books", "refresh_token").await.unwrap().as_deref(),
        Some("v1:books-rt"),
        "the first update was not rolled back"
    );
    let all = [
        reseal("books", "refresh_token", "v1:books-rt", "v1:new-rt"),
        reseal("books", "secret:client_secret", "v1:books-cs", "v1:new-bcs"),
        reseal("shop", "secret:consumer_secret", "v1:shop-cs", "v1:new-cs"),
    ];
    assert_eq!(store.credentials_reseal(&all).await.unwrap(), 3);
    let sealed: Vec<String> = store
        .credentials_all()
        .await
        .unwrap()
        .into_iter()
        .map(|entry| entry.sealed)
        .collect();
    assert_eq!(sealed, ["v1:new-rt", "v1:new-bcs", "v1:new-cs"]);
}

macro_rules! sealed_contract_tests {
    ($store:expr) => {
        #[tokio::test]
        async fn every_credential_is_listed_in_order_with_its_time() {
            let Some(store) = $store.await else { return };
            crate::sealed::every_credential_is_listed_in_order_with_its_time(store).await;
        }

        #[tokio::test]
        async fn a_reseal_replaces_all_or_nothing() {
            let Some(store) = $store.await else { return };
            crate::sealed::a_reseal_replaces_all_or_nothing(store).await;
        }
    };
}

pub(crate) use sealed_contract_tests;
