//! `images/skopeo/tar.txt` (sealos `TarList`, since v5.0.0): each line is
//! `docker-archive:<path>@<dest>` or `oci-archive:<path>@<dest>`. Only exactly empty lines are
//! skipped; anything else that does not fit (comments, blank-looking lines, another transport)
//! fails the build with "invalid image format". `<path>` is joined to `images/skopeo` with Go's
//! `path.Join`; `<dest>` is a repository path inside `registry/`, without a registry domain.

use super::lines::{lines, trim_space_range, Line};
use crate::{
    analysis::{diagnostics::did_you_mean, facts::ContextFacts, Diagnostic, Severity, TextEdit},
    context::{
        images::archive_path,
        reference::{archive_destination_path, control_character},
    },
    syntax::TextRange,
};

const TRANSPORTS: [&str; 2] = ["docker-archive", "oci-archive"];
const CODE: &str = "invalid-tar-line";

/// Diagnostics for `images/skopeo/tar.txt` (`invalid-tar-line`). With `facts`, archive paths are
/// checked against the context.
pub fn tar_list_diagnostics(text: &str, facts: Option<&ContextFacts>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for line in lines(text) {
        if line.text.is_empty() {
            continue;
        }
        check_line(text, &line, facts, &mut out);
    }
    out
}

fn check_line(text: &str, line: &Line<'_>, facts: Option<&ContextFacts>, out: &mut Vec<Diagnostic>) {
    let delete_line = || vec![TextEdit { range: line.full_range(text), new_text: String::new() }];
    let trimmed = trim_space_range(line.text);
    if trimmed.is_empty() {
        out.push(
            Diagnostic::new(
                CODE,
                Severity::Error,
                line.absolute(0..line.text.len()),
                "a line of only blanks is not skipped: sealos skips only exactly empty lines and fails with \"invalid image format\"",
            )
            .with_fix("Delete the line", delete_line()),
        );
        return;
    }
    if let Some(control) = control_character(line.text) {
        out.push(Diagnostic::new(
            CODE,
            Severity::Error,
            line.absolute(0..line.text.len()),
            format!(
                "the line contains the control character {}: kubefile-ls refuses it (sealos would fail on the archive or the destination)",
                control.escape_default()
            ),
        ));
        return;
    }
    if line.text[trimmed.clone()].starts_with('#') {
        out.push(
            Diagnostic::new(
                CODE,
                Severity::Error,
                line.absolute(trimmed),
                "tar.txt has no comments: sealos reads this line as an archive and fails with \"invalid image format\"",
            )
            .with_fix("Delete the comment line", delete_line()),
        );
        return;
    }
    if trimmed != (0..line.text.len()) {
        out.push(
            Diagnostic::new(
                CODE,
                Severity::Error,
                line.absolute(0..line.text.len()),
                "sealos does not trim tar.txt lines: the blanks around this entry become part of the transport or the destination",
            )
            .with_replacement("Remove the blanks", line.absolute(0..line.text.len()), &line.text[trimmed]),
        );
        return;
    }
    let Some(at) = line.text.find('@') else {
        out.push(Diagnostic::new(
            CODE,
            Severity::Error,
            line.absolute(0..line.text.len()),
            format!(
                "`{}` has no `@<repository>` destination: write `docker-archive:<file>@<repository>[:tag]` (sealos fails with \"invalid image format\")",
                line.text
            ),
        ));
        return;
    };
    let (archive, destination) = (&line.text[..at], &line.text[at + 1..]);
    let Some(path) = TRANSPORTS.iter().find_map(|t| archive.strip_prefix(t).and_then(|rest| rest.strip_prefix(':')))
    else {
        out.push(transport_error(line, archive));
        return;
    };
    let path_range = line.absolute(at - path.len()..at);
    check_path(path, path_range, facts, out);
    check_destination(destination, line.absolute(at + 1..line.text.len()), out);
}

