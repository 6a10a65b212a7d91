//! The ledger of one page: everything the page's stages decided — delivered hashes, identity
//! links, settled intents, dead letters, activity, counters, the cursor — gathered in one
//! place and settled in one store transaction at the end of the page.
use super::RunContext;
use crate::problem::Problem;
use crate::report::{PlannedChange, PlannedKind, RecordProblem};
use serde_json::Value;
use tiltas_mapping::FieldPath;
use tiltas_store::{ActivityOutcome, DeliveredHash, HubId, NewActivity, NewDeadLetter, PageSettlement, XrefLink};

/// At most this many record problems are kept in the report (all are dead-lettered).
pub(crate) const REPORTED_PROBLEMS: usize = 50;

/// What one page changes, built up by its stages.
pub(crate) struct Ledger {
    /// What the store settles at the end of the page.
    pub settlement: PageSettlement,
    /// The page's failed records, for the report (the first [`REPORTED_PROBLEMS`]).
    pub problems: Vec<RecordProblem>,
    /// For a dry run: what the page would change.
    pub planned: Vec<PlannedChange>,
}

impl Ledger {
    /// An empty ledger for a page of the run.
    pub fn new(context: &RunContext<'_>) -> Ledger {
        Ledger {
            settlement: PageSettlement {
                flow: context.flow.name.clone(),
                run: context.run,
                ..PageSettlement::default()
            },
            problems: Vec::new(),
            planned: Vec::new(),
        }
    }

    /// Records that a record's content (by `hash`) is now in the target.
    pub fn delivered(&mut self, source_key: String, hash: String, source_hash: String) {
        self.settlement.delivered.push(DeliveredHash {
            source_key,
            hash,
            source_hash: Some(source_hash),
        });
    }

    /// The two identity links of a record: its source key and its target id under one hub id;
    /// `written_hash` marks what this flow wrote, for echo suppression of the reverse flow.
    pub fn link(
        &mut self,
        context: &RunContext<'_>,
        hub_id: HubId,
        source_key: &str,
        target_id: &str,
        written_hash: Option<String>,
    ) {
        let flow = context.flow;
        self.settlement.xrefs.extend([
            XrefLink {
                hub_id,
                entity: flow.entity,
                connection: flow.from.connection.clone(),
                external_id: source_key.to_owned(),
                last_hash: None,
            },
            XrefLink {
                hub_id,
                entity: flow.entity,
                connection: flow.to.connection.clone(),
                external_id: target_id.to_owned(),
                last_hash: written_hash,
            },
        ]);
    }

    /// For a dry run: one change it would make.
    pub fn plan(&mut self, source_key: String, kind: PlannedKind) {
        self.planned.push(PlannedChange { source_key, kind });
    }

    /// Counts a record a filter or policy leaves alone, and logs why.
    pub fn skip(&mut self, context: &RunContext<'_>, source_key: String, source: Value, reason: &str) {
        self.settlement.counters.skipped += 1;
        if context.options.dry_run {
            self.plan(source_key.clone(), PlannedKind::Skip);
        }
        self.settlement.activity.push(NewActivity {
            run: context.run.unwrap_or_default(),
            flow: context.flow.name.clone(),
            source_key,
            outcome: ActivityOutcome::Skipped,
            source_payload: Some(redacted(context, source)),
            sent_payload: None,
            response: Some(serde_json::json!({ "reason": reason })),
        });
    }

    /// Files a failed record: counted, logged, reported, in the activity log and the inbox
    /// (with what was sent, when it got that far). The key goes in its own column, never in
    /// the message.
    pub fn dead_letter(
        &mut self,
        context: &RunContext<'_>,
        source_key: String,
        problem: Problem,
        payload: Value,
        sent: Option<Value>,
    ) {
        self.settlement.counters.failed += 1;
        tracing::info!(
            flow = %context.flow.name,
            key = %source_key,
            class = problem.class.as_str(),
            field = problem.field.as_deref().unwrap_or(""),
            "{}",
            problem.message
        );
        if self.problems.len() < REPORTED_PROBLEMS {
            self.problems.push(RecordProblem {
                source_key: source_key.clone(),
                message: problem.message.clone(),
                location: problem.location.clone(),
                field: problem.field.clone(),
                fix: problem.fix.clone(),
            });
        }
        self.settlement.activity.push(NewActivity {
            run: context.run.unwrap_or_default(),
            flow: context.flow.name.clone(),
            source_key: source_key.clone(),
            outcome: ActivityOutcome::Failed,
            source_payload: Some(redacted(context, payload.clone())),
            sent_payload: sent.map(|sent| redacted(context, sent)),
            response: Some(problem.to_json()),
        });
        self.settlement.dead_letters.push(NewDeadLetter {
            flow: context.flow.name.clone(),
            run: context.run,
            source_key,
            class: problem.class,
            message: problem.message,
            location: problem.location,
            field: problem.field,
            fix: problem.fix,
            payload,
        });
    }
}

/// A copy of a payload with the flow's `redact` fields replaced by `***`, for the log. A bare
/// name (`email`) redacts that field at any depth.
pub(crate) fn redacted(context: &RunContext<'_>, mut payload: Value) -> Value {
    for field in &context.flow.redact {
        if field.contains('.') {
            let path = FieldPath::parse(field);
            let _ = path.update_each(&mut payload, &mut |value| {
                if !value.is_null() {
                    *value = Value::String("***".to_owned());
                }
                Ok(())
            });
        } else {
            redact_everywhere(&mut payload, field);
        }
    }
    payload
}

fn redact_everywhere(value: &mut Value, name: &str) {
    match value {
        Value::Object(fields) => {
            for (key, child) in fields.iter_mut() {
                if key == name && !child.is_null() {
                    *child = Value::String("***".to_owned());
                } else {
                    redact_everywhere(child, name);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| redact_everywhere(item, name)),
        _ => {}
    }
}
