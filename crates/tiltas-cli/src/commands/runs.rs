//! `tiltas runs --config CONFIG [--flow F]`.
use crate::args::{GlobalArgs, RunsArgs};
use std::process::ExitCode;

/// Lists recent runs, newest first.
pub async fn run(global: &GlobalArgs, args: &RunsArgs) -> anyhow::Result<ExitCode> {
    let config = match super::load_or_report(&args.config.config) {
        Ok(config) => config,
        Err(code) => return Ok(code),
    };
    if let Some(flow) = &args.flow {
        if config.flow(flow).is_none() {
            anyhow::bail!("flow \"{flow}\" is not defined in {}", config.file.display());
        }
    }
    let store = crate::store_url::open(global.db.as_deref(), Some(&config)).await?;
    let runs = store.runs(args.flow.as_deref(), args.limit).await?;
    if args.json {
        for run in &runs {
            println!("{}", serde_json::to_string(run)?);
        }
        return Ok(ExitCode::SUCCESS);
    }
    if runs.is_empty() {
        println!(
            "no runs yet: start one with `tiltas sync --config {} FLOW`",
            args.config.config.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<[String; 12]> = runs
        .iter()
        .map(|run| {
            let counters = run.counters;
            [
                run.id.to_string(),
                run.flow.clone(),
                format!("{:?}", run.status).to_lowercase(),
                run.started_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                run.finished_at
                    .map(|end| format!("{} ms", (end - run.started_at).num_milliseconds()))
                    .unwrap_or_default(),
                counters.read.to_string(),
                counters.unchanged.to_string(),
                counters.created.to_string(),
                counters.updated.to_string(),
                counters.skipped.to_string(),
                counters.failed.to_string(),
                run.error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    super::flows::print_table(
        &[
            "RUN",
            "FLOW",
            "STATUS",
            "STARTED (UTC)",
            "TOOK",
            "READ",
            "UNCHANGED",
            "CREATED",
            "UPDATED",
            "SKIPPED",
            "FAILED",
            "ERROR",
        ],
        &rows,
    );
    Ok(ExitCode::SUCCESS)
}
