//! Every integration test of `kubefile-ls`, in one test binary: each module used to be its own
//! binary, and each linked the whole crate again (31 links, ~1.5 GB of a clean `cargo test`).
//! Run one group with a filter, e.g. `cargo test -p kubefile-ls --test it lsp_diagnostics::`.

// Shared support: an LSP client over stdio, the shared corpus, real registries, context fixtures,
// and the request checks the fuzz targets make.
mod support;
mod support_corpus;
mod support_registry;
#[path = "../fixtures/context/support.rs"]
mod context_fixtures;
#[path = "../../fuzz/src/requests.rs"]
#[allow(dead_code)] // the fuzz targets use the rest
mod requests;

mod build_assemble;
mod build_base;
mod build_corpus;
mod build_e2e;
mod check_cli;
mod check_corpus;
mod context_bench;
mod context_charts;
mod context_corpus;
mod context_images_cli;
mod docs_codes;
mod lists_corpus;
mod lsp_build;
mod lsp_code_actions;
mod lsp_diagnostics;
mod lsp_features_capabilities;
mod lsp_features_completion;
mod lsp_features_editing;
mod lsp_features_images;
mod lsp_features_navigation;
mod lsp_features_tokens;
mod lsp_lifecycle;
mod lsp_publish_wire;
mod lsp_watch;
mod registry_archives;
mod registry_auth;
mod registry_bench;
mod registry_faults;
mod registry_roundtrip;
mod robust_fixes;
mod robust_fuzz_findings;
mod robust_incremental;
mod robust_offsets;
mod robust_protocol;
mod robust_workers;
