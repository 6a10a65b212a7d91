//! `/api/v1/connections`: each connection as the API shows it (never its secrets, paused or
//! not), switching one on or off, and testing it by reading one record.
use super::ApiResult;
use crate::audit::{record, Actor};
use crate::auth::authorize;
use crate::error::ApiPath as Path;
use crate::security::ClientAddress;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::HeaderMap;
use serde::Serialize;
use std::collections::BTreeMap;
use tiltas_connector::{OpenContext, OpenGate, ReadRequest};
use tiltas_model::EntityKind;
use tiltas_store::ApiScope;
use utoipa::ToSchema;

/// A connection as the API shows it: never its secrets.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionView {
    /// Its name in the flow file.
    pub name: String,
    /// The system (`system = "…"` of the connection).
    pub system: String,
    /// Whether flows may use it now.
    pub enabled: bool,
    /// Pacing, e.g. `8/s`.
    pub rate_limit: Option<String>,
    /// Requests allowed per day.
    pub daily_budget: Option<u64>,
    /// Its non-secret settings (secrets shown as `***`).
    pub settings: BTreeMap<String, String>,
    /// Why its scheduled runs are paused — the system refused its credentials — and the fix;
    /// absent when they run.
    pub paused: Option<String>,
    /// What a parts supplier offers through Tiltas; absent for other systems.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Capabilities>,
}

/// What Tiltas does with a parts supplier, derived from its system's spec: it reads
/// `supplier_offer` or quotes (price, availability), writes `order` (order), reads `document`
/// (invoices as incoming documents).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Capabilities {
    /// Current purchase prices.
    pub price: bool,
    /// Stock per branch.
    pub availability: bool,
    /// Orders placed with the supplier.
    pub order: bool,
    /// The supplier's sales invoices read as incoming documents.
    pub invoices: bool,
}

/// The capabilities of `system`, when it is a parts supplier: it quotes or reads supplier
/// offers — not as a generic file system that reads every entity (`csv`, `jsonl`) does.
pub fn capabilities(system: &dyn tiltas_connector::System) -> Option<Capabilities> {
    let spec = system.spec();
    let reads = |entity| spec.access(entity).is_some_and(|access| access.read);
    let generic = EntityKind::ALL.into_iter().all(reads);
    let offers = system.quotes() || (reads(EntityKind::SupplierOffer) && !generic);
    offers.then(|| Capabilities {
        price: true,
        availability: true,
        order: spec.access(EntityKind::Order).is_some_and(|access| access.write),
        invoices: reads(EntityKind::Document),
    })
}

/// The capability matrix of the suppliers among `systems`, as the Markdown table
/// `docs/connectors.md` carries.
pub fn capability_table(systems: tiltas_connector::Systems) -> String {
    let mark = |on: bool| if on { "yes" } else { "no" };
    let mut table = String::from("| Supplier | Price | Availability | Order | Invoices |\n|---|---|---|---|---|\n");
    for system in systems.all() {
        if let Some(can) = capabilities(system) {
            table.push_str(&format!(
                "| `{}` | {} | {} | {} | {} |\n",
                system.spec().name,
                mark(can.price),
                mark(can.availability),
                mark(can.order),
                mark(can.invoices)
            ));
        }
    }
    table
}

fn connection_view(state: &AppState, connection: &tiltas_config::Connection) -> ConnectionView {
    let settings = connection
        .system
        .connection_keys
        .iter()
        .filter(|key| connection.settings.get(key.name).is_some())
        .map(|key| {
            let shown = match key.kind {
                tiltas_config::KeyKind::Secret => "***".to_owned(),
                _ => connection
                    .settings
                    .get(key.name)
                    .map(|value| value.to_string())
                    .unwrap_or_default(),
            };
            (key.name.to_owned(), shown)
        })
        .collect();
    ConnectionView {
        name: connection.name.clone(),
        system: connection.system.name.to_owned(),
        enabled: state.connection_enabled(&connection.name),
        rate_limit: connection.rate_limit.map(|rate| rate.to_string()),
        daily_budget: connection.daily_budget,
        settings,
        paused: state.paused(&connection.name).map(|paused| paused.reason),
        capabilities: state
            .engine
            .systems()
            .get(connection.system.name)
            .and_then(capabilities),
    }
}

fn connection<'a>(state: &'a AppState, name: &str) -> Result<&'a tiltas_config::Connection, ApiError> {
    state.config.connection(name).ok_or_else(|| {
        ApiError::not_found(format!(
            "no connection \"{name}\" in {}: GET /api/v1/connections lists them",
            state.config.file.display()
        ))
    })
}

