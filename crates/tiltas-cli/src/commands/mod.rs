//! One module per subcommand.
mod bank;
mod bench;
mod bench_store;
mod bench_sustained;
mod bench_webhook;
mod connect;
mod dead_letters;
mod demo;
mod docs;
mod flows;
mod forget;
mod keys;
pub(crate) mod order;
mod quote;
mod runs;
pub(crate) mod secrets;
mod serve;
mod serve_tls;
mod sim;
mod sync;
mod validate;
mod worker;

use crate::args::{Cli, Command};
use std::path::Path;
use std::process::ExitCode;
use tiltas_config::ValidatedConfig;

/// Exit code for a flow file with problems (the problems are printed).
pub const EXIT_INVALID_CONFIG: u8 = 2;

/// Runs the chosen subcommand.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Validate(args) => Ok(validate::run(&args)),
        Command::Flows(args) => flows::run(&args),
        Command::Sync(args) => sync::run(&cli.global, &args).await,
        Command::Runs(args) => runs::run(&cli.global, &args).await,
        Command::DeadLetters(command) => dead_letters::run(&cli.global, command).await,
        Command::Sim(args) => sim::run(&args).await,
        Command::Bench(args) => bench::run(&cli.global, &args).await,
        Command::Serve(args) => serve::serve(&cli.global, &args).await,
        Command::Run(args) => worker::run(&cli.global, &args, tiltas_store::WorkerKind::Worker).await,
        Command::Worker(args) => worker::run(&cli.global, &args, tiltas_store::WorkerKind::Worker).await,
        Command::Keys(command) => keys::run(&cli.global, command).await,
        Command::Forget(args) => forget::run(&cli.global, &args).await,
        Command::Demo(args) => demo::run(&cli.global, &args).await,
        Command::Docs(args) => docs::run(&args),
        Command::Bank(command) => bank::run(command),
        Command::Connect(args) => connect::run(&cli.global, &args).await,
        Command::Quote(args) => quote::run(&cli.global, &args).await,
        Command::Order(args) => order::run(&cli.global, &args).await,
        Command::Secrets(command) => secrets::run(&cli.global, command).await,
    }
}

/// Loads a flow file (printing its warnings to stderr), or prints its problems and gives the
/// exit code to stop with.
pub fn load_or_report(path: &Path) -> Result<ValidatedConfig, ExitCode> {
    let loaded = tiltas_engine::load_config(path, tiltas_systems::registry::catalog());
    if let Ok(config) = &loaded {
        for warning in &config.warnings {
            eprintln!("{warning}");
        }
    }
    loaded.map_err(|diagnostics| {
        eprintln!("{diagnostics}");
        let count = diagnostics.0.len();
        eprintln!(
            "{}: {count} problem{} found",
            path.display(),
            if count == 1 { "" } else { "s" }
        );
        ExitCode::from(EXIT_INVALID_CONFIG)
    })
}
