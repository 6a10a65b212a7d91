//! A drop folder under the engine: a CSV `folder` flowing into a JSON Lines file. Each file is
//! imported once, moved to `done/` only once its records are settled; the same content under
//! another name imports nothing; a broken file lands in `failed/` with one dead letter.
use async_trait::async_trait;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tiltas_engine::{Engine, SyncOptions, SyncReport};
use tiltas_store::{DeadLetterFilter, DeadLetterStatus, RunCounters, Store};
use tiltas_systems::{ConnectorError, OpenGate, Page, ReadRequest, Source};

const FLOWS: &str = r#"
[connections.supplier]
system = "csv"
delimiter = ";"

[connections.out]
system = "jsonl"

[[flows]]
name = "prices"
entity = "product"
from = { connection = "supplier", folder = "inbox", columns = { sku = "Kodas", name = "Pavadinimas", price_net = "Kaina" } }
to = { connection = "out", file = "prices.jsonl" }
page_size = 2
"#;

const MONDAY: &str = "Kodas;Pavadinimas;Kaina\r\nA-1;Grąžtas;2,45\r\nA-2;Plaktukas;9,90\r\n";
const TUESDAY: &str = "Kodas;Pavadinimas;Kaina\r\nB-1;Replės;7,10\r\nB-2;Kaltas;3,30\r\nB-3;Pjūklas;12,00\r\n";

struct World {
    dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    engine: Engine,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("inbox")).unwrap();
    let config = tiltas_config::parse_str(
        FLOWS,
        &dir.path().join("flows.toml"),
        tiltas_systems::registry::catalog(),
    )
    .unwrap_or_else(|diagnostics| panic!("{diagnostics}"));
    let store = tiltas_store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    let engine = Engine::new(Arc::new(config), store.clone(), tiltas_systems::registry::systems());
    World { dir, store, engine }
}

impl World {
    fn inbox(&self) -> PathBuf {
        self.dir.path().join("inbox")
    }

    /// Drops a file into the inbox, last modified `minutes` minutes into a fixed day of 2017
    /// (long finished; files with more minutes are newer).
    fn drop_file(&self, name: &str, bytes: &[u8], minutes: u64) {
        let path = self.inbox().join(name);
        std::fs::write(&path, bytes).unwrap();
        let when = SystemTime::UNIX_EPOCH + Duration::from_secs(1_500_000_000 + 60 * minutes);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(when)
            .unwrap();
    }

    async fn sync(&self) -> SyncReport {
        self.engine.sync("prices", &SyncOptions::default()).await.unwrap()
    }

    fn output(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prices.jsonl")).unwrap_or_default()
    }
}

