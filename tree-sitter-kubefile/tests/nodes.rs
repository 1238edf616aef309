//! The text of the nodes the server reads: test/corpus pins node kinds, these pin what they cover.

use tree_sitter::{Node, Parser, Tree};

fn parse(text: &str) -> Tree {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_kubefile::LANGUAGE.into())
        .unwrap();
    let tree = parser.parse(text, None).unwrap();
    assert!(
        !tree.root_node().has_error(),
        "{text:?} has a syntax error: {}",
        tree.root_node().to_sexp()
    );
    tree
}

/// The text of every node of `kind`, in document order.
fn texts<'a>(text: &'a str, kind: &str) -> Vec<&'a str> {
    fn visit<'a>(node: Node, kind: &str, text: &'a str, out: &mut Vec<&'a str>) {
        if node.kind() == kind {
            out.push(&text[node.byte_range()]);
        }
        let mut cursor = node.walk();
        for child in node.children(&mut cursor) {
            visit(child, kind, text, out);
        }
    }
    let tree = parse(text);
    let mut out = Vec::new();
    visit(tree.root_node(), kind, text, &mut out);
    out
}

#[test]
fn expansion_operators_are_whole() {
    let text = "ENV A=${a:-d} B=${a-d} C=${a:+d} D=${a+d} E=${a:?d} F=${a?d} \
                G=${a#d} H=${a##d} I=${a%d} J=${a%%d} K=${a/x/y} L=${a//x/y}\n";
    assert_eq!(
        texts(text, "expansion_operator"),
        [":-", "-", ":+", "+", ":?", "?", "#", "##", "%", "%%", "/", "//"]
    );
    assert_eq!(
        texts(text, "expansion_argument"),
        ["d", "d", "d", "d", "d", "d", "d", "d", "d", "d", "x/y", "x/y"]
    );
    assert_eq!(texts(text, "variable").len(), 12);
}

#[test]
fn templates_name_the_variable_and_keep_dollar_dollar_apart() {
    let text = "CMD [\"helm upgrade -i $(NAME) $(HELM_OPTS) $$HOME ${B} $C\"]\nENTRYPOINT sh $(SCRIPT) $$ $(1) ${D\n";
    assert_eq!(
        texts(text, "template_variable"),
        ["$(NAME)", "$(HELM_OPTS)", "$(SCRIPT)"]
    );
    assert_eq!(texts(text, "template_escape"), ["$$", "$$"]);
    assert_eq!(
        texts(text, "variable"),
        ["NAME", "HELM_OPTS", "B", "C", "SCRIPT"]
    );
}

#[test]
fn heredoc_parts_cover_body_and_delimiter_lines() {
    let text = "RUN <<-EOT cat > /x && <<'B' sh\n\tone\n\tEOT\ntwo\nB\nCOPY <<EOF /y\nEOF\n";
    assert_eq!(texts(text, "heredoc_marker"), ["<<-EOT", "<<'B'", "<<EOF"]);
    assert_eq!(texts(text, "heredoc_body"), ["\tone\n", "two\n"]);
    assert_eq!(texts(text, "heredoc_end"), ["\tEOT", "B", "EOF"]);
}

#[test]
fn flags_keep_their_whole_value() {
    let text = "RUN --mount=type=cache,target=/root/.cache --network=none go build\nCOPY --chown=${U}:$G --link a b\n";
    assert_eq!(
        texts(text, "flag_name"),
        ["mount", "network", "chown", "link"]
    );
    assert_eq!(
        texts(text, "flag_value"),
        ["type=cache,target=/root/.cache", "none", "${U}:$G"]
    );
    assert_eq!(texts(text, "shell_command"), ["go build"]);
}

#[test]
fn pairs_split_at_the_first_equals_sign_and_legacy_values_take_the_rest_of_the_line() {
    let text = "LABEL a=b=c \"q k\"=\"v\"\nENV HOME /root dir\nENV E =f\nARG X Y=1\n";
    assert_eq!(texts(text, "key"), ["a", "\"q k\"", "HOME", "E", "Y"]);
    assert_eq!(
        texts(text, "value"),
        ["b=c", "\"v\"", "/root dir", "=f", "1"]
    );
    assert_eq!(texts(text, "arg_name"), ["X"]);
}

#[test]
fn directives_and_comments_are_whole_lines() {
    let text = "# syntax=docker/dockerfile:1\n# escape=`\n# note\nRUN a `\n  # inside\n  b\n";
    assert_eq!(
        texts(text, "parser_directive"),
        ["# syntax=docker/dockerfile:1", "# escape=`"]
    );
    assert_eq!(texts(text, "comment"), ["# note", "# inside"]);
    assert_eq!(texts(text, "line_continuation"), ["`\n"]);
}

#[test]
fn from_fields() {
    let tree = parse("FROM --platform=$P golang:1.22 AS build\n");
    let from = tree.root_node().child(0).unwrap();
    let text = "FROM --platform=$P golang:1.22 AS build\n";
    assert_eq!(
        &text[from.child_by_field_name("image").unwrap().byte_range()],
        "golang:1.22"
    );
    assert_eq!(
        &text[from.child_by_field_name("as").unwrap().byte_range()],
        "build"
    );
}
