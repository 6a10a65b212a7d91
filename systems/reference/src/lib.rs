//! The reference system (`system = "reference"`): the JSON REST contract of
//! `docs/reference-api.md`, which an in-house system can implement to be synced by Tiltas.
//! Client, source and target here; the simulator in [`simulator`].
#![forbid(unsafe_code)]

use async_trait::async_trait;
use serde_json::{json, Value};
use std::sync::Arc;
use tiltas_config::{EntityAccess, KeyKind, KeySpec, SystemSpec};
#[allow(unused_imports)] // modules of this crate name the contract as `crate::Source`
use tiltas_connector::*;
use tiltas_connector::{
    BatchResult, CallGate, ConnectorError, ErrorKind, FoundRecord, Lookup, OpenContext, Page, ReadRequest, Source,
    SourceRecord, System, Target, WriteItem, WriteOutcome,
};
use tiltas_model::EntityKind;

/// Records per list page the API serves at most.
pub const MAX_PAGE: usize = 500;
/// Items per batch write the API accepts at most.
pub const MAX_BATCH: usize = 100;
/// Values per look-up the API accepts at most.
pub const MAX_LOOKUP: usize = 500;
/// The collections of the API and the entity each holds.
pub const COLLECTIONS: [(&str, EntityKind); 4] = [
    ("products", EntityKind::Product),
    ("customers", EntityKind::Customer),
    ("stock", EntityKind::Stock),
    ("orders", EntityKind::Order),
];

/// The entity of a collection name.
pub fn collection_entity(collection: &str) -> Option<EntityKind> {
    COLLECTIONS
        .iter()
        .find(|(name, _)| *name == collection)
        .map(|(_, entity)| *entity)
}

fn collection_of(entity: EntityKind) -> Option<&'static str> {
    COLLECTIONS
        .iter()
        .find(|(_, kind)| *kind == entity)
        .map(|(name, _)| *name)
}

const ACCESS: [EntityAccess; 4] = [
    EntityAccess {
        entity: EntityKind::Product,
        read: true,
        write: true,
        incremental: true,
    },
    EntityAccess {
        entity: EntityKind::Customer,
        read: true,
        write: true,
        incremental: true,
    },
    EntityAccess {
        entity: EntityKind::Stock,
        read: true,
        write: true,
        incremental: true,
    },
    EntityAccess {
        entity: EntityKind::Order,
        read: true,
        write: true,
        incremental: true,
    },
];

/// `system = "reference"`.
pub static REFERENCE: SystemSpec = SystemSpec {
    name: "reference",
    description: "a system implementing Tiltas' reference JSON REST contract (docs/reference-api.md)",
    connection_keys: &[
        KeySpec {
            name: "base_url",
            kind: KeyKind::Url,
            required: true,
            default: None,
            doc: "the system's address, e.g. http://127.0.0.1:9100",
        },
        KeySpec {
            name: "token",
            kind: KeyKind::Secret,
            required: true,
            default: None,
            doc: "the bearer token",
        },
        KeySpec {
            name: "timeout",
            kind: KeyKind::Duration,
            required: false,
            default: Some("30s"),
            doc: "how long one request may take",
        },
    ],
    source_keys: &[],
    target_keys: &[],
    entities: &ACCESS,
    accounting: false,
    one_of: &[],
    needs: &[],
    money_places: None,
};

/// A reference connection (`[connections.NAME]`), defaults from [`REFERENCE`]'s spec.
#[derive(serde::Deserialize)]
struct ConnectionSettings {
    base_url: String,
    token: tiltas_config::Secret,
    timeout: std::time::Duration,
}

/// An HTTP client for one connection.
#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
    gate: Arc<dyn CallGate>,
}

impl Client {
    fn new(context: &OpenContext<'_>) -> Result<Client, ConnectorError> {
        let connection: ConnectionSettings = context.connection_settings(&REFERENCE)?;
        Ok(Client {
            http: crate::http::client(connection.timeout)?,
            base: connection.base_url.trim_end_matches('/').to_owned(),
            token: crate::http::reveal(&connection.token)?,
            gate: context.gate.clone(),
        })
    }

