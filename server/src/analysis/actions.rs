//! Code actions beyond the quick fixes of single diagnostics: convert CMD/ENTRYPOINT/RUN between
//! shell and JSON form, split and merge ENV/LABEL/ARG lines, add a missing `sealos.io.type`
//! label, and fix-all (every diagnostic fix that is safe to apply without review).
//!
//! Every rewrite keeps the meaning: a conversion is offered only when the result runs the same
//! command (in a Kubefile, sealos runs each JSON element as one shell command, so shell form
//! `CMD a b` and `CMD ["a b"]` are the same); a split or merge only when no value reads a key the
//! move would make visible or invisible.

use tree_sitter::Node;

use super::{
    diagnostics::{diagnostics_for, ignore_fix, Diagnostic, FileKind},
    model::Model,
    Config, ContextFacts, TextEdit,
};
use crate::syntax::{
    ast::{self, Instruction},
    fields,
    line_index::line_content_end,
    NodeField as _, SourceFile, TextRange,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionKind {
    /// `quickfix`
    QuickFix,
    /// `refactor`
    Refactor,
    /// `refactor.rewrite`
    RefactorRewrite,
    /// `source.fixAll`
    SourceFixAll,
}

impl ActionKind {
    /// The LSP `CodeActionKind` string.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::QuickFix => "quickfix",
            ActionKind::Refactor => "refactor",
            ActionKind::RefactorRewrite => "refactor.rewrite",
            ActionKind::SourceFixAll => "source.fixAll",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeAction {
    pub title: String,
    pub kind: ActionKind,
    pub edits: Vec<TextEdit>,
    pub is_preferred: bool,
    /// Codes of the diagnostics the action fixes.
    pub diagnostics: Vec<&'static str>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionOptions {
    pub kind: FileKind,
    /// Also turn the fixes of diagnostics in the range into quick fixes (off when the LSP layer
    /// already does that from published diagnostics).
    pub quick_fixes: bool,
    /// Also offer `source.fixAll` (it analyses the whole file: the LSP layer skips it for the
    /// requests an editor sends automatically as the cursor moves).
    pub fix_all: bool,
}

impl Default for ActionOptions {
    fn default() -> ActionOptions {
        ActionOptions { kind: FileKind::Kubefile, quick_fixes: false, fix_all: true }
    }
}

/// Diagnostics whose single fix is safe to apply unreviewed: the fix does exactly what the
/// message says and cannot change what the author meant. (A fix that only changes letter case is
/// always safe.)
pub const SAFE_FIX_CODES: &[&str] = &[
    // `\$` keeps the value for the node's shell: what the label was written for.
    "unescaped-dollar-in-label",
    // Joins argv fragments into the one command sealos would otherwise split.
    "split-exec-form",
    // Ships the images the build pulls anyway.
    "missing-registry-copy",
    "missing-from",
];

/// Code actions for the instruction(s) in `range`.
pub fn code_actions(
    file: &SourceFile,
    range: TextRange,
    facts: Option<&ContextFacts>,
    config: &Config,
    opts: &ActionOptions,
) -> Vec<CodeAction> {
    let model = Model::new(file);
    let escape = super::format::escape_char(file);
    let mut actions = Vec::new();
    if opts.quick_fixes {
        for diagnostic in diagnostics_for(file, opts.kind, facts, config) {
            if diagnostic.range.start <= range.end && range.start <= diagnostic.range.end {
                for (i, fix) in diagnostic.fixes.iter().enumerate() {
                    actions.push(CodeAction {
                        title: fix.title.clone(),
                        kind: ActionKind::QuickFix,
                        edits: fix.edits.clone(),
                        is_preferred: i == 0 && diagnostic.fixes.len() == 1,
                        diagnostics: vec![diagnostic.code],
                    });
                }
                if let Some(ignore) = ignore_fix(file, &diagnostic) {
                    actions.push(CodeAction {
                        title: ignore.title,
                        kind: ActionKind::QuickFix,
                        edits: ignore.edits,
                        is_preferred: false,
                        diagnostics: vec![diagnostic.code],
                    });
                }
            }
        }
    }
    let selected: Vec<Instruction<'_>> = model
        .instructions
        .iter()
        .filter(|i| i.node.start_byte() <= range.end && range.start <= i.node.end_byte())
        .copied()
        .collect();
    if let Some(instruction) = selected.first() {
        convert_form(file, *instruction, opts.kind, escape, &mut actions);
        split_pairs(file, *instruction, &mut actions);
    }
    merge_pairs(file, &model, &selected, escape, &mut actions);
    if opts.kind == FileKind::Kubefile {
        add_type_label(file, &model, &selected, &mut actions);
    }
    if let Some(fix_all) = opts.fix_all.then(|| fix_all(file, facts, config, opts.kind)).flatten() {
        actions.push(fix_all);
    }
    actions
}

/// `source.fixAll`: every safe fix of the file's diagnostics, non-overlapping, in one action.
pub fn fix_all(file: &SourceFile, facts: Option<&ContextFacts>, config: &Config, kind: FileKind) -> Option<CodeAction> {
    let diagnostics = diagnostics_for(file, kind, facts, config);
    let mut edits: Vec<TextEdit> = Vec::new();
    let mut codes = Vec::new();
    for diagnostic in &diagnostics {
        let Some(fix) = safe_fix(file, diagnostic) else { continue };
        let overlaps = fix.edits.iter().any(|new| {
            edits.iter().any(|old| {
                new.range.start < old.range.end && old.range.start < new.range.end
                    || (new.range.is_empty() && old.range.is_empty() && new.range.start == old.range.start)
            })
        });
        if overlaps {
            continue;
        }
        edits.extend(fix.edits.iter().cloned());
        codes.push(diagnostic.code);
    }
    if edits.is_empty() {
        return None;
    }
    edits.sort_by_key(|edit| (edit.range.start, edit.range.end));
    let count = codes.len();
    Some(CodeAction {
        title: if count == 1 { "Fix 1 problem".to_string() } else { format!("Fix {count} problems") },
        kind: ActionKind::SourceFixAll,
        edits,
        is_preferred: false,
        diagnostics: codes,
    })
}

fn safe_fix<'d>(file: &SourceFile, diagnostic: &'d Diagnostic) -> Option<&'d super::Fix> {
    let [fix] = diagnostic.fixes.as_slice() else { return None };
    let case_only = fix.edits.iter().all(|edit| {
        file.text().get(edit.range.clone()).is_some_and(|old| old != edit.new_text && old.eq_ignore_ascii_case(&edit.new_text))
    });
    (case_only || SAFE_FIX_CODES.contains(&diagnostic.code)).then_some(fix)
}

