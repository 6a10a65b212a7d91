//! `GET /api/v1/quota`: each connection's requests today against its budget, the shared budget
//! of its group, and the limits its system reports about itself.
use super::ApiResult;
use crate::auth::authorize;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::HeaderMap;
use serde::Serialize;
use std::collections::BTreeMap;
use tiltas_store::ApiScope;
use utoipa::ToSchema;
/// A connection's request budget today.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuotaView {
    /// The connection.
    pub connection: String,
    /// Requests counted today (UTC day).
    pub used_today: u64,
    /// The daily budget, if any.
    pub daily_budget: Option<u64>,
    /// At today's pace so far, the requests by the end of the day.
    pub forecast: u64,
    /// Share of the budget used, 0–1 (none without a budget).
    pub used_share: Option<f64>,
    /// What the system itself reported about its limits in its latest answers (Smartup's
    /// daily quota per class), when it reports any.
    pub reported: Vec<ReportedQuota>,
    /// The shared daily budget it draws from too (`budget_group`), when it is in one.
    pub budget_group: Option<GroupQuota>,
}

/// A daily budget shared by several connections, today.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupQuota {
    /// The group (`[budget_groups.NAME]`).
    pub name: String,
    /// Its daily budget.
    pub daily_budget: u64,
    /// Requests its connections sent today (UTC), together.
    pub used_today: u64,
    /// At today's pace so far, the requests by the end of the day.
    pub forecast: u64,
    /// Each member connection's requests today.
    pub connections: BTreeMap<String, u64>,
}

/// A limit the system reported about itself.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportedQuota {
    /// The system's name for it.
    pub name: String,
    /// Used in its period, as the system counts.
    pub used: u64,
    /// Allowed in its period.
    pub limit: u64,
    /// When it starts afresh (RFC 3339), when known.
    pub resets_at: Option<String>,
}

/// Request use per connection today, with a forecast at the current pace.
#[utoipa::path(get, path = "/api/v1/quota", responses(
    (status = 200, body = [QuotaView]), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub(super) async fn quota(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Vec<QuotaView>> {
    authorize(&state, &headers, ApiScope::Read).await?;
    Ok(axum::Json(quota_views(&state).await?))
}

/// Each connection's requests today (UTC) against its daily budget, with a forecast.
pub async fn quota_views(state: &AppState) -> Result<Vec<QuotaView>, ApiError> {
    let now = chrono::Utc::now();
    let today = format!("day:{}", now.format("%Y-%m-%d"));
    let elapsed = u64::from(now.time().num_seconds_from_midnight().max(60));
    // Requests counted in whole numbers: the forecast is integer arithmetic, rounded half up.
    let at_this_pace = |used: u64| (used.saturating_mul(86_400) + elapsed / 2) / elapsed;
    let mut used_by = BTreeMap::new();
    for connection in &state.config.connections {
        used_by.insert(
            connection.name.as_str(),
            state.store.quota_used(&connection.name, &today).await?,
        );
    }
    let mut groups = BTreeMap::new();
    for group in &state.config.budget_groups {
        let counter = format!("group:{}", group.name);
        let used = state.store.quota_used(&counter, &today).await?;
        let members: BTreeMap<String, u64> = state
            .config
            .connections
            .iter()
            .filter(|connection| connection.budget_group.as_deref() == Some(group.name.as_str()))
            .map(|connection| (connection.name.clone(), used_by[connection.name.as_str()]))
            .collect();
        groups.insert(group.name.as_str(), (group.daily_budget, used, members));
    }
    let mut views = Vec::new();
    for connection in &state.config.connections {
        let used = used_by[connection.name.as_str()];
        let forecast = at_this_pace(used);
        views.push(QuotaView {
            connection: connection.name.clone(),
            used_today: used,
            daily_budget: connection.daily_budget,
            forecast,
            // A display ratio for the gauge (0–1), never money or a count: a float is its JSON form.
            #[allow(clippy::cast_precision_loss)]
            used_share: connection
                .daily_budget
                .filter(|budget| *budget > 0)
                .map(|budget| used as f64 / budget as f64),
            reported: state
                .engine
                .reported_quotas(&connection.name)
                .into_iter()
                .map(|quota| ReportedQuota {
                    name: quota.name,
                    used: quota.used,
                    limit: quota.limit,
                    resets_at: quota.resets_at.map(|at| at.to_rfc3339()),
                })
                .collect(),
            budget_group: connection.budget_group.as_deref().and_then(|name| {
                let (daily_budget, used, members) = groups.get(name)?;
                Some(GroupQuota {
                    name: name.to_owned(),
                    daily_budget: *daily_budget,
                    used_today: *used,
                    forecast: at_this_pace(*used),
                    connections: members.clone(),
                })
            }),
        });
    }
    Ok(views)
}

use chrono::Timelike as _;
