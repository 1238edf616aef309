//! Suppression comments: `# kubefile-ls ignore=code1,code2` and `# hadolint ignore=DLxxxx` on
//! the line above an instruction, and BuildKit's `# check=skip=Rule1,Rule2|all`, both as the file's
//! parser directive and (as newer BuildKit reads it) in the comment right above an instruction.
//!
//! BuildKit's names only silence findings that BuildKit reports as build checks, which are never
//! build failures: `check=skip=ExposeInvalidFormat` hides the warning about `EXPOSE 1.2.3.4:80`,
//! not the error about `EXPOSE 99999`. hadolint names and our own codes hide the rule entirely.

use super::{Diagnostic, Fix, RuleContext, Severity, TextEdit};
use crate::{
    analysis::{
        model::{Item, ItemKind},
        navigation::top_level_at,
    },
    syntax::{ast::Instruction, SourceFile},
};

/// Our own suppression comment, as [`Suppressions::read`] reads it and [`ignore_fix`] writes it.
const IGNORE: &str = "kubefile-ls ignore=";

/// Who named a rule: decides what a suppression by that name covers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Namer {
    BuildKit,
    Hadolint,
}

/// BuildKit build-check names and hadolint rules that correspond to our codes (peers.md §1.1).
const EQUIVALENTS: &[(Namer, &str, &str)] = &[
    (Namer::BuildKit, "UndefinedVar", "undefined-variable"),
    (Namer::BuildKit, "MultipleInstructionsDisallowed", "duplicate-instruction"),
    (Namer::BuildKit, "NoEmptyContinuation", "empty-continuation-line"),
    (Namer::BuildKit, "ConsistentInstructionCasing", "instruction-casing"),
    (Namer::BuildKit, "FromAsCasing", "from-as-casing"),
    (Namer::BuildKit, "StageNameCasing", "stage-name-casing"),
    (Namer::BuildKit, "DuplicateStageName", "duplicate-stage-name"),
    (Namer::BuildKit, "MaintainerDeprecated", "maintainer-deprecated"),
    (Namer::BuildKit, "LegacyKeyValueFormat", "legacy-env-format"),
    (Namer::BuildKit, "WorkdirRelativePath", "workdir-relative-path"),
    (Namer::BuildKit, "ExposeInvalidFormat", "expose-invalid-port"),
    (Namer::BuildKit, "ExposeProtoCasing", "expose-invalid-port"),
    (Namer::Hadolint, "DL3000", "workdir-relative-path"),
    (Namer::Hadolint, "DL3011", "expose-invalid-port"),
    (Namer::Hadolint, "DL3022", "unknown-stage"),
    (Namer::Hadolint, "DL3023", "copy-from-own-stage"),
    (Namer::Hadolint, "DL3024", "duplicate-stage-name"),
    (Namer::Hadolint, "DL3061", "missing-from"),
    (Namer::Hadolint, "DL4000", "maintainer-deprecated"),
    (Namer::Hadolint, "DL4003", "duplicate-instruction"),
    (Namer::Hadolint, "DL4004", "duplicate-instruction"),
];

/// Our code that BuildKit's build check `name` corresponds to, if any (what `# check=skip=name`
/// silences here).
pub fn code_of_build_check(name: &str) -> Option<&'static str> {
    EQUIVALENTS.iter().find(|(namer, from, _)| *namer == Namer::BuildKit && *from == name).map(|(.., code)| *code)
}

/// One suppressed code.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Suppressed {
    /// Our code, or `all`.
    code: String,
    /// Named by BuildKit: covers only findings below error severity.
    checks_only: bool,
}

impl Suppressed {
    fn covers(&self, diagnostic: &Diagnostic) -> bool {
        (self.code == diagnostic.code || self.code == "all")
            && !(self.checks_only && diagnostic.severity == Severity::Error)
    }
}

pub(super) struct Suppressions {
    /// (line of the instruction below the comment, what it suppresses)
    by_line: Vec<(usize, Vec<Suppressed>)>,
    everywhere: Vec<Suppressed>,
}

