//! One run of one flow: recover → read → map → hash → compare → find → write in batches → settle.
use crate::deliver;
use crate::gate::ConnectionGate;
use crate::money::MoneyRounding;
use crate::orders::{Decision, OrderPipeline};
use crate::problem::Problem;
use crate::{payload_hash, EngineError, NoProgress, Progress};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tiltas_config::{Connection, DuplicatePolicy, Flow, ValidatedConfig};
use tiltas_connector::{
    CallGate, ConnectorError, ErrorKind, OpenContext, Page, ReadRequest, Source, SourceRecord, Systems, Target,
    WriteItem, WriteOutcome,
};
use tiltas_mapping::{FieldPath, FlowMapping};
use tiltas_model::EntityKind;
use tiltas_store::{
    ActivityOutcome, DeadLetter, DeliveredHash, HubId, IntentOutcome, IntentSettlement, NewActivity, NewDeadLetter,
    NewIntent, PageSettlement, RunCounters, RunId, RunMode, RunStatus, Store, WriteOperation, XrefLink,
};

/// Records read per page when neither the flow nor the source says otherwise.
const DEFAULT_PAGE_SIZE: usize = 500;
/// How long a run's lease lasts without renewal; renewed after every page.
const LEASE_TTL: Duration = Duration::from_secs(300);
/// At most this many record problems are kept in the report (all are dead-lettered).
const REPORTED_PROBLEMS: usize = 50;
/// Fields a system sets on its own; they never make a record different for echo detection.
const VOLATILE_FIELDS: [&str; 3] = ["raw", "updated_at", "id"];

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
    /// What is wrong and the fix (without the key, which is beside it).
    pub message: String,
    /// Where in the source (`products.csv:17`), when the source said.
    pub location: Option<String>,
    /// The canonical field at fault, when one is.
    pub field: Option<String>,
    /// What to change, on its own, when known.
    pub fix: Option<String>,
}

impl std::fmt::Display for RecordProblem {
    /// `record KEY (products.csv:17): message` — one line for a person.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "record {}", self.source_key)?;
        if let Some(location) = &self.location {
            write!(f, " ({location})")?;
        }
        write!(f, ": {}", self.message)
    }
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
    /// Writes left unacknowledged by an earlier, interrupted run and found applied.
    pub recovered: u64,
}

/// Runs flows of one configuration against one store.
pub struct Engine {
    config: Arc<ValidatedConfig>,
    store: Arc<dyn Store>,
    systems: Systems,
    holder: String,
    gates: std::sync::Mutex<HashMap<String, Arc<ConnectionGate>>>,
}

