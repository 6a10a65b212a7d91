//! The B1 API client: every call is `POST <base><module>/<entity>/<action>` with a JSON body,
//! signed ([`crate::sign`]); answers are read through the shared HTTP call path and B1's
//! errors become engine failure classes with English messages ([`crate::errors`]).
use crate::sign;
use crate::{CallGate, ConnectorError, ErrorKind};
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// The `rows` values B1 accepts for a list page. Clients disagree (`10,20,25,50,100` vs
/// `10,20,30,50,100,200,500`); B1's help page recommends pages of 200, which only the second
/// set has, so it is taken.
pub const ALLOWED_ROWS: [&str; 7] = ["10", "20", "30", "50", "100", "200", "500"];

/// The platform Tiltas signs as (`B1-Platform`).
pub const PLATFORM: &str = "tiltas";

/// The signing protocol version Tiltas signs as (`B1-Version`).
pub const VERSION: &str = "1.0";

/// A signed client of one connection.
#[derive(Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    base: String,
    api_key: String,
    private_key: String,
    /// Rows of a list page (one of [`ALLOWED_ROWS`]).
    pub rows: usize,
    gate: Arc<dyn CallGate>,
}

/// A successful answer: its code (200, or 480 for a partial completion) and body.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub code: u16,
    pub body: Value,
}

impl Answer {
    /// The id of a created record: `data.id`, or the older top-level `id`.
    pub fn created_id(&self) -> Option<String> {
        let id = self.body.pointer("/data/id").or_else(|| self.body.get("id"))?;
        match id {
            Value::Number(number) => Some(number.to_string()),
            Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
            _ => None,
        }
    }
}

impl Client {
    pub fn new(connection: &crate::ConnectionSettings, gate: Arc<dyn CallGate>) -> Result<Client, ConnectorError> {
        let rows = connection.rows.parse().map_err(|_| {
            ConnectorError::new(ErrorKind::Fatal, format!("rows {:?} is not a number", connection.rows))
        })?;
        Ok(Client {
            http: crate::http::client(connection.timeout)?,
            base: format!("{}/", connection.base_url.trim_end_matches('/')),
            api_key: crate::http::reveal(&connection.api_key)?,
            private_key: crate::http::reveal(&connection.private_key)?,
            rows,
            gate,
        })
    }

    /// Calls `path` (`reference-book/items/list`) with `body`; a success, a partial completion
    /// (480) or the failure of any other answer.
    pub async fn call(&self, path: &str, body: &Value) -> Result<Answer, ConnectorError> {
        let text = body.to_string();
        let time = chrono::Utc::now().timestamp().to_string();
        let length = text.len().to_string();
        let headers = [
            (sign::API_KEY, self.api_key.as_str()),
            ("Content-Type", "application/json"),
            ("Content-Length", length.as_str()),
            (sign::TIME, time.as_str()),
            (sign::VERSION, VERSION),
            (sign::PLATFORM, PLATFORM),
        ];
        let signature = sign::signature(&self.private_key, &headers, text.as_bytes(), sign::Naming::Unprefixed);
        // Content-Length is set by the HTTP client from the body; it is the value signed.
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header(sign::API_KEY, &self.api_key)
            .header("Content-Type", "application/json")
            .header(sign::TIME, &time)
            .header(sign::VERSION, VERSION)
            .header(sign::PLATFORM, PLATFORM)
            .header(sign::SIGNATURE, signature)
            .body(text);
        let what = format!("POST {path}");
        let reply = crate::http::exchange(self.gate.as_ref(), &what, request).await?;
        let status = reply.status.as_u16();
        if reply.status.is_success() || status == 480 {
            let body = crate::http::json_answer(&what, &reply.text)?;
            // B1 also answers HTTP 200 with the failure's code in the body.
            let code = body
                .get("code")
                .and_then(|code| code.as_u64().or_else(|| code.as_str()?.parse().ok()))
                .map_or(status, |code| code as u16);
            if code == 200 || code == 201 || code == 480 {
                return Ok(Answer { code, body });
            }
            return Err(self.failure(&reply, code, &body));
        }
        Err(self.failure(&reply, status, &reply.body()))
    }

