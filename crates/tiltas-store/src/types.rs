//! Plain data the store keeps and returns.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tiltas_model::EntityKind;

/// The hub's own id of a business record, shared by all its per-system ids.
pub type HubId = uuid::Uuid;

/// The id of a run.
pub type RunId = i64;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// One link of the identity map: a hub record's id in one connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct XrefLink {
    /// The hub id the link belongs to.
    pub hub_id: HubId,
    /// The entity kind of the record.
    pub entity: EntityKind,
    /// The connection (as named in the configuration).
    pub connection: String,
    /// The record's id in that connection's system.
    pub external_id: String,
    /// Hash of the payload last written to or read from that system, for echo suppression.
    pub last_hash: Option<String>,
}

/// The hash delivered for one source key of a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveredHash {
    /// The record's key in the flow's source.
    pub source_key: String,
    /// Hash of the mapped payload that was delivered.
    pub hash: String,
    /// Hash of the source record and the flow's mapping it was made from, when known.
    pub source_hash: Option<String>,
}

/// What was delivered for one source key: see [`DeliveredHash`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// Hash of the mapped payload that was delivered.
    pub hash: String,
    /// Hash of the source record and mapping it was made from; `None` for rows older than it.
    pub source_hash: Option<String>,
}

/// What a write intent does in the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteOperation {
    /// A new record.
    Create,
    /// An existing record.
    Update,
}

/// A write about to be sent.
#[derive(Debug, Clone, PartialEq)]
pub struct NewIntent {
    /// The flow writing.
    pub flow: String,
    /// The run writing.
    pub run: RunId,
    /// The record's key in the flow's source.
    pub source_key: String,
    /// The target connection.
    pub connection: String,
    /// Create or update.
    pub operation: WriteOperation,
    /// Hash of the payload being sent.
    pub payload_hash: String,
    /// The value the target is searched by to verify the write after a crash (the flow's
    /// match key of the payload); `None` when the payload has none.
    pub match_key: Option<String>,
}

/// A stored write intent.
#[derive(Debug, Clone, PartialEq)]
pub struct Intent {
    /// Store id.
    pub id: i64,
    /// The intent as it was added.
    pub intent: NewIntent,
    /// The whole payload, for an intent a version before match keys left unsettled (its
    /// `match_key` is `None`: recovery takes the key from this).
    pub legacy_payload: Option<serde_json::Value>,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

/// How a write ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentOutcome {
    /// The target accepted it.
    Delivered,
    /// It went to the dead-letter inbox.
    DeadLettered,
    /// It was found already applied when verified after a crash.
    FoundApplied,
    /// It was dropped (e.g. the record was skipped by policy).
    Abandoned,
}

/// The settlement of one intent.
#[derive(Debug, Clone, PartialEq)]
pub struct IntentSettlement {
    /// The intent's id.
    pub id: i64,
    /// How it ended.
    pub outcome: IntentOutcome,
    /// The record's id in the target, when known.
    pub external_id: Option<String>,
}

/// How a run was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunMode {
    /// From the cursor, sending only changes.
    Incremental,
    /// From the beginning, ignoring cursor and delivered hashes.
    Full,
    /// Reads and compares but writes nothing (never stored by the engine; here for completeness).
    DryRun,
    /// Retry or replay of dead letters.
    Replay,
    /// Records a webhook delivered (compared with what was delivered, like an incremental run).
    Webhook,
}

/// How a run ended (or that it has not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Still going (or its worker died; see the lease).
    Running,
    /// Every record was delivered, unchanged or skipped.
    Succeeded,
    /// The run went to its end, but some records failed and wait as dead letters (the run's
    /// `failed` counter says how many): succeeded with failures, so a person scanning runs sees it.
    Partial,
    /// The run stopped early with an error.
    Failed,
    /// An operator cancelled it.
    Cancelled,
}

/// Record counters of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCounters {
    /// Records read from the source.
    pub read: u64,
    /// Records whose mapped payload equals the one delivered before.
    pub unchanged: u64,
    /// Records created in the target.
    pub created: u64,
    /// Records updated in the target.
    pub updated: u64,
    /// Records left alone by a filter or policy.
    pub skipped: u64,
    /// Records that failed (dead-lettered).
    pub failed: u64,
    /// Calls made to external systems.
    pub api_calls: u64,
}

