//! The connector contract (DESIGN §5) for every system of this build, made at run time from
//! `tiltas_systems::contract_coverage()`: one trial per system × covered entity × behaviour
//! (`rivile::product::source_waits_out_rate_limits`), each on its own two-worker runtime, and
//! one `SYSTEM::coverage` trial per system of the registry checking that its spec's entities
//! are covered or listed as not covered with a reason. A new system is picked up here once it
//! is in the registry and the coverage list. Filter as with any test binary:
//! `cargo test -p tiltas-testkit --test contract -- rivile::product`.
//!
//! The simulators' data and fault decisions come from one seed, printed with any failure;
//! `TILTAS_CONTRACT_SEED=N` runs with another.
use libtest_mimic::{Arguments, Failed, Trial};
use std::panic::AssertUnwindSafe;
use tiltas_systems::{contract_coverage, registry, ContractCoverage};
use tiltas_testkit::connector_contract::{coverage, Behaviour, Side, Sut, BEHAVIOURS};

/// The seed unless `TILTAS_CONTRACT_SEED` says otherwise.
const DEFAULT_SEED: u64 = 21;

/// Trials run at once unless `--test-threads` or `RUST_TEST_THREADS` says otherwise. More than
/// the cores: a trial mostly waits (rate limits, `Retry-After`, pacing, retry backoff) — all 78
/// use about 6 s of CPU in 70 s of two at a time — and each has its own runtime and simulators,
/// so eight at once finish in about the time of the longest (Rivile's paced writes).
const CONCURRENT_TRIALS: usize = 8;

fn main() {
    let mut arguments = Arguments::from_args();
    if arguments.test_threads.is_none() {
        let from_environment = std::env::var("RUST_TEST_THREADS")
            .ok()
            .and_then(|text| text.trim().parse().ok());
        arguments.test_threads = Some(from_environment.unwrap_or(CONCURRENT_TRIALS));
    }
    let seed = match std::env::var("TILTAS_CONTRACT_SEED") {
        Err(_) => DEFAULT_SEED,
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("TILTAS_CONTRACT_SEED must be a whole number, found {text:?}")),
    };
    let listed = contract_coverage();
    let mut trials = Vec::new();
    for system in registry::systems().all() {
        let spec = system.spec();
        let entry = listed.iter().find(|entry| entry.system() == spec.name).copied();
        trials.push(Trial::test(format!("{}::coverage", spec.name), move || {
            coverage::check(spec, entry.as_ref()).map_err(Failed::from)
        }));
    }
    for entry in &listed {
        if registry::systems().get(entry.system()).is_none() {
            let system = entry.system();
            trials.push(Trial::test(format!("{system}::coverage"), move || {
                Err(Failed::from(format!(
                    "tiltas_systems::contract_coverage() lists {system}, which is not in the registry"
                )))
            }));
        }
    }
    for entry in listed {
        let ContractCoverage::Simulated(fixture) = entry else {
            continue;
        };
        for covered in fixture.covered {
            for behaviour in BEHAVIOURS {
                let runs = match behaviour.side {
                    Side::Source => covered.source,
                    Side::Target => covered.target,
                };
                if !runs {
                    continue;
                }
                let sut = Sut {
                    fixture,
                    covered: *covered,
                    seed,
                };
                let name = format!("{}::{}::{}", fixture.system, covered.entity, behaviour.name);
                trials.push(Trial::test(name, move || run(*behaviour, sut)));
            }
        }
    }
    libtest_mimic::run(&arguments, trials).exit();
}

/// Runs one behaviour on a runtime of its own, as `#[tokio::test(flavor = "multi_thread",
/// worker_threads = 2)]` would, and names the seed when it fails.
fn run(behaviour: Behaviour, sut: Sut) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| Failed::from(format!("no runtime: {error}")))?;
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| runtime.block_on((behaviour.run)(&sut))));
    outcome.map_err(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("the behaviour panicked");
        Failed::from(format!(
            "{message}\n(seed {}: rerun with TILTAS_CONTRACT_SEED={})",
            sut.seed, sut.seed
        ))
    })
}
