//! Edits the server offers do what they say and nothing else, on the corpus build files (with
//! common mistakes put in: a lowercased keyword, a misspelt label, a legacy `ENV k v`, an
//! undefined `$(VAR)`, a dropped `COPY registry`/`charts`/`manifests`, an argv-style CMD), with
//! `\n` and with `\r\n` line breaks: each quick fix resolves its diagnostic and adds no error;
//! rewrites and fix-all add no diagnostic; accepted completions add no syntax error; renames keep
//! every diagnostic and reference.

use std::collections::BTreeMap;

use kubefile_ls::{
    analysis::{
        actions::{code_actions, ActionKind, ActionOptions},
        diagnostics_for, ignore_fix, Config, ContextFacts, Diagnostic, FileKind, Fix, Severity,
    },
    context,
    syntax::{ast, SourceFile},
};

use crate::{requests::apply, support_corpus};

/// The mistakes put into `text`, each into a copy of its own.
fn mutations(text: &str) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for keyword in ["COPY", "ENV", "CMD", "LABEL"] {
        let line = format!("\n{keyword} ");
        if text.contains(&line) {
            out.push(("lowercased keyword", text.replacen(&line, &line.to_lowercase(), 1)));
        }
    }
    if text.contains("sealos.io.type") {
        out.push(("misspelt label", text.replacen("sealos.io.type", "sealos.io.typ", 1)));
    }
    // The first `ENV NAME=value` whose name is a plain word becomes `ENV NAME value`.
    let legacy = text.match_indices("\nENV ").find_map(|(at, _)| {
        let pair = &text[at + 5..];
        let name = pair.find('=')?;
        let plain = name > 0 && pair[..name].chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        (plain && !pair[name + 1..].starts_with([' ', '\r', '\n'])).then_some(at + 5 + name)
    });
    if let Some(eq) = legacy {
        let mut mutated = text.to_string();
        mutated.replace_range(eq..eq + 1, " ");
        out.push(("legacy ENV", mutated));
    }
    if let Some(at) = text.find("CMD [\"") {
        let mut mutated = text.to_string();
        mutated.insert_str(at + "CMD [\"".len(), "echo $(UNDEFINED_NAMEZ) && ");
        out.push(("undefined variable", mutated));
        let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
        let mut mutated = text.to_string();
        mutated.replace_range(at..line_end, "CMD [\"bash\", \"init.sh\", \"-n\", \"$(NAMESPACE)\"]");
        out.push(("argv CMD", mutated));
    }
    for copy in ["COPY registry registry\n", "COPY registry ./registry\n", "COPY registry/ registry/\n"] {
        if text.contains(copy) {
            out.push(("no registry copy", text.replacen(copy, "", 1)));
        }
    }
    for copy in ["COPY charts charts\n", "COPY manifests manifests\n"] {
        if text.contains(copy) {
            out.push(("no charts or manifests copy", text.replacen(copy, "", 1)));
        }
    }
    out
}

fn error_counts(found: &[Diagnostic]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for diagnostic in found.iter().filter(|d| d.severity == Severity::Error) {
        *counts.entry(diagnostic.code).or_insert(0) += 1;
    }
    counts
}

