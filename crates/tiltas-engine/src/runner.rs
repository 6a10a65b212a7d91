//! One run of one flow: read → map → hash → compare → write in batches → settle.
use crate::{payload_hash, EngineError, NoProgress, Progress};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tiltas_config::{Connection, Flow, ValidatedConfig};
use tiltas_connectors::{
    registry, ConnectorError, ErrorKind, Page, ReadRequest, Source, SourceRecord, Target, WriteItem, WriteOutcome,
};
use tiltas_mapping::{FieldPath, FlowMapping};
use tiltas_model::EntityKind;
use tiltas_store::{
    ActivityOutcome, DeliveredHash, FailureClass, HubId, IntentOutcome, IntentSettlement, NewActivity, NewDeadLetter,
    NewIntent, PageSettlement, RunCounters, RunId, RunMode, RunStatus, Store, WriteOperation, XrefLink,
};

/// Records read per page when neither the flow nor the source says otherwise.
const DEFAULT_PAGE_SIZE: usize = 500;
/// How long a run's lease lasts without renewal; renewed after every page.
const LEASE_TTL: Duration = Duration::from_secs(300);
/// How often a transient read or write failure is retried before the run fails.
const TRANSIENT_ATTEMPTS: u32 = 4;
/// At most this many record problems are kept in the report (all are dead-lettered).
const REPORTED_PROBLEMS: usize = 50;

/// How to run a flow.
#[derive(Clone)]
pub struct SyncOptions {
    /// Read and compare, report what would change, write nothing anywhere.
    pub dry_run: bool,
    /// Ignore delivered hashes and the cursor: send everything again.
    pub full: bool,
    /// Receives counters after every page.
    pub progress: Arc<dyn Progress>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            dry_run: false,
            full: false,
            progress: Arc::new(NoProgress),
        }
    }
}

/// What a dry run would do with one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlannedKind {
    /// It would be created in the target.
    Create,
    /// It would update the target's record.
    Update,
    /// A filter or policy would leave it alone.
    Skip,
}

/// One change a dry run found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlannedChange {
    /// The record's key in the source.
    pub source_key: String,
    /// What would happen.
    pub kind: PlannedKind,
}

/// A record that failed, for the report (all of them are in the dead-letter inbox).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecordProblem {
    /// The record's key in the source (or its position).
    pub source_key: String,
    /// What is wrong, where, and the fix.
    pub message: String,
}

/// The outcome of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncReport {
    /// The flow.
    pub flow: String,
    /// The stored run (none for a dry run).
    pub run: Option<RunId>,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// Record counters.
    pub counters: RunCounters,
    /// Wall time.
    pub duration: Duration,
    /// For a dry run: what would change.
    pub planned: Vec<PlannedChange>,
    /// The first failed records.
    pub problems: Vec<RecordProblem>,
}

/// Runs flows of one configuration against one store.
pub struct Engine {
    config: Arc<ValidatedConfig>,
    store: Arc<dyn Store>,
    holder: String,
}

impl Engine {
    /// An engine for a validated configuration and a store.
    pub fn new(config: Arc<ValidatedConfig>, store: Arc<dyn Store>) -> Engine {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".to_owned());
        let holder = format!("{host}:{}:{}", std::process::id(), uuid::Uuid::new_v4().simple());
        Engine { config, store, holder }
    }

    /// The configuration the engine runs.
    pub fn config(&self) -> &ValidatedConfig {
        &self.config
    }

    /// Runs one flow once, with the connectors its configuration names.
    pub async fn sync(&self, flow_name: &str, options: &SyncOptions) -> Result<SyncReport, EngineError> {
        let flow = self.flow(flow_name)?;
        let source = registry::open_source(&self.config, flow).map_err(|error| EngineError::Connector {
            flow: flow.name.clone(),
            side: "source",
            connection: flow.from.connection.clone(),
            error,
        })?;
        let target = if options.dry_run {
            None
        } else {
            let target = registry::open_target(&self.config, flow).map_err(|error| EngineError::Connector {
                flow: flow.name.clone(),
                side: "target",
                connection: flow.to.connection.clone(),
                error,
            })?;
            Some(target)
        };
        self.sync_with(flow_name, source, target, options).await
    }