// ----- shell form ↔ JSON form -----

fn convert_form(file: &SourceFile, instruction: Instruction<'_>, kind: FileKind, escape: char, out: &mut Vec<CodeAction>) {
    let node = instruction.node;
    let keyword_kind = node.kind();
    if !matches!(keyword_kind, "cmd_instruction" | "entrypoint_instruction" | "run_instruction") || node.has_error() {
        return;
    }
    if ast::children_of_kind(node, "heredoc_block").next().is_some() || instruction.flags().next().is_some() {
        return;
    }
    let sealos = kind == FileKind::Kubefile && keyword_kind != "run_instruction";
    if let Some(shell) = instruction.shell_command() {
        if ast::children_of_kind(shell, "heredoc_marker").next().is_some() {
            return;
        }
        let command = join_shell_lines(file.node_text(shell), escape);
        // `['a b']` is JSON in single quotes: json-in-single-quotes offers the fix, and wrapping
        // the text in another array would not be one.
        if command.trim_start().starts_with('[') {
            return;
        }
        let elements: Vec<String> = if sealos {
            vec![command]
        } else if let Some(words) = simple_words(&command) {
            words
        } else {
            vec!["/bin/sh".into(), "-c".into(), command]
        };
        let json: Vec<String> = elements.iter().map(|e| serde_json::to_string(e).unwrap_or_default()).collect();
        let replacement = format!("[{}]", json.join(", "));
        // The grammar's last shell fragment keeps the `\r` of a `\r\n`: the line break stays.
        let end = shell.end_byte() - usize::from(file.text()[..shell.end_byte()].ends_with('\r'));
        out.push(CodeAction {
            title: if sealos {
                "Convert to JSON form (one shell command per element)".to_string()
            } else {
                "Convert to JSON (exec) form".to_string()
            },
            kind: ActionKind::RefactorRewrite,
            edits: vec![TextEdit { range: shell.start_byte()..end, new_text: replacement }],
            is_preferred: false,
            diagnostics: Vec::new(),
        });
        return;
    }
    let Some(array) = instruction.json_array() else { return };
    if array.start_position().row != array.end_position().row {
        return;
    }
    let values: Option<Vec<String>> =
        ast::children_of_kind(array, "json_string").map(|e| serde_json::from_str::<String>(file.node_text(e)).ok()).collect();
    let Some(values) = values else { return };
    let command = if sealos {
        match values.as_slice() {
            [one] => one.clone(),
            _ => return,
        }
    } else {
        match values.as_slice() {
            [shell, flag, command] if matches!(shell.as_str(), "/bin/sh" | "sh") && flag == "-c" => command.clone(),
            [] => return,
            words => words.iter().map(|w| shell_quote(w)).collect::<Vec<_>>().join(" "),
        }
    };
    if command.is_empty() || command.contains(['\n', '\r']) || command.trim_start().starts_with('[') || command.trim_end().ends_with(escape) {
        return;
    }
    out.push(CodeAction {
        title: "Convert to shell form".to_string(),
        kind: ActionKind::RefactorRewrite,
        edits: vec![TextEdit { range: array.byte_range(), new_text: command }],
        is_preferred: false,
        diagnostics: Vec::new(),
    });
}

