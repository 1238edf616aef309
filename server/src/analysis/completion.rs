//! Completion: instruction keywords and templates, flags and their values, stage names, LABEL
//! keys and values sealos reads, ENV keys of rootfs images, variables (`$(` in CMD/ENTRYPOINT
//! for the image ENV, `$`/`${` elsewhere for ARG/ENV), COPY/ADD sources from the build context,
//! FROM images, parser directives, and image names in `images/shim` lists.
//!
//! The context is read from the text of the logical line up to the cursor (continuation lines
//! joined), so half-typed instructions that do not parse yet still complete.

use std::collections::HashSet;

use super::{
    diagnostics::FileKind,
    docs::{self, DocOptions},
    model::Model,
    variables::{self, DefinitionKind},
    Config, ContextFacts,
};
use crate::{
    sealos::{
        docs::{directives, flags as flag_docs, instructions as instruction_docs, labels as label_docs, phrases},
        env, instructions,
        labels::{self, LabelRole},
        ImageType,
    },
    syntax::{fields, NodeField as _, NodeKind as _, SourceFile, TextRange},
};

/// What the client supports and wants.
#[derive(Clone, Debug)]
pub struct CompletionOptions {
    /// `textDocument.completion.completionItem.snippetSupport`.
    pub snippets: bool,
    /// Markup and language of documentation.
    pub docs: DocOptions,
    /// Items carry their documentation. Off for clients that fetch it for the item they show
    /// (`completionItem/resolve`): a list after `${` can hold hundreds of variables, and their
    /// documentation is a quarter of the answer.
    pub documentation: bool,
    /// Kubefile (sealos rules) or plain Dockerfile.
    pub kind: FileKind,
    /// Images named elsewhere in the workspace (other build files), offered after FROM.
    pub workspace_images: Vec<String>,
}

