//! `Source::settled`: the engine tells a source each page it has durably settled, and only
//! those.
use crate::fakes::{FakeSource, FakeTarget};
use crate::sync::{catalog, world};
use async_trait::async_trait;
use std::sync::{Arc, Mutex};
use tiltas_engine::SyncOptions;
use tiltas_store::Store;
use tiltas_systems::{ConnectorError, Page, ReadRequest, Source};

/// What a source heard: the position of each settled page, and how many of the catalogue's
/// records the store held as delivered at that moment.
type Heard = Arc<Mutex<Vec<(Option<String>, usize)>>>;

/// A source of the catalogue that asks the store, whenever it hears a page settled, what has
/// been delivered.
struct Listening {
    inner: Box<FakeSource>,
    store: Arc<dyn Store>,
    heard: Heard,
}

#[async_trait]
impl Source for Listening {
    async fn read_page(&mut self, request: &ReadRequest) -> Result<Page, ConnectorError> {
        self.inner.read_page(request).await
    }

    async fn settled(&mut self, position: Option<&str>) -> Result<(), ConnectorError> {
        let keys: Vec<String> = (1..=7).map(|n| format!("SKU-{n}")).collect();
        let delivered = self.store.delivered_hashes("products", &keys).await.unwrap().len();
        self.heard
            .lock()
            .unwrap()
            .push((position.map(str::to_owned), delivered));
        Ok(())
    }
}

fn listening(store: &Arc<dyn Store>) -> (Box<Listening>, Heard) {
    let heard = Heard::default();
    let source = Box::new(Listening {
        inner: FakeSource::products(&catalog()),
        store: store.clone(),
        heard: heard.clone(),
    });
    (source, heard)
}

#[tokio::test]
async fn a_source_hears_each_page_settled_after_the_store_holds_it() {
    let world = world().await;
    let (source, heard) = listening(&world.store);
    let (target, _) = FakeTarget::new();
    world
        .engine
        .sync_with("products", source, Some(target), &SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(
        *heard.lock().unwrap(),
        [(Some("3".to_owned()), 3), (Some("6".to_owned()), 6), (None, 7)],
        "page_size = 3: each page heard once it was delivered, the last with no position"
    );
}

#[tokio::test]
async fn a_dry_run_settles_nothing_so_the_source_hears_nothing() {
    let world = world().await;
    let (source, heard) = listening(&world.store);
    let (target, _) = FakeTarget::new();
    let options = SyncOptions {
        dry_run: true,
        ..SyncOptions::default()
    };
    let report = world
        .engine
        .sync_with("products", source, Some(target), &options)
        .await
        .unwrap();
    assert_eq!(report.counters.created, 7);
    assert!(heard.lock().unwrap().is_empty(), "{:?}", heard.lock().unwrap());
}

#[tokio::test]
async fn a_page_that_stops_the_run_is_never_heard_settled() {
    let world = world().await;
    let (source, heard) = listening(&world.store);
    let (target, state) = FakeTarget::new();
    state.lock().unwrap().auth_failure = true;
    world
        .engine
        .sync_with("products", source, Some(target), &SyncOptions::default())
        .await
        .expect_err("refused credentials stop the run");
    assert!(heard.lock().unwrap().is_empty(), "{:?}", heard.lock().unwrap());
}
