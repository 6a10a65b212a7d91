//! The webhook inbox ([`Inbox`]): deliveries kept until processed, claimed by one worker, and
//! what became of each.
use crate::*;
use async_trait::async_trait;
use std::collections::HashMap;

/// The webhook inbox: deliveries accepted, processed and what became of them.
#[async_trait]
pub trait Inbox: Send + Sync {
    /// Keeps a webhook delivery durably (before the sender is answered); returns its id.
    async fn inbox_add(&self, event: &NewInboxEvent) -> StoreResult<i64>;

    /// Deliveries not yet taken by the flows, oldest first.
    async fn inbox_pending(&self, limit: u32) -> StoreResult<Vec<InboxEvent>>;

    /// Marks deliveries taken (`error`: taken, but what they carried could not be used).
    async fn inbox_done(&self, ids: &[i64], error: Option<&str>) -> StoreResult<()>;

    /// Counts a failed attempt at delivering; the event stays pending.
    async fn inbox_attempt_failed(&self, id: i64, error: &str) -> StoreResult<()>;

    /// How many deliveries are pending.
    async fn inbox_backlog(&self) -> StoreResult<u64>;

    /// Settles deliveries in one transaction, keeping what became of each: the record it
    /// carried and what every flow it went through did with it (or why it was unusable).
    async fn inbox_settle(&self, settlements: &[InboxSettlement]) -> StoreResult<()>;

    /// Deliveries matching a filter, newest first, with what became of them.
    async fn inbox_deliveries(&self, filter: &DeliveryFilter) -> StoreResult<Vec<Delivery>>;

    /// The activity of these source keys in one run of a flow, keyed by source key (the
    /// newest entry of a key; keys without activity are absent: they were unchanged).
    async fn activity_outcomes(
        &self,
        run: RunId,
        flow: &str,
        source_keys: &[String],
    ) -> StoreResult<HashMap<String, RecordOutcome>>;
}

