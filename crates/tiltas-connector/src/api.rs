//! The contract between the engine and a connector.
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// One record read from a source, already in canonical JSON form (see `tiltas-model`), with the
/// source system's own fields under `raw`.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord {
    /// The record's key in the source system (SKU, id, e-mail, …): stable across runs.
    pub key: String,
    /// When the source last changed it, when the source knows.
    pub updated_at: Option<DateTime<Utc>>,
    /// The canonical record as JSON, plus `"raw": {…}` with the system's own fields.
    pub data: serde_json::Value,
}

/// A record the source could not turn into a canonical record (bad value, parse error).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordFailure {
    /// The record's key when it could be read, else a position such as `row 17`.
    pub key: String,
    /// Where in the source: `products.csv:17` (file and row), an id, a page.
    pub location: String,
    /// What is wrong, naming the field and the fix: the whole sentence a person reads.
    pub message: String,
    /// The raw input, for the dead-letter inbox.
    pub raw: serde_json::Value,
    /// The canonical field at fault (`price_net`, `lines[2].sku`), when one is.
    pub field: Option<String>,
    /// What to change, on its own (also said in `message`), when the connector knows it.
    pub fix: Option<String>,
}

impl RecordFailure {
    /// A failure of the record `key` at `location`, with no field or fix singled out.
    pub fn new(
        key: impl Into<String>,
        location: impl Into<String>,
        message: impl Into<String>,
        raw: serde_json::Value,
    ) -> Self {
        Self {
            key: key.into(),
            location: location.into(),
            message: message.into(),
            raw,
            field: None,
            fix: None,
        }
    }

    /// The same failure, naming the canonical field at fault.
    #[must_use]
    pub fn at_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// The same failure, with what to change.
    #[must_use]
    pub fn with_fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// One page of a read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    /// Records in source order; a bad record is a failure in place, never a failed page.
    pub records: Vec<Result<SourceRecord, RecordFailure>>,
    /// Where the next page starts; `None` when this was the last page.
    pub next: Option<String>,
    /// Calls made to the external system for this page.
    pub api_calls: u64,
}

/// What a read starts from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadRequest {
    /// The position returned by the previous page of this read (`Page::next`), `None` to start.
    pub position: Option<String>,
    /// For incremental sources: only records changed at or after this time.
    pub changed_since: Option<DateTime<Utc>>,
    /// The largest number of records wanted in the page.
    pub page_size: usize,
}

/// The class of a connector failure, which decides what the engine does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Try again later (5xx, timeout, connection reset).
    Transient,
    /// Wait, then try again (429); see `ConnectorError::retry_after`.
    RateLimited,
    /// Credentials refused.
    Auth,
    /// The record or request is wrong and will stay wrong.
    Invalid,
    /// The configuration or environment is wrong (missing file, unwritable directory).
    Fatal,
    /// The connection's daily request budget is used up; see the message for when it resets.
    Quota,
}

/// A failed connector call.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ConnectorError {
    /// What the engine should do.
    pub kind: ErrorKind,
    /// For a person: what, where, and the fix.
    pub message: String,
    /// How long the server asked to wait.
    pub retry_after: Option<std::time::Duration>,
    /// Where in the request or record (`document line 2`, `row 17`), when the system said.
    pub location: Option<String>,
    /// The canonical field at fault (`customer.code`, `lines[0].sku`), when one is.
    pub field: Option<String>,
    /// What to change, on its own (also said in `message`), when known.
    pub fix: Option<String>,
}

impl ConnectorError {
    /// A failure of the given kind.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            retry_after: None,
            location: None,
            field: None,
            fix: None,
        }
    }

    /// The same failure, saying where in the request or record.
    #[must_use]
    pub fn at(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }

    /// The same failure, naming the canonical field at fault.
    #[must_use]
    pub fn at_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// The same failure, with what to change.
    #[must_use]
    pub fn with_fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// One record to write.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteItem {
    /// The record's key in the flow's source (for reporting).
    pub source_key: String,
    /// The record's id in the target when it exists there (an update), else `None` (a create).
    pub target_id: Option<String>,
    /// The mapped payload: canonical JSON plus `raw` fields for the target system.
    pub payload: serde_json::Value,
}

/// How one written record ended.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOutcome {
    /// Written; the record's id in the target.
    Written {
        /// The id the target gave or kept.
        target_id: String,
    },
    /// Refused.
    Failed(ConnectorError),
}

/// Result of a batch: one outcome per item, in order, plus the calls it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchResult {
    /// One per item, in input order.
    pub outcomes: Vec<WriteOutcome>,
    /// Calls made to the external system.
    pub api_calls: u64,
}

impl PartialEq for ConnectorError {
    fn eq(&self, other: &Self) -> bool {
        // The parts beside the message are derived from the same answer; the kind and the
        // sentence decide whether two failures are the same.
        self.kind == other.kind && self.message == other.message
    }
}