    /// Runs one flow once with connectors the caller opened (tests, embedding). `target` is
    /// ignored for a dry run, which never writes.
    pub async fn sync_with(
        &self,
        flow_name: &str,
        mut source: Box<dyn Source>,
        target: Option<Box<dyn Target>>,
        options: &SyncOptions,
    ) -> Result<SyncReport, EngineError> {
        let flow = self.flow(flow_name)?;
        let mapping = FlowMapping::compile(&self.config, flow).map_err(|diagnostics| EngineError::Mapping {
            flow: flow.name.clone(),
            message: diagnostics
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        })?;
        let mut target = if options.dry_run { None } else { target };
        let from = self.connection(&flow.from.connection);
        let lease_name = format!("flow:{}", flow.name);
        if !options.dry_run && !self.store.lease_acquire(&lease_name, &self.holder, LEASE_TTL).await? {
            let lease = self.store.lease(&lease_name).await?;
            return Err(EngineError::Busy {
                flow: flow.name.clone(),
                holder: lease
                    .as_ref()
                    .map_or_else(|| "another worker".to_owned(), |lease| lease.holder.clone()),
                until: lease.map_or_else(|| "soon".to_owned(), |lease| lease.expires_at.to_rfc3339()),
            });
        }
        let run = if options.dry_run {
            None
        } else {
            let mode = if options.full {
                RunMode::Full
            } else {
                RunMode::Incremental
            };
            match self.store.run_start(&flow.name, mode).await {
                Ok(run) => Some(run),
                Err(error) => {
                    self.store.lease_release(&lease_name, &self.holder).await?;
                    return Err(error.into());
                }
            }
        };
        let started = Instant::now();
        let mut state = RunState {
            flow,
            from,
            mapping,
            run,
            options,
            report: SyncReport {
                flow: flow.name.clone(),
                run,
                dry_run: options.dry_run,
                counters: RunCounters::default(),
                duration: Duration::ZERO,
                planned: Vec::new(),
                problems: Vec::new(),
            },
        };
        let outcome = self
            .run_pages(&mut state, source.as_mut(), target.as_deref_mut(), &lease_name)
            .await;
        state.report.duration = started.elapsed();
        if let Some(run) = run {
            let (status, error) = match &outcome {
                Ok(()) => (RunStatus::Succeeded, None),
                Err(error) => (RunStatus::Failed, Some(error.to_string())),
            };
            let finished = self.store.run_finish(run, status, error.as_deref()).await;
            self.store.lease_release(&lease_name, &self.holder).await?;
            finished?;
        }
        outcome.map(|()| state.report)
    }

