//! Hover: instructions, flags and directives (with what `sealos run` does with them), LABEL keys
//! and values, ENV keys of rootfs images and `SEALOS_SYS*` variables, variables with their value
//! and definition, stages, and the images a `COPY registry ...` ships.

use std::collections::BTreeMap;

use tree_sitter::Node;

use super::{
    copies,
    diagnostics::FileKind,
    docs::{self, DocOptions, Locale},
    lists,
    model::Model,
    navigation::{Index, Occurrence, Role, Scope, SymbolKind},
    variables::{self, Definition, DefinitionKind},
    Config, ContextFacts,
};
use crate::{
    context::reference::registry_path,
    sealos::{docs::phrases, env, labels, ImageType},
    syntax::{ast, fields, NodeField as _, SourceFile, TextRange},
};

#[derive(Clone, Copy, Debug, Default)]
pub struct HoverOptions {
    /// Markdown or plain text (`hover.contentFormat`), and the client's locale.
    pub docs: DocOptions,
    pub kind: Option<FileKind>,
}

impl HoverOptions {
    fn sealos(&self) -> bool {
        self.kind.unwrap_or(FileKind::Kubefile) == FileKind::Kubefile
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hover {
    /// What the hover is about (highlighted by the editor).
    pub range: TextRange,
    /// Markdown or plain text, as asked.
    pub contents: String,
}

/// Hover at byte `offset`.
pub fn hover(file: &SourceFile, offset: usize, facts: Option<&ContextFacts>, config: &Config, opts: &HoverOptions) -> Option<Hover> {
    let model = super::navigation::local_model(file, offset..offset);
    let cx = Cx { file, model: &model, facts, config, opts, locale: opts.docs.locale };
    let (range, markdown) = cx.hover(offset)?;
    Some(Hover { range, contents: opts.docs.render(&markdown) })
}

struct Cx<'a, 't> {
    file: &'t SourceFile,
    model: &'a Model<'t>,
    facts: Option<&'a ContextFacts>,
    config: &'a Config,
    opts: &'a HoverOptions,
    locale: Locale,
}

impl<'t> Cx<'_, 't> {
    fn hover(&self, offset: usize) -> Option<(TextRange, String)> {
        let index = Index::new(self.file, self.model);
        if let Some(occurrence) = index.at(offset).filter(|o| o.kind == SymbolKind::Variable) {
            if let Some(markdown) = self.variable(&index, occurrence) {
                return Some((occurrence.range.clone(), markdown));
            }
        }
        let node = self.file.root().descendant_for_byte_range(offset, offset)?;
        // Prefer the token before the cursor when the cursor sits just after it.
        let node = if node.start_byte() == offset && offset > 0 && node.kind() == "source_file" {
            self.file.root().descendant_for_byte_range(offset - 1, offset - 1)?
        } else {
            node
        };
        self.node(node, offset)
    }

    fn node(&self, node: Node<'t>, offset: usize) -> Option<(TextRange, String)> {
        let mut current = Some(node);
        while let Some(n) = current {
            match n.kind() {
                "parser_directive" => {
                    let text = self.file.node_text(n).trim_start_matches('#');
                    let name = text.split('=').next()?.trim();
                    return docs::directive_markdown(name, self.locale).map(|md| (n.byte_range(), md));
                }
                "comment" | "heredoc_block" | "ERROR" => return None,
                "flag" => {
                    let value = n.field(&fields::VALUE).filter(|v| v.start_byte() <= offset);
                    let is_from = n.field(&fields::NAME).is_some_and(|name| self.file.node_text(name) == "from");
                    if let (Some(value), true) = (value, is_from) {
                        if let Some(markdown) = self.stage(&ast::literal_text(self.file, value), value.start_byte()) {
                            return Some((value.byte_range(), markdown));
                        }
                    }
                    return self.flag(n);
                }
                "image_alias" => {
                    let name = ast::literal_text(self.file, n);
                    return self.stage(&name, n.end_byte() + 1).map(|md| (n.byte_range(), md));
                }
                "key" => return self.label_key(n),
                "value" => {
                    if let Some(found) = self.label_value(n) {
                        return Some(found);
                    }
                }
                "path" | "json_string" => {
                    if let Some(found) = self.copy_source(n) {
                        return Some(found);
                    }
                }
                "image_spec" => {
                    let name = ast::literal_text(self.file, n);
                    if let Some(markdown) = self.stage(&name, n.start_byte()) {
                        return Some((n.byte_range(), markdown));
                    }
                    return self.image(n);
                }
                kind if kind.ends_with("_instruction") => return None,
                _ => {}
            }
            // An instruction keyword (anonymous token) or `AS` / `NONE`.
            if !n.is_named() {
                if let Some(parent) = n.parent().filter(|p| p.kind().ends_with("_instruction")) {
                    let word = self.file.node_text(n);
                    let keyword = match word.to_ascii_uppercase().as_str() {
                        "AS" => "FROM".to_string(),
                        "NONE" => "HEALTHCHECK".to_string(),
                        _ if parent.child(0) == Some(n) => ast::kind_keyword(parent.kind()).to_string(),
                        _ => return None,
                    };
                    let markdown = docs::instruction_markdown(&keyword, self.locale, self.opts.sealos())?;
                    return Some((n.byte_range(), markdown));
                }
            }
            current = n.parent();
        }
        None
    }

    fn flag(&self, flag: Node<'t>) -> Option<(TextRange, String)> {
        let instruction = flag.parent()?;
        let keyword = ast::kind_keyword(instruction.kind());
        let name = self.file.node_text(flag.field(&fields::NAME)?);
        let markdown = docs::flag_markdown(keyword, name, self.locale)?;
        let range = flag.field(&fields::VALUE).map_or(flag.byte_range(), |value| flag.start_byte()..value.start_byte());
        Some((range, markdown))
    }

    fn label_key(&self, key: Node<'t>) -> Option<(TextRange, String)> {
        let pair = key.parent()?;
        if pair.parent()?.kind() != "label_instruction" || !self.opts.sealos() {
            return None;
        }
        let name = ast::literal_text(self.file, key);
        docs::label_markdown(&name, self.locale).map(|md| (key.byte_range(), md))
    }

    fn label_value(&self, value: Node<'t>) -> Option<(TextRange, String)> {
        let pair = value.parent()?;
        if pair.parent()?.kind() != "label_instruction" || !self.opts.sealos() {
            return None;
        }
        let key = ast::literal_text(self.file, pair.field(&fields::KEY)?);
        let known = labels::find(&key)?;
        let literal = ast::literal_text(self.file, value);
        docs::label_value_markdown(known.role, &literal, self.locale)
            .or_else(|| docs::label_markdown(&key, self.locale))
            .map(|md| (value.byte_range(), md))
    }

    fn image(&self, image: Node<'t>) -> Option<(TextRange, String)> {
        let text = ast::literal_text(self.file, image);
        let stage = self.model.stages.iter().find(|stage| stage.from.node.byte_range().contains(&image.start_byte()))?;
        let mut markdown = if stage.is_scratch() {
            match self.locale {
                Locale::En => "**scratch**\n\nAn empty base image: the image holds only what COPY/ADD put in it. The usual start of a Kubefile.".to_string(),
                Locale::ZhCn => "**scratch**\n\n空的基础镜像：镜像中只有 COPY/ADD 放入的内容。Kubefile 的常见开头。".to_string(),
            }
        } else {
            format!("**{}** `{text}`", phrases::BASE_IMAGE.get(self.locale))
        };
        if self.opts.sealos() && stage.inherits_rootfs() {
            markdown.push_str(match self.locale {
                Locale::En => "\n\nA sealos rootfs image: without its own `sealos.io.type` label this image inherits type **rootfs**, every bootstrap label and the rootfs ENV.",
                Locale::ZhCn => "\n\nsealos rootfs 镜像：如果不声明自己的 `sealos.io.type` 标签，本镜像会继承 **rootfs** 类型、全部引导标签和 rootfs 的 ENV。",
            });
        }
        Some((image.byte_range(), markdown))
    }

    /// A COPY source that ships `registry/`: the images `sealos build` saves, by source file.
    fn copy_source(&self, node: Node<'t>) -> Option<(TextRange, String)> {
        if !self.opts.sealos() {
            return None;
        }
        let copies = copies::context_copies(self.model);
        let copy = copies.iter().find(|copy| copy.instruction.node.byte_range().contains(&node.start_byte()))?;
        let source = copy.sources.iter().find(|source| source.node == node)?;
        let path = source.path.as_deref()?;
        if path != "registry" && !(path == "." && copy.ships_registry()) {
            return None;
        }
        Some((node.byte_range(), self.images_markdown()))
    }

    fn images_markdown(&self) -> String {
        let Some(facts) = self.facts else { return phrases::UNKNOWN_CONTEXT.get(self.locale).to_string() };
        images_markdown(facts, self.locale, 40)
    }

    /// A stage declared before `before`, by name or index.
    fn stage(&self, name: &str, before: usize) -> Option<String> {
        let froms = super::navigation::from_instructions(self.file, 0..self.file.text().len());
        let name = name.to_ascii_lowercase();
        let alias = |from: &Node<'_>| from.field(&fields::AS).map(|a| ast::literal_text(self.file, a).to_ascii_lowercase());
        let stage_index = match name.parse::<usize>() {
            Ok(n) => n,
            Err(_) => froms.iter().position(|from| from.start_byte() < before && alias(from).as_deref() == Some(name.as_str()))?,
        };
        let from = froms.get(stage_index)?;
        let base = from.field(&fields::IMAGE).map_or_else(String::new, |n| ast::literal_text(self.file, n));
        let label = alias(from).unwrap_or_else(|| stage_index.to_string());
        let mut markdown = format!("**{} `{label}`** ({stage_index})\n\n`FROM {base}`", phrases::STAGE.get(self.locale));
        if stage_index + 1 == froms.len() {
            markdown.push_str("\n\n");
            markdown.push_str(phrases::FINAL_STAGE.get(self.locale));
        }
        Some(markdown)
    }

    fn variable(&self, index: &Index, occurrence: &Occurrence) -> Option<String> {
        let name = occurrence.name.as_str();
        let stage = match occurrence.scope {
            Scope::Stage(n) => self.model.stages.get(n),
            Scope::Global => None,
        };
        let definition = index.definitions(occurrence).into_iter().next();
        let is_final = matches!(occurrence.scope, Scope::Stage(n) if n + 1 == self.model.stages.len());
        let (image_type, _) = self.model.image_type();
        let rootfs_env = is_final && matches!(image_type, Some(ImageType::Rootfs | ImageType::Patch));

        // The value at this point.
        let value: Option<String> = if occurrence.role == Role::Definition {
            self.definition_value(stage, occurrence)
        } else if occurrence.run_time {
            let env = stage
                .map(|stage| variables::stage_definitions(self.model, stage, None, &variables::global_args(self.model)))
                .unwrap_or_default();
            env.iter().rev().find(|def| def.kind == DefinitionKind::Env && def.name == name).and_then(|def| def.value.clone())
        } else {
            self.build_time_value(occurrence)
        };

        let mut markdown = format!("**`{name}`**");
        let kind = definition.map(|def| if def.instruction == "ARG" { "ARG" } else { "ENV" });
        if let Some(kind) = kind {
            markdown.push_str(&format!(" ({kind})"));
        }
        match &value {
            Some(value) if value.is_empty() => markdown.push_str(" = `\"\"`"),
            Some(value) => markdown.push_str(&format!(" = `{}`", code(value))),
            None => {}
        }
        if let Some((expression, result)) = self.modified_expansion(occurrence) {
            markdown.push_str(&format!("\n\n`{}` → `{}`", code(&expression), code(&result)));
        }
        if let Some(def) = definition.filter(|def| def.range != occurrence.range) {
            let line = self.file.line_index().line_of(def.range.start) + 1;
            let text = format!("{} {}", def.instruction, first_line(&self.file.text()[def.full_range.clone()]));
            markdown.push_str("\n\n");
            markdown.push_str(&docs::defined_at(line, &text, self.locale));
        } else if definition.is_none() {
            if rootfs_env && env::rootfs_key(name).is_some() || env::BUILTINS.contains(&name) {
                // Documented below.
            } else if env::PREDEFINED_ARGS.contains(&name) {
                markdown.push_str(match self.locale {
                    Locale::En => "\n\nPredefined by BuildKit.",
                    Locale::ZhCn => "\n\n由 BuildKit 预定义。",
                });
            } else if self.config.known_variables.iter().any(|known| known == name) {
                markdown.push_str(match self.locale {
                    Locale::En => "\n\nProvided outside the Kubefile (`knownVariables` setting).",
                    Locale::ZhCn => "\n\n由 Kubefile 之外提供（`knownVariables` 设置）。",
                });
            } else {
                markdown.push_str(&format!("\n\n{}.", phrases::UNDEFINED.get(self.locale)));
            }
        }
        // What sealos does with it.
        if self.opts.sealos() {
            let is_env = kind == Some("ENV") || (definition.is_none() && occurrence.run_time);
            if kind == Some("ARG") && occurrence.run_time {
                markdown.push_str("\n\n");
                markdown.push_str(phrases::NOT_IN_IMAGE.get(self.locale));
            } else if is_final && is_env && definition.is_some() && !name.starts_with(env::SYSTEM_PREFIX) {
                let uses = if occurrence.role == Role::Definition {
                    index.related(occurrence).into_iter().filter(|o| o.run_time).count()
                } else {
                    0
                };
                markdown.push_str(&match self.locale {
                    Locale::En => format!(
                        "\n\n**At `sealos run`:** exported before CMD/ENTRYPOINT run and used to render `.tmpl` files; override with `sealos run -e {name}=...`.{}",
                        if uses > 0 { format!(" Used {uses}× in CMD/ENTRYPOINT.") } else { String::new() }
                    ),
                    Locale::ZhCn => format!(
                        "\n\n**`sealos run` 时：**在执行 CMD/ENTRYPOINT 之前导出，也用于渲染 `.tmpl` 文件；可用 `sealos run -e {name}=...` 覆盖。{}",
                        if uses > 0 { format!("在 CMD/ENTRYPOINT 中被引用 {uses} 次。") } else { String::new() }
                    ),
                });
            }
            if let Some(doc) = docs::env_markdown(name, self.locale) {
                // Skip the title line of the env docs (the name is already shown).
                let body = doc.split_once("\n\n").map_or(doc.as_str(), |(_, body)| body);
                markdown.push_str("\n\n");
                markdown.push_str(body);
            }
        }
        Some(markdown)
    }

    fn definition_value(&self, stage: Option<&super::model::Stage<'t>>, occurrence: &Occurrence) -> Option<String> {
        let global = variables::global_args(self.model);
        let defs: Vec<Definition<'t>> = match stage {
            Some(stage) => variables::stage_definitions(self.model, stage, None, &global),
            None => global,
        };
        defs.into_iter().find(|def| def.key_node.byte_range() == occurrence.range).and_then(|def| def.value)
    }

