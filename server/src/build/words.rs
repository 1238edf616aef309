//! Build-time variable substitution exactly as buildah v1.30 performs it: imagebuilder's
//! `ProcessWord`/`ProcessWords` (`shell_parser.go`), which differ from BuildKit's lexer that the
//! editor features use. Differences that matter for Kubefiles: an unset variable is the empty
//! string in every form, `${X-d}` (no colon) is an error, `${X:?}` only fails when the value and
//! the word are both empty, and a backslash outside quotes escapes any character.

use std::fmt;

/// A substitution imagebuilder rejects; the build stops with this message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordError(pub String);

impl fmt::Display for WordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WordError {}

/// Variables visible to a word, in imagebuilder's lookup order: the first `NAME=` entry wins.
pub trait Lookup {
    fn get(&self, name: &str) -> Option<&str>;
}

impl Lookup for [(String, String)] {
    fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }
}

impl Lookup for Vec<(String, String)> {
    fn get(&self, name: &str) -> Option<&str> {
        Lookup::get(self.as_slice(), name)
    }
}

/// Quotes removed, escapes resolved and `$X`, `${X}`, `${X:-d}`, `${X:+a}`, `${X:?m}`,
/// `${X#p}`, `${X%p}`, `${X/p/r}` expanded: one word (spaces kept).
pub fn process_word(word: &str, env: &(impl Lookup + ?Sized)) -> Result<String, WordError> {
    let mut shell = ShellWord::new(word, env);
    shell.process_stop_on(&[]).map(|(_, result, _)| result)
}

/// Like [`process_word`], then split on unquoted whitespace that came from the word itself or
/// from an expansion (EXPOSE uses this, so `EXPOSE $PORTS` gives several ports).
pub fn process_words(word: &str, env: &(impl Lookup + ?Sized)) -> Result<Vec<String>, WordError> {
    let mut shell = ShellWord::new(word, env);
    shell.process_stop_on(&[]).map(|(_, _, words)| words)
}

struct ShellWord<'a, L: Lookup + ?Sized> {
    word: &'a str,
    chars: Vec<char>,
    position: usize,
    env: &'a L,
}

#[derive(Default)]
struct Words {
    word: String,
    words: Vec<String>,
    in_word: bool,
}

impl Words {
    fn add_char(&mut self, ch: char) {
        if ch.is_whitespace() {
            if self.in_word && !self.word.is_empty() {
                self.words.push(std::mem::take(&mut self.word));
                self.in_word = false;
            }
        } else {
            self.add_raw_char(ch);
        }
    }

    fn add_raw_char(&mut self, ch: char) {
        self.word.push(ch);
        self.in_word = true;
    }

    fn add_string(&mut self, text: &str) {
        for ch in text.chars() {
            self.add_char(ch);
        }
    }

    fn add_raw_string(&mut self, text: &str) {
        self.word.push_str(text);
        self.in_word = true;
    }

    fn finish(mut self) -> Vec<String> {
        if !self.word.is_empty() {
            self.words.push(self.word);
        }
        self.words
    }
}

