//! A simulator of the AccountView.net REST API (`shared/protocols/erp-and-suppliers.md` §3b)
//! under `/api/v3/`: `GET authorize` (redirects with a code), `POST token` (authorization code
//! and refresh token grants, rotating refresh tokens, expiring access tokens), and
//! `accountviewdata` — reads (`x-company` required, `BusinessObject`, `PageNumber`/`PageSize`,
//! filters with FoxPro date literals, `SortFields`; one row an object, many an array) and
//! writes (positional `Values`, `HeaderId` → the header's `RowId`), errors as
//! `{"ErrorType","ErrorNumbers","ErrorMessage"}`. `/__sim/` has the harness (stats, faults,
//! mutate, records, reset) and `POST /__sim/expire-tokens`, `POST /__sim/revoke-tokens`,
//! `POST /__sim/refresh-token` (a live refresh token without the authorisation page).
mod auth;
mod contract;
mod data;
mod flags;
mod query;
#[cfg(test)]
mod tests;
mod write;

use axum::body::Bytes;
use axum::extract::{Query as UrlQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
pub use contract::contract_fixture;
pub use data::Seeding;
use data::{Db, Row};
pub use flags::Flags;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tiltas_accountview::wire;
use tiltas_sim::{Harness, RequestKind, SimSystem};

/// The message of a record `invalid_item_rate` refuses (the simulator's words, in
/// AccountView's error body).
pub const REFUSED_ITEM: &str = "Record refused as invalid (invalid_item_rate, POST /__sim/faults)";

/// The OAuth2 client and the administration the simulator accepts.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The app's client id.
    pub client_id: String,
    /// The app's client secret.
    pub client_secret: String,
    /// The administration (`x-company`).
    pub company: String,
    /// How long an access token lives.
    pub token_lifetime: Duration,
}

/// The simulated AccountView.net.
pub struct AccountViewSim {
    credentials: Credentials,
    seeded: Db,
    db: Mutex<Db>,
    tokens: Mutex<auth::Tokens>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl AccountViewSim {
    /// An administration seeded as `seeding` says, accepting `credentials`.
    pub fn new(credentials: Credentials, seeding: Seeding) -> AccountViewSim {
        let seeded = Db::seeded(seeding);
        AccountViewSim {
            credentials,
            db: Mutex::new(seeded.clone()),
            seeded,
            tokens: Mutex::new(auth::Tokens::default()),
        }
    }

    /// A live refresh token, as if the user had authorised the app (tests).
    pub fn issue_refresh_token(&self) -> String {
        lock(&self.tokens).issue_refresh_token()
    }

    /// How many refresh grants were answered with new tokens.
    pub fn refreshes(&self) -> u64 {
        lock(&self.tokens).refreshes
    }

    /// Every access token expires now.
    pub fn expire_access_tokens(&self) -> usize {
        lock(&self.tokens).expire_access_tokens()
    }

    /// Every refresh token dies (the user revoked the app).
    pub fn revoke_refresh_tokens(&self) -> usize {
        lock(&self.tokens).revoke_refresh_tokens()
    }

    fn error(status: StatusCode, kind: &str, number: i64, message: &str) -> Response {
        (status, Json(wire::error_body(kind, &[number], message))).into_response()
    }

    /// The refusal of a request without a live access token or the right administration.
    fn check_access(&self, headers: &HeaderMap) -> Result<(), Response> {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().strip_prefix("Bearer "))
            .map(str::trim);
        match bearer {
            Some(token) if lock(&self.tokens).access_ok(token) => {}
            Some(_) => {
                return Err(Self::error(
                    StatusCode::UNAUTHORIZED,
                    "AuthenticationError",
                    401,
                    "The access token is invalid or expired",
                ))
            }
            None => {
                return Err(Self::error(
                    StatusCode::UNAUTHORIZED,
                    "AuthenticationError",
                    401,
                    "Authorization: Bearer is missing",
                ))
            }
        }
        match headers.get("x-company").and_then(|value| value.to_str().ok()) {
            None => Err(Self::error(
                StatusCode::BAD_REQUEST,
                "ValidationError",
                1000,
                "The x-company header is required: the administration to work in",
            )),
            Some(company) if company.trim() != self.credentials.company => Err(Self::error(
                StatusCode::FORBIDDEN,
                "AuthorizationError",
                403,
                &format!("No access to administration {company}"),
            )),
            Some(_) => Ok(()),
        }
    }