impl Suppressions {
    pub fn read(cx: &RuleContext<'_, '_>) -> Suppressions {
        let file = cx.file;
        let mut suppressions = Suppressions { by_line: Vec::new(), everywhere: Vec::new() };
        let index = file.line_index();
        for item in cx.outline.items {
            if !matches!(item.kind, ItemKind::Directive | ItemKind::Comment) {
                continue;
            }
            let body = file.text()[item.start..item.end].trim().trim_start_matches('#').trim();
            let found = if let Some(list) = check_skip(body) {
                list
            } else if let Some(list) = body.strip_prefix(IGNORE).or_else(|| body.strip_prefix("hadolint ignore=")) {
                list.split(',').flat_map(|name| suppressed_by(name.trim())).collect()
            } else {
                continue;
            };
            if item.kind == ItemKind::Directive {
                suppressions.everywhere.extend(found);
            } else {
                let end_line = index.line_of(item.end);
                let next_line = end_line + usize::from(item.end > index.line_start(end_line));
                suppressions.by_line.push((next_line, found));
            }
        }
        suppressions
    }

    pub fn suppresses(&self, cx: &RuleContext<'_, '_>, diagnostic: &Diagnostic) -> bool {
        if self.everywhere.iter().any(|suppressed| suppressed.covers(diagnostic)) {
            return true;
        }
        if self.by_line.is_empty() {
            return false;
        }
        let Some(instruction) = instruction_at(cx.outline.items, diagnostic.range.start) else { return false };
        let line = cx.file.line_index().line_of(instruction.start);
        self.by_line
            .iter()
            .any(|(below, codes)| *below == line && codes.iter().any(|suppressed| suppressed.covers(diagnostic)))
    }
}

/// The quick fix that silences `diagnostic` for its instruction: `# kubefile-ls ignore=CODE` on a
/// line of its own above the instruction, or `,CODE` added to such a comment already there.
/// `None` for syntax errors, for a diagnostic outside any instruction (image lists have none),
/// and when the line above is a hadolint or BuildKit suppression: only the comment right above an
/// instruction counts, so a second one cannot be put there.
pub fn ignore_fix(file: &SourceFile, diagnostic: &Diagnostic) -> Option<Fix> {
    if diagnostic.code == "syntax-error" {
        return None;
    }
    let offset = diagnostic.range.start;
    let instruction = top_level_at(file, offset).filter(|node| node.start_byte() <= offset && Instruction::cast(*node).is_some())?;
    let (text, index) = (file.text(), file.line_index());
    let line = index.line_of(instruction.start_byte());
    let line_start = index.line_start(line);
    let indent = &text[line_start..instruction.start_byte()];
    if !indent.chars().all(|c| c == ' ' || c == '\t') {
        return None;
    }
    let title = format!("Ignore `{}` for this instruction", diagnostic.code);
    let above = line.checked_sub(1).map(|above| {
        let start = index.line_start(above);
        (start, text[start..line_start - 1].trim_end())
    });
    let comment_above = above.and_then(|(start, line)| Some((start, line, line.trim_start().strip_prefix('#')?.trim())));
    let edit = match comment_above {
        Some((start, line, body)) if body.starts_with(IGNORE) => {
            TextEdit { range: start + line.len()..start + line.len(), new_text: format!(",{}", diagnostic.code) }
        }
        Some((.., body)) if body.starts_with("hadolint ignore=") || check_skip(body).is_some() => return None,
        _ => TextEdit { range: line_start..line_start, new_text: format!("{indent}# {IGNORE}{}\n", diagnostic.code) },
    };
    Some(Fix { title, edits: vec![edit] })
}

