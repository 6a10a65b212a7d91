//! The `tiltas` command: thin main, one module per subcommand.
#![forbid(unsafe_code)]

mod args;
mod commands;
mod logging;
mod store_url;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = args::Cli::parse();
    logging::init(&args.global);
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
