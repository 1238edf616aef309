//! `images/shim/**` lists (sealos `ParseShimImages` + `formalizeImages`): each line is trimmed,
//! empty lines and lines starting with `#` are dropped and one pair of quotes is removed. Nothing
//! else: names are not normalised and inline comments are not stripped, and the save step fails
//! the whole build on a name it cannot parse.

use std::collections::HashMap;

use super::lines::{lines, trim_quotes_range, trim_space_range, Line};
use crate::{
    analysis::{facts::ImageSource, Diagnostic, Severity, TextEdit},
    context::reference::{registry_path, ReferenceError},
    syntax::TextRange,
};

/// What the shim check knows about the rest of the context.
#[derive(Clone, Copy, Debug)]
pub struct ShimContext<'a> {
    /// This list's path relative to the context root (`images/shim/imageList`).
    pub file: &'a str,
    /// The images the context names (`ContextFacts::images`), to find lines another shim list
    /// already has.
    pub images: &'a [ImageSource],
}

/// Diagnostics for one `images/shim` list: `invalid-image-reference`, `shim-inline-comment` and
/// `duplicate-image`.
pub fn shim_diagnostics(text: &str, context: Option<ShimContext<'_>>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for line in lines(text) {
        let trimmed = trim_space_range(line.text);
        if trimmed.is_empty() || line.text[trimmed.clone()].starts_with('#') {
            continue;
        }
        let inner = trim_quotes_range(line.text, trimmed.clone());
        let image = &line.text[inner.clone()];
        if let Some(diagnostic) = inline_comment(&line, inner.clone(), trimmed.clone()) {
            out.push(diagnostic);
            continue;
        }
        if let Err(error) = saved_path(image) {
            let reason = if image != image.to_lowercase() && saved_path(&image.to_lowercase()).is_ok() {
                format!("uppercase letters are not allowed in repository names: `{image}`")
            } else {
                error.to_string()
            };
            let message = format!("{reason}; `sealos build` fails when it saves this image (\"ref invalid source name\")");
            out.push(Diagnostic::new("invalid-image-reference", Severity::Error, line.absolute(inner), message));
            continue;
        }
        let delete_line = vec![TextEdit { range: line.full_range(text), new_text: String::new() }];
        if let Some(first) = seen.get(image) {
            out.push(
                Diagnostic::new(
                    "duplicate-image",
                    Severity::Warning,
                    line.absolute(inner),
                    format!("`{image}` is already listed on line {}: sealos saves each image once, so this line is redundant", first + 1),
                )
                .with_fix("Delete the duplicate line", delete_line),
            );
            continue;
        }
        seen.insert(image, line.number);
        if let Some(other) = context.and_then(|context| listed_before(context, image)) {
            out.push(
                Diagnostic::new(
                    "duplicate-image",
                    Severity::Warning,
                    line.absolute(inner),
                    format!("`{image}` is also listed in {}:{}: sealos saves each image once, so this line is redundant", other.file, other.line),
                )
                .with_fix("Delete the duplicate line", delete_line),
            );
        }
    }
    out
}

/// `nginx:1.25 # web`: sealos keeps the comment as part of the name, which then cannot be saved.
/// Reported when the text before the comment is a valid reference (otherwise the whole line is
/// an `invalid-image-reference`).
fn inline_comment(
    line: &Line<'_>,
    inner: std::ops::Range<usize>,
    trimmed: std::ops::Range<usize>,
) -> Option<Diagnostic> {
    let image = &line.text[inner.clone()];
    let hash = image.char_indices().find(|&(i, c)| c == '#' && i > 0 && image[..i].ends_with(char::is_whitespace))?.0;
    let reference = image[..hash].trim_end();
    if reference.is_empty() || saved_path(reference).is_err() {
        return None;
    }
    let comment = &image[hash..];
    let comment_range = line.absolute(inner.start + hash..inner.end);
    // Keep the quotes, if any, around the reference.
    let cut = line.absolute(inner.start + reference.len()..inner.end);
    let indent = &line.text[..trimmed.start];
    let line_start = line.start;
    Some(
        Diagnostic::new(
            "shim-inline-comment",
            Severity::Error,
            comment_range,
            format!(
                "sealos does not strip inline comments: the image is read as `{image}`, which is not a valid reference, and `sealos build` fails; put the comment on its own line"
            ),
        )
        .with_fix(
            "Move the comment to its own line",
            vec![
                TextEdit { range: line_start..line_start, new_text: format!("{indent}{comment}\n") },
                TextEdit { range: cut.clone(), new_text: String::new() },
            ],
        )
        .with_fix("Remove the comment", vec![TextEdit { range: cut, new_text: String::new() }]),
    )
}

/// Whether sealos can save `image` (go-containerregistry's weak validation, then containers/image).
fn saved_path(image: &str) -> Result<(), ReferenceError> {
    registry_path(image).map(drop)
}

/// The image named on the line of `text` holding `offset`, read as [`shim_diagnostics`] reads it
/// (trimmed, one pair of quotes removed), with its range and 1-based line (as
/// [`ImageSource::line`] counts); `None` on blank and comment lines.
pub fn shim_image_at(text: &str, offset: usize) -> Option<(TextRange, &str, u32)> {
    let line = lines(text).into_iter().find(|line| line.start <= offset && offset <= line.start + line.text.len())?;
    let trimmed = trim_space_range(line.text);
    if trimmed.is_empty() || line.text[trimmed.clone()].starts_with('#') {
        return None;
    }
    let inner = trim_quotes_range(line.text, trimmed);
    let range = line.absolute(inner);
    let number = u32::try_from(line.number + 1).unwrap_or(u32::MAX);
    Some((range.clone(), &text[range], number))
}