    /// Sends a request and reads a JSON answer; failures are classified for the engine.
    async fn call(&self, request: reqwest::RequestBuilder, what: &str) -> Result<Value, ConnectorError> {
        let reply = crate::http::exchange(self.gate.as_ref(), what, request.bearer_auth(&self.token)).await?;
        reply.json("token", |body| {
            body.pointer("/error/message")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
    }
}

/// Splits a stored record into the canonical record (with `raw.id` and `raw.updated_at`),
/// its id and its modification time.
fn canonical(mut record: Value) -> Option<(String, Option<chrono::DateTime<chrono::Utc>>, Value)> {
    let fields = record.as_object_mut()?;
    let id = match fields.remove("id")? {
        Value::String(id) => id,
        other => other.to_string(),
    };
    let updated = fields.remove("updated_at");
    let updated_at = updated
        .as_ref()
        .and_then(Value::as_str)
        .and_then(|text| chrono::DateTime::parse_from_rfc3339(text).ok())
        .map(|at| at.with_timezone(&chrono::Utc));
    fields.insert("raw".to_owned(), json!({ "id": id, "updated_at": updated }));
    Some((id, updated_at, record))
}

/// Reads one collection, oldest change first, by the compound cursor (updated_at, id).
struct ReferenceSource {
    client: Client,
    collection: &'static str,
}

#[async_trait]
impl Source for ReferenceSource {
    async fn read_page(&mut self, request: &ReadRequest) -> Result<Page, ConnectorError> {
        let mut query: Vec<(&str, String)> = vec![("limit", request.page_size.clamp(1, MAX_PAGE).to_string())];
        match request
            .position
            .as_deref()
            .and_then(|position| position.split_once('|'))
        {
            Some((after, id)) => {
                query.push(("updated_after", after.to_owned()));
                query.push(("after_id", id.to_owned()));
            }
            None => {
                if let Some(since) = request.changed_since {
                    query.push((
                        "updated_after",
                        since.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    ));
                }
            }
        }
        let url = format!("{}/api/{}", self.client.base, self.collection);
        let body = self
            .client
            .call(self.client.http.get(&url).query(&query), &format!("GET {url}"))
            .await?;
        let items = body.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
        let records = items
            .into_iter()
            .map(|item| match canonical(item.clone()) {
                Some((key, updated_at, data)) => Ok(SourceRecord { key, updated_at, data }),
                None => Err(crate::RecordFailure::new(
                    "(no id)",
                    url.clone(),
                    "a record without `id`: the system breaks the reference contract",
                    item,
                )),
            })
            .collect();
        let next = body.get("next").filter(|next| !next.is_null()).and_then(|next| {
            Some(format!(
                "{}|{}",
                next.get("updated_after")?.as_str()?,
                next.get("after_id")?.as_str()?
            ))
        });
        Ok(Page {
            records,
            next,
            api_calls: 1,
        })
    }
}

/// Writes one collection in batches; finds records by key.
struct ReferenceTarget {
    client: Client,
    collection: &'static str,
}

#[async_trait]
impl Target for ReferenceTarget {
    fn max_batch(&self) -> usize {
        MAX_BATCH
    }

    fn can_lookup(&self) -> bool {
        true
    }

    async fn lookup(&mut self, match_on: Option<&str>, keys: &[String]) -> Result<Lookup, ConnectorError> {
        let field = match_on.unwrap_or("natural_key");
        let url = format!("{}/api/{}/lookup", self.client.base, self.collection);
        let mut lookup = Lookup::default();
        for chunk in keys.chunks(MAX_LOOKUP) {
            let request = self
                .client
                .http
                .post(&url)
                .json(&json!({ "field": field, "values": chunk }));
            let body = self.client.call(request, &format!("POST {url}")).await?;
            lookup.api_calls += 1;
            for record in body.get("found").and_then(Value::as_array).cloned().unwrap_or_default() {
                let key = match field {
                    "natural_key" => tiltas_model::natural_key(
                        collection_entity(self.collection).unwrap_or(EntityKind::Product),
                        &record,
                    ),
                    path => path
                        .split('.')
                        .try_fold(&record, |value, segment| value.get(segment))
                        .and_then(|value| match value {
                            Value::String(text) => Some(text.clone()),
                            Value::Number(number) => Some(number.to_string()),
                            _ => None,
                        }),
                };
                if let (Some(key), Some((id, _, data))) = (key, canonical(record)) {
                    // The oldest record wins when the system holds duplicates.
                    lookup.found.entry(key).or_insert(FoundRecord {
                        target_id: id,
                        data: Some(data),
                    });
                }
            }
        }
        Ok(lookup)
    }

    async fn write_batch(&mut self, items: Vec<WriteItem>) -> Result<BatchResult, ConnectorError> {
        let url = format!("{}/api/{}/batch", self.client.base, self.collection);
        let operations: Vec<Value> = items
            .iter()
            .map(|item| {
                let mut record = item.payload.clone();
                if let Some(fields) = record.as_object_mut() {
                    fields.remove("raw");
                }
                match &item.target_id {
                    Some(id) => json!({ "op": "update", "id": id, "record": record }),
                    None => json!({ "op": "create", "record": record }),
                }
            })
            .collect();
        let request = self.client.http.post(&url).json(&json!({ "items": operations }));
        let body = self.client.call(request, &format!("POST {url}")).await?;
        let results = body
            .get("results")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if results.len() != items.len() {
            return Err(ConnectorError::new(
                ErrorKind::Transient,
                format!(
                    "POST {url}: {} results for {} items: the system breaks the reference contract",
                    results.len(),
                    items.len()
                ),
            ));
        }
        let outcomes = results
            .into_iter()
            .map(|result| match result.get("id").and_then(Value::as_str) {
                Some(id) if result.get("error").is_none() => WriteOutcome::Written {
                    target_id: id.to_owned(),
                },
                _ => {
                    let status = result.get("status").and_then(Value::as_u64).unwrap_or(400);
                    let message = result
                        .pointer("/error/message")
                        .and_then(Value::as_str)
                        .unwrap_or("refused without a message");
                    let kind = if status >= 500 {
                        ErrorKind::Transient
                    } else {
                        ErrorKind::Invalid
                    };
                    WriteOutcome::Failed(ConnectorError::new(kind, format!("refused ({status}): {message}")))
                }
            })
            .collect();
        Ok(BatchResult { outcomes, api_calls: 1 })
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        Ok(())
    }
}

fn collection_for(context: &OpenContext<'_>) -> Result<&'static str, ConnectorError> {
    collection_of(context.entity).ok_or_else(|| {
        ConnectorError::new(
            ErrorKind::Fatal,
            format!("the reference system has no collection for {}", context.entity),
        )
    })
}

/// The reference system: the worked example of a system (see docs/adding-a-system.md).
pub struct ReferenceSystem;

impl System for ReferenceSystem {
    fn spec(&self) -> &'static SystemSpec {
        &REFERENCE
    }

    fn readme(&self) -> Option<tiltas_connector::Readme> {
        tiltas_connector::readme!()
    }

    fn open_source(&self, context: &OpenContext<'_>) -> Result<Box<dyn Source>, ConnectorError> {
        Ok(Box::new(ReferenceSource {
            client: Client::new(context)?,
            collection: collection_for(context)?,
        }))
    }

    fn open_target(&self, context: &OpenContext<'_>) -> Result<Box<dyn Target>, ConnectorError> {
        Ok(Box::new(ReferenceTarget {
            client: Client::new(context)?,
            collection: collection_for(context)?,
        }))
    }
}

#[cfg(test)]
mod tests;

tiltas_connector::test_registry!(&crate::ReferenceSystem, &tiltas_files::JsonlSystem);