    /// The fields a table's rows have.
    fn columns(&self, table: &str) -> HashSet<String> {
        let db = lock(&self.db);
        let written: &[wire::FieldDef] = match table {
            "CONTACT" => &wire::DEBTOR_FIELDS,
            "SO_HDR" => &wire::ORDER_FIELDS,
            "SI_HDR" => &wire::INVOICE_FIELDS,
            _ => &[],
        };
        let seeded = self.seeded.table(table).iter().chain(db.table(table));
        seeded
            .flat_map(|row| row.keys().cloned())
            .chain(data::schema(table).iter().map(|name| (*name).to_owned()))
            .chain(written.iter().map(|(name, _)| (*name).to_owned()))
            .chain(["CNG_DATE".to_owned()])
            .collect()
    }
}

async fn read(
    State((sim, harness)): State<(Arc<AccountViewSim>, Arc<Harness>)>,
    headers: HeaderMap,
    UrlQuery(query): UrlQuery<HashMap<String, String>>,
) -> Response {
    if let Err(response) = harness.admit(RequestKind::Read).await {
        return response;
    }
    if let Err(response) = sim.check_access(&headers) {
        harness.count_rejected();
        return response;
    }
    let table = query
        .get("BusinessObject")
        .and_then(|code| wire::business_object(code))
        .map(|object| object.table)
        .unwrap_or_default();
    let columns = sim.columns(table);
    let parsed = match query::Query::parse(&query, &|field| columns.contains(field)) {
        Ok(parsed) => parsed,
        Err((number, message)) => {
            return AccountViewSim::error(StatusCode::BAD_REQUEST, "ValidationError", number, &message)
        }
    };
    let rows = parsed.select(lock(&sim.db).table(parsed.object.table));
    Json(wire::answer(parsed.object.table, rows)).into_response()
}

async fn write(
    State((sim, harness)): State<(Arc<AccountViewSim>, Arc<Harness>)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let admission = match harness.admit(RequestKind::Write).await {
        Ok(admission) => admission,
        Err(response) => return response,
    };
    if let Err(response) = sim.check_access(&headers) {
        harness.count_rejected();
        return response;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return AccountViewSim::error(StatusCode::BAD_REQUEST, "ValidationError", 2000, "The body is not JSON");
    };
    let result = {
        let mut db = lock(&sim.db);
        write::apply(&mut db, &body, &|key| harness.refuses_item(key))
    };
    match result {
        Ok(_) if admission.fail_after_commit => harness.commit_then_fail(),
        Ok(answer) => Json(answer).into_response(),
        Err((number, message)) => AccountViewSim::error(StatusCode::BAD_REQUEST, "ValidationError", number, &message),
    }
}

async fn token(
    State((sim, _)): State<(Arc<AccountViewSim>, Arc<Harness>)>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let basic = auth::basic_credentials(headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()));
    let credentials = &sim.credentials;
    lock(&sim.tokens).token(
        (&credentials.client_id, &credentials.client_secret),
        &form,
        basic,
        credentials.token_lifetime,
    )
}

async fn authorize(
    State((sim, _)): State<(Arc<AccountViewSim>, Arc<Harness>)>,
    UrlQuery(query): UrlQuery<HashMap<String, String>>,
) -> Response {
    lock(&sim.tokens).authorize(&sim.credentials.client_id, &query)
}

