//! `tiltas validate CONFIG`.
use crate::args::ValidateArgs;
use std::process::ExitCode;

/// Prints every problem of the file (exit 2) or a one-line summary (exit 0).
pub fn run(args: &ValidateArgs) -> ExitCode {
    match super::load_or_report(&args.config) {
        Ok(config) => {
            println!(
                "{}: ok ({} connection{}, {} flow{})",
                args.config.display(),
                config.connections.len(),
                if config.connections.len() == 1 { "" } else { "s" },
                config.flows.len(),
                if config.flows.len() == 1 { "" } else { "s" },
            );
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}