impl Engine {
    /// An engine for a validated configuration, a store, and the systems of the build.
    pub fn new(config: Arc<ValidatedConfig>, store: Arc<dyn Store>, systems: Systems) -> Engine {
        let host = this_host();
        let holder = format!("{host}:{}:{}", std::process::id(), uuid::Uuid::new_v4().simple());
        Engine {
            config,
            store,
            systems,
            holder,
            gates: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The configuration the engine runs.
    pub fn config(&self) -> &ValidatedConfig {
        &self.config
    }

    /// The systems the engine opens connectors of.
    pub fn systems(&self) -> Systems {
        self.systems
    }

    /// The store the engine keeps its state in.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Runs one flow once, with the connectors its configuration names. A dry run opens the
    /// target too, to look records up, but never writes to it.
    pub async fn sync(&self, flow_name: &str, options: &SyncOptions) -> Result<SyncReport, EngineError> {
        let flow = self.flow(flow_name)?;
        let source = self
            .systems
            .open_source(&self.config, flow, self.gate(&flow.from.connection))
            .map_err(|error| connector_error(flow, "source", error))?;
        let target = self
            .systems
            .open_target(&self.config, flow, self.gate(&flow.to.connection))
            .map_err(|error| connector_error(flow, "target", error))?;
        self.sync_with(flow_name, source, Some(target), options).await
    }

    /// Runs one flow once with connectors the caller opened (tests, embedding).
    pub async fn sync_with(
        &self,
        flow_name: &str,
        source: Box<dyn Source>,
        target: Option<Box<dyn Target>>,
        options: &SyncOptions,
    ) -> Result<SyncReport, EngineError> {
        let mode = if options.full {
            RunMode::Full
        } else {
            RunMode::Incremental
        };
        self.run(flow_name, source, target, options, mode).await
    }

    /// Sends dead letters of a flow again through the flow's current mapping (with their
    /// payloads as edited): those delivered are resolved, those failing again stay open with
    /// one more attempt. The flow's cursor is left alone.
    pub async fn replay(
        &self,
        flow_name: &str,
        letters: &[DeadLetter],
        options: &SyncOptions,
    ) -> Result<SyncReport, EngineError> {
        let flow = self.flow(flow_name)?;
        let target = self
            .systems
            .open_target(&self.config, flow, self.gate(&flow.to.connection))
            .map_err(|error| connector_error(flow, "target", error))?;
        let records = letters
            .iter()
            .filter(|letter| letter.flow == flow.name)
            .map(|letter| SourceRecord {
                key: letter.source_key.clone(),
                updated_at: None,
                data: letter.payload.clone(),
            })
            .collect();
        let source = Box::new(ReplaySource { records: Some(records) });
        self.run(flow_name, source, Some(target), options, RunMode::Replay)
            .await
    }

    /// Delivers records a webhook brought (already verified by the connector), as an
    /// incremental run would: unchanged records are not sent again, so a delivery repeated by
    /// the shop, or one that a poll already brought, writes nothing. The cursor is left alone.
    pub async fn ingest(
        &self,
        flow_name: &str,
        records: Vec<SourceRecord>,
        options: &SyncOptions,
    ) -> Result<SyncReport, EngineError> {
        let flow = self.flow(flow_name)?;
        let target = self
            .systems
            .open_target(&self.config, flow, self.gate(&flow.to.connection))
            .map_err(|error| connector_error(flow, "target", error))?;
        // The flow's own source, never read here: it decides which deliveries a read would
        // have returned, so a webhook passes the same filters (`statuses`, …) as polling.
        let admission = self
            .systems
            .open_source(&self.config, flow, self.gate(&flow.from.connection))
            .map_err(|error| connector_error(flow, "source", error))?;
        let source = Box::new(ReplaySource { records: Some(records) });
        self.run_admitting(
            flow_name,
            source,
            Some(target),
            options,
            RunMode::Webhook,
            Some(admission),
        )
        .await
    }

    async fn run(
        &self,
        flow_name: &str,
        source: Box<dyn Source>,
        target: Option<Box<dyn Target>>,
        options: &SyncOptions,
        mode: RunMode,
    ) -> Result<SyncReport, EngineError> {
        self.run_admitting(flow_name, source, target, options, mode, None).await
    }

    async fn run_admitting(
        &self,
        flow_name: &str,
        mut source: Box<dyn Source>,
        mut target: Option<Box<dyn Target>>,
        options: &SyncOptions,
        mode: RunMode,
        admission: Option<Box<dyn Source>>,
    ) -> Result<SyncReport, EngineError> {
        let flow = self.flow(flow_name)?;
        // A replay sends its records whatever was delivered before.
        let replaying = mode == RunMode::Replay;
        let options = &SyncOptions {
            full: options.full || replaying,
            ..options.clone()
        };
        let mapping = FlowMapping::compile(&self.config, flow).map_err(|diagnostics| EngineError::Mapping {
            flow: flow.name.clone(),
            message: diagnostics
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        })?;
        let from = self.connection(&flow.from.connection);
        let lease_name = format!("flow:{}", flow.name);
        if !options.dry_run && !self.claim(&lease_name).await? {
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
            match self.store.run_start(&flow.name, mode).await {
                Ok(run) => Some(run),
                Err(error) => {
                    self.store.lease_release(&lease_name, &self.holder).await?;
                    return Err(error.into());
                }
            }
        };
        let started = Instant::now();
        let orders = match self.order_pipeline(flow, target.is_some() && !options.dry_run) {
            Ok(orders) => orders,
            Err(error) => {
                if let Some(run) = run {
                    let message = error.to_string();
                    self.store.run_finish(run, RunStatus::Failed, Some(&message)).await?;
                    self.store.lease_release(&lease_name, &self.holder).await?;
                }
                return Err(error);
            }
        };
        let money = MoneyRounding::for_target(flow.entity, self.connection(&flow.to.connection).system.money_places);
        let mut state = RunState {
            flow,
            from,
            mapping,
            money,
            orders,
            admission,
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
                recovered: 0,
            },
        };
        let outcome = async {
            if !options.dry_run {
                if let Some(target) = target.as_deref_mut() {
                    self.recover(&mut state, target).await?;
                }
            }
            self.run_pages(
                &mut state,
                source.as_mut(),
                target.as_deref_mut(),
                &lease_name,
                !matches!(mode, RunMode::Replay | RunMode::Webhook),
            )
            .await?;
            if let (Some(retention), false) = (flow.retention, options.dry_run) {
                let before = Utc::now() - chrono::Duration::from_std(retention).unwrap_or_default();
                let purged = self.store.activity_purge(Some(&flow.name), before).await?;
                tracing::debug!(flow = %flow.name, purged, "activity older than the retention purged");
            }
            Ok::<(), EngineError>(())
        }
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

    /// The order pipeline of an order flow into an accounting system: its customer and
    /// product sides opened on the flow's `to` connection.
    fn order_pipeline(&self, flow: &Flow, writing: bool) -> Result<Option<OrderPipeline>, EngineError> {
        let to = self.connection(&flow.to.connection);
        if !writing || flow.entity != EntityKind::Order || !to.system.accounting {
            return Ok(None);
        }
        let system = self
            .systems
            .of(to)
            .map_err(|error| connector_error(flow, "target", error))?;
        let open = |entity: EntityKind, match_on: &str| {
            let context = OpenContext {
                connection: to,
                entity,
                settings: &flow.to.settings,
                match_on: Some(match_on),
                base_dir: &self.config.base_dir,
                gate: self.gate(&flow.to.connection),
            };
            system
                .open_target(&context)
                .map_err(|error| connector_error(flow, "target", error))
        };
        let customers = open(EntityKind::Customer, &flow.orders.customer_match)?;
        let products = open(EntityKind::Product, "sku")?;
        Ok(Some(OrderPipeline::new(flow, customers, products)))
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

    /// Claims a flow's lease. A lease held by a process of this machine that no longer exists
    /// (killed, crashed) is taken over at once instead of waiting for it to expire.
    async fn claim(&self, lease_name: &str) -> Result<bool, EngineError> {
        if self.store.lease_acquire(lease_name, &self.holder, LEASE_TTL).await? {
            return Ok(true);
        }
        match self.store.lease(lease_name).await? {
            Some(lease) if holder_is_gone(&lease.holder) => {
                tracing::warn!(lease = lease_name, holder = %lease.holder, "taking over the lease of a process that has died");
                self.store.lease_release(lease_name, &lease.holder).await?;
                Ok(self.store.lease_acquire(lease_name, &self.holder, LEASE_TTL).await?)
            }
            _ => Ok(false),
        }
    }

    /// The pacing and budget gate of a connection, shared by every flow this engine runs.
    fn gate(&self, name: &str) -> Arc<dyn CallGate> {
        let mut gates = self.gates.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let gate = gates
            .entry(name.to_owned())
            .or_insert_with(|| Arc::new(ConnectionGate::new(self.connection(name), self.store.clone())));
        gate.clone()
    }

    fn connection(&self, name: &str) -> &Connection {
        // The validated configuration guarantees every flow names a defined connection.
        self.config
            .connection(name)
            .unwrap_or_else(|| unreachable!("validated configuration names an undefined connection {name:?}"))
    }

    /// Settles the writes an interrupted run left in the outbox. A create that the target
    /// holds (found by its key) was applied: its identity link is stored, so the record is
    /// updated, never created twice, when it is read again. Everything else is abandoned: its
    /// hash was never recorded as delivered, so the record is sent again.
    async fn recover(&self, state: &mut RunState<'_>, target: &mut (dyn Target + '_)) -> Result<(), EngineError> {
        let flow = state.flow;
        let unsettled = self.store.outbox_unsettled(&flow.name).await?;
        if unsettled.is_empty() {
            return Ok(());
        }
        let creates: Vec<(usize, String)> = unsettled
            .iter()
            .enumerate()
            .filter(|(_, intent)| intent.intent.operation == WriteOperation::Create)
            .filter_map(|(index, intent)| state.match_key(&intent.intent.payload).map(|key| (index, key)))
            .collect();
        let keys: Vec<String> = creates.iter().map(|(_, key)| key.clone()).collect();
        let found = deliver::lookup(target, flow.match_on.as_deref(), &keys)
            .await
            .map_err(|error| connector_error(flow, "target", error))?;
        let found_at: HashMap<usize, String> = creates
            .into_iter()
            .filter_map(|(index, key)| found.found.get(&key).map(|record| (index, record.target_id.clone())))
            .collect();
        let source_keys: Vec<String> = unsettled
            .iter()
            .map(|intent| intent.intent.source_key.clone())
            .collect();
        let known = self
            .store
            .xref_find_by_external(flow.entity, &flow.from.connection, &source_keys)
            .await?;
        let mut settlement = PageSettlement {
            flow: flow.name.clone(),
            run: state.run,
            ..PageSettlement::default()
        };
        settlement.counters.api_calls = found.api_calls;
        for (index, intent) in unsettled.iter().enumerate() {
            let outcome = match found_at.get(&index) {
                Some(target_id) => {
                    let hub_id = known
                        .get(&intent.intent.source_key)
                        .map_or_else(uuid::Uuid::new_v4, |link| link.hub_id);
                    settlement
                        .xrefs
                        .extend(state.links(hub_id, &intent.intent.source_key, target_id, None, None));
                    IntentOutcome::FoundApplied
                }
                None => IntentOutcome::Abandoned,
            };
            let external_id = found_at.get(&index).cloned();
            settlement.intents.push(IntentSettlement {
                id: intent.id,
                outcome,
                external_id,
            });
        }
        state.report.recovered = found_at.len() as u64;
        tracing::info!(
            flow = %flow.name,
            unsettled = unsettled.len(),
            found_applied = found_at.len(),
            "settled the writes an interrupted run left behind"
        );
        state.report.counters.add(&settlement.counters);
        self.store.settle_page(&settlement).await?;
        Ok(())
    }

    async fn run_pages(
        &self,
        state: &mut RunState<'_>,
        source: &mut (dyn Source + '_),
        mut target: Option<&mut (dyn Target + '_)>,
        lease_name: &str,
        follows_cursor: bool,
    ) -> Result<(), EngineError> {
        let flow = state.flow;
        let incremental = follows_cursor
            && state
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
            let (page, failed_calls) = deliver::read_page(source, &request)
                .await
                .map_err(|error| connector_error(flow, "source", error))?;
            state.report.counters.api_calls += failed_calls;
            let next = page.next.clone();
            wrote_anything |= self
                .process_page(state, page, target.as_deref_mut(), incremental)
                .await?;
            // The page is in the store now (a dry run keeps nothing, so it tells the source
            // nothing): a file drop may move a fully read file out of its folder.
            if state.run.is_some() {
                source
                    .settled(next.as_deref())
                    .await
                    .map_err(|error| connector_error(flow, "source", error))?;
            }
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
            target
                .finish()
                .await
                .map_err(|error| connector_error(flow, "target", error))?;
        }
        Ok(())
    }

    /// Maps, compares, finds, writes and settles one page; returns whether anything was written.
    async fn process_page(
        &self,
        state: &mut RunState<'_>,
        page: Page,
        mut target: Option<&mut (dyn Target + '_)>,
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
                    let problem = Problem::from_record_failure(&failure);
                    state.dead_letter(&mut settlement, failure.key, problem, failure.raw);
                }
                Ok(record) => {
                    newest_change = newest_change.max(record.updated_at);
                    if let Some(candidate) = state.prepare(&mut settlement, record) {
                        candidates.push(candidate);
                    }
                }
            }
        }
        let candidates = later_wins(flow, candidates, &mut settlement);

        let keys: Vec<String> = candidates
            .iter()
            .map(|candidate| candidate.source_key.clone())
            .collect();
        let delivered = if state.options.full || keys.is_empty() {
            HashMap::new()
        } else {
            self.store.delivered_hashes(&flow.name, &keys).await?
        };
        let mut fresh = Vec::new();
        for candidate in candidates {
            if delivered.get(&candidate.source_key) == Some(&candidate.hash) {
                settlement.counters.unchanged += 1;
                continue;
            }
            if let Err(errors) = tiltas_model::validate_json(flow.entity, &candidate.payload) {
                let problem = Problem::from_validation(&errors);
                state.dead_letter(&mut settlement, candidate.source_key, problem, candidate.source);
                continue;
            }
            fresh.push(candidate);
        }
        let fresh_keys: Vec<String> = fresh.iter().map(|candidate| candidate.source_key.clone()).collect();
        let known = self.known_targets(flow, &fresh_keys).await?;
        let mut changed = Vec::new();
        for mut candidate in fresh {
            if let Some(link) = known.get(&candidate.source_key) {
                // Echo suppression: the source holds exactly what another flow wrote into it.
                let echo = format!("{}:{}", flow.to.connection, candidate.echo_hash);
                if !state.options.full && link.source_hash.as_deref() == Some(echo.as_str()) {
                    settlement.counters.unchanged += 1;
                    settlement.delivered.push(DeliveredHash {
                        source_key: candidate.source_key,
                        hash: candidate.hash,
                    });
                    continue;
                }
                candidate.hub_id = Some(link.hub_id);
                candidate.target_id = link.target_id.clone();
            }
            changed.push(candidate);
        }

        // Identity by look-up: records with no link yet may already exist in the target.
        if let Some(target) = target.as_deref_mut() {
            let unlinked: Vec<(usize, String)> = changed
                .iter()
                .enumerate()
                .filter(|(_, candidate)| candidate.target_id.is_none())
                .filter_map(|(index, candidate)| candidate.match_key.clone().map(|key| (index, key)))
                .collect();
            let wanted: Vec<String> = unlinked.iter().map(|(_, key)| key.clone()).collect();
            let found = deliver::lookup(target, flow.match_on.as_deref(), &wanted)
                .await
                .map_err(|error| connector_error(flow, "target", error))?;
            settlement.counters.api_calls += found.api_calls;
            for (index, key) in unlinked {
                if let Some(record) = found.found.get(&key) {
                    changed[index].target_id = Some(record.target_id.clone());
                    changed[index].adopted = true;
                }
            }
        }

        let mut changed = self.apply_duplicate_policy(state, &mut settlement, changed);
        if let Some(target) = target.as_deref() {
            changed = refuse_unwritable(state, &mut settlement, target, changed);
        }
        if let (Some(pipeline), false) = (state.orders.as_mut(), changed.is_empty()) {
            let mut payloads: Vec<Value> = changed.iter().map(|candidate| candidate.payload.clone()).collect();
            let (decisions, calls) = pipeline
                .prepare(&mut payloads)
                .await
                .map_err(|error| connector_error(flow, "target", error))?;
            settlement.counters.api_calls += calls;
            let mut ready = Vec::with_capacity(changed.len());
            for ((mut candidate, payload), decision) in changed.into_iter().zip(payloads).zip(decisions) {
                match decision {
                    Decision::Ready => {
                        candidate.payload = payload;
                        ready.push(candidate);
                    }
                    Decision::Rejected(problem) => {
                        state.dead_letter(&mut settlement, candidate.source_key, problem, candidate.source);
                    }
                }
            }
            changed = ready;
        }
        let mut wrote = false;
        match (target, state.options.dry_run) {
            (Some(target), false) => {
                let batch_size = flow.batch_size.unwrap_or(usize::MAX).min(target.max_batch()).max(1);
                let mut remaining = changed;
                while !remaining.is_empty() {
                    let rest = remaining.split_off(batch_size.min(remaining.len()));
                    let batch = std::mem::replace(&mut remaining, rest);
                    wrote = true;
                    self.write_batch(state, &mut settlement, target, batch).await?;
                }
            }
            _ => {
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

    /// `on_duplicate`: what happens to records the target already has (linked by an earlier
    /// run, or found by look-up). Returns the records still to write.
    fn apply_duplicate_policy(
        &self,
        state: &mut RunState<'_>,
        settlement: &mut PageSettlement,
        changed: Vec<Candidate>,
    ) -> Vec<Candidate> {
        let flow = state.flow;
        if flow.on_duplicate == DuplicatePolicy::Update {
            return changed;
        }
        let mut remaining = Vec::with_capacity(changed.len());
        for candidate in changed {
            let Some(target_id) = candidate.target_id.clone() else {
                remaining.push(candidate);
                continue;
            };
            match flow.on_duplicate {
                DuplicatePolicy::Update => remaining.push(candidate),
                DuplicatePolicy::Skip => {
                    let hub_id = candidate.hub_id.unwrap_or_else(uuid::Uuid::new_v4);
                    settlement
                        .xrefs
                        .extend(state.links(hub_id, &candidate.source_key, &target_id, None, None));
                    settlement.delivered.push(DeliveredHash {
                        source_key: candidate.source_key.clone(),
                        hash: candidate.hash.clone(),
                    });
                    let reason = format!("already in the target as {target_id} (on_duplicate = \"skip\")");
                    state.skip(settlement, candidate.source_key, candidate.source, &reason);
                }
                DuplicatePolicy::Error => {
                    let fix = "remove it there or set on_duplicate = \"update\" or \"skip\"";
                    let problem = Problem::invalid(format!(
                        "already in connection \"{}\" as {target_id} (on_duplicate = \"error\"): {fix}",
                        flow.to.connection
                    ))
                    .with_fix(fix);
                    state.dead_letter(settlement, candidate.source_key, problem, candidate.source);
                }
            }
        }
        remaining
    }

    /// For each source key already linked: its hub id, its id in the flow's target, and the
    /// echo hash of what another flow last wrote into the source.
    async fn known_targets(&self, flow: &Flow, keys: &[String]) -> Result<HashMap<String, KnownLink>, EngineError> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let source_links = self
            .store
            .xref_find_by_external(flow.entity, &flow.from.connection, keys)
            .await?;
        let hub_ids: Vec<HubId> = source_links.values().map(|link| link.hub_id).collect();
        let mut target_ids: HashMap<HubId, String> = HashMap::new();
        if !hub_ids.is_empty() {
            for link in self.store.xref_find_by_hub(&hub_ids).await? {
                if link.connection == flow.to.connection && link.entity == flow.entity {
                    target_ids.insert(link.hub_id, link.external_id);
                }
            }
        }
        Ok(source_links
            .into_iter()
            .map(|(key, link)| {
                let known = KnownLink {
                    hub_id: link.hub_id,
                    target_id: target_ids.get(&link.hub_id).cloned(),
                    source_hash: link.last_hash,
                };
                (key, known)
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
        let keys: Vec<Option<String>> = batch.iter().map(|candidate| candidate.match_key.clone()).collect();
        let outcomes = match deliver::write_verified(target, flow.match_on.as_deref(), &items, &keys).await {
            Ok(result) => {
                settlement.counters.api_calls += result.api_calls;
                result.outcomes
            }
            // A batch the target refuses as a whole fails each of its records, not the run.
            Err(error) if error.kind == ErrorKind::Invalid => {
                batch.iter().map(|_| WriteOutcome::Failed(error.clone())).collect()
            }
            Err(error) => return Err(connector_error(flow, "target", error)),
        };
        for (((candidate, intent_id), item), outcome) in batch.into_iter().zip(intent_ids).zip(items).zip(outcomes) {
            let sent = item.payload;
            match outcome {
                WriteOutcome::Written { target_id } => {
                    let created = candidate.target_id.is_none();
                    if created {
                        settlement.counters.created += 1;
                    } else {
                        settlement.counters.updated += 1;
                    }
                    let hub_id = candidate.hub_id.unwrap_or_else(uuid::Uuid::new_v4);
                    // Marks what this flow wrote, so the reverse flow recognises it as an echo.
                    let stored = target.stored(&target_id);
                    let written_hash = format!(
                        "{}:{}",
                        flow.from.connection,
                        echo_hash(stored.as_ref().unwrap_or(&sent))
                    );
                    settlement.xrefs.extend(state.links(
                        hub_id,
                        &candidate.source_key,
                        &target_id,
                        None,
                        Some(written_hash),
                    ));
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
                    let response = if candidate.adopted {
                        serde_json::json!({ "target_id": target_id, "adopted": true })
                    } else {
                        serde_json::json!({ "target_id": target_id })
                    };
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
                        response: Some(response),
                    });
                }
                WriteOutcome::Failed(error) => {
                    settlement.intents.push(IntentSettlement {
                        id: intent_id,
                        outcome: IntentOutcome::DeadLettered,
                        external_id: None,
                    });
                    let problem = Problem::from_connector(&error);
                    state.dead_letter_with_sent(settlement, candidate.source_key, problem, candidate.source, sent);
                }
            }
        }
        Ok(())
    }
}

/// This machine's name, as lease holders record it.
fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// Whether a lease holder (`HOST:PID:RUN`) is a process of this machine that has ended. Only
/// answerable where /proc lists processes (Linux); elsewhere the lease is left to expire.
fn holder_is_gone(holder: &str) -> bool {
    let mut parts = holder.rsplitn(3, ':');
    let (Some(_run), Some(pid), Some(host)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let proc_fs = std::path::Path::new("/proc/self").exists();
    proc_fs
        && host == this_host()
        && pid.parse::<u32>().is_ok()
        && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

fn connector_error(flow: &Flow, side: &'static str, error: ConnectorError) -> EngineError {
    let connection = if side == "source" {
        &flow.from.connection
    } else {
        &flow.to.connection
    };
    EngineError::Connector {
        flow: flow.name.clone(),
        side,
        connection: connection.clone(),
        error,
    }
}

/// Sets aside the records the target says it can never write as they are (before an order's
/// buyer or products are created for them), and checks an order's invoice against its totals.
fn refuse_unwritable(
    state: &mut RunState<'_>,
    settlement: &mut PageSettlement,
    target: &(dyn Target + '_),
    changed: Vec<Candidate>,
) -> Vec<Candidate> {
    let mut writable = Vec::with_capacity(changed.len());
    for candidate in changed {
        let refusal = target.precheck(&candidate.payload).err().or_else(|| {
            (state.flow.entity == EntityKind::Order)
                .then(|| crate::orders::check_totals(&candidate.payload).err())
                .flatten()
        });
        match refusal {
            None => writable.push(candidate),
            Some(reason) => {
                state.dead_letter(
                    settlement,
                    candidate.source_key,
                    Problem::invalid(reason),
                    candidate.source,
                );
            }
        }
    }
    writable
}

/// A key seen twice in one page: the later record wins, as it would in a later page.
fn later_wins(flow: &Flow, candidates: Vec<Candidate>, settlement: &mut PageSettlement) -> Vec<Candidate> {
    let mut last_index: HashMap<&str, usize> = HashMap::new();
    for (index, candidate) in candidates.iter().enumerate() {
        last_index.insert(candidate.source_key.as_str(), index);
    }
    if last_index.len() == candidates.len() {
        return candidates;
    }
    let keep: HashSet<usize> = last_index.into_values().collect();
    let before = candidates.len();
    let kept: Vec<Candidate> = candidates
        .into_iter()
        .enumerate()
        .filter_map(|(index, candidate)| {
            if !keep.contains(&index) {
                tracing::warn!(flow = %flow.name, key = %candidate.source_key, "the source has this key more than once; the later record is used");
            }
            keep.contains(&index).then_some(candidate)
        })
        .collect();
    settlement.counters.skipped += (before - kept.len()) as u64;
    kept
}

/// The hash of a record's content as a system holds it: without the fields systems set on their
/// own, so what one flow wrote is recognised when the reverse flow reads it back.
fn echo_hash(record: &Value) -> String {
    match record {
        Value::Object(fields) => {
            let content: serde_json::Map<String, Value> = fields
                .iter()
                .filter(|(key, _)| !VOLATILE_FIELDS.contains(&key.as_str()))
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect();
            payload_hash(&Value::Object(content))
        }
        other => payload_hash(other),
    }
}

/// Dead letters' payloads as a one-page source.
struct ReplaySource {
    records: Option<Vec<SourceRecord>>,
}

#[async_trait::async_trait]
impl Source for ReplaySource {
    async fn read_page(&mut self, _request: &ReadRequest) -> Result<Page, ConnectorError> {
        let records = self.records.take().unwrap_or_default().into_iter().map(Ok).collect();
        Ok(Page {
            records,
            next: None,
            api_calls: 0,
        })
    }
}

/// What the identity map says about a source key.
struct KnownLink {
    hub_id: HubId,
    target_id: Option<String>,
    source_hash: Option<String>,
}

/// A record that mapped and validated, waiting to be compared and written.
struct Candidate {
    source_key: String,
    source: Value,
    payload: Value,
    hash: String,
    echo_hash: String,
    match_key: Option<String>,
    hub_id: Option<HubId>,
    target_id: Option<String>,
    /// Found in the target by look-up rather than created by Tiltas.
    adopted: bool,
}

/// Everything one run carries from page to page.
struct RunState<'a> {
    flow: &'a Flow,
    from: &'a Connection,
    mapping: FlowMapping,
    /// Rounds money to the target's decimals; `None` when the target declares none.
    money: Option<MoneyRounding>,
    /// For order flows into an accounting system: buyers and products checked before writing.
    orders: Option<OrderPipeline>,
    /// For records delivered by webhook: the flow's source, which decides whether a read
    /// would have returned them.
    admission: Option<Box<dyn Source>>,
    run: Option<RunId>,
    options: &'a SyncOptions,
    report: SyncReport,
}

impl RunState<'_> {
    /// The key a payload is found by in the target: its `match_on` field, else its natural key.
    fn match_key(&self, payload: &Value) -> Option<String> {
        match &self.flow.match_on {
            Some(field) => match FieldPath::parse(field).get(payload)? {
                Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
                Value::Number(number) => Some(number.to_string()),
                _ => None,
            },
            None => tiltas_model::natural_key(self.flow.entity, payload),
        }
    }

    /// The two identity links of a record: its source key and its target id under one hub id.
    fn links(
        &self,
        hub_id: HubId,
        source_key: &str,
        target_id: &str,
        source_hash: Option<String>,
        target_hash: Option<String>,
    ) -> [XrefLink; 2] {
        let flow = self.flow;
        [
            XrefLink {
                hub_id,
                entity: flow.entity,
                connection: flow.from.connection.clone(),
                external_id: source_key.to_owned(),
                last_hash: source_hash,
            },
            XrefLink {
                hub_id,
                entity: flow.entity,
                connection: flow.to.connection.clone(),
                external_id: target_id.to_owned(),
                last_hash: target_hash,
            },
        ]
    }

    /// Maps, filters and validates one source record; failures are dead-lettered here.
    fn prepare(&mut self, settlement: &mut PageSettlement, record: SourceRecord) -> Option<Candidate> {
        let entity = self.flow.entity;
        if let Some(Err(reason)) = self.admission.as_ref().map(|source| source.admits(&record)) {
            self.skip(settlement, record.key, record.data, &reason);
            return None;
        }
        match self.mapping.keeps(&record.data) {
            Ok(true) => {}
            Ok(false) => {
                self.skip(settlement, record.key, record.data, "filtered out by the flow's filter");
                return None;
            }
            Err(error) => {
                self.dead_letter(settlement, record.key, Problem::invalid(error.message), record.data);
                return None;
            }
        }
        let mut payload = match self.mapping.apply(&record.data) {
            Ok(payload) => payload,
            Err(error) => {
                self.dead_letter(settlement, record.key, Problem::invalid(error.message), record.data);
                return None;
            }
        };
        if self.flow.skip_without_code && tiltas_model::natural_key(entity, &payload).is_none() {
            self.skip(
                settlement,
                record.key,
                record.data,
                "no code (skip_without_code = true)",
            );
            return None;
        }
        // Rounded before hashing: the hash, the outbox and the activity log then hold what the
        // target stores, and a change below its precision is no change.
        if let Some(money) = &self.money {
            money.apply(&mut payload);
        }
        // Validation waits until the record proves changed: a delivered hash means it was valid.
        let hash = payload_hash(&payload);
        let match_key = self.match_key(&payload);
        Some(Candidate {
            source_key: record.key,
            echo_hash: echo_hash(&record.data),
            source: record.data,
            payload,
            hash,
            match_key,
            hub_id: None,
            target_id: None,
            adopted: false,
        })
    }

    /// Counts a record a filter or policy leaves alone, and logs why.
    fn skip(&mut self, settlement: &mut PageSettlement, source_key: String, source: Value, reason: &str) {
        settlement.counters.skipped += 1;
        if self.options.dry_run {
            self.report.planned.push(PlannedChange {
                source_key: source_key.clone(),
                kind: PlannedKind::Skip,
            });
        }
        settlement.activity.push(NewActivity {
            run: self.run.unwrap_or_default(),
            flow: self.flow.name.clone(),
            source_key,
            outcome: ActivityOutcome::Skipped,
            source_payload: Some(self.redacted(source)),
            sent_payload: None,
            response: Some(serde_json::json!({ "reason": reason })),
        });
    }

    fn dead_letter(&mut self, settlement: &mut PageSettlement, source_key: String, problem: Problem, payload: Value) {
        self.dead_letter_with_sent(settlement, source_key, problem, payload, Value::Null);
    }

    /// Files a failed record: counted, logged, reported, in the activity log and the inbox. The
    /// key goes in its own column, never in the message.
    fn dead_letter_with_sent(
        &mut self,
        settlement: &mut PageSettlement,
        source_key: String,
        problem: Problem,
        payload: Value,
        sent: Value,
    ) {
        settlement.counters.failed += 1;
        tracing::info!(
            flow = %self.flow.name,
            key = %source_key,
            class = problem.class.as_str(),
            field = problem.field.as_deref().unwrap_or(""),
            "{}",
            problem.message
        );
        if self.report.problems.len() < REPORTED_PROBLEMS {
            self.report.problems.push(RecordProblem {
                source_key: source_key.clone(),
                message: problem.message.clone(),
                location: problem.location.clone(),
                field: problem.field.clone(),
                fix: problem.fix.clone(),
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
            response: Some(problem.to_json()),
        });
        settlement.dead_letters.push(NewDeadLetter {
            flow: self.flow.name.clone(),
            run: self.run,
            source_key,
            class: problem.class,
            message: problem.message,
            location: problem.location,
            field: problem.field,
            fix: problem.fix,
            payload,
        });
    }

    /// A copy of a payload with the flow's `redact` fields replaced by `***`, for the log. A
    /// bare name (`email`) redacts that field at any depth.
    fn redacted(&self, mut payload: Value) -> Value {
        fn walk(value: &mut Value, name: &str) {
            match value {
                Value::Object(fields) => {
                    for (key, child) in fields.iter_mut() {
                        if key == name && !child.is_null() {
                            *child = Value::String("***".to_owned());
                        } else {
                            walk(child, name);
                        }
                    }
                }
                Value::Array(items) => items.iter_mut().for_each(|item| walk(item, name)),
                _ => {}
            }
        }
        for field in &self.flow.redact {
            if field.contains('.') {
                let path = FieldPath::parse(field);
                let _ = path.update_each(&mut payload, &mut |value| {
                    if !value.is_null() {
                        *value = Value::String("***".to_owned());
                    }
                    Ok(())
                });
            } else {
                walk(&mut payload, field);
            }
        }
        payload
    }
}
