//! Every system's README carries the settings its spec declares, generated: a README that has
//! drifted from what validation accepts fails here. `TILTAS_BLESS=1 cargo test -p
//! tiltas-systems --test docs` rewrites the stale sections (the same text `tiltas docs` prints).
use tiltas_systems::registry::systems;

#[test]
fn every_system_readme_has_its_current_settings_table() {
    let bless = std::env::var_os("TILTAS_BLESS").is_some();
    let mut stale = Vec::new();
    for system in systems().all() {
        let spec = system.spec();
        let readme = system.readme().unwrap_or_else(|| {
            panic!(
                "system {} has no README: add README.md to its folder and `fn readme`",
                spec.name
            )
        });
        let wanted = spec.settings_markdown();
        if spec.settings_section(readme.text) == Some(wanted.as_str()) {
            continue;
        }
        if bless {
            // Several systems may share a README (csv and jsonl): update what is on disk.
            let current =
                std::fs::read_to_string(readme.path).unwrap_or_else(|error| panic!("{}: {error}", readme.path));
            std::fs::write(readme.path, spec.with_settings(&current))
                .unwrap_or_else(|error| panic!("{}: {error}", readme.path));
        }
        stale.push(format!("{} ({})", spec.name, readme.path));
    }
    assert!(
        bless || stale.is_empty(),
        "the settings section of these READMEs differs from the systems' specs: {}; run \
         `TILTAS_BLESS=1 cargo test -p tiltas-systems --test docs` and commit the READMEs",
        stale.join(", ")
    );
}

#[test]
fn a_generated_section_lists_every_key_and_entity_of_the_spec() {
    let rivile = systems().get("rivile").expect("rivile is in the build").spec();
    let section = rivile.settings_markdown();
    for key in rivile
        .connection_keys
        .iter()
        .chain(rivile.target_keys)
        .chain(rivile.source_keys)
    {
        assert!(
            section.contains(&format!("| `{}` |", key.name)),
            "{} missing:\n{section}",
            key.name
        );
    }
    assert!(section.contains("| order | — | yes | — |"), "{section}");
    let replaced = rivile.with_settings(&format!("# Rivile\n\ntext\n\n{section}\nafter\n"));
    assert_eq!(
        replaced,
        format!("# Rivile\n\ntext\n\n{section}\nafter\n"),
        "an up-to-date section is kept as it is"
    );
}

#[test]
fn every_default_in_every_spec_is_a_value_of_its_key_kind() {
    let mut wrong = Vec::new();
    for system in systems().all() {
        let spec = system.spec();
        for key in spec
            .connection_keys
            .iter()
            .chain(spec.source_keys)
            .chain(spec.target_keys)
        {
            if let Err(message) = key.default_value() {
                wrong.push(format!("{}: {message}", spec.name));
            }
            assert!(
                !(key.required && key.default.is_some()),
                "{}: `{}` is required and has a default: one of them is wrong",
                spec.name,
                key.name
            );
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
