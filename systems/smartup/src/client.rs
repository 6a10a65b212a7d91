//! The Smartup API client: every call is `POST <base>/b/<path>$<action>` with a JSON body,
//! HTTP Basic `login@company:password` and the `project_code` and `filial_id` headers. Every
//! answer's `limits` block is kept per quota class, so a call the day's quota no longer covers
//! is not sent: the run stops with a quota failure saying when it resumes. Smartup's errors
//! (`{"error_code","message"}`, sometimes in an HTTP 200) become engine failure classes.
use crate::wire::{self, Endpoint, IntegrationSettings, QuotaClass};
use crate::{CallGate, ConnectorError, ErrorKind};
use chrono::{Duration, Utc};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// An object of an answer or a request.
pub(crate) type Object = Map<String, Value>;

/// The last `limits` block of a quota class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub quota: u64,
    pub used: u64,
    pub left: u64,
    pub day: chrono::NaiveDate,
}

/// The answer to an `$import`: what Smartup took and what it refused.
#[derive(Debug, Clone, Default)]
pub(crate) struct ImportAnswer {
    pub successes: Vec<Object>,
    pub errors: Vec<Object>,
}

/// A client of one connection.
#[derive(Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    base: String,
    connection: String,
    login: String,
    password: String,
    project_code: String,
    filial_id: Option<String>,
    filial_code: Option<String>,
    /// The code scope the connection expects (`code`), if it names one.
    pub code: Option<String>,
    gate: Arc<dyn CallGate>,
    limits: SharedLimits,
}

