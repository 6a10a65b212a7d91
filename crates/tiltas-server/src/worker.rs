//! The server's background work: the inbox worker delivering accepted webhooks through the
//! flows that read their entity from their connection, and the scheduler running flows with
//! a `schedule`.
use crate::AppState;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::time::Duration;
use tiltas_config::{Flow, Schedule, Trigger};
use tiltas_connector::SourceRecord;
use tiltas_engine::{EngineError, SyncOptions};
use tiltas_model::EntityKind;
use tiltas_store::{ActivityOutcome, DeliveryFlow, DeliveryOutcome, InboxEvent, InboxSettlement, RecordOutcome, RunId};
use tokio::sync::watch;
use tokio::time::Instant;

/// Deliveries claimed per round (several workers share a burst between them).
const INBOX_BATCH: u32 = 200;
/// The wait after a round that could not deliver (a target down, a busy flow).
const RETRY_WAIT: Duration = Duration::from_secs(2);
/// The slow poll when no wake-up comes (SQLite across processes, a lost `LISTEN`).
const POLL_EVERY: Duration = Duration::from_secs(5);

/// Delivers the inbox until the process is asked to stop: takes a claim on the oldest pending
/// deliveries (no other worker gets them while it holds), runs them through their flows, and
/// when there is nothing to do waits for work to be announced — by this process or, on
/// PostgreSQL, by another worker (`NOTIFY`) — or for the slow poll.
pub async fn run_worker(state: AppState) {
    // Backlog counts for backpressure and write-ahead-log checkpoints, beside the deliveries.
    let upkeep = tokio::spawn(crate::run_upkeep(state.clone()));
    let _stop_upkeep_with_the_worker = AbortOnDrop(upkeep);
    while !tiltas_engine::stop_requested() {
        match deliver_round(&state).await {
            Ok(Round { settled: 0, pending: 0 }) => {
                tokio::select! {
                    _ = state.store.wait_for_work(POLL_EVERY) => {}
                    _ = state.inbox.notified() => {}
                }
            }
            Ok(Round { settled: 0, .. }) => {
                // Deliveries wait for a target switched off or busy: new arrivals change
                // nothing, so a second passes without re-reading the inbox at every one.
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "webhook deliveries wait: {error}");
                tokio::time::sleep(RETRY_WAIT).await;
            }
        }
    }
}

/// Ends a task when dropped (the worker's upkeep ends with the worker, also when cancelled).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The flows a delivery of `entity` for `connection` goes to.
fn flows_for<'a>(state: &'a AppState, connection: &str, entity: EntityKind) -> Vec<&'a Flow> {
    state
        .config
        .flows
        .iter()
        .filter(|flow| flow.enabled && flow.from.connection == connection && flow.entity == entity)
        .collect()
}

/// One round: returns how many deliveries were settled. Each settled delivery keeps what
/// became of it (the deliveries page shows it): why it was unusable, or per flow the run that
/// took its record and the record's outcome in that run.
#[cfg(test)]
pub(crate) async fn deliver_pending(state: &AppState) -> Result<usize, String> {
    deliver_round(state).await.map(|round| round.settled)
}

/// What one round of the inbox worker did.
struct Round {
    /// Deliveries settled.
    settled: usize,
    /// Deliveries claimed at the start of the round.
    pending: usize,
}

/// One round of the inbox worker, saying also how many deliveries it claimed.
async fn deliver_round(state: &AppState) -> Result<Round, String> {
    let worker = tiltas_engine::worker_id();
    let pending = state
        .store
        .inbox_claim(worker, INBOX_BATCH, state.claim_ttl)
        .await
        .map_err(|e| e.to_string())?;
    let found = pending.len();
    if pending.is_empty() {
        return Ok(Round { settled: 0, pending: 0 });
    }
    let _running = state.running.enter("inbox");
    let delivered = deliver_claimed(state, pending).await;
    // What was not settled (a flow failed, a connection is off) is free for any worker again.
    if let Err(error) = state.store.inbox_release(worker).await {
        tracing::warn!(%error, "could not give up this worker's inbox claims; they lapse after the claim TTL");
    }
    delivered.map(|settled| Round {
        settled,
        pending: found,
    })
}

