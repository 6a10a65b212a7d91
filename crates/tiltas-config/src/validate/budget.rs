//! `[budget_groups.NAME]`: one daily request budget shared by several connections — a B1.lt
//! request package paid by one company and used by several, an API key shared by two shops.
//! A connection joins with `budget_group = "NAME"`.
use super::Checker;
use crate::diagnostic::suggest;
use crate::tree::{Entry, Node};
use crate::types::BudgetGroup;

const GROUP_KEYS: [&str; 1] = ["daily_budget"];

impl Checker<'_> {
    /// The groups of `[budget_groups]`, each with its required `daily_budget`.
    pub(super) fn budget_groups(&mut self, node: Option<&Node>) -> Vec<BudgetGroup> {
        let mut groups = Vec::new();
        for entry in node.and_then(Node::as_table).unwrap_or_default() {
            let place = format!("[budget_groups.{}]", entry.key);
            let Some(items) = entry.node.as_table() else {
                self.wrong_type(entry, "the file", "a table [budget_groups.NAME] with daily_budget = N");
                continue;
            };
            let mut daily_budget = None;
            for item in items {
                match item.key.as_str() {
                    "daily_budget" => daily_budget = self.positive(item, &place),
                    _ => self.unknown_key(item, &place, &GROUP_KEYS),
                }
            }
            match daily_budget {
                Some(daily_budget) => groups.push(BudgetGroup {
                    name: entry.key.clone(),
                    daily_budget,
                    location: entry.key_at,
                }),
                None if !items.iter().any(|item| item.key == "daily_budget") => self.problem(
                    entry.node.at,
                    format!("{place} needs `daily_budget = N`: the requests its connections may send together per day"),
                ),
                None => {}
            }
        }
        groups
    }

    /// A connection's `budget_group`: it must name a group of the file.
    pub(super) fn budget_group_of(&mut self, item: &Entry, place: &str, groups: &[String]) -> Option<String> {
        let name = self.string(item, place)?;
        if groups.contains(&name) {
            return Some(name);
        }
        let hint = match suggest(&name, groups.iter().map(String::as_str)) {
            Some(close) => format!(": did you mean \"{close}\"?"),
            None if groups.is_empty() => {
                format!(": define it with [budget_groups.{name}] and daily_budget = N")
            }
            None => format!(
                "; the file defines {}",
                groups
                    .iter()
                    .map(|group| format!("\"{group}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        self.problem(item.node.at, format!("{place}: no budget group \"{name}\"{hint}"));
        None
    }
}