/// Shell text with line continuations joined (continuation lines' indentation becomes one space;
/// comment lines inside the continuation are dropped, as BuildKit does).
fn join_shell_lines(text: &str, escape: char) -> String {
    let mut out = String::new();
    let mut lines = text.split('\n').peekable();
    let mut first = true;
    while let Some(line) = lines.next() {
        let line = line.trim_end_matches('\r');
        let content = if first { line } else { line.trim_start() };
        if !first && content.starts_with('#') {
            continue;
        }
        first = false;
        let trimmed = content.trim_end();
        if lines.peek().is_some() && trimmed.ends_with(escape) {
            let piece = &trimmed[..trimmed.len() - escape.len_utf8()];
            out.push_str(piece);
            if !piece.ends_with(' ') && !piece.is_empty() {
                // `a \` + `  b` is `a b` for the shell; `a\` + `b` would be `ab` (kept as is).
                if lines.peek().is_some_and(|next| next.starts_with([' ', '\t'])) || trimmed.len() != content.len() {
                    out.push(' ');
                }
            }
        } else {
            out.push_str(content);
        }
    }
    out.trim().to_string()
}

/// Words of a command with no shell syntax at all (so splitting on spaces is what a shell does).
fn simple_words(command: &str) -> Option<Vec<String>> {
    if command.contains(|c: char| "\"'`$\\|&;<>(){}*?[]~#!=%".contains(c)) {
        return None;
    }
    let words: Vec<String> = command.split_whitespace().map(str::to_string).collect();
    (!words.is_empty()).then_some(words)
}

fn shell_quote(word: &str) -> String {
    if !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=,+@%".contains(c)) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

// ----- split / merge -----

fn pair_nodes<'t>(instruction: Node<'t>) -> Vec<Node<'t>> {
    let mut cursor = instruction.walk();
    instruction.named_children(&mut cursor).filter(|c| matches!(c.kind(), "key_value_pair" | "arg_name")).collect()
}

fn is_pair_instruction(node: Node<'_>) -> bool {
    matches!(node.kind(), "env_instruction" | "label_instruction" | "arg_instruction")
}