/// The codes of `check=skip=...` (settings separated by `;`, as BuildKit writes them).
fn check_skip(body: &str) -> Option<Vec<Suppressed>> {
    let (name, value) = body.split_once('=')?;
    if !name.trim().eq_ignore_ascii_case("check") {
        return None;
    }
    let mut found = Vec::new();
    for setting in value.split(';') {
        let Some(rules) = setting.trim().strip_prefix("skip=") else { continue };
        for rule in rules.split(',').map(str::trim) {
            if rule == "all" {
                found.extend(EQUIVALENTS.iter().filter(|(namer, ..)| *namer == Namer::BuildKit).map(|(_, _, code)| {
                    Suppressed { code: (*code).to_owned(), checks_only: true }
                }));
            } else {
                found.extend(suppressed_by(rule));
            }
        }
    }
    Some(found)
}

/// What a name in a suppression stands for: the codes it corresponds to, or itself (our own codes).
fn suppressed_by(name: &str) -> Vec<Suppressed> {
    let mapped: Vec<Suppressed> = EQUIVALENTS
        .iter()
        .filter(|(_, from, _)| *from == name)
        .map(|(namer, _, code)| Suppressed { code: (*code).to_owned(), checks_only: *namer == Namer::BuildKit })
        .collect();
    if mapped.is_empty() {
        vec![Suppressed { code: name.to_owned(), checks_only: false }]
    } else {
        mapped
    }
}

