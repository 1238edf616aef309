//! Every diagnostic code is documented in docs/diagnostics.md (editors link there through
//! `codeDescription.href`) and offered in the VS Code extension's `kubefile.severity` settings
//! schema, and nothing else is.

use std::{collections::BTreeSet, path::Path};

/// The codes docs/diagnostics.md has a section for (`## code`, `### code` for image lists).
pub fn documented_codes() -> BTreeSet<String> {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/diagnostics.md");
    let text = std::fs::read_to_string(&docs).unwrap_or_else(|e| panic!("{}: {e}", docs.display()));
    text.lines()
        .filter_map(|line| line.strip_prefix("### ").or_else(|| line.strip_prefix("## ")))
        .filter(|heading| heading.contains('-') && heading.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_vscode_settings_schema_offers_every_documented_code() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../editors/vscode/package.json");
    let package: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    let severity = &package["contributes"]["configuration"]["properties"]["kubefile.severity"]["properties"];
    let offered: BTreeSet<String> = severity.as_object().expect("kubefile.severity.properties").keys().cloned().collect();
    let documented = documented_codes();
    assert!(documented.len() > 40, "{documented:?}");
    assert_eq!(offered, documented);
}
