//! User configuration that changes analysis results.

use std::collections::HashMap;

use serde::Deserialize;

use super::Severity;

/// A per-code severity override; `Off` removes the diagnostic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeverityOverride {
    Off,
    Hint,
    #[serde(alias = "information")]
    Info,
    Warning,
    Error,
}

impl SeverityOverride {
    /// The severity to publish, or `None` when the rule is turned off.
    pub fn severity(self) -> Option<Severity> {
        match self {
            SeverityOverride::Off => None,
            SeverityOverride::Hint => Some(Severity::Hint),
            SeverityOverride::Info => Some(Severity::Information),
            SeverityOverride::Warning => Some(Severity::Warning),
            SeverityOverride::Error => Some(Severity::Error),
        }
    }
}

/// Settings read from `initializationOptions`, `workspace/configuration` or CLI flags.
/// Every field has a default, so a partial settings object never turns a rule off.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Config {
    /// Severity per diagnostic code, e.g. `{"unknown-label": "off"}`.
    pub severity: HashMap<String, SeverityOverride>,
    /// LABEL keys the user's tooling reads, accepted by `unknown-label`.
    pub allowed_labels: Vec<String>,
    /// ENV names provided elsewhere (e.g. by `sealos run -e`), accepted by `undefined-variable`.
    pub known_variables: Vec<String>,
}