/// Reads one entity from a system, page by page.
#[async_trait]
pub trait Source: Send {
    /// Reads the page at `request.position`.
    async fn read_page(&mut self, request: &ReadRequest) -> Result<Page, ConnectorError>;

    /// Whether a record that reached the engine another way (a webhook delivery) is one a read
    /// of this source would return: `Err(reason)` when the flow's source settings leave it out
    /// (an order whose status is not in `statuses`, …), so deliveries pass the same filters as
    /// polling.
    fn admits(&self, _record: &SourceRecord) -> Result<(), String> {
        Ok(())
    }

    /// Called by the engine once everything read so far is durably settled (delivered or
    /// dead-lettered, the cursor saved): after each page, with the page's `next` (`None` after
    /// the last page). A source that must not act before then does it here — a file drop moves
    /// a fully read file to `done/`. Never called in a dry run; an error stops the run (what
    /// was settled stays settled).
    async fn settled(&mut self, position: Option<&str>) -> Result<(), ConnectorError> {
        let _ = position;
        Ok(())
    }
}

/// A record the target already holds, found by its match key.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundRecord {
    /// The record's id in the target.
    pub target_id: String,
    /// The record as the target holds it (canonical JSON), when the target returns it.
    pub data: Option<serde_json::Value>,
}

/// Result of a look-up: the keys found, plus the calls it cost.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lookup {
    /// Found records by match key; keys not found are absent.
    pub found: std::collections::HashMap<String, FoundRecord>,
    /// Calls made to the external system.
    pub api_calls: u64,
}

/// Writes one entity to a system, batch by batch.
#[async_trait]
pub trait Target: Send {
    /// The largest batch the target accepts.
    fn max_batch(&self) -> usize;

    /// Whether [`Target::lookup`] can find records by key. Without it the engine cannot adopt
    /// records the target already has, nor verify an uncertain write before resending it.
    fn can_lookup(&self) -> bool {
        false
    }

    /// Finds records by match key: the value of the flow's `match_on` field, or the entity's
    /// natural key when `match_on` is `None`. One call (or a few) for the whole list.
    async fn lookup(&mut self, match_on: Option<&str>, keys: &[String]) -> Result<Lookup, ConnectorError> {
        let _ = (match_on, keys);
        Ok(Lookup::default())
    }

    /// Refuses, before anything is written for it (an order's buyer, its products), a record
    /// this target can never write as it is: `Err` names the field and the fix (a currency the
    /// target does not book, a fee without a service code to invoice it under, …).
    fn precheck(&self, payload: &serde_json::Value) -> Result<(), String> {
        let _ = payload;
        Ok(())
    }

    /// Writes a batch; a bad item fails alone, the rest are still written.
    async fn write_batch(&mut self, items: Vec<WriteItem>) -> Result<BatchResult, ConnectorError>;

    /// What the target now holds for a record the last batch wrote, in the canonical form its
    /// source side reads — so a reverse flow recognises its own write when it reads it back
    /// (echo suppression). `None`: the sent payload is what a read will return.
    fn stored(&self, target_id: &str) -> Option<serde_json::Value> {
        let _ = target_id;
        None
    }

    /// Makes everything written so far durable (a file target renames its temporary file into
    /// place here). Called once at the end of every run that wrote something.
    async fn finish(&mut self) -> Result<(), ConnectorError>;
}

/// A limit a system reports about itself in its answers — Smartup's `limits` per quota class,
/// a daily request package — shown beside Tiltas' own count of the connection's requests.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RemoteQuota {
    /// The system's name for it (a quota class: `reference`).
    pub name: String,
    /// Used so far in its period.
    pub used: u64,
    /// Allowed in its period.
    pub limit: u64,
    /// When it starts afresh, when the system says or documents it.
    pub resets_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Admits every request a connector sends to its system: the engine's pacing (`rate_limit`)
/// and budget (`daily_budget`) of the connection. Connectors that make no requests ignore it.
#[async_trait]
pub trait CallGate: Send + Sync {
    /// Waits for the request's turn; an error (kind `Quota`) means it must not be sent.
    async fn admit(&self) -> Result<(), ConnectorError>;

    /// Hears a limit the system reported in an answer (the latest of each name is kept).
    fn report(&self, quota: RemoteQuota) {
        let _ = quota;
    }

    /// Hears that the system refused a request for the rate (429): every request of the
    /// connection waits `wait` before it goes, so the calls running beside the refused one do
    /// not meet the same refusal.
    fn hold(&self, wait: std::time::Duration) {
        let _ = wait;
    }
}

/// A gate that admits everything at once (no rate limit, no budget).
pub struct OpenGate;

#[async_trait]
impl CallGate for OpenGate {
    async fn admit(&self) -> Result<(), ConnectorError> {
        Ok(())
    }
}
