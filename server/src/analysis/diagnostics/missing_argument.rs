//! `missing-argument`: an instruction without the arguments buildah requires (`FROM` without an
//! image, `COPY` with fewer than two operands, `ENV`/`LABEL` without pairs, `EXPOSE`, `USER`,
//! `WORKDIR`, `STOPSIGNAL`, ...). buildah stops with "X requires at least one argument" or
//! similar. RUN, CMD and ENTRYPOINT may be empty.

use crate::syntax::NodeKind as _;
use super::{validity, Diagnostic, InstructionContext, Severity};
use crate::syntax::{
    ast::{self, Instruction, InstructionParts},
    fields, NodeField as _,
};

pub(super) fn check(cx: &InstructionContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    for validated in cx.validated {
        let instruction = validated.instruction;
        if instruction.node.has_error() {
            continue;
        }
        let Some((_, keyword_range)) = validity::keyword_text(cx.file, &instruction) else { continue };
        let keyword = instruction.keyword(cx.file);
        let node = instruction.node;
        let has = |kind: &'static str| validated.has(kind);
        let missing = match keyword {
            "FROM" => {
                if node.field(&fields::IMAGE).is_none() {
                    out.push(
                        Diagnostic::new(
                            "missing-argument",
                            Severity::Error,
                            keyword_range.clone(),
                            "FROM needs a base image (a cluster image usually starts `FROM scratch`)",
                        )
                        .with_replacement("Add `scratch`", node.end_byte()..node.end_byte(), " scratch"),
                    );
                } else if let (Some(as_node), None) = (validated.anonymous("AS"), node.field(&fields::AS)) {
                    out.push(Diagnostic::new(
                        "missing-argument",
                        Severity::Error,
                        as_node.byte_range(),
                        "`AS` needs a stage name: buildah fails with \"FROM requires either one argument, or three\"",
                    ));
                }
                continue;
            }
            "COPY" | "ADD" => {
                operands(cx, validated, keyword, keyword_range, out);
                continue;
            }
            "ENV" | "LABEL" => !has("key_value_pair"),
            "ARG" => !has("key_value_pair") && !has("arg_name"),
            "EXPOSE" => !has("expose_port"),
            "USER" => node.field(&fields::USER).is_none(),
            "WORKDIR" => !has("path"),
            "STOPSIGNAL" => !has("signal"),
            "VOLUME" => !has("path") && !has("json_string_array"),
            "MAINTAINER" => !has("shell_command"),
            "SHELL" => !has("json_string_array") && !has("shell_command"),
            "ONBUILD" => node.named_child(0).and_then(Instruction::cast).is_none(),
            "HEALTHCHECK" => {
                healthcheck(validated, keyword_range, out);
                continue;
            }
            _ => false,
        };
        if missing {
            let what = match keyword {
                "ENV" | "LABEL" | "ARG" => "at least one `key=value`",
                "EXPOSE" => "at least one port",
                "USER" => "a user (`USER name[:group]`)",
                "WORKDIR" => "a directory",
                "STOPSIGNAL" => "a signal (`SIGTERM`)",
                "VOLUME" => "at least one path",
                "MAINTAINER" => "an author",
                "SHELL" => "a JSON array (`SHELL [\"/bin/sh\", \"-c\"]`)",
                "ONBUILD" => "an instruction to run in images built FROM this one",
                _ => "an argument",
            };
            out.push(Diagnostic::new(
                "missing-argument",
                Severity::Error,
                keyword_range,
                format!("{keyword} needs {what}: buildah fails without it"),
            ));
        }
    }
}

/// COPY and ADD need at least one source and a destination.
fn operands(
    cx: &InstructionContext<'_, '_>,
    validated: &InstructionParts<'_>,
    keyword: &str,
    keyword_range: std::ops::Range<usize>,
    out: &mut Vec<Diagnostic>,
) {
    let mut operands: Vec<tree_sitter::Node<'_>> = match validated.json_array() {
        Some(array) => ast::children_of_kind(array, "json_string").collect(),
        None => validated
            .children
            .iter()
            .copied()
            .filter(|c| c.is_named() && matches!(c.kind_name(), "path" | "heredoc_marker"))
            .collect(),
    };
    match operands.len() {
        0 => out.push(Diagnostic::new(
            "missing-argument",
            Severity::Error,
            keyword_range,
            format!("{keyword} needs a source and a destination (`{keyword} <src>... <dest>`)"),
        )),
        1 => {
            let only = operands.remove(0);
            out.push(Diagnostic::new(
                "missing-argument",
                Severity::Error,
                only.byte_range(),
                format!(
                    "{keyword} needs a destination after `{}`: buildah fails with \"{keyword} requires at least two arguments\"",
                    cx.file.node_text(only)
                ),
            ));
        }
        _ => {}
    }
}

