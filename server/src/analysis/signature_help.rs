//! Signature help for every instruction: the signatures of `sealos::docs::signatures`, the one
//! matching the form being written (JSON or shell) active, and the parameter under the cursor
//! active (a flag, a COPY source or destination, a key or a value, ...).

use super::{
    completion::{join_continuations, logical_line_start},
    docs::DocOptions,
};
use crate::{
    sealos::docs::signatures::{self, Role, SignatureDoc},
    syntax::{SourceFile, TextRange},
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParameterInformation {
    /// Byte range of the parameter inside the signature label (labels are ASCII, so these are
    /// also UTF-16 offsets).
    pub label: TextRange,
    pub documentation: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureInformation {
    pub label: String,
    pub documentation: Option<String>,
    pub parameters: Vec<ParameterInformation>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureHelp {
    pub signatures: Vec<SignatureInformation>,
    pub active_signature: usize,
    pub active_parameter: Option<usize>,
}

/// `signatureHelpProvider.triggerCharacters` and `retriggerCharacters`.
pub const TRIGGER_CHARACTERS: &[&str] = &[" ", "-", "=", "[", ","];

pub fn signature_help(file: &SourceFile, offset: usize, opts: &DocOptions) -> Option<SignatureHelp> {
    let text = file.text();
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let escape = super::format::escape_char(file);
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    if text[line_start..offset].trim_start().starts_with('#') {
        return None;
    }
    let logical_start = logical_line_start(text, line_start, escape);
    let before = join_continuations(&text[logical_start..offset], escape);
    let before = before.trim_start();
    let space = before.find(char::is_whitespace)?;
    let mut keyword = before[..space].to_ascii_uppercase();
    let mut rest = &before[space..];
    if keyword == "ONBUILD" {
        let nested = rest.trim_start();
        let space = nested.find(char::is_whitespace)?;
        keyword = nested[..space].to_ascii_uppercase();
        rest = &nested[space..];
    }
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let after = &text[offset..line_end];
    let candidates: Vec<&SignatureDoc> = signatures::of(&keyword).collect();
    if candidates.is_empty() {
        return None;
    }
    let slot = slot(&keyword, rest, after);
    let json = rest.trim_start().starts_with('[') || after.trim_start().starts_with('[') && rest.trim().is_empty();
    let healthcheck_none = keyword == "HEALTHCHECK" && rest.split_whitespace().any(|w| w.eq_ignore_ascii_case("NONE"));
    let form_matches = |sig: &SignatureDoc| match sig.json {
        Some(form) => form == json,
        None => !(keyword == "HEALTHCHECK" && sig.label.ends_with("NONE") != healthcheck_none),
    };
    // The first signature of the right form that has a parameter for the cursor's slot.
    let active_signature = candidates
        .iter()
        .position(|sig| form_matches(sig) && slot.as_ref().is_some_and(|slot| active_param(sig, slot).is_some()))
        .or_else(|| candidates.iter().position(|sig| form_matches(sig)))
        .unwrap_or(0);
    let signature = candidates[active_signature];
    let active_parameter = slot.as_ref().and_then(|slot| active_param(signature, slot));
    let signatures = candidates
        .iter()
        .map(|sig| SignatureInformation {
            label: sig.label.to_string(),
            documentation: Some(opts.render(sig.doc.get(opts.locale))),
            parameters: sig
                .params
                .iter()
                .map(|param| {
                    let start = sig.label.find(param.label).unwrap_or(0);
                    ParameterInformation {
                        label: start..start + param.label.len(),
                        documentation: Some(opts.render(param.doc.get(opts.locale))),
                    }
                })
                .collect(),
        })
        .collect();
    Some(SignatureHelp { signatures, active_signature, active_parameter })
}

/// What the cursor is on.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Slot {
    Flag(String),
    Operand { index: usize, last: bool },
    Key,
    Value,
}

fn slot(keyword: &str, rest: &str, after: &str) -> Option<Slot> {
    let trimmed = rest.trim_start();
    // JSON form: the element index.
    if let Some(array) = trimmed.strip_prefix('[') {
        let mut index = 0;
        let mut in_string = false;
        let mut escaped = false;
        for c in array.chars() {
            match c {
                _ if escaped => escaped = false,
                '\\' if in_string => escaped = true,
                '"' => in_string = !in_string,
                ',' if !in_string => index += 1,
                _ => {}
            }
        }
        let more = after.contains(',');
        return Some(Slot::Operand { index, last: !more && index > 0 });
    }
    let words: Vec<&str> = rest.split_whitespace().collect();
    let typing = !rest.ends_with(char::is_whitespace) && !words.is_empty();
    let (done, current) = if typing { (&words[..words.len() - 1], Some(words[words.len() - 1])) } else { (&words[..], None) };
    let all_flags_before = done.iter().all(|w| w.starts_with("--"));
    if let Some(current) = current {
        if current.starts_with("--") && all_flags_before {
            let name = current.trim_start_matches('-').split('=').next().unwrap_or("");
            return Some(Slot::Flag(name.to_string()));
        }
    }
    let operands: Vec<&&str> = done.iter().filter(|w| !w.starts_with("--")).collect();
    if matches!(keyword, "ENV" | "LABEL" | "ARG") {
        let legacy = keyword == "ENV" && operands.first().is_some_and(|w| !w.contains('='));
        if legacy {
            return Some(Slot::Operand { index: operands.len().min(1), last: false });
        }
        return Some(match current {
            Some(word) if word.contains('=') => Slot::Value,
            _ => Slot::Key,
        });
    }
    let index = operands.len();
    let more_after = after.split_whitespace().nth(if after.starts_with(char::is_whitespace) || current.is_none() { 0 } else { 1 }).is_some();
    Some(Slot::Operand { index, last: index > 0 && !more_after })
}

fn active_param(signature: &SignatureDoc, slot: &Slot) -> Option<usize> {
    let find = |role: Role| signature.params.iter().position(|param| param.role == role);
    match *slot {
        Slot::Flag(ref name) => signature
            .params
            .iter()
            .position(|param| matches!(param.role, Role::Flag(flag) if flag == name))
            .or_else(|| signature.params.iter().position(|param| matches!(param.role, Role::Flag(flag) if !name.is_empty() && flag.starts_with(name.as_str())))),
        Slot::Key => find(Role::Key),
        Slot::Value => find(Role::Value),
        Slot::Operand { index, last } => find(Role::Operand(index))
            .or_else(|| if last { find(Role::Destination) } else { None })
            .or_else(|| find(Role::Sources))
            .or_else(|| find(Role::Rest)),
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use super::*;
    use crate::analysis::{
        docs::{Locale, Markup},
        fixture,
    };

    fn check(fixture: &str, expect: Expect) {
        let f = fixture::parse(fixture);
        let out = match signature_help(&f.file, f.offset(), &DocOptions::default()) {
            Some(help) => {
                let sig = &help.signatures[help.active_signature];
                let param = help.active_parameter.map(|i| &sig.label[sig.parameters[i].label.clone()]);
                format!("{} of {}: {}\nactive: {}\n", help.active_signature + 1, help.signatures.len(), sig.label, param.unwrap_or("-"))
            }
            None => "none\n".to_string(),
        };
        expect.assert_eq(&out);
    }

    #[test]
    fn copy_sources_and_destination() {
        check("FROM scratch\nCOPY $0", expect![[r#"
            1 of 2: COPY [--from=<stage>] [--chown=<user>:<group>] [--chmod=<perms>] <src>... <dest>
            active: <src>...
        "#]]);
        check("FROM scratch\nCOPY registry $0", expect![[r#"
            1 of 2: COPY [--from=<stage>] [--chown=<user>:<group>] [--chmod=<perms>] <src>... <dest>
            active: <dest>
        "#]]);
        check("FROM scratch\nCOPY a $0 c", expect![[r#"
            1 of 2: COPY [--from=<stage>] [--chown=<user>:<group>] [--chmod=<perms>] <src>... <dest>
            active: <src>...
        "#]]);
        check("FROM scratch\nCOPY --fr$0", expect![[r#"
            1 of 2: COPY [--from=<stage>] [--chown=<user>:<group>] [--chmod=<perms>] <src>... <dest>
            active: --from=<stage>
        "#]]);
        check("FROM scratch\nCOPY [\"a\", $0", expect![[r#"
            2 of 2: COPY [--from=<stage>] ["<src>", ... "<dest>"]
            active: "<dest>"
        "#]]);
    }

    #[test]
    fn from_and_cmd_forms() {
        check("FROM $0", expect![[r#"
            1 of 1: FROM [--platform=<platform>] <image> [AS <name>]
            active: <image>
        "#]]);
        check("FROM alpine AS $0", expect![[r#"
            1 of 1: FROM [--platform=<platform>] <image> [AS <name>]
            active: <name>
        "#]]);
        check("FROM scratch\nCMD [\"helm $0", expect![[r#"
            1 of 2: CMD ["<command>", ...]
            active: "<command>", ...
        "#]]);
        check("FROM scratch\nCMD helm $0", expect![[r#"
            2 of 2: CMD <command>
            active: <command>
        "#]]);
    }

    #[test]
    fn key_value_instructions() {
        check("FROM scratch\nENV NAME=$0", expect![[r#"
            1 of 2: ENV <key>=<value> [<key>=<value> ...]
            active: <value>
        "#]]);
        check("FROM scratch\nLABEL a=b \\\n  $0", expect![[r#"
            1 of 1: LABEL <key>=<value> [<key>=<value> ...]
            active: <key>
        "#]]);
        check("FROM scratch\nENV NAME $0", expect![[r#"
            2 of 2: ENV <key> <value>
            active: <value>
        "#]]);
        check("FROM alpine\nHEALTHCHECK NONE$0", expect![[r#"
            2 of 2: HEALTHCHECK NONE
            active: -
        "#]]);
        check("FROM alpine\nHEALTHCHECK --retries=$0", expect![[r#"
            1 of 2: HEALTHCHECK [--interval=<duration>] [--timeout=<duration>] [--start-period=<duration>] [--retries=<n>] CMD <command>
            active: --retries=<n>
        "#]]);
        check("FROM alpine\nONBUILD WORKDIR $0", expect![[r#"
            1 of 1: WORKDIR <path>
            active: <path>
        "#]]);
    }

    #[test]
    fn not_on_keywords_or_comments() {
        check("FRO$0", expect![[r#"
            none
        "#]]);
        check("# syntax=$0\nFROM scratch\n", expect![[r#"
            none
        "#]]);
    }

    #[test]
    fn chinese_docs() {
        let f = fixture::parse("FROM scratch\nCMD [$0");
        let help = signature_help(&f.file, f.offset(), &DocOptions::new(Markup::PlainText, Locale::ZhCn)).unwrap();
        let sig = &help.signatures[help.active_signature];
        assert_eq!(sig.documentation.as_deref(), Some("sealos run 执行的命令，每个元素一条完整的 shell 命令。"));
    }
}
