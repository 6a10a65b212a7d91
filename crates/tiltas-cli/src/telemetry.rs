//! OpenTelemetry traces over OTLP/HTTP (protobuf) when `--otlp-endpoint` (or
//! `OTEL_EXPORTER_OTLP_ENDPOINT`) is set: the engine's `run`, `page`, `connector_call` and
//! `settle_page` spans (and the server's) go through `tracing-opentelemetry` to a batch
//! exporter. The exporter posts from its own thread with reqwest's blocking client, so no
//! async runtime is needed to build it or to flush it when the command ends.
use anyhow::Context as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::KeyValue;
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use std::time::Duration;
use tracing::Subscriber;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::registry::LookupSpan;

/// The path OTLP/HTTP receivers take traces on, added to a base endpoint (as the
/// OpenTelemetry specification says for `OTEL_EXPORTER_OTLP_ENDPOINT`).
const TRACES_PATH: &str = "/v1/traces";

/// How long one export may take: a collector that does not answer delays the exit by at most
/// this much.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where spans go: `URL/v1/traces`, unless the URL already names that path.
pub fn traces_url(endpoint: &str) -> String {
    let endpoint = endpoint.trim_end_matches('/');
    if endpoint.ends_with(TRACES_PATH) {
        endpoint.to_owned()
    } else {
        format!("{endpoint}{TRACES_PATH}")
    }
}

/// The running trace exporter; [`Traces::shutdown`] sends what is left.
pub struct Traces {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
}

impl Traces {
    /// Starts exporting to the OTLP/HTTP collector at `endpoint` (a base URL such as
    /// `http://127.0.0.1:4318`).
    pub fn start(endpoint: &str) -> anyhow::Result<Traces> {
        let url = traces_url(endpoint);
        let parsed = reqwest::Url::parse(&url).with_context(|| {
            format!("--otlp-endpoint {endpoint:?} is not a URL: give the collector's base address, e.g. http://127.0.0.1:4318")
        })?;
        anyhow::ensure!(
            matches!(parsed.scheme(), "http" | "https"),
            "--otlp-endpoint {endpoint:?} is not an http(s) URL: traces are sent over OTLP/HTTP, e.g. to http://127.0.0.1:4318"
        );
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(url.clone())
            .with_timeout(EXPORT_TIMEOUT)
            .build()
            .with_context(|| format!("cannot set up the OTLP exporter to {url}"))?;
        let resource = Resource::builder()
            .with_service_name("tiltas")
            .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
            .with_attribute(KeyValue::new("service.instance.id", tiltas_engine::worker_id()))
            .build();
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build();
        let tracer = provider.tracer("tiltas");
        Ok(Traces { provider, tracer })
    }

    /// The layer that turns Tiltas' spans (level INFO and above) into OpenTelemetry spans,
    /// whatever `--log` shows on stderr.
    pub fn layer<S>(&self) -> impl tracing_subscriber::Layer<S>
    where
        S: Subscriber + for<'span> LookupSpan<'span>,
    {
        use tracing_subscriber::Layer as _;
        tracing_opentelemetry::layer()
            .with_tracer(self.tracer.clone())
            .with_filter(Targets::new().with_target("tiltas", tracing::Level::INFO))
    }

    /// Exports the spans still queued and stops the exporter (called once the command ended).
    pub fn shutdown(self) {
        if let Err(error) = self.provider.shutdown() {
            eprintln!("warning: not every trace could be sent to the OTLP collector: {error}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::traces_url;

    #[test]
    fn a_base_endpoint_gets_the_traces_path_once() {
        assert_eq!(traces_url("http://127.0.0.1:4318"), "http://127.0.0.1:4318/v1/traces");
        assert_eq!(traces_url("http://collector/otlp/"), "http://collector/otlp/v1/traces");
        assert_eq!(traces_url("http://c:4318/v1/traces"), "http://c:4318/v1/traces");
    }

    #[test]
    fn an_endpoint_that_is_no_http_url_is_refused_with_an_example() {
        let error = super::Traces::start("127.0.0.1:4318").err().unwrap().to_string();
        assert!(
            error.contains("--otlp-endpoint") && error.contains("http://127.0.0.1:4318"),
            "{error}"
        );
    }
}
