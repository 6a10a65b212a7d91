//! The server's background work: the inbox worker delivering accepted webhooks through the
//! flows that read their entity from their connection, and the scheduler running flows with
//! a `schedule`.
use crate::AppState;
use std::collections::BTreeMap;
use std::time::Duration;
use tiltas_config::{Flow, Trigger};
use tiltas_connectors::woocommerce::webhook;
use tiltas_connectors::SourceRecord;
use tiltas_engine::{EngineError, SyncOptions};
use tiltas_model::EntityKind;
use tiltas_store::InboxEvent;

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

/// One round: returns how many deliveries were settled.
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
            Ok(None) => unusable.push((event.id, "carries no record".to_owned())),
            Err(error) => unusable.push((event.id, error.to_string())),
        }
    }
    let mut settled = 0;
    for (id, error) in unusable {
        state
            .store
            .inbox_done(&[id], Some(&error))
            .await
            .map_err(|e| e.to_string())?;
        settled += 1;
    }
    let mut failures = Vec::new();
    for ((connection, entity), events) in groups {
        let ids: Vec<i64> = events.iter().map(|(event, _)| event.id).collect();
        let flows = flows_for(state, &connection, entity);
        if flows.is_empty() {
            let note = format!("no enabled flow reads {entity} from connection \"{connection}\"");
            state
                .store
                .inbox_done(&ids, Some(&note))
                .await
                .map_err(|e| e.to_string())?;
            settled += ids.len();
            continue;
        }
        if !state.connection_enabled(&connection)
            || flows.iter().any(|flow| !state.connection_enabled(&flow.to.connection))
        {
            // Kept until the connection is switched on again.
            continue;
        }
        let records: Vec<SourceRecord> = events.into_iter().map(|(_, record)| record).collect();
        let mut delivered = true;
        for flow in flows {
            let result = state
                .engine
                .ingest(&flow.name, records.clone(), &SyncOptions::default())
                .await;
            state.count_run(&flow.name, &result);
            match result {
                Ok(_) => {}
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
            state.store.inbox_done(&ids, None).await.map_err(|e| e.to_string())?;
            settled += ids.len();
        }
    }
    if settled == 0 && !failures.is_empty() {
        return Err(failures.join("; "));
    }
    Ok(settled)
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