    /// `${V%.*}` → its value, when the use has a modifier.
    fn modified_expansion(&self, occurrence: &Occurrence) -> Option<(String, String)> {
        if occurrence.role != Role::Read || occurrence.run_time {
            return None;
        }
        let node = self.file.root().descendant_for_byte_range(occurrence.full_range.start, occurrence.full_range.end)?;
        if node.kind() != "expansion" || node.field(&fields::OPERATOR).is_none() {
            return None;
        }
        let visible = if occurrence.instruction == "FROM" {
            variables::global_args(self.model)
        } else {
            variables::visible_at(self.model, occurrence.instruction_start)
        };
        Some((self.file.node_text(node).to_string(), variables::expand(self.model, node, &visible)))
    }

    fn build_time_value(&self, occurrence: &Occurrence) -> Option<String> {
        let visible = if occurrence.instruction == "FROM" {
            variables::global_args(self.model)
        } else {
            variables::visible_at(self.model, occurrence.instruction_start)
        };
        visible.iter().rev().find(|def| def.name == occurrence.name).map(|def| def.value.clone().unwrap_or_default())
    }
}

/// Hover on a line of an `images/shim` list whose path in the context is `list`: where `sealos
/// build` pulls the image from and where it stores it in `registry/`, and the other places of the
/// context that name it. `None` off an image line and for a name sealos cannot save (its
/// `invalid-image-reference` diagnostic says why).
pub fn shim_hover(text: &str, offset: usize, list: &str, facts: Option<&ContextFacts>, opts: &HoverOptions) -> Option<Hover> {
    let (range, image, line) = lists::shim_image_at(text, offset)?;
    let saved = registry_path(image).ok()?;
    let locale = opts.docs.locale;
    let mut markdown = format!(
        "**`{}`**\n\n{}",
        code(image),
        phrases::SAVED_AS.get(locale).replace("{pulled}", &code(&saved.pulled_from)).replace("{path}", &code(&saved.path))
    );
    let elsewhere: Vec<String> = facts
        .map_or(&[][..], |facts| &facts.images[..])
        .iter()
        .filter(|other| !(other.file == list && other.line == line))
        .filter(|other| registry_path(&other.image).is_ok_and(|path| path.pulled_from == saved.pulled_from))
        .map(|other| format!("`{}:{}`", other.file, other.line))
        .collect();
    if !elsewhere.is_empty() {
        markdown.push_str(&format!("\n\n{}: {}", phrases::ALSO_NAMED_IN.get(locale), elsewhere.join(", ")));
    }
    Some(Hover { range, contents: opts.docs.render(&markdown) })
}