/// The top-level instruction holding `offset` (items are in file order).
fn instruction_at(items: &[Item], offset: usize) -> Option<&Item> {
    let after = items.partition_point(|item| item.start <= offset);
    let instruction = items[..after].iter().rev().find(|item| item.kind.is_instruction())?;
    (offset <= instruction.end).then_some(instruction)
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::{check, ignore};

    #[test]
    fn ignore_fix_adds_a_comment_above_the_instruction() {
        expect![[r#"
            Ignore `unknown-label` for this instruction
            FROM scratch
            # kubefile-ls ignore=unknown-label
            LABEL vesion=1
            -- left:
        "#]]
        .assert_eq(&ignore("unknown-label", "FROM scratch\nLABEL vesion=1\n"));
        // Indented, below an ordinary comment (which stays where it is).
        expect![[r#"
            Ignore `unknown-label` for this instruction
            FROM scratch
            # the version
              # kubefile-ls ignore=unknown-label
              LABEL vesion=1
            -- left:
        "#]]
        .assert_eq(&ignore("unknown-label", "FROM scratch\n# the version\n  LABEL vesion=1\n"));
    }

    #[test]
    fn ignore_fix_extends_an_ignore_comment_already_there() {
        expect![[r#"
            Ignore `unknown-label` for this instruction
            FROM scratch
            # kubefile-ls ignore=undefined-variable,unknown-label
            LABEL vesion=$X
            -- left:
        "#]]
        .assert_eq(&ignore(
            "unknown-label",
            "FROM scratch\n# kubefile-ls ignore=undefined-variable\nLABEL vesion=$X\n",
        ));
    }

    #[test]
    fn ignore_fix_is_not_offered_where_it_could_not_work() {
        expect![["no fix"]].assert_eq(&ignore("syntax-error", "FROM scratch\nCOPY --from= \"\n"));
        // Below a hadolint comment that silences something else.
        let below_hadolint = "FROM scratch\n# hadolint ignore=DL3011\nWORKDIR rel\n";
        expect![["no fix"]].assert_eq(&ignore("workdir-relative-path", below_hadolint));
    }

    #[test]
    fn ignore_comment_suppresses_next_instruction_only() {
        expect![[r#"
            4:7-4:13 warning[unknown-label] sealos does not read the label `vesion`: did you mean `version`?
        "#]]
        .assert_eq(&check(
            "unknown-label",
            "FROM scratch\n# kubefile-ls ignore=unknown-label\nLABEL vesion=1\nLABEL vesion=2\n",
        ));
    }

    #[test]
    fn every_buildkit_name_mapped_here_is_a_build_check_completion_offers() {
        for (namer, name, _) in super::EQUIVALENTS {
            if *namer == super::Namer::BuildKit {
                assert!(crate::sealos::docs::directives::BUILD_CHECKS.contains(name), "{name}");
            }
        }
    }

    #[test]
    fn buildkit_names_map_to_the_validity_rules() {
        let file = "from scratch AS Build\nFROM scratch\nMAINTAINER me\nENV A b\nWORKDIR rel\nEXPOSE 1.2.3.4:80\nRUN a \\\n\n b\n";
        let codes = [
            ("ConsistentInstructionCasing", "instruction-casing"),
            ("FromAsCasing", "from-as-casing"),
            ("StageNameCasing", "stage-name-casing"),
            ("MaintainerDeprecated", "maintainer-deprecated"),
            ("LegacyKeyValueFormat", "legacy-env-format"),
            ("WorkdirRelativePath", "workdir-relative-path"),
            ("ExposeInvalidFormat", "expose-invalid-port"),
            ("NoEmptyContinuation", "empty-continuation-line"),
        ];
        let all = check("", file);
        for (name, code) in codes {
            assert!(all.contains(&format!("[{code}]")), "{code} should fire on the fixture:\n{all}");
            let skipped = check("", &format!("# check=skip={name}\n{file}"));
            assert!(!skipped.contains(&format!("[{code}]")), "check=skip={name} should hide {code}:\n{skipped}");
        }
        let skipped = check("", &format!("# check=skip=all\n{file}"));
        for (_, code) in codes {
            assert!(!skipped.contains(&format!("[{code}]")), "check=skip=all should hide {code}:\n{skipped}");
        }
        // What BuildKit does not check stays (sealos rules, build failures).
        assert!(skipped.contains("[run-on-scratch]"), "{skipped}");
    }

    #[test]
    fn buildkit_names_never_hide_build_failures() {
        // EXPOSE 99999 fails the build; BuildKit's check=skip only silences its warnings.
        expect![[r#"
            3:8-3:13 error[expose-invalid-port] `99999` is not a valid port: use a number from 0 to 65535 or a range such as `8000-8010`, optionally with `/tcp`, `/udp` or `/sctp`
        "#]]
        .assert_eq(&check("expose-invalid-port", "# check=skip=ExposeInvalidFormat\nFROM scratch\nEXPOSE 99999 1.2.3.4:80\n"));
        // hadolint's DL3011 is about that very error, and the user asked to ignore it.
        expect![[""]].assert_eq(&check(
            "expose-invalid-port",
            "FROM scratch\n# hadolint ignore=DL3011\nEXPOSE 99999\n",
        ));
    }

    #[test]
    fn hadolint_stage_rules_and_per_instruction_check_skip() {
        let codes = ["[duplicate-stage-name]", "[unknown-stage]", "[copy-from-own-stage]"];
        let all = check("", "FROM scratch AS build\nFROM scratch AS build\nCOPY --from=buld x y\nCOPY --from=build x y\n");
        assert!(codes.iter().all(|code| all.contains(code)), "{all}");
        let ignored = check(
            "",
            "FROM scratch AS build\n# hadolint ignore=DL3024\nFROM scratch AS build\n# hadolint ignore=DL3022\n\
             COPY --from=buld x y\n# hadolint ignore=DL3023\nCOPY --from=build x y\n",
        );
        assert!(!codes.iter().any(|code| ignored.contains(code)), "{ignored}");
        // Newer BuildKit reads `check=skip` in the comment above an instruction too.
        expect![[r#"
            4:1-4:11 hint[maintainer-deprecated] MAINTAINER is deprecated: set the `org.opencontainers.image.authors` label instead
        "#]]
        .assert_eq(&check(
            "maintainer-deprecated",
            "FROM scratch\n# check=skip=MaintainerDeprecated\nMAINTAINER a\nMAINTAINER b\n# hadolint ignore=DL4000\nMAINTAINER c\n",
        ));
    }

    #[test]
    fn buildkit_check_skip_and_hadolint_ignore() {
        expect![[""]].assert_eq(&check("", "# check=skip=UndefinedVar\nFROM scratch\nLABEL org.x.a=$X\n# hadolint ignore=DL4003\nCMD [\"a b\"]\nCMD [\"c d\"]\n"));
    }
}