/// What is wrong with `fix` of `diagnostic` (found in `text` with the others in `found`), if anything.
fn check_fix(text: &str, facts: &ContextFacts, found: &[Diagnostic], diagnostic: &Diagnostic, fix: &Fix) -> Option<String> {
    let fixed = apply(text, &fix.edits);
    let after = diagnostics_for(&SourceFile::parse(&fixed), FileKind::Kubefile, Some(facts), &Config::default());
    // The diagnostic's range in the fixed text: moved by the edits before it (text inserted right
    // at its start goes before it, right at its end after it).
    let moved = |offset: usize, inserted_here_moves: bool| {
        let before = fix.edits.iter().filter(|edit| {
            edit.range.end < offset || (edit.range.end == offset && (inserted_here_moves || !edit.range.is_empty()))
        });
        before.fold(offset, |at, edit| at + edit.new_text.len() - edit.range.len())
    };
    let range = moved(diagnostic.range.start, true)..moved(diagnostic.range.end, false);
    let still_there = after.iter().any(|d| d.code == diagnostic.code && d.message == diagnostic.message && d.range == range);
    let (before, now) = (error_counts(found), error_counts(&after));
    let new_errors: Vec<_> = now.iter().filter(|(code, n)| before.get(*code).is_none_or(|b| b < n)).map(|(code, _)| code).collect();
    let around = fixed.get(range.start.saturating_sub(80)..(range.end + 80).min(fixed.len())).unwrap_or(&fixed);
    (still_there || !new_errors.is_empty())
        .then(|| format!("still reported: {still_there}, new errors: {new_errors:?}; the fixed text around it:\n{around}"))
}

