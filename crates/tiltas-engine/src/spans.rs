//! The spans of a run, for traces (the binary exports them over OTLP when asked): `run` →
//! `page` → `connector_call` (a source read, a target look-up or write) and `settle_page`,
//! with the attributes an operator searches by — flow, run id, connection, worker id and, for
//! records a webhook brought, their keys. At the default log level they are disabled and cost
//! next to nothing.
use tiltas_config::Flow;
use tiltas_store::RunMode;
use tracing::field::Empty;
use tracing::Span;

/// At most this many record keys on a run's span (a webhook run brings one or a few).
const MAX_KEYS_ON_SPAN: usize = 10;

/// The keys of the records a webhook brought, as one attribute: `"1001"`, `"1001,1002"`, and
/// `"…"` after the first [`MAX_KEYS_ON_SPAN`].
pub(crate) fn record_keys<'k>(keys: impl Iterator<Item = &'k str>) -> Option<String> {
    let mut keys = keys.peekable();
    keys.peek()?;
    let mut joined: Vec<&str> = keys.by_ref().take(MAX_KEYS_ON_SPAN).collect();
    if keys.next().is_some() {
        joined.push("…");
    }
    Some(joined.join(","))
}

/// A count as a span attribute: a number (a `usize` would be exported as text).
pub(crate) fn count(records: usize) -> u64 {
    u64::try_from(records).unwrap_or(u64::MAX)
}

/// A run of a flow; `run_id` is recorded once the store gave it one.
pub(crate) fn run(flow: &Flow, mode: RunMode, dry_run: bool, record_keys: Option<&str>) -> Span {
    tracing::info_span!(
        "run",
        otel.name = %format!("run {}", flow.name),
        flow = %flow.name,
        run_id = Empty,
        mode = ?mode,
        dry_run,
        source.connection = %flow.from.connection,
        target.connection = %flow.to.connection,
        worker = crate::worker_id(),
        record_key = record_keys,
        error = Empty,
    )
}

/// One page of a run (1-based); `records` is recorded once the page was read.
pub(crate) fn page(flow: &Flow, number: u64) -> Span {
    tracing::info_span!("page", flow = %flow.name, page = number, records = Empty)
}

/// One call (with its retries) to a connector: `read_page`, `lookup` or `write_batch`.
pub(crate) fn connector_call(call: &'static str, flow: &str, connection: &str, records: usize) -> Span {
    tracing::info_span!(
        "connector_call",
        otel.name = call,
        otel.kind = "client",
        call,
        flow,
        connection,
        records = count(records),
    )
}

/// The store transaction of one page, under the page's span (it runs on its own task).
pub(crate) fn settle_page(parent: &Span, flow: &str) -> Span {
    tracing::info_span!(parent: parent, "settle_page", flow)
}

#[cfg(test)]
mod tests {
    #[test]
    fn record_keys_are_joined_and_cut_after_ten() {
        assert_eq!(super::record_keys(std::iter::empty()), None);
        assert_eq!(super::record_keys(["1001"].into_iter()).as_deref(), Some("1001"));
        let many: Vec<String> = (0..12).map(|n| n.to_string()).collect();
        assert_eq!(
            super::record_keys(many.iter().map(String::as_str)).as_deref(),
            Some("0,1,2,3,4,5,6,7,8,9,…")
        );
    }
}
