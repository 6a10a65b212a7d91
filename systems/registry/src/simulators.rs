//! The simulators of this build, for `tiltas sim SYSTEM`: each brings its own flags (its
//! crate's `Flags`), and every one takes `--port` (0 = a free port) and `--seed`. Beside them,
//! [`contract_coverage`]: each system's part in the connector contract suite.
use tiltas_sim::contract::ContractFixture;

/// Declares the simulators, one line each: the `Simulator` subcommand (its doc is the line's
/// doc, its flags the simulator crate's `Flags`), how each is started, and its contract fixture.
macro_rules! simulators {
    // A line may end in `(no contract: REASON)`: a simulator the contract suite cannot drive
    // (a system reached through a database, not HTTP), listed as `NoSimulator` with the reason.
    (@coverage $simulator:ident) => { ContractCoverage::Simulated($simulator::contract_fixture()) };
    (@coverage $simulator:ident $system:literal $reason:expr) => {
        ContractCoverage::NoSimulator { system: $system, reason: $reason }
    };
    // A line may also end in `[files]`: a simulator that can write the supplier's files into a
    // folder and exit (`--out DIR`) instead of serving; its `Flags::write_files` says whether
    // it was asked to.
    (@files $flags:ident) => { None };
    (@files $flags:ident files) => { $flags.write_files() };
    ($( $(#[doc = $doc:literal])* $variant:ident => $simulator:ident $((no contract: $system:literal, $reason:expr))? $([$files:ident])?, )+) => {
        /// One simulator with its flags: `tiltas sim <system> [flags]`.
        #[derive(Debug, Clone, clap::Subcommand)]
        pub enum Simulator {
            $( $(#[doc = $doc])* $variant($simulator::Flags), )+
        }

        impl Simulator {
            /// The simulator's router, seeded as its flags say.
            pub fn router(&self) -> axum::Router {
                match self {
                    $( Simulator::$variant(flags) => flags.router(), )+
                }
            }

            /// For a simulator that writes files, when asked to write them and exit: what it
            /// wrote, or why it could not.
            pub fn write_files(&self) -> Option<Result<String, String>> {
                match self {
                    $( Simulator::$variant(flags) => { let _ = flags; simulators!(@files flags $($files)?) } )+
                }
            }

            /// The port it asks for (0: any free one).
            pub fn port(&self) -> u16 {
                match self {
                    $( Simulator::$variant(flags) => flags.common.port, )+
                }
            }
        }

        /// The contract fixture of every simulator.
        fn simulated() -> Vec<ContractCoverage> {
            vec![ $( simulators!(@coverage $simulator $($system $reason)?), )+ ]
        }
    };
}

simulators! {
    /// The reference REST system (`docs/reference-api.md`).
    Reference => tiltas_reference_sim,
    /// Rivile GAMA's Manorivile API v2 gateway.
    Rivile => tiltas_rivile_sim,
    /// A MplusKASSA till's Q-API (SOAP; `ident` and `secret` in the query).
    Mplus => tiltas_mplus_sim,
    /// A B1.lt company (signed JSON API, daily request package).
    B1 => tiltas_b1_sim,
    /// A WooCommerce shop's REST API v3, with signed webhooks.
    Woocommerce => tiltas_woocommerce_sim,
    /// A PrestaShop shop's Webservice (XML and JSON).
    Prestashop => tiltas_prestashop_sim,
    /// A Magento 2 shop's admin REST API (Bearer token, searchCriteria, MSI).
    Magento => tiltas_magento_sim,
    /// A Smartup ERP company (Basic auth, `$export`/`$import`, daily quotas, integration settings).
    Smartup => tiltas_smartup_sim,
    /// An AccountView.net administration's REST API (OAuth2 with rotating refresh tokens).
    Accountview => tiltas_accountview_sim,
    /// An OpenCart 3.x shop: its tables, seeded, in the MySQL/MariaDB database `--mysql` names.
    Opencart => tiltas_opencart_sim (no contract: "opencart", tiltas_opencart_sim::CONTRACT_COVERAGE),
    /// Inter Cars' IC API (OAuth2 client credentials, stock per branch, quotes, requisitions, invoices).
    Intercars => tiltas_intercars_sim,
    /// Omega's public API (key bound to an IP address, `Success:false` in HTTP 200, rests, basket, expense invoices).
    Omega => tiltas_omega_sim,
    /// Bus Market's REST API (raw token, search → UUIDs, stock per warehouse, carts → reserve, rate-limit headers).
    Busmarket => tiltas_busmarket_sim,
    /// Elit's eConnector (SOAP, credentials and per-country company in the body, availability by delivery time, orders).
    Elit => tiltas_elit_sim,
    /// Unique Trade's file feeds (price list CSV, invoice files; `--out DIR` writes them, else served with HTTP Basic).
    Uniquetrade => tiltas_uniquetrade_sim (no contract: "uniquetrade", tiltas_uniquetrade_sim::CONTRACT_COVERAGE) [files],
    /// Vesna's file feeds (price list XLSX in EUR, invoice files; `--out DIR` writes them, else served with token + customer_id).
    Vesna => tiltas_vesna_sim (no contract: "vesna", tiltas_vesna_sim::CONTRACT_COVERAGE) [files],
}

/// A system's part in the connector contract suite (`tiltas-testkit`'s `contract` test).
#[derive(Debug, Clone, Copy)]
pub enum ContractCoverage {
    /// Run against its simulator, as the simulator crate's fixture says.
    Simulated(ContractFixture),
    /// A system without a simulator, and what covers it instead.
    NoSimulator {
        /// The system's name.
        system: &'static str,
        /// Why it has no simulator, and which tests cover it.
        reason: &'static str,
    },
}

impl ContractCoverage {
    /// The system's name.
    pub fn system(&self) -> &'static str {
        match self {
            ContractCoverage::Simulated(fixture) => fixture.system,
            ContractCoverage::NoSimulator { system, .. } => system,
        }
    }
}

/// Every system's part in the connector contract suite, one entry per system of the registry:
/// the contract test runs every fixture here and fails for a system missing from this list.
/// Simulated systems come from [`simulators!`]; the systems without a simulator are listed
/// here with what covers them instead.
pub fn contract_coverage() -> Vec<ContractCoverage> {
    const FILES: &str = "local files have no server to simulate: the files connector is tested on real files \
                         by systems/files/src/tests.rs and end to end by crates/tiltas-cli/tests/it/files_flow.rs";
    let mut coverage = vec![
        ContractCoverage::NoSimulator {
            system: "csv",
            reason: FILES,
        },
        ContractCoverage::NoSimulator {
            system: "jsonl",
            reason: FILES,
        },
        ContractCoverage::NoSimulator {
            system: "bank",
            reason: "statement files dropped into a folder are the system: there is no server to simulate; \
                     the parser and the drop-folder source are tested on the shared camt and MT940 \
                     fixtures and on bad files by systems/bank/src/tests.rs",
        },
    ];
    coverage.extend(simulated());
    coverage
}