    fn flow(&self, flow_name: &str) -> Result<&Flow, EngineError> {
        let flow = self.config.flow(flow_name).ok_or_else(|| EngineError::UnknownFlow {
            name: flow_name.to_owned(),
            file: self.config.file.display().to_string(),
            known: self
                .config
                .flows
                .iter()
                .map(|flow| flow.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
        if !flow.enabled {
            return Err(EngineError::Disabled(flow.name.clone()));
        }
        Ok(flow)
    }

    fn connection(&self, name: &str) -> &Connection {
        // The validated configuration guarantees every flow names a defined connection.
        self.config
            .connection(name)
            .unwrap_or_else(|| unreachable!("validated configuration names an undefined connection {name:?}"))
    }

    async fn run_pages(
        &self,
        state: &mut RunState<'_>,
        source: &mut (dyn Source + '_),
        mut target: Option<&mut (dyn Target + '_)>,
        lease_name: &str,
    ) -> Result<(), EngineError> {
        let flow = state.flow;
        let source_error = |error: ConnectorError| EngineError::Connector {
            flow: flow.name.clone(),
            side: "source",
            connection: flow.from.connection.clone(),
            error,
        };
        let target_error = |error: ConnectorError| EngineError::Connector {
            flow: flow.name.clone(),
            side: "target",
            connection: flow.to.connection.clone(),
            error,
        };
        let incremental = state
            .from
            .system
            .access(flow.entity)
            .is_some_and(|access| access.incremental);
        let changed_since = if incremental && !state.options.full {
            self.store
                .cursor(&flow.name)
                .await?
                .and_then(|cursor| DateTime::parse_from_rfc3339(&cursor).ok())
                .map(|cursor| {
                    cursor.with_timezone(&Utc) - chrono::Duration::from_std(flow.look_back).unwrap_or_default()
                })
        } else {
            None
        };
        let mut request = ReadRequest {
            position: None,
            changed_since,
            page_size: flow.page_size.unwrap_or(DEFAULT_PAGE_SIZE),
        };
        let mut wrote_anything = false;
        loop {
            let page = read_with_retry(source, &request).await.map_err(source_error)?;
            let next = page.next.clone();
            wrote_anything |= self
                .process_page(state, page, target.as_deref_mut(), incremental)
                .await?;
            state.options.progress.page_settled(&state.report.counters);
            if !state.options.dry_run {
                self.store.lease_renew(lease_name, &self.holder, LEASE_TTL).await?;
            }
            match next {
                Some(position) => request.position = Some(position),
                None => break,
            }
        }
        if let (Some(target), true) = (target, wrote_anything) {
            target.finish().await.map_err(target_error)?;
        }
        Ok(())
    }

    /// Maps, compares, writes and settles one page; returns whether anything was written.
    async fn process_page(
        &self,
        state: &mut RunState<'_>,
        page: Page,
        target: Option<&mut (dyn Target + '_)>,
        incremental: bool,
    ) -> Result<bool, EngineError> {
        let flow = state.flow;
        let mut settlement = PageSettlement {
            flow: flow.name.clone(),
            run: state.run,
            ..PageSettlement::default()
        };
        settlement.counters.api_calls = page.api_calls;
        let mut newest_change: Option<DateTime<Utc>> = None;
        let mut candidates = Vec::new();
        for record in page.records {
            settlement.counters.read += 1;
            match record {
                Err(failure) => {
                    let message = format!("{}: {}", failure.location, failure.message);
                    state.dead_letter(
                        &mut settlement,
                        failure.key,
                        FailureClass::Invalid,
                        message,
                        failure.raw,
                    );
                }
                Ok(record) => {
                    newest_change = newest_change.max(record.updated_at);
                    if let Some(candidate) = state.prepare(&mut settlement, record) {
                        candidates.push(candidate);
                    }
                }
            }
        }

        // A key seen twice in one page: the later record wins, as it would in a later page.
        let mut last_index: HashMap<&str, usize> = HashMap::new();
        for (index, candidate) in candidates.iter().enumerate() {
            last_index.insert(candidate.source_key.as_str(), index);
        }
        if last_index.len() < candidates.len() {
            let keep: std::collections::HashSet<usize> = last_index.into_values().collect();
            let before = candidates.len();
            candidates = candidates
                .into_iter()
                .enumerate()
                .filter_map(|(index, candidate)| {
                    if !keep.contains(&index) {
                        tracing::warn!(flow = %flow.name, key = %candidate.source_key, "the source has this key more than once; the later record is used");
                    }
                    keep.contains(&index).then_some(candidate)
                })
                .collect();
            settlement.counters.skipped += (before - candidates.len()) as u64;
        }
        let keys: Vec<String> = candidates
            .iter()
            .map(|candidate| candidate.source_key.clone())
            .collect();
        let delivered = if state.options.full || keys.is_empty() {
            HashMap::new()
        } else {
            self.store.delivered_hashes(&flow.name, &keys).await?
        };
        let known = self
            .known_targets(flow.entity, &flow.from.connection, &flow.to.connection, &keys)
            .await?;
        let mut changed = Vec::new();
        for mut candidate in candidates {
            if delivered.get(&candidate.source_key) == Some(&candidate.hash) {
                settlement.counters.unchanged += 1;
                continue;
            }
            if let Some((hub_id, target_id)) = known.get(&candidate.source_key) {
                candidate.hub_id = Some(*hub_id);
                candidate.target_id = target_id.clone();
            }
            changed.push(candidate);
        }

        let mut wrote = false;
        match target {
            None => {
                for candidate in &changed {
                    let kind = if candidate.target_id.is_some() {
                        PlannedKind::Update
                    } else {
                        PlannedKind::Create
                    };
                    match kind {
                        PlannedKind::Update => settlement.counters.updated += 1,
                        _ => settlement.counters.created += 1,
                    }
                    state.report.planned.push(PlannedChange {
                        source_key: candidate.source_key.clone(),
                        kind,
                    });
                }
            }
            Some(target) => {
                let batch_size = flow.batch_size.unwrap_or(usize::MAX).min(target.max_batch()).max(1);
                let mut remaining = changed;
                while !remaining.is_empty() {
                    let rest = remaining.split_off(batch_size.min(remaining.len()));
                    let batch = std::mem::replace(&mut remaining, rest);
                    wrote = true;
                    self.write_batch(state, &mut settlement, target, batch).await?;
                }
            }
        }

        if incremental {
            settlement.cursor = newest_change.map(|at| at.to_rfc3339());
        }
        state.report.counters.add(&settlement.counters);
        if state.run.is_some() {
            self.store.settle_page(&settlement).await?;
        }
        Ok(wrote)
    }

    /// For each source key already linked to a record in the target: its hub id and target id.
    async fn known_targets(
        &self,
        entity: EntityKind,
        from: &str,
        to: &str,
        keys: &[String],
    ) -> Result<HashMap<String, (HubId, Option<String>)>, EngineError> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let source_links = self.store.xref_find_by_external(entity, from, keys).await?;
        let hub_ids: Vec<HubId> = source_links.values().map(|link| link.hub_id).collect();
        let mut target_ids: HashMap<HubId, String> = HashMap::new();
        if !hub_ids.is_empty() {
            for link in self.store.xref_find_by_hub(&hub_ids).await? {
                if link.connection == to && link.entity == entity {
                    target_ids.insert(link.hub_id, link.external_id);
                }
            }
        }
        Ok(source_links
            .into_iter()
            .map(|(key, link)| {
                let target_id = target_ids.get(&link.hub_id).cloned();
                (key, (link.hub_id, target_id))
            })
            .collect())
    }

    async fn write_batch(
        &self,
        state: &mut RunState<'_>,
        settlement: &mut PageSettlement,
        target: &mut (dyn Target + '_),
        batch: Vec<Candidate>,
    ) -> Result<(), EngineError> {
        let flow = state.flow;
        let run = state.run.unwrap_or_default();
        let items: Vec<WriteItem> = batch
            .iter()
            .map(|candidate| {
                let mut payload = candidate.payload.clone();
                if candidate.target_id.is_some() {
                    state.mapping.strip_create_only(&mut payload);
                }
                WriteItem {
                    source_key: candidate.source_key.clone(),
                    target_id: candidate.target_id.clone(),
                    payload,
                }
            })
            .collect();
        let intents: Vec<NewIntent> = items
            .iter()
            .zip(&batch)
            .map(|(item, candidate)| NewIntent {
                flow: flow.name.clone(),
                run,
                source_key: item.source_key.clone(),
                connection: flow.to.connection.clone(),
                operation: if item.target_id.is_some() {
                    WriteOperation::Update
                } else {
                    WriteOperation::Create
                },
                payload_hash: candidate.hash.clone(),
                payload: item.payload.clone(),
            })
            .collect();
        let intent_ids = self.store.outbox_add(&intents).await?;
        let sent: Vec<Value> = items.iter().map(|item| item.payload.clone()).collect();
        let outcomes = match write_with_retry(target, items).await {
            Ok(result) => {
                settlement.counters.api_calls += result.api_calls;
                result.outcomes
            }
            // A batch the target refuses as a whole fails each of its records, not the run.
            Err(error) if error.kind == ErrorKind::Invalid => {
                batch.iter().map(|_| WriteOutcome::Failed(error.clone())).collect()
            }
            Err(error) => {
                return Err(EngineError::Connector {
                    flow: flow.name.clone(),
                    side: "target",
                    connection: flow.to.connection.clone(),
                    error,
                })
            }
        };
        for (((candidate, intent_id), sent), outcome) in batch.into_iter().zip(intent_ids).zip(sent).zip(outcomes) {
            match outcome {
                WriteOutcome::Written { target_id } => {
                    let created = candidate.target_id.is_none();
                    if created {
                        settlement.counters.created += 1;
                    } else {
                        settlement.counters.updated += 1;
                    }
                    let hub_id = candidate.hub_id.unwrap_or_else(uuid::Uuid::new_v4);
                    settlement.xrefs.push(XrefLink {
                        hub_id,
                        entity: flow.entity,
                        connection: flow.from.connection.clone(),
                        external_id: candidate.source_key.clone(),
                        last_hash: Some(candidate.hash.clone()),
                    });
                    settlement.xrefs.push(XrefLink {
                        hub_id,
                        entity: flow.entity,
                        connection: flow.to.connection.clone(),
                        external_id: target_id.clone(),
                        last_hash: Some(candidate.hash.clone()),
                    });
                    settlement.delivered.push(DeliveredHash {
                        source_key: candidate.source_key.clone(),
                        hash: candidate.hash,
                    });
                    settlement.intents.push(IntentSettlement {
                        id: intent_id,
                        outcome: IntentOutcome::Delivered,
                        external_id: Some(target_id.clone()),
                    });
                    settlement.resolved_keys.push(candidate.source_key.clone());
                    settlement.activity.push(NewActivity {
                        run,
                        flow: flow.name.clone(),
                        source_key: candidate.source_key,
                        outcome: if created {
                            ActivityOutcome::Created
                        } else {
                            ActivityOutcome::Updated
                        },
                        source_payload: Some(state.redacted(candidate.source)),
                        sent_payload: Some(state.redacted(sent)),
                        response: Some(serde_json::json!({ "target_id": target_id })),
                    });
                }
                WriteOutcome::Failed(error) => {
                    settlement.intents.push(IntentSettlement {
                        id: intent_id,
                        outcome: IntentOutcome::DeadLettered,
                        external_id: None,
                    });
                    let message = format!("record {}: {}", candidate.source_key, error.message);
                    let class = failure_class(error.kind);
                    state.dead_letter_with_sent(
                        settlement,
                        candidate.source_key,
                        class,
                        message,
                        candidate.source,
                        sent,
                    );
                }
            }
        }
        Ok(())
    }
}

/// The engine's view of a failure kind reported by a connector.
fn failure_class(kind: ErrorKind) -> FailureClass {
    match kind {
        ErrorKind::Transient => FailureClass::Transient,
        ErrorKind::RateLimited => FailureClass::RateLimited,
        ErrorKind::Auth => FailureClass::Auth,
        ErrorKind::Invalid | ErrorKind::Fatal => FailureClass::Invalid,
    }
}

fn is_retryable(error: &ConnectorError) -> bool {
    matches!(error.kind, ErrorKind::Transient | ErrorKind::RateLimited)
}

/// Waits before retry `attempt` (1-based): the server's Retry-After, else 200 ms doubling.
async fn backoff(attempt: u32, error: &ConnectorError) {
    let wait = error
        .retry_after
        .unwrap_or_else(|| Duration::from_millis(200) * 2u32.pow(attempt.min(6)));
    tracing::warn!(attempt, wait_ms = wait.as_millis() as u64, error = %error, "retrying after a transient failure");
    tokio::time::sleep(wait).await;
}

async fn read_with_retry(source: &mut (dyn Source + '_), request: &ReadRequest) -> Result<Page, ConnectorError> {
    let mut attempt = 0;
    loop {
        match source.read_page(request).await {
            Err(error) if is_retryable(&error) && attempt + 1 < TRANSIENT_ATTEMPTS => {
                attempt += 1;
                backoff(attempt, &error).await;
            }
            outcome => return outcome,
        }
    }
}

async fn write_with_retry(
    target: &mut (dyn Target + '_),
    items: Vec<WriteItem>,
) -> Result<tiltas_connectors::BatchResult, ConnectorError> {
    let mut attempt = 0;
    loop {
        match target.write_batch(items.clone()).await {
            Err(error) if is_retryable(&error) && attempt + 1 < TRANSIENT_ATTEMPTS => {
                attempt += 1;
                backoff(attempt, &error).await;
            }
            outcome => return outcome,
        }
    }
}

/// A record that mapped and validated, waiting to be compared and written.
struct Candidate {
    source_key: String,
    source: Value,
    payload: Value,
    hash: String,
    hub_id: Option<HubId>,
    target_id: Option<String>,
}

/// Everything one run carries from page to page.
struct RunState<'a> {
    flow: &'a Flow,
    from: &'a Connection,
    mapping: FlowMapping,
    run: Option<RunId>,
    options: &'a SyncOptions,
    report: SyncReport,
}

impl RunState<'_> {
    /// Maps, filters and validates one source record; failures are dead-lettered here.
    fn prepare(&mut self, settlement: &mut PageSettlement, record: SourceRecord) -> Option<Candidate> {
        let entity = self.flow.entity;
        match self.mapping.keeps(&record.data) {
            Ok(true) => {}
            Ok(false) => {
                self.skip(settlement, record, "filtered out by the flow's filter");
                return None;
            }
            Err(error) => {
                let message = format!("record {}: {}", record.key, error.message);
                self.dead_letter(settlement, record.key, FailureClass::Invalid, message, record.data);
                return None;
            }
        }
        let payload = match self.mapping.apply(&record.data) {
            Ok(payload) => payload,
            Err(error) => {
                let message = format!("record {}: {}", record.key, error.message);
                self.dead_letter(settlement, record.key, FailureClass::Invalid, message, record.data);
                return None;
            }
        };
        if self.flow.skip_without_code && tiltas_model::natural_key(entity, &payload).is_none() {
            self.skip(settlement, record, "no code (skip_without_code = true)");
            return None;
        }
        if let Err(errors) = tiltas_model::validate_json(entity, &payload) {
            let message = format!("record {}: {errors}", record.key);
            self.dead_letter(settlement, record.key, FailureClass::Invalid, message, record.data);
            return None;
        }
        let hash = payload_hash(&payload);
        Some(Candidate {
            source_key: record.key,
            source: record.data,
            payload,
            hash,
            hub_id: None,
            target_id: None,
        })
    }

    /// Counts a record a filter or policy leaves alone, and logs why.
    fn skip(&mut self, settlement: &mut PageSettlement, record: SourceRecord, reason: &str) {
        settlement.counters.skipped += 1;
        if self.options.dry_run {
            self.report.planned.push(PlannedChange {
                source_key: record.key.clone(),
                kind: PlannedKind::Skip,
            });
        }
        settlement.activity.push(NewActivity {
            run: self.run.unwrap_or_default(),
            flow: self.flow.name.clone(),
            source_key: record.key,
            outcome: ActivityOutcome::Skipped,
            source_payload: Some(self.redacted(record.data)),
            sent_payload: None,
            response: Some(serde_json::json!({ "reason": reason })),
        });
    }

    fn dead_letter(
        &mut self,
        settlement: &mut PageSettlement,
        source_key: String,
        class: FailureClass,
        message: String,
        payload: Value,
    ) {
        self.dead_letter_with_sent(settlement, source_key, class, message, payload, Value::Null);
    }

    fn dead_letter_with_sent(
        &mut self,
        settlement: &mut PageSettlement,
        source_key: String,
        class: FailureClass,
        message: String,
        payload: Value,
        sent: Value,
    ) {
        settlement.counters.failed += 1;
        tracing::info!(flow = %self.flow.name, key = %source_key, class = class.as_str(), "{message}");
        if self.report.problems.len() < REPORTED_PROBLEMS {
            self.report.problems.push(RecordProblem {
                source_key: source_key.clone(),
                message: message.clone(),
            });
        }
        let redacted_source = self.redacted(payload.clone());
        settlement.activity.push(NewActivity {
            run: self.run.unwrap_or_default(),
            flow: self.flow.name.clone(),
            source_key: source_key.clone(),
            outcome: ActivityOutcome::Failed,
            source_payload: Some(redacted_source),
            sent_payload: (!sent.is_null()).then(|| self.redacted(sent)),
            response: Some(serde_json::json!({ "class": class.as_str(), "message": message })),
        });
        settlement.dead_letters.push(NewDeadLetter {
            flow: self.flow.name.clone(),
            run: self.run,
            source_key,
            class,
            message,
            payload,
        });
    }

    /// A copy of a payload with the flow's `redact` fields replaced by `***`, for the log.
    fn redacted(&self, mut payload: Value) -> Value {
        for field in &self.flow.redact {
            let path = FieldPath::parse(field);
            let _ = path.update_each(&mut payload, &mut |value| {
                if !value.is_null() {
                    *value = Value::String("***".to_owned());
                }
                Ok(())
            });
            if let Some(raw) = payload.get_mut("raw") {
                let _ = path.update_each(raw, &mut |value| {
                    *value = Value::String("***".to_owned());
                    Ok(())
                });
            }
        }
        payload
    }
}
