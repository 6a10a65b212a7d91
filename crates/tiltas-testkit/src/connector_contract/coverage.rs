//! Whether the contract covers a system: every entity its spec reads or writes is run on that
//! side, or is listed as not covered with a reason — so adding an entity to a spec without
//! contract coverage (or an explanation) fails.
use tiltas_config::SystemSpec;
use tiltas_systems::ContractCoverage;

/// Checks one system's spec against its entry in the contract coverage list; `Err` says
/// every problem and the fix.
pub fn check(spec: &SystemSpec, coverage: Option<&ContractCoverage>) -> Result<(), String> {
    let fixture = match coverage {
        None => {
            return Err(format!(
                "system {} has no entry in tiltas_systems::contract_coverage(): add its simulator's \
                 `contract_fixture()`, or `ContractCoverage::NoSimulator` with the reason it has none",
                spec.name
            ))
        }
        Some(ContractCoverage::NoSimulator { reason, .. }) if reason.trim().is_empty() => {
            return Err(format!(
                "system {} is listed without a simulator but with no reason",
                spec.name
            ))
        }
        Some(ContractCoverage::NoSimulator { .. }) => return Ok(()),
        Some(ContractCoverage::Simulated(fixture)) => fixture,
    };
    let mut problems = Vec::new();
    for access in spec.entities {
        let covered = fixture.covered.iter().find(|covered| covered.entity == access.entity);
        let source = covered.is_some_and(|covered| covered.source);
        let target = covered.is_some_and(|covered| covered.target);
        let not_covered = fixture.not_covered.iter().find(|listed| listed.entity == access.entity);
        let uncovered_sides: Vec<&str> = [(access.read && !source, "read"), (access.write && !target, "written")]
            .into_iter()
            .filter_map(|(missing, side)| missing.then_some(side))
            .collect();
        match not_covered {
            Some(listed) if listed.reason.trim().is_empty() => {
                problems.push(format!("{} is listed as not covered with no reason", access.entity))
            }
            Some(_) if uncovered_sides.is_empty() => problems.push(format!(
                "{} is covered on every side the spec has, yet listed as not covered: remove it from `not_covered`",
                access.entity
            )),
            Some(_) => {}
            None if !uncovered_sides.is_empty() => problems.push(format!(
                "{} is {} by the spec but the contract does not run that side: cover it in the fixture's \
                 `covered`, or list it in `not_covered` with the reason and what tests it instead",
                access.entity,
                uncovered_sides.join(" and ")
            )),
            None => {}
        }
    }
    for covered in fixture.covered {
        let access = spec.access(covered.entity);
        let reads = access.is_some_and(|access| access.read);
        let writes = access.is_some_and(|access| access.write);
        if (covered.source && !reads) || (covered.target && !writes) {
            problems.push(format!(
                "the fixture covers {} as a {} the spec does not have",
                covered.entity,
                if covered.source && !reads { "source" } else { "target" }
            ));
        }
    }
    for listed in fixture.not_covered {
        if spec.access(listed.entity).is_none() {
            problems.push(format!(
                "{} is listed as not covered but the spec neither reads nor writes it: remove it",
                listed.entity
            ));
        }
    }
    if fixture.refusal_text.trim().is_empty() && fixture.covered.iter().any(|covered| covered.target) {
        problems.push("the fixture has no `refusal_text` for the refused-item case to find".to_owned());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the contract fixture of {} ({}'s simulator crate): {}",
            spec.name,
            spec.name,
            problems.join("; ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tiltas_config::EntityAccess;
    use tiltas_model::EntityKind;
    use tiltas_sim::contract::{ContractFixture, CoveredEntity, NotCovered, StartRequest, Starting};

    /// A shop that reads and writes products and only writes orders.
    static SHOP: SystemSpec = SystemSpec {
        name: "shop",
        description: "a shop",
        connection_keys: &[],
        source_keys: &[],
        target_keys: &[],
        entities: &[
            EntityAccess {
                entity: EntityKind::Product,
                read: true,
                write: true,
                incremental: true,
            },
            EntityAccess {
                entity: EntityKind::Order,
                read: false,
                write: true,
                incremental: false,
            },
        ],
        accounting: false,
        one_of: &[],
        needs: &[],
        money_places: None,
    };

    const PRODUCTS: CoveredEntity = CoveredEntity {
        entity: EntityKind::Product,
        match_on: Some("sku"),
        mutate: "product",
        source: true,
        target: true,
    };

    fn never_started(_: StartRequest) -> Starting {
        Box::pin(async { panic!("a coverage check starts no simulator") })
    }

    fn fixture(covered: &'static [CoveredEntity], not_covered: &'static [NotCovered]) -> ContractCoverage {
        ContractCoverage::Simulated(ContractFixture {
            system: "shop",
            start: never_started,
            covered,
            not_covered,
            refusal_text: "refused",
        })
    }

    #[test]
    fn every_entity_of_the_spec_is_covered_or_explained() {
        let orders_explained = fixture(
            &[PRODUCTS],
            &[NotCovered {
                entity: EntityKind::Order,
                reason: "written through the order pipeline",
            }],
        );
        assert_eq!(check(&SHOP, Some(&orders_explained)), Ok(()));

        let orders_forgotten = fixture(&[PRODUCTS], &[]);
        let problem = check(&SHOP, Some(&orders_forgotten)).unwrap_err();
        assert!(
            problem.contains("order is written by the spec but the contract does not run that side"),
            "{problem}"
        );
    }

    #[test]
    fn a_side_left_out_needs_a_reason_too() {
        const READ_ONLY: CoveredEntity = CoveredEntity {
            target: false,
            ..PRODUCTS
        };
        let problem = check(
            &SHOP,
            Some(&fixture(
                &[READ_ONLY],
                &[NotCovered {
                    entity: EntityKind::Order,
                    reason: "pipeline",
                }],
            )),
        )
        .unwrap_err();
        assert!(problem.contains("product is written by the spec"), "{problem}");
    }

    #[test]
    fn stale_or_empty_explanations_and_missing_systems_fail() {
        let stale = fixture(
            &[PRODUCTS],
            &[
                NotCovered {
                    entity: EntityKind::Order,
                    reason: "pipeline",
                },
                NotCovered {
                    entity: EntityKind::Stock,
                    reason: "no such thing",
                },
            ],
        );
        let problem = check(&SHOP, Some(&stale)).unwrap_err();
        assert!(
            problem.contains("stock is listed as not covered but the spec"),
            "{problem}"
        );

        let unexplained = fixture(
            &[PRODUCTS],
            &[NotCovered {
                entity: EntityKind::Order,
                reason: " ",
            }],
        );
        assert!(check(&SHOP, Some(&unexplained)).unwrap_err().contains("no reason"));

        assert!(check(&SHOP, None).unwrap_err().contains("no entry"));
        let no_simulator = ContractCoverage::NoSimulator {
            system: "shop",
            reason: "",
        };
        assert!(check(&SHOP, Some(&no_simulator)).unwrap_err().contains("no reason"));
    }
}
