//! `tiltas validate CONFIG`.
use crate::args::ValidateArgs;
use std::process::ExitCode;

/// Prints every problem of the file (exit 2) or its warnings and a one-line summary (exit 0:
/// warnings do not fail validation).
pub fn run(args: &ValidateArgs) -> ExitCode {
    let plural = |count: usize| if count == 1 { "" } else { "s" };
    match super::load_or_report(&args.config) {
        Ok(config) => {
            let warnings = match config.warnings.len() {
                0 => String::new(),
                count => format!(", {count} warning{}", plural(count)),
            };
            println!(
                "{}: ok ({} connection{}, {} flow{}{warnings})",
                args.config.display(),
                config.connections.len(),
                plural(config.connections.len()),
                config.flows.len(),
                plural(config.flows.len()),
            );
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}