/// Implements [`Inbox`] for a SQL store (`$db`: its sqlx database).
macro_rules! sql_inbox {
    ($store:ident, $db:ty, $backend:expr) => {
        mod inbox_implementation {
            use super::$store;
            use $crate::sql::*;
            use $crate::*;
            use async_trait::async_trait;
            use sqlx::{QueryBuilder, Row};
            use std::collections::HashMap;

            #[async_trait]
            impl Inbox for $store {
            async fn inbox_add(&self, event: &NewInboxEvent) -> StoreResult<i64> {
                sqlx::query_scalar(
                    "INSERT INTO inbox (connection, topic, body, received_at) VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(&event.connection)
                .bind(&event.topic)
                .bind(&event.body)
                .bind(now())
                .fetch_one(&self.pool)
                .await
                .map_err(query_error("inbox_add"))
            }

            async fn inbox_pending(&self, limit: u32) -> StoreResult<Vec<InboxEvent>> {
                let rows = sqlx::query(
                    "SELECT id, connection, topic, body, received_at, attempts FROM inbox \
                     WHERE done_at IS NULL ORDER BY id LIMIT $1",
                )
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(query_error("inbox_pending"))?;
                rows.iter()
                    .map(|row| {
                        Ok(InboxEvent {
                            id: row.try_get(0).map_err(query_error("inbox_pending"))?,
                            connection: row.try_get(1).map_err(query_error("inbox_pending"))?,
                            topic: row.try_get(2).map_err(query_error("inbox_pending"))?,
                            body: row.try_get(3).map_err(query_error("inbox_pending"))?,
                            received_at: timestamp(row.try_get(4).map_err(query_error("inbox_pending"))?),
                            attempts: row.try_get(5).map_err(query_error("inbox_pending"))?,
                        })
                    })
                    .collect()
            }

            async fn inbox_done(&self, ids: &[i64], error: Option<&str>) -> StoreResult<()> {
                let at = now();
                for chunk in ids.chunks(CHUNK) {
                    let mut query = QueryBuilder::<$db>::new("UPDATE inbox SET done_at = ");
                    query.push_bind(at).push(", error = ").push_bind(error).push(" WHERE id IN (");
                    let mut separated = query.separated(", ");
                    for id in chunk {
                        separated.push_bind(*id);
                    }
                    query.push(")");
                    query.build().execute(&self.pool).await.map_err(query_error("inbox_done"))?;
                }
                Ok(())
            }

            async fn inbox_attempt_failed(&self, id: i64, error: &str) -> StoreResult<()> {
                sqlx::query("UPDATE inbox SET attempts = attempts + 1, error = $1 WHERE id = $2")
                    .bind(error)
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(query_error("inbox_attempt_failed"))?;
                Ok(())
            }

            async fn inbox_backlog(&self) -> StoreResult<u64> {
                let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM inbox WHERE done_at IS NULL")
                    .fetch_one(&self.pool)
                    .await
                    .map_err(query_error("inbox_backlog"))?;
                Ok(u64::try_from(count).unwrap_or(0))
            }

            async fn inbox_settle(&self, settlements: &[InboxSettlement]) -> StoreResult<()> {
                let at = now();
                let mut tx = self.pool.begin().await.map_err(query_error("inbox_settle"))?;
                // One statement per delivery, all in one transaction: each row gets its own
                // note and key, and a round settles at most a few hundred.
                for settlement in settlements {
                    sqlx::query(
                        "UPDATE inbox SET done_at = $1, error = $2, entity = $3, record_key = $4, settles = settles + 1 \
                         WHERE id = $5",
                    )
                    .bind(at)
                    .bind(&settlement.note)
                    .bind(settlement.entity.map(|entity| entity.as_str()))
                    .bind(&settlement.record_key)
                    .bind(settlement.id)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_error("inbox_settle"))?;
                }
                let rows: Vec<(i64, &DeliveryFlow)> = settlements
                    .iter()
                    .flat_map(|settlement| settlement.flows.iter().map(move |flow| (settlement.id, flow)))
                    .collect();
                let rows = last_per_key(&rows, |(id, flow)| (*id, flow.flow.clone()));
                for chunk in rows.chunks(CHUNK) {
                    let mut query = QueryBuilder::<$db>::new(
                        "INSERT INTO inbox_flow (inbox_id, flow, run, outcome, activity, target_id, detail) ",
                    );
                    query.push_values(chunk, |mut row, (id, flow)| {
                        row.push_bind(*id)
                            .push_bind(&flow.flow)
                            .push_bind(flow.run)
                            .push_bind(flow.outcome.as_str())
                            .push_bind(flow.activity)
                            .push_bind(&flow.target_id)
                            .push_bind(&flow.detail);
                    });
                    query.push(
                        " ON CONFLICT (inbox_id, flow) DO UPDATE SET run = excluded.run, outcome = excluded.outcome, \
                         activity = excluded.activity, target_id = excluded.target_id, detail = excluded.detail",
                    );
                    query.build().execute(&mut *tx).await.map_err(query_error("inbox_settle"))?;
                }
                tx.commit().await.map_err(query_error("inbox_settle"))
            }

            async fn inbox_deliveries(&self, filter: &DeliveryFilter) -> StoreResult<Vec<Delivery>> {
                let error = || query_error("inbox_deliveries");
                let mut query = QueryBuilder::<$db>::new(
                    "SELECT id, connection, topic, received_at, done_at, attempts, error, entity, record_key \
                     FROM inbox WHERE 1 = 1",
                );
                if let Some(connection) = &filter.connection {
                    query.push(" AND connection = ").push_bind(connection);
                }
                if let Some(before) = filter.before {
                    query.push(" AND id < ").push_bind(before);
                }
                match filter.outcome {
                    None => {}
                    Some(DeliveryOutcome::Pending) => {
                        query.push(" AND done_at IS NULL");
                    }
                    Some(DeliveryOutcome::Unusable) => {
                        query.push(" AND done_at IS NOT NULL AND error IS NOT NULL");
                    }
                    Some(outcome) => {
                        query
                            .push(" AND EXISTS (SELECT 1 FROM inbox_flow f WHERE f.inbox_id = inbox.id AND f.outcome = ")
                            .push_bind(outcome.as_str())
                            .push(")");
                    }
                }
                query.push(" ORDER BY id DESC");
                if filter.limit > 0 {
                    query.push(" LIMIT ").push_bind(i64::from(filter.limit));
                }
                let rows = query.build().fetch_all(&self.pool).await.map_err(error())?;
                let mut deliveries = Vec::with_capacity(rows.len());
                for row in &rows {
                    let entity: Option<String> = row.try_get(7).map_err(error())?;
                    let entity = entity
                        .map(|name| {
                            EntityKind::parse(&name).ok_or_else(|| StoreError::Corrupt {
                                what: "delivery entity",
                                detail: format!("unknown entity {name:?}"),
                            })
                        })
                        .transpose()?;
                    deliveries.push(Delivery {
                        id: row.try_get(0).map_err(error())?,
                        connection: row.try_get(1).map_err(error())?,
                        topic: row.try_get(2).map_err(error())?,
                        received_at: timestamp(row.try_get(3).map_err(error())?),
                        done_at: row.try_get::<Option<i64>, _>(4).map_err(error())?.map(timestamp),
                        attempts: row.try_get(5).map_err(error())?,
                        error: row.try_get(6).map_err(error())?,
                        entity,
                        record_key: row.try_get(8).map_err(error())?,
                        flows: Vec::new(),
                    });
                }
                let position: HashMap<i64, usize> =
                    deliveries.iter().enumerate().map(|(index, delivery)| (delivery.id, index)).collect();
                let ids: Vec<i64> = deliveries.iter().map(|delivery| delivery.id).collect();
                for chunk in ids.chunks(CHUNK) {
                    let mut query = QueryBuilder::<$db>::new(
                        "SELECT inbox_id, flow, run, outcome, activity, target_id, detail FROM inbox_flow WHERE inbox_id IN (",
                    );
                    let mut separated = query.separated(", ");
                    for id in chunk {
                        separated.push_bind(*id);
                    }
                    query.push(") ORDER BY inbox_id, flow");
                    let rows = query.build().fetch_all(&self.pool).await.map_err(error())?;
                    for row in rows {
                        let id: i64 = row.try_get(0).map_err(error())?;
                        let Some(&index) = position.get(&id) else { continue };
                        deliveries[index].flows.push(DeliveryFlow {
                            flow: row.try_get(1).map_err(error())?,
                            run: row.try_get(2).map_err(error())?,
                            outcome: enum_parse(&row.try_get::<String, _>(3).map_err(error())?, "delivery outcome")?,
                            activity: row.try_get(4).map_err(error())?,
                            target_id: row.try_get(5).map_err(error())?,
                            detail: row.try_get(6).map_err(error())?,
                        });
                    }
                }
                Ok(deliveries)
            }

            async fn activity_outcomes(
                &self,
                run: RunId,
                flow: &str,
                source_keys: &[String],
            ) -> StoreResult<HashMap<String, RecordOutcome>> {
                let error = || query_error("activity_outcomes");
                let mut found = HashMap::new();
                for chunk in source_keys.chunks(CHUNK) {
                    let mut query = QueryBuilder::<$db>::new(
                        "SELECT id, source_key, outcome, response FROM activity WHERE run = ",
                    );
                    query.push_bind(run).push(" AND flow = ").push_bind(flow).push(" AND source_key IN (");
                    let mut separated = query.separated(", ");
                    for key in chunk {
                        separated.push_bind(key);
                    }
                    // Oldest first, so a key's newest entry is the one kept.
                    query.push(") ORDER BY id");
                    let rows = query.build().fetch_all(&self.pool).await.map_err(error())?;
                    for row in rows {
                        let key: String = row.try_get(1).map_err(error())?;
                        let response: Option<String> = row.try_get(3).map_err(error())?;
                        found.insert(
                            key,
                            RecordOutcome {
                                activity: row.try_get(0).map_err(error())?,
                                outcome: enum_parse(&row.try_get::<String, _>(2).map_err(error())?, "activity outcome")?,
                                response: response.map(|text| json_parse(&text, "activity response")).transpose()?,
                            },
                        );
                    }
                }
                Ok(found)
            }
            }
        }
    };
}
pub(crate) use sql_inbox;
