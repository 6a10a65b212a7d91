//! One run of one flow: the guard (lease and run record), recovery of an interrupted run's
//! writes, then page after page through the stages of [`crate::stages`] — prepare, compare,
//! adopt, orders, write, settle.
mod guard;
pub use guard::worker_id;

/// Set once the process is asked to stop: runs end after the page they are on.
static STOP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Asks every run of this process to stop after its current page (`Interrupted`), so a
/// worker told to end (SIGTERM) leaves no page half-done and releases its leases.
pub fn request_stop() {
    STOP.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// Whether [`request_stop`] was called.
pub fn stop_requested() -> bool {
    STOP.load(std::sync::atomic::Ordering::SeqCst)
}
mod ledger;
mod prepared;
mod recover;

pub(crate) use guard::{this_host, RunGuard};
pub(crate) use ledger::{redacted, Ledger, REPORTED_PROBLEMS};
pub(crate) use prepared::PreparedFlow;

use crate::deliver;
use crate::engine::Engine;
use crate::orders::OrderPipeline;
use crate::report::{SyncOptions, SyncReport};
use crate::spans;
use crate::stages;
use crate::stages::settle::InFlight;
use crate::EngineError;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tiltas_config::{Connection, Flow};
use tiltas_connector::{ConnectorError, Page, ReadRequest, Source, Target};
use tiltas_store::{HubId, PageSettlement, RunCounters, RunId, RunMode, Store};
use tracing::Instrument as _;

/// Records read per page when neither the flow nor the source says otherwise.
const DEFAULT_PAGE_SIZE: usize = 500;

/// A record that mapped, waiting to be compared and written.
pub(crate) struct Candidate {
    pub source_key: String,
    pub source: Value,
    pub payload: Value,
    pub hash: String,
    /// The source record's hash under the flow's mapping (see [`crate::hash::source_hash`]).
    pub source_hash: String,
    pub echo_hash: String,
    pub match_key: Option<String>,
    pub hub_id: Option<HubId>,
    pub target_id: Option<String>,
    /// Found in the target by look-up rather than created by Tiltas.
    pub adopted: bool,
}

/// What every stage of a run reads and never changes.
pub(crate) struct RunContext<'a> {
    pub store: &'a Arc<dyn Store>,
    pub prepared: &'a PreparedFlow,
    pub flow: &'a Flow,
    pub from: &'a Connection,
    pub options: &'a SyncOptions,
    pub run: Option<RunId>,
    /// For records delivered by webhook: the flow's source, which decides whether a read
    /// would have returned them (in a mutex only so the context can be shared across awaits).
    pub admission: Option<std::sync::Mutex<Box<dyn Source>>>,
}

/// A new hub id: time-ordered (UUIDv7), so the identity map's indexes grow at their end
/// rather than being written all over (random v4 ids cost the first sync of a large catalogue
/// most of its store time).
pub(crate) fn new_hub_id() -> HubId {
    uuid::Uuid::now_v7()
}