fn has_comment(node: Node<'_>) -> bool {
    let mut cursor = node.walk();
    let found = node.children(&mut cursor).any(|c| c.kind() == "comment");
    found
}

/// Names used by expansions below `node`.
fn used_names(file: &SourceFile, node: Node<'_>, out: &mut Vec<String>) {
    if node.kind() == "expansion" {
        if let Some(name) = node.field(&fields::NAME) {
            out.push(file.node_text(name).to_string());
        }
    }
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        used_names(file, child, out);
    }
}

fn pair_key(file: &SourceFile, pair: Node<'_>) -> String {
    match pair.kind() {
        "arg_name" => ast::literal_text(file, pair),
        _ => pair.field(&fields::KEY).map(|k| ast::literal_text(file, k)).unwrap_or_default(),
    }
}

fn is_legacy(pair: Node<'_>) -> bool {
    pair.kind() == "key_value_pair" && ast::KeyValue { node: pair }.is_legacy()
}

fn split_pairs(file: &SourceFile, instruction: Instruction<'_>, out: &mut Vec<CodeAction>) {
    let node = instruction.node;
    if !is_pair_instruction(node) || node.has_error() || has_comment(node) {
        return;
    }
    let pairs = pair_nodes(node);
    if pairs.len() < 2 {
        return;
    }
    // A value that reads a key set earlier in the same instruction would see the new value
    // after the split (ENV/ARG values expand with what was defined before the instruction).
    if node.kind() != "label_instruction" {
        let mut defined: Vec<String> = Vec::new();
        for pair in &pairs {
            let mut used = Vec::new();
            if let Some(value) = pair.field(&fields::VALUE) {
                used_names(file, value, &mut used);
            }
            if used.iter().any(|name| defined.contains(name)) {
                return;
            }
            defined.push(pair_key(file, *pair));
        }
    }
    let keyword = instruction.keyword_node().map_or("ENV", |k| file.node_text(k));
    let lines: Vec<String> = pairs.iter().map(|pair| format!("{keyword} {}", file.node_text(*pair))).collect();
    out.push(CodeAction {
        title: format!("Split into {} {} lines", pairs.len(), keyword.to_ascii_uppercase()),
        kind: ActionKind::RefactorRewrite,
        edits: vec![TextEdit { range: node.byte_range(), new_text: lines.join("\n") }],
        is_preferred: false,
        diagnostics: Vec::new(),
    });
}

fn merge_pairs(file: &SourceFile, model: &Model<'_>, selected: &[Instruction<'_>], escape: char, out: &mut Vec<CodeAction>) {
    let Some(first) = selected.first() else { return };
    if !is_pair_instruction(first.node) {
        return;
    }
    let kind = first.node.kind();
    // The run of adjacent instructions of the same kind around the cursor (or the selection).
    let all = &model.instructions;
    let Some(position) = all.iter().position(|i| i.node == first.node) else { return };
    let adjacent = |a: Node<'_>, b: Node<'_>| {
        file.text()[a.end_byte()..b.start_byte()].chars().all(char::is_whitespace)
            && file.line_index().line_of(b.start_byte()) == file.line_index().line_of(a.end_byte()) + 1
    };
    let mut start = position;
    if selected.len() < 2 {
        while start > 0 && all[start - 1].node.kind() == kind && adjacent(all[start - 1].node, all[start].node) {
            start -= 1;
        }
    }
    let mut end = start;
    while end + 1 < all.len() && all[end + 1].node.kind() == kind && adjacent(all[end].node, all[end + 1].node) {
        end += 1;
        if selected.len() >= 2 && all[end].node.start_byte() > selected.last().map_or(0, |s| s.node.end_byte()) {
            end -= 1;
            break;
        }
    }
    if end == start {
        return;
    }
    let run = &all[start..=end];
    if run.iter().any(|i| i.node.has_error() || has_comment(i.node)) {
        return;
    }
    let mut pairs = Vec::new();
    let mut defined: Vec<String> = Vec::new();
    for instruction in run {
        let here = pair_nodes(instruction.node);
        if here.iter().any(|pair| is_legacy(*pair)) {
            return;
        }
        if kind != "label_instruction" {
            // After merging, every value expands with what was defined before the first line.
            for pair in &here {
                let mut used = Vec::new();
                if let Some(value) = pair.field(&fields::VALUE) {
                    used_names(file, value, &mut used);
                }
                if used.iter().any(|name| defined.contains(name)) {
                    return;
                }
            }
            defined.extend(here.iter().map(|pair| pair_key(file, *pair)));
        }
        pairs.extend(here);
    }
    let keyword = run[0].keyword_node().map_or("ENV", |k| file.node_text(k));
    let separator = format!(" {escape}\n{}", " ".repeat(keyword.len() + 1));
    let text: Vec<&str> = pairs.iter().map(|pair| file.node_text(*pair)).collect();
    out.push(CodeAction {
        title: format!("Merge {} {} lines", run.len(), keyword.to_ascii_uppercase()),
        kind: ActionKind::RefactorRewrite,
        edits: vec![TextEdit {
            range: run[0].node.start_byte()..run[run.len() - 1].node.end_byte(),
            new_text: format!("{keyword} {}", text.join(&separator)),
        }],
        is_preferred: false,
        diagnostics: Vec::new(),
    });
}

