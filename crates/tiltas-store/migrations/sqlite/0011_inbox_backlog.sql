-- The inbox backlog per connection, counted on every webhook request that finds the cached
-- count stale and by the inbox worker after each round: pending deliveries by connection,
-- so the count reads this index alone, never the deliveries' bodies.
CREATE INDEX inbox_pending_connection ON inbox (connection) WHERE done_at IS NULL;
