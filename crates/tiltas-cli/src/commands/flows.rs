//! `tiltas flows --config CONFIG`.
use crate::args::ConfigArgs;
use std::process::ExitCode;

/// Lists the flows: name, entity, from → to, trigger, state and the flows each runs after.
pub fn run(args: &ConfigArgs) -> anyhow::Result<ExitCode> {
    let config = match super::load_or_report(&args.config) {
        Ok(config) => config,
        Err(code) => return Ok(code),
    };
    let rows: Vec<[String; 6]> = config
        .flows
        .iter()
        .map(|flow| {
            let trigger = match (&flow.schedule, flow.trigger) {
                (Some(schedule), tiltas_config::Trigger::Webhook) => format!("webhook, {schedule}"),
                (Some(schedule), _) => schedule.to_string(),
                (None, trigger) => format!("{trigger:?}").to_lowercase(),
            };
            [
                flow.name.clone(),
                flow.entity.to_string(),
                format!("{} → {}", flow.from.connection, flow.to.connection),
                trigger,
                if flow.enabled {
                    "enabled".into()
                } else {
                    "disabled".into()
                },
                after(flow),
            ]
        })
        .collect();
    print_table(&["FLOW", "ENTITY", "FROM → TO", "WHEN", "STATE", "AFTER"], &rows);
    Ok(ExitCode::SUCCESS)
}

/// The flows a flow runs after; "(default)" marks the ones implied for a stock or price-list
/// flow, so a reader knows where they come from and that `after = []` opts out.
fn after(flow: &tiltas_config::Flow) -> String {
    match (flow.after.is_empty(), flow.after_implied) {
        (true, _) => "-".to_owned(),
        (false, false) => flow.after.join(", "),
        (false, true) => format!("{} (default)", flow.after.join(", ")),
    }
}

/// Prints rows under a header, columns padded to their widest cell.
pub fn print_table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) {
    let mut widths: [usize; N] = header.map(|title| title.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}
