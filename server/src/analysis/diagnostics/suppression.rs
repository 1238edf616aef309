//! Suppression comments: `# kubefile-ls ignore=code1,code2` and `# hadolint ignore=DLxxxx` on
//! the line above an instruction, and BuildKit's `# check=skip=Rule1,Rule2|all` directive.

use super::Diagnostic;
use crate::syntax::SourceFile;

/// BuildKit check names and hadolint rules that correspond to our codes.
const EQUIVALENTS: &[(&str, &str)] = &[
    ("UndefinedVar", "undefined-variable"),
    ("MultipleInstructionsDisallowed", "duplicate-instruction"),
    ("DL4003", "duplicate-instruction"),
    ("DL4004", "duplicate-instruction"),
    ("DL3061", "missing-from"),
];

pub(super) struct Suppressions {
    /// (line of the instruction below the comment, codes)
    by_line: Vec<(usize, Vec<String>)>,
    skipped_everywhere: Vec<String>,
    skip_all: bool,
}

impl Suppressions {
    pub fn read(file: &SourceFile) -> Suppressions {
        let mut suppressions = Suppressions { by_line: Vec::new(), skipped_everywhere: Vec::new(), skip_all: false };
        let root = file.root();
        let mut cursor = root.walk();
        for node in root.children(&mut cursor) {
            let text = file.node_text(node).trim();
            match node.kind() {
                "parser_directive" => {
                    let body = text.trim_start_matches('#').trim();
                    let Some((name, value)) = body.split_once('=') else { continue };
                    if !name.trim().eq_ignore_ascii_case("check") {
                        continue;
                    }
                    for setting in value.split(';') {
                        if let Some(rules) = setting.trim().strip_prefix("skip=") {
                            for rule in rules.split(',').map(str::trim) {
                                if rule == "all" {
                                    suppressions.skip_all = true;
                                }
                                suppressions.skipped_everywhere.extend(codes_for(rule));
                            }
                        }
                    }
                }
                "comment" => {
                    let body = text.trim_start_matches('#').trim();
                    let codes = body
                        .strip_prefix("kubefile-ls ignore=")
                        .or_else(|| body.strip_prefix("hadolint ignore="))
                        .map(|list| list.split(',').flat_map(|code| codes_for(code.trim())).collect::<Vec<_>>());
                    if let Some(codes) = codes {
                        let next_line = node.end_position().row + usize::from(node.end_position().column > 0);
                        suppressions.by_line.push((next_line, codes));
                    }
                }
                _ => {}
            }
        }
        suppressions
    }

    pub fn suppresses(&self, file: &SourceFile, diagnostic: &Diagnostic) -> bool {
        if self.skipped_everywhere.iter().any(|code| code == diagnostic.code) {
            return true;
        }
        if self.skip_all && BUILDKIT_CODES.contains(&diagnostic.code) {
            return true;
        }
        if self.by_line.is_empty() {
            return false;
        }
        let Some(instruction) = instruction_at(file, diagnostic.range.start) else { return false };
        let line = instruction.start_position().row;
        self.by_line.iter().any(|(below, codes)| *below == line && codes.iter().any(|code| code == diagnostic.code || code == "all"))
    }
}

/// Codes `check=skip=all` turns off: the ones that correspond to BuildKit checks.
const BUILDKIT_CODES: &[&str] = &["undefined-variable", "duplicate-instruction"];

fn codes_for(name: &str) -> Vec<String> {
    let mapped: Vec<String> = EQUIVALENTS.iter().filter(|(from, _)| *from == name).map(|(_, to)| to.to_string()).collect();
    if mapped.is_empty() {
        vec![name.to_string()]
    } else {
        mapped
    }
}

fn instruction_at(file: &SourceFile, offset: usize) -> Option<tree_sitter::Node<'_>> {
    let root = file.root();
    let mut cursor = root.walk();
    let found = root.children(&mut cursor).find(|node| node.start_byte() <= offset && offset <= node.end_byte() && node.kind().ends_with("_instruction"));
    found
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::check;

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
    fn buildkit_check_skip_and_hadolint_ignore() {
        expect![[""]].assert_eq(&check("", "# check=skip=UndefinedVar\nFROM scratch\nLABEL org.x.a=$X\n# hadolint ignore=DL4003\nCMD [\"a b\"]\nCMD [\"c d\"]\n"));
    }
}
