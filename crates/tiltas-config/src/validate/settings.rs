//! The value of a system-specific key, read by its kind.
use super::*;

impl Checker<'_> {
    /// Reads the value of a system-specific key by its kind.
    pub(super) fn setting(&mut self, spec: &KeySpec, entry: &Entry, place: &str) -> Option<SettingValue> {
        let node = &entry.node;
        let value = match spec.kind {
            KeyKind::String => SettingValue::String(self.string(entry, place)?),
            KeyKind::Secret => SettingValue::Secret(self.secret(entry, place)?),
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

/// What a secret may be written as, for messages.
const SECRET_FORMS: &str = "a secret: \"…\", { env = \"VARIABLE\" }, { file = \"PATH\" } or { store = true }";

impl Checker<'_> {
    /// A secret: literal text, `{ env = "VARIABLE" }`, `{ file = "PATH" }` (read now, relative
    /// to the flow file) or `{ store = true }` (sealed in the store by `tiltas secrets set`).
    fn secret(&mut self, entry: &Entry, place: &str) -> Option<Secret> {
        let fields = match &entry.node.kind {
            Kind::Str(text) => return Some(Secret::literal(text.clone())),
            Kind::Table(fields) => fields,
            _ => {
                self.wrong_type(entry, place, SECRET_FORMS);
                return None;
            }
        };
        let [field] = fields.as_slice() else {
            self.wrong_type(entry, place, SECRET_FORMS);
            return None;
        };
        match (field.key.as_str(), &field.node.kind) {
            ("env", Kind::Str(variable)) if !variable.is_empty() => Some(Secret::from_env(variable.clone())),
            ("file", Kind::Str(path)) if !path.is_empty() => self.secret_file(entry, place, path),
            ("store", Kind::Bool(true)) => Some(Secret::from_store()),
            _ => {
                self.wrong_type(entry, place, SECRET_FORMS);
                None
            }
        }
    }

    /// A secret read from a file now, its trailing newline trimmed; an unreadable or empty file
    /// is a problem naming the file, the place and the key.
    fn secret_file(&mut self, entry: &Entry, place: &str, written: &str) -> Option<Secret> {
        let path = self.base_dir.join(written);
        let problem = match std::fs::read_to_string(&path) {
            Ok(text) => {
                let value = text.strip_suffix('\n').unwrap_or(&text);
                let value = value.strip_suffix('\r').unwrap_or(value);
                if !value.is_empty() {
                    return Some(Secret::from_file(path, value));
                }
                "it is empty".to_owned()
            }
            Err(error) => error.to_string(),
        };
        self.problem(
            entry.node.at,
            format!(
                "{place}: `{}` is read from the secret file {}, which cannot be used: {problem}; \
                 write the secret into that file (readable by tiltas) or fix the path (relative to the flow file)",
                entry.key,
                path.display()
            ),
        );
        None
    }
}
