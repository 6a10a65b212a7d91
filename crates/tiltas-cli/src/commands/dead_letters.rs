//! `tiltas dead-letters list|show|retry|replay --config CONFIG`.
use super::flows::print_table;
use super::sync::{report_outcome, EXIT_RECORDS_FAILED};
use crate::args::{DeadLetterCommand, GlobalArgs};
use anyhow::Context;
use std::process::ExitCode;
use tiltas_engine::{Engine, SyncOptions};
use tiltas_store::{DeadLetterFilter, DeadLetterStatus};

/// Runs one `dead-letters` subcommand.
pub async fn run(global: &GlobalArgs, command: DeadLetterCommand) -> anyhow::Result<ExitCode> {
    let path = match &command {
        DeadLetterCommand::List(args) => &args.config.config,
        DeadLetterCommand::Show(args) => &args.config.config,
        DeadLetterCommand::Retry(args) => &args.letter.config.config,
        DeadLetterCommand::Replay(args) => &args.config.config,
    };
    let config = match super::load_or_report(path) {
        Ok(config) => config,
        Err(code) => return Ok(code),
    };
    let store = crate::store_url::open(global.db.as_deref(), Some(&config)).await?;
    let config = super::secrets::unseal(config, &store).await?;
    let known_flow = |flow: &Option<String>| -> anyhow::Result<()> {
        match flow {
            Some(name) if config.flow(name).is_none() => {
                anyhow::bail!("flow \"{name}\" is not defined in {}", config.file.display())
            }
            _ => Ok(()),
        }
    };
    match command {
        DeadLetterCommand::List(args) => {
            known_flow(&args.flow)?;
            let status = (!args.all).then_some(DeadLetterStatus::Open);
            let letters = store
                .dead_letters(&DeadLetterFilter {
                    flow: args.flow.clone(),
                    status,
                    limit: args.limit,
                })
                .await?;
            if args.json {
                for letter in &letters {
                    println!("{}", serde_json::to_string(letter)?);
                }
            } else if letters.is_empty() {
                println!("no {}dead letters", if args.all { "" } else { "open " });
            } else {
                let rows: Vec<[String; 8]> = letters
                    .iter()
                    .map(|letter| {
                        [
                            letter.id.to_string(),
                            letter.flow.clone(),
                            letter.source_key.clone(),
                            letter.class.as_str().to_owned(),
                            letter.attempts.to_string(),
                            format!("{:?}", letter.status).to_lowercase(),
                            letter.field.clone().unwrap_or_default(),
                            letter.message.clone(),
                        ]
                    })
                    .collect();
                print_table(
                    &["ID", "FLOW", "KEY", "CLASS", "ATTEMPTS", "STATUS", "FIELD", "MESSAGE"],
                    &rows,
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        DeadLetterCommand::Show(args) => {
            let letter = store.dead_letter(args.id).await?.with_context(|| {
                format!(
                    "no dead letter {}: list them with `tiltas dead-letters list --config {}`",
                    args.id,
                    path_of(&config)
                )
            })?;
            println!("{}", serde_json::to_string_pretty(&letter)?);
            Ok(ExitCode::SUCCESS)
        }
        DeadLetterCommand::Retry(args) => {
            let id = args.letter.id;
            let mut letter = store.dead_letter(id).await?.with_context(|| {
                format!(
                    "no dead letter {id}: list them with `tiltas dead-letters list --config {}`",
                    path_of(&config)
                )
            })?;
            if letter.status != DeadLetterStatus::Open {
                anyhow::bail!("dead letter {id} is already resolved: nothing to retry");
            }
            if config.flow(&letter.flow).is_none() {
                anyhow::bail!(
                    "dead letter {id} belongs to flow \"{}\", which {} no longer defines",
                    letter.flow,
                    path_of(&config)
                );
            }
            if let Some(file) = &args.payload {
                let text = std::fs::read_to_string(file)
                    .with_context(|| format!("cannot read the edited payload {}", file.display()))?;
                let payload: serde_json::Value = serde_json::from_str(&text)
                    .with_context(|| format!("{} is not valid JSON: fix it and retry", file.display()))?;
                store.dead_letter_set_payload(id, &payload).await?;
                letter.payload = payload;
            }
            let engine = Engine::new(config.clone(), store, tiltas_systems::registry::systems());
            let report = engine
                .replay(&letter.flow.clone(), &[letter], &SyncOptions::default())
                .await?;
            Ok(report_outcome(&report, args.json))
        }
        DeadLetterCommand::Replay(args) => {
            known_flow(&args.flow)?;
            let open = store
                .dead_letters(&DeadLetterFilter {
                    flow: args.flow.clone(),
                    status: Some(DeadLetterStatus::Open),
                    limit: 0,
                })
                .await?;
            if open.is_empty() {
                println!("no open dead letters to replay");
                return Ok(ExitCode::SUCCESS);
            }
            let mut flows: Vec<String> = open.iter().map(|letter| letter.flow.clone()).collect();
            flows.sort();
            flows.dedup();
            let engine = Engine::new(config.clone(), store, tiltas_systems::registry::systems());
            let mut failed = false;
            for flow in flows {
                if config.flow(&flow).is_none() {
                    eprintln!(
                        "skipping dead letters of flow \"{flow}\": {} no longer defines it",
                        path_of(&config)
                    );
                    continue;
                }
                let report = engine.replay(&flow, &open, &SyncOptions::default()).await?;
                failed |= report_outcome(&report, args.json) == ExitCode::from(EXIT_RECORDS_FAILED);
            }
            Ok(if failed {
                ExitCode::from(EXIT_RECORDS_FAILED)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}

fn path_of(config: &tiltas_config::ValidatedConfig) -> String {
    config.file.display().to_string()
}
