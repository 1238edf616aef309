//! Documentation shared by hover, completion and signature help: picks the language and renders
//! the Markdown texts of `sealos::docs` as Markdown or plain text.

pub use crate::sealos::docs::{Locale, Text};
use crate::sealos::{
    docs::{self, phrases},
    instructions::IGNORED_AT_RUN,
    labels::LabelRole,
};

/// How documentation is written for the client (`MarkupKind`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Markup {
    #[default]
    Markdown,
    PlainText,
}

/// The client's documentation preferences.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DocOptions {
    pub markup: Markup,
    pub locale: Locale,
}

impl DocOptions {
    pub fn new(markup: Markup, locale: Locale) -> DocOptions {
        DocOptions { markup, locale }
    }

    pub fn text(&self, text: Text) -> &'static str {
        text.get(self.locale)
    }

    /// Renders Markdown written by this module for the client.
    pub fn render(&self, markdown: &str) -> String {
        match self.markup {
            Markup::Markdown => markdown.to_string(),
            Markup::PlainText => to_plain(markdown),
        }
    }
}

/// Markdown to readable plain text: code spans lose their backticks, emphasis markers and
/// heading hashes go, `[text](url)` becomes `text (url)`, fenced code keeps its content.
pub fn to_plain(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    for (i, line) in markdown.lines().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if line.trim_start().starts_with("```") {
            continue;
        }
        let line = line.trim_start_matches('#').trim_start_matches(' ');
        let line = line.strip_prefix("- ").map_or_else(|| line.to_string(), |rest| format!("• {rest}"));
        plain_line(&line, &mut out);
    }
    while out.ends_with('\n') {
        out.pop();
    }
    out
}

