//! Instructions as buildah v1.30 receives them. Our grammar finds the instructions (and their
//! positions for error messages); the arguments are then split the way the BuildKit parser
//! vendored by imagebuilder splits them, because substitution ([`super::words`]) runs on those
//! raw pieces: line continuations joined (comment and blank lines inside them dropped), flags
//! taken off the front, then `KEY=VALUE` words, JSON arrays or whitespace-separated words.

use crate::syntax::{ast, SourceFile, TextRange};

/// One instruction, split but not yet substituted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawInstruction {
    /// Lower case (`copy`), as the parser reports it.
    pub command: String,
    /// `--name=value` words before the arguments, quotes removed, not yet substituted.
    pub flags: Vec<String>,
    pub args: Args,
    /// The whole instruction as one line (for history and messages).
    pub original: String,
    /// Where it is in the build file.
    pub range: TextRange,
    /// Which of the concatenated build files it comes from (0 for the first).
    pub file: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Args {
    /// ENV and LABEL: keys and values as written (quotes still in place).
    Pairs(Vec<(String, String)>),
    /// A JSON array (exec form); already unquoted by JSON.
    Json(Vec<String>),
    /// Words as the parser splits them (quotes still in place).
    Words(Vec<String>),
    /// Everything after the keyword (shell form of CMD/ENTRYPOINT/RUN, MAINTAINER, USER...).
    Text(String),
    /// HEALTHCHECK: its type (`CMD`/`NONE`) and the command after it.
    Health { kind: String, command: Box<Args> },
    /// ONBUILD: the trigger instruction as written.
    Trigger(String),
    None,
}

/// The instructions of a build file, in order, with the escape character of its directive.
pub fn instructions(file: &SourceFile) -> Result<Vec<RawInstruction>, SplitError> {
    let escape = crate::analysis::format::escape_char(file);
    ast::instructions(file)
        .into_iter()
        .map(|instruction| {
            let range = instruction.node.byte_range();
            let line = logical_line(&file.text()[range.clone()], escape);
            split(&line, escape, range)
        })
        .collect()
}

/// An instruction the parser rejects, with its position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SplitError {
    pub message: String,
    pub range: TextRange,
}

/// Joins an instruction's physical lines as the BuildKit parser does: a trailing escape
/// character (plus spaces or tabs) continues the line, the next line is appended with its
/// indentation, and comment or blank lines inside the continuation are skipped.
pub fn logical_line(text: &str, escape: char) -> String {
    let mut lines = text.split('\n').map(|line| line.strip_suffix('\r').unwrap_or(line));
    let mut out = String::new();
    let Some(first) = lines.next() else { return out };
    let (first, mut continues) = trim_continuation(first.trim_start(), escape);
    out.push_str(first);
    for line in lines {
        if !continues {
            break;
        }
        let stripped = line.trim_start();
        if stripped.starts_with('#') || stripped.is_empty() {
            continue;
        }
        let (piece, more) = trim_continuation(line, escape);
        out.push_str(piece);
        continues = more;
    }
    out
}

fn trim_continuation(line: &str, escape: char) -> (&str, bool) {
    let trimmed = line.trim_end_matches([' ', '\t']);
    match trimmed.strip_suffix(escape) {
        Some(rest) => (rest, true),
        None => (line, false),
    }
}

/// Splits a logical line into command, flags and arguments.
pub fn split(line: &str, escape: char, range: TextRange) -> Result<RawInstruction, SplitError> {
    let trimmed = line.trim();
    let (keyword, rest) = match trimmed.find(is_parser_space) {
        Some(at) => (&trimmed[..at], trimmed[at..].trim_start_matches(is_parser_space)),
        None => (trimmed, ""),
    };
    let command = keyword.to_ascii_lowercase();
    let (rest, flags) = extract_flags(rest);
    let error = |message: String| SplitError { message, range: range.clone() };
    let args = match command.as_str() {
        "env" | "label" => name_values(rest, escape, &command.to_ascii_uppercase()).map_err(error)?,
        "arg" => Args::Words(parse_words(rest, escape)),
        "cmd" | "entrypoint" | "run" | "shell" => maybe_json(rest),
        "add" | "copy" | "volume" => match maybe_json(rest) {
            Args::Text(text) => Args::Words(whitespace_words(&text)),
            other => other,
        },
        "expose" | "from" => Args::Words(whitespace_words(rest)),
        "healthcheck" => {
            let rest = rest.trim_start();
            let (kind, command) = match rest.find(char::is_whitespace) {
                Some(at) => (&rest[..at], rest[at..].trim_start()),
                None => (rest, ""),
            };
            if kind.is_empty() {
                Args::None
            } else {
                Args::Health { kind: kind.to_owned(), command: Box::new(maybe_json(command)) }
            }
        }
        "onbuild" => {
            if rest.is_empty() {
                Args::None
            } else {
                Args::Trigger(rest.to_owned())
            }
        }
        _ if rest.is_empty() => Args::None,
        _ => Args::Text(rest.to_owned()),
    };
    Ok(RawInstruction { command, flags, args, original: trimmed.to_owned(), range, file: 0 })
}

