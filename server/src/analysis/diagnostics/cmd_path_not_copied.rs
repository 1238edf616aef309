//! `cmd-path-not-copied`: CMD/ENTRYPOINT names a relative path (`charts/zot`, `manifests/a.yaml`,
//! `bash install.sh`) whose top directory or file no COPY/ADD puts at the image root. At `sealos
//! run` each command runs in the directory the image's files were copied to (§2.5), so the
//! command finds nothing there and fails on the cluster, long after the build succeeded.
//!
//! Only for a final stage FROM scratch whose every COPY/ADD reads the build context with a
//! resolved destination: a base image, another stage or an archive may bring files that cannot
//! be seen from here. A path counts when it starts with `./` or a plain directory name and
//! contains a `/`, or when it is the script `bash`/`sh` runs; `$(NAME)` is replaced by the
//! image's ENV value first, and words with other variables, quotes, `=` or `:` (flags, URLs,
//! `--set a/b=c`), hosts (`github.com/org/repo`) and the commands of a CMD that adds a helm
//! repository (`bitnami/nginx` is a chart there) are left alone.

use super::{Diagnostic, RuleContext, Severity, TextEdit};
use crate::{
    analysis::{
        copies::ContextCopy,
        model::{Item, ItemKind, OutlineStage},
        navigation::top_level_at,
        variables::OutlineScope,
    },
    syntax::{
        ast::{self, Instruction},
        line_index::line_content_end,
        SourceFile, TextRange,
    },
};

pub(super) fn check(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    let Some(stage) = cx.outline.final_stage() else { return };
    if !stage.is_scratch() {
        return;
    }
    let copies = cx.context_copies();
    let copying = stage.items.iter().filter(|item| matches!(item.kind, ItemKind::Copy | ItemKind::Add)).count();
    let unknown = copies.iter().any(|copy| {
        copy.item.kind == ItemKind::Add || copy.destination.is_none() || copy.sources.iter().any(|source| source.path.is_none())
    });
    if copying != copies.len() || unknown {
        return;
    }
    let env = image_env(cx, stage);
    for item in stage.items.iter().filter(|item| matches!(item.kind, ItemKind::Cmd | ItemKind::Entrypoint)) {
        for (range, path) in command_paths(cx.file, item, &env) {
            let top = path.split('/').next().unwrap_or(&path);
            if in_image(top, copies, cx) {
                continue;
            }
            let keyword = item.keyword_name(cx.file);
            let message = format!(
                "{keyword} uses `{path}`, but no COPY puts `{top}` in the image: `sealos run` runs the command where the image's files are, and it fails there. Add `COPY {top} {top}`"
            );
            let mut diagnostic = Diagnostic::new("cmd-path-not-copied", Severity::Warning, range, message);
            // Offered when the context has it (or an init.sh that may create it), so that the
            // fix does not trade this warning for a COPY that fails.
            if cx.facts.is_some_and(|facts| facts.exists(top) || facts.has_init_script()) {
                let anchor = copies.last().map_or(stage.from.end, |copy| copy.item.end);
                let at = line_content_end(cx.file.text(), anchor);
                diagnostic = diagnostic.with_fix(
                    format!("Add `COPY {top} {top}`"),
                    vec![TextEdit { range: at..at, new_text: format!("\nCOPY {top} {top}") }],
                );
            }
            out.push(diagnostic);
        }
    }
}

/// The final values of the image's ENV (what `sealos run` exports), by name.
fn image_env(cx: &RuleContext<'_, '_>, stage: &OutlineStage<'_>) -> Vec<(String, String)> {
    let mut scope = OutlineScope::new(cx.file, cx.outline);
    let mut env: Vec<(String, String)> = Vec::new();
    for item in stage.items.iter().filter(|item| matches!(item.kind, ItemKind::Env | ItemKind::Arg)) {
        scope.define(item);
        if item.kind == ItemKind::Env {
            for definition in &item.definitions {
                let value = scope.value_of(&definition.name).unwrap_or_default();
                env.retain(|(name, _)| *name != definition.name);
                env.push((definition.name.clone(), value));
            }
        }
    }
    env
}