/// Every connection.
#[utoipa::path(get, path = "/api/v1/connections", responses(
    (status = 200, body = [ConnectionView]), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub(super) async fn list_connections(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Vec<ConnectionView>> {
    authorize(&state, &headers, ApiScope::Read).await?;
    Ok(axum::Json(connection_views(&state)))
}

/// Every connection of the flow file, in its order (the API and the dashboard list these).
pub fn connection_views(state: &AppState) -> Vec<ConnectionView> {
    state
        .config
        .connections
        .iter()
        .map(|connection| connection_view(state, connection))
        .collect()
}

async fn set_enabled(
    state: &AppState,
    headers: &HeaderMap,
    address: &ClientAddress,
    name: &str,
    enabled: bool,
) -> ApiResult<ConnectionView> {
    let key = authorize(state, headers, ApiScope::Admin).await?;
    Ok(axum::Json(
        switch_connection(state, name, enabled, &Actor::key(&key, address)).await?,
    ))
}

/// Switches a connection on or off for this process and records it in the audit log (the
/// caller checked for admin scope).
pub(crate) async fn switch_connection(
    state: &AppState,
    name: &str,
    enabled: bool,
    actor: &Actor,
) -> Result<ConnectionView, ApiError> {
    let connection = connection(state, name)?;
    {
        let mut disabled = state
            .disabled
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if enabled {
            disabled.remove(name);
            state.resume(name);
        } else {
            disabled.insert(name.to_owned());
        }
    }
    tracing::info!(connection = name, enabled, actor = %actor.name, "connection switched");
    let action = if enabled {
        tiltas_store::actions::CONNECTION_ENABLED
    } else {
        tiltas_store::actions::CONNECTION_DISABLED
    };
    record(state.store.as_ref(), actor, action, name, serde_json::json!({})).await;
    Ok(connection_view(state, connection))
}

/// Switches a connection on: its flows run again.
#[utoipa::path(post, path = "/api/v1/connections/{name}/enable", params(("name" = String, Path)), responses(
    (status = 200, body = ConnectionView), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub(super) async fn enable_connection(
    State(state): State<AppState>,
    headers: HeaderMap,
    address: ClientAddress,
    Path(name): Path<String>,
) -> ApiResult<ConnectionView> {
    set_enabled(&state, &headers, &address, &name, true).await
}

/// Switches a connection off: flows using it are skipped and its webhooks wait in the inbox.
#[utoipa::path(post, path = "/api/v1/connections/{name}/disable", params(("name" = String, Path)), responses(
    (status = 200, body = ConnectionView), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub(super) async fn disable_connection(
    State(state): State<AppState>,
    headers: HeaderMap,
    address: ClientAddress,
    Path(name): Path<String>,
) -> ApiResult<ConnectionView> {
    set_enabled(&state, &headers, &address, &name, false).await
}

/// The outcome of a connection test.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionTest {
    /// Whether the system answered as expected.
    pub ok: bool,
    /// What was tried and what came back.
    pub message: String,
    /// Requests made.
    pub api_calls: u64,
}

/// Reads one page of the first entity a flow reads (or could read) from the connection.
#[utoipa::path(post, path = "/api/v1/connections/{name}/test", params(("name" = String, Path)), responses(
    (status = 200, body = ConnectionTest), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub(super) async fn test_connection(
    State(state): State<AppState>,
    headers: HeaderMap,
    address: ClientAddress,
    Path(name): Path<String>,
) -> ApiResult<ConnectionTest> {
    let key = authorize(&state, &headers, ApiScope::Write).await?;
    Ok(axum::Json(
        test_connection_now(&state, &name, &Actor::key(&key, &address)).await?,
    ))
}

/// Tests a connection and records the test and its outcome in the audit log (the caller
/// checked for write scope).
pub(crate) async fn test_connection_now(
    state: &AppState,
    name: &str,
    actor: &Actor,
) -> Result<ConnectionTest, ApiError> {
    let test = read_one_record(state, name).await?;
    let detail = serde_json::json!({ "ok": test.ok, "message": test.message });
    record(
        state.store.as_ref(),
        actor,
        tiltas_store::actions::CONNECTION_TESTED,
        name,
        detail,
    )
    .await;
    Ok(test)
}

/// Tests a connection by reading one record through it.
async fn read_one_record(state: &AppState, name: &str) -> Result<ConnectionTest, ApiError> {
    let connection = connection(state, name)?;
    // A flow reading from it, else one writing to it turned around, else any readable entity.
    let template = state
        .config
        .flows
        .iter()
        .find(|flow| flow.from.connection == name)
        .or_else(|| state.config.flows.iter().find(|flow| flow.to.connection == name));
    let readable = |entity| connection.system.access(entity).is_some_and(|access| access.read);
    let Some(template) = template else {
        return Ok(ConnectionTest {
            ok: false,
            message: format!("no flow uses connection \"{name}\", so there is nothing to test it with"),
            api_calls: 0,
        });
    };
    let entity = if readable(template.entity) {
        template.entity
    } else {
        match connection.system.entities.iter().find(|access| access.read) {
            Some(access) => access.entity,
            None => {
                return Ok(ConnectionTest {
                    ok: false,
                    message: format!("system {} reads nothing to test with", connection.system.name),
                    api_calls: 0,
                })
            }
        }
    };
    // The endpoint settings of the flow that reads from it; none when the flow writes to it.
    let no_settings = tiltas_config::Settings::default();
    let settings = if template.from.connection == name {
        &template.from.settings
    } else {
        &no_settings
    };
    let context = OpenContext {
        connection,
        entity,
        settings,
        match_on: None,
        base_dir: &state.config.base_dir,
        gate: std::sync::Arc::new(OpenGate),
        vault: state.engine.vault(),
    };
    let opened = state
        .engine
        .systems()
        .of(connection)
        .and_then(|system| system.open_source(&context));
    let outcome = match opened {
        Err(error) => Err(error.message),
        Ok(mut source) => {
            let request = ReadRequest {
                position: None,
                changed_since: None,
                page_size: 1,
            };
            source
                .read_page(&request)
                .await
                .map(|page| (page.records.len(), page.api_calls))
                .map_err(|error| error.message)
        }
    };
    Ok(match outcome {
        Ok((records, api_calls)) => ConnectionTest {
            ok: true,
            message: format!("read {records} {entity} record(s) from {}", connection.system.name),
            api_calls,
        },
        Err(message) => ConnectionTest {
            ok: false,
            message,
            api_calls: 1,
        },
    })
}