/// Go's `regexp` `\s` as the parser uses it for splitting: space, tab, CR, LF, FF, VT.
fn is_parser_space(ch: char) -> bool {
    matches!(ch, ' ' | '\t' | '\r' | '\n' | '\x0b' | '\x0c')
}

fn whitespace_words(rest: &str) -> Vec<String> {
    rest.split(is_parser_space).filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

/// `["a", "b"]` when the whole rest is a JSON array of strings, otherwise the text.
fn maybe_json(rest: &str) -> Args {
    let rest = rest.trim_start();
    if rest.is_empty() {
        return Args::None;
    }
    if rest.starts_with('[') {
        if let Ok(values) = serde_json::from_str::<Vec<String>>(rest) {
            return Args::Json(values);
        }
    }
    Args::Text(rest.to_owned())
}

/// ENV/LABEL: `KEY=VALUE ...`, or the legacy `KEY VALUE with spaces` when the first word has
/// no `=`.
fn name_values(rest: &str, escape: char, keyword: &str) -> Result<Args, String> {
    let words = parse_words(rest, escape);
    let Some(first) = words.first() else {
        return Err(format!("{keyword} requires at least one argument"));
    };
    if !first.contains('=') {
        let trimmed = rest.trim_start_matches(is_parser_space);
        let Some(at) = trimmed.find(is_parser_space) else {
            return Err(format!("{keyword} must have two arguments"));
        };
        let value = trimmed[at..].trim_start_matches(is_parser_space);
        return Ok(Args::Pairs(vec![(trimmed[..at].to_owned(), value.to_owned())]));
    }
    let mut pairs = Vec::new();
    for word in words {
        let Some((key, value)) = word.split_once('=') else {
            return Err(format!("Syntax error - can't find = in {word:?}. Must be of the form: name=value"));
        };
        if keyword == "ENV" && key.is_empty() {
            return Err("ENV names can not be blank".into());
        }
        pairs.push((key.to_owned(), value.to_owned()));
    }
    Ok(Args::Pairs(pairs))
}

/// The parser's word splitter: whitespace separates words unless quoted; quotes and escapes
/// stay in the words (substitution removes them later).
pub fn parse_words(rest: &str, escape: char) -> Vec<String> {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote(char),
    }
    let chars: Vec<char> = rest.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    let mut blank_ok = false;
    let mut phase = Phase::Spaces;
    let mut i = 0;
    while i < chars.len() {
        let ch = chars[i];
        if phase == Phase::Spaces {
            if ch.is_whitespace() {
                i += 1;
                continue;
            }
            phase = Phase::Word;
        }
        match phase {
            Phase::Word => {
                if ch.is_whitespace() {
                    if blank_ok || !word.is_empty() {
                        words.push(std::mem::take(&mut word));
                    }
                    blank_ok = false;
                    phase = Phase::Spaces;
                    i += 1;
                    continue;
                }
                if ch == '\'' || ch == '"' {
                    blank_ok = true;
                    phase = Phase::Quote(ch);
                }
                if ch == escape {
                    if i + 1 == chars.len() {
                        i += 1;
                        continue;
                    }
                    word.push(ch);
                    i += 1;
                }
                word.push(chars[i]);
            }
            Phase::Quote(quote) => {
                let mut ch = ch;
                if ch == quote {
                    phase = Phase::Word;
                }
                if ch == escape && quote != '\'' {
                    if i + 1 == chars.len() {
                        phase = Phase::Word;
                        i += 1;
                        continue;
                    }
                    word.push(ch);
                    i += 1;
                    ch = chars[i];
                }
                word.push(ch);
            }
            Phase::Spaces => unreachable!("handled above"),
        }
        i += 1;
    }
    if phase != Phase::Spaces && (blank_ok || !word.is_empty()) {
        words.push(word);
    }
    words
}

