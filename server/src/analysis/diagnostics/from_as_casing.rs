//! `from-as-casing`: `FROM image as name` — the `AS` keyword cased differently from `FROM`
//! (BuildKit's FromAsCasing). Only checked when `FROM` itself is all upper or all lower case;
//! a mixed-case `From` is `instruction-casing`'s business.

use crate::syntax::NodeKind as _;
use super::{validity, Diagnostic, InstructionContext, Severity};

pub(super) fn check(cx: &InstructionContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    for validated in cx.validated {
        let instruction = validated.instruction;
        if instruction.node.kind_name() != "from_instruction" {
            continue;
        }
        let (Some((from, _)), Some(as_node)) = (validity::keyword_text(cx.file, &instruction), validated.anonymous("AS"))
        else {
            continue;
        };
        let as_word = cx.file.node_text(as_node);
        let expected = if from == from.to_ascii_uppercase() {
            "AS"
        } else if from == from.to_ascii_lowercase() {
            "as"
        } else {
            continue;
        };
        if as_word == expected {
            continue;
        }
        out.push(
            Diagnostic::new(
                "from-as-casing",
                Severity::Warning,
                as_node.byte_range(),
                format!("`{as_word}` does not match the casing of `{from}`: write `{from} ... {expected} name`"),
            )
            .with_replacement(format!("Change to `{expected}`"), as_node.byte_range(), expected),
        );
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::{check, fix};

    #[test]
    fn fires_when_as_differs_from_from() {
        expect![[r#"
            1:13-1:15 warning[from-as-casing] `as` does not match the casing of `FROM`: write `FROM ... AS name`
            2:13-2:15 warning[from-as-casing] `AS` does not match the casing of `from`: write `from ... as name`
        "#]]
        .assert_eq(&check("from-as-casing", "FROM alpine as build\nfrom alpine AS b2\n"));
    }

    #[test]
    fn does_not_fire_on_matching_or_mixed_from() {
        expect![[""]].assert_eq(&check("from-as-casing", "FROM alpine AS a\nfrom alpine as b\nFrom alpine as c\nFROM scratch\n"));
    }

    #[test]
    fn quick_fix_matches_from() {
        expect![[r#"
            Change to `AS`
            FROM alpine AS build
        "#]]
        .assert_eq(&fix("from-as-casing", "FROM alpine as build\n"));
    }
}