/// Delivers claimed deliveries; returns how many were settled.
async fn deliver_claimed(state: &AppState, pending: Vec<InboxEvent>) -> Result<usize, String> {
    // Group by connection and entity, keeping arrival order.
    let mut groups: BTreeMap<(String, EntityKind), Vec<(InboxEvent, SourceRecord)>> = BTreeMap::new();
    let mut unusable = Vec::new();
    for event in pending {
        let receiver = state
            .config
            .connection(&event.connection)
            .and_then(|connection| state.engine.systems().get(connection.system.name))
            .and_then(|system| system.webhook());
        let Some(receiver) = receiver else {
            let note = format!(
                "connection \"{}\" is no longer in the flow file, or its system takes no webhooks",
                event.connection
            );
            unusable.push(unusable_settlement(event.id, note));
            continue;
        };
        match receiver.record(&event.topic, event.body.as_bytes()) {
            Ok(Some((entity, record))) => groups
                .entry((event.connection.clone(), entity))
                .or_default()
                .push((event, record)),
            Ok(None) => unusable.push(unusable_settlement(event.id, "carries no record".to_owned())),
            Err(error) => unusable.push(unusable_settlement(event.id, error)),
        }
    }
    state.store.inbox_settle(&unusable).await.map_err(|e| e.to_string())?;
    let mut settled = unusable.len();
    let mut failures = Vec::new();
    for ((connection, entity), events) in groups {
        let flows = flows_for(state, &connection, entity);
        if flows.is_empty() {
            let note = format!("no enabled flow reads {entity} from connection \"{connection}\"");
            let settlements: Vec<InboxSettlement> = events
                .iter()
                .map(|(event, record)| InboxSettlement {
                    id: event.id,
                    note: Some(note.clone()),
                    entity: Some(entity),
                    record_key: Some(record.key.clone()),
                    flows: Vec::new(),
                })
                .collect();
            state
                .store
                .inbox_settle(&settlements)
                .await
                .map_err(|e| e.to_string())?;
            settled += settlements.len();
            continue;
        }
        if !state.connection_enabled(&connection)
            || flows.iter().any(|flow| !state.connection_enabled(&flow.to.connection))
        {
            // Kept until the connection is switched on again.
            continue;
        }
        // A record delivered more than once in the batch (order.created while pending, then
        // order.updated when paid: a shop may send each topic from its own queue, so they
        // may arrive in either order) goes through in waves, one delivery of each record per
        // run, so every delivery is judged on its own and none hides another.
        for wave in waves(events) {
            match deliver_wave(state, entity, &flows, &wave).await? {
                Ok(count) => settled += count,
                Err(errors) => {
                    failures.extend(errors);
                    // Later deliveries of these records wait: they must not overtake.
                    break;
                }
            }
        }
    }
    if settled == 0 && !failures.is_empty() {
        return Err(failures.join("; "));
    }
    Ok(settled)
}

/// Splits a group's deliveries, in arrival order, into runs that hold each record once.
fn waves(events: Vec<(InboxEvent, SourceRecord)>) -> Vec<Vec<(InboxEvent, SourceRecord)>> {
    let mut waves: Vec<Vec<(InboxEvent, SourceRecord)>> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (event, record) in events {
        let wave = seen.entry(record.key.clone()).or_insert(0);
        if waves.len() <= *wave {
            waves.push(Vec::new());
        }
        waves[*wave].push((event, record));
        *wave += 1;
    }
    waves
}

