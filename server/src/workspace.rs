//! Which files kubefile-ls treats as Kubefiles, shared by the language server and the CLI.

use std::path::Path;

use crate::{
    analysis::{diagnostics::FileKind, ContextFacts},
    context::SEALOS_MARKERS,
    syntax::SourceFile,
};

/// Kubefile, Sealfile, *.Kubefile and Kubefile.* are always Kubefiles; a Dockerfile or
/// Containerfile is one when its directory is a Sealos build context or the file declares a
/// sealos label. Anything else is read as a plain Dockerfile (no sealos rules).
pub fn file_kind(path: &Path, facts: &ContextFacts, file: &SourceFile) -> FileKind {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    if is_kubefile_name(&name) || looks_like_sealos_context(facts) || file.text().contains("sealos.io") {
        FileKind::Kubefile
    } else {
        FileKind::Dockerfile
    }
}

pub fn is_kubefile_name(name: &str) -> bool {
    name == "Kubefile" || name == "Sealfile" || name.ends_with(".Kubefile") || name.starts_with("Kubefile.")
}

/// A sibling `manifests/`, `charts/`, `images/shim/` or `registry/` (the markers
/// [`BuildContext::looks_like_sealos`](crate::context::BuildContext::looks_like_sealos) checks on disk).
pub fn looks_like_sealos_context(facts: &ContextFacts) -> bool {
    SEALOS_MARKERS.iter().any(|dir| facts.entries.contains(*dir))
}