fn plain_line(line: &str, out: &mut String) {
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '`' => {
                // A code span: `` `x` `` or ``` `` x `` ```; its content is kept verbatim.
                let ticks = chars[i..].iter().take_while(|&&c| c == '`').count();
                let fence: String = "`".repeat(ticks);
                let rest: String = chars[i + ticks..].iter().collect();
                if let Some(end) = rest.find(&fence) {
                    let content = &rest[..end];
                    let content = if ticks > 1 { content.trim() } else { content };
                    out.push_str(content);
                    i += ticks + rest[..end].chars().count() + ticks;
                } else {
                    out.push_str(&fence);
                    i += ticks;
                }
            }
            '*' if chars.get(i + 1) == Some(&'*') => i += 2,
            '\\' if chars.get(i + 1).is_some_and(|c| "\\`*_[]()#".contains(*c)) => {
                out.push(chars[i + 1]);
                i += 2;
            }
            '[' => {
                let rest: String = chars[i + 1..].iter().collect();
                match rest.find("](").and_then(|mid| rest[mid..].find(')').map(|close| (mid, mid + close))) {
                    Some((mid, close)) => {
                        let text = &rest[..mid];
                        let url = &rest[mid + 2..close];
                        out.push_str(text);
                        out.push_str(" (");
                        out.push_str(url);
                        out.push(')');
                        i += 1 + rest[..=close].chars().count();
                    }
                    None => {
                        out.push('[');
                        i += 1;
                    }
                }
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
}

/// Markdown for an instruction: what it does, and what sealos does with it.
pub fn instruction_markdown(keyword: &str, locale: Locale, sealos_rules: bool) -> Option<String> {
    let doc = docs::instructions::find(keyword)?;
    let mut out = format!("**{}**", doc.keyword);
    if doc.deprecated {
        out.push_str(match locale {
            Locale::En => " *(deprecated)*",
            Locale::ZhCn => " *（已弃用）*",
        });
    }
    out.push_str("\n\n");
    out.push_str(doc.summary.get(locale));
    if sealos_rules {
        out.push_str("\n\n**");
        out.push_str(phrases::AT_SEALOS_RUN.get(locale));
        out.push_str(match locale {
            Locale::En => ":** ",
            Locale::ZhCn => "：** ",
        });
        out.push_str(doc.sealos.get(locale));
    }
    Some(out)
}

/// A short plain-text detail for completion lists (`no effect at sealos run`).
pub fn instruction_detail(keyword: &str, locale: Locale) -> Option<String> {
    IGNORED_AT_RUN.contains(&keyword).then(|| to_plain(phrases::NO_EFFECT_AT_RUN.get(locale)))
}

/// "Defined at line 3: `ENV NAME=x`" (Markdown).
pub fn defined_at(line: usize, code: &str, locale: Locale) -> String {
    let code = code.replace('`', "'").replace('\n', " ");
    match locale {
        Locale::En => format!("Defined at line {line}: `{code}`"),
        Locale::ZhCn => format!("定义于第 {line} 行：`{code}`"),
    }
}

/// "3 images will be saved into `registry/`" (Markdown).
pub fn images_saved(count: usize, locale: Locale) -> String {
    match locale {
        Locale::En if count == 1 => "1 image will be saved into `registry/`".to_string(),
        Locale::En => format!("{count} images will be saved into `registry/`"),
        Locale::ZhCn => format!("{count} 个镜像将被保存到 `registry/`"),
    }
}

pub fn flag_markdown(instruction: &str, name: &str, locale: Locale) -> Option<String> {
    let doc = docs::flags::find(instruction, name)?;
    Some(format!("`{}`\n\n{}", doc.syntax, doc.doc.get(locale)))
}

pub fn directive_markdown(name: &str, locale: Locale) -> Option<String> {
    let doc = docs::directives::find(name)?;
    Some(format!("**# {}=**\n\n{}", doc.name, doc.doc.get(locale)))
}

pub fn label_markdown(key: &str, locale: Locale) -> Option<String> {
    let (doc, step) = docs::labels::key_doc(key)?;
    let mut out = format!("**LABEL {key}**\n\n");
    if let Some(step) = step {
        out.push_str(step.get(locale));
        out.push_str("\n\n");
    }
    out.push_str(doc.get(locale));
    Some(out)
}

pub fn label_value_markdown(role: LabelRole, value: &str, locale: Locale) -> Option<String> {
    let doc = docs::labels::value_doc(role, value)?;
    let title = match role {
        LabelRole::Type => format!("**{}: `{value}`**", phrases::IMAGE_TYPE.get(locale)),
        _ => format!("**`{value}`**"),
    };
    Some(format!("{title}\n\n{}", doc.doc.get(locale)))
}

/// Markdown for an ENV key of rootfs images or a `SEALOS_SYS*` name, with its default.
pub fn env_markdown(name: &str, locale: Locale) -> Option<String> {
    let doc = docs::env::find(name);
    let default = crate::sealos::env::rootfs_key(name);
    if doc.is_none() && !name.starts_with(crate::sealos::env::SYSTEM_PREFIX) {
        return None;
    }
    let mut out = format!("**{name}**\n\n");
    match doc {
        Some(doc) => out.push_str(doc.doc.get(locale)),
        None => out.push_str(docs::env::SYSTEM_PREFIX_DOC.get(locale)),
    }
    if let Some(key) = default {
        out.push_str(&format!("\n\n{}: `{}`", phrases::ROOTFS_DEFAULT.get(locale), key.default));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_to_plain_text() {
        assert_eq!(
            to_plain("**FROM** *x*\n\n`COPY registry registry` and ``a ` b`` see [docs](https://x.y)\n- item"),
            "FROM *x*\n\nCOPY registry registry and a ` b see docs (https://x.y)\n• item"
        );
        assert_eq!(to_plain("write `\\$VAR`"), "write \\$VAR");
    }

    #[test]
    fn locale_tags() {
        assert_eq!(Locale::from_tag("zh-CN"), Locale::ZhCn);
        assert_eq!(Locale::from_tag("zh-cn"), Locale::ZhCn);
        assert_eq!(Locale::from_tag("zh"), Locale::ZhCn);
        assert_eq!(Locale::from_tag("zh-Hans-CN"), Locale::ZhCn);
        assert_eq!(Locale::from_tag("zh_CN.UTF-8"), Locale::ZhCn);
        assert_eq!(Locale::from_tag("zh-TW"), Locale::En);
        assert_eq!(Locale::from_tag("en-US"), Locale::En);
        assert_eq!(Locale::from_tag(""), Locale::En);
    }

    #[test]
    fn instruction_docs_in_both_languages() {
        let en = instruction_markdown("workdir", Locale::En, true).unwrap();
        assert!(en.contains("No effect"), "{en}");
        let zh = instruction_markdown("WORKDIR", Locale::ZhCn, true).unwrap();
        assert!(zh.contains("无效"), "{zh}");
        assert!(!instruction_markdown("WORKDIR", Locale::En, false).unwrap().contains("sealos run"));
    }
}
