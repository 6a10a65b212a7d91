//! `tiltas bench store --records N`: the store alone, writing the rows a first sync of N
//! records writes, page by page, with no engine, mapping or connector around it. Its rate is
//! the ceiling of `tiltas bench engine`'s first sync, whose pages wait for the store's one
//! writer; its variants leave out one kind of row each, to show what each costs the ceiling.
use super::bench::{open_for_bench, peak_rss_mb, per_second, round3, Generated, CHANGE_EVERY};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;
use tiltas_model::EntityKind;
use tiltas_store::{
    ActivityOutcome, DeliveredHash, IntentOutcome, IntentSettlement, NewActivity, NewIntent, PageSettlement, RunMode,
    RunStatus, Store, WriteOperation, XrefLink,
};

/// Which rows a variant writes per record, beside the delivered hash and the outbox intent
/// (inserted before the write, deleted when settled) that every variant writes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rows {
    /// The variant's name in the output.
    pub name: &'static str,
    /// Identity links per record: 2 as the engine writes them (source key and target id).
    pub identity_links: usize,
    /// Whether each record gets its activity entry with its payloads.
    pub activity: bool,
}

/// The engine's first sync, then the same without one kind of row each.
pub(crate) const VARIANTS: [Rows; 4] = [
    Rows {
        name: "first_sync_writes",
        identity_links: 2,
        activity: true,
    },
    Rows {
        name: "one_identity_link",
        identity_links: 1,
        activity: true,
    },
    Rows {
        name: "without_activity",
        identity_links: 2,
        activity: false,
    },
    Rows {
        name: "hashes_and_outbox_only",
        identity_links: 0,
        activity: false,
    },
];

/// Runs every variant on a store of its own (a fresh SQLite file, or, with `db`, distinct flow
/// and connection names in that database, so later variants meet larger tables) and returns
/// the numbers. The engine's variant is followed by an incremental pass: every
/// [`CHANGE_EVERY`]th record updated, at random places of the keyed tables.
pub async fn run(db: Option<&str>, records: usize, page_size: usize) -> anyhow::Result<Value> {
    anyhow::ensure!(page_size > 0, "--page-size must be at least 1");
    let dir = tempfile::tempdir()?;
    let mut rates = serde_json::Map::new();
    let mut seconds = serde_json::Map::new();
    let named = match db {
        Some(url) => Some(open_for_bench(db, url).await?),
        None => None,
    };
    for rows in VARIANTS {
        let store = match &named {
            Some(store) => store.clone(),
            None => {
                tiltas_store::open(&format!(
                    "sqlite://{}",
                    dir.path().join(format!("{}.db", rows.name)).display()
                ))
                .await?
            }
        };
        let passes: &[(Pass, &str)] = if rows.name == VARIANTS[0].name {
            &[(Pass::First, rows.name), (Pass::Incremental, "incremental_writes")]
        } else {
            &[(Pass::First, rows.name)]
        };
        for &(pass, name) in passes {
            let started = Instant::now();
            let written = write_pass(&store, rows, pass, records, page_size).await?;
            let elapsed = started.elapsed().as_secs_f64();
            rates.insert(name.to_owned(), json!(per_second(written, elapsed)));
            seconds.insert(name.to_owned(), json!(round3(elapsed)));
        }
    }
    Ok(json!({
        "kind": "store",
        "records": records,
        "page_size": page_size,
        "rps": rates,
        "seconds": seconds,
        "peak_rss_mb": peak_rss_mb(),
    }))
}

/// What a pass writes: every record created, or some of them updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pass {
    /// A first sync: every record is created.
    First,
    /// An incremental sync: every [`CHANGE_EVERY`]th record changed and is updated.
    Incremental,
}