impl Default for CompletionOptions {
    fn default() -> CompletionOptions {
        CompletionOptions {
            snippets: true,
            docs: DocOptions::default(),
            documentation: true,
            kind: FileKind::Kubefile,
            workspace_images: Vec::new(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletionKind {
    Keyword,
    Snippet,
    /// A flag name, a LABEL or directive key.
    Property,
    Value,
    EnumMember,
    Variable,
    /// A sealos-defined name (rootfs ENV key, built-in).
    Constant,
    File,
    Folder,
    /// A stage name.
    Reference,
    /// An image name.
    Module,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompletionItem {
    pub label: String,
    pub kind: CompletionKind,
    pub detail: Option<String>,
    /// Rendered for the client (Markdown or plain text, in its locale).
    pub documentation: Option<String>,
    /// The text `insert_text` replaces (byte offsets, on the cursor's line, containing the cursor).
    pub edit_range: TextRange,
    pub insert_text: String,
    /// `insert_text` is in snippet syntax (only when the client supports snippets).
    pub is_snippet: bool,
    pub filter_text: Option<String>,
    pub sort_text: String,
    pub deprecated: bool,
    /// Open completion again after inserting (`editor.action.triggerSuggest`).
    pub retrigger: bool,
}

/// Characters that should trigger completion (`CompletionOptions.triggerCharacters`).
pub const TRIGGER_CHARACTERS: &[&str] = &["$", "{", "(", "-", "=", "/", " ", "#"];

/// Completion at byte `offset` of a Kubefile.
pub fn completion(
    file: &SourceFile,
    offset: usize,
    facts: Option<&ContextFacts>,
    config: &Config,
    caps: &CompletionOptions,
) -> Vec<CompletionItem> {
    let text = file.text();
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    if in_heredoc_body(file, offset) {
        return Vec::new();
    }
    let escape = super::format::escape_char(file);
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let physical = &text[line_start..offset];
    let logical_start = logical_line_start(text, line_start, escape);
    let cx = Cx { file, offset, facts, config, caps, escape, model: super::navigation::local_model(file, offset..offset) };
    let trimmed = physical.trim_start();
    if logical_start == line_start && trimmed.starts_with('#') {
        return cx.directive(physical, line_start);
    }
    let logical = join_continuations(&text[logical_start..offset], escape);
    cx.instruction(&logical, physical, line_start, &[])
}

/// Image names for an `images/shim` list: images the context's manifests and charts use that the
/// list does not name yet.
pub fn shim_completion(text: &str, offset: usize, facts: &ContextFacts) -> Vec<CompletionItem> {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[line_start..offset];
    if line.trim_start().starts_with('#') {
        return Vec::new();
    }
    let start = line_start + (line.len() - line.trim_start().len());
    let end = offset + text[offset..].find(['\n', '\r']).unwrap_or(text.len() - offset);
    let listed: Vec<&str> = text.lines().map(str::trim).collect();
    let mut seen = std::collections::BTreeSet::new();
    let mut items = Vec::new();
    for image in facts.images.iter().filter(|image| image.source != "shim") {
        if listed.contains(&image.image.as_str()) || !seen.insert(image.image.clone()) {
            continue;
        }
        items.push(CompletionItem {
            label: image.image.clone(),
            kind: CompletionKind::Module,
            detail: Some(format!("{}:{}", image.file, image.line)),
            documentation: None,
            edit_range: start..end,
            insert_text: image.image.clone(),
            is_snippet: false,
            filter_text: None,
            sort_text: format!("{:04}", items.len()),
            deprecated: false,
            retrigger: false,
        });
    }
    items
}

struct Cx<'a> {
    file: &'a SourceFile,
    offset: usize,
    facts: Option<&'a ContextFacts>,
    config: &'a Config,
    caps: &'a CompletionOptions,
    escape: char,
    model: Model<'a>,
}

/// The words of a logical line prefix: complete words, and the word being typed.
struct Words {
    done: Vec<String>,
    current: String,
}

fn split_words(text: &str) -> Words {
    let mut done = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut bracket = 0i32;
    for c in text.chars() {
        match c {
            '"' | '\'' if quote == Some(c) => {
                quote = None;
                current.push(c);
            }
            '"' | '\'' if quote.is_none() => {
                quote = Some(c);
                current.push(c);
            }
            '[' if quote.is_none() => {
                bracket += 1;
                current.push(c);
            }
            ']' if quote.is_none() => {
                bracket -= 1;
                current.push(c);
            }
            c if c.is_whitespace() && quote.is_none() && bracket <= 0 => {
                if !current.is_empty() {
                    done.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    Words { done, current }
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl<'a> Cx<'a> {
    fn sealos(&self) -> bool {
        self.caps.kind == FileKind::Kubefile
    }

    /// `markdown` rendered for the client; not even written when items go without documentation.
    fn doc(&self, markdown: impl FnOnce() -> Option<String>) -> Option<String> {
        if !self.caps.documentation {
            return None;
        }
        markdown().map(|md| self.caps.docs.render(&md))
    }

    /// The key a key completion replaces (the word at `range`) and whether its value follows
    /// (`key=value`, or the legacy `key value`: a next word on the line that is no `k=v` pair of
    /// its own): then only the key is inserted, and that key does not count as already present.
    fn key_at(&self, range: &TextRange) -> (&'a str, bool) {
        let text: &'a str = self.file.text();
        let after = &text[range.end..];
        let rest_of_line = after.split(['\n', '\r']).next().unwrap_or_default();
        let next_word = rest_of_line.split_whitespace().next().unwrap_or_default();
        let legacy_value = rest_of_line.starts_with([' ', '\t'])
            && !next_word.is_empty()
            && !next_word.contains('=')
            && !next_word.starts_with(self.escape);
        (&text[range.clone()], after.starts_with('=') || legacy_value)
    }

    /// The range of the word being typed: `len` bytes before the cursor, plus the characters after
    /// it that `extra` accepts.
    fn word_range(&self, len: usize, extra: fn(char) -> bool) -> TextRange {
        let text = self.file.text();
        let end = self.offset + text[self.offset..].find(|c: char| !extra(c)).unwrap_or(text.len() - self.offset);
        self.offset - len..end
    }

    #[allow(clippy::too_many_arguments)]
    fn item(&self, label: impl Into<String>, kind: CompletionKind, range: TextRange, insert: impl Into<String>, rank: usize) -> CompletionItem {
        let label = label.into();
        CompletionItem {
            sort_text: format!("{rank:02}{label}"),
            label,
            kind,
            detail: None,
            documentation: None,
            edit_range: range,
            insert_text: insert.into(),
            is_snippet: false,
            filter_text: None,
            deprecated: false,
            retrigger: false,
        }
    }

    fn snippet_item(&self, mut item: CompletionItem, snippet: &str) -> CompletionItem {
        if self.caps.snippets {
            item.insert_text = snippet.to_string();
            item.is_snippet = true;
        } else {
            item.insert_text = instruction_docs::snippet_to_plain(snippet);
        }
        item
    }

    fn image_type(&self) -> Option<ImageType> {
        self.model.image_type().0
    }

    // ----- contexts -----

    fn directive(&self, physical: &str, line_start: usize) -> Vec<CompletionItem> {
        // Directives are only read before the first instruction (and before other comments).
        if self.model.instructions.first().is_some_and(|first| first.node.start_byte() < line_start) {
            return Vec::new();
        }
        let body = physical.trim_start().trim_start_matches('#').trim_start();
        let locale = self.caps.docs.locale;
        if let Some((name, value)) = body.split_once('=') {
            let Some(doc) = directives::find(name.trim()) else { return Vec::new() };
            let mut value = value.trim_start();
            // `check` holds settings separated by `;`: the one at the cursor, and the names of
            // the ones before it, which are not offered again.
            let mut earlier = Vec::new();
            if doc.name == "check" {
                let (before, current) = value.rsplit_once(';').unwrap_or(("", value));
                earlier = before.split(';').filter_map(|setting| setting.split('=').next()).map(str::trim).collect();
                value = current.trim_start();
                if let Some(skipped) = value.strip_prefix("skip=") {
                    return self.build_checks(skipped);
                }
            }
            let range = self.word_range(value.len(), |c| !c.is_whitespace() && c != ';');
            return doc
                .values
                .iter()
                .filter(|v| !earlier.contains(&v.split('=').next().unwrap_or_default()))
                .enumerate()
                .map(|(i, v)| {
                    let mut item = self.item(*v, CompletionKind::Value, range.clone(), *v, i);
                    item.documentation = self.doc(|| docs::directive_markdown(doc.name, locale));
                    item
                })
                .collect();
        }
        if !body.chars().all(|c| c.is_ascii_alphabetic()) {
            return Vec::new();
        }
        let range = self.word_range(body.len(), |c| c.is_ascii_alphabetic());
        directives::DIRECTIVES
            .iter()
            .enumerate()
            .map(|(i, doc)| {
                let mut item = self.item(format!("{}=", doc.name), CompletionKind::Property, range.clone(), format!("{}=", doc.name), i);
                item.documentation = self.doc(|| docs::directive_markdown(doc.name, locale));
                item.retrigger = true;
                item
            })
            .collect()
    }

    /// BuildKit's check names after `# check=skip=` (`skipped` is what follows it up to the
    /// cursor), but the ones already listed.
    fn build_checks(&self, skipped: &str) -> Vec<CompletionItem> {
        let typed = skipped.rsplit(',').next().unwrap_or_default();
        let range = self.word_range(typed.len(), |c| c.is_ascii_alphanumeric());
        let listed: Vec<&str> = skipped.split(',').map(str::trim).collect();
        let locale = self.caps.docs.locale;
        // `all` only on its own.
        let names = directives::BUILD_CHECKS.iter().copied().chain((listed.len() == 1).then_some("all"));
        names
            .filter(|name| !listed[..listed.len() - 1].contains(name))
            .enumerate()
            .map(|(i, name)| {
                let mut item = self.item(name, CompletionKind::EnumMember, range.clone(), name, i);
                item.detail = Some(match super::diagnostics::code_of_build_check(name) {
                    Some(code) => code.to_string(),
                    None if name == "all" => phrases::EVERY_BUILD_CHECK.get(locale).to_string(),
                    None => phrases::BUILDKIT_ONLY.get(locale).to_string(),
                });
                item
            })
            .collect()
    }

    /// `logical` is the instruction text from its keyword to the cursor (continuations joined).
    fn instruction(&self, logical: &str, physical: &str, line_start: usize, excluded: &[&str]) -> Vec<CompletionItem> {
        let logical = logical.trim_start();
        let Some(space) = logical.find(char::is_whitespace) else {
            // Still typing the keyword (or nothing yet).
            if physical.trim_start().len() != logical.len() {
                // The keyword started on an earlier line; nothing sensible to offer.
                return Vec::new();
            }
            return self.keywords(logical, excluded, line_start);
        };
        let keyword = logical[..space].to_ascii_uppercase();
        let rest = &logical[space..];
        if keyword == "ONBUILD" {
            let nested = rest.trim_start();
            let nested_physical = if physical.trim_start().len() >= nested.len() { &physical[physical.len() - nested.len()..] } else { "" };
            return self.instruction(nested, nested_physical, line_start, &["ONBUILD", "FROM", "MAINTAINER"]);
        }
        let words = split_words(rest);

        if let Some(items) = self.variables(&keyword, physical) {
            return items;
        }
        let current = words.current.as_str();
        let flags_only = words.done.iter().all(|w| w.starts_with("--"));
        if current.starts_with('-') && flags_only {
            return match current.split_once('=') {
                Some((name, value)) => self.flag_values(&keyword, name.trim_start_matches('-'), value),
                None => self.flags(&keyword, current, &words),
            };
        }
        let operands: Vec<&String> = words.done.iter().filter(|w| !w.starts_with("--")).collect();
        match keyword.as_str() {
            "FROM" => self.from(&operands, current),
            "COPY" | "ADD" => {
                if words.done.iter().any(|w| w.starts_with("--from=")) || current.starts_with('[') || operands.first().is_some_and(|w| w.starts_with('[')) {
                    return Vec::new();
                }
                self.paths(&operands, current)
            }
            "LABEL" => self.label(current),
            "ENV" => {
                // The legacy `ENV key value` form: the value is free text.
                if operands.len() == 1 && !operands[0].contains('=') {
                    return Vec::new();
                }
                self.env(current)
            }
            "ARG" => self.arg(current),
            "CMD" | "ENTRYPOINT" => self.command_forms(&keyword, &operands, current),
            "HEALTHCHECK" => {
                if words.done.iter().any(|w| w.eq_ignore_ascii_case("CMD") || w.eq_ignore_ascii_case("NONE")) {
                    return Vec::new();
                }
                let range = self.word_range(current.len(), |c| c.is_ascii_alphabetic());
                ["CMD", "NONE"]
                    .iter()
                    .enumerate()
                    .map(|(i, word)| {
                        let mut item = self.item(*word, CompletionKind::Keyword, range.clone(), format!("{word} "), i);
                        item.documentation = self.doc(|| docs::instruction_markdown("HEALTHCHECK", self.caps.docs.locale, self.sealos()));
                        item
                    })
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    fn keywords(&self, typed: &str, excluded: &[&str], line_start: usize) -> Vec<CompletionItem> {
        if !typed.chars().all(|c| c.is_ascii_alphabetic()) {
            return Vec::new();
        }
        let range = self.word_range(typed.len(), |c| c.is_ascii_alphabetic());
        let locale = self.caps.docs.locale;
        let before_first_from = !self.model.stages.iter().any(|stage| stage.from.node.start_byte() < line_start);
        let allowed = |keyword: &str| {
            !excluded.contains(&keyword) && (!before_first_from || matches!(keyword, "FROM" | "ARG") || !excluded.is_empty())
        };
        // Replacing the keyword of an existing line: its arguments already follow a blank, so the
        // keyword goes in alone, and the templates (which bring arguments of their own) stay out.
        let arguments_follow = self.file.text()[range.end..].starts_with([' ', '\t']);
        let mut items = Vec::new();
        for (i, keyword) in instructions::INSTRUCTIONS.iter().enumerate() {
            if !allowed(keyword) {
                continue;
            }
            let doc = instruction_docs::find(keyword);
            let rank = keyword_rank(keyword, self.sealos()).unwrap_or(20 + i);
            let insert = if arguments_follow { keyword.to_string() } else { format!("{keyword} ") };
            let mut item = self.item(*keyword, CompletionKind::Keyword, range.clone(), insert, rank);
            item.documentation = self.doc(|| docs::instruction_markdown(keyword, locale, self.sealos()));
            item.detail = if self.sealos() { docs::instruction_detail(keyword, locale) } else { None };
            item.deprecated = doc.is_some_and(|d| d.deprecated);
            item.retrigger = !arguments_follow
                && (matches!(*keyword, "FROM" | "COPY" | "ADD" | "LABEL" | "ENV" | "ARG" | "HEALTHCHECK" | "ONBUILD")
                    || (self.sealos() && matches!(*keyword, "CMD" | "ENTRYPOINT")));
            items.push(item);
        }
        for (i, snippet) in instruction_docs::SNIPPETS.iter().enumerate() {
            if arguments_follow || !allowed(snippet.keyword) || (snippet.sealos && !self.sealos()) || !self.requirement_met(snippet.requires) {
                continue;
            }
            let rank = keyword_rank(snippet.keyword, self.sealos()).unwrap_or(40) + 50;
            let mut item = self.item(snippet.label, CompletionKind::Snippet, range.clone(), "", rank);
            item.sort_text = format!("{rank:02}{:03}", i);
            item.detail = Some(snippet.detail.get(locale).to_string());
            item.filter_text = Some(snippet.label.to_string());
            item = self.snippet_item(item, snippet.snippet);
            items.push(item);
        }
        items
    }

    fn requirement_met(&self, requires: Option<&str>) -> bool {
        let (Some(path), Some(facts)) = (requires, self.facts) else { return true };
        facts.exists(path) || (path == "registry" && !facts.images.is_empty())
    }

    fn flags(&self, keyword: &str, current: &str, words: &Words) -> Vec<CompletionItem> {
        let range = self.word_range(current.len(), |c| c.is_ascii_alphanumeric() || c == '-');
        let locale = self.caps.docs.locale;
        let present: Vec<&str> = words.done.iter().filter_map(|w| w.strip_prefix("--")).map(|w| w.split('=').next().unwrap_or(w)).collect();
        let mut items = Vec::new();
        for (i, flag) in instructions::flags_of(keyword).enumerate() {
            let doc = flag_docs::find(keyword, flag.name);
            if present.contains(&flag.name) && !doc.is_some_and(|d| d.repeatable) {
                continue;
            }
            let takes_value = flag.value == instructions::FlagValue::Required;
            let insert = if takes_value { format!("--{}=", flag.name) } else { format!("--{}", flag.name) };
            let mut item = self.item(format!("--{}", flag.name), CompletionKind::Property, range.clone(), insert, i);
            item.detail = doc.map(|d| d.syntax.to_string());
            item.documentation = self.doc(|| docs::flag_markdown(keyword, flag.name, locale));
            item.retrigger = takes_value;
            items.push(item);
        }
        items
    }

    fn flag_values(&self, keyword: &str, name: &str, value: &str) -> Vec<CompletionItem> {
        let range = self.word_range(value.len(), |c| !c.is_whitespace());
        if name == "from" && matches!(keyword, "COPY" | "ADD") {
            let mut stages = super::navigation::stages_before(self.file, self.offset);
            // The stage holding the cursor cannot copy from itself.
            stages.pop();
            return stages
                .into_iter()
                .enumerate()
                .filter_map(|(i, (name, base, _))| name.map(|name| (i, name, base)))
                .map(|(i, name, base)| {
                    let mut item = self.item(name.clone(), CompletionKind::Reference, range.clone(), name.clone(), i);
                    item.detail = Some(format!("FROM {base}"));
                    item
                })
                .collect();
        }
        let Some(doc) = flag_docs::find(keyword, name) else { return Vec::new() };
        doc.values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let mut item = self.item(*v, CompletionKind::Value, range.clone(), *v, i);
                item.documentation = self.doc(|| docs::flag_markdown(keyword, name, self.caps.docs.locale));
                item
            })
            .collect()
    }

    fn from(&self, operands: &[&String], current: &str) -> Vec<CompletionItem> {
        let range = self.word_range(current.len(), |c| !c.is_whitespace());
        match operands.len() {
            0 => {}
            1 => {
                let mut item = self.item("AS", CompletionKind::Keyword, range, "AS ", 0);
                item.documentation = self.doc(|| docs::instruction_markdown("FROM", self.caps.docs.locale, false));
                return vec![item];
            }
            _ => return Vec::new(),
        }
        let locale = self.caps.docs.locale;
        let mut items = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        let mut scratch = self.item("scratch", CompletionKind::Keyword, range.clone(), "scratch", 0);
        scratch.documentation = self.doc(|| Some(match locale {
            docs::Locale::En => "An empty base image: the usual start of a Kubefile (a cluster image is a file tree).".to_string(),
            docs::Locale::ZhCn => "空的基础镜像：Kubefile 的常见开头（集群镜像只是一棵文件树）。".to_string(),
        }));
        seen.insert("scratch".to_string());
        items.push(scratch);
        let froms = super::navigation::from_instructions(self.file, 0..self.file.text().len());
        let current = |from: &tree_sitter::Node<'_>| from.start_byte() <= self.offset && self.offset <= from.end_byte();
        for (i, from) in froms.iter().enumerate() {
            if current(from) || from.start_byte() >= self.offset {
                break;
            }
            if let Some(alias) = from.field(&fields::AS) {
                let name = crate::syntax::ast::literal_text(self.file, alias);
                if seen.insert(name.clone()) {
                    let base = from.field(&fields::IMAGE).map_or_else(String::new, |n| crate::syntax::ast::literal_text(self.file, n));
                    let mut item = self.item(name.clone(), CompletionKind::Reference, range.clone(), name.clone(), 1);
                    item.detail = Some(format!("{} {i}: FROM {base}", phrases::STAGE.get(locale)));
                    items.push(item);
                }
            }
        }
        let in_file = froms
            .iter()
            .filter(|from| !current(from))
            .filter_map(|from| from.field(&fields::IMAGE).map(|n| crate::syntax::ast::literal_text(self.file, n)));
        for image in in_file.chain(self.caps.workspace_images.iter().cloned()) {
            if image.is_empty() || image.contains('$') || !seen.insert(image.to_ascii_lowercase()) {
                continue;
            }
            let mut item = self.item(image.clone(), CompletionKind::Module, range.clone(), image.clone(), 2);
            item.detail = Some(phrases::BASE_IMAGE.get(locale).to_string());
            items.push(item);
        }
        items
    }

    fn paths(&self, operands: &[&String], current: &str) -> Vec<CompletionItem> {
        let locale = self.caps.docs.locale;
        let name_len = current.rsplit('/').next().unwrap_or("").len();
        let range = self.word_range(name_len, |c| !c.is_whitespace() && c != '/');
        let mut items = Vec::new();
        // Destination suggestions after a first operand.
        if let Some(previous) = operands.last().filter(|_| !current.contains('/')) {
            let name = crate::analysis::copies::normalize_source(previous);
            let full = self.word_range(current.len(), |c| !c.is_whitespace());
            if name != "." && !name.contains("..") {
                let mut item = self.item(name.clone(), CompletionKind::Folder, full.clone(), name.clone(), 0);
                item.detail = Some(match locale {
                    docs::Locale::En => format!("destination: /{name} in the image"),
                    docs::Locale::ZhCn => format!("目标：镜像中的 /{name}"),
                });
                items.push(item);
            }
            for (i, dest) in ["./", "."].iter().enumerate() {
                let mut item = self.item(*dest, CompletionKind::Folder, full.clone(), *dest, 1 + i);
                item.detail = Some(match locale {
                    docs::Locale::En => "destination: the image root (or WORKDIR)".to_string(),
                    docs::Locale::ZhCn => "目标：镜像根目录（或 WORKDIR）".to_string(),
                });
                items.push(item);
            }
        }
        let Some(facts) = self.facts else { return items };
        let dir = current[..current.len() - name_len].trim_start_matches("./").trim_start_matches('/').trim_end_matches('/');
        if dir.split('/').any(|part| part == "..") {
            return items;
        }
        let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
        let mut children: Vec<(String, bool)> = Vec::new();
        for entry in facts.entries.range(prefix.clone()..) {
            let Some(rest) = entry.strip_prefix(&prefix) else { break };
            if rest.is_empty() || rest.contains('/') || facts.is_ignored(entry) {
                continue;
            }
            let child_prefix = format!("{entry}/");
            let is_dir = entry == "registry" || facts.entries.range(child_prefix.clone()..).next().is_some_and(|next| next.starts_with(&child_prefix));
            children.push((rest.to_string(), is_dir));
        }
        if dir.is_empty() && !facts.images.is_empty() && !children.iter().any(|(name, _)| name == "registry") {
            children.push(("registry".to_string(), true));
        }
        for (name, is_dir) in children {
            if items.iter().any(|item| item.label == name) {
                continue;
            }
            let hidden = name.starts_with('.') || (dir.is_empty() && facts.build_files.contains(&name));
            let rank = match (dir.is_empty(), is_dir, hidden) {
                (_, _, true) => 30,
                (true, _, _) => sealos_dir_rank(&name).unwrap_or(if is_dir { 10 } else { 20 }),
                (false, true, _) => 10,
                (false, false, _) => 20,
            };
            let kind = if is_dir { CompletionKind::Folder } else { CompletionKind::File };
            let mut item = self.item(name.clone(), kind, range.clone(), name.clone(), rank);
            if dir.is_empty() && name == "registry" {
                let count = distinct_images(facts);
                item.detail = Some(docs::to_plain(&docs::images_saved(count, locale)));
                item.documentation = self.doc(|| Some(if count > 0 { docs::images_saved(count, locale) } else { phrases::NO_IMAGES.get(locale).to_string() }));
            }
            items.push(item);
        }
        items
    }

    fn label(&self, current: &str) -> Vec<CompletionItem> {
        let locale = self.caps.docs.locale;
        let rootfs = self.image_type() == Some(ImageType::Rootfs);
        if let Some((key, value)) = current.split_once('=') {
            let key = key.trim_matches('"');
            let Some(known) = labels::find(key) else { return Vec::new() };
            let text = self.file.text();
            // `KEY=|"value"`: the value inside the quotes after the cursor is what is replaced.
            let quoted_after = value.is_empty() && text[self.offset..].starts_with('"');
            let quoted = value.starts_with('"') || quoted_after;
            let typed = value.trim_start_matches('"');
            let is_value_char = |c: char| !c.is_whitespace() && c != '"';
            // The edit range holds the cursor (the protocol's rule), so the opening quote is
            // replaced as well and inserted again.
            let (range, open) = if quoted_after {
                let content = self.offset + 1;
                (self.offset..content + text[content..].find(|c: char| !is_value_char(c)).unwrap_or(text.len() - content), "\"")
            } else {
                (self.word_range(typed.len(), is_value_char), "")
            };
            let close = if quoted && !text[range.end..].starts_with('"') { "\"" } else { "" };
            let values: Vec<(String, Option<String>)> = match known.role {
                LabelRole::Type | LabelRole::ApiVersion | LabelRole::Distribution => label_docs::values_of(known.role)
                    .map(|v| (v.value.to_string(), docs::label_value_markdown(known.role, v.value, locale)))
                    .collect(),
                LabelRole::Bootstrap => vec![(format!("{key}.sh"), docs::label_markdown(key, locale))],
                LabelRole::RenderedByRootfs if key == "vip" => {
                    vec![(if quoted { "\\$defaultVIP".to_string() } else { "\"\\$defaultVIP\"".to_string() }, docs::label_markdown(key, locale))]
                }
                _ => Vec::new(),
            };
            return values
                .into_iter()
                .enumerate()
                .map(|(i, (value, doc))| {
                    let mut item = self.item(value.clone(), CompletionKind::EnumMember, range.clone(), format!("{open}{value}{close}"), i);
                    item.documentation = self.doc(|| doc);
                    item
                })
                .collect();
        }
        if !self.sealos() {
            return Vec::new();
        }
        let typed = current.trim_start_matches('"');
        let range = self.word_range(typed.len(), |c| !c.is_whitespace() && c != '=');
        let (editing, value_follows) = self.key_at(&range);
        let present: Vec<String> = self.model.labels().into_iter().map(|label| label.key).filter(|key| key != editing).collect();
        let mut items = Vec::new();
        for (i, doc) in label_docs::LABELS.iter().enumerate() {
            if doc.rootfs_only && !rootfs || present.iter().any(|key| key == doc.key) {
                continue;
            }
            let rank = if doc.key.starts_with("apps.") { 30 + i } else { i };
            let mut item = self.item(doc.key, CompletionKind::Property, range.clone(), doc.key, rank);
            if !value_follows {
                item = self.snippet_item(item, &format!("{}={}", doc.key, doc.value_snippet));
            }
            item.documentation = self.doc(|| docs::label_markdown(doc.key, locale));
            item.detail = Some(
                instruction_docs::snippet_to_plain(doc.value_snippet)
                    .trim_matches('"')
                    .to_string(),
            );
            items.push(item);
        }
        items
    }

    fn env(&self, current: &str) -> Vec<CompletionItem> {
        let locale = self.caps.docs.locale;
        let stage = stage_at(&self.model, self.offset);
        let defined: Vec<String> = stage
            .map(|stage| variables::stage_definitions(&self.model, stage, None, &[]).into_iter().map(|def| def.name).collect())
            .unwrap_or_default();
        let rootfs = self.sealos() && self.image_type() == Some(ImageType::Rootfs);
        if let Some((key, value)) = current.split_once('=') {
            let range = self.word_range(value.len(), |c| !c.is_whitespace());
            if range.end > self.offset || value.contains(['"', '\'']) {
                // A value is already written after the cursor, or a quote opened before it
                // (`${HELM_OPTS:-" \` starting a multi-line default): a template would replace a
                // piece of it, or close the quote the following lines are inside.
                return Vec::new();
            }
            let mut items = Vec::new();
            if rootfs {
                if let Some(root) = env::rootfs_key(key) {
                    let mut item = self.item(root.default, CompletionKind::Value, range.clone(), root.default, 0);
                    item.detail = Some(phrases::ROOTFS_DEFAULT.get(locale).to_string());
                    item.documentation = self.doc(|| docs::env_markdown(key, locale));
                    items.push(item);
                }
            }
            if self.sealos() && !key.is_empty() && !key.starts_with(env::SYSTEM_PREFIX) {
                let label = format!("${{{key}:-\"...\"}}");
                let mut item = self.item(label, CompletionKind::Snippet, range, "", 1);
                item = self.snippet_item(item, &format!("\\${{{key}:-\"${{1}}\"\\}}"));
                item.documentation = self.doc(|| Some(match locale {
                    docs::Locale::En => format!("A default that `sealos build --env {key}=...` can change; users still override it with `sealos run -e {key}=...`."),
                    docs::Locale::ZhCn => format!("可由 `sealos build --env {key}=...` 修改的默认值；用户仍可用 `sealos run -e {key}=...` 覆盖。"),
                }));
                items.push(item);
            }
            return items;
        }
        let range = self.word_range(current.len(), is_ident);
        let (editing, value_follows) = self.key_at(&range);
        let defined: Vec<String> = defined.into_iter().filter(|name| name != editing).collect();
        let mut items = Vec::new();
        if self.sealos() {
            // Names CMD/ENTRYPOINT use but no ENV defines yet.
            for name in self.undefined_run_time_names(stage, &defined, rootfs) {
                let mut item = self.item(name.clone(), CompletionKind::Variable, range.clone(), name.clone(), 0);
                if !value_follows {
                    item = self.snippet_item(item, &format!("{name}=\\${{{name}:-\"${{1}}\"\\}}"));
                }
                item.detail = Some(match locale {
                    docs::Locale::En => "used in CMD, not defined".to_string(),
                    docs::Locale::ZhCn => "CMD 中使用但未定义".to_string(),
                });
                items.push(item);
            }
        }
        if rootfs {
            for (i, key) in env::ROOTFS_KEYS.iter().enumerate() {
                if defined.iter().any(|name| name == key.name) || env::OVERWRITTEN.contains(&key.name) {
                    continue;
                }
                let insert = if value_follows { key.name.to_string() } else { format!("{}={}", key.name, key.default) };
                let mut item = self.item(key.name, CompletionKind::Constant, range.clone(), insert, 10 + i);
                item.detail = Some(format!("{}: {}", phrases::DEFAULT.get(locale), key.default));
                item.documentation = self.doc(|| docs::env_markdown(key.name, locale));
                items.push(item);
            }
        }
        items
    }

    fn undefined_run_time_names(&self, stage: Option<&super::model::Stage<'_>>, defined: &[String], rootfs: bool) -> Vec<String> {
        let Some(stage) = stage else { return Vec::new() };
        let mut names = Vec::new();
        for instruction in &stage.instructions {
            if !matches!(instruction.node.kind(), "cmd_instruction" | "entrypoint_instruction") {
                continue;
            }
            let mut stack = vec![instruction.node];
            while let Some(node) = stack.pop() {
                if matches!(node.kind(), "template_variable" | "expansion") {
                    if let Some(name) = node.field(&fields::NAME) {
                        let name = self.file.node_text(name).to_string();
                        let provided = rootfs && (env::rootfs_key(&name).is_some() || env::BUILTINS.contains(&name.as_str()));
                        if !defined.contains(&name) && !provided && !names.contains(&name) && !name.starts_with(env::SYSTEM_PREFIX) {
                            names.push(name);
                        }
                    }
                    continue;
                }
                let mut cursor = node.walk();
                let children: Vec<_> = node.named_children(&mut cursor).collect();
                stack.extend(children.into_iter().rev());
            }
        }
        names
    }

    fn arg(&self, current: &str) -> Vec<CompletionItem> {
        if current.contains('=') {
            return Vec::new();
        }
        let range = self.word_range(current.len(), is_ident);
        env::PREDEFINED_ARGS
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let mut item = self.item(*name, CompletionKind::Variable, range.clone(), *name, i);
                item.detail = Some(match self.caps.docs.locale {
                    docs::Locale::En => "predefined by BuildKit".to_string(),
                    docs::Locale::ZhCn => "BuildKit 预定义".to_string(),
                });
                item
            })
            .collect()
    }

    fn command_forms(&self, keyword: &str, operands: &[&String], current: &str) -> Vec<CompletionItem> {
        if !operands.is_empty() || !current.is_empty() || !self.sealos() {
            return Vec::new();
        }
        let range = self.offset..self.offset;
        let mut scripts: Vec<String> = self
            .facts
            .map(|facts| {
                facts
                    .entries
                    .iter()
                    .filter(|entry| !entry.contains('/') && entry.ends_with(".sh") && *entry != "init.sh")
                    .map(|entry| format!("bash {entry}"))
                    .collect()
            })
            .unwrap_or_default();
        if scripts.is_empty() {
            scripts.push("bash entrypoint.sh".to_string());
        }
        let mut items = Vec::new();
        for (i, command) in scripts.iter().enumerate() {
            let label = format!("[\"{command}\"]");
            let item = self.item(label, CompletionKind::Snippet, range.clone(), "", i);
            items.push(self.snippet_item(item, &format!("[\"${{1:{command}}}\"]")));
        }
        let image_env = variables::image_env(&self.model);
        let names: Vec<&str> = image_env.iter().map(|def| def.name.as_str()).collect();
        if keyword == "CMD" && names.contains(&"NAME") && names.contains(&"CHARTS") {
            let label = "[\"helm upgrade -i $(NAME) $(CHARTS) ...\"]".to_string();
            let mut command = String::from("helm upgrade -i \\$(NAME) \\$(CHARTS)");
            if names.contains(&"NAMESPACE") {
                command.push_str(" -n \\$(NAMESPACE) --create-namespace");
            }
            if names.contains(&"HELM_OPTS") {
                command.push_str(" \\$(HELM_OPTS)");
            }
            let item = self.item(label, CompletionKind::Snippet, range, "", 0);
            items.insert(0, self.snippet_item(item, &format!("[\"{command}$0\"]")));
        }
        items
    }

    /// Variable completion after `$`, `${` or (in CMD/ENTRYPOINT) `$(`; `None` when the cursor
    /// is not after one of them.
    fn variables(&self, keyword: &str, physical: &str) -> Option<Vec<CompletionItem>> {
        let name_len = physical.len() - physical.trim_end_matches(is_ident).len();
        let before = &physical[..physical.len() - name_len];
        let (opener, close) = if before.ends_with("$(") {
            ("$(", ')')
        } else if before.ends_with("${") {
            ("${", '}')
        } else if before.ends_with('$') {
            ("$", ' ')
        } else {
            return None;
        };
        let dollar_at = before.len() - opener.len();
        let preceding = before[..dollar_at].chars().next_back();
        let run_time = matches!(keyword, "CMD" | "ENTRYPOINT");
        if preceding == Some('$') {
            // `$$` is a literal dollar for sealos (and a PID in a shell).
            return Some(Vec::new());
        }
        let escaped_label = keyword == "LABEL" && preceding == Some(self.escape);
        if opener == "$(" && !run_time {
            return None;
        }
        if preceding == Some(self.escape) && !escaped_label {
            return Some(Vec::new());
        }
        let range = self.word_range(name_len, is_ident);
        let text = self.file.text();
        // No closing brace before one that is there, or before the rest of `${NAME:-default}`.
        let closed = text[range.end..].starts_with(close) || (close == '}' && text[range.end..].starts_with([':', '-', '+', '?']));
        let suffix = if close != ' ' && !closed { close.to_string() } else { String::new() };
        let locale = self.caps.docs.locale;
        if run_time || escaped_label {
            let stage = stage_at(&self.model, self.offset);
            let definitions = stage.map(|stage| variables::stage_definitions(&self.model, stage, None, &variables::global_args(&self.model))).unwrap_or_default();
            let mut offer = VariableItems::new(self, range, &suffix, definitions.len());
            for def in definitions.iter().rev().filter(|def| def.kind == DefinitionKind::Env) {
                offer.definition(def);
            }
            for name in &self.config.known_variables {
                offer.name(name, CompletionKind::Variable, 1, || None, || None);
            }
            let rootfs_env = matches!(self.image_type(), Some(ImageType::Rootfs | ImageType::Patch)) || escaped_label;
            if rootfs_env && self.sealos() {
                for key in env::ROOTFS_KEYS {
                    offer.name(key.name, CompletionKind::Constant, 2, || Some(format!("= {}", key.default)), || docs::env_markdown(key.name, locale));
                }
                for name in env::BUILTINS {
                    offer.name(name, CompletionKind::Constant, 3, || None, || docs::env_markdown(name, locale));
                }
            }
            let mut items = offer.items;
            items.sort_by(|a, b| a.sort_text.cmp(&b.sort_text));
            return Some(items);
        }
        // A FROM line sees the global ARGs (BuildKit): said here rather than found from where the
        // instruction ends, since a FROM whose `${` is still being typed does not parse.
        let visible = if keyword == "FROM" {
            variables::global_args(&self.model)
        } else {
            variables::visible_at(&self.model, self.instruction_start())
        };
        let mut offer = VariableItems::new(self, range, &suffix, visible.len() + env::PREDEFINED_ARGS.len());
        for def in visible.iter().rev() {
            offer.definition(def);
        }
        for name in &self.config.known_variables {
            offer.name(name, CompletionKind::Variable, 1, || None, || None);
        }
        for name in env::PREDEFINED_ARGS {
            let detail = || {
                Some(match locale {
                    docs::Locale::En => "predefined by BuildKit".to_string(),
                    docs::Locale::ZhCn => "BuildKit 预定义".to_string(),
                })
            };
            offer.name(name, CompletionKind::Constant, 5, detail, || None);
        }
        Some(offer.items)
    }

    /// Start of the instruction holding the cursor (for variable visibility).
    fn instruction_start(&self) -> usize {
        self.model
            .instructions
            .iter()
            .take_while(|instruction| instruction.node.start_byte() <= self.offset)
            .last()
            .map_or(self.offset, |instruction| {
                if instruction.node.end_byte() >= self.offset {
                    instruction.node.start_byte()
                } else {
                    self.offset
                }
            })
    }
}

/// Variable items, each name once (at its first offer: the latest definition). A FROM line can
/// see hundreds of global ARGs; the detail and documentation of a name are only written for the
/// offer that is kept.
struct VariableItems<'c, 'a, 'n> {
    cx: &'c Cx<'a>,
    range: TextRange,
    /// The closing `}` or `)` the insertion adds when the text lacks it.
    suffix: &'c str,
    offered: HashSet<&'n str>,
    items: Vec<CompletionItem>,
}

impl<'c, 'a, 'n> VariableItems<'c, 'a, 'n> {
    fn new(cx: &'c Cx<'a>, range: TextRange, suffix: &'c str, expected: usize) -> Self {
        VariableItems { cx, range, suffix, offered: HashSet::with_capacity(expected), items: Vec::with_capacity(expected) }
    }

    /// An ENV or ARG the cursor sees.
    fn definition(&mut self, def: &'n variables::Definition<'a>) {
        let (cx, locale) = (self.cx, self.cx.caps.docs.locale);
        let detail = || def.value.as_ref().map(|value| format!("= {}", truncate(value)));
        let doc = || {
            let line = cx.file.line_index().line_of(def.key_node.start_byte()) + 1;
            Some(docs::defined_at(line, &definition_text(cx.file, def), locale))
        };
        self.name(&def.name, CompletionKind::Variable, 0, detail, doc);
    }

    fn name(
        &mut self,
        name: &'n str,
        kind: CompletionKind,
        rank: usize,
        detail: impl FnOnce() -> Option<String>,
        doc: impl FnOnce() -> Option<String>,
    ) {
        if !self.offered.insert(name) {
            return;
        }
        let mut item = self.cx.item(name, kind, self.range.clone(), format!("{name}{}", self.suffix), rank);
        item.detail = detail();
        item.documentation = self.cx.doc(doc);
        self.items.push(item);
    }
}

/// The stage holding `offset` (the last FROM at or before it).
fn stage_at<'m, 't>(model: &'m Model<'t>, offset: usize) -> Option<&'m super::model::Stage<'t>> {
    model.stages.iter().rev().find(|stage| stage.from.node.start_byte() <= offset)
}

/// `ENV NAME=value` (the pair of the definition, first line only).
fn definition_text(file: &SourceFile, def: &variables::Definition<'_>) -> String {
    let keyword = match def.kind {
        DefinitionKind::Env => "ENV",
        DefinitionKind::Arg => "ARG",
    };
    // The pair holding the key, found among the instruction's children: `Node::parent` searches
    // down from the root, which costs more than the whole completion on a big file.
    let key = def.key_node;
    let instruction = def.instruction.node;
    let mut cursor = instruction.walk();
    let pair = instruction.children(&mut cursor).find(|child| {
        child.kind_name() == "key_value_pair" && child.start_byte() <= key.start_byte() && key.end_byte() <= child.end_byte()
    });
    let node = pair.unwrap_or(key);
    let text = file.node_text(node).lines().next().unwrap_or("").trim_end();
    format!("{keyword} {}", truncate(text.strip_suffix('\\').unwrap_or(text).trim_end()))
}

fn truncate(value: &str) -> String {
    if value.chars().count() > 60 {
        format!("{}…", value.chars().take(59).collect::<String>())
    } else {
        value.to_string()
    }
}

fn distinct_images(facts: &ContextFacts) -> usize {
    facts.images.iter().map(|image| image.image.as_str()).collect::<std::collections::BTreeSet<_>>().len()
}

/// Kubefile instructions by usefulness; plain Dockerfiles keep the table order.
fn keyword_rank(keyword: &str, sealos: bool) -> Option<usize> {
    if !sealos {
        return None;
    }
    ["FROM", "COPY", "LABEL", "ENV", "CMD", "ARG", "ENTRYPOINT", "ADD"].iter().position(|k| *k == keyword)
}

/// Build-context folders sealos gives a meaning to, first.
fn sealos_dir_rank(name: &str) -> Option<usize> {
    ["registry", "charts", "manifests", "opt", "images", "etc", "scripts"].iter().position(|n| *n == name).map(|i| i + 1)
}

fn in_heredoc_body(file: &SourceFile, offset: usize) -> bool {
    // Down from the root through the nodes holding `offset`: `Node::parent` would search down
    // from the root again for every level.
    let mut cursor = file.root().walk();
    while cursor.goto_first_child_for_byte(offset).is_some() {
        let node = cursor.node();
        if node.start_byte() > offset {
            return false;
        }
        if matches!(node.kind(), "heredoc_body" | "heredoc_block") && node.start_byte() < offset {
            return true;
        }
    }
    false
}

/// The start of the logical line holding `line_start`: earlier lines joined by a trailing escape
/// character (comment and blank lines inside a continuation are skipped, as BuildKit does).
pub(crate) fn logical_line_start(text: &str, line_start: usize, escape: char) -> usize {
    let mut start = line_start;
    let mut candidate = line_start;
    while candidate > 0 {
        let prev_end = candidate - 1;
        let prev_start = text[..prev_end].rfind('\n').map_or(0, |i| i + 1);
        let line = text[prev_start..prev_end].trim_end();
        if line.ends_with(escape) && !line.trim_start().starts_with('#') {
            start = prev_start;
            candidate = prev_start;
        } else if line.is_empty() || line.trim_start().starts_with('#') {
            candidate = prev_start;
        } else {
            break;
        }
    }
    start
}

/// Removes `escape` + newline pairs (and the comment lines BuildKit drops inside continuations).
pub(crate) fn join_continuations(text: &str, escape: char) -> String {
    let mut out = String::with_capacity(text.len());
    let mut lines = text.split('\n').peekable();
    while let Some(line) = lines.next() {
        let last = lines.peek().is_none();
        if !last && line.trim_start().starts_with('#') && !out.is_empty() {
            continue;
        }
        let trimmed = line.trim_end();
        if !last && trimmed.ends_with(escape) {
            out.push_str(&trimmed[..trimmed.len() - escape.len_utf8()]);
            out.push(' ');
        } else {
            out.push_str(line);
            if !last {
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use super::*;
    use crate::analysis::{docs::Locale, fixture};

    fn render(items: &[CompletionItem], file: &SourceFile) -> String {
        let mut items = items.to_vec();
        items.sort_by(|a, b| a.sort_text.cmp(&b.sort_text));
        let mut out = String::new();
        for item in &items {
            let replaced = fixture::slice(file, &item.edit_range);
            out.push_str(&format!(
                "{:?} {}{} -> {}{}{}\n",
                item.kind,
                item.label,
                item.detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default(),
                if replaced.is_empty() { String::new() } else { format!("[{replaced}] ") },
                item.insert_text.replace('\n', "\\n"),
                if item.retrigger { " ↻" } else { "" },
            ));
        }
        out
    }

    fn check_with(fixture: &str, caps: &CompletionOptions, expect: Expect) {
        let f = fixture::parse(fixture);
        let items = completion(&f.file, f.offset(), f.facts(), &Config::default(), caps);
        expect.assert_eq(&render(&items, &f.file));
    }

    fn check(fixture: &str, expect: Expect) {
        check_with(fixture, &CompletionOptions::default(), expect);
    }

    fn labels(fixture: &str) -> Vec<String> {
        let f = fixture::parse(fixture);
        completion(&f.file, f.offset(), f.facts(), &Config::default(), &CompletionOptions::default())
            .into_iter()
            .map(|item| item.label)
            .collect()
    }

    #[test]
    fn keywords_in_empty_file_are_from_and_arg() {
        check(
            "$0",
            expect![[r#"
                Keyword FROM -> FROM  ↻
                Keyword ARG -> ARG  ↻
                Snippet FROM scratch (Start from an empty image) -> FROM ${1:scratch}
                Snippet FROM image AS name (Named build stage) -> FROM ${1:image} AS ${2:name}
                Snippet ARG name (Declare a build argument) -> ARG ${1:name}
                Snippet ARG name=default (Build argument with a default) -> ARG ${1:name}=${2:default}
            "#]],
        );
    }

    #[test]
    fn keywords_after_from_with_sealos_templates() {
        check(
            "//- /Kubefile\nFROM scratch\nCO$0\n//- /manifests/app.yaml\nimage: nginx:1.25\n//- /charts/x/Chart.yaml\nname: x\n",
            expect![[r#"
                Keyword FROM -> [CO] FROM  ↻
                Keyword COPY -> [CO] COPY  ↻
                Keyword LABEL -> [CO] LABEL  ↻
                Keyword ENV -> [CO] ENV  ↻
                Keyword CMD -> [CO] CMD  ↻
                Keyword ARG -> [CO] ARG  ↻
                Keyword ENTRYPOINT -> [CO] ENTRYPOINT  ↻
                Keyword ADD -> [CO] ADD  ↻
                Keyword RUN -> [CO] RUN 
                Keyword MAINTAINER -> [CO] MAINTAINER 
                Keyword EXPOSE (no effect at sealos run) -> [CO] EXPOSE 
                Keyword VOLUME (no effect at sealos run) -> [CO] VOLUME 
                Keyword USER (no effect at sealos run) -> [CO] USER 
                Keyword WORKDIR (no effect at sealos run) -> [CO] WORKDIR 
                Keyword ONBUILD -> [CO] ONBUILD  ↻
                Keyword STOPSIGNAL (no effect at sealos run) -> [CO] STOPSIGNAL 
                Keyword HEALTHCHECK (no effect at sealos run) -> [CO] HEALTHCHECK  ↻
                Keyword SHELL (no effect at sealos run) -> [CO] SHELL 
                Snippet FROM scratch (Start from an empty image) -> [CO] FROM ${1:scratch}
                Snippet FROM image AS name (Named build stage) -> [CO] FROM ${1:image} AS ${2:name}
                Snippet COPY registry registry (Ship the images saved by sealos build) -> [CO] COPY registry registry
                Snippet COPY charts charts (Copy the Helm charts) -> [CO] COPY charts charts
                Snippet COPY manifests manifests (Copy the manifests) -> [CO] COPY manifests manifests
                Snippet COPY . . (Copy the whole build context) -> [CO] COPY . .
                Snippet COPY src dest (Copy files into the image) -> [CO] COPY ${1:src} ${2:dest}
                Snippet COPY --from=stage src dest (Copy from another stage) -> [CO] COPY --from=${1:stage} ${2:src} ${3:dest}
                Snippet LABEL sealos.io.type=... (Declare the image type) -> [CO] LABEL sealos.io.type="${1|application,rootfs,patch|}"
                Snippet LABEL key=value (Add metadata) -> [CO] LABEL ${1:key}="${2:value}"
                Snippet ENV NAME=${NAME:-"default"} (A default that sealos build --env can change) -> [CO] ENV ${1:NAME}=\${${1:NAME}:-"${2:default}"\}
                Snippet ENV key=value (Set an environment variable) -> [CO] ENV ${1:key}=${2:value}
                Snippet CMD ["bash entrypoint.sh"] (One whole shell command per element) -> [CO] CMD ["${1:bash entrypoint.sh}"]
                Snippet CMD ["helm upgrade -i ..."] (Install the chart with values from ENV) -> [CO] CMD ["helm upgrade -i \$(NAME) \$(CHARTS) -n \$(NAMESPACE) --create-namespace \$(HELM_OPTS)"]
                Snippet CMD ["command"] (Exec form) -> [CO] CMD ["${1:command}"]
                Snippet CMD command (Shell form) -> [CO] CMD ${1:command}
                Snippet ARG name (Declare a build argument) -> [CO] ARG ${1:name}
                Snippet ARG name=default (Build argument with a default) -> [CO] ARG ${1:name}=${2:default}
                Snippet ENTRYPOINT ["command"] (Exec form) -> [CO] ENTRYPOINT ["${1:command}"]
                Snippet ADD src dest (Copy and unpack files) -> [CO] ADD ${1:src} ${2:dest}
                Snippet RUN command (Run a command at build time) -> [CO] RUN ${1:command}
                Snippet WORKDIR /path (Set the working directory) -> [CO] WORKDIR ${1:/path}
                Snippet USER user (Set the user) -> [CO] USER ${1:user}
                Snippet EXPOSE port (Document a port) -> [CO] EXPOSE ${1:80}
                Snippet VOLUME ["/data"] (Declare a mount point) -> [CO] VOLUME ["${1:/data}"]
                Snippet STOPSIGNAL signal (Set the stop signal) -> [CO] STOPSIGNAL ${1:SIGTERM}
                Snippet HEALTHCHECK --interval=... CMD (Container health check) -> [CO] HEALTHCHECK --interval=${1:30s} --timeout=${2:30s} --start-period=${3:5s} --retries=${4:3} CMD ${5:command}
                Snippet HEALTHCHECK NONE (Disable the inherited health check) -> [CO] HEALTHCHECK NONE
                Snippet SHELL ["executable", "parameters"] (Set the shell) -> [CO] SHELL ["${1:/bin/bash}", "${2:-c}"]
                Snippet ONBUILD INSTRUCTION (Trigger for child images) -> [CO] ONBUILD ${1:INSTRUCTION}
                Snippet MAINTAINER name (Deprecated: use LABEL) -> [CO] MAINTAINER ${1:name}
            "#]],
        );
    }

    #[test]
    fn keyword_snippets_as_plain_text() {
        let caps = CompletionOptions { snippets: false, ..CompletionOptions::default() };
        let f = fixture::parse("FROM scratch\nLA$0");
        let items = completion(&f.file, f.offset(), None, &Config::default(), &caps);
        let label = items.iter().find(|item| item.label == "LABEL sealos.io.type=...").unwrap();
        assert_eq!(label.insert_text, "LABEL sealos.io.type=\"application\"");
        assert!(!label.is_snippet);
        assert_eq!(fixture::slice(&f.file, &label.edit_range), "LA");
    }

    #[test]
    fn keyword_docs_in_chinese_plain_text() {
        let caps = CompletionOptions { docs: DocOptions::new(docs::Markup::PlainText, Locale::ZhCn), ..CompletionOptions::default() };
        let f = fixture::parse("FROM scratch\nWORK$0");
        let items = completion(&f.file, f.offset(), None, &Config::default(), &caps);
        let workdir = items.iter().find(|item| item.label == "WORKDIR").unwrap();
        assert_eq!(workdir.detail.as_deref(), Some("sealos run 时无效"));
        let doc = workdir.documentation.as_deref().unwrap();
        assert!(doc.starts_with("WORKDIR\n\n"), "{doc}");
        assert!(doc.contains("sealos run 时："), "{doc}");
        assert!(!doc.contains('`'), "{doc}");
    }

    #[test]
    fn from_lines_see_the_global_args_while_the_expansion_is_typed() {
        for fixture in [
            "ARG BASE=alpine\nFROM ${$0\n",
            "ARG BASE=alpine\nFROM ${$0}\n",
            "ARG BASE=alpine\nFROM $$0\n",
            "ARG BASE=alpine\nFROM ${B$0} AS x\n",
            "ARG BASE=alpine\nFROM scratch\nARG LOCAL=1\nFROM ${$0\n",
        ] {
            let found = labels(fixture);
            assert_eq!(found.first().map(String::as_str), Some("BASE"), "{fixture}: {found:?}");
            assert!(!found.contains(&"LOCAL".to_string()), "{fixture}: {found:?}");
        }
    }

    #[test]
    fn a_closing_brace_is_added_only_where_the_expansion_lacks_one() {
        let insert = |fixture: &str| {
            let f = fixture::parse(fixture);
            let items = completion(&f.file, f.offset(), None, &Config::default(), &CompletionOptions::default());
            let base = items.into_iter().find(|item| item.label == "BASE").unwrap();
            format!("[{}] -> {}", fixture::slice(&f.file, &base.edit_range), base.insert_text)
        };
        assert_eq!(insert("ARG BASE=alpine\nFROM ${$0\n"), "[] -> BASE}");
        assert_eq!(insert("ARG BASE=alpine\nFROM ${$0}\n"), "[] -> BASE");
        assert_eq!(insert("ARG BASE=alpine\nFROM ${$0OLD} AS x\n"), "[OLD] -> BASE");
        assert_eq!(insert("ARG BASE=alpine\nFROM ${$0OLD:-ubuntu:24.04} AS x\n"), "[OLD] -> BASE");
        assert_eq!(insert("ARG BASE=alpine\nFROM ${B$0-ubuntu}\n"), "[B] -> BASE");
        assert_eq!(insert("ARG BASE=alpine\nFROM ${B$0 AS x\n"), "[B] -> BASE}");
        assert_eq!(insert("FROM scratch\nENV BASE=1\nCMD [\"echo $($0\"]\n"), "[] -> BASE)");
    }

    #[test]
    fn items_without_documentation_are_the_same_items() {
        let without = CompletionOptions { documentation: false, ..CompletionOptions::default() };
        for fixture in [
            "ARG GLOBAL=g\nFROM scratch\nENV A=1 A=2\nCOPY ${$0} /x\n",
            "FROM scratch\nENV NAME=x\nCMD [\"$($0\"]\n",
            "FROM scratch\n$0",
            "FROM scratch\nLABEL sealos.io.type=$0",
        ] {
            let f = fixture::parse(fixture);
            let documented = completion(&f.file, f.offset(), None, &Config::default(), &CompletionOptions::default());
            let bare = completion(&f.file, f.offset(), None, &Config::default(), &without);
            assert!(documented.iter().any(|item| item.documentation.is_some()), "{fixture}");
            assert!(bare.iter().all(|item| item.documentation.is_none()), "{fixture}");
            let undocumented: Vec<CompletionItem> =
                documented.into_iter().map(|item| CompletionItem { documentation: None, ..item }).collect();
            assert_eq!(bare, undocumented, "{fixture}");
        }
        // A name defined twice is offered once, at its latest definition.
        let f = fixture::parse("FROM scratch\nENV A=1 A=2\nCOPY ${$0} /x\n");
        let items = completion(&f.file, f.offset(), None, &Config::default(), &CompletionOptions::default());
        let a: Vec<&CompletionItem> = items.iter().filter(|item| item.label == "A").collect();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].detail.as_deref(), Some("= 2"));
        assert_eq!(a[0].documentation.as_deref(), Some("Defined at line 2: `ENV A=2`"));
    }

    #[test]
    fn onbuild_nested_keywords() {
        let found = labels("FROM scratch\nONBUILD $0");
        assert!(found.contains(&"COPY".to_string()));
        assert!(!found.contains(&"FROM".to_string()) && !found.contains(&"ONBUILD".to_string()));
    }

    #[test]
    fn flags_per_instruction() {
        check(
            "FROM scratch\nCOPY --chown=1 --$0",
            expect![[r#"
                Property --from (--from=<stage|image|context>) -> [--] --from= ↻
                Property --chmod (--chmod=<perms>) -> [--] --chmod= ↻
                Property --link (--link[=<boolean>]) -> [--] --link
                Property --parents (--parents[=<boolean>]) -> [--] --parents
                Property --exclude (--exclude=<pattern>) -> [--] --exclude= ↻
            "#]],
        );
        check("FROM alpine\nRUN --mount=type=cache,target=/x -$0", expect![[r#"
            Property --mount (--mount=type=<bind|cache|tmpfs|secret|ssh>[,option=value...]) -> [-] --mount= ↻
            Property --network (--network=<default|none|host>) -> [-] --network= ↻
            Property --security (--security=<sandbox|insecure>) -> [-] --security= ↻
            Property --device (--device=<name>[,required]) -> [-] --device= ↻
        "#]]);
    }

    #[test]
    fn flag_values_and_from_stages() {
        check(
            "FROM alpine AS build\nFROM busybox AS tools\nFROM scratch\nCOPY --from=b$0 /a /a\nFROM scratch AS later\n",
            expect![[r#"
                Reference build (FROM alpine) -> [b] build
                Reference tools (FROM busybox) -> [b] tools
            "#]],
        );
        check("FROM --platform=$0 scratch\n", expect![[r#"
            Value linux/amd64 -> linux/amd64
            Value linux/arm64 -> linux/arm64
            Value $BUILDPLATFORM -> $BUILDPLATFORM
            Value $TARGETPLATFORM -> $TARGETPLATFORM
        "#]]);
    }

    #[test]
    fn from_stages_in_a_long_file() {
        let mut text = String::new();
        for i in 0..30 {
            text.push_str(&format!("FROM alpine:3.{i} AS s{i}\nENV X{i}=1\n"));
        }
        let at = text.find("FROM alpine:3.10").unwrap();
        text.insert_str(at, "COPY --from= /a /a\n");
        let file = SourceFile::parse(&text);
        let offset = at + "COPY --from=".len();
        let items = completion(&file, offset, None, &Config::default(), &CompletionOptions::default());
        let names: Vec<&str> = items.iter().map(|item| item.label.as_str()).collect();
        assert_eq!(names, (0..9).map(|i| format!("s{i}")).collect::<Vec<_>>().iter().map(String::as_str).collect::<Vec<_>>());
        let dollar = text.find("ENV X9=1").unwrap();
        let mut with_var = text.clone();
        with_var.insert_str(dollar + "ENV X9=1".len(), "\nLABEL y=$");
        let file = SourceFile::parse(&with_var);
        let mut items = completion(&file, dollar + "ENV X9=1\nLABEL y=$".len(), None, &Config::default(), &CompletionOptions::default());
        items.sort_by(|a, b| a.sort_text.cmp(&b.sort_text));
        assert_eq!(items[0].label, "X9", "only stage 9's variables come first");
        assert!(!items.iter().any(|item| item.label == "X8"));
    }

    #[test]
    fn from_images() {
        let caps = CompletionOptions { workspace_images: vec!["labring/kubernetes:v1.27.7".into()], ..CompletionOptions::default() };
        check_with("FROM alpine:3 AS build\nFROM $0\nFROM busybox\n", &caps, expect![[r#"
            Keyword scratch -> scratch
            Reference build (Build stage 0: FROM alpine:3) -> build
            Module alpine:3 (base image) -> alpine:3
            Module busybox (base image) -> busybox
            Module labring/kubernetes:v1.27.7 (base image) -> labring/kubernetes:v1.27.7
        "#]]);
        check("FROM scratch $0", expect![[r#"
            Keyword AS -> AS 
        "#]]);
    }

    #[test]
    fn label_keys_for_application_and_rootfs() {
        check("FROM scratch\nLABEL $0", expect![[r#"
            Property sealos.io.type (application) -> sealos.io.type="${1|application,rootfs,patch|}"
            Property sealos.io.version (v1beta1) -> sealos.io.version="${1|v1beta1,v1beta2|}"
            Property apps.sealos.io/type (application) -> apps.sealos.io/type="${1|application,rootfs,patch|}"
            Property apps.sealos.io/version (v1beta1) -> apps.sealos.io/version="${1|v1beta1,v1beta2|}"
        "#]]);
        let rootfs = labels("FROM scratch\nLABEL sealos.io.type=rootfs\nLABEL $0");
        assert!(rootfs.contains(&"vip".to_string()) && rootfs.contains(&"init".to_string()), "{rootfs:?}");
        assert!(!rootfs.contains(&"sealos.io.type".to_string()), "already present: {rootfs:?}");
        let f = fixture::parse("FROM scratch\nLABEL sealos.io.type=rootfs\nLABEL v$0");
        let items = completion(&f.file, f.offset(), None, &Config::default(), &CompletionOptions::default());
        let vip = items.iter().find(|item| item.label == "vip").unwrap();
        assert_eq!(vip.insert_text, "vip=\"\\\\\\$defaultVIP\"");
        let plain = CompletionOptions { snippets: false, ..CompletionOptions::default() };
        let items = completion(&f.file, f.offset(), None, &Config::default(), &plain);
        let vip = items.iter().find(|item| item.label == "vip").unwrap();
        assert_eq!(vip.insert_text, "vip=\"\\$defaultVIP\"");
    }

    #[test]
    fn label_values() {
        check("FROM scratch\nLABEL sealos.io.type=$0", expect![[r#"
            EnumMember application -> application
            EnumMember rootfs -> rootfs
            EnumMember patch -> patch
        "#]]);
        check("FROM scratch\nLABEL sealos.io.type=\"ro$0", expect![[r#"
            EnumMember application -> [ro] application"
            EnumMember rootfs -> [ro] rootfs"
            EnumMember patch -> [ro] patch"
        "#]]);
        check("FROM scratch\nLABEL sealos.io.version=$0", expect![[r#"
            EnumMember v1beta1 -> v1beta1
            EnumMember v1beta2 -> v1beta2
        "#]]);
        check("FROM scratch\nLABEL sealos.io.distribution=$0", expect![[r#"
            EnumMember kubernetes -> kubernetes
            EnumMember kubeadm -> kubeadm
            EnumMember k3s -> k3s
        "#]]);
        check("FROM scratch\nLABEL init=$0", expect![[r#"
            EnumMember init.sh -> init.sh
        "#]]);
    }

    #[test]
    fn completing_over_existing_text_keeps_what_follows() {
        // A label value right after `=` replaces the quoted value there.
        check("FROM scratch\nLABEL sealos.io.type=$0\"application\" sealos.io.version=\"v1beta1\"\n", expect![[r#"
            EnumMember application -> ["application] "application
            EnumMember rootfs -> ["application] "rootfs
            EnumMember patch -> ["application] "patch
        "#]]);
        // A key whose value follows: the key alone, and the key being edited is offered.
        check("FROM scratch\nLABEL sealos.io.type=application sealos.io.versi$0on=\"v1beta1\"\n", expect![[r#"
            Property sealos.io.version (v1beta1) -> [sealos.io.version] sealos.io.version
            Property apps.sealos.io/type (application) -> [sealos.io.version] apps.sealos.io/type
            Property apps.sealos.io/version (v1beta1) -> [sealos.io.version] apps.sealos.io/version
        "#]]);
        let found = labels("FROM scratch\nLABEL sealos.io.type=rootfs\nENV cri$0Data=/data\n");
        assert_eq!(found.first().map(String::as_str), Some("criData"), "{found:?}");
        let f = fixture::parse("FROM scratch\nLABEL sealos.io.type=rootfs\nENV cri$0Data=/data\n");
        let items = completion(&f.file, f.offset(), None, &Config::default(), &CompletionOptions::default());
        assert_eq!(items.iter().find(|item| item.label == "criData").unwrap().insert_text, "criData");
        // A keyword replaced in front of its arguments: no second blank, no new suggestion list.
        let f = fixture::parse("FROM scratch\n$0ENV NAME=nginx\n");
        let items = completion(&f.file, f.offset(), None, &Config::default(), &CompletionOptions::default());
        let copy = items.iter().find(|item| item.label == "COPY").unwrap();
        assert_eq!((copy.insert_text.as_str(), fixture::slice(&f.file, &copy.edit_range), copy.retrigger), ("COPY", "ENV", false));
        // ... and no template, which would bring arguments of its own.
        assert!(!items.iter().any(|item| item.kind == CompletionKind::Snippet), "{:?}", labels("FROM scratch\n$0ENV NAME=nginx\n"));
        // A key of the legacy `ENV key value` form: the key alone (a new pair after it keeps the template).
        check("FROM scratch\nENV NAM$0 nginx\nCMD [\"echo $(NAME)\"]\n", expect![[r#"
            Variable NAME (used in CMD, not defined) -> [NAM] NAME
        "#]]);
        check("FROM scratch\nENV NAM$0 B=1\nCMD [\"echo $(NAME)\"]\n", expect![[r#"
            Variable NAME (used in CMD, not defined) -> [NAM] NAME=\${NAME:-"${1}"\}
        "#]]);
        // A value already there, or a quote opened by the value typed so far: no template over it.
        check("FROM scratch\nENV HELM_OPTS=$0${HELM_OPTS:-\" \\\n  --set a=b\"}\n", expect![[""]]);
        check("FROM scratch\nENV HELM_OPTS=${HELM_OPTS:-\"$0 \\\n  --set a=b\"}\n", expect![[""]]);
        check("FROM scratch\nENV HELM_OPTS=$0\n", expect![[r#"
            Snippet ${HELM_OPTS:-"..."} -> \${HELM_OPTS:-"${1}"\}
        "#]]);
    }

    #[test]
    fn env_keys_for_rootfs_never_builtins() {
        let found = labels("FROM scratch\nLABEL sealos.io.type=rootfs\nENV registryPort=5000\nENV $0");
        assert!(found.contains(&"criData".to_string()), "{found:?}");
        assert!(found.contains(&"SEALOS_SYS_IMAGE_ENDPOINT".to_string()));
        assert!(!found.contains(&"registryPort".to_string()), "already defined");
        assert!(!found.iter().any(|name| env::OVERWRITTEN.contains(&name.as_str())), "{found:?}");
        check("FROM scratch\nLABEL sealos.io.type=rootfs\nENV cri$0", expect![[r#"
            Constant criData (default: /var/lib/containerd) -> [cri] criData=/var/lib/containerd
            Constant criDockerdData (default: /var/lib/cri-dockerd) -> [cri] criDockerdData=/var/lib/cri-dockerd
            Constant registryData (default: /var/lib/registry) -> [cri] registryData=/var/lib/registry
            Constant registryConfig (default: /etc/registry) -> [cri] registryConfig=/etc/registry
            Constant registryDomain (default: sealos.hub) -> [cri] registryDomain=sealos.hub
            Constant registryPort (default: 5000) -> [cri] registryPort=5000
            Constant registryUsername (default: admin) -> [cri] registryUsername=admin
            Constant registryPassword (default: passw0rd) -> [cri] registryPassword=passw0rd
            Constant disableApparmor (default: false) -> [cri] disableApparmor=false
            Constant SEALOS_SYS_CRI_ENDPOINT (default: /var/run/containerd/containerd.sock) -> [cri] SEALOS_SYS_CRI_ENDPOINT=/var/run/containerd/containerd.sock
            Constant SEALOS_SYS_IMAGE_ENDPOINT (default: /var/run/image-cri-shim.sock) -> [cri] SEALOS_SYS_IMAGE_ENDPOINT=/var/run/image-cri-shim.sock
            Constant defaultVIP (default: 10.103.97.2) -> [cri] defaultVIP=10.103.97.2
            Constant sandboxImage (default: pause:3.9) -> [cri] sandboxImage=pause:3.9
        "#]]);
        // Application images get no rootfs keys, but the names their CMD uses.
        check("FROM scratch\nENV $0\nCMD [\"helm upgrade -i $(NAME) $(CHARTS) $(SEALOS_SYS_KUBE_VERSION)\"]\n", expect![[r#"
            Variable CHARTS (used in CMD, not defined) -> CHARTS=\${CHARTS:-"${1}"\}
            Variable NAME (used in CMD, not defined) -> NAME=\${NAME:-"${1}"\}
        "#]]);
    }

    #[test]
    fn env_values() {
        check("FROM scratch\nLABEL sealos.io.type=rootfs\nENV criData=$0", expect![[r#"
            Value /var/lib/containerd (Default in the official rootfs images) -> /var/lib/containerd
            Snippet ${criData:-"..."} -> \${criData:-"${1}"\}
        "#]]);
        check("FROM scratch\nENV NAME=$0", expect![[r#"
            Snippet ${NAME:-"..."} -> \${NAME:-"${1}"\}
        "#]]);
        check("FROM scratch\nENV LEGACY $0", expect![[""]]);
    }

    #[test]
    fn template_variables_in_cmd() {
        check(
            "FROM scratch\nARG A=1\nENV NAME=${NAME:-\"nginx\"} NAMESPACE=default\nCMD [\"helm upgrade -i $(N$0\"]\nENV LATER=x\n",
            expect![[r#"
                Variable LATER (= x) -> [N] LATER)
                Variable NAME (= nginx) -> [N] NAME)
                Variable NAMESPACE (= default) -> [N] NAMESPACE)
            "#]],
        );
        // rootfs and patch images also see the rootfs keys and built-ins.
        let found = labels("FROM scratch\nLABEL sealos.io.type=patch\nCMD [\"echo $($0)\"]\n");
        assert!(found.contains(&"registryDomain".to_string()) && found.contains(&"SEALOS_SYS_KUBE_VERSION".to_string()), "{found:?}");
        assert!(labels("FROM scratch\nCMD [\"echo $$($0\"]\n").is_empty());
    }

    #[test]
    fn build_time_variables_elsewhere() {
        check(
            "ARG GLOBAL=g\nFROM scratch\nARG VERSION=1.0\nENV HOME_DIR=/opt\nCOPY ${$0} /x\nENV AFTER=1\n",
            expect![[r#"
                Variable HOME_DIR (= /opt) -> HOME_DIR
                Variable VERSION (= 1.0) -> VERSION
                Constant ALL_PROXY (predefined by BuildKit) -> ALL_PROXY
                Constant BUILDARCH (predefined by BuildKit) -> BUILDARCH
                Constant BUILDOS (predefined by BuildKit) -> BUILDOS
                Constant BUILDPLATFORM (predefined by BuildKit) -> BUILDPLATFORM
                Constant BUILDVARIANT (predefined by BuildKit) -> BUILDVARIANT
                Constant FTP_PROXY (predefined by BuildKit) -> FTP_PROXY
                Constant HTTPS_PROXY (predefined by BuildKit) -> HTTPS_PROXY
                Constant HTTP_PROXY (predefined by BuildKit) -> HTTP_PROXY
                Constant NO_PROXY (predefined by BuildKit) -> NO_PROXY
                Constant TARGETARCH (predefined by BuildKit) -> TARGETARCH
                Constant TARGETOS (predefined by BuildKit) -> TARGETOS
                Constant TARGETPLATFORM (predefined by BuildKit) -> TARGETPLATFORM
                Constant TARGETVARIANT (predefined by BuildKit) -> TARGETVARIANT
                Constant all_proxy (predefined by BuildKit) -> all_proxy
                Constant ftp_proxy (predefined by BuildKit) -> ftp_proxy
                Constant http_proxy (predefined by BuildKit) -> http_proxy
                Constant https_proxy (predefined by BuildKit) -> https_proxy
                Constant no_proxy (predefined by BuildKit) -> no_proxy
            "#]],
        );
        // `$(` outside CMD is not a sealos template.
        assert!(labels("FROM scratch\nENV A=1\nLABEL x=$($0").is_empty());
        // `\$` in a bootstrap label: the node's shell expands it from the rootfs env.
        let found = labels("FROM scratch\nLABEL sealos.io.type=rootfs\nLABEL init=\"init.sh \\$reg$0\"\n");
        assert!(found.contains(&"registryDomain".to_string()), "{found:?}");
    }

    #[test]
    fn copy_sources_from_context() {
        check(
            "//- /Kubefile\nFROM scratch\nCOPY $0\n//- /manifests/app.yaml\nimage: nginx:1.25\n//- /charts/x/Chart.yaml\nname: x\n//- /entrypoint.sh\nhelm\n//- /.dockerignore\nsecret.txt\n//- /secret.txt\nx\n",
            expect![[r#"
                Folder registry (1 image will be saved into registry/) -> registry
                Folder charts -> charts
                Folder manifests -> manifests
                File entrypoint.sh -> entrypoint.sh
                File .dockerignore -> .dockerignore
                File Kubefile -> Kubefile
            "#]],
        );
        check(
            "//- /Kubefile\nFROM scratch\nCOPY charts/x/$0\n//- /charts/x/Chart.yaml\nname: x\n//- /charts/x/templates/a.yaml\nx\n",
            expect![[r#"
                Folder templates -> templates
                File Chart.yaml -> Chart.yaml
            "#]],
        );
    }

    #[test]
    fn copy_destinations() {
        check("//- /Kubefile\nFROM scratch\nCOPY registry $0\n//- /images/shim/list\nnginx:1\n", expect![[r#"
            Folder registry (destination: /registry in the image) -> registry
            Folder ./ (destination: the image root (or WORKDIR)) -> ./
            Folder . (destination: the image root (or WORKDIR)) -> .
            Folder images -> images
            File Kubefile -> Kubefile
        "#]]);
    }

    #[test]
    fn cmd_forms_from_context_scripts() {
        check("//- /Kubefile\nFROM scratch\nCMD $0\n//- /install.sh\nx\n//- /init.sh\nx\n", expect![[r#"
            Snippet ["bash install.sh"] -> ["${1:bash install.sh}"]
        "#]]);
        check("FROM scratch\nENV NAME=x CHARTS=./charts/x NAMESPACE=ns\nCMD $0\n", expect![[r#"
            Snippet ["bash entrypoint.sh"] -> ["${1:bash entrypoint.sh}"]
            Snippet ["helm upgrade -i $(NAME) $(CHARTS) ..."] -> ["helm upgrade -i \$(NAME) \$(CHARTS) -n \$(NAMESPACE) --create-namespace$0"]
        "#]]);
    }

    #[test]
    fn continuation_lines_complete_as_their_instruction() {
        check("FROM scratch\nLABEL sealos.io.type=rootfs \\\n  sealos.io.version=$0\n", expect![[r#"
            EnumMember v1beta1 -> v1beta1
            EnumMember v1beta2 -> v1beta2
        "#]]);
    }

    #[test]
    fn directives() {
        check("# $0\nFROM scratch\n", expect![[r#"
            Property syntax= -> syntax= ↻
            Property escape= -> escape= ↻
            Property check= -> check= ↻
        "#]]);
        check("# escape=$0\nFROM scratch\n", expect![[r#"
            Value \ -> \
            Value ` -> `
        "#]]);
        check("FROM scratch\n# $0\n", expect![[""]]);
    }

    #[test]
    fn build_check_names_after_check_skip() {
        let f = fixture::parse("# check=skip=Undef$0inedVar\nFROM scratch\n");
        let items = completion(&f.file, f.offset(), None, &Config::default(), &CompletionOptions::default());
        let undefined = items.iter().find(|item| item.label == "UndefinedVar").unwrap();
        assert_eq!((fixture::slice(&f.file, &undefined.edit_range), undefined.detail.as_deref()), ("UndefinedVar", Some("undefined-variable")));
        assert_eq!(items.len(), 23, "22 checks and `all`");
        let secrets = items.iter().find(|item| item.label == "SecretsUsedInArgOrEnv").unwrap();
        assert_eq!(secrets.detail.as_deref(), Some("BuildKit only: no kubefile-ls rule"));
        // After a comma: the others, without `all`.
        let found = labels("# check=skip=UndefinedVar,$0\nFROM scratch\n");
        assert_eq!(found.len(), 21, "{found:?}");
        assert!(!found.iter().any(|name| name == "UndefinedVar" || name == "all"), "{found:?}");
        // The directive's other setting, after a `;`.
        check("# check=error=true;$0\nFROM scratch\n", expect![[r#"
            Value skip= -> skip=
        "#]]);
    }

    #[test]
    fn healthcheck_cmd_or_none() {
        check("FROM alpine\nHEALTHCHECK --interval=5s $0", expect![[r#"
            Keyword CMD -> CMD 
            Keyword NONE -> NONE 
        "#]]);
    }

    #[test]
    fn nothing_in_heredoc_body() {
        check("FROM alpine\nRUN <<EOF\nCO$0\nEOF\n", expect![[""]]);
        check("FROM alpine\nRUN <<EOF\necho $0\nEOF\n", expect![[""]]);
        // After the terminator the next instruction completes.
        assert!(labels("FROM alpine\nRUN <<EOF\necho\nEOF\nCO$0\n").contains(&"COPY".to_string()));
        assert!(labels("FROM alpine\nRUN <<EOF\necho\nEOF\n$0").contains(&"COPY".to_string()));
    }

    #[test]
    fn plain_dockerfile_has_no_sealos_items() {
        let caps = CompletionOptions { kind: FileKind::Dockerfile, ..CompletionOptions::default() };
        let f = fixture::parse("FROM scratch\nCO$0");
        let items = completion(&f.file, f.offset(), None, &Config::default(), &caps);
        assert!(!items.iter().any(|item| item.label == "COPY registry registry"));
        let f = fixture::parse("FROM scratch\nLABEL $0");
        assert!(completion(&f.file, f.offset(), None, &Config::default(), &caps).is_empty());
    }

    #[test]
    fn shim_lists_complete_manifest_images() {
        let f = fixture::parse("//- /Kubefile\nFROM scratch\n//- /manifests/app.yaml\nimage: nginx:1.25\nimage: quay.io/a/b:1\n//- /images/shim/list\ndocker.io/library/nginx:1.25\nqu$0\n");
        let items = shim_completion(f.file.text(), f.offset(), f.facts().unwrap());
        expect![[r#"
            Module quay.io/a/b:1 (manifests/app.yaml:2) -> [qu] quay.io/a/b:1
        "#]].assert_eq(&render(&items, &f.file));
    }
}
