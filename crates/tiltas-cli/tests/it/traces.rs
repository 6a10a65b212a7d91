//! `--otlp-endpoint`: a `tiltas sync` sends its spans over OTLP/HTTP (protobuf) to a receiver
//! the test runs on 127.0.0.1, flushed before the process exits.
use crate::{stderr, Workspace};
use axum::body::Bytes;
use axum::http::HeaderMap;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;
use std::sync::{Arc, Mutex};

const FLOW: &str = "products-csv-to-jsonl";

/// What the receiver was sent: each request's content type and body.
type Received = Arc<Mutex<Vec<(String, Bytes)>>>;

/// An OTLP/HTTP receiver on 127.0.0.1 at a free port, taking `POST /v1/traces`; returns its
/// base URL, what it received, and the runtime serving it (dropping it stops the receiver).
fn start_receiver() -> (String, Received, tokio::runtime::Runtime) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let received: Received = Arc::default();
    let kept = received.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let kept = kept.clone();
            async move {
                let content_type = headers
                    .get("content-type")
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                kept.lock().unwrap().push((content_type, body));
                // An empty ExportTraceServiceResponse: all spans accepted.
                ([("content-type", "application/x-protobuf")], Vec::<u8>::new())
            }
        }),
    );
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let address = listener.local_addr().unwrap();
    runtime.spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}"), received, runtime)
}

fn attribute<'s>(attributes: &'s [KeyValue], key: &str) -> Option<&'s any_value::Value> {
    attributes
        .iter()
        .find(|attribute| attribute.key == key)
        .and_then(|attribute| attribute.value.as_ref())
        .and_then(|value| value.value.as_ref())
}

fn text<'s>(attributes: &'s [KeyValue], key: &str) -> Option<&'s str> {
    match attribute(attributes, key) {
        Some(any_value::Value::StringValue(text)) => Some(text),
        _ => None,
    }
}

#[test]
fn a_sync_exports_its_run_page_and_connector_spans_over_otlp_http() {
    let workspace = Workspace::with_examples();
    let (endpoint, received, _runtime) = start_receiver();
    let output = workspace.tiltas(&[
        "sync",
        "--config",
        "files.toml",
        FLOW,
        "--json",
        "--otlp-endpoint",
        &endpoint,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));

    // The exporter flushed before the process exited, and each post was answered (so kept).
    let received = received.lock().unwrap().clone();
    assert!(
        !received.is_empty(),
        "no trace export arrived; stderr: {}",
        stderr(&output)
    );
    let mut spans: Vec<Span> = Vec::new();
    for (content_type, body) in &received {
        assert_eq!(content_type, "application/x-protobuf");
        let request = ExportTraceServiceRequest::decode(body.as_ref()).expect("an OTLP protobuf body");
        for resource_spans in request.resource_spans {
            let resource = resource_spans.resource.expect("a resource");
            assert_eq!(text(&resource.attributes, "service.name"), Some("tiltas"));
            assert!(text(&resource.attributes, "service.instance.id").is_some_and(|id| id.contains(':')));
            spans.extend(resource_spans.scope_spans.into_iter().flat_map(|scope| scope.spans));
        }
    }
    let names: Vec<&str> = spans.iter().map(|span| span.name.as_str()).collect();

    let run_name = format!("run {FLOW}");
    let run = spans
        .iter()
        .find(|span| span.name == run_name)
        .unwrap_or_else(|| panic!("no {run_name:?} span in {names:?}"));
    assert_eq!(text(&run.attributes, "flow"), Some(FLOW));
    assert!(
        matches!(attribute(&run.attributes, "run_id"), Some(any_value::Value::IntValue(id)) if *id > 0),
        "{:?}",
        run.attributes
    );
    assert!(text(&run.attributes, "worker").is_some_and(|worker| worker.contains(':')));
    assert_eq!(
        text(&run.attributes, "source.connection"),
        Some("supplier-feed"),
        "{:?}",
        run.attributes
    );

    let page = spans
        .iter()
        .find(|span| span.name == "page")
        .unwrap_or_else(|| panic!("no page span in {names:?}"));
    assert_eq!(text(&page.attributes, "flow"), Some(FLOW));
    assert_eq!(page.parent_span_id, run.span_id, "a page is a child of its run");
    assert_eq!(page.trace_id, run.trace_id);

    // A read is a call of its page: every read_page span's parent is one of the run's pages.
    let pages: Vec<&Vec<u8>> = spans
        .iter()
        .filter(|span| span.name == "page")
        .map(|span| &span.span_id)
        .collect();
    let reads: Vec<&Span> = spans.iter().filter(|span| span.name == "read_page").collect();
    assert!(!reads.is_empty(), "no read_page span in {names:?}");
    for read in reads {
        assert!(pages.contains(&&read.parent_span_id), "{read:?}");
        assert_eq!(text(&read.attributes, "connection"), Some("supplier-feed"));
    }
    assert!(names.contains(&"write_batch"), "{names:?}");
    assert!(names.contains(&"settle_page"), "{names:?}");
}