/// The first place another shim list (earlier in sealos's walk order) names the same image.
fn listed_before<'a>(context: ShimContext<'a>, image: &str) -> Option<&'a ImageSource> {
    context
        .images
        .iter()
        .filter(|other| other.source == "shim" && other.image == image && other.file.as_str() < context.file)
        .min_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::analysis::lists::testing::{apply_fix, render};

    fn check(text: &str) -> String {
        render(text, &shim_diagnostics(text, None))
    }

    fn fix(text: &str, code: &str, which: usize) -> String {
        let found = shim_diagnostics(text, None);
        let Some(diagnostic) = found.iter().find(|d| d.code == code) else { return format!("no {code}") };
        apply_fix(text, &diagnostic.fixes[which])
    }

    #[test]
    fn invalid_references_fail_the_build() {
        expect![[r#"
            2:1-2:13 error[invalid-image-reference] uppercase letters are not allowed in repository names: `Nginx:1.25.3`; `sealos build` fails when it saves this image ("ref invalid source name")
            3:4-3:16 error[invalid-image-reference] `redis:7.0.0!` is not a valid image reference: a tag is 1 to 128 of `A-Za-z0-9_.-` and cannot start with `.` or `-`; `sealos build` fails when it saves this image ("ref invalid source name")
            4:1-4:26 error[invalid-image-reference] `docker.io/${APP}:{{ .v }}` is not a valid image reference: template syntax (`{{ … }}`) is not rendered, the text is read as is; `sealos build` fails when it saves this image ("ref invalid source name")
        "#]]
        .assert_eq(&check("quay.io/a/b:1\nNginx:1.25.3\n  \"redis:7.0.0!\"\ndocker.io/${APP}:{{ .v }}\n"));
    }

    #[test]
    fn valid_lines_comments_prefixes_and_quotes_pass() {
        expect![[""]].assert_eq(&check(
            "# images\n\n   \n  # indented comment\nnginx\nrancher/harvester-csi-driver:\ndocker.io/library/nginx:1.25\n'quay.io/a/b:v1'\ncontainers-storage:quay.io/a/app:1\ndocker-daemon:nginx:1\nregistry.k8s.io/pause@sha256:7031c1b283388d2c2e09b57badb803c05ebed362dc88d84b480cc47f72a21097\r\nlast:1",
        ));
    }

    #[test]
    fn control_characters_are_named_and_shown_escaped() {
        expect![[r#"
            1:1-1:9 error[invalid-image-reference] `nginx\u{7}:1` is not a valid image reference: it contains a control character (shown escaped), which no image name can hold; `sealos build` fails when it saves this image ("ref invalid source name")
        "#]]
        .assert_eq(&check("nginx\u{7}:1\n"));
    }

    #[test]
    fn inline_comment_is_reported_on_the_comment() {
        expect![[r#"
            1:12-1:17 error[shim-inline-comment] sealos does not strip inline comments: the image is read as `nginx:1.25 # web`, which is not a valid reference, and `sealos build` fails; put the comment on its own line
            2:1-2:8 error[invalid-image-reference] `redis#x` is not a valid image reference: path components are lowercase letters and digits joined by `.`, `_`, `__` or dashes; `sealos build` fails when it saves this image ("ref invalid source name")
        "#]]
        .assert_eq(&check("nginx:1.25 # web\nredis#x\n"));
    }

    #[test]
    fn inline_comment_fixes() {
        expect![[r#"
            Move the comment to its own line
              # web
              nginx:1.25
        "#]]
        .assert_eq(&fix("  nginx:1.25   # web\n", "shim-inline-comment", 0));
        expect![[r#"
            Remove the comment
            "nginx:1.25"
        "#]]
        .assert_eq(&fix("\"nginx:1.25 # web\"\n", "shim-inline-comment", 1));
    }

    #[test]
    fn duplicates_in_the_file_and_in_earlier_lists() {
        expect![[r#"
            3:2-3:9 warning[duplicate-image] `nginx:1` is already listed on line 1: sealos saves each image once, so this line is redundant
        "#]]
        .assert_eq(&check("nginx:1\nredis:7\n\"nginx:1\"\nnginx:1.0\n"));
        let images = [
            ImageSource { image: "redis:7".into(), source: "shim", file: "images/shim/a".into(), line: 4 },
            ImageSource { image: "redis:7".into(), source: "manifest", file: "manifests/x.yaml".into(), line: 1 },
            ImageSource { image: "nginx:1".into(), source: "shim", file: "images/shim/z".into(), line: 1 },
        ];
        let text = "redis:7\nnginx:1\n";
        let found = shim_diagnostics(text, Some(ShimContext { file: "images/shim/b", images: &images }));
        expect![[r#"
            1:1-1:8 warning[duplicate-image] `redis:7` is also listed in images/shim/a:4: sealos saves each image once, so this line is redundant
        "#]]
        .assert_eq(&render(text, &found));
    }

    #[test]
    fn duplicate_fix_deletes_the_line() {
        expect![[r#"
            Delete the duplicate line
            ab:1
            cd:1
        "#]]
        .assert_eq(&fix("ab:1\ncd:1\nab:1\n", "duplicate-image", 0));
    }
}