/// Leading `--flag[=value]` words: returned without quotes and backslash escapes, with the
/// rest of the line.
fn extract_flags(line: &str) -> (&str, Vec<String>) {
    let mut flags = Vec::new();
    let bytes: Vec<(usize, char)> = line.char_indices().collect();
    let mut i = 0;
    loop {
        while i < bytes.len() && bytes[i].1.is_whitespace() {
            i += 1;
        }
        if i >= bytes.len() {
            return ("", flags);
        }
        let starts_flag = bytes[i].1 == '-' && bytes.get(i + 1).is_some_and(|&(_, c)| c == '-');
        if !starts_flag {
            return (&line[bytes[i].0..], flags);
        }
        let mut word = String::new();
        let mut quote: Option<char> = None;
        let mut blank_ok = false;
        while i < bytes.len() {
            let ch = bytes[i].1;
            match quote {
                None if ch.is_whitespace() => break,
                None if ch == '\'' || ch == '"' => {
                    quote = Some(ch);
                    blank_ok = true;
                }
                Some(q) if ch == q => quote = None,
                _ if ch == '\\' => {
                    if i + 1 < bytes.len() {
                        i += 1;
                        word.push(bytes[i].1);
                    } else {
                        quote = None;
                    }
                }
                _ => word.push(ch),
            }
            i += 1;
        }
        if word == "--" {
            let rest = bytes.get(i).map_or("", |&(at, _)| &line[at..]);
            return (rest, flags);
        }
        if blank_ok || !word.is_empty() {
            flags.push(word);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> RawInstruction {
        let file = SourceFile::parse(text);
        instructions(&file).unwrap().remove(0)
    }

    #[test]
    fn continuation_keeps_indentation_and_drops_comment_lines() {
        let instruction = one("CMD cp a \\\n    && b \\\n  # note\n\n    && c\n");
        assert_eq!(instruction.args, Args::Text("cp a     && b     && c".into()));
    }

    #[test]
    fn env_forms() {
        let pairs = |text| match one(text).args {
            Args::Pairs(pairs) => pairs,
            other => panic!("{other:?}"),
        };
        assert_eq!(pairs("ENV A=1 B=\"x y\"\n"), [("A".into(), "1".into()), ("B".into(), "\"x y\"".into())]);
        assert_eq!(pairs("ENV HELM_OPTS --set a=b  \n"), [("HELM_OPTS".into(), "--set a=b".into())]);
        assert_eq!(pairs("LABEL a=\"x \\$y\"\n"), [("a".into(), "\"x \\$y\"".into())]);
    }

    #[test]
    fn copy_flags_and_sources() {
        let instruction = one("COPY --chown=1:2 --from=\"base\" a b* /dst/\n");
        assert_eq!(instruction.flags, ["--chown=1:2", "--from=base"]);
        assert_eq!(instruction.args, Args::Words(vec!["a".into(), "b*".into(), "/dst/".into()]));
        assert_eq!(one("COPY [\"a b\", \"c\"]\n").args, Args::Json(vec!["a b".into(), "c".into()]));
    }

    #[test]
    fn json_needs_the_whole_rest() {
        assert_eq!(one("CMD [\"a\"] x\n").args, Args::Text("[\"a\"] x".into()));
        assert_eq!(one("CMD ['a']\n").args, Args::Text("['a']".into()));
    }

    #[test]
    fn healthcheck_and_onbuild() {
        let instruction = one("HEALTHCHECK --interval=5s CMD curl x\n");
        assert_eq!(instruction.flags, ["--interval=5s"]);
        assert_eq!(instruction.args, Args::Health { kind: "CMD".into(), command: Box::new(Args::Text("curl x".into())) });
        assert_eq!(one("ONBUILD COPY a b\n").args, Args::Trigger("COPY a b".into()));
    }
}