fn transport_error(line: &Line<'_>, archive: &str) -> Diagnostic {
    let transport = archive.split_once(':').map_or(archive, |(transport, _)| transport);
    let range = line.absolute(0..transport.len().max(1).min(line.text.len()));
    let message = format!(
        "`{transport}` is not a transport sealos reads here: the line must start with `docker-archive:` or `oci-archive:`"
    );
    let diagnostic = Diagnostic::new(CODE, Severity::Error, range.clone(), message);
    match did_you_mean(transport, TRANSPORTS) {
        Some(suggestion) if archive.contains(':') => {
            diagnostic.with_replacement(format!("Change to `{suggestion}`"), range, suggestion)
        }
        _ => diagnostic,
    }
}

fn check_path(path: &str, range: TextRange, facts: Option<&ContextFacts>, out: &mut Vec<Diagnostic>) {
    if path.is_empty() {
        out.push(Diagnostic::new(CODE, Severity::Error, range, "the archive path is empty: write `docker-archive:<file>@<repository>`"));
        return;
    }
    let Some(joined) = archive_path(path) else {
        out.push(Diagnostic::new(
            CODE,
            Severity::Error,
            range,
            format!("`{path}` leaves the build context: archives are read relative to images/skopeo"),
        ));
        return;
    };
    if let Some(facts) = facts {
        if !facts.exists(&joined) {
            let absolute = if path.starts_with('/') {
                format!(" (sealos joins `{path}` under images/skopeo; absolute paths do not work)")
            } else {
                String::new()
            };
            out.push(Diagnostic::new(
                CODE,
                Severity::Error,
                range,
                format!("the archive `{joined}` does not exist{absolute}: `sealos build` fails to load it"),
            ));
            return;
        }
    }
    if path.starts_with('/') {
        let relative = path.trim_start_matches('/');
        out.push(
            Diagnostic::new(
                CODE,
                Severity::Warning,
                range.clone(),
                format!("archive paths are relative to images/skopeo: sealos reads `{joined}`, not `{path}`"),
            )
            .with_replacement(format!("Change to `{relative}`"), range, relative),
        );
    }
}