impl<'a, L: Lookup + ?Sized> ShellWord<'a, L> {
    fn new(word: &'a str, env: &'a L) -> Self {
        Self { word, chars: word.chars().collect(), position: 0, env }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.position).copied()
    }

    fn next(&mut self) -> Option<char> {
        let ch = self.peek();
        if ch.is_some() {
            self.position += 1;
        }
        ch
    }

    /// Processes up to one of `stop` (consumed) or, when `stop` is empty, to the end of the word.
    /// Returns the stop character met (`None` at the end), the text and its words.
    fn process_stop_on(&mut self, stop: &[char]) -> Result<(Option<char>, String, Vec<String>), WordError> {
        let mut result = String::new();
        let mut words = Words::default();
        while let Some(ch) = self.peek() {
            if stop.contains(&ch) {
                self.next();
                return Ok((Some(ch), result, words.finish()));
            }
            match ch {
                '\'' => {
                    let text = self.single_quoted()?;
                    result.push_str(&text);
                    words.add_raw_string(&text);
                }
                '"' => {
                    let text = self.double_quoted()?;
                    result.push_str(&text);
                    words.add_raw_string(&text);
                }
                '$' => {
                    let text = self.dollar()?;
                    result.push_str(&text);
                    words.add_string(&text);
                }
                _ => {
                    self.next();
                    if ch == '\\' {
                        // A backslash escapes the next character; at the very end it vanishes.
                        let Some(escaped) = self.next() else { break };
                        words.add_raw_char(escaped);
                        result.push(escaped);
                    } else {
                        words.add_char(ch);
                        result.push(ch);
                    }
                }
            }
        }
        if !stop.is_empty() {
            let wanted: String = stop.iter().collect();
            return Err(WordError(format!("unexpected end of statement while looking for matching {wanted}")));
        }
        Ok((None, result, words.finish()))
    }

    fn single_quoted(&mut self) -> Result<String, WordError> {
        self.next();
        let mut result = String::new();
        loop {
            match self.next() {
                Some('\'') => return Ok(result),
                Some(ch) => result.push(ch),
                None => return Err(WordError("unexpected end of statement while looking for matching single-quote".into())),
            }
        }
    }

    fn double_quoted(&mut self) -> Result<String, WordError> {
        self.next();
        let mut result = String::new();
        loop {
            match self.peek() {
                Some('"') => {
                    self.next();
                    return Ok(result);
                }
                None => return Err(WordError("unexpected end of statement while looking for matching double-quote".into())),
                Some('$') => result.push_str(&self.dollar()?),
                Some(_) => {
                    let mut ch = self.next().unwrap_or_default();
                    if ch == '\\' {
                        match self.peek() {
                            // A backslash before the end of the word is dropped.
                            None => continue,
                            Some(next @ ('"' | '$' | '\\')) => {
                                self.next();
                                ch = next;
                            }
                            Some(_) => {}
                        }
                    }
                    result.push(ch);
                }
            }
        }
    }

    fn dollar(&mut self) -> Result<String, WordError> {
        self.next();
        if self.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                return Ok("$".into());
            }
            return Ok(self.value(&name));
        }
        self.next();
        let name = self.name();
        match self.peek() {
            Some('}') => {
                self.next();
                Ok(self.value(&name))
            }
            Some(':') => {
                self.next();
                let modifier = self.next();
                let (_, word, _) = self.process_stop_on(&['}'])?;
                let value = self.value(&name);
                match modifier {
                    Some('+') => Ok(if value.is_empty() { value } else { word }),
                    Some('-') => Ok(if value.is_empty() { word } else { value }),
                    Some('?') => {
                        let value = if value.is_empty() { word } else { value };
                        if value.is_empty() {
                            Err(WordError(format!("Failed to process `{}`: {name} is not allowed to be unset", self.word)))
                        } else {
                            Ok(value)
                        }
                    }
                    other => Err(WordError(format!(
                        "Unsupported modifier ({}) in substitution: {}",
                        other.map_or_else(String::new, String::from),
                        self.word
                    ))),
                }
            }
            Some(op @ ('#' | '%')) => {
                self.next();
                let greedy = self.peek() == Some(op);
                if greedy {
                    self.next();
                }
                let (_, pattern, _) = self.process_stop_on(&['}'])?;
                if pattern.is_empty() {
                    let what = if op == '#' { "prefix" } else { "suffix" };
                    return Err(WordError(format!("{name}{op}: no {what} to remove")));
                }
                let value = self.value(&name);
                Ok(if op == '#' { remove_prefix(&value, &pattern, greedy) } else { remove_suffix(&value, &pattern, greedy) })
            }
            Some('/') => {
                self.next();
                let all = self.peek() == Some('/');
                if all {
                    self.next();
                }
                let (stopped_on, pattern, _) = self.process_stop_on(&['/', '}'])?;
                if pattern.is_empty() {
                    return Err(WordError(format!("{name}/: no pattern to replace")));
                }
                let replacement = if stopped_on == Some('/') { self.process_stop_on(&['}'])?.1 } else { String::new() };
                Ok(replace(&self.value(&name), &pattern, &replacement, all))
            }
            _ => Err(WordError(format!("Missing ':' or '#' or '%' or '/' in substitution: {}", self.word))),
        }
    }

    /// Letters, digits and `_`; a leading digit is a one-character name (`$1`).
    fn name(&mut self) -> String {
        let mut name = String::new();
        while let Some(ch) = self.peek() {
            if name.is_empty() && ch.is_numeric() {
                self.next();
                return ch.to_string();
            }
            if !ch.is_alphanumeric() && ch != '_' {
                break;
            }
            self.next();
            name.push(ch);
        }
        name
    }

    fn value(&self, name: &str) -> String {
        self.env.get(name).unwrap_or_default().to_owned()
    }
}

