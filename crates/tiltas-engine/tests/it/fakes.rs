//! In-memory connectors whose failures tests choose.
use async_trait::async_trait;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use tiltas_systems::{
    BatchResult, ConnectorError, ErrorKind, FoundRecord, Lookup, Page, ReadRequest, RecordFailure, Source,
    SourceRecord, Target, WriteItem, WriteOutcome,
};

/// A source serving fixed records (or failures), `page_size` at a time.
pub struct FakeSource {
    pub records: Vec<Result<SourceRecord, RecordFailure>>,
}

impl FakeSource {
    pub fn products(products: &[Value]) -> Box<FakeSource> {
        Box::new(FakeSource {
            records: products
                .iter()
                .map(|product| {
                    Ok(SourceRecord {
                        key: product["sku"].as_str().unwrap_or("").to_owned(),
                        updated_at: None,
                        data: product.clone(),
                    })
                })
                .collect(),
        })
    }
}

#[async_trait]
impl Source for FakeSource {
    async fn read_page(&mut self, request: &ReadRequest) -> Result<Page, ConnectorError> {
        let start: usize = request
            .position
            .as_deref()
            .map_or(0, |position| position.parse().unwrap());
        let end = (start + request.page_size).min(self.records.len());
        Ok(Page {
            records: self.records[start..end].to_vec(),
            next: (end < self.records.len()).then(|| end.to_string()),
            api_calls: 1,
        })
    }
}

/// What the fake target holds and saw; shared with the test.
#[derive(Default)]
pub struct TargetState {
    pub records: BTreeMap<String, Value>,
    pub batches: Vec<Vec<WriteItem>>,
    pub refuse_skus: HashSet<String>,
    pub transient_failures_left: u32,
    /// Writes applied, then answered with a transient failure (the duplicate trap).
    pub commit_then_fail_left: u32,
    pub auth_failure: bool,
    pub lookups: Vec<Vec<String>>,
}

impl TargetState {
    /// Records whose SKU appears more than once.
    pub fn duplicate_skus(&self) -> usize {
        let mut seen = HashSet::new();
        self.records
            .values()
            .filter(|record| !seen.insert(record["sku"].as_str().unwrap_or("").to_owned()))
            .count()
    }
}

/// A target keeping records by SKU.
pub struct FakeTarget {
    pub state: Arc<Mutex<TargetState>>,
}

impl FakeTarget {
    pub fn new() -> (Box<FakeTarget>, Arc<Mutex<TargetState>>) {
        let state = Arc::new(Mutex::new(TargetState::default()));
        (Box::new(FakeTarget { state: state.clone() }), state)
    }

    pub fn sharing(state: &Arc<Mutex<TargetState>>) -> Box<FakeTarget> {
        Box::new(FakeTarget { state: state.clone() })
    }
}

#[async_trait]
impl Target for FakeTarget {
    fn max_batch(&self) -> usize {
        100
    }

    fn can_lookup(&self) -> bool {
        true
    }

    async fn lookup(&mut self, _match_on: Option<&str>, keys: &[String]) -> Result<Lookup, ConnectorError> {
        let mut state = self.state.lock().unwrap();
        state.lookups.push(keys.to_vec());
        let found = state
            .records
            .iter()
            .filter_map(|(id, record)| {
                let sku = record["sku"].as_str()?.to_owned();
                keys.contains(&sku).then(|| {
                    (
                        sku,
                        FoundRecord {
                            target_id: id.clone(),
                            data: Some(record.clone()),
                        },
                    )
                })
            })
            .collect();
        Ok(Lookup { found, api_calls: 1 })
    }

    async fn write_batch(&mut self, items: Vec<WriteItem>) -> Result<BatchResult, ConnectorError> {
        let mut state = self.state.lock().unwrap();
        if state.auth_failure {
            return Err(ConnectorError::new(ErrorKind::Auth, "401: API key is not valid"));
        }
        if state.transient_failures_left > 0 {
            state.transient_failures_left -= 1;
            return Err(ConnectorError::new(ErrorKind::Transient, "503 Service Unavailable"));
        }
        state.batches.push(items.clone());
        let outcomes = items
            .into_iter()
            .map(|item| {
                let sku = item.payload["sku"].as_str().unwrap_or("").to_owned();
                if state.refuse_skus.contains(&sku) {
                    return WriteOutcome::Failed(
                        ConnectorError::new(ErrorKind::Invalid, format!("wrong VAT rate for {sku}"))
                            .at("item 1")
                            .at_field("vat_rate")
                            .with_fix("use a VAT rate the target has"),
                    );
                }
                // A create always makes a new record, as real APIs do: sending it twice duplicates.
                let id = item.target_id.clone().unwrap_or_else(|| {
                    let mut id = format!("T-{sku}");
                    let mut copy = 1;
                    while state.records.contains_key(&id) {
                        copy += 1;
                        id = format!("T-{sku}#{copy}");
                    }
                    id
                });
                state.records.insert(id.clone(), item.payload);
                WriteOutcome::Written { target_id: id }
            })
            .collect();
        if state.commit_then_fail_left > 0 {
            state.commit_then_fail_left -= 1;
            return Err(ConnectorError::new(
                ErrorKind::Transient,
                "500 Internal Server Error (after commit)",
            ));
        }
        Ok(BatchResult { outcomes, api_calls: 1 })
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        Ok(())
    }
}

/// A valid product.
pub fn product(sku: &str, name: &str) -> Value {
    json!({"sku": sku, "name": name, "price_net": "10.00", "vat_rate": "21", "description": format!("about {name}"), "brand": "Bosch"})
}
