//! `json-in-single-quotes`: `CMD ['bash', 'init.sh']` looks like the exec form, but JSON needs
//! double quotes, so BuildKit and buildah read it as the shell form: the command becomes the text
//! `['bash', 'init.sh']`, which no shell can run (and sealos runs CMD through a shell).

use super::{Diagnostic, InstructionContext, Severity};

/// Instructions that have a JSON (exec) form.
const JSON_FORM: &[&str] = &["CMD", "ENTRYPOINT", "RUN", "SHELL", "VOLUME", "ADD", "COPY"];

pub(super) fn check(cx: &InstructionContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    for validated in cx.validated {
        let instruction = validated.instruction;
        let keyword = instruction.keyword(cx.file);
        // Only text with a `'` after a `[` can be a single-quoted array.
        let written = cx.file.node_text(instruction.node);
        if !written.find('[').is_some_and(|bracket| written[bracket..].contains('\''))
            || !JSON_FORM.contains(&keyword)
            || validated.json_array().is_some()
        {
            continue;
        }
        // The arguments: from after the keyword and flags to the end of the instruction.
        let mut start = match validated.flags.last() {
            Some(flag) => flag.node.end_byte(),
            None => match instruction.keyword_node() {
                Some(node) => node.end_byte(),
                None => continue,
            },
        };
        let end = instruction.node.end_byte();
        let text = cx.file.text();
        if start >= end {
            continue;
        }
        start += text[start..end].len() - text[start..end].trim_start().len();
        let arguments = text[start..end].trim_end();
        let Some(elements) = single_quoted_array(arguments) else { continue };
        let json = format!(
            "[{}]",
            elements.iter().map(|e| serde_json::to_string(e).unwrap_or_default()).collect::<Vec<_>>().join(", ")
        );
        let range = start..start + arguments.len();
        out.push(
            Diagnostic::new(
                "json-in-single-quotes",
                Severity::Warning,
                range.clone(),
                if matches!(keyword, "VOLUME" | "ADD" | "COPY") {
                    format!("JSON needs double quotes: with single quotes the brackets and quotes of `{arguments}` become part of the {keyword} paths")
                } else {
                    format!("JSON needs double quotes: with single quotes this {keyword} is the shell form and runs the text `{arguments}` as a command")
                },
            )
            .with_replacement(format!("Use double quotes: `{json}`"), range, json),
        );
    }
}

/// The elements of `[ 'a', "b" ]` when it is a JSON string array except that at least one
/// element uses single quotes; `None` for anything else.
fn single_quoted_array(text: &str) -> Option<Vec<String>> {
    let inner = text.strip_prefix('[')?.strip_suffix(']')?;
    let mut chars = inner.trim().chars().peekable();
    let mut elements = Vec::new();
    let mut saw_single = false;
    chars.peek()?;
    loop {
        let quote = chars.next()?;
        if quote != '\'' && quote != '"' {
            return None;
        }
        saw_single |= quote == '\'';
        let mut element = String::new();
        loop {
            match chars.next()? {
                c if c == quote => break,
                '\\' if quote == '"' => element.push(chars.next()?),
                '\n' => return None,
                c => element.push(c),
            }
        }
        elements.push(element);
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            None => break,
            Some(',') => {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
            }
            Some(_) => return None,
        }
    }
    saw_single.then_some(elements)
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::{check, fix};

    #[test]
    fn fires_on_single_quoted_arrays() {
        expect![[r#"
            2:5-2:24 warning[json-in-single-quotes] JSON needs double quotes: with single quotes this CMD is the shell form and runs the text `['bash', 'init.sh']` as a command
            3:6-3:16 warning[json-in-single-quotes] JSON needs double quotes: with single quotes the brackets and quotes of `['a', 'b']` become part of the COPY paths
            4:8-4:14 warning[json-in-single-quotes] JSON needs double quotes: with single quotes the brackets and quotes of `['/a']` become part of the VOLUME paths
        "#]]
        .assert_eq(&check(
            "json-in-single-quotes",
            "FROM scratch\nCMD ['bash', 'init.sh']\nCOPY ['a', 'b']\nVOLUME ['/a']\n",
        ));
    }

    #[test]
    fn does_not_fire_on_json_or_shell_text() {
        expect![[""]].assert_eq(&check(
            "json-in-single-quotes",
            "FROM alpine\nCMD [\"bash init.sh\"]\nRUN echo '[a]'\nRUN ['a' 'b']\nLABEL x=['a']\nCMD [] \n",
        ));
    }

    #[test]
    fn quick_fix_uses_double_quotes() {
        expect![[r#"
            Use double quotes: `["bash \"a b\".sh", "x"]`
            FROM scratch
            CMD ["bash \"a b\".sh", "x"]
        "#]]
        .assert_eq(&fix("json-in-single-quotes", "FROM scratch\nCMD ['bash \"a b\".sh', \"x\"]\n"));
    }
}