/// Byte offsets where a string can be cut (Go slices strings by byte; cutting inside a
/// character never matches a pattern, so char boundaries are enough).
fn cuts(value: &str) -> impl DoubleEndedIterator<Item = usize> + '_ {
    (0..value.len()).filter(|&i| value.is_char_boundary(i))
}

fn remove_prefix(value: &str, pattern: &str, greedy: bool) -> String {
    // imagebuilder never tries the whole value (`i < len-1` for the shortest match, from
    // `len-1` down for the longest).
    let found = if greedy {
        cuts(value).rev().find(|&i| path_match(pattern, &value[..i]))
    } else {
        cuts(value).filter(|&i| i + 1 < value.len()).find(|&i| path_match(pattern, &value[..i]))
    };
    found.map_or_else(|| value.to_owned(), |i| value[i..].to_owned())
}

fn remove_suffix(value: &str, pattern: &str, greedy: bool) -> String {
    let found = if greedy {
        cuts(value).filter(|&i| i + 1 < value.len()).find(|&i| path_match(pattern, &value[i..]))
    } else {
        cuts(value).rev().find(|&i| path_match(pattern, &value[i..]))
    };
    found.map_or_else(|| value.to_owned(), |i| value[..i].to_owned())
}

/// `${X/p/r}`: the longest match at the leftmost position, every position with `//`.
fn replace(value: &str, pattern: &str, replacement: &str, all: bool) -> String {
    let mut value = value.to_owned();
    let mut i = 0;
    while i < value.len() {
        if value.is_char_boundary(i) {
            let hit = (i + 1..=value.len()).rev().filter(|&j| value.is_char_boundary(j)).find(|&j| path_match(pattern, &value[i..j]));
            if let Some(j) = hit {
                value.replace_range(i..j, replacement);
                if !all {
                    return value;
                }
                i += replacement.len();
                continue;
            }
        }
        i += 1;
    }
    value
}

/// Go's `path.Match`: `*` (not across `/`), `?`, `[...]` classes and `\` escapes. A malformed
/// pattern never matches (imagebuilder ignores the error).
pub fn path_match(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    match_from(&pattern, &name).unwrap_or(false)
}

fn match_from(pattern: &[char], name: &[char]) -> Option<bool> {
    let Some((&first, rest)) = pattern.split_first() else { return Some(name.is_empty()) };
    match first {
        '*' => {
            for split in 0..=name.len() {
                if name[..split].contains(&'/') {
                    break;
                }
                if match_from(rest, &name[split..])? {
                    return Some(true);
                }
            }
            Some(false)
        }
        '?' => match name.split_first() {
            Some((&c, tail)) if c != '/' => match_from(rest, tail),
            _ => Some(false),
        },
        '[' => {
            let (matched, after) = match_class(rest, name.first().copied())?;
            if !matched {
                return Some(false);
            }
            match_from(after, &name[1..])
        }
        '\\' => {
            let (&literal, rest) = rest.split_first()?;
            match name.split_first() {
                Some((&c, tail)) if c == literal => match_from(rest, tail),
                _ => Some(false),
            }
        }
        literal => match name.split_first() {
            Some((&c, tail)) if c == literal => match_from(rest, tail),
            _ => Some(false),
        },
    }
}

/// A `[...]` class (the `[` already consumed): whether `ch` is in it, and the pattern after it.
fn match_class(pattern: &[char], ch: Option<char>) -> Option<(bool, &[char])> {
    let ch = ch.filter(|&c| c != '/');
    let (negated, mut rest) = match pattern.split_first() {
        Some(('^', rest)) => (true, rest),
        _ => (false, pattern),
    };
    let mut matched = false;
    let mut first = true;
    loop {
        let (&c, tail) = rest.split_first()?;
        if c == ']' && !first {
            rest = tail;
            break;
        }
        first = false;
        let (low, tail) = class_char(c, tail)?;
        let (high, tail) = match tail.split_first() {
            Some(('-', range_tail)) if range_tail.first() != Some(&']') => {
                let (&h, t) = range_tail.split_first()?;
                class_char(h, t)?
            }
            _ => (low, tail),
        };
        if ch.is_some_and(|c| low <= c && c <= high) {
            matched = true;
        }
        rest = tail;
    }
    Some((ch.is_some() && matched != negated, rest))
}

