//! `[server]`: settings of `tiltas serve` and `tiltas run` that belong to no connection or
//! flow — today the inbox backlog past which webhook ingress answers 503 (backpressure).
use super::Checker;
use crate::tree::Entry;
use crate::types::ServerSettings;

const SERVER_KEYS: [&str; 1] = ["max_inbox_backlog"];

impl Checker<'_> {
    /// The `[server]` table; what it leaves out keeps its default.
    pub(super) fn server(&mut self, entry: &Entry) -> ServerSettings {
        let mut settings = ServerSettings::default();
        let Some(items) = entry.node.as_table() else {
            self.wrong_type(entry, "the file", "a table [server] with max_inbox_backlog = N");
            return settings;
        };
        for item in items {
            match item.key.as_str() {
                "max_inbox_backlog" => {
                    if let Some(limit) = self.positive(item, "[server]") {
                        settings.max_inbox_backlog = limit;
                    }
                }
                _ => self.unknown_key(item, "[server]", &SERVER_KEYS),
            }
        }
        settings
    }
}

#[cfg(test)]
mod tests {
    use crate::{Catalog, EntityAccess, SystemSpec, DEFAULT_MAX_INBOX_BACKLOG};
    use tiltas_model::EntityKind;

    static FILES: SystemSpec = SystemSpec {
        name: "files",
        description: "test files",
        connection_keys: &[],
        source_keys: &[],
        target_keys: &[],
        entities: &[EntityAccess {
            entity: EntityKind::Product,
            read: true,
            write: true,
            incremental: false,
        }],
        accounting: false,
        one_of: &[],
        needs: &[],
        money_places: None,
    };

    struct FilesOnly;

    impl Catalog for FilesOnly {
        fn system(&self, name: &str) -> Option<&'static SystemSpec> {
            (name == "files").then_some(&FILES)
        }
        fn system_names(&self) -> Vec<&'static str> {
            vec!["files"]
        }
    }

    const CONNECTIONS: &str = r#"
[connections.shop]
system = "files"
max_inbox_backlog = 50

[connections.other]
system = "files"

[[flows]]
name = "copy"
entity = "product"
from = { connection = "other" }
to = { connection = "shop" }
"#;

    fn parse(text: &str) -> Result<crate::ValidatedConfig, String> {
        crate::parse_str(text, std::path::Path::new("flows.toml"), &FilesOnly).map_err(|problems| problems.to_string())
    }

    #[test]
    fn a_connection_limit_overrides_the_server_limit_which_defaults_to_ten_thousand() {
        let config = parse(CONNECTIONS).unwrap_or_else(|problems| panic!("{problems}"));
        assert_eq!(config.inbox_backlog_limit("shop"), 50);
        assert_eq!(config.inbox_backlog_limit("other"), DEFAULT_MAX_INBOX_BACKLOG);
        let config = parse(&format!("[server]\nmax_inbox_backlog = 200\n{CONNECTIONS}"))
            .unwrap_or_else(|problems| panic!("{problems}"));
        assert_eq!(config.inbox_backlog_limit("shop"), 50);
        assert_eq!(config.inbox_backlog_limit("other"), 200);
    }

    #[test]
    fn a_limit_that_is_not_a_positive_number_or_an_unknown_server_key_is_refused_at_its_place() {
        let problems = parse(&format!(
            "[server]\nmax_inbox_backlog = 0\nmax_backlog = 3\n{CONNECTIONS}"
        ))
        .expect_err("refused");
        assert!(
            problems.contains("flows.toml:2:21: [server]: `max_inbox_backlog` must be a whole number ≥ 1, found 0"),
            "{problems}"
        );
        assert!(problems.contains("flows.toml:3:1"), "{problems}");
        assert!(problems.contains("did you mean \"max_inbox_backlog\"?"), "{problems}");
    }
}
