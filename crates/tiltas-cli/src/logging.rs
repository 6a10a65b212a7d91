//! Logs go to stderr so stdout stays for results (`--json`); traces go to an OTLP collector
//! when the command was given one (see [`crate::telemetry`]).
use crate::args::{GlobalArgs, LogFormat};
use crate::telemetry::Traces;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

/// Installs the global subscriber: the log on stderr filtered by `--log`, and the trace
/// exporter when `otlp_endpoint` is set (returned, to be shut down when the command ends).
pub fn init(global: &GlobalArgs, otlp_endpoint: Option<&str>) -> anyhow::Result<Option<Traces>> {
    let filter = EnvFilter::try_new(&global.log).unwrap_or_else(|error| {
        eprintln!(
            "warning: log filter {:?} is not valid ({error}); using \"warn\"",
            global.log
        );
        EnvFilter::new("warn")
    });
    let traces = otlp_endpoint.map(Traces::start).transpose()?;
    let registry = tracing_subscriber::registry().with(traces.as_ref().map(Traces::layer));
    let log = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    match global.log_format {
        LogFormat::Json => registry.with(log.json().with_filter(filter)).init(),
        LogFormat::Text => registry.with(log.with_target(false).with_filter(filter)).init(),
    }
    Ok(traces)
}