/// Whether the image has `top` at its root: a COPY of it (or of a path below it) to the same
/// place, of the whole context to the root, or of a directory holding it to the root.
fn in_image(top: &str, copies: &[ContextCopy<'_>], cx: &RuleContext<'_, '_>) -> bool {
    copies.iter().any(|copy| {
        let destination = copy.destination.as_deref().unwrap_or_default().trim_end_matches('/');
        let below = destination.strip_prefix('/').unwrap_or(destination);
        if below == top || below.starts_with(&format!("{top}/")) {
            return true;
        }
        below.is_empty()
            && copy.sources.iter().filter_map(|source| source.path.as_deref()).any(|source| {
                source == "."
                    || source == top
                    || source.starts_with(&format!("{top}/"))
                    || cx.facts.is_none_or(|facts| facts.exists(&format!("{source}/{top}")))
            })
    })
}

/// The relative paths the commands of `item` (a CMD or ENTRYPOINT) use, with their ranges.
fn command_paths(file: &SourceFile, item: &Item, env: &[(String, String)]) -> Vec<(TextRange, String)> {
    let commands = commands(file, item);
    if commands.iter().any(|(_, command)| command.contains("helm repo add")) {
        // `bitnami/nginx` is then a chart of that repository, not a path.
        return Vec::new();
    }
    let mut found = Vec::new();
    // Carried across JSON elements: `["bash", "init.sh"]` is `bash init.sh` split by mistake
    // (split-exec-form), and its script must be in the image all the same.
    let mut previous = "";
    for (start, command) in commands {
        for (at, word) in words(command) {
            if let Some(path) = expand(word, env).and_then(|expanded| as_path(&expanded, previous)) {
                found.push((start + at..start + at + word.len(), path));
            }
            previous = word;
        }
    }
    found
}

/// The commands of a CMD/ENTRYPOINT with their offsets: the text of each element of the JSON form
/// (sealos runs each as a command of its own), or the shell form. Elements with escapes are
/// skipped (their text is not the command).
fn commands<'f>(file: &'f SourceFile, item: &Item) -> Vec<(usize, &'f str)> {
    let Some(instruction) = top_level_at(file, item.start).and_then(Instruction::cast) else { return Vec::new() };
    let text = file.text();
    match instruction.json_array() {
        // Inside the quotes (a string the parser had to close is empty).
        Some(array) => ast::children_of_kind(array, "json_string")
            .map(|element| element.start_byte() + 1..(element.end_byte() - 1).max(element.start_byte() + 1))
            .filter(|inside| !text[inside.clone()].contains('\\'))
            .map(|inside| (inside.start, &text[inside]))
            .collect(),
        None => instruction.shell_command().map(|shell| (shell.start_byte(), file.node_text(shell))).into_iter().collect(),
    }
}

