//! `tiltas sim SYSTEM --port PORT [--seed N] [system flags]`: every simulator of the build, each
//! with the flags its crate declares.
use crate::args::SimArgs;
use std::process::ExitCode;

/// Serves the simulator until the process is killed; a simulator of a supplier's files asked
/// to write them (`--out DIR`) writes them and exits instead.
pub async fn run(args: &SimArgs) -> anyhow::Result<ExitCode> {
    if let Some(written) = args.simulator.write_files() {
        println!(
            "{}",
            written.map_err(|error| anyhow::anyhow!("cannot write the files: {error}"))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    let port = args.simulator.port();
    tiltas_sim::serve(args.simulator.router(), port)
        .await
        .map_err(|error| anyhow::anyhow!("cannot serve on 127.0.0.1:{port}: {error}"))?;
    Ok(ExitCode::SUCCESS)
}