/// Runs one wave of deliveries through every flow reading them and settles them: `Ok(count)`
/// settled, or the flows' errors (the deliveries stay pending, with the attempt counted).
async fn deliver_wave(
    state: &AppState,
    entity: EntityKind,
    flows: &[&Flow],
    events: &[(InboxEvent, SourceRecord)],
) -> Result<Result<usize, Vec<String>>, String> {
    let ids: Vec<i64> = events.iter().map(|(event, _)| event.id).collect();
    let keys: Vec<String> = events.iter().map(|(_, record)| record.key.clone()).collect();
    let records: Vec<SourceRecord> = events.iter().map(|(_, record)| record.clone()).collect();
    let mut outcomes: Vec<Vec<DeliveryFlow>> = vec![Vec::new(); events.len()];
    let mut failures = Vec::new();
    for flow in flows {
        let result = state
            .engine
            .ingest(&flow.name, records.clone(), &SyncOptions::default())
            .await;
        state.after_run(&flow.name, &result).await;
        match result {
            Ok(report) => {
                // The activity log says what became of each record in this run; a record
                // without activity was the same as the one delivered before.
                let found = match report.run {
                    Some(run) => state
                        .store
                        .activity_outcomes(run, &flow.name, &keys)
                        .await
                        .map_err(|e| e.to_string())?,
                    None => HashMap::new(),
                };
                for (outcome, key) in outcomes.iter_mut().zip(&keys) {
                    outcome.push(delivery_flow(&flow.name, report.run, found.get(key)));
                }
            }
            // Another worker runs the flow right now: not a failed attempt, the deliveries
            // are released and taken again in a moment.
            Err(error @ EngineError::Busy { .. }) => failures.push(format!("flow \"{}\": {error}", flow.name)),
            Err(error) => {
                failures.push(format!("flow \"{}\": {error}", flow.name));
                for id in &ids {
                    let _ = state.store.inbox_attempt_failed(*id, &error.to_string()).await;
                }
            }
        }
    }
    if !failures.is_empty() {
        return Ok(Err(failures));
    }
    let settlements: Vec<InboxSettlement> = events
        .iter()
        .zip(outcomes)
        .map(|((event, record), flows)| InboxSettlement {
            id: event.id,
            note: None,
            entity: Some(entity),
            record_key: Some(record.key.clone()),
            flows,
        })
        .collect();
    state
        .store
        .inbox_settle(&settlements)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Ok(settlements.len()))
}

/// A delivery settled without reaching any flow, and why.
fn unusable_settlement(id: i64, note: String) -> InboxSettlement {
    InboxSettlement {
        id,
        note: Some(note),
        ..InboxSettlement::default()
    }
}

/// What one flow's run did with a delivered record, from its activity entry (none: unchanged).
fn delivery_flow(flow: &str, run: Option<RunId>, found: Option<&RecordOutcome>) -> DeliveryFlow {
    let unchanged = DeliveryFlow {
        flow: flow.to_owned(),
        run,
        outcome: DeliveryOutcome::Unchanged,
        activity: None,
        target_id: None,
        detail: None,
    };
    let Some(found) = found else { return unchanged };
    let answer = |field: &str| {
        found
            .response
            .as_ref()
            .and_then(|response| response.get(field))
            .filter(|value| !value.is_null())
            .map(|value| value.as_str().map_or_else(|| value.to_string(), str::to_owned))
    };
    let (outcome, target_id, detail) = match found.outcome {
        ActivityOutcome::Created => (DeliveryOutcome::Booked, answer("target_id"), Some("created".to_owned())),
        ActivityOutcome::Updated => (DeliveryOutcome::Booked, answer("target_id"), Some("updated".to_owned())),
        ActivityOutcome::Skipped => (DeliveryOutcome::Skipped, None, answer("reason")),
        ActivityOutcome::Failed => (DeliveryOutcome::DeadLettered, None, answer("message")),
    };
    DeliveryFlow {
        outcome,
        activity: Some(found.activity),
        target_id,
        detail,
        ..unchanged
    }
}

