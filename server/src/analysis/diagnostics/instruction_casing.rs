//! `instruction-casing`: an instruction keyword whose casing differs from the file's majority
//! (BuildKit's ConsistentInstructionCasing). Keywords are case-insensitive, so this is style, but
//! `From`/`cOPY` read as typos and most tools (and sealos docs) write them in upper case.

use super::{Diagnostic, RuleContext, Severity};
use crate::analysis::model::ItemKind;

pub(super) fn check(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    // Walked twice (count, then report) rather than collected: a big file has 10,000 keywords.
    let keywords = || {
        cx.outline
            .instructions()
            .filter(|instruction| instruction.kind != ItemKind::Unknown)
            .filter_map(|instruction| instruction.keyword.map(|keyword| (instruction.text(cx.file, keyword), instruction.range(keyword))))
    };
    let (mut lower, mut upper) = (0usize, 0usize);
    for (word, _) in keywords() {
        if !word.bytes().any(|b| b.is_ascii_uppercase()) {
            lower += 1;
        } else if !word.bytes().any(|b| b.is_ascii_lowercase()) {
            upper += 1;
        }
    }
    // BuildKit: lower case wins only with a strict majority.
    let majority_lower = lower > upper;
    for (word, range) in keywords() {
        let matches = if majority_lower { !word.bytes().any(|b| b.is_ascii_uppercase()) } else { !word.bytes().any(|b| b.is_ascii_lowercase()) };
        if matches {
            continue;
        }
        let expected = if majority_lower { word.to_ascii_lowercase() } else { word.to_ascii_uppercase() };
        let casing = if majority_lower { "lower case" } else { "upper case" };
        let message = if word != word.to_ascii_lowercase() && word != word.to_ascii_uppercase() {
            format!("`{word}` mixes upper and lower case: write `{expected}` like the other instructions ({casing})")
        } else {
            format!("`{word}` does not match the casing of the other instructions: write `{expected}` ({casing})")
        };
        out.push(
            Diagnostic::new("instruction-casing", Severity::Warning, range.clone(), message)
                .with_replacement(format!("Change to `{expected}`"), range, expected),
        );
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::{check, fix};

    #[test]
    fn fires_on_mixed_and_minority_casing() {
        expect![[r#"
            2:1-2:5 warning[instruction-casing] `Copy` mixes upper and lower case: write `COPY` like the other instructions (upper case)
            3:1-3:4 warning[instruction-casing] `cmd` does not match the casing of the other instructions: write `CMD` (upper case)
        "#]]
        .assert_eq(&check("instruction-casing", "FROM scratch\nCopy . .\ncmd [\"bash a.sh\"]\nENV A=1\n"));
    }

    #[test]
    fn lower_case_majority_wins() {
        expect![[r#"
            3:1-3:4 warning[instruction-casing] `ENV` does not match the casing of the other instructions: write `env` (lower case)
        "#]]
        .assert_eq(&check("instruction-casing", "from scratch\ncopy . .\nENV A=1\n"));
    }

    #[test]
    fn does_not_fire_on_consistent_files() {
        expect![[""]].assert_eq(&check("instruction-casing", "FROM scratch\nCOPY . .\nFORM x\n"));
        expect![[""]].assert_eq(&check("instruction-casing", "from scratch\ncopy . .\n"));
    }

    #[test]
    fn quick_fix_changes_the_keyword() {
        expect![[r#"
            Change to `COPY`
            FROM scratch
            COPY . .
            CMD ["bash a.sh"]
        "#]]
        .assert_eq(&fix("instruction-casing", "FROM scratch\nCopy . .\nCMD [\"bash a.sh\"]\n"));
    }
}