impl RunCounters {
    /// Adds another set of counters to this one.
    pub fn add(&mut self, other: &RunCounters) {
        self.read += other.read;
        self.unchanged += other.unchanged;
        self.created += other.created;
        self.updated += other.updated;
        self.skipped += other.skipped;
        self.failed += other.failed;
        self.api_calls += other.api_calls;
    }
}

/// A run as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Store id.
    pub id: RunId,
    /// The flow run.
    pub flow: String,
    /// How it was started.
    pub mode: RunMode,
    /// How it ended.
    pub status: RunStatus,
    /// Its counters so far.
    pub counters: RunCounters,
    /// Why it failed.
    pub error: Option<String>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
}

/// The class of a failure, which decides what the engine does with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    /// 5xx, timeouts: retried with backoff.
    Transient,
    /// 429: retried after the server's Retry-After.
    RateLimited,
    /// Credentials refused: the flow pauses.
    Auth,
    /// The record itself is wrong (value, missing reference, duplicate, too large, parse).
    Invalid,
    /// The daily budget is used up: paused until the window resets.
    Quota,
}

impl FailureClass {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::Transient => "transient",
            FailureClass::RateLimited => "rate_limited",
            FailureClass::Auth => "auth",
            FailureClass::Invalid => "invalid",
            FailureClass::Quota => "quota",
        }
    }
}

/// A record that could not be delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDeadLetter {
    /// The flow.
    pub flow: String,
    /// The run that failed it.
    pub run: Option<RunId>,
    /// The record's key in the source (a row number when the source gave no key).
    pub source_key: String,
    /// Why, as a class.
    pub class: FailureClass,
    /// Why, for a person: names the field or reference and the fix.
    pub message: String,
    /// Where in the source (`products.csv:17`), when the source said.
    pub location: Option<String>,
    /// The canonical field at fault (`lines[0].sku`), when one is.
    pub field: Option<String>,
    /// What to change, on its own, when known.
    pub fix: Option<String>,
    /// The source record (or raw input) to edit and retry.
    pub payload: serde_json::Value,
}

/// Whether a dead letter still needs attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadLetterStatus {
    /// Waiting for an operator or a later run.
    Open,
    /// Delivered later, or retried successfully.
    Resolved,
}

/// A stored dead letter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Store id.
    pub id: i64,
    /// The flow.
    pub flow: String,
    /// The run that last failed it.
    pub run: Option<RunId>,
    /// The record's key in the source.
    pub source_key: String,
    /// Why, as a class.
    pub class: FailureClass,
    /// Why, for a person.
    pub message: String,
    /// Where in the source, when the source said.
    pub location: Option<String>,
    /// The canonical field at fault, when one is.
    pub field: Option<String>,
    /// What to change, when known.
    pub fix: Option<String>,
    /// The payload to retry with.
    pub payload: serde_json::Value,
    /// How many times it failed.
    pub attempts: u32,
    /// Open or resolved.
    pub status: DeadLetterStatus,
    /// First failure.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Which dead letters to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeadLetterFilter {
    /// Only this flow.
    pub flow: Option<String>,
    /// Only this status.
    pub status: Option<DeadLetterStatus>,
    /// At most this many (0 = no limit).
    pub limit: u32,
}

/// What happened to one record in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityOutcome {
    /// Created in the target.
    Created,
    /// Updated in the target.
    Updated,
    /// Left alone by a filter or policy.
    Skipped,
    /// Dead-lettered.
    Failed,
}

/// One record's activity, with its payloads (already redacted by the engine).
#[derive(Debug, Clone, PartialEq)]
pub struct NewActivity {
    /// The run.
    pub run: RunId,
    /// The flow.
    pub flow: String,
    /// The record's key in the source.
    pub source_key: String,
    /// What happened.
    pub outcome: ActivityOutcome,
    /// What came from the source.
    pub source_payload: Option<serde_json::Value>,
    /// What was sent.
    pub sent_payload: Option<serde_json::Value>,
    /// What the target answered.
    pub response: Option<serde_json::Value>,
}

/// Activity metadata (payloads are fetched separately).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityEntry {
    /// Store id.
    pub id: i64,
    /// The run.
    pub run: RunId,
    /// The flow.
    pub flow: String,
    /// The record's key in the source.
    pub source_key: String,
    /// What happened.
    pub outcome: ActivityOutcome,
    /// When.
    pub at: DateTime<Utc>,
}