/// Runs every scheduled flow on its schedule until the process ends (a flow's first run is
/// right away). Runs of one flow never overlap; flows run side by side, except that a flow
/// waits for the flows it runs `after` when they are running or due at the same tick.
pub async fn run_scheduler(state: AppState) {
    let planned = plan(&state.config.flows);
    let names = planned.iter().map(|flow| flow.name.clone()).collect();
    let resumer = crate::workers::run_resumer(state.clone(), names);
    let scheduler = schedule(planned, move |name: String| {
        let state = state.clone();
        async move {
            if tiltas_engine::stop_requested() || ran_this_period(&state, &name).await {
                return;
            }
            run_flow(&state, &name).await;
        }
    });
    tokio::join!(resumer, scheduler);
}

/// Whether another worker (or this one) already started a run of `name` in the current period
/// of its schedule: several workers each keep the schedule, and the first to run a period
/// makes the others skip it (the flow's lease keeps runs from overlapping).
async fn ran_this_period(state: &AppState, name: &str) -> bool {
    let Some(schedule) = state.config.flow(name).and_then(|flow| flow.schedule.clone()) else {
        return false;
    };
    let runs = match state.store.runs(Some(name), 10).await {
        Ok(runs) => runs,
        Err(error) => {
            tracing::warn!(flow = name, %error, "could not read the flow's last run; running it");
            return false;
        }
    };
    let Some(last) = runs.iter().find(|run| {
        matches!(
            run.mode,
            tiltas_store::RunMode::Incremental | tiltas_store::RunMode::Full
        )
    }) else {
        return false;
    };
    if crate::workers::cut_short(state, name).await.unwrap_or(false) {
        return false;
    }
    let started = last.started_at.with_timezone(&chrono::Local);
    let next_due = started + chrono::Duration::from_std(schedule.next_delay(started)).unwrap_or_default();
    // A moment's slack: workers' timers fire a little apart.
    let skip = next_due > chrono::Local::now() + chrono::Duration::seconds(1);
    if skip {
        tracing::debug!(flow = name, run = last.id, "already run this period; this turn skipped");
    }
    skip
}

/// Two flows due within this much of each other are due at the same tick (their schedules
/// are computed a moment apart, and cron times to the minute).
const SAME_TICK: Duration = Duration::from_secs(1);

/// A flow the scheduler runs.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    pub(crate) name: String,
    pub(crate) schedule: Schedule,
    /// Its dependencies that the scheduler runs too: a disabled or manual-only dependency
    /// is never waited for, as it would never finish a run.
    pub(crate) after: Vec<String>,
}

/// The flows the scheduler runs, with the dependencies it can wait for.
pub(crate) fn plan(flows: &[Flow]) -> Vec<Planned> {
    // A webhook flow with a schedule is also polled on it: a safety net for deliveries
    // the shop never sent (its webhook disabled, a network outage).
    let scheduled: Vec<&Flow> = flows
        .iter()
        .filter(|flow| flow.schedule.is_some() && flow.enabled && flow.trigger != Trigger::Manual)
        .collect();
    scheduled
        .iter()
        .filter_map(|flow| {
            Some(Planned {
                name: flow.name.clone(),
                schedule: flow.schedule.clone()?,
                after: flow
                    .after
                    .iter()
                    .filter(|dependency| scheduled.iter().any(|other| other.name == **dependency))
                    .cloned()
                    .collect(),
            })
        })
        .collect()
}

/// Where a scheduled flow stands, published to the flows that run after it.
#[derive(Debug, Clone, Copy)]
struct Progress {
    running: bool,
    /// When its next run is due (at start-up: now, as every flow runs first thing).
    next_due: Instant,
}

impl Progress {
    /// Whether a dependent due at `tick` may start: this flow is neither running nor due by
    /// then (a flow on a slower schedule, not due at this tick, is not waited for).
    fn settled_for(&self, tick: Instant) -> bool {
        !self.running && self.next_due > tick + SAME_TICK
    }
}