/// The images `sealos build` will save into `registry/`, grouped by the file that names them.
pub(crate) fn images_markdown(facts: &ContextFacts, locale: Locale, limit: usize) -> String {
    if facts.images.is_empty() {
        return phrases::NO_IMAGES.get(locale).to_string();
    }
    let mut by_file: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut distinct = std::collections::BTreeSet::new();
    for image in &facts.images {
        distinct.insert(image.image.as_str());
        let list = by_file.entry(image.file.as_str()).or_default();
        if !list.contains(&image.image.as_str()) {
            list.push(image.image.as_str());
        }
    }
    let mut markdown = format!("**{}**", docs::images_saved(distinct.len(), locale));
    let mut shown = 0;
    let total: usize = by_file.values().map(Vec::len).sum();
    for (file, images) in &by_file {
        if shown >= limit {
            break;
        }
        markdown.push_str(&format!("\n\n`{file}`"));
        for image in images {
            if shown >= limit {
                break;
            }
            markdown.push_str(&format!("\n- `{image}`"));
            shown += 1;
        }
    }
    if shown < total {
        markdown.push_str(&format!("\n\n…{}", phrases::AND_MORE.get(locale).replace("{n}", &(total - shown).to_string())));
    }
    markdown
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim_end();
    let line = line.strip_suffix('\\').unwrap_or(line).trim_end();
    if line.chars().count() > 80 {
        format!("{}…", line.chars().take(79).collect::<String>())
    } else {
        line.to_string()
    }
}

