fn main() -> std::process::ExitCode {
    kubefile_ls::cli::main()
}