fn class_char(c: char, tail: &[char]) -> Option<(char, &[char])> {
    if c == '\\' {
        let (&escaped, tail) = tail.split_first()?;
        Some((escaped, tail))
    } else {
        Some((c, tail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn word(text: &str, pairs: &[(&str, &str)]) -> String {
        process_word(text, &env(pairs)).unwrap()
    }

    #[test]
    fn plain_and_braced_variables() {
        let vars = [("NAME", "nginx"), ("EMPTY", "")];
        assert_eq!(word("$NAME-x ${NAME}x $UNSET.", &vars), "nginx-x nginxx .");
        assert_eq!(word("a$ b$", &vars), "a$ b$");
        assert_eq!(word("$1x", &[("1", "one")]), "onex");
    }

    #[test]
    fn colon_modifiers_treat_empty_as_unset() {
        let vars = [("SET", "v"), ("EMPTY", "")];
        assert_eq!(word("${SET:-d} ${EMPTY:-d} ${UNSET:-d}", &vars), "v d d");
        assert_eq!(word("${SET:+a} ${EMPTY:+a}", &vars), "a ");
        assert_eq!(word("${NAME:-\"nginx\"}", &vars), "nginx");
        assert_eq!(word("${A:-${SET}x}", &vars), "vx");
        assert_eq!(word("${UNSET:?fallback}", &vars), "fallback");
    }

    #[test]
    fn rejected_substitutions() {
        let vars = env(&[]);
        assert!(process_word("${X-d}", &vars).unwrap_err().0.contains("Missing ':'"));
        assert!(process_word("${X:?}", &vars).unwrap_err().0.contains("not allowed to be unset"));
        assert!(process_word("${X:=d}", &vars).unwrap_err().0.contains("Unsupported modifier (=)"));
        assert!(process_word("\"open", &vars).unwrap_err().0.contains("double-quote"));
        assert!(process_word("${X", &vars).is_err());
    }

    #[test]
    fn quotes_and_escapes() {
        let vars = [("registryDomain", "sealos.hub")];
        assert_eq!(word(r#""init-cri.sh \$registryDomain && bash init.sh""#, &vars), "init-cri.sh $registryDomain && bash init.sh");
        assert_eq!(word(r#"\$registryDomain"#, &vars), "$registryDomain");
        assert_eq!(word(r#""$registryDomain""#, &vars), "sealos.hub");
        assert_eq!(word(r#"'$registryDomain \n'"#, &vars), "$registryDomain \\n");
        assert_eq!(word(r#""a\nb""#, &vars), "a\\nb");
        assert_eq!(word(r#"a\ b\"#, &vars), "a b");
        assert_eq!(word("$(NAME)", &vars), "$(NAME)");
    }

    #[test]
    fn prefix_suffix_and_replacement() {
        let vars = [("V", "a-b-c")];
        assert_eq!(word("${V#*-}", &vars), "b-c");
        assert_eq!(word("${V##*-}", &vars), "c");
        assert_eq!(word("${V%-*}", &vars), "a-b");
        assert_eq!(word("${V%%-*}", &vars), "a");
        assert_eq!(word("${V/-/_}", &vars), "a_b-c");
        assert_eq!(word("${V//-/_}", &vars), "a_b_c");
        assert_eq!(word("${V/-}", &vars), "ab-c");
    }

    #[test]
    fn words_split_after_expansion_but_not_inside_quotes() {
        let vars = env(&[("PORTS", "80 443/tcp")]);
        assert_eq!(process_words("$PORTS 8080", &vars).unwrap(), ["80", "443/tcp", "8080"]);
        assert_eq!(process_words("\"$PORTS\"", &vars).unwrap(), ["80 443/tcp"]);
    }

    #[test]
    fn go_path_match() {
        assert!(path_match("*.yaml", "a.yaml"));
        assert!(!path_match("*.yaml", "d/a.yaml"));
        assert!(path_match("a?c", "abc"));
        assert!(path_match("[a-c]x", "bx"));
        assert!(!path_match("[^a-c]x", "bx"));
        assert!(path_match("\\*", "*"));
        assert!(!path_match("[", "["));
    }
}
