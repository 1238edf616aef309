//! The command line: `kubefile-ls [lsp]`, `check`, `images`, `parse`. Each command calls the same
//! analysis and context code as the language server and only renders the results.

mod build;
mod check;
mod images;
mod parse;
mod save;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "kubefile-ls", version, about = "Language server and checker for Sealos Kubefiles")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the language server on stdin/stdout (the default).
    Lsp {
        /// Accepted for editors that pass it; stdio is the only transport.
        #[arg(long)]
        stdio: bool,
    },
    /// Build the cluster image: diagnostics, image extraction, save into registry/, assembly.
    Build(build::BuildArgs),
    /// Report diagnostics for build files or context directories.
    Check(check::CheckArgs),
    /// List the images `sealos build` saves into registry/, with where each one comes from.
    Images(images::ImagesArgs),
    /// Print the syntax tree of a Kubefile.
    Parse(parse::ParseArgs),
    /// Pull the context's images into CONTEXT/registry (sealos's registry layout).
    Save(save::SaveArgs),
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() { 2 } else { 0 };
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        None | Some(Command::Lsp { .. }) => crate::lsp::run_stdio(),
        Some(Command::Build(args)) => build::run(args),
        Some(Command::Check(args)) => check::run(args),
        Some(Command::Images(args)) => images::run(args),
        Some(Command::Parse(args)) => parse::run(args),
        Some(Command::Save(args)) => save::run(args),
    }
}
