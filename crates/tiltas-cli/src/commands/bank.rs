//! `tiltas bank parse FILE… [--json]`: what statement files say, through the bank system's
//! parser (`tiltas_systems::bank`), without importing anything.
use crate::args::BankCommand;
use std::process::ExitCode;
use tiltas_systems::bank::{parse, Document};

/// Runs a `tiltas bank` subcommand.
pub fn run(command: BankCommand) -> anyhow::Result<ExitCode> {
    match command {
        BankCommand::Parse(args) => {
            let mut refused = 0;
            for path in &args.files {
                let bytes = std::fs::read(path)
                    .map_err(|error| anyhow::anyhow!("{} cannot be read: {error}", path.display()))?;
                match parse(&path.display().to_string(), &bytes) {
                    Ok(document) => {
                        for statement in &document.statements {
                            for warning in &statement.warnings {
                                eprintln!("warning: {warning}");
                            }
                        }
                        if args.json {
                            println!("{}", serde_json::to_string(&document)?);
                        } else {
                            print_summary(&document);
                        }
                    }
                    Err(error) => {
                        eprintln!("error: {error}");
                        refused += 1;
                    }
                }
            }
            Ok(if refused == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

/// One line per statement and per entry, for people.
fn print_summary(document: &Document) {
    println!(
        "{}: {}, {} statement(s)",
        document.file,
        document.format,
        document.statements.len()
    );
    let shown = |text: &Option<String>| text.clone().unwrap_or_else(|| "—".to_owned());
    for statement in &document.statements {
        let balance = |balance: &Option<tiltas_systems::bank::Balance>| match balance {
            Some(balance) => format!("{} on {}", balance.amount, shown(&balance.date)),
            None => "—".to_owned(),
        };
        let reconciles = match statement.reconciles {
            Some(true) => "adds up",
            Some(false) => "DOES NOT ADD UP",
            None => "no balances to check",
        };
        println!(
            "  statement {} of {} ({}): opening {}, closing {}, {} entries, {reconciles}",
            shown(&statement.id),
            shown(&statement.account),
            shown(&statement.currency),
            balance(&statement.opening_balance),
            balance(&statement.closing_balance),
            statement.entries.len(),
        );
        for entry in &statement.entries {
            let party = entry
                .counterparty
                .as_ref()
                .and_then(|party| party.name.clone().or_else(|| party.iban.clone()));
            println!(
                "    {} {:>14} {}  {}  {}",
                shown(&entry.booking_date),
                entry.amount,
                shown(&entry.currency),
                shown(&party),
                shown(&entry.remittance).replace('\n', " "),
            );
        }
    }
}
