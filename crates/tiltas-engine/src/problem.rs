//! [`Problem`]: why one record failed, in the parts a dead letter keeps — the class, the
//! sentence a person reads, and where, which canonical field and the fix beside it, so the
//! inbox can group letters without parsing their text.
use tiltas_connector::{ConnectorError, ErrorKind, RecordFailure};
use tiltas_model::ValidationErrors;
use tiltas_store::FailureClass;

/// Why one record failed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Problem {
    /// What the engine (and a replay) makes of it.
    pub class: FailureClass,
    /// The whole sentence: what is wrong and the fix. Never names the record's key, which the
    /// dead letter holds in its own column.
    pub message: String,
    /// Where in the source (`products.csv:17`).
    pub location: Option<String>,
    /// The canonical field at fault (`lines[0].sku`).
    pub field: Option<String>,
    /// What to change, on its own.
    pub fix: Option<String>,
}

impl Problem {
    /// A record that is wrong and stays wrong until someone changes it.
    pub(crate) fn invalid(message: impl Into<String>) -> Problem {
        Problem {
            class: FailureClass::Invalid,
            message: message.into(),
            location: None,
            field: None,
            fix: None,
        }
    }

    /// The same problem, naming the canonical field at fault.
    pub(crate) fn at_field(mut self, field: impl Into<String>) -> Problem {
        self.field = Some(field.into());
        self
    }

    /// The same problem, with what to change.
    pub(crate) fn with_fix(mut self, fix: impl Into<String>) -> Problem {
        self.fix = Some(fix.into());
        self
    }

    /// A record that fails the canonical model's checks: one letter per record, so the first
    /// field is the one it is filed under and the message lists every problem.
    pub(crate) fn from_validation(errors: &ValidationErrors) -> Problem {
        let problem = Problem::invalid(errors.to_string());
        match errors.0.first() {
            Some(first) => problem.at_field(first.field.clone()),
            None => problem,
        }
    }

    /// A record the source could not read, with what the connector said about it.
    pub(crate) fn from_record_failure(failure: &RecordFailure) -> Problem {
        Problem {
            class: FailureClass::Invalid,
            message: failure.message.clone(),
            location: Some(failure.location.clone()).filter(|location| !location.is_empty()),
            field: failure.field.clone(),
            fix: failure.fix.clone(),
        }
    }

    /// A write the target refused (or a call that failed), classed by the error's kind.
    pub(crate) fn from_connector(error: &ConnectorError) -> Problem {
        Problem {
            class: failure_class(error.kind),
            message: error.message.clone(),
            location: error.location.clone(),
            field: error.field.clone(),
            fix: error.fix.clone(),
        }
    }

    /// The problem as the activity log's response: the class and the sentence, plus the parts
    /// that are known.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let mut response = serde_json::json!({ "class": self.class.as_str(), "message": self.message });
        for (name, part) in [("location", &self.location), ("field", &self.field), ("fix", &self.fix)] {
            if let Some(part) = part {
                response[name] = serde_json::Value::String(part.clone());
            }
        }
        response
    }
}

/// The dead-letter class of a connector failure.
pub(crate) fn failure_class(kind: ErrorKind) -> FailureClass {
    match kind {
        ErrorKind::Transient => FailureClass::Transient,
        ErrorKind::RateLimited => FailureClass::RateLimited,
        ErrorKind::Auth => FailureClass::Auth,
        ErrorKind::Invalid | ErrorKind::Fatal => FailureClass::Invalid,
        ErrorKind::Quota => FailureClass::Quota,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tiltas_model::FieldError;

    #[test]
    fn a_validation_problem_is_filed_under_its_first_field_and_lists_all() {
        let errors = ValidationErrors(vec![
            FieldError {
                field: "sku".to_owned(),
                message: "is required".to_owned(),
            },
            FieldError {
                field: "ean".to_owned(),
                message: "is not a valid GTIN".to_owned(),
            },
        ]);
        let problem = Problem::from_validation(&errors);
        assert_eq!(problem.field.as_deref(), Some("sku"));
        assert!(
            problem.message.contains("`sku`") && problem.message.contains("`ean`"),
            "{}",
            problem.message
        );
    }

    #[test]
    fn a_connector_error_keeps_its_kind_and_parts() {
        let error = ConnectorError::new(ErrorKind::RateLimited, "slow down")
            .at("document line 2")
            .at_field("lines[1].sku")
            .with_fix("wait");
        let problem = Problem::from_connector(&error);
        assert_eq!(
            (
                problem.class,
                problem.location.as_deref(),
                problem.field.as_deref(),
                problem.fix.as_deref()
            ),
            (
                FailureClass::RateLimited,
                Some("document line 2"),
                Some("lines[1].sku"),
                Some("wait")
            )
        );
    }
}
