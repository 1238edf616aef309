//! `kubefile-ls check`: the language server's diagnostics for shells and CI.

use std::{
    io::{IsTerminal, Write},
    path::{Path, PathBuf},
    process::ExitCode,
};

use clap::{Args, ValueEnum};

use crate::{
    analysis::{
        config::SeverityOverride,
        diagnostics_for,
        lists::{self, ListFile},
        Config, ContextFacts, Diagnostic, Severity,
    },
    context,
    syntax::{LineCol, LineIndex, PositionEncoding, SourceFile},
    workspace,
};

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Github,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Deny {
    Warnings,
}

#[derive(Args)]
pub struct CheckArgs {
    /// Build files, or context directories (the build file is found as sealos does).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// Change a code's severity: `code=off|hint|info|warning|error` (repeatable).
    #[arg(long = "severity-override", value_name = "CODE=LEVEL")]
    severity_overrides: Vec<String>,
    /// Extra LABEL keys your tooling reads (repeatable).
    #[arg(long = "allow-label", value_name = "KEY")]
    allowed_labels: Vec<String>,
    /// Exit 1 on warnings too.
    #[arg(long, value_enum)]
    deny: Option<Deny>,
}

/// The diagnostics of one file (a build file or an image list), with what is needed to print them.
struct Report {
    path: PathBuf,
    text: String,
    line_index: LineIndex,
    diagnostics: Vec<Diagnostic>,
}

pub fn run(args: CheckArgs) -> ExitCode {
    let config = match config_from(&args) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("kubefile-ls check: {message}");
            return ExitCode::from(2);
        }
    };
    let mut reports = Vec::new();
    for path in &args.paths {
        match check_path(path, &config) {
            Ok(mut found) => reports.append(&mut found),
            Err(message) => {
                eprintln!("kubefile-ls check: {message}");
                return ExitCode::from(2);
            }
        }
    }
    let mut stdout = std::io::stdout().lock();
    let written = match args.format {
        Format::Human => write_human(&mut stdout, &reports, std::io::stdout().is_terminal()),
        Format::Json => write_json(&mut stdout, &reports),
        Format::Sarif => write_sarif(&mut stdout, &reports),
        Format::Github => write_github(&mut stdout, &reports),
    };
    if let Err(error) = written {
        eprintln!("kubefile-ls check: cannot write the report: {error}");
        return ExitCode::from(2);
    }
    let all = reports.iter().flat_map(|report| &report.diagnostics);
    let failing = |d: &&Diagnostic| d.severity == Severity::Error || (args.deny == Some(Deny::Warnings) && d.severity == Severity::Warning);
    if all.clone().any(|d| failing(&d)) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn config_from(args: &CheckArgs) -> Result<Config, String> {
    let mut config = Config { allowed_labels: args.allowed_labels.clone(), ..Config::default() };
    for entry in &args.severity_overrides {
        let (code, level) = entry.split_once('=').ok_or_else(|| format!("--severity-override expects CODE=LEVEL, got `{entry}`"))?;
        let level: SeverityOverride = serde_json::from_value(serde_json::Value::String(level.to_string()))
            .map_err(|_| format!("unknown severity `{level}` in `{entry}`: use off, hint, info, warning or error"))?;
        config.severity.insert(code.to_string(), level);
    }
    Ok(config)
}

fn check_path(path: &Path, config: &Config) -> Result<Vec<Report>, String> {
    if path.is_dir() {
        // A context: its build files, then the image lists sealos reads from it.
        let files = context::BuildContext::new(path).build_files().map_err(|error| format!("{error}: {}", path.display()))?;
        let facts = context::facts::collect(path);
        let mut reports = Vec::new();
        for file_path in files {
            reports.push(check_build_file(file_path, &facts, config)?);
        }
        for (relative, role) in crate::context::lists::files(path) {
            reports.push(check_list(path.join(&relative), &relative, role, &facts, config)?);
        }
        Ok(reports)
    } else if path.is_file() {
        if let Some((root, relative, role)) = image_list_role(path) {
            let facts = context::facts::collect(&root);
            return Ok(vec![check_list(path.to_path_buf(), &relative, role, &facts, config)?]);
        }
        let directory = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let facts = context::facts::collect(directory);
        Ok(vec![check_build_file(path.to_path_buf(), &facts, config)?])
    } else {
        Err(format!("{} does not exist", path.display()))
    }
}