/// A connector failure that stops the run, naming the flow, the side and the connection.
pub(crate) fn connector_error(flow: &Flow, side: &'static str, error: ConnectorError) -> EngineError {
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

/// The connectors of one run.
pub(crate) struct Connectors {
    pub source: Box<dyn Source>,
    pub target: Option<Box<dyn Target>>,
    /// See [`RunContext::admission`].
    pub admission: Option<Box<dyn Source>>,
    /// The keys of the records a webhook brought, for the run's span.
    pub record_keys: Option<String>,
}

impl Engine {
    /// Runs a flow with its connectors in the run's span (see [`crate::spans`]).
    pub(crate) async fn run(
        &self,
        flow_name: &str,
        connectors: Connectors,
        options: &SyncOptions,
        mode: RunMode,
    ) -> Result<SyncReport, EngineError> {
        let prepared = self.prepared(flow_name)?;
        let span = spans::run(&prepared.flow, mode, options.dry_run, connectors.record_keys.as_deref());
        let outcome = self
            .run_traced(&prepared, connectors, options, mode)
            .instrument(span.clone())
            .await;
        if let Err(error) = &outcome {
            span.record("error", tracing::field::display(error));
        }
        outcome
    }

    /// Claims the lease, records the run, and finishes both however the run ends.
    async fn run_traced(
        &self,
        prepared: &PreparedFlow,
        connectors: Connectors,
        options: &SyncOptions,
        mode: RunMode,
    ) -> Result<SyncReport, EngineError> {
        let flow = &prepared.flow;
        // A replay sends its records whatever was delivered before.
        let options = &SyncOptions {
            full: options.full || mode == RunMode::Replay,
            ..options.clone()
        };
        let guard = if options.dry_run {
            RunGuard::unrecorded(self.store.clone(), &self.holder)
        } else {
            RunGuard::begin(self.store.clone(), &self.holder, &flow.name, mode).await?
        };
        if let Some(run) = guard.run() {
            tracing::Span::current().record("run_id", run);
        }
        let started = Instant::now();
        let context = RunContext {
            store: &self.store,
            prepared,
            flow,
            from: self.connection(&flow.from.connection),
            options,
            run: guard.run(),
            admission: connectors.admission.map(std::sync::Mutex::new),
        };
        let mut report = SyncReport {
            flow: flow.name.clone(),
            run: guard.run(),
            dry_run: options.dry_run,
            counters: RunCounters::default(),
            duration: Duration::ZERO,
            planned: Vec::new(),
            problems: Vec::new(),
            recovered: 0,
        };
        let outcome = self
            .run_body(
                &context,
                &guard,
                &mut report,
                connectors.source,
                connectors.target,
                mode,
            )
            .await;
        report.duration = started.elapsed();
        guard.finish(outcome.as_ref().err(), report.counters.failed).await?;
        outcome.map(|()| report)
    }

    /// Recovery, the pages, and the retention purge.
    async fn run_body(
        &self,
        context: &RunContext<'_>,
        guard: &RunGuard,
        report: &mut SyncReport,
        mut source: Box<dyn Source>,
        mut target: Option<Box<dyn Target>>,
        mode: RunMode,
    ) -> Result<(), EngineError> {
        let (flow, dry_run) = (context.flow, context.options.dry_run);
        let mut orders = self.order_pipeline(flow, target.is_some() && !dry_run)?;
        if let (Some(target), false) = (target.as_deref_mut(), dry_run) {
            recover::recover(context, report, target).await?;
        }
        let follows_cursor = !matches!(mode, RunMode::Replay | RunMode::Webhook);
        let mut pages = Pages {
            context,
            guard,
            report,
            orders: orders.as_mut(),
        };
        pages
            .run(source.as_mut(), target.as_deref_mut(), follows_cursor)
            .await?;
        if let (Some(retention), false) = (flow.retention, dry_run) {
            let before = Utc::now() - chrono::Duration::from_std(retention).unwrap_or_default();
            let purged = self.store.activity_purge(Some(&flow.name), before).await?;
            tracing::debug!(flow = %flow.name, purged, "activity older than the retention purged");
        }
        Ok(())
    }
}

/// The page loop of a run.
struct Pages<'r, 'c> {
    context: &'r RunContext<'c>,
    guard: &'r RunGuard,
    report: &'r mut SyncReport,
    orders: Option<&'r mut OrderPipeline>,
}

impl Pages<'_, '_> {
    /// Reads page after page from where the flow's cursor says, each through the stages.
    async fn run(
        &mut self,
        source: &mut (dyn Source + '_),
        mut target: Option<&mut (dyn Target + '_)>,
        follows_cursor: bool,
    ) -> Result<(), EngineError> {
        let flow = self.context.flow;
        let incremental = follows_cursor
            && self
                .context
                .from
                .system
                .access(flow.entity)
                .is_some_and(|access| access.incremental);
        let mut request = ReadRequest {
            position: None,
            changed_since: changed_since(self.context, incremental).await?,
            page_size: flow.page_size.unwrap_or(DEFAULT_PAGE_SIZE),
        };
        let mut wrote_anything = false;
        let mut settling: Option<InFlight> = None;
        let mut page_number = 0;
        loop {
            page_number += 1;
            let page_span = spans::page(flow, page_number);
            // Created inside the page's span so that it is the page's child.
            let read_span = page_span
                .in_scope(|| spans::connector_call("read_page", &flow.name, &flow.from.connection, request.page_size));
            let read = deliver::read_page(source, &request)
                .instrument(read_span)
                .instrument(page_span.clone())
                .await;
            let (page, failed_calls) = match read {
                Ok(read) => read,
                Err(error) => {
                    self.land(source, settling.take()).await?;
                    return Err(connector_error(flow, "source", error));
                }
            };
            self.report.counters.api_calls += failed_calls;
            page_span.record("records", spans::count(page.records.len()));
            let keys = stages::settle::keys_of(&page);
            // The page depends on what the settling one stores: let it land first.
            if settling
                .as_ref()
                .is_some_and(|settling| self.orders.is_some() || settling.touches(&keys))
            {
                self.land(source, settling.take()).await?;
            }
            let next = page.next.clone();
            let processed = self
                .page(page, target.as_deref_mut(), incremental)
                .instrument(page_span.clone())
                .await;
            let (wrote, settlement) = match processed {
                Ok(processed) => processed,
                Err(error) => {
                    self.land(source, settling.take()).await?;
                    return Err(error);
                }
            };
            wrote_anything |= wrote;
            self.land(source, settling.take()).await?;
            match settlement {
                Some(settlement) => {
                    let settle_span = spans::settle_page(&page_span, &flow.name);
                    settling = Some(InFlight::start(
                        self.context.store,
                        settlement,
                        keys,
                        next.clone(),
                        settle_span,
                    ));
                }
                // A dry run keeps nothing, so it tells the source nothing.
                None => self.context.options.progress.page_settled(&self.report.counters),
            }
            match next {
                Some(position) => request.position = Some(position),
                None => break,
            }
            if stop_requested() {
                // Asked to stop (SIGTERM): this page is done; the next run resumes after it.
                self.land(source, settling.take()).await?;
                return Err(EngineError::Interrupted(flow.name.clone()));
            }
        }
        self.land(source, settling.take()).await?;
        if let (Some(target), true) = (target, wrote_anything) {
            target
                .finish()
                .await
                .map_err(|error| connector_error(flow, "target", error))?;
        }
        Ok(())
    }

    /// Waits for a settling page to be in the store, then tells the source (a file drop may
    /// move a fully read file out of its folder), shows the progress and renews the lease.
    async fn land(&mut self, source: &mut (dyn Source + '_), settling: Option<InFlight>) -> Result<(), EngineError> {
        let Some(settling) = settling else {
            return Ok(());
        };
        let next = settling.landed().await?;
        source
            .settled(next.as_deref())
            .await
            .map_err(|error| connector_error(self.context.flow, "source", error))?;
        self.context.options.progress.page_settled(&self.report.counters);
        self.guard.renew().await
    }

    /// One page through the stages; returns whether anything was written and what the store
    /// must keep of it (`None` for a dry run).
    async fn page(
        &mut self,
        page: Page,
        mut target: Option<&mut (dyn Target + '_)>,
        incremental: bool,
    ) -> Result<(bool, Option<PageSettlement>), EngineError> {
        let context = self.context;
        let mut ledger = Ledger::new(context);
        ledger.settlement.counters.api_calls = page.api_calls;
        let delivered = stages::prepare::delivered(context, &page.records).await?;
        let (candidates, newest_change) = stages::prepare::stage(context, &mut ledger, page.records, &delivered);
        let changed = stages::compare::stage(context, &mut ledger, candidates, &delivered).await?;
        let changed = stages::adopt::stage(context, &mut ledger, target.as_deref_mut(), changed).await?;
        let changed = stages::orders::stage(context, &mut ledger, self.orders.as_deref_mut(), changed).await?;
        let wrote = stages::write::stage(context, &mut ledger, target, changed).await?;
        let settlement = stages::settle::stage(context, ledger, self.report, newest_change, incremental);
        Ok((wrote, settlement))
    }
}

/// Where an incremental read starts: the saved cursor less the flow's `look_back`.
async fn changed_since(context: &RunContext<'_>, incremental: bool) -> Result<Option<DateTime<Utc>>, EngineError> {
    let (flow, options) = (context.flow, context.options);
    if !incremental || options.full {
        return Ok(None);
    }
    let cursor = context.store.cursor(&flow.name).await?;
    Ok(cursor
        .and_then(|cursor| DateTime::parse_from_rfc3339(&cursor).ok())
        .map(|cursor| cursor.with_timezone(&Utc) - chrono::Duration::from_std(flow.look_back).unwrap_or_default()))
}