/// The payloads of one activity entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityPayloads {
    /// What came from the source.
    pub source_payload: Option<serde_json::Value>,
    /// What was sent.
    pub sent_payload: Option<serde_json::Value>,
    /// What the target answered.
    pub response: Option<serde_json::Value>,
}

/// Which activity to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActivityFilter {
    /// Only this run.
    pub run: Option<RunId>,
    /// Only this flow.
    pub flow: Option<String>,
    /// Only this source key.
    pub source_key: Option<String>,
    /// At most this many (0 = no limit).
    pub limit: u32,
}

/// Everything one settled page produced; applied in one transaction by
/// [`Store::settle_page`](crate::Store::settle_page).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageSettlement {
    /// The flow.
    pub flow: String,
    /// The run the counters go to.
    pub run: Option<RunId>,
    /// Delivered hashes to record.
    pub delivered: Vec<DeliveredHash>,
    /// Identity links to upsert.
    pub xrefs: Vec<XrefLink>,
    /// Intents to settle.
    pub intents: Vec<IntentSettlement>,
    /// New dead letters.
    pub dead_letters: Vec<NewDeadLetter>,
    /// Source keys whose open dead letters are now resolved.
    pub resolved_keys: Vec<String>,
    /// Activity entries.
    pub activity: Vec<NewActivity>,
    /// Counters to add to the run.
    pub counters: RunCounters,
    /// The cursor to save; `None` leaves it as it is.
    pub cursor: Option<String>,
}

/// A held lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The lease's name (e.g. `flow:products-to-shop`).
    pub name: String,
    /// Who holds it.
    pub holder: String,
    /// When it expires unless renewed.
    pub expires_at: DateTime<Utc>,
}

/// The answer to a quota request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaGrant {
    /// Whether the amount was granted.
    pub granted: bool,
    /// The counter after the call.
    pub used: u64,
}

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiScope {
    /// Read state.
    Read,
    /// Also trigger runs and retry dead letters.
    Write,
    /// Also manage keys and connections.
    Admin,
}

/// A key to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    /// A label for people.
    pub name: String,
    /// What it may do.
    pub scope: ApiScope,
    /// [`hash_api_key`](crate::hash_api_key) of the secret.
    pub key_hash: String,
    /// When it stops working (none: never).
    pub expires_at: Option<DateTime<Utc>>,
}

/// A webhook delivery to keep until the flows have taken it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewInboxEvent {
    /// The connection it came for.
    pub connection: String,
    /// The system's topic (`order.created`).
    pub topic: String,
    /// The body, already verified.
    pub body: String,
}

/// A stored webhook delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxEvent {
    /// Store id (delivery order).
    pub id: i64,
    /// The connection it came for.
    pub connection: String,
    /// The system's topic.
    pub topic: String,
    /// The body.
    pub body: String,
    /// When it was accepted.
    pub received_at: DateTime<Utc>,
    /// Delivery attempts so far.
    pub attempts: i64,
}

/// A stored API key (never the secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    /// Store id.
    pub id: i64,
    /// A label for people.
    pub name: String,
    /// What it may do.
    pub scope: ApiScope,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it stops working (none: never).
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was last used (to the minute; none: never).
    #[serde(default)]
    pub last_used_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    /// Whether it has expired at `now`.
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|expires_at| expires_at <= now)
    }
}

/// What became of a webhook delivery (as a whole, or in one flow it went through).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryOutcome {
    /// Not yet settled (waiting for a connection, or its last attempt failed).
    Pending,
    /// Settled, but what it carried could not be used (no record, a bad body, no flow).
    Unusable,
    /// In one flow: created or updated in the target.
    Booked,
    /// In one flow: the same record was delivered before, so nothing was sent.
    Unchanged,
    /// In one flow: left alone by the flow's filter or policy.
    Skipped,
    /// In one flow: it failed and went to the dead-letter inbox.
    DeadLettered,
}

impl DeliveryOutcome {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryOutcome::Pending => "pending",
            DeliveryOutcome::Unusable => "unusable",
            DeliveryOutcome::Booked => "booked",
            DeliveryOutcome::Unchanged => "unchanged",
            DeliveryOutcome::Skipped => "skipped",
            DeliveryOutcome::DeadLettered => "dead_lettered",
        }
    }
}

