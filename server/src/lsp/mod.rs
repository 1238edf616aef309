//! The language server: tower-lsp-server glue. Converts types, routes requests, holds documents;
//! no analysis logic of its own.

use std::process::ExitCode;

/// Serves LSP on stdin/stdout until the client asks to exit.
pub fn run_stdio() -> ExitCode {
    eprintln!("kubefile-ls: the language server is not built yet");
    ExitCode::from(1)
}