/// The words of a shell command with their offsets: split at blanks and shell operators; a word
/// with a quote in it is dropped with the rest of its quoted text.
fn words(command: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    let mut quote: Option<char> = None;
    let mut quoted_word = false;
    for (i, c) in command.char_indices() {
        if let Some(open) = quote {
            if c == open {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => {
                quote = Some(c);
                quoted_word = true;
                start.get_or_insert(i);
            }
            c if c.is_whitespace() || ";|&<>`".contains(c) => {
                if let Some(from) = start.take() {
                    if !quoted_word {
                        out.push((from, &command[from..i]));
                    }
                }
                quoted_word = false;
            }
            _ => {
                start.get_or_insert(i);
            }
        }
    }
    if let (Some(from), None, false) = (start, quote, quoted_word) {
        out.push((from, &command[from..]));
    }
    out
}

/// `word` with its `$(NAME)` templates replaced by the ENV values; `None` when it holds another
/// kind of variable or a name the image does not define.
fn expand(word: &str, env: &[(String, String)]) -> Option<String> {
    let mut out = String::new();
    let mut rest = word;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = rest[dollar..].strip_prefix("$(")?;
        let close = after.find(')')?;
        let value = env.iter().rev().find(|(name, _)| name == &after[..close]).map(|(_, value)| value)?;
        out.push_str(value.trim());
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// The path `word` names relative to the image root, if it is one (see the module comment).
fn as_path(word: &str, previous: &str) -> Option<String> {
    if word.is_empty() || word.contains(['=', ':', '@', '*', '?', '$', '\\', '{', '}', ' ', '~']) {
        return None;
    }
    let path = word.strip_prefix("./").unwrap_or(word);
    let top = path.split('/').next()?;
    let plain = |name: &str| !name.is_empty() && name != "." && name != ".." && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if !plain(top) || top.starts_with(['-', '.']) {
        return None;
    }
    // `github.com/org/repo` (`kubectl apply -k`) names a host, not a folder.
    if path != top && top.contains('.') && !top.starts_with('.') {
        return None;
    }
    let script = matches!(previous, "bash" | "sh") && path == top && path.ends_with(".sh");
    (path.contains('/') || script).then(|| path.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::{check, fix};

    #[test]
    fn fires_on_a_path_no_copy_puts_in_the_image() {
        expect![[r#"
            4:27-4:36 warning[cmd-path-not-copied] CMD uses `charts/zot`, but no COPY puts `charts` in the image: `sealos run` runs the command where the image's files are, and it fails there. Add `COPY charts charts`
            4:52-4:69 warning[cmd-path-not-copied] CMD uses `scripts/post.sh`, but no COPY puts `scripts` in the image: `sealos run` runs the command where the image's files are, and it fails there. Add `COPY scripts scripts`
            5:49-5:59 warning[cmd-path-not-copied] CMD uses `install.sh`, but no COPY puts `install.sh` in the image: `sealos run` runs the command where the image's files are, and it fails there. Add `COPY install.sh install.sh`
        "#]]
        .assert_eq(&check(
            "cmd-path-not-copied",
            "FROM scratch\nENV CHARTS=./charts/zot\nCOPY manifests manifests\nCMD [\"helm upgrade -i zot $(CHARTS) -n zot\", \"bash ./scripts/post.sh\"]\nCMD [\"kubectl apply -f manifests/a.yaml && bash install.sh\"]\n",
        ));
    }

    #[test]
    fn fires_on_the_script_of_an_argv_split_command() {
        expect![[r#"
            2:15-2:22 warning[cmd-path-not-copied] CMD uses `init.sh`, but no COPY puts `init.sh` in the image: `sealos run` runs the command where the image's files are, and it fails there. Add `COPY init.sh init.sh`
        "#]]
        .assert_eq(&check("cmd-path-not-copied", "FROM scratch\nCMD [\"bash\", \"init.sh\", \"-n\", \"ns\"]\n"));
    }

    #[test]
    fn does_not_fire_on_what_the_image_has_or_cannot_be_known() {
        let quiet = [
            // Copied under its own name, below it, the whole context, or a folder into the root.
            "FROM scratch\nCOPY charts charts\nCMD [\"helm upgrade -i a charts/a\"]\n",
            "FROM scratch\nCOPY charts/a ./charts/a/\nCMD [\"helm upgrade -i a charts/a\"]\n",
            "FROM scratch\nCOPY . .\nCMD [\"bash init.sh\", \"kubectl apply -f manifests/\"]\n",
            "FROM scratch\nWORKDIR /\nCOPY ./ /\nCMD [\"kubectl apply -f manifests/\"]\n",
            // Absolute paths, flags, URLs, quoted text, unknown variables, other words.
            "FROM scratch\nCMD [\"cp -a /opt/x /usr/bin\", \"helm install a --set image.repository=a/b\", \"curl https://x/y\"]\n",
            "FROM scratch\nCMD [\"kubectl get cm -o yaml | sed -e 's/a: b/a: c/' | kubectl apply -f -\"]\n",
            "FROM scratch\nCMD [\"helm upgrade -i a $(CHARTS)/a\", \"kubectl apply -f ${DIR}/x.yaml\", \"kbcli addon enable a\"]\n",
            // A chart of a repository the command adds, a remote kustomization.
            "FROM scratch\nCMD [\"helm repo add bitnami https://charts.bitnami.com/bitnami\", \"helm install a bitnami/nginx\"]\n",
            "FROM scratch\nCMD [\"kubectl apply -k github.com/org/repo/deploy\"]\n",
            // What another stage, an archive or a base image brings is not known here.
            "FROM alpine AS b\nFROM scratch\nCOPY --from=b /x x\nCMD [\"bash x/run.sh charts/a\"]\n",
            "FROM scratch\nADD charts.tar.gz /\nCMD [\"helm upgrade -i a charts/a\"]\n",
            "FROM labring/helm:v3.12\nCMD [\"helm upgrade -i a charts/a\"]\n",
        ];
        for kubefile in quiet {
            assert_eq!(check("cmd-path-not-copied", kubefile), "", "{kubefile}");
        }
    }

    #[test]
    fn quick_fix_copies_the_folder_when_the_context_has_it() {
        expect![[r#"
            Add `COPY charts charts`
            FROM scratch
            COPY manifests manifests
            COPY charts charts
            CMD ["helm upgrade -i a charts/a"]
        "#]]
        .assert_eq(&fix(
            "cmd-path-not-copied",
            "//- /Kubefile\nFROM scratch\nCOPY manifests manifests\nCMD [\"helm upgrade -i a charts/a\"]\n//- /charts/a/Chart.yaml\nname: a\n//- /manifests/\n",
        ));
        expect![["no fix"]].assert_eq(&fix(
            "cmd-path-not-copied",
            "//- /Kubefile\nFROM scratch\nCMD [\"helm upgrade -i a charts/a\"]\n//- /manifests/\n",
        ));
    }
}