/// Writes a pass's rows for `records` records as one run of the flow `rows.name`: per page,
/// the outbox intents in one transaction, then the page's settlement in another, as the
/// engine does. Returns how many records it wrote.
pub(crate) async fn write_pass(
    store: &Arc<dyn Store>,
    rows: Rows,
    pass: Pass,
    records: usize,
    page_size: usize,
) -> anyhow::Result<usize> {
    let flow = rows.name;
    let run = store.run_start(flow, RunMode::Incremental).await?;
    let source = Generated::new(records, pass == Pass::Incremental);
    let step = if pass == Pass::Incremental { CHANGE_EVERY } else { 1 };
    let numbers: Vec<usize> = (0..records).step_by(step).collect();
    for page_numbers in numbers.chunks(page_size) {
        let operation = match pass {
            Pass::First => WriteOperation::Create,
            Pass::Incremental => WriteOperation::Update,
        };
        let intents: Vec<NewIntent> = page_numbers
            .iter()
            .map(|&n| NewIntent {
                flow: flow.to_owned(),
                run,
                source_key: source_key(n),
                connection: format!("{flow}-target"),
                operation,
                payload_hash: hash_text(n, pass),
                match_key: Some(format!("BENCH-{n:08}")),
            })
            .collect();
        let ids = store.outbox_add(&intents).await?;
        let mut page = PageSettlement {
            flow: flow.to_owned(),
            run: Some(run),
            ..PageSettlement::default()
        };
        for (&n, id) in page_numbers.iter().zip(ids) {
            settle_record(&mut page, rows, pass, &source, n, id);
        }
        page.counters.read = page_numbers.len() as u64;
        match pass {
            Pass::First => page.counters.created = page_numbers.len() as u64,
            Pass::Incremental => page.counters.updated = page_numbers.len() as u64,
        }
        page.counters.api_calls = 2;
        store.settle_page(&page).await?;
    }
    store.run_finish(run, RunStatus::Succeeded, None).await?;
    Ok(numbers.len())
}

/// Adds one written record's rows to the page's settlement, shaped as the engine's.
fn settle_record(page: &mut PageSettlement, rows: Rows, pass: Pass, source: &Generated, n: usize, intent: i64) {
    let flow = rows.name;
    let key = source_key(n);
    let target_id = format!("t-{key}");
    page.delivered.push(DeliveredHash {
        source_key: key.clone(),
        hash: hash_text(n, pass),
        source_hash: Some(hash_text(n.wrapping_add(1 << 40), pass)),
    });
    let links = [
        (format!("{flow}-target"), target_id.clone()),
        (format!("{flow}-source"), key.clone()),
    ];
    for (connection, external_id) in links.into_iter().take(rows.identity_links) {
        let written = connection.ends_with("-target");
        page.xrefs.push(XrefLink {
            hub_id: hub_id(rows, n),
            entity: EntityKind::Product,
            connection,
            external_id,
            last_hash: written.then(|| format!("{flow}-source:{}", hash_text(n, pass))),
        });
    }
    page.intents.push(IntentSettlement {
        id: intent,
        outcome: IntentOutcome::Delivered,
        external_id: Some(target_id.clone()),
    });
    if rows.activity {
        let mut sent = source.record(n).data;
        let source_payload = sent.clone();
        if let Some(fields) = sent.as_object_mut() {
            fields.remove("raw");
        }
        page.activity.push(NewActivity {
            run: page.run.unwrap_or_default(),
            flow: flow.to_owned(),
            source_key: key,
            outcome: match pass {
                Pass::First => ActivityOutcome::Created,
                Pass::Incremental => ActivityOutcome::Updated,
            },
            source_payload: Some(source_payload),
            sent_payload: Some(sent),
            response: Some(json!({ "target_id": target_id })),
        });
    }
}

/// A record's hub id: the same in every pass, increasing with `n` as the engine's
/// time-ordered ids do, and distinct between variants sharing one database.
fn hub_id(rows: Rows, n: usize) -> uuid::Uuid {
    let variant = VARIANTS
        .iter()
        .position(|variant| variant.name == rows.name)
        .unwrap_or(0);
    uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | (variant as u128) << 64 | n as u128)
}

fn source_key(n: usize) -> String {
    format!("b-{n:08}")
}

