//! `tiltas docs [SYSTEM]`: the settings every system accepts, generated from its spec — the
//! same section its README carries (a test keeps the READMEs in step).
use crate::args::DocsArgs;
use std::process::ExitCode;
use tiltas_systems::registry::systems;

/// Prints the settings of one system or of all of them.
pub fn run(args: &DocsArgs) -> anyhow::Result<ExitCode> {
    let all = systems();
    match &args.system {
        Some(name) => match all.get(name) {
            Some(system) => print!("{}", system.spec().settings_markdown()),
            None => {
                let known: Vec<&str> = all.all().map(|system| system.spec().name).collect();
                eprintln!(
                    "no system {name:?} in this build: known systems are {}",
                    known.join(", ")
                );
                return Ok(ExitCode::from(2));
            }
        },
        None => {
            for system in all.all() {
                let spec = system.spec();
                println!("## `{}` — {}\n", spec.name, spec.description);
                println!("{}", spec.settings_markdown());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