/// The simulator's routes: the API under `/api/v3/` and `/__sim/`.
pub fn router(sim: Arc<AccountViewSim>, harness: Arc<Harness>) -> Router {
    let tokens = Router::new()
        .route(
            "/__sim/expire-tokens",
            post(|State(sim): State<Arc<AccountViewSim>>| async move {
                Json(json!({ "expired": sim.expire_access_tokens() }))
            }),
        )
        .route(
            "/__sim/revoke-tokens",
            post(|State(sim): State<Arc<AccountViewSim>>| async move {
                Json(json!({ "revoked": sim.revoke_refresh_tokens() }))
            }),
        )
        .route(
            "/__sim/refresh-token",
            post(|State(sim): State<Arc<AccountViewSim>>| async move {
                Json(json!({ "refresh_token": sim.issue_refresh_token() }))
            }),
        )
        .with_state(sim.clone());
    Router::new()
        .route("/api/v3/accountviewdata", get(read).post(write))
        .route("/api/v3/token", post(token))
        .route("/api/v3/authorize", get(authorize))
        .with_state((sim, harness.clone()))
        .merge(tokens)
        .merge(tiltas_sim::control_router(harness))
}

/// A row without its detail table, for `/__sim/records`.
fn flat(row: &Row) -> Value {
    Value::Object(row.clone())
}

impl SimSystem for AccountViewSim {
    fn record_counts(&self) -> BTreeMap<String, usize> {
        let db = lock(&self.db);
        [
            ("product", "ARTICLE"),
            ("category", "ART_GRP"),
            ("customer", "CONTACT"),
            ("stock", "ART_WH"),
            ("price_list", "PRICE_LST"),
            ("order", "SO_HDR"),
            ("invoice", "SI_HDR"),
        ]
        .into_iter()
        .map(|(entity, table)| (entity.to_owned(), db.table(table).len()))
        .collect()
    }

    fn duplicates(&self) -> usize {
        let db = lock(&self.db);
        let mut duplicates = 0;
        for (table, field) in [
            ("ARTICLE", "ART_CODE"),
            ("CONTACT", "MAIL_BUS"),
            ("SO_HDR", "ORD_NR"),
            ("SI_HDR", "INV_NR"),
        ] {
            let mut seen = HashSet::new();
            for row in db.table(table) {
                if let Some(key) = wire::text(row, field) {
                    if !seen.insert(key.to_lowercase()) {
                        duplicates += 1;
                    }
                }
            }
        }
        duplicates
    }

    fn mutate(&self, entity: &str, count: usize) -> Result<usize, String> {
        let mut db = lock(&self.db);
        let today = json!(db.today.format("%Y-%m-%d").to_string());
        let (table, change): (&'static str, fn(&mut Row, usize)) = match entity {
            "product" => ("ARTICLE", |row, n| {
                let name = wire::text(row, "ART_DESC1").unwrap_or_default();
                row.insert("ART_DESC1".into(), json!(format!("{name} ({n})")));
            }),
            "customer" => ("CONTACT", |row, n| {
                row.insert("TEL_BUS".into(), json!(format!("+31 20 {:07}", n)));
            }),
            "stock" => ("ART_WH", |row, n| {
                let on_hand = row.get("QTY_STOCK").and_then(Value::as_i64).unwrap_or(0);
                row.insert("QTY_STOCK".into(), json!(on_hand + 1 + n as i64 % 3));
            }),
            other => return Err(format!("cannot mutate {other:?}: product, customer or stock")),
        };
        // A product is an article that is no variant: changing one changes that many products.
        let is_variant = |row: &Row| entity == "product" && wire::text(row, "MAIN_ART").is_some();
        let mut changed = 0;
        for row in db
            .table_mut(table)
            .iter_mut()
            .filter(|row| !is_variant(row))
            .take(count)
        {
            change(row, changed);
            row.insert("CNG_DATE".into(), today.clone());
            changed += 1;
        }
        Ok(changed)
    }

    fn records(&self, entity: &str) -> Option<Value> {
        let table = match entity {
            "product" => "ARTICLE",
            "category" => "ART_GRP",
            "customer" => "CONTACT",
            "stock" => "ART_WH",
            "price_list" => "PRICE_LST",
            "order" => "SO_HDR",
            "invoice" => "SI_HDR",
            _ => return None,
        };
        Some(Value::Array(lock(&self.db).table(table).iter().map(flat).collect()))
    }

    fn reset(&self) {
        *lock(&self.db) = self.seeded.clone();
    }

    fn error_response(&self, status: StatusCode, code: &str, message: &str) -> Response {
        (
            status,
            Json(wire::error_body(code, &[i64::from(status.as_u16())], message)),
        )
            .into_response()
    }
}