/// 64 hex digits, as long as the engine's SHA-256 hashes, without spending the time to hash;
/// another in each pass.
fn hash_text(n: usize, pass: Pass) -> String {
    let value = (n as u128 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835) ^ pass as u128;
    format!("{value:032x}{:032x}", value.rotate_left(64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tiltas_store::ActivityFilter;

    /// A store the user named is refused once it holds runs; a temporary one never is.
    #[tokio::test]
    async fn a_named_store_that_holds_runs_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("named.db").display());
        let store = open_for_bench(Some(&url), &url).await.unwrap();
        write_pass(&store, VARIANTS[3], Pass::First, 10, 5).await.unwrap();
        let refused = open_for_bench(Some(&url), &url).await.err().unwrap().to_string();
        assert!(
            refused.contains("already holds runs") && refused.contains("createdb"),
            "{refused}"
        );
        assert!(open_for_bench(None, &url).await.is_ok());
    }

    async fn activity_entries(store: &Arc<dyn Store>, flow: &str) -> usize {
        let filter = ActivityFilter {
            flow: Some(flow.to_owned()),
            ..ActivityFilter::default()
        };
        store.activity(&filter).await.unwrap().len()
    }

    /// Every variant leaves exactly the rows it names, and an empty outbox; the incremental
    /// pass updates the changed records in place, under the hub ids they had.
    #[tokio::test]
    async fn each_variant_writes_the_rows_it_names_and_settles_every_intent() {
        let dir = tempfile::tempdir().unwrap();
        let store = tiltas_store::open(&format!("sqlite://{}", dir.path().join("bench.db").display()))
            .await
            .unwrap();
        let records = 1_234;
        let keys: Vec<String> = (0..records).map(source_key).collect();
        let target_ids: Vec<String> = keys.iter().map(|key| format!("t-{key}")).collect();
        for rows in VARIANTS {
            assert_eq!(
                write_pass(&store, rows, Pass::First, records, 500).await.unwrap(),
                records
            );
            let flow = rows.name;
            assert_eq!(
                store.delivered_hashes(flow, &keys).await.unwrap().len(),
                records,
                "{flow}"
            );
            let targets = store
                .xref_find_by_external(EntityKind::Product, &format!("{flow}-target"), &target_ids)
                .await
                .unwrap();
            let sources = store
                .xref_find_by_external(EntityKind::Product, &format!("{flow}-source"), &keys)
                .await
                .unwrap();
            assert_eq!(
                targets.len(),
                if rows.identity_links >= 1 { records } else { 0 },
                "{flow}"
            );
            assert_eq!(
                sources.len(),
                if rows.identity_links == 2 { records } else { 0 },
                "{flow}"
            );
            if let Some(link) = sources.get("b-00000007") {
                assert_eq!(
                    targets["t-b-00000007"].hub_id, link.hub_id,
                    "{flow}: one hub id per record"
                );
            }
            let activity = activity_entries(&store, flow).await;
            assert_eq!(activity, if rows.activity { records } else { 0 }, "{flow}");
            assert!(store.outbox_unsettled(flow).await.unwrap().is_empty(), "{flow}");
            let run = &store.runs(Some(flow), 1).await.unwrap()[0];
            assert_eq!(run.counters.created, records as u64, "{flow}");
        }

        let rows = VARIANTS[0];
        let flow = rows.name;
        let before = store
            .xref_find_by_external(EntityKind::Product, &format!("{flow}-target"), &target_ids)
            .await
            .unwrap();
        let changed = records.div_ceil(CHANGE_EVERY);
        assert_eq!(
            write_pass(&store, rows, Pass::Incremental, records, 500).await.unwrap(),
            changed
        );
        let run = &store.runs(Some(flow), 1).await.unwrap()[0];
        assert_eq!((run.counters.updated, run.counters.created), (changed as u64, 0));
        let delivered = store.delivered_hashes(flow, &keys).await.unwrap();
        let after = store
            .xref_find_by_external(EntityKind::Product, &format!("{flow}-target"), &target_ids)
            .await
            .unwrap();
        for n in [0, 7, 100, 1_200] {
            let pass = if n % CHANGE_EVERY == 0 {
                Pass::Incremental
            } else {
                Pass::First
            };
            assert_eq!(delivered[&keys[n]].hash, hash_text(n, pass), "record {n}");
            let target = &target_ids[n];
            assert_eq!(
                after[target].hub_id, before[target].hub_id,
                "record {n} keeps its hub id"
            );
            let written = format!("{flow}-source:{}", hash_text(n, pass));
            assert_eq!(after[target].last_hash.as_deref(), Some(written.as_str()), "record {n}");
        }
        assert_eq!(activity_entries(&store, flow).await, records + changed);
        assert!(store.outbox_unsettled(flow).await.unwrap().is_empty());
    }
}
