//! The `tiltas` command: thin main, one module per subcommand.
#![forbid(unsafe_code)]

mod args;
mod commands;
mod logging;
mod store_url;
mod telemetry;

use clap::Parser;
use std::process::ExitCode;

/// mimalloc rather than the system allocator: the engine makes and drops small strings and
/// JSON values per record, where glibc's malloc cost a fifth of a first sync.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = args::Cli::parse();
    let otlp_endpoint = args
        .command
        .telemetry()
        .and_then(|telemetry| telemetry.otlp_endpoint.clone());
    let traces = match logging::init(&args.global, otlp_endpoint.as_deref()) {
        Ok(traces) => traces,
        Err(error) => {
            eprintln!("error: {error:#}");
            return ExitCode::from(1);
        }
    };
    let code = run(args);
    // After the runtime is gone: the exporter flushes on its own thread.
    if let Some(traces) = traces {
        traces.shutdown();
    }
    code
}

fn run(args: args::Cli) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::run(args)) {
        Ok(code) => code,
        Err(error) => {
            // One clear paragraph, no backtrace: the causes are part of the message.
            eprintln!("error: {error:#}");
            ExitCode::from(1)
        }
    }
}
