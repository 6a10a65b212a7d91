//! `tiltas forget --email ADDRESS [--dry-run]`: a person's e-mail, names, phone numbers and
//! addresses erased from every stored payload (GDPR), reported per table and recorded in the
//! audit log.
use crate::args::{ForgetArgs, GlobalArgs};
use std::process::ExitCode;
use tiltas_server::audit::Actor;

/// Runs `tiltas forget`.
pub async fn run(global: &GlobalArgs, args: &ForgetArgs) -> anyhow::Result<ExitCode> {
    let email = args.email.trim();
    if !email.contains('@') || email.len() < 3 {
        anyhow::bail!(
            "--email \"{email}\" is not an e-mail address: give the person's whole address, e.g. ona@example.lt"
        );
    }
    let store = super::keys::store(global, args.config.as_deref()).await?;
    let report = tiltas_server::forget_person(store.as_ref(), email, args.dry_run, &Actor::cli()).await?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<[String; 3]> = [
        ("activity payloads", report.activity_payloads),
        ("dead letters", report.dead_letters),
        ("webhook deliveries", report.inbox),
        ("unsettled intents", report.outbox),
    ]
    .into_iter()
    .map(|(table, erased)| [table.to_owned(), erased.rows.to_string(), erased.values.to_string()])
    .collect();
    super::flows::print_table(&["WHERE", "ROWS", "VALUES ERASED"], &rows);
    let (rows, values) = (report.rows(), report.values());
    if args.dry_run {
        eprintln!(
            "dry run: {values} value(s) in {rows} row(s) would be erased; run again without --dry-run to erase them"
        );
    } else if rows == 0 {
        eprintln!("nothing stored mentions {email}: nothing was erased");
    } else {
        eprintln!("{values} value(s) in {rows} row(s) replaced by \"[erased]\"; recorded in the audit log");
    }
    Ok(ExitCode::SUCCESS)
}
