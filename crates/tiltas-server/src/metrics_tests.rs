//! `/metrics` read as Prometheus would: the OpenMetrics text parsed line by line into samples,
//! then labels and values checked after a run, and again after a "restart" (a new process
//! state over the same store).
use crate::{router, AppState, Metrics};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use std::collections::BTreeMap;
use std::sync::Arc;
use tower::ServiceExt;

/// One sample line: `name{label="value",…} value`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sample {
    pub(crate) name: String,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) value: f64,
}

/// Reads a label set `{a="x",b="y\"z"}` (after the `{`), with the text format's escapes;
/// returns the labels and the rest of the line after the `}`.
fn parse_labels(mut rest: &str) -> Result<(BTreeMap<String, String>, &str), String> {
    let mut labels = BTreeMap::new();
    loop {
        rest = rest.trim_start_matches(',');
        if let Some(after) = rest.strip_prefix('}') {
            return Ok((labels, after));
        }
        let (name, after_name) = rest.split_once("=\"").ok_or(format!("no `=\"` in {rest:?}"))?;
        let mut value = String::new();
        let mut chars = after_name.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, escaped)) => value.push(escaped),
                    None => return Err("a label value ends in a backslash".into()),
                },
                Some((index, '"')) => break index,
                Some((_, other)) => value.push(other),
                None => return Err(format!("unterminated label value in {after_name:?}")),
            }
        };
        labels.insert(name.to_owned(), value);
        rest = &after_name[end + 1..];
    }
}

/// Every sample of a page; comments (`# HELP`, `# TYPE`, `# UNIT`, `# EOF`) are skipped.
pub(crate) fn parse(page: &str) -> Result<Vec<Sample>, String> {
    let mut samples = Vec::new();
    for line in page.lines().filter(|line| !line.is_empty() && !line.starts_with('#')) {
        let name_end = line.find(['{', ' ']).ok_or(format!("no value on {line:?}"))?;
        let name = line[..name_end].to_owned();
        let (labels, rest) = match line[name_end..].strip_prefix('{') {
            Some(inside) => parse_labels(inside)?,
            None => (BTreeMap::new(), &line[name_end..]),
        };
        let value_text = rest.split_whitespace().next().ok_or(format!("no value on {line:?}"))?;
        let value = match value_text {
            "+Inf" => f64::INFINITY,
            text => text
                .parse()
                .map_err(|_| format!("{text:?} is not a number on {line:?}"))?,
        };
        samples.push(Sample { name, labels, value });
    }
    Ok(samples)
}

/// The value of the one sample with this name whose labels include `labels`.
pub(crate) fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let matching: Vec<&Sample> = samples
        .iter()
        .filter(|sample| {
            sample.name == name
                && labels
                    .iter()
                    .all(|(key, wanted)| sample.labels.get(*key).is_some_and(|have| have == wanted))
        })
        .collect();
    assert!(matching.len() <= 1, "{name} {labels:?} matches {matching:?}");
    matching.first().map(|sample| sample.value)
}

