//! Node kind ids of the grammar, resolved once, for walks that compare a node's `kind_id()`
//! (an integer compare) instead of its name.

/// The id of the named node kind `name`. tree-sitter gives every node the canonical id of its
/// name, so one id per name is enough.
pub fn kind_id(name: &str) -> u16 {
    let id = super::language().id_for_node_kind(name, true);
    debug_assert!(id != 0, "the grammar has no node kind {name}");
    id
}

/// The kind ids whole-document walks (symbols, folding, formatting, semantic tokens) compare.
pub struct KindIds {
    /// Indexed by kind id: the node is an instruction (`*_instruction`).
    instruction: Vec<bool>,
    pub comment: u16,
    pub parser_directive: u16,
    pub from_instruction: u16,
    pub run_instruction: u16,
    pub copy_instruction: u16,
    pub add_instruction: u16,
    pub env_instruction: u16,
    pub label_instruction: u16,
    pub arg_instruction: u16,
    pub onbuild_instruction: u16,
    pub maintainer_instruction: u16,
    pub heredoc_block: u16,
    pub key_value_pair: u16,
    pub key: u16,
    pub value: u16,
    pub arg_name: u16,
    pub expansion: u16,
    pub template_variable: u16,
}

impl KindIds {
    pub fn get() -> &'static KindIds {
        static IDS: std::sync::OnceLock<KindIds> = std::sync::OnceLock::new();
        IDS.get_or_init(|| {
            let language = super::language();
            let instruction = (0..language.node_kind_count())
                .map(|id| {
                    u16::try_from(id)
                        .ok()
                        .and_then(|id| language.node_kind_for_id(id).filter(|_| language.node_kind_is_named(id)))
                        .is_some_and(|name| name.ends_with("_instruction"))
                })
                .collect();
            KindIds {
                instruction,
                comment: kind_id("comment"),
                parser_directive: kind_id("parser_directive"),
                from_instruction: kind_id("from_instruction"),
                run_instruction: kind_id("run_instruction"),
                copy_instruction: kind_id("copy_instruction"),
                add_instruction: kind_id("add_instruction"),
                env_instruction: kind_id("env_instruction"),
                label_instruction: kind_id("label_instruction"),
                arg_instruction: kind_id("arg_instruction"),
                onbuild_instruction: kind_id("onbuild_instruction"),
                maintainer_instruction: kind_id("maintainer_instruction"),
                heredoc_block: kind_id("heredoc_block"),
                key_value_pair: kind_id("key_value_pair"),
                key: kind_id("key"),
                value: kind_id("value"),
                arg_name: kind_id("arg_name"),
                expansion: kind_id("expansion"),
                template_variable: kind_id("template_variable"),
            }
        })
    }

    /// Whether a node of kind `id` is an instruction.
    pub fn is_instruction(&self, id: u16) -> bool {
        self.instruction.get(usize::from(id)).copied().unwrap_or(false)
    }
}
