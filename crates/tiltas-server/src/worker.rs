//! The server's background work: the inbox worker delivering accepted webhooks through the
//! flows that read their entity from their connection, and the scheduler running flows with
//! a `schedule`.
use crate::AppState;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use tiltas_config::{Flow, Trigger};
use tiltas_connectors::woocommerce::webhook;
use tiltas_connectors::SourceRecord;
use tiltas_engine::{EngineError, SyncOptions};
use tiltas_model::EntityKind;
use tiltas_store::{ActivityOutcome, DeliveryFlow, DeliveryOutcome, InboxEvent, InboxSettlement, RecordOutcome, RunId};

/// Deliveries taken per round.
const INBOX_BATCH: u32 = 500;
/// The wait after a round that could not deliver (a target down, a busy flow).
const RETRY_WAIT: Duration = Duration::from_secs(2);

/// Delivers the inbox until the process ends: wakes when a delivery is accepted (or every
/// second), takes the pending deliveries in order and runs them through their flows.
pub async fn run_worker(state: AppState) {
    loop {
        match deliver_pending(&state).await {
            Ok(0) => {
                let _ = tokio::time::timeout(Duration::from_secs(1), state.inbox.notified()).await;
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "webhook deliveries wait: {error}");
                tokio::time::sleep(RETRY_WAIT).await;
            }
        }
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
pub async fn deliver_pending(state: &AppState) -> Result<usize, String> {
    let pending = state
        .store
        .inbox_pending(INBOX_BATCH)
        .await
        .map_err(|e| e.to_string())?;
    if pending.is_empty() {
        return Ok(0);
    }
    // Group by connection and entity, keeping arrival order; a later delivery of the same
    // record replaces an earlier one in the group (the engine keeps the last anyway).
    let mut groups: BTreeMap<(String, EntityKind), Vec<(InboxEvent, SourceRecord)>> = BTreeMap::new();
    let mut unusable = Vec::new();
    for event in pending {
        match webhook::record(&event.topic, event.body.as_bytes()) {
            Ok(Some((entity, record))) => groups
                .entry((event.connection.clone(), entity))
                .or_default()
                .push((event, record)),
            Ok(None) => unusable.push(unusable_settlement(event.id, "carries no record".to_owned())),
            Err(error) => unusable.push(unusable_settlement(event.id, error.to_string())),
        }
    }
    state.store.inbox_settle(&unusable).await.map_err(|e| e.to_string())?;
    let mut settled = unusable.len();
    let mut failures = Vec::new();
    for ((connection, entity), events) in groups {
        let ids: Vec<i64> = events.iter().map(|(event, _)| event.id).collect();
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
        let keys: Vec<String> = events.iter().map(|(_, record)| record.key.clone()).collect();
        let records: Vec<SourceRecord> = events.iter().map(|(_, record)| record.clone()).collect();
        let mut outcomes: Vec<Vec<DeliveryFlow>> = vec![Vec::new(); events.len()];
        let mut delivered = true;
        for flow in flows {
            let result = state
                .engine
                .ingest(&flow.name, records.clone(), &SyncOptions::default())
                .await;
            state.count_run(&flow.name, &result);
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
                Err(error) => {
                    delivered = false;
                    failures.push(format!("flow \"{}\": {error}", flow.name));
                    for id in &ids {
                        let _ = state.store.inbox_attempt_failed(*id, &error.to_string()).await;
                    }
                }
            }
        }
        if delivered {
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
            settled += settlements.len();
        }
    }
    if settled == 0 && !failures.is_empty() {
        return Err(failures.join("; "));
    }
    Ok(settled)
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
/// right away). Runs of one flow never overlap; flows run side by side.
pub async fn run_scheduler(state: AppState) {
    let mut tasks = Vec::new();
    for flow in &state.config.flows {
        let Some(schedule) = flow.schedule.clone() else {
            continue;
        };
        // A webhook flow with a schedule is also polled on it: a safety net for deliveries
        // the shop never sent (its webhook disabled, a network outage).
        if !flow.enabled || flow.trigger == Trigger::Manual {
            continue;
        }
        let state = state.clone();
        let name = flow.name.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                run_flow(&state, &name).await;
                tokio::time::sleep(schedule.next_delay(chrono::Local::now())).await;
            }
        }));
    }
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
    }
    let result = state.engine.sync(name, &SyncOptions::default()).await;
    state.count_run(name, &result);
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