/// Runs `planned` flows through `run` on their schedules until the process ends. Each flow
/// publishes its progress on a watch channel; before a run, a flow waits on its
/// dependencies' channels until none of them is running or due at its tick. Validation
/// refuses cycles, so the waits always end (and a dependency whose task ended is not
/// waited for).
pub(crate) async fn schedule<R, F>(planned: Vec<Planned>, run: R)
where
    R: Fn(String) -> F + Clone + Send + 'static,
    F: Future<Output = ()> + Send,
{
    let start = Instant::now();
    let mut senders = BTreeMap::new();
    let mut receivers = BTreeMap::new();
    for flow in &planned {
        let (sender, receiver) = watch::channel(Progress {
            running: false,
            next_due: start,
        });
        senders.insert(flow.name.clone(), sender);
        receivers.insert(flow.name.clone(), receiver);
    }
    let mut tasks = Vec::new();
    for flow in planned {
        let dependencies: Vec<(String, watch::Receiver<Progress>)> = flow
            .after
            .iter()
            .filter_map(|name| Some((name.clone(), receivers.get(name)?.clone())))
            .collect();
        let Some(progress) = senders.remove(&flow.name) else {
            continue;
        };
        let run = run.clone();
        tasks.push(tokio::spawn(async move {
            let mut due = start;
            loop {
                tokio::time::sleep_until(due).await;
                for (dependency, receiver) in &dependencies {
                    let mut receiver = receiver.clone();
                    if !receiver.borrow().settled_for(due) {
                        tracing::debug!(flow = flow.name, dependency, "waits for the flow it runs after");
                    }
                    // An error means the dependency's task ended: nothing left to wait for.
                    let _ = receiver.wait_for(|progress| progress.settled_for(due)).await;
                }
                progress.send_modify(|progress| progress.running = true);
                run(flow.name.clone()).await;
                due = Instant::now() + flow.schedule.next_delay(chrono::Local::now());
                progress.send_replace(Progress {
                    running: false,
                    next_due: due,
                });
            }
        }));
    }
    // Only the tasks' clones keep a flow's progress observable from here on.
    drop(receivers);
    for task in tasks {
        let _ = task.await;
    }
}