/// What one flow did with a delivery's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryFlow {
    /// The flow.
    pub flow: String,
    /// The run of the ingest that took the record (none for a dry run).
    pub run: Option<RunId>,
    /// Booked, unchanged, skipped or dead-lettered.
    pub outcome: DeliveryOutcome,
    /// The activity entry of the record in that run (none when unchanged).
    pub activity: Option<i64>,
    /// The record's id in the target, when booked.
    pub target_id: Option<String>,
    /// Why it was skipped, or the dead letter's message.
    pub detail: Option<String>,
}

/// How a delivery is settled by
/// [`Store::inbox_settle`](crate::Store::inbox_settle).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboxSettlement {
    /// The delivery's id.
    pub id: i64,
    /// Why what it carried could not be used (`None`: it went through its flows).
    pub note: Option<String>,
    /// The entity it carried, when it carried a record.
    pub entity: Option<EntityKind>,
    /// The record's key in the source, when it carried a record.
    pub record_key: Option<String>,
    /// What each flow it went through did with it.
    pub flows: Vec<DeliveryFlow>,
}

/// A webhook delivery and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Store id (delivery order).
    pub id: i64,
    /// The connection it came for.
    pub connection: String,
    /// The system's topic (`order.created`).
    pub topic: String,
    /// When it was accepted.
    pub received_at: DateTime<Utc>,
    /// When it was settled (none while pending).
    pub done_at: Option<DateTime<Utc>>,
    /// Failed delivery attempts.
    pub attempts: i64,
    /// The last failed attempt's error while pending; why it was unusable once settled.
    pub error: Option<String>,
    /// The entity it carried, once settled.
    pub entity: Option<EntityKind>,
    /// The record's key in the source, once settled.
    pub record_key: Option<String>,
    /// What each flow did with it, in flow-name order.
    pub flows: Vec<DeliveryFlow>,
}

impl Delivery {
    /// Pending, unusable, or (when it went through its flows) `None`: see `flows`.
    pub fn settled_outcome(&self) -> Option<DeliveryOutcome> {
        match (&self.done_at, &self.error) {
            (None, _) => Some(DeliveryOutcome::Pending),
            (Some(_), Some(_)) => Some(DeliveryOutcome::Unusable),
            (Some(_), None) => None,
        }
    }
}

/// Which deliveries to list (newest first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryFilter {
    /// Only this connection's.
    pub connection: Option<String>,
    /// Only these: pending, unusable, or those with this outcome in any flow.
    pub outcome: Option<DeliveryOutcome>,
    /// Only ids below this one (the next page after the last id seen).
    pub before: Option<i64>,
    /// At most this many (0 = no limit).
    pub limit: u32,
}

/// A record's outcome in one run, from the activity log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordOutcome {
    /// The activity entry.
    pub activity: i64,
    /// What happened.
    pub outcome: ActivityOutcome,
    /// What the target answered (`target_id`, a skip's `reason`, a failure's `message`).
    pub response: Option<serde_json::Value>,
}

/// A request kept by its idempotency key: in progress while a worker holds it, then done with
/// the answer every repeat of the request gets.
#[derive(Debug, Clone, PartialEq)]
pub struct IdempotencyRecord {
    /// What the key guards (`supplier-order`): keys of different scopes never meet.
    pub scope: String,
    /// The key the caller sent.
    pub key: String,
    /// The hash of the request's body: another body under the same key is not a repeat.
    pub request_hash: String,
    /// The worker running the request, while it runs.
    pub holder: Option<String>,
    /// When the holder's claim lapses (a crashed worker's request may then be taken over).
    pub expires_at: DateTime<Utc>,
    /// The answer, once the request is done.
    pub response: Option<serde_json::Value>,
    /// When the key was first claimed.
    pub created_at: DateTime<Utc>,
}

/// What claiming an idempotency key found.
#[derive(Debug, Clone, PartialEq)]
pub enum IdempotencyClaim {
    /// The caller holds the key now (new, or an earlier claim of the same request lapsed): run
    /// the request, then complete or release the key.
    Claimed,
    /// Another worker holds the key, or the request is done, or the key was used for another
    /// request: the record as stored.
    Taken(IdempotencyRecord),
}