/// Scrapes `/metrics`: the content type and the parsed samples.
pub(crate) async fn scrape(state: &AppState) -> (String, String, Vec<Sample>) {
    let request = Request::builder().uri("/metrics").body(Body::empty()).unwrap();
    let response = router(state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()[header::CONTENT_TYPE].to_str().unwrap().to_owned();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let page = String::from_utf8(bytes.to_vec()).unwrap();
    let samples = parse(&page).unwrap_or_else(|error| panic!("{error}\n{page}"));
    (content_type, page, samples)
}

#[test]
fn the_parser_reads_escaped_label_values_and_infinite_buckets() {
    let page = "# TYPE x counter\nx_total{a=\"q\\\"uote\",b=\"back\\\\slash\",c=\"new\\nline\"} 3\n\
                h_bucket{le=\"+Inf\"} 2\nplain 1.5\n# EOF\n";
    let samples = parse(page).unwrap();
    assert_eq!(samples.len(), 3);
    assert_eq!(samples[0].labels["a"], "q\"uote");
    assert_eq!(samples[0].labels["b"], "back\\slash");
    assert_eq!(samples[0].labels["c"], "new\nline");
    assert_eq!(value(&samples, "h_bucket", &[("le", "+Inf")]), Some(2.0));
    assert_eq!(value(&samples, "plain", &[]), Some(1.5));
    assert!(parse("x_total{a=\"open 1").is_err());
}

#[tokio::test]
async fn metrics_after_a_run_carry_the_worker_label_and_survive_a_restart() {
    let world = crate::tests::world().await;
    let state = &world.state;
    let worker = state.metrics.worker().to_owned();
    assert_eq!(worker, tiltas_engine::worker_id(), "the process-wide worker id");

    crate::run_flow(state, "products").await;
    let stored = state.store.runs(Some("products"), 1).await.unwrap();
    let status = serde_json::to_value(stored[0].status).unwrap();
    let status = status.as_str().unwrap();

    let _ = scrape(state).await; // so that the next page has a latency sample of /metrics
    let (content_type, page, samples) = scrape(state).await;
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    assert_eq!(page.lines().last(), Some("# EOF"), "{page}");
    let unlabelled: Vec<&Sample> = samples
        .iter()
        .filter(|sample| sample.labels.get("worker") != Some(&worker))
        .collect();
    assert!(unlabelled.is_empty(), "series without worker={worker}: {unlabelled:?}");

    let flow = [("flow", "products")];
    let of = |name: &str, extra: &[(&str, &str)]| value(&samples, name, &[&flow[..], extra].concat());
    assert_eq!(of("tiltas_runs_total", &[("status", status)]), Some(1.0), "{page}");
    assert_eq!(of("tiltas_records_total", &[("outcome", "read")]), Some(3.0), "{page}");
    assert_eq!(
        of("tiltas_records_total", &[("outcome", "created")]),
        Some(2.0),
        "{page}"
    );
    assert_eq!(
        of("tiltas_records_total", &[("outcome", "failed")]),
        Some(1.0),
        "{page}"
    );
    assert_eq!(of("tiltas_dead_letters", &[]), Some(1.0), "{page}");
    assert_eq!(
        of("tiltas_worker_runs_total", &[("status", "succeeded")]),
        Some(1.0),
        "{page}"
    );
    assert_eq!(
        value(&samples, "tiltas_dead_letters", &[("flow", "orders")]),
        Some(0.0),
        "a flow without letters shows 0"
    );
    assert_eq!(
        value(&samples, "tiltas_quota_limit", &[("connection", "erp")]),
        Some(1000.0)
    );
    assert_eq!(value(&samples, "tiltas_inbox_backlog", &[]), Some(0.0));
    let route = [("method", "GET"), ("path", "/metrics")];
    assert_eq!(
        value(&samples, "tiltas_http_request_duration_seconds_count", &route),
        Some(1.0),
        "{page}"
    );
    let all_requests = [&route[..], &[("le", "+Inf")]].concat();
    assert_eq!(
        value(&samples, "tiltas_http_request_duration_seconds_bucket", &all_requests),
        Some(1.0)
    );

    // Another process on the same store: what the store holds is still there, under its own
    // worker label; what the first process counted in memory is not.
    let mut restarted = AppState::new(
        state.config.clone(),
        state.store.clone(),
        tiltas_systems::registry::systems(),
    );
    restarted.metrics = Arc::new(Metrics::for_worker("host-b:42:1700000000"));
    let (_, page, samples) = scrape(&restarted).await;
    let labels = [("worker", "host-b:42:1700000000"), ("flow", "products")];
    let of = |name: &str, extra: &[(&str, &str)]| value(&samples, name, &[&labels[..], extra].concat());
    assert_eq!(of("tiltas_runs_total", &[("status", status)]), Some(1.0), "{page}");
    assert_eq!(
        of("tiltas_records_total", &[("outcome", "created")]),
        Some(2.0),
        "{page}"
    );
    assert_eq!(of("tiltas_dead_letters", &[]), Some(1.0), "{page}");
    assert_eq!(
        of("tiltas_worker_runs_total", &[("status", "succeeded")]),
        None,
        "{page}"
    );
}