/// Text safe inside a Markdown code span.
fn code(text: &str) -> String {
    text.replace('`', "'").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use super::*;
    use crate::analysis::{docs::Markup, fixture};

    fn check_with(fixture: &str, opts: &HoverOptions, expect: Expect) {
        let f = fixture::parse(fixture);
        let out = match hover(&f.file, f.offset(), f.facts(), &Config::default(), opts) {
            Some(hover) => format!("[{}]\n{}\n", fixture::slice(&f.file, &hover.range), hover.contents),
            None => "no hover\n".to_string(),
        };
        expect.assert_eq(&out);
    }

    fn check(fixture: &str, expect: Expect) {
        check_with(fixture, &HoverOptions::default(), expect);
    }

    fn zh_plain() -> HoverOptions {
        HoverOptions { docs: DocOptions::new(Markup::PlainText, Locale::ZhCn), kind: None }
    }

    #[test]
    fn template_variable_resolves_through_self_default() {
        check(
            "FROM scratch\nENV NAME=${NAME:-\"nginx\"}\nCMD [\"helm upgrade -i $(NA$0ME) charts/x\"]\n",
            expect![[r#"
                [NAME]
                **`NAME`** (ENV) = `nginx`

                Defined at line 2: `ENV NAME=${NAME:-"nginx"}`

                **At `sealos run`:** exported before CMD/ENTRYPOINT run and used to render `.tmpl` files; override with `sealos run -e NAME=...`.
            "#]],
        );
    }

    #[test]
    fn template_variable_in_chinese_plain_text() {
        check_with("FROM scratch\nENV NAME=${NAME:-\"nginx\"}\nCMD [\"helm upgrade -i $(NA$0ME) charts/x\"]\n", &zh_plain(), expect![[r#"
            [NAME]
            NAME (ENV) = nginx

            定义于第 2 行：ENV NAME=${NAME:-"nginx"}

            sealos run 时：在执行 CMD/ENTRYPOINT 之前导出，也用于渲染 .tmpl 文件；可用 sealos run -e NAME=... 覆盖。
        "#]]);
    }

    #[test]
    fn env_definition_counts_cmd_uses() {
        check("FROM scratch\nENV NA$0ME=nginx\nCMD [\"helm upgrade -i $(NAME) $(NAME)\"]\n", expect![[r#"
            [NAME]
            **`NAME`** (ENV) = `nginx`

            **At `sealos run`:** exported before CMD/ENTRYPOINT run and used to render `.tmpl` files; override with `sealos run -e NAME=...`. Used 2× in CMD/ENTRYPOINT.
        "#]]);
    }

    #[test]
    fn build_time_variable_with_modifier() {
        check("FROM scratch\nARG V=1.0\nENV TAG=v${V:-latest} OTHER=${MISS$0ING:-def}\n", expect![[r#"
            [MISSING]
            **`MISSING`**

            `${MISSING:-def}` → `def`

            Not defined in this file.
        "#]]);
        check("FROM scratch\nARG V=1.0\nLABEL x=${V$0%.*}\n", expect![[r#"
            [V]
            **`V`** (ARG) = `1.0`

            `${V%.*}` → `1`

            Defined at line 2: `ARG V=1.0`
        "#]]);
    }

    #[test]
    fn arg_in_cmd_is_not_in_the_image() {
        check("FROM scratch\nARG VERSION=1\nCMD $(VERSI$0ON)\n", expect![[r#"
            [VERSION]
            **`VERSION`** (ARG)

            Defined at line 2: `ARG VERSION=1`

            ARG values are not part of the image: `sealos run` cannot see them.
        "#]]);
    }

    #[test]
    fn rootfs_key_and_builtin_in_rootfs_cmd() {
        check("FROM scratch\nLABEL sealos.io.type=rootfs\nCMD [\"echo $(registryDo$0main)\"]\n", expect![[r#"
            [registryDomain]
            **`registryDomain`**

            Host name of the cluster registry (`sealos.hub`). Nodes pull saved images as `<registryDomain>:<registryPort>/<repo>:<tag>`.

            Default in the official rootfs images: `sealos.hub`
        "#]]);
        check("FROM scratch\nLABEL sealos.io.type=rootfs\nCMD [\"echo $(SEALOS_SYS_KUBE_VER$0SION)\"]\n", expect![[r#"
            [SEALOS_SYS_KUBE_VERSION]
            **`SEALOS_SYS_KUBE_VERSION`**

            Set by sealos at `sealos run` to the rootfs `version` label, for rootfs images (and the remote render of patch images). Application images do not receive it; a Kubefile ENV with this name is overwritten.
        "#]]);
    }

    #[test]
    fn undefined_variable() {
        check("FROM scratch\nCMD [\"echo $(NOP$0E)\"]\n", expect![[r#"
            [NOPE]
            **`NOPE`**

            Not defined in this file.
        "#]]);
    }

    #[test]
    fn instruction_keywords() {
        check("FROM scratch\nWORK$0DIR /x\n", expect![[r#"
            [WORKDIR]
            **WORKDIR**

            Sets the working directory for the following RUN, CMD, ENTRYPOINT, COPY and ADD: relative COPY destinations are resolved against it.

            **At `sealos run`:** No effect: commands always run in the directory the image was copied to (the application workdir on master0, or the rootfs directory). WORKDIR only moves where COPY puts files inside the image, which can push `registry/` away from the image root.
        "#]]);
        check_with("FROM scratch\nWORK$0DIR /x\n", &zh_plain(), expect![[r#"
            [WORKDIR]
            WORKDIR

            为后续的 RUN、CMD、ENTRYPOINT、COPY 和 ADD 设置工作目录：相对的 COPY 目标路径以它为基准。

            sealos run 时： 无效：命令总是在镜像被复制到的目录中执行（master0 上的 application 工作目录，或 rootfs 目录）。WORKDIR 只会改变 COPY 在镜像内的落点，可能让 registry/ 离开镜像根目录。
        "#]]);
        check_with(
            "FROM scratch\nWORK$0DIR /x\n",
            &HoverOptions { kind: Some(FileKind::Dockerfile), ..HoverOptions::default() },
            expect![[r#"
                [WORKDIR]
                **WORKDIR**

                Sets the working directory for the following RUN, CMD, ENTRYPOINT, COPY and ADD: relative COPY destinations are resolved against it.
            "#]],
        );
        check("FROM scratch\nonbuild co$0py a b\n", expect![[r#"
            [copy]
            **COPY**

            Copies files from the build context (or from another stage with `--from`) into the image: `COPY <src>... <dest>`. Relative destinations are resolved against WORKDIR.

            **At `sealos run`:** `COPY registry registry` ships the images `sealos build` saved into `registry/` (from `charts/`, `manifests/`, `images/shim/` and `images/skopeo/tar.txt`); without it they are pulled but not shipped. `registry/` must be at the image root. Application images are copied to `/var/lib/sealos/data/<cluster>/applications/<name>/workdir` on master0; rootfs and patch images to the rootfs directory of every node.
        "#]]);
    }

    #[test]
    fn flags_and_directives() {
        check("FROM alpine AS a\nFROM scratch\nCOPY --fr$0om=a /x /x\n", expect![[r#"
            [--from=]
            `--from=<stage|image|context>`

            Copies from an earlier build stage (by name or index), an image, or a named build context instead of the build context. Files from other stages are not checked against the context.
        "#]]);
        check("# esc$0ape=`\nFROM scratch\n", expect![[r#"
            [# escape=`]
            **# escape=**

            Sets the escape and line-continuation character: `\` (default) or `` ` `` (handy on Windows paths).
        "#]]);
    }

    #[test]
    fn label_keys_and_values() {
        check("FROM scratch\nLABEL sealos.io.ty$0pe=\"patch\"\n", expect![[r#"
            [sealos.io.type]
            **LABEL sealos.io.type**

            The image type, read at `sealos run` (case-sensitive): `rootfs` (the cluster's base: Kubernetes binaries, bootstrap scripts and registry), `application` (installed on master0; the default when the label is missing) or `patch` (overlaid onto the rootfs of every node). Any other value makes sealos skip the image's files and CMD; only its `registry/` is synced.
        "#]]);
        check("FROM scratch\nLABEL sealos.io.type=\"pat$0ch\"\n", expect![[r#"
            ["patch"]
            **Image type: `patch`**

            A patch image: overlaid onto the rootfs directory of every node (it can replace rootfs scripts and binaries), templates are rendered with the rootfs ENV, and its CMD runs on every node in the rootfs directory.
        "#]]);
        check("FROM scratch\nLABEL sealos.io.type=rootfs in$0it-registry=\"x.sh\"\n", expect![[r#"
            [init-registry]
            **LABEL init-registry**

            Starts the image registry on registry hosts, after `<rootfs>/registry` is linked to `registryData`. Default: `bash init-registry.sh`.

            A bootstrap step of a **rootfs** image: sealos runs `bash <value>` after `cd <rootfs>/scripts`, with the rootfs ENV exported. Write `\$registryDomain` to let the node's shell expand a variable. Bootstrap labels merge across every image of the cluster and the last one wins, so application and patch images must not set them.
        "#]]);
        check("FROM scratch\nLABEL org.opencontainers.image.ti$0tle=x\n", expect![[r#"
            no hover
        "#]]);
    }

    #[test]
    fn rootfs_env_key_definition() {
        check("FROM scratch\nLABEL sealos.io.type=rootfs\nENV criDa$0ta=/var/lib/containerd\n", expect![[r#"
            [criData]
            **`criData`** (ENV) = `/var/lib/containerd`

            **At `sealos run`:** exported before CMD/ENTRYPOINT run and used to render `.tmpl` files; override with `sealos run -e criData=...`.

            Data directory of the container runtime (`/var/lib/containerd`, `/var/lib/docker` or `/var/lib/crio` in the official images). Used by the CRI config templates and the `clean` label.

            Default in the official rootfs images: `/var/lib/containerd`
        "#]]);
    }

    #[test]
    fn stages() {
        check("FROM alpine:3 AS build\nFROM scratch\nCOPY --from=bu$0ild /a /a\n", expect![[r#"
            [build]
            **Build stage `build`** (0)

            `FROM alpine:3`
        "#]]);
        check("FROM scra$0tch\n", expect![[r#"
            [scratch]
            **scratch**

            An empty base image: the image holds only what COPY/ADD put in it. The usual start of a Kubefile.
        "#]]);
        check("FROM labring/kuber$0netes:v1.27.7\n", expect![[r#"
            [labring/kubernetes:v1.27.7]
            **base image** `labring/kubernetes:v1.27.7`

            A sealos rootfs image: without its own `sealos.io.type` label this image inherits type **rootfs**, every bootstrap label and the rootfs ENV.
        "#]]);
    }

    #[test]
    fn middle_stage_variable_and_stage_reference() {
        let mut text = String::new();
        for i in 0..20 {
            text.push_str(&format!("FROM alpine AS s{i}\nENV X=v{i}\nRUN echo $X\n"));
        }
        text.push_str("FROM scratch\nCOPY --from=s3 /a /a\nENV X=final\nCMD $(X)\n");
        let file = SourceFile::parse(&text);
        let at = text.find("X=v7").unwrap();
        let found = hover(&file, at, None, &Config::default(), &HoverOptions::default()).unwrap();
        assert!(found.contents.starts_with("**`X`** (ENV) = `v7`"), "{}", found.contents);
        let at = text.find("--from=s3").unwrap() + "--from=s".len();
        let found = hover(&file, at, None, &Config::default(), &HoverOptions::default()).unwrap();
        assert_eq!(found.contents, "**Build stage `s3`** (3)\n\n`FROM alpine`");
        let at = text.find("$(X)").unwrap() + 3;
        let found = hover(&file, at, None, &Config::default(), &HoverOptions::default()).unwrap();
        assert!(found.contents.starts_with("**`X`** (ENV) = `final`"), "{}", found.contents);
    }

    #[test]
    fn copy_registry_lists_images_by_file() {
        check(
            "//- /Kubefile\nFROM scratch\nCOPY regi$0stry registry\n//- /manifests/app.yaml\nimage: nginx:1.25\nimage: quay.io/a/b:1\n//- /images/shim/list\nghcr.io/x/y:2\nnginx:1.25\n",
            expect![[r#"
                [registry]
                **4 images will be saved into `registry/`**

                `images/shim/list`
                - `ghcr.io/x/y:2`
                - `nginx:1.25`

                `manifests/app.yaml`
                - `docker.io/library/nginx:1.25`
                - `quay.io/a/b:1`
            "#]],
        );
        check("//- /Kubefile\nFROM scratch\nCOPY regi$0stry registry\n//- /charts/\n", expect![[r#"
            [registry]
            No image source (`charts/`, `manifests/`, `images/shim/`, `images/skopeo/tar.txt`) lists an image: `sealos build` will not create `registry/` and this COPY fails.
        "#]]);
        check("FROM scratch\nCOPY regi$0stry registry\n", expect![[r#"
            [registry]
            The build context is not known (unsaved file): the images cannot be listed.
        "#]]);
        check("//- /Kubefile\nFROM scratch\nCOPY cha$0rts charts\n//- /charts/\n", expect![[r#"
            no hover
        "#]]);
    }

    fn check_shim(fixture: &str, expect: Expect) {
        let f = fixture::parse(fixture);
        let out = match shim_hover(f.file.text(), f.offset(), "images/shim/list", f.facts(), &HoverOptions::default()) {
            Some(hover) => format!("[{}]\n{}\n", fixture::slice(&f.file, &hover.range), hover.contents),
            None => "no hover\n".to_string(),
        };
        expect.assert_eq(&out);
    }

    #[test]
    fn shim_list_lines_say_where_sealos_gets_the_image_and_where_it_stores_it() {
        let context = "//- /Kubefile\nFROM scratch\n//- /manifests/app.yaml\nimage: docker.io/library/nginx:1.25\n";
        check_shim(&format!("{context}//- /images/shim/list\n# web\n  \"ngi$0nx:1.25\"\nquay.io/a/b:1\n"), expect![[r#"
            [nginx:1.25]
            **`nginx:1.25`**

            `sealos build` pulls `docker.io/library/nginx:1.25` and saves it into `registry/` as `library/nginx:1.25`.

            Also named in: `manifests/app.yaml:1`
        "#]]);
        check_shim(&format!("{context}//- /images/shim/list\nnginx:1.25\nquay.io/a/$0b:1\n"), expect![[r#"
            [quay.io/a/b:1]
            **`quay.io/a/b:1`**

            `sealos build` pulls `quay.io/a/b:1` and saves it into `registry/` as `a/b:1`.
        "#]]);
        check_shim(&format!("{context}//- /images/shim/list\n# w$0eb\nnginx:1.25\n"), expect![[r#"
            no hover
        "#]]);
        check_shim(&format!("{context}//- /images/shim/list\nNgi$0nx:1.25\n"), expect![[r#"
            no hover
        "#]]);
        check_shim("nginx:1$0.25\n", expect![[r#"
            [nginx:1.25]
            **`nginx:1.25`**

            `sealos build` pulls `docker.io/library/nginx:1.25` and saves it into `registry/` as `library/nginx:1.25`.
        "#]]);
    }
}