/// `HEALTHCHECK` needs `NONE` or `CMD <command>`.
fn healthcheck(validated: &InstructionParts<'_>, keyword_range: std::ops::Range<usize>, out: &mut Vec<Diagnostic>) {
    if validated.anonymous("NONE").is_some() {
        return;
    }
    match validated.named("cmd_instruction").next() {
        None => out.push(Diagnostic::new(
            "missing-argument",
            Severity::Error,
            keyword_range,
            "HEALTHCHECK needs `CMD <command>` or `NONE`",
        )),
        Some(cmd) => {
            let inner = Instruction { node: cmd };
            if inner.json_array().is_none() && inner.shell_command().is_none() {
                let range = inner.keyword_node().map_or(cmd.byte_range(), |k| k.byte_range());
                out.push(Diagnostic::new(
                    "missing-argument",
                    Severity::Error,
                    range,
                    "HEALTHCHECK CMD needs a command to run",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::{check, fix};

    #[test]
    fn fires_on_instructions_without_arguments() {
        expect![[r#"
            1:1-1:5 error[missing-argument] FROM needs a base image (a cluster image usually starts `FROM scratch`)
            2:8-2:10 error[missing-argument] `AS` needs a stage name: buildah fails with "FROM requires either one argument, or three"
            3:1-3:5 error[missing-argument] COPY needs a source and a destination (`COPY <src>... <dest>`)
            4:5-4:13 error[missing-argument] ADD needs a destination after `registry`: buildah fails with "ADD requires at least two arguments"
            5:1-5:4 error[missing-argument] ENV needs at least one `key=value`: buildah fails without it
            6:1-6:6 error[missing-argument] LABEL needs at least one `key=value`: buildah fails without it
            7:1-7:7 error[missing-argument] EXPOSE needs at least one port: buildah fails without it
            8:1-8:5 error[missing-argument] USER needs a user (`USER name[:group]`): buildah fails without it
            9:1-9:8 error[missing-argument] WORKDIR needs a directory: buildah fails without it
            10:1-10:11 error[missing-argument] STOPSIGNAL needs a signal (`SIGTERM`): buildah fails without it
            11:1-11:12 error[missing-argument] HEALTHCHECK needs `CMD <command>` or `NONE`
            12:15-12:18 error[missing-argument] COPY needs a destination after `"a"`: buildah fails with "COPY requires at least two arguments"
        "#]]
        .assert_eq(&check(
            "missing-argument",
            "FROM\nFROM x AS\nCOPY\nADD registry\nENV\nLABEL\nEXPOSE\nUSER\nWORKDIR\nSTOPSIGNAL\nHEALTHCHECK\nONBUILD COPY [\"a\"]\n",
        ));
    }

    #[test]
    fn fires_on_healthcheck_cmd_without_command() {
        expect![[r#"
            2:27-2:30 error[missing-argument] HEALTHCHECK CMD needs a command to run
        "#]]
        .assert_eq(&check("missing-argument", "FROM alpine\nHEALTHCHECK --interval=5s CMD\n"));
    }

    #[test]
    fn does_not_fire_on_complete_instructions() {
        expect![[""]].assert_eq(&check(
            "missing-argument",
            "FROM scratch AS s\nCOPY registry registry\nCOPY <<EOF /x\nhi\nEOF\nCOPY [\"a\", \"b\"]\nENV A=1\nLABEL a=b\nARG X\nEXPOSE 80\nUSER 1000\nWORKDIR /w\nSTOPSIGNAL SIGTERM\nHEALTHCHECK NONE\nHEALTHCHECK --interval=5s CMD true\nCMD\nRUN\n",
        ));
    }

    #[test]
    fn quick_fix_adds_scratch() {
        expect![[r#"
            Add `scratch`
            FROM scratch
            COPY . .
        "#]]
        .assert_eq(&fix("missing-argument", "FROM\nCOPY . .\n"));
    }
}
