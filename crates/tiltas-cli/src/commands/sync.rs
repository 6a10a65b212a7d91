//! `tiltas sync --config CONFIG FLOW [--dry-run] [--full] [--json]`.
use crate::args::{GlobalArgs, SyncArgs};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tiltas_engine::{Engine, PlannedKind, Progress, SyncOptions, SyncReport};
use tiltas_store::RunCounters;

/// Exit code of a run that finished but dead-lettered some records.
pub const EXIT_RECORDS_FAILED: u8 = 3;

/// Runs one flow and prints its counters.
pub async fn run(global: &GlobalArgs, args: &SyncArgs) -> anyhow::Result<ExitCode> {
    let config = match super::load_or_report(&args.config.config) {
        Ok(config) => config,
        Err(code) => return Ok(code),
    };
    let store = if args.dry_run {
        crate::store_url::open_for_dry_run(global.db.as_deref(), Some(&config)).await?
    } else {
        crate::store_url::open(global.db.as_deref(), Some(&config)).await?
    };
    let config = super::secrets::unseal(config, &store).await?;
    let engine = Engine::new(config, store, tiltas_systems::registry::systems());
    let show_bar = !args.json && std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
    let bar = show_bar.then(|| Arc::new(TerminalProgress::new(&args.flow)));
    let options = SyncOptions {
        dry_run: args.dry_run,
        full: args.full,
        progress: match &bar {
            Some(bar) => bar.clone(),
            None => Arc::new(tiltas_engine::NoProgress),
        },
    };
    let outcome = engine.sync(&args.flow, &options).await;
    if let Some(bar) = &bar {
        bar.bar.finish_and_clear();
    }
    let report = outcome?;
    Ok(report_outcome(&report, args.json))
}

/// Prints a run's problems and counters (one JSON line with `json`) and gives its exit code.
pub fn report_outcome(report: &SyncReport, json: bool) -> ExitCode {
    for problem in &report.problems {
        eprintln!("{}: {problem}", report.flow);
    }
    if report.counters.failed as usize > report.problems.len() {
        eprintln!(
            "{}: … and {} more failed records",
            report.flow,
            report.counters.failed as usize - report.problems.len()
        );
    }
    if json {
        println!("{}", json_line(report));
    } else {
        print_human(report);
    }
    if report.counters.failed > 0 && !report.dry_run {
        return ExitCode::from(EXIT_RECORDS_FAILED);
    }
    ExitCode::SUCCESS
}

/// The one-line JSON summary of a run.
fn json_line(report: &SyncReport) -> serde_json::Value {
    let counters = report.counters;
    serde_json::json!({
        "flow": report.flow,
        "read": counters.read,
        "unchanged": counters.unchanged,
        "created": counters.created,
        "updated": counters.updated,
        "skipped": counters.skipped,
        "failed": counters.failed,
        "api_calls": counters.api_calls,
        "duration_ms": report.duration.as_millis() as u64,
    })
}

fn print_human(report: &SyncReport) {
    if report.dry_run {
        for change in &report.planned {
            let verb = match change.kind {
                PlannedKind::Create => "would create",
                PlannedKind::Update => "would update",
                PlannedKind::Skip => "would skip",
            };
            println!("{verb} {}", change.source_key);
        }
    }
    let counters = report.counters;
    println!(
        "{}{}: read {}, unchanged {}, created {}, updated {}, skipped {}, failed {}; {} API calls in {} ms",
        report.flow,
        if report.dry_run {
            " (dry run, nothing written)"
        } else {
            ""
        },
        counters.read,
        counters.unchanged,
        counters.created,
        counters.updated,
        counters.skipped,
        counters.failed,
        counters.api_calls,
        report.duration.as_millis(),
    );
    if counters.failed > 0 && !report.dry_run {
        let (noun, verb) = if counters.failed == 1 {
            ("record", "waits")
        } else {
            ("records", "wait")
        };
        println!("{} {noun} failed and {verb} in the dead-letter inbox", counters.failed);
    }
}

/// A spinner on stderr with the running counters.
struct TerminalProgress {
    bar: ProgressBar,
}

impl TerminalProgress {
    fn new(flow: &str) -> Self {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix} [{elapsed_precise}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(flow.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        TerminalProgress { bar }
    }
}

impl Progress for TerminalProgress {
    fn page_settled(&self, counters: &RunCounters) {
        self.bar.set_message(format!(
            "read {} · unchanged {} · created {} · updated {} · failed {}",
            counters.read, counters.unchanged, counters.created, counters.updated, counters.failed
        ));
    }
}