// ----- sealos.io.type -----

fn add_type_label(file: &SourceFile, model: &Model<'_>, selected: &[Instruction<'_>], out: &mut Vec<CodeAction>) {
    let Some(stage) = model.final_stage() else { return };
    let labels = model.labels();
    if labels.iter().any(|label| label.key == "sealos.io.type" || label.key == "apps.sealos.io/type") {
        return;
    }
    let relevant = selected.iter().any(|i| {
        i.node == stage.from.node || (i.node.kind() == "label_instruction" && stage.instructions.iter().any(|s| s.node == i.node))
    });
    if !relevant {
        return;
    }
    let text = file.text();
    let from_end = stage.from.node.end_byte();
    let at = line_content_end(text, from_end);
    let preferred = if stage.inherits_rootfs() { "rootfs" } else { "application" };
    for value in ["application", "rootfs", "patch"] {
        out.push(CodeAction {
            title: format!("Add `LABEL sealos.io.type=\"{value}\"`"),
            kind: ActionKind::Refactor,
            edits: vec![TextEdit { range: at..at, new_text: format!("\nLABEL sealos.io.type=\"{value}\"") }],
            is_preferred: value == preferred,
            diagnostics: Vec::new(),
        });
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use super::*;
    use crate::analysis::fixture::{self, apply};

    fn check_with(fixture: &str, opts: &ActionOptions, expect: Expect) {
        let f = fixture::parse(fixture);
        let range = f.range();
        let actions = code_actions(&f.file, range, f.facts(), &Config::default(), opts);
        let mut out = String::new();
        for action in actions {
            out.push_str(&format!(
                "== {} ({}{})\n{}",
                action.title,
                action.kind.as_str(),
                if action.is_preferred { ", preferred" } else { "" },
                apply(f.file.text(), &action.edits).replace('\r', "␍")
            ));
        }
        expect.assert_eq(&out);
    }

    fn check(fixture: &str, expect: Expect) {
        check_with(fixture, &ActionOptions::default(), expect);
    }

    #[test]
    fn shell_to_json_in_kubefile_keeps_one_command() {
        check(
            "FROM scratch\nLABEL sealos.io.type=application\nCMD$0 helm upgrade -i $(NAME) \\\n    charts/x --set a=\"b\"\n",
            expect![[r#"
                == Convert to JSON form (one shell command per element) (refactor.rewrite)
                FROM scratch
                LABEL sealos.io.type=application
                CMD ["helm upgrade -i $(NAME) charts/x --set a=\"b\""]
            "#]],
        );
    }

    #[test]
    fn shell_to_json_keeps_a_crlf_line_break_whole() {
        check("FROM scratch\r\nLABEL sealos.io.type=application\r\nCMD$0 kubectl apply -f x\r\n", expect![[r#"
            == Convert to JSON form (one shell command per element) (refactor.rewrite)
            FROM scratch␍
            LABEL sealos.io.type=application␍
            CMD ["kubectl apply -f x"]␍
        "#]]);
    }

    #[test]
    fn json_to_shell_in_kubefile_only_for_one_element() {
        check("FROM scratch\nLABEL sealos.io.type=application\nCMD$0 [\"bash entrypoint.sh\"]\n", expect![[r#"
            == Convert to shell form (refactor.rewrite)
            FROM scratch
            LABEL sealos.io.type=application
            CMD bash entrypoint.sh
        "#]]);
        check("FROM scratch\nLABEL sealos.io.type=application\nCMD$0 [\"a\", \"b\"]\n", expect![[""]]);
    }

    #[test]
    fn json_in_single_quotes_is_not_wrapped_in_another_array() {
        check("FROM scratch\nLABEL sealos.io.type=application\nCMD$0 ['kubectl apply -f x']\n", expect![[""]]);
        let opts = ActionOptions { kind: FileKind::Dockerfile, ..ActionOptions::default() };
        check_with("FROM alpine\nCMD$0 ['nginx', '-g', 'daemon off;']\n", &opts, expect![[""]]);
    }

    #[test]
    fn dockerfile_forms() {
        let opts = ActionOptions { kind: FileKind::Dockerfile, ..ActionOptions::default() };
        check_with("FROM alpine\nCMD$0 nginx -g daemon\n", &opts, expect![[r#"
            == Convert to JSON (exec) form (refactor.rewrite)
            FROM alpine
            CMD ["nginx", "-g", "daemon"]
        "#]]);
        check_with("FROM alpine\nRUN$0 make && make install\n", &opts, expect![[r#"
            == Convert to JSON (exec) form (refactor.rewrite)
            FROM alpine
            RUN ["/bin/sh", "-c", "make && make install"]
        "#]]);
        check_with("FROM alpine\nENTRYPOINT$0 [\"/bin/sh\", \"-c\", \"echo $HOME\"]\n", &opts, expect![[r#"
            == Convert to shell form (refactor.rewrite)
            FROM alpine
            ENTRYPOINT echo $HOME
        "#]]);
        check_with("FROM alpine\nCMD$0 [\"echo\", \"it's here\"]\n", &opts, expect![[r#"
            == Convert to shell form (refactor.rewrite)
            FROM alpine
            CMD echo 'it'\''s here'
        "#]]);
    }

    #[test]
    fn split_and_merge_env() {
        check("FROM scratch\nLABEL sealos.io.type=patch\nENV$0 A=1 B=2\nENV C=3\n", expect![[r#"
            == Split into 2 ENV lines (refactor.rewrite)
            FROM scratch
            LABEL sealos.io.type=patch
            ENV A=1
            ENV B=2
            ENV C=3
            == Merge 2 ENV lines (refactor.rewrite)
            FROM scratch
            LABEL sealos.io.type=patch
            ENV A=1 \
                B=2 \
                C=3
        "#]]);
        // B reads A from before the instruction: splitting would change B.
        check("FROM scratch\nLABEL sealos.io.type=patch\nENV$0 A=1 B=$A\n", expect![[""]]);
        // Merging would make C read the old A.
        check("FROM scratch\nLABEL sealos.io.type=patch\nENV A=1\nENV$0 C=${A}\n", expect![[""]]);
    }

    #[test]
    fn merge_a_selection_of_labels() {
        check("FROM scratch\nLABEL sealos.io.type=rootfs\n$0LABEL a=1\nLABEL b=2$0\nLABEL c=3\n", expect![[r#"
            == Merge 2 LABEL lines (refactor.rewrite)
            FROM scratch
            LABEL sealos.io.type=rootfs
            LABEL a=1 \
                  b=2
            LABEL c=3
        "#]]);
    }

    #[test]
    fn add_missing_type_label() {
        check("FROM scratch$0\nCOPY . .\n", expect![[r#"
            == Add `LABEL sealos.io.type="application"` (refactor, preferred)
            FROM scratch
            LABEL sealos.io.type="application"
            COPY . .
            == Add `LABEL sealos.io.type="rootfs"` (refactor)
            FROM scratch
            LABEL sealos.io.type="rootfs"
            COPY . .
            == Add `LABEL sealos.io.type="patch"` (refactor)
            FROM scratch
            LABEL sealos.io.type="patch"
            COPY . .
        "#]]);
        // Inserted before the `\r\n`, with a `\n` that `lsp::convert::text_edits` writes as `\r\n`.
        check("FROM labring/kubernetes:v1.27.7$0\r\n", expect![[r#"
            == Add `LABEL sealos.io.type="application"` (refactor)
            FROM labring/kubernetes:v1.27.7
            LABEL sealos.io.type="application"␍
            == Add `LABEL sealos.io.type="rootfs"` (refactor, preferred)
            FROM labring/kubernetes:v1.27.7
            LABEL sealos.io.type="rootfs"␍
            == Add `LABEL sealos.io.type="patch"` (refactor)
            FROM labring/kubernetes:v1.27.7
            LABEL sealos.io.type="patch"␍
        "#]]);
    }

    #[test]
    fn fix_all_applies_only_safe_fixes() {
        let f = fixture::parse(
            "//- /Kubefile\nFROM scratch\nLABEL sealos.io.type=rootfs sealos.io.version=v1beta1 version=v1.27.7 vip=\"$defaultVIP\" init=\"init.sh $registryDomain\"\nENV A=1\nCMD [\"bash\", \"init.sh\"]\nCMD [\"echo $(NAMR)\"]\n//- /manifests/a.yaml\nimage: nginx:1\n",
        );
        let action = fix_all(&f.file, f.facts(), &Config::default(), FileKind::Kubefile).unwrap();
        expect![[r#"
            Fix 4 problems ["missing-registry-copy", "unescaped-dollar-in-label", "unescaped-dollar-in-label", "split-exec-form"]
            FROM scratch
            COPY registry registry
            LABEL sealos.io.type=rootfs sealos.io.version=v1beta1 version=v1.27.7 vip="\$defaultVIP" init="init.sh \$registryDomain"
            ENV A=1
            CMD ["bash init.sh"]
            CMD ["echo $(NAMR)"]
        "#]].assert_eq(&format!("{} {:?}\n{}", action.title, action.diagnostics, apply(f.file.text(), &action.edits)));
        let file = SourceFile::parse("FROM scratch\nLABEL sealos.io.type=application\nCOPY a b\n");
        assert!(fix_all(&file, None, &Config::default(), FileKind::Kubefile).is_none());
    }

    #[test]
    fn quick_fixes_when_asked() {
        let opts = ActionOptions { quick_fixes: true, ..ActionOptions::default() };
        check_with("FROM scratch\nLABEL sealos.io.type=application\nCMD [\"echo $(NAM$0R)\"]\nENV NAME=x\n", &opts, expect![[r#"
            == Change to `NAME` (quickfix)
            FROM scratch
            LABEL sealos.io.type=application
            CMD ["echo $(NAME)"]
            ENV NAME=x
            == Add `ENV NAMR=` (quickfix)
            FROM scratch
            LABEL sealos.io.type=application
            CMD ["echo $(NAMR)"]
            ENV NAME=x
            ENV NAMR=${NAMR:-""}
            == Escape as `$$(NAMR)` (quickfix)
            FROM scratch
            LABEL sealos.io.type=application
            CMD ["echo $$(NAMR)"]
            ENV NAME=x
            == Ignore `undefined-variable` for this instruction (quickfix)
            FROM scratch
            LABEL sealos.io.type=application
            # kubefile-ls ignore=undefined-variable
            CMD ["echo $(NAMR)"]
            ENV NAME=x
            == Convert to shell form (refactor.rewrite)
            FROM scratch
            LABEL sealos.io.type=application
            CMD echo $(NAMR)
            ENV NAME=x
        "#]]);
    }
}