/// A field as text, trimmed, none when blank.
pub(crate) fn text(object: &Object, field: &str) -> Option<String> {
    match object.get(field)? {
        Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// The limits of every account this process talks to, shared by the clients of its flows: a
/// flow opened after another used up a quota knows it before sending anything.
type SharedLimits = Arc<Mutex<BTreeMap<QuotaClass, Limits>>>;

fn shared_limits(account: String) -> SharedLimits {
    static ACCOUNTS: std::sync::OnceLock<Mutex<std::collections::HashMap<String, SharedLimits>>> =
        std::sync::OnceLock::new();
    let accounts = ACCOUNTS.get_or_init(Default::default);
    let mut accounts = accounts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    accounts.entry(account).or_default().clone()
}

/// When the day's quotas renew: Smartup counts per day; midnight UTC [I].
fn next_midnight() -> chrono::DateTime<Utc> {
    (Utc::now().date_naive() + Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
}

impl Client {
    pub fn new(
        connection: &crate::ConnectionSettings,
        name: &str,
        gate: Arc<dyn CallGate>,
    ) -> Result<Client, ConnectorError> {
        Ok(Client {
            http: crate::http::client(connection.timeout)?,
            base: connection.base_url.trim_end_matches('/').to_owned(),
            connection: name.to_owned(),
            login: connection.login.trim().to_owned(),
            password: crate::http::reveal(&connection.password)?,
            project_code: connection.project_code.clone(),
            filial_id: connection.filial_id.clone().filter(|id| !id.trim().is_empty()),
            filial_code: connection.filial_code.clone().filter(|code| !code.trim().is_empty()),
            code: connection.code.clone(),
            gate,
            // Smartup counts per account (user and company), whatever the organisation.
            limits: shared_limits(format!(
                "{} {}",
                connection.base_url.trim_end_matches('/'),
                connection.login.trim().to_lowercase()
            )),
        })
    }

    /// The last limits of `class`, when an answer of today gave them.
    pub fn limits(&self, class: QuotaClass) -> Option<Limits> {
        let limits = self.limits.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        limits
            .get(&class)
            .copied()
            .filter(|limits| limits.day == Utc::now().date_naive())
    }

    fn keep_limits(&self, class: QuotaClass, body: &Value) {
        let Some(block) = body.get("limits").and_then(Value::as_object) else {
            return;
        };
        let number = |field: &str| {
            block
                .get(field)
                .and_then(|value| value.as_u64().or_else(|| value.as_str()?.trim().parse().ok()))
        };
        let (Some(quota), Some(left)) = (number("limit_quant"), number("left_limit_quant")) else {
            return;
        };
        let used = number("request_quant").unwrap_or(quota.saturating_sub(left));
        tracing::debug!(connection = %self.connection, class = class.label(), quota, used, left, "Smartup limits");
        // Pace by it: a tenth of the day's quota left is worth saying before the run stops.
        if left > 0 && left * 10 <= quota {
            tracing::warn!(
                connection = %self.connection,
                "Smartup's daily quota of {} requests is nearly used up: {left} of {quota} left until midnight UTC",
                class.label()
            );
        }
        // Shown on the quota gauge beside Tiltas' own count; the day turns at midnight UTC.
        let midnight = (Utc::now().date_naive() + Duration::days(1))
            .and_hms_opt(0, 0, 0)
            .map(|at| at.and_utc());
        self.gate.report(crate::RemoteQuota {
            name: class.label().to_owned(),
            used,
            limit: quota,
            resets_at: midnight,
        });
        let mut limits = self.limits.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        limits.insert(
            class,
            Limits {
                quota,
                used,
                left,
                day: Utc::now().date_naive(),
            },
        );
    }

    /// The quota failure of `class`: used up, resuming at midnight.
    fn quota_failure(&self, what: &str, class: QuotaClass, limits: Option<Limits>, said: &str) -> ConnectorError {
        let resumes = next_midnight();
        let of = limits.map_or_else(String::new, |limits| format!(" ({} of {})", limits.used, limits.quota));
        let mut error = ConnectorError::new(
            ErrorKind::Quota,
            format!(
                "{what}: connection `{}`: Smartup's daily quota of {} requests is used up{of}; the flow resumes at {} \
                 UTC, when the quota renews{}",
                self.connection,
                class.label(),
                resumes.format("%Y-%m-%d %H:%M"),
                if said.is_empty() {
                    ". Nothing was sent past the quota".to_owned()
                } else {
                    format!(". Smartup said: {said}")
                }
            ),
        )
        .with_fix("wait until the quota renews, sync less often, or ask Smartup for a larger quota");
        error.retry_after = (resumes - Utc::now()).to_std().ok();
        error
    }

    /// Sends one call of `endpoint`; the JSON answer, or its failure.
    async fn call(&self, endpoint: &Endpoint, action: &str, body: &Object) -> Result<Value, ConnectorError> {
        let what = format!("POST /b/{}${action}", endpoint.path);
        // Stop before exceeding the day's quota: the last answer said none is left.
        if let Some(limits) = self.limits(endpoint.class).filter(|limits| limits.left == 0) {
            return Err(self.quota_failure(&what, endpoint.class, Some(limits), ""));
        }
        let mut body = body.clone();
        if let Some(code) = &self.filial_code {
            body.entry("filial_code").or_insert_with(|| Value::String(code.clone()));
        }
        let mut request = self
            .http
            .post(format!("{}/b/{}${action}", self.base, endpoint.path))
            .basic_auth(&self.login, Some(&self.password))
            .header("project_code", &self.project_code)
            .json(&body);
        if let Some(filial) = &self.filial_id {
            request = request.header("filial_id", filial);
        }
        let reply = crate::http::exchange(self.gate.as_ref(), &what, request).await?;
        let answer = if reply.status.is_success() {
            crate::http::json_answer(&what, &reply.text)?
        } else {
            reply.body()
        };
        self.keep_limits(endpoint.class, &answer);
        let code = answer.get("error_code").and_then(Value::as_str).unwrap_or_default();
        if reply.status.is_success() && code.is_empty() {
            return Ok(answer);
        }
        Err(self.failure(&reply, endpoint.class, code, &answer))
    }

    /// The failure of an answer with Smartup's `error_code` (or none).
    fn failure(&self, reply: &crate::http::Reply, class: QuotaClass, code: &str, answer: &Value) -> ConnectorError {
        let said = answer
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| crate::http::quote(answer));
        let said = if code.is_empty() {
            said
        } else {
            format!("{code}: {said}")
        };
        let left = self.limits(class).map(|limits| limits.left);
        if code == wire::QUOTA_EXHAUSTED || (left == Some(0) && matches!(reply.status.as_u16(), 403 | 429)) {
            return self.quota_failure(&reply.what, class, self.limits(class), &said);
        }
        if code == wire::WRONG_FILIAL {
            return ConnectorError::new(
                ErrorKind::Auth,
                format!(
                    "{}: connection `{}`: the user {} cannot work in filial_id {:?} ({said}): set `filial_id` to an \
                     organisation the user has access to (Smartup: the user's organisations), or leave it out for the \
                     one the user logs in to",
                    reply.what,
                    self.connection,
                    self.login,
                    self.filial_id.as_deref().unwrap_or("")
                ),
            )
            .with_fix("set `filial_id` to an organisation the user can reach");
        }
        if reply.status.is_success() {
            // An error in an HTTP 200: Smartup refused the request itself.
            return ConnectorError::new(
                ErrorKind::Invalid,
                format!("{}: Smartup refused it: {said}", reply.what),
            );
        }
        reply.failure(&said, "login` and `password")
    }

    /// The objects of an `$export` of `endpoint` with `filters`.
    pub async fn export(&self, endpoint: &Endpoint, filters: Object) -> Result<Vec<Object>, ConnectorError> {
        let answer = self.call(endpoint, "export", &filters).await?;
        match answer.get(endpoint.key) {
            Some(Value::Array(objects)) => Ok(objects
                .iter()
                .filter_map(|object| object.as_object().cloned())
                .collect()),
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(other) => Err(ConnectorError::new(
                ErrorKind::Transient,
                format!(
                    "POST /b/{}$export: `{}` is not a list of objects: {} — the answer is not Smartup's",
                    endpoint.path,
                    endpoint.key,
                    crate::http::quote(other)
                ),
            )),
        }
    }

    /// Sends `objects` (at most 5 000) to `$import` (or `$change_status`) of `endpoint`.
    pub async fn import(
        &self,
        endpoint: &Endpoint,
        action: &str,
        objects: Vec<Value>,
    ) -> Result<ImportAnswer, ConnectorError> {
        let mut body = Object::new();
        body.insert(endpoint.key.to_owned(), Value::Array(objects));
        let answer = self.call(endpoint, action, &body).await?;
        let list = |field: &str| -> Result<Vec<Object>, ConnectorError> {
            match answer.get(field) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(items)) => Ok(items.iter().filter_map(|item| item.as_object().cloned()).collect()),
                Some(other) => Err(ConnectorError::new(
                    ErrorKind::Transient,
                    format!(
                        "POST /b/{}${action}: `{field}` is not a list: {} — the answer is not Smartup's; the objects \
                         may have been taken, so they are looked up before any resend",
                        endpoint.path,
                        crate::http::quote(other)
                    ),
                )),
            }
        };
        Ok(ImportAnswer {
            successes: list("successes")?,
            errors: list("errors")?,
        })
    }

    /// The company's integration settings (`shared/seeds/002_…`).
    pub async fn company_settings(&self) -> Result<IntegrationSettings, ConnectorError> {
        let answer = self.call(&wire::INTEGRATION_SETTING, "export", &Object::new()).await?;
        let settings = answer
            .get(wire::INTEGRATION_SETTING.key)
            .cloned()
            .unwrap_or(Value::Null);
        serde_json::from_value(settings).map_err(|error| {
            ConnectorError::new(
                ErrorKind::Transient,
                format!(
                    "POST /b/{}$export: the company's integration settings cannot be read ({error}): {}",
                    wire::INTEGRATION_SETTING.path,
                    crate::http::quote(&answer)
                ),
            )
        })
    }

    /// Checks the connection's `code` against the company's «Использует код».
    pub fn check_code(&self, settings: &IntegrationSettings) -> Result<(), ConnectorError> {
        let company = settings.code_use.as_str();
        match self.code.as_deref() {
            Some(expected) if expected != company => Err(ConnectorError::new(
                ErrorKind::Fatal,
                format!(
                    "connection `{}` says code = \"{expected}\", but the Smartup company identifies items by their \
                     {company} code (Главное → Настройки интеграции со сторонними ПО → Использует код): items would be \
                     matched by the wrong code and created twice. Set code = \"{company}\" on the connection, or \
                     change the setting in Smartup",
                    self.connection
                ),
            )
            .with_fix(format!("set code = \"{company}\" on the connection"))),
            _ => Ok(()),
        }
    }

    /// The connection's name, for messages.
    pub fn connection(&self) -> &str {
        &self.connection
    }
}