fn check_destination(destination: &str, range: TextRange, out: &mut Vec<Diagnostic>) {
    if destination.is_empty() {
        out.push(Diagnostic::new(
            CODE,
            Severity::Error,
            range,
            "the destination is empty: write the repository after `@`, e.g. `@library/app:v1`",
        ));
        return;
    }
    if let Err(error) = archive_destination_path(destination) {
        out.push(Diagnostic::new(CODE, Severity::Error, range, format!("invalid destination: {error}")));
        return;
    }
    if let Some((first, rest)) = destination.split_once('/') {
        if first.contains(['.', ':']) || first == "localhost" {
            out.push(
                Diagnostic::new(
                    CODE,
                    Severity::Error,
                    range.clone(),
                    format!(
                        "`{destination}` starts with the registry `{first}`, but a tar.txt destination is a repository path only: sealos would store the archive as repository `{first}/{}`, not where nodes look for it; write `{rest}`",
                        rest.split([':', '@']).next().unwrap_or(rest)
                    ),
                )
                .with_replacement(format!("Change to `{rest}`"), range, rest),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::analysis::lists::testing::{apply_fix, render};

    fn facts(files: &[&str]) -> ContextFacts {
        let mut facts = ContextFacts::default();
        for file in files {
            let mut partial = String::new();
            for component in file.split('/') {
                if !partial.is_empty() {
                    partial.push('/');
                }
                partial.push_str(component);
                facts.entries.insert(partial.clone());
            }
        }
        facts
    }

    fn check(text: &str, files: Option<&[&str]>) -> String {
        let facts = files.map(facts);
        render(text, &tar_list_diagnostics(text, facts.as_ref()))
    }

    fn fix(text: &str) -> String {
        let found = tar_list_diagnostics(text, None);
        let Some(fix) = found.first().and_then(|d| d.fixes.first()) else { return "no fix".into() };
        apply_fix(text, fix)
    }

    #[test]
    fn valid_lines_pass() {
        expect![[""]].assert_eq(&check(
            "docker-archive:cni.tar@calico/cni:v3.20.0\noci-archive:sub/main.tar@library/config_main\n\ndocker-archive:./x.tar@x/y@sha256:7031c1b283388d2c2e09b57badb803c05ebed362dc88d84b480cc47f72a21097\r\n",
            Some(&["images/skopeo/cni.tar", "images/skopeo/sub/main.tar", "images/skopeo/x.tar"]),
        ));
    }

    #[test]
    fn syntax_errors() {
        expect![[r#"
            1:1-1:11 error[invalid-tar-line] tar.txt has no comments: sealos reads this line as an archive and fails with "invalid image format"
            2:1-2:4 error[invalid-tar-line] a line of only blanks is not skipped: sealos skips only exactly empty lines and fails with "invalid image format"
            3:1-3:21 error[invalid-tar-line] `docker-archive:a.tar` has no `@<repository>` destination: write `docker-archive:<file>@<repository>[:tag]` (sealos fails with "invalid image format")
            4:1-4:7 error[invalid-tar-line] `docker` is not a transport sealos reads here: the line must start with `docker-archive:` or `oci-archive:`
            5:1-5:14 error[invalid-tar-line] `docker-archiv` is not a transport sealos reads here: the line must start with `docker-archive:` or `oci-archive:`
            6:1-6:28 error[invalid-tar-line] sealos does not trim tar.txt lines: the blanks around this entry become part of the transport or the destination
            7:16-7:16 error[invalid-tar-line] the archive path is empty: write `docker-archive:<file>@<repository>`
            8:22-8:22 error[invalid-tar-line] the destination is empty: write the repository after `@`, e.g. `@library/app:v1`
        "#]]
        .assert_eq(&check(
            "# archives\n   \ndocker-archive:a.tar\ndocker://nginx:1@library/nginx\ndocker-archiv:a.tar@a/b\n  docker-archive:a.tar@a/b \ndocker-archive:@a/b\ndocker-archive:a.tar@\n",
            None,
        ));
    }

    #[test]
    fn paths_and_destinations() {
        expect![[r#"
            1:16-1:24 error[invalid-tar-line] the archive `images/skopeo/miss.tar` does not exist: `sealos build` fails to load it
            2:16-2:26 error[invalid-tar-line] the archive `images/skopeo/tmp/x.tar` does not exist (sealos joins `/tmp/x.tar` under images/skopeo; absolute paths do not work): `sealos build` fails to load it
            3:16-3:30 error[invalid-tar-line] `../../../x.tar` leaves the build context: archives are read relative to images/skopeo
            4:22-4:47 error[invalid-tar-line] `docker.io/library/nginx:1` starts with the registry `docker.io`, but a tar.txt destination is a repository path only: sealos would store the archive as repository `docker.io/library/nginx`, not where nodes look for it; write `library/nginx:1`
            5:22-5:29 error[invalid-tar-line] invalid destination: uppercase letters are not allowed in repository names: `App:v1!`
            6:16-6:22 warning[invalid-tar-line] archive paths are relative to images/skopeo: sealos reads `images/skopeo/a.tar`, not `/a.tar`
        "#]]
        .assert_eq(&check(
            "docker-archive:miss.tar@a/b\ndocker-archive:/tmp/x.tar@a/b\ndocker-archive:../../../x.tar@a/b\ndocker-archive:a.tar@docker.io/library/nginx:1\ndocker-archive:a.tar@App:v1!\ndocker-archive:/a.tar@a/b\n",
            Some(&["images/skopeo/a.tar"]),
        ));
    }

    #[test]
    fn control_characters_are_refused() {
        expect![[r#"
            1:1-1:26 error[invalid-tar-line] the line contains the control character \u{1b}: kubefile-ls refuses it (sealos would fail on the archive or the destination)
        "#]]
        .assert_eq(&check("docker-archive:a\u{1b}.tar@a/b\n", None));
    }

    #[test]
    fn quick_fixes() {
        expect![[r#"
            Delete the comment line
            docker-archive:a.tar@a/b
        "#]]
        .assert_eq(&fix("# x\ndocker-archive:a.tar@a/b\n"));
        expect![[r#"
            Change to `docker-archive`
            docker-archive:a.tar@a/b
        "#]]
        .assert_eq(&fix("docker-archiv:a.tar@a/b\n"));
        expect![[r#"
            Change to `library/nginx:1`
            docker-archive:a.tar@library/nginx:1
        "#]]
        .assert_eq(&fix("docker-archive:a.tar@quay.io/library/nginx:1\n"));
    }
}
