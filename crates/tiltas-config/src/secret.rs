//! Secrets in the flow file: where each comes from, and a value that is never printed.
use std::fmt;
use std::path::PathBuf;

/// A secret value: written in the file, read from the environment when used, read from a file
/// when the flow file is loaded, or kept sealed in the store. Never printed.
///
/// Typed settings ([`Settings::typed`]) carry it as it is, unresolved, so an environment
/// variable is read only when the secret is used.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Secret(SecretSource);

#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum SecretSource {
    Literal(String),
    Env(String),
    /// `{ file = "PATH" }`: the file's text (trailing newline trimmed), read when the flow file
    /// is loaded.
    File {
        path: PathBuf,
        value: String,
    },
    /// `{ store = true }`: sealed in the store under the connection and key; `value` is filled
    /// by the engine ([`ValidatedConfig::fill_stored_secret`]) before connections open.
    Store {
        value: Option<String>,
    },
}

/// Where a secret comes from, for messages and `tiltas secrets`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretOrigin {
    /// Written in the flow file.
    Literal,
    /// An environment variable, read when used.
    Env(String),
    /// A file, read when the flow file is loaded.
    File(PathBuf),
    /// Sealed in the store (`tiltas secrets set`).
    Store,
}

impl fmt::Display for SecretOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretOrigin::Literal => f.write_str("written in the flow file"),
            SecretOrigin::Env(variable) => write!(f, "environment variable {variable}"),
            SecretOrigin::File(path) => write!(f, "file {}", path.display()),
            SecretOrigin::Store => f.write_str("the store (sealed with the master key)"),
        }
    }
}

impl Secret {
    /// A secret written in the file.
    pub fn literal(value: impl Into<String>) -> Secret {
        Secret(SecretSource::Literal(value.into()))
    }

    /// A secret read from an environment variable.
    pub fn from_env(variable: impl Into<String>) -> Secret {
        Secret(SecretSource::Env(variable.into()))
    }

    /// A secret read from a file: `value` is its text, as read.
    pub fn from_file(path: impl Into<PathBuf>, value: impl Into<String>) -> Secret {
        Secret(SecretSource::File {
            path: path.into(),
            value: value.into(),
        })
    }

    /// A secret kept sealed in the store, not yet read from it.
    pub fn from_store() -> Secret {
        Secret(SecretSource::Store { value: None })
    }

    /// Gives a secret kept in the store its value, read from there; other secrets keep theirs.
    pub(crate) fn fill_stored(&mut self, stored: &str) {
        if let SecretSource::Store { value } = &mut self.0 {
            *value = Some(stored.to_owned());
        }
    }

    /// Where the secret comes from.
    pub fn origin(&self) -> SecretOrigin {
        match &self.0 {
            SecretSource::Literal(_) => SecretOrigin::Literal,
            SecretSource::Env(variable) => SecretOrigin::Env(variable.clone()),
            SecretSource::File { path, .. } => SecretOrigin::File(path.clone()),
            SecretSource::Store { .. } => SecretOrigin::Store,
        }
    }

    /// The secret's value; the error names the missing environment variable or stored value.
    pub fn resolve(&self) -> Result<String, String> {
        match &self.0 {
            SecretSource::Literal(value) | SecretSource::File { value, .. } => Ok(value.clone()),
            SecretSource::Env(variable) => std::env::var(variable)
                .map_err(|_| format!("environment variable {variable} is not set: export it before running tiltas")),
            SecretSource::Store { value } => value.clone().ok_or_else(|| {
                "the secret is kept in the store but was not read from it: set it with \
                 `tiltas secrets set CONNECTION KEY`"
                    .to_owned()
            }),
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            SecretSource::Literal(_) => f.write_str("Secret(***)"),
            SecretSource::Env(variable) => write!(f, "Secret(env {variable})"),
            SecretSource::File { path, .. } => write!(f, "Secret(file {})", path.display()),
            SecretSource::Store { .. } => f.write_str("Secret(store)"),
        }
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print_their_value() {
        let secret = Secret::literal("cs_live_123");
        assert!(!format!("{secret:?} {secret}").contains("cs_live"));
        let missing = Secret::from_env("TILTAS_TEST_SURELY_UNSET_VARIABLE");
        let error = missing.resolve().unwrap_err();
        assert!(
            error.contains("TILTAS_TEST_SURELY_UNSET_VARIABLE is not set"),
            "{error}"
        );
    }
}
