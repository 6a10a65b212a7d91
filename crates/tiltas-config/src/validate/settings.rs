//! The value of a system-specific key, read by its kind.
use super::*;

impl Checker<'_> {
    /// Reads the value of a system-specific key by its kind.
    pub(super) fn setting(&mut self, spec: &KeySpec, entry: &Entry, place: &str) -> Option<SettingValue> {
        let node = &entry.node;
        let value = match spec.kind {
            KeyKind::String => SettingValue::String(self.string(entry, place)?),
            KeyKind::Secret => match &node.kind {
                Kind::Str(text) => SettingValue::Secret(Secret::literal(text.clone())),
                Kind::Table(fields) => match fields.as_slice() {
                    [field] if field.key == "env" && field.node.as_str().is_some_and(|name| !name.is_empty()) => {
                        SettingValue::Secret(Secret::from_env(field.node.as_str().unwrap_or_default()))
                    }
                    _ => {
                        self.wrong_type(entry, place, "a secret: \"…\" or { env = \"VARIABLE\" }");
                        return None;
                    }
                },
                _ => {
                    self.wrong_type(entry, place, "a secret: \"…\" or { env = \"VARIABLE\" }");
                    return None;
                }
            },
            KeyKind::Integer => match node.kind {
                Kind::Int(number) if number >= 0 => SettingValue::Integer(number.unsigned_abs()),
                _ => {
                    self.wrong_type(entry, place, "a whole number ≥ 0");
                    return None;
                }
            },
            KeyKind::Bool => SettingValue::Bool(self.boolean(entry, place)?),
            KeyKind::Path => {
                let relative = self.string(entry, place)?;
                SettingValue::Path(self.base_dir.join(relative))
            }
            KeyKind::Char => {
                let text = self.string(entry, place)?;
                let mut chars = text.chars();
                match (chars.next(), chars.next()) {
                    (Some(character), None) if character.is_ascii() => SettingValue::Char(character),
                    _ => {
                        self.problem(
                            node.at,
                            format!(
                                "{place}: `{}` must be one ASCII character, e.g. \";\", found \"{text}\"",
                                entry.key
                            ),
                        );
                        return None;
                    }
                }
            }
            KeyKind::OneOf(allowed) => {
                let text = self.string(entry, place)?;
                if !allowed.contains(&text.as_str()) {
                    let hint = suggest(&text, allowed.iter().copied())
                        .map(|close| format!(" (did you mean \"{close}\"?)"))
                        .unwrap_or_default();
                    self.problem(
                        node.at,
                        format!(
                            "{place}: `{}` must be one of {}, found \"{text}\"{hint}",
                            entry.key,
                            quoted_list(allowed.iter().copied())
                        ),
                    );
                    return None;
                }
                SettingValue::String(text)
            }
            KeyKind::StringList => SettingValue::StringList(
                self.string_list(entry, place)?
                    .into_iter()
                    .map(|(text, _)| text)
                    .collect(),
            ),
            KeyKind::StringMap => {
                let mut map = BTreeMap::new();
                for (key, value) in self.flat_table(entry, place)? {
                    match value.as_str() {
                        Some(text) => {
                            map.insert(key, text.to_owned());
                        }
                        None => self.problem(
                            value.at,
                            format!(
                                "{place}: `{}.{key}` must be text, found {}",
                                entry.key,
                                value.type_name()
                            ),
                        ),
                    }
                }
                SettingValue::StringMap(map)
            }
            KeyKind::Duration => SettingValue::Duration(self.duration(entry, place)?),
            KeyKind::Url => {
                let text = self.string(entry, place)?;
                if !(text.starts_with("http://") || text.starts_with("https://")) || text.len() < 10 {
                    self.problem(
                        node.at,
                        format!(
                            "{place}: `{}` must be an http:// or https:// URL, found \"{text}\"",
                            entry.key
                        ),
                    );
                    return None;
                }
                SettingValue::Url(text)
            }
        };
        Some(value)
    }
}