fn read_text(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn check_build_file(path: PathBuf, facts: &ContextFacts, config: &Config) -> Result<Report, String> {
    let text = read_text(&path)?;
    let file = SourceFile::parse(&text);
    let kind = workspace::file_kind(&path, facts, &file);
    let diagnostics = diagnostics_for(&file, kind, Some(facts), config);
    Ok(Report { path, line_index: file.line_index().clone(), text, diagnostics })
}

fn check_list(path: PathBuf, relative: &Path, role: ListFile, facts: &ContextFacts, config: &Config) -> Result<Report, String> {
    let text = read_text(&path)?;
    let diagnostics = lists::diagnostics(role, &relative.to_string_lossy(), &text, Some(facts), config);
    Ok(Report { path, line_index: LineIndex::new(&text), text, diagnostics })
}

/// `(context root, path inside it, role)` when `path` is a file sealos reads images from (an
/// image list, a manifest, a chart values file).
fn image_list_role(path: &Path) -> Option<(PathBuf, PathBuf, ListFile)> {
    let absolute = std::path::absolute(path).ok()?;
    lists::locate(&absolute)
}

fn position(report: &Report, offset: usize) -> LineCol {
    report.line_index.line_col(&report.text, offset, PositionEncoding::Utf16)
}

fn write_human(out: &mut impl Write, reports: &[Report], colour: bool) -> std::io::Result<()> {
    let paint = |code: &str, text: &str| if colour { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() };
    let mut counts = [0usize; 4];
    for report in reports {
        for diagnostic in &report.diagnostics {
            counts[diagnostic.severity as usize] += 1;
            let start = position(report, diagnostic.range.start);
            let severity = match diagnostic.severity {
                Severity::Error => paint("1;31", "error"),
                Severity::Warning => paint("1;33", "warning"),
                Severity::Information => paint("1;34", "info"),
                Severity::Hint => paint("1;36", "hint"),
            };
            writeln!(out, "{}:{}:{}: {severity}[{}]: {}", report.path.display(), start.line + 1, start.col + 1, diagnostic.code, diagnostic.message)?;
            let index = &report.line_index;
            let line_start = index.line_start(start.line as usize);
            let line_text = report.text[line_start..].lines().next().unwrap_or("");
            let caret_col = report.text[line_start..diagnostic.range.start.max(line_start)].chars().count();
            let width = report.text[diagnostic.range.start..diagnostic.range.end.min(line_start + line_text.len()).max(diagnostic.range.start)]
                .chars()
                .count()
                .max(1);
            writeln!(out, "  {line_text}")?;
            writeln!(out, "  {}{}", " ".repeat(caret_col), paint("1;32", &"^".repeat(width)))?;
        }
    }
    if counts.iter().any(|&c| c > 0) {
        let [errors, warnings, infos, hints] = counts;
        let plural = |n: usize, one: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {one}s") };
        writeln!(out, "{}, {}, {infos} info, {}", plural(errors, "error"), plural(warnings, "warning"), plural(hints, "hint"))?;
    }
    Ok(())
}

fn range_json(report: &Report, diagnostic: &Diagnostic) -> serde_json::Value {
    let (start, end) = (position(report, diagnostic.range.start), position(report, diagnostic.range.end));
    serde_json::json!({
        "start": {"line": start.line, "character": start.col},
        "end": {"line": end.line, "character": end.col},
    })
}

fn write_json(out: &mut impl Write, reports: &[Report]) -> std::io::Result<()> {
    let items: Vec<serde_json::Value> = reports
        .iter()
        .flat_map(|report| {
            report.diagnostics.iter().map(move |diagnostic| {
                serde_json::json!({
                    "path": report.path.display().to_string(),
                    "range": range_json(report, diagnostic),
                    "severity": diagnostic.severity.as_str(),
                    "code": diagnostic.code,
                    "message": diagnostic.message,
                })
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &items)?;
    writeln!(out)
}

fn write_sarif(out: &mut impl Write, reports: &[Report]) -> std::io::Result<()> {
    let results: Vec<serde_json::Value> = reports
        .iter()
        .flat_map(|report| {
            report.diagnostics.iter().map(move |diagnostic| {
                let (start, end) = (position(report, diagnostic.range.start), position(report, diagnostic.range.end));
                serde_json::json!({
                    "ruleId": diagnostic.code,
                    "level": match diagnostic.severity { Severity::Error => "error", Severity::Warning => "warning", _ => "note" },
                    "message": {"text": diagnostic.message},
                    "locations": [{"physicalLocation": {
                        "artifactLocation": {"uri": report.path.display().to_string()},
                        "region": {"startLine": start.line + 1, "startColumn": start.col + 1, "endLine": end.line + 1, "endColumn": end.col + 1}
                    }}]
                })
            })
        })
        .collect();
    let sarif = serde_json::json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{"tool": {"driver": {"name": "kubefile-ls", "version": env!("CARGO_PKG_VERSION"),
            "informationUri": "https://github.com/kubefile-ls/kubefile-ls"}}, "results": results}]
    });
    serde_json::to_writer_pretty(&mut *out, &sarif)?;
    writeln!(out)
}

fn write_github(out: &mut impl Write, reports: &[Report]) -> std::io::Result<()> {
    for report in reports {
        for diagnostic in &report.diagnostics {
            let (start, end) = (position(report, diagnostic.range.start), position(report, diagnostic.range.end));
            let level = match diagnostic.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                _ => "notice",
            };
            let message = diagnostic.message.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A");
            writeln!(
                out,
                "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{message}",
                report.path.display(),
                start.line + 1,
                start.col + 1,
                end.line + 1,
                end.col + 1,
                diagnostic.code
            )?;
        }
    }
    Ok(())
}