    /// The failure of an answer with B1's `code`: the daily request package is a quota
    /// failure saying when it resets; the rest by the shared table with B1's text explained.
    fn failure(&self, reply: &crate::http::Reply, code: u16, body: &Value) -> ConnectorError {
        if crate::errors::package_used_up(body) {
            let resets = body
                .get("resetsAt")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| "at midnight".to_owned());
            let mut error = ConnectorError::new(
                ErrorKind::Quota,
                format!(
                    "{}: B1's daily request package of this company is used up; it resets {}. The flow \
                     resumes then, or sooner with a larger package (B1: Parametrai → Integracijos → Keisti paketą). \
                     B1 said: {}",
                    reply.what,
                    if resets.starts_with("at ") {
                        resets.clone()
                    } else {
                        format!("at {resets}")
                    },
                    crate::errors::texts(body).join("; ")
                ),
            )
            .with_fix("wait for the package to reset, or buy a larger one in B1");
            error.retry_after = chrono::DateTime::parse_from_rfc3339(&resets)
                .ok()
                .and_then(|at| (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).to_std().ok());
            return error;
        }
        let explained = crate::errors::describe(body);
        let status = reqwest::StatusCode::from_u16(code).unwrap_or(reply.status);
        let mut error = crate::http::failure(
            status,
            &reply.what,
            &explained.message,
            "api_key` and `private_key",
            reply.retry_after(),
        );
        error.field = explained.field;
        error.fix = explained.fix.or(error.fix);
        error
    }

    /// One list page: records matching `rules` (joined by `group`, AND or OR) with an id
    /// after `after_id`, in id order, at most `rows` of them.
    pub async fn list(
        &self,
        path: &str,
        group: &str,
        rules: Vec<Value>,
        after_id: Option<i64>,
        rows: usize,
    ) -> Result<Vec<Map<String, Value>>, ConnectorError> {
        let mut filters = json!({ "groupOp": group, "rules": rules });
        // Keyset paging: pages by number shift when records change between calls, a filter
        // on the id does not.
        if let Some(after) = after_id {
            filters = json!({
                "groupOp": "AND",
                "rules": [{ "field": "id", "op": "ge", "data": (after + 1).to_string() }],
                "groups": [filters],
            });
        }
        let body = json!({ "page": 1, "rows": rows, "sidx": "id", "sord": "asc", "filters": filters });
        let answer = self.call(path, &body).await?;
        // Newer answers hold the records in `data`, an older client reads `rows`.
        let records = answer.body.get("data").or_else(|| answer.body.get("rows"));
        match records {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items.iter().filter_map(|item| item.as_object().cloned()).collect()),
            Some(other) => Err(ConnectorError::new(
                ErrorKind::Transient,
                format!(
                    "POST {path}: `data` is not a list of records: {}",
                    crate::http::quote(other)
                ),
            )),
        }
    }

    /// The largest allowed `rows` not above `wanted` and the connection's `rows`.
    pub fn page_rows(&self, wanted: usize) -> usize {
        let limit = if wanted == 0 { self.rows } else { wanted.min(self.rows) };
        ALLOWED_ROWS
            .iter()
            .filter_map(|rows| rows.parse::<usize>().ok())
            .filter(|rows| *rows <= limit)
            .max()
            .unwrap_or(10)
    }

    /// The id of a warehouse named by id or by name.
    pub async fn warehouse_id(&self, warehouse: &str) -> Result<i64, ConnectorError> {
        if let Ok(id) = warehouse.trim().parse::<i64>() {
            return Ok(id);
        }
        let rule = json!({ "field": "name", "op": "eq", "data": warehouse.trim() });
        let found = self
            .list("reference-book/warehouses/list", "AND", vec![rule], None, self.rows)
            .await?;
        found
            .first()
            .and_then(|record| record.get("id")?.as_i64())
            .ok_or_else(|| {
                ConnectorError::new(
                    ErrorKind::Fatal,
                    format!(
                        "B1 has no warehouse named {warehouse:?}: name an existing warehouse by its name or id \
                         (Žinynai → Sandėliai; the id is in the address of the warehouse's page)"
                    ),
                )
                .with_fix("set `warehouse` to an existing B1 warehouse")
            })
    }
}

/// A record's field as text (numbers as written), trimmed, none when blank.
pub(crate) fn text(record: &Map<String, Value>, field: &str) -> Option<String> {
    match record.get(field)? {
        Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}