/// One scheduled run of a flow, logged and counted; a switched-off connection skips it.
pub async fn run_flow(state: &AppState, name: &str) {
    let Some(flow) = state.config.flow(name) else { return };
    for connection in [&flow.from.connection, &flow.to.connection] {
        if !state.connection_enabled(connection) {
            tracing::info!(flow = name, connection, "skipped: the connection is switched off");
            return;
        }
        if state.waits_for_sign_in(connection).await {
            tracing::info!(
                flow = name,
                connection,
                "skipped: the connection is paused until its credentials are fixed"
            );
            return;
        }
    }
    let result = {
        let _running = state.running.enter(name);
        state.engine.sync(name, &SyncOptions::default()).await
    };
    state.after_run(name, &result).await;
    match result {
        Ok(report) => tracing::info!(
            flow = name,
            read = report.counters.read,
            created = report.counters.created,
            updated = report.counters.updated,
            failed = report.counters.failed,
            "scheduled run finished"
        ),
        Err(EngineError::Busy { .. }) => tracing::debug!(flow = name, "still running; this turn skipped"),
        Err(error) => tracing::warn!(flow = name, %error, "scheduled run failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tokio::sync::mpsc;

    fn planned(name: &str, every_minutes: u64, after: &[&str]) -> Planned {
        Planned {
            name: name.to_owned(),
            schedule: Schedule::Every(Duration::from_secs(every_minutes * 60)),
            after: after.iter().map(|name| (*name).to_owned()).collect(),
        }
    }

    type Run = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

    /// A runner that logs "FLOW started"/"FLOW finished" and reports each line on a channel;
    /// runs of `held` wait for one permit each from the returned sender before finishing.
    struct Recorder {
        log: Arc<Mutex<Vec<String>>>,
        events: mpsc::UnboundedReceiver<String>,
        permits: mpsc::UnboundedSender<()>,
    }

    fn recorder(held: &'static str) -> (Recorder, impl Fn(String) -> Run + Clone + Send + 'static) {
        let log = Arc::new(Mutex::new(Vec::new()));
        let (event_sender, events) = mpsc::unbounded_channel();
        let (permits, permit_receiver) = mpsc::unbounded_channel::<()>();
        let permit_receiver = Arc::new(tokio::sync::Mutex::new(permit_receiver));
        let runner_log = log.clone();
        let run = move |name: String| {
            let log = runner_log.clone();
            let events = event_sender.clone();
            let permit_receiver = permit_receiver.clone();
            let note = move |line: String| {
                log.lock().expect("log").push(line.clone());
                let _ = events.send(line);
            };
            Box::pin(async move {
                note(format!("{name} started"));
                if name == held {
                    permit_receiver.lock().await.recv().await;
                }
                note(format!("{name} finished"));
            }) as Run
        };
        (Recorder { log, events, permits }, run)
    }

    impl Recorder {
        async fn until(&mut self, line: &str) {
            while let Some(event) = self.events.recv().await {
                if event == line {
                    return;
                }
            }
            panic!("the scheduler stopped before {line:?}");
        }

        fn log(&self) -> Vec<String> {
            self.log.lock().expect("log").clone()
        }

        /// Lets every task that can move do so (paused time advances only when all are idle).
        async fn settle() {
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_dependent_waits_for_its_dependency_to_finish_at_start_up_and_at_a_shared_tick() {
        let (mut recorder, run) = recorder("products");
        let flows = vec![planned("stock", 15, &["products"]), planned("products", 15, &[])];
        let scheduler = tokio::spawn(schedule(flows, run));

        recorder.until("products started").await;
        Recorder::settle().await;
        assert_eq!(
            recorder.log(),
            ["products started"],
            "stock started before products finished"
        );
        recorder.permits.send(()).expect("permit");
        recorder.until("stock finished").await;
        assert_eq!(
            recorder.log(),
            [
                "products started",
                "products finished",
                "stock started",
                "stock finished"
            ]
        );

        // Fifteen minutes later both are due at the same tick: stock waits again.
        recorder.until("products started").await;
        Recorder::settle().await;
        assert_eq!(recorder.log().len(), 5, "{:?}", recorder.log());
        recorder.permits.send(()).expect("permit");
        recorder.until("stock finished").await;
        assert_eq!(
            recorder.log()[4..],
            [
                "products started",
                "products finished",
                "stock started",
                "stock finished"
            ]
        );
        scheduler.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn a_dependency_on_a_slower_schedule_is_waited_for_only_when_it_is_due() {
        let (mut recorder, run) = recorder("none");
        let flows = vec![planned("products", 60, &[]), planned("stock", 5, &["products"])];
        let scheduler = tokio::spawn(schedule(flows, run));
        for _ in 0..4 {
            recorder.until("stock finished").await;
        }
        let log = recorder.log();
        assert_eq!(
            log.iter().filter(|line| *line == "products started").count(),
            1,
            "{log:?}"
        );
        assert_eq!(log[..3], ["products started", "products finished", "stock started"]);
        scheduler.abort();
    }

    #[test]
    fn a_disabled_or_manual_dependency_is_not_waited_for() {
        let text = r#"
[connections.files]
system = "jsonl"

[[flows]]
name = "products"
entity = "product"
from = { connection = "files", file = "in.jsonl" }
to = { connection = "files", file = "out.jsonl" }
enabled = false

[[flows]]
name = "by-hand"
entity = "product"
from = { connection = "files", file = "in.jsonl" }
to = { connection = "files", file = "hand.jsonl" }

[[flows]]
name = "copy"
entity = "product"
from = { connection = "files", file = "out.jsonl" }
to = { connection = "files", file = "copy.jsonl" }
schedule = "every 5m"
after = ["products", "by-hand"]
"#;
        let config = tiltas_config::parse_str(
            text,
            std::path::Path::new("flows.toml"),
            tiltas_systems::registry::catalog(),
        )
        .unwrap_or_else(|errors| panic!("{errors}"));
        let planned = plan(&config.flows);
        assert_eq!(planned.len(), 1);
        assert_eq!(planned[0].name, "copy");
        assert!(planned[0].after.is_empty(), "{:?}", planned[0].after);
    }
}