/// The names in a folder, sorted; an absent folder is empty.
fn names(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .map(|entries| {
            entries
                .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn skus(output: &str) -> Vec<String> {
    output
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["sku"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

fn written(counters: &RunCounters) -> (u64, u64, u64, u64) {
    (counters.read, counters.created, counters.updated, counters.failed)
}

#[tokio::test]
async fn each_dropped_file_is_imported_once_and_a_redelivery_or_an_idle_run_writes_nothing() {
    let world = world().await;
    world.drop_file("monday.csv", MONDAY.as_bytes(), 1);
    world.drop_file("tuesday.csv", TUESDAY.as_bytes(), 2);

    let first = world.sync().await;
    assert_eq!(written(&first.counters), (5, 5, 0, 0), "{:?}", first.counters);
    assert_eq!(skus(&world.output()), ["A-1", "A-2", "B-1", "B-2", "B-3"]);
    assert_eq!(names(&world.inbox()), ["done"], "imported files left the inbox");
    let done = names(&world.inbox().join("done"));
    assert_eq!(done.len(), 2, "{done:?}");
    for name in ["_monday.csv", "_tuesday.csv"] {
        assert!(done.iter().any(|done| done.ends_with(name)), "{name} not in {done:?}");
    }

    // The supplier sends Monday's file again under another name.
    world.drop_file("monday (copy).csv", MONDAY.as_bytes(), 3);
    let output_before = world.output();
    let redelivered = world.sync().await;
    assert_eq!(
        written(&redelivered.counters),
        (0, 0, 0, 0),
        "{:?}",
        redelivered.counters
    );
    assert_eq!(world.output(), output_before);
    let done = names(&world.inbox().join("done"));
    assert_eq!(done.len(), 3, "{done:?}");
    assert!(
        done.iter().any(|name| name.ends_with("_duplicate_monday (copy).csv")),
        "{done:?}"
    );
    assert_eq!(names(&world.inbox()), ["done"]);

    let idle = world.sync().await;
    assert_eq!(written(&idle.counters), (0, 0, 0, 0), "{:?}", idle.counters);
    assert_eq!(world.output(), output_before);
}

#[tokio::test]
async fn a_broken_file_lands_in_failed_with_one_dead_letter_naming_file_and_line() {
    let world = world().await;
    // "Kaltas" of line 3 with a Windows-1257 byte.
    let mut broken = TUESDAY.replace("Kaltas", "Kalt\u{1}s").into_bytes();
    for byte in &mut broken {
        if *byte == 1 {
            *byte = 0xE0;
        }
    }
    world.drop_file("broken.csv", &broken, 1);
    world.drop_file("monday.csv", MONDAY.as_bytes(), 2);

    let report = world.sync().await;
    assert_eq!(written(&report.counters), (3, 2, 0, 1), "{:?}", report.counters);
    assert_eq!(
        skus(&world.output()),
        ["A-1", "A-2"],
        "rows of the broken file were imported"
    );
    assert_eq!(names(&world.inbox()), ["done", "failed"]);
    let failed = names(&world.inbox().join("failed"));
    assert_eq!(failed.len(), 1);
    assert!(failed[0].ends_with("_broken.csv"), "{failed:?}");

    let letters = world
        .store
        .dead_letters(&DeadLetterFilter {
            flow: Some("prices".into()),
            status: Some(DeadLetterStatus::Open),
            limit: 0,
        })
        .await
        .unwrap();
    assert_eq!(letters.len(), 1, "{letters:#?}");
    let letter = &letters[0];
    assert_eq!(letter.location.as_deref(), Some("broken.csv:3"));
    assert_eq!(letter.source_key, "broken.csv");
    assert!(
        letter.message.contains("not UTF-8") && letter.message.contains(&format!("failed/{}", failed[0])),
        "{}",
        letter.message
    );
    assert!(
        letter
            .fix
            .as_deref()
            .is_some_and(|fix| fix.ends_with("then put the file back in the folder")),
        "{:?}",
        letter.fix
    );

    let idle = world.sync().await;
    assert_eq!(written(&idle.counters), (0, 0, 0, 0), "{:?}", idle.counters);
    assert_eq!(skus(&world.output()), ["A-1", "A-2"]);
}

/// The flow's own source, except that it never hears a page settled: a run that dies after
/// saving its pages and before moving the files.
struct DiesBeforeMoving(Box<dyn Source>);

#[async_trait]
impl Source for DiesBeforeMoving {
    async fn read_page(&mut self, request: &ReadRequest) -> Result<Page, ConnectorError> {
        self.0.read_page(request).await
    }
}

#[tokio::test]
async fn files_a_run_delivered_but_never_moved_are_moved_by_the_next_without_writing_again() {
    let world = world().await;
    world.drop_file("monday.csv", MONDAY.as_bytes(), 1);
    world.drop_file("tuesday.csv", TUESDAY.as_bytes(), 2);
    let config = world.engine.config();
    let flow = config.flow("prices").unwrap();
    let source = world
        .engine
        .systems()
        .open_source(config, flow, Arc::new(OpenGate))
        .unwrap();
    let target = world
        .engine
        .systems()
        .open_target(config, flow, Arc::new(OpenGate))
        .unwrap();
    let first = world
        .engine
        .sync_with(
            "prices",
            Box::new(DiesBeforeMoving(source)),
            Some(target),
            &SyncOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(first.counters.created, 5);
    assert_eq!(names(&world.inbox()), ["monday.csv", "tuesday.csv"]);
    let output_before = world.output();

    let next = world.sync().await;
    assert_eq!(
        (
            next.counters.read,
            next.counters.unchanged,
            next.counters.created,
            next.counters.updated
        ),
        (5, 5, 0, 0),
        "{:?}",
        next.counters
    );
    assert_eq!(world.output(), output_before);
    assert_eq!(names(&world.inbox()), ["done"]);
    assert_eq!(names(&world.inbox().join("done")).len(), 2);
}

#[tokio::test]
async fn a_dry_run_reads_the_folder_and_moves_nothing() {
    let world = world().await;
    world.drop_file("monday.csv", MONDAY.as_bytes(), 1);
    let options = SyncOptions {
        dry_run: true,
        ..SyncOptions::default()
    };
    let report = world.engine.sync("prices", &options).await.unwrap();
    assert_eq!(report.counters.created, 2);
    assert_eq!(names(&world.inbox()), ["monday.csv"]);
    assert_eq!(world.output(), "");
}