#[test]
fn every_fix_resolves_its_diagnostic_and_adds_no_error() {
    let root = support_corpus::root();
    // One example per (fix title, code).
    let mut failures: BTreeMap<(String, &'static str), String> = BTreeMap::new();
    let mut applied = 0;
    let mut codes = BTreeMap::new();
    for (path, context_dir) in support_corpus::build_files(&root) {
        let original = std::fs::read_to_string(root.join(&path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        let facts = context::facts::collect(&context_dir);
        for (mistake, text) in mutations(&original) {
            for text in [text.clone(), text.replace('\n', "\r\n")] {
                let file = SourceFile::parse(&text);
                let found = diagnostics_for(&file, FileKind::Kubefile, Some(&facts), &Config::default());
                for diagnostic in &found {
                    *codes.entry(diagnostic.code).or_insert(0) += 1;
                    let ignore = ignore_fix(&file, diagnostic);
                    for fix in diagnostic.fixes.iter().chain(&ignore) {
                        applied += 1;
                        if let Some(failure) = check_fix(&text, &facts, &found, diagnostic, fix) {
                            failures.entry((fix.title.clone(), diagnostic.code)).or_insert(format!("{path} ({mistake}): {failure}"));
                        }
                    }
                }
            }
        }
    }
    eprintln!("{applied} fixes applied; the diagnostics they were offered for, by code: {codes:?}");
    let documented = crate::docs_codes::documented_codes();
    let undocumented: Vec<_> = codes.keys().filter(|code| !documented.contains(**code)).collect();
    assert!(undocumented.is_empty(), "codes reported but not in docs/diagnostics.md: {undocumented:?}");
    assert!(applied > 1000, "the mutations should give fixes to apply, got {applied}");
    let report: Vec<String> = failures.iter().map(|((title, code), example)| format!("`{title}` for {code}: {example}")).collect();
    assert!(failures.is_empty(), "{} fixes do not do what they say:\n\n{}", failures.len(), report.join("\n\n"));
}

fn counts(found: &[Diagnostic]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for diagnostic in found {
        *counts.entry(diagnostic.code).or_insert(0) += 1;
    }
    counts
}

/// Rewrites (shell ↔ JSON form, split and merge ENV/LABEL/ARG) and fix-all on every instruction
/// of every corpus build file, with the mutations and both line breaks: the result is reported for
/// nothing it was not reported for before, and fix-all leaves fewer diagnostics. (Adding the image
/// type is left out: declaring `rootfs` rightly brings the rootfs rules.)
#[test]
fn refactors_and_fix_all_add_no_diagnostic() {
    let root = support_corpus::root();
    let mut failures: BTreeMap<String, String> = BTreeMap::new();
    let mut applied = 0;
    let options = ActionOptions::default();
    for (path, context_dir) in support_corpus::build_files(&root) {
        let original = std::fs::read_to_string(root.join(&path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        let facts = context::facts::collect(&context_dir);
        let variants = std::iter::once(("as written", original.clone())).chain(mutations(&original));
        for (mistake, text) in variants {
            for text in [text.clone(), text.replace('\n', "\r\n")] {
                let file = SourceFile::parse(&text);
                let before = counts(&diagnostics_for(&file, FileKind::Kubefile, Some(&facts), &Config::default()));
                let mut seen = std::collections::BTreeSet::new();
                for instruction in ast::instructions(&file) {
                    let at = instruction.node.start_byte();
                    let actions = code_actions(&file, at..at, Some(&facts), &Config::default(), &options);
                    for action in actions.into_iter().filter(|action| action.kind != ActionKind::Refactor) {
                        if !seen.insert((action.title.clone(), action.edits.iter().map(|e| (e.range.start, e.range.end, e.new_text.clone())).collect::<Vec<_>>())) {
                            continue;
                        }
                        applied += 1;
                        let fixed = apply(&text, &action.edits);
                        let after = counts(&diagnostics_for(&SourceFile::parse(&fixed), FileKind::Kubefile, Some(&facts), &Config::default()));
                        let added: Vec<_> = after.iter().filter(|(code, n)| before.get(*code).is_none_or(|b| b < n)).map(|(code, _)| *code).collect();
                        let title = action.title.split('`').next().unwrap_or_default().to_owned();
                        let fewer = after.values().sum::<usize>() < before.values().sum::<usize>();
                        if !added.is_empty() || (action.kind == ActionKind::SourceFixAll && !fewer) {
                            let what = format!("{title} adds {added:?}, leaves fewer: {fewer}");
                            failures.entry(what).or_insert(format!("{path} ({mistake}):\n{fixed}"));
                        }
                    }
                }
            }
        }
    }
    eprintln!("{applied} refactors applied");
    assert!(applied > 1000, "{applied}");
    let report: Vec<String> = failures.iter().map(|(what, example)| format!("{what}: {example}")).collect();
    assert!(failures.is_empty(), "{} refactors add diagnostics:\n\n{}", failures.len(), report.join("\n\n"));
}

/// Completing at the end of each word of every corpus build file (where a user typing it would
/// be) and accepting each item gives a file that parses no worse than before. (Except for a
/// keyword put in place of another: the instruction keeps its arguments, which may not suit the
/// new one, as the user asked.)
#[test]
fn accepted_completions_add_no_syntax_error() {
    use kubefile_ls::analysis::completion::{completion, CompletionKind, CompletionOptions};
    let root = support_corpus::root();
    let options = CompletionOptions { snippets: false, documentation: false, ..CompletionOptions::default() };
    let mut failures: BTreeMap<String, String> = BTreeMap::new();
    let mut accepted = 0;
    for (path, context_dir) in support_corpus::build_files(&root) {
        let text = std::fs::read_to_string(root.join(&path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        let facts = context::facts::collect(&context_dir);
        let file = SourceFile::parse(&text);
        let errors_before = file.root().has_error();
        if errors_before {
            continue;
        }
        let mut word_ends = std::collections::BTreeSet::new();
        let mut cursor = file.root().walk();
        let mut stack = vec![file.root()];
        while let Some(node) = stack.pop() {
            if node.child_count() == 0 {
                word_ends.insert(node.end_byte());
            }
            stack.extend(node.children(&mut cursor));
        }
        for offset in word_ends {
            for item in completion(&file, offset, Some(&facts), &Config::default(), &options).into_iter().take(30) {
                if item.kind == CompletionKind::Keyword && text[item.edit_range.end..].starts_with([' ', '\t']) {
                    continue;
                }
                accepted += 1;
                let mut edited = text.clone();
                edited.replace_range(item.edit_range.clone(), &item.insert_text);
                if SourceFile::parse(&edited).root().has_error() {
                    let line_start = text[..item.edit_range.start.min(offset)].rfind('\n').map_or(0, |i| i + 1);
                    let line_end = |text: &str| text[offset.min(text.len())..].find('\n').map_or(text.len(), |i| offset + i);
                    let key = format!("{:?} {}", item.kind, item.label.split(['=', ' ']).next().unwrap_or_default());
                    failures.entry(key).or_insert(format!(
                        "{path}: {:?} ▮ {:?} (replacing {:?} with {:?}) → {:?}",
                        &text[line_start..offset],
                        &text[offset..line_end(&text)],
                        &text[item.edit_range.clone()],
                        item.insert_text,
                        &edited[line_start..line_end(&edited)]
                    ));
                }
            }
        }
    }
    eprintln!("{accepted} completions accepted");
    let report: Vec<String> = failures.iter().map(|(what, example)| format!("{what}: {example}")).collect();
    assert!(failures.is_empty(), "{} completions break the parse:\n{}", failures.len(), report.join("\n"));
}

/// Renaming each variable and stage of every corpus build file (at each of its occurrences)
/// changes nothing else: the result is reported for exactly what the original was (undefined
/// names stay undefined, defined ones defined), and the new name has as many references as the
/// old one had.
#[test]
fn renames_keep_every_diagnostic_and_reference() {
    use kubefile_ls::analysis::navigation::{prepare_rename, references, rename};
    let root = support_corpus::root();
    let mut failures: BTreeMap<String, String> = BTreeMap::new();
    let mut renamed = 0;
    for (path, context_dir) in support_corpus::build_files(&root) {
        let original = std::fs::read_to_string(root.join(&path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        let facts = context::facts::collect(&context_dir);
        for text in [original.clone(), original.replace('\n', "\r\n")] {
            let file = SourceFile::parse(&text);
            let before = counts(&diagnostics_for(&file, FileKind::Kubefile, Some(&facts), &Config::default()));
            let mut done = std::collections::BTreeSet::new();
            let mut cursor = file.root().walk();
            let mut stack = vec![file.root()];
            while let Some(node) = stack.pop() {
                stack.extend(node.children(&mut cursor));
                let at = node.start_byte();
                let old_references = references(&file, at, true);
                let Some(first) = old_references.first() else { continue };
                let old_name = text[first.clone()].to_string();
                if !done.insert((first.start, old_name.clone())) {
                    continue;
                }
                // Valid for stages (lower case) and variables alike.
                let new_name = if old_name.chars().any(|c| c.is_ascii_uppercase()) { "RENAMED_X1" } else { "renamed_x1" };
                // Names sealos or BuildKit own are refused, and say so before the user types.
                if prepare_rename(&file, at).is_err() {
                    continue;
                }
                let edits = rename(&file, at, new_name)
                    .unwrap_or_else(|error| panic!("{path}: renaming `{old_name}` to `{new_name}` refused: {error:?}"));
                renamed += 1;
                let renamed_text = apply(&text, &edits);
                let renamed_file = SourceFile::parse(&renamed_text);
                let after = counts(&diagnostics_for(&renamed_file, FileKind::Kubefile, Some(&facts), &Config::default()));
                let new_at = renamed_text.find(new_name).unwrap_or(0);
                let new_references = references(&renamed_file, new_at, true);
                if after != before || new_references.len() != old_references.len() {
                    failures.entry(format!("renaming `{old_name}`")).or_insert(format!(
                        "{path}: diagnostics {before:?} → {after:?}, references {} → {}",
                        old_references.len(),
                        new_references.len()
                    ));
                }
            }
        }
    }
    eprintln!("{renamed} renames");
    assert!(renamed > 300, "the corpus should have names to rename, got {renamed}");
    let report: Vec<String> = failures.iter().take(20).map(|(what, example)| format!("{what}: {example}")).collect();
    assert!(failures.is_empty(), "{} renames change more than the name:\n{}", failures.len(), report.join("\n"));
}
