//! The bundled queries compile against the grammar and capture what editors rely on.
//!
//! `tree-sitter test` checks highlights through test/highlight/*; these tests also cover
//! injections, folds and locals, and fail on a query that no longer compiles after a grammar
//! change (a renamed node or field is a compile error for a query).

use tree_sitter::{Language, Node, Parser, Query, QueryCursor, StreamingIterator, Tree};

fn language() -> Language {
    tree_sitter_kubefile::LANGUAGE.into()
}

fn parse(text: &str) -> Tree {
    let mut parser = Parser::new();
    parser.set_language(&language()).unwrap();
    let tree = parser.parse(text, None).unwrap();
    assert!(
        !tree.root_node().has_error(),
        "sample has a syntax error: {}",
        tree.root_node().to_sexp()
    );
    tree
}

fn query(source: &str) -> Query {
    Query::new(&language(), source)
        .unwrap_or_else(|error| panic!("query does not compile: {error}"))
}

/// Every (capture name, node kind, node text) the query produces on `text`, in document order.
fn captures(query_source: &str, text: &str) -> Vec<(String, String, String)> {
    let query = query(query_source);
    let tree = parse(text);
    let mut cursor = QueryCursor::new();
    let mut out = Vec::new();
    let mut matches = cursor.matches(&query, tree.root_node(), text.as_bytes());
    while let Some(m) = matches.next() {
        for capture in m.captures() {
            let node = capture.node;
            out.push((
                query.capture_names()[capture.index as usize].to_string(),
                node.kind().to_string(),
                text[node.byte_range()].to_string(),
            ));
        }
    }
    out
}

fn has(captures: &[(String, String, String)], name: &str, kind: &str, text: &str) -> bool {
    captures
        .iter()
        .any(|(n, k, t)| n == name && k == kind && t == text)
}

#[track_caller]
fn assert_capture(captures: &[(String, String, String)], name: &str, kind: &str, text: &str) {
    assert!(
        has(captures, name, kind, text),
        "no @{name} on {kind} `{text}` in {captures:#?}"
    );
}

#[track_caller]
fn assert_no_capture(captures: &[(String, String, String)], name: &str, text: &str) {
    assert!(
        !captures.iter().any(|(n, _, t)| n == name && t == text),
        "unexpected @{name} on `{text}` in {captures:#?}"
    );
}

const SAMPLE: &str = r#"# syntax=docker/dockerfile:1
FROM --platform=$BUILDPLATFORM golang:1.22 AS build
ARG VERSION=1.0 TARGETARCH
ENV NAME=${NAME:-"nginx"} \
    NAMESPACE=default
LABEL sealos.io.type="application"
# first comment
# second comment
# third comment
COPY --chmod=755 registry registry
RUN apt-get update \
    && apt-get install -y curl
RUN <<EOF
echo $HOME
EOF
COPY <<EOF /etc/motd
hello
EOF
MAINTAINER someone
CMD ["helm upgrade -i $(NAME) -n ${NAMESPACE} $$HOME"]
ENTRYPOINT helm install $(NAME)
HEALTHCHECK CMD curl -f http://localhost/
FORM scratch
"#;

#[test]
fn highlights_capture_keywords_templates_and_errors() {
    let c = captures(tree_sitter_kubefile::HIGHLIGHTS_QUERY, SAMPLE);
    assert_capture(&c, "keyword", "FROM", "FROM");
    assert_capture(&c, "keyword", "AS", "AS");
    assert_capture(&c, "keyword", "CMD", "CMD");
    assert_capture(
        &c,
        "keyword.directive",
        "parser_directive",
        "# syntax=docker/dockerfile:1",
    );
    assert_capture(&c, "comment", "comment", "# first comment");
    assert_capture(&c, "attribute", "flag_name", "platform");
    assert_capture(&c, "string.special", "image_spec", "golang:1.22");
    assert_capture(&c, "label", "image_alias", "build");
    assert_capture(&c, "variable", "key", "VERSION");
    assert_capture(&c, "variable", "arg_name", "TARGETARCH");
    assert_capture(&c, "property", "key", "sealos.io.type");
    assert_capture(&c, "variable", "variable", "BUILDPLATFORM");
    assert_capture(&c, "operator", "expansion_operator", ":-");
    assert_capture(&c, "embedded", "template_variable", "$(NAME)");
    assert_capture(&c, "variable.builtin", "variable", "NAME");
    assert_capture(&c, "string.escape", "template_escape", "$$");
    assert_capture(&c, "string", "heredoc_body", "echo $HOME\n");
    assert_capture(&c, "label", "heredoc_end", "EOF");
    assert_capture(&c, "error", "instruction_name", "FORM");
    assert_no_capture(&c, "error", "FROM");
}

#[test]
fn injections_put_bash_into_shell_form_commands_and_run_heredocs() {
    let query = query(tree_sitter_kubefile::INJECTIONS_QUERY);
    let tree = parse(SAMPLE);
    let content = query
        .capture_index_for_name("injection.content")
        .expect("@injection.content");
    let mut cursor = QueryCursor::new();
    let mut injected = Vec::new();
    let mut matches = cursor.matches(&query, tree.root_node(), SAMPLE.as_bytes());
    while let Some(m) = matches.next() {
        let settings = query.property_settings(m.pattern_index);
        let language = settings
            .iter()
            .find(|p| &*p.key == "injection.language")
            .and_then(|p| p.value.as_deref());
        assert_eq!(
            language,
            Some("bash"),
            "pattern {} injects {language:?}",
            m.pattern_index
        );
        for capture in m.captures().iter().filter(|c| c.index == content) {
            let include_children = settings
                .iter()
                .any(|p| &*p.key == "injection.include-children");
            let node = capture.node;
            injected.push((node.kind(), &SAMPLE[node.byte_range()], include_children));
        }
    }
    let expected = [
        (
            "shell_command",
            "apt-get update \\\n    && apt-get install -y curl",
            true,
        ),
        ("shell_command", "<<EOF", true),
        ("heredoc_body", "echo $HOME\n", false),
        ("shell_command", "helm install $(NAME)", true),
        ("shell_command", "curl -f http://localhost/", true),
    ];
    assert_eq!(injected, expected);
}

#[test]
fn folds_cover_multi_line_instructions_heredocs_and_comment_runs() {
    let query = query(tree_sitter_kubefile::FOLDS_QUERY);
    let tree = parse(SAMPLE);
    let mut cursor = QueryCursor::new();
    // A fold is the span from the first to the last node of one match (a run of comments is one
    // match with several nodes); only spans over more than one line are folds.
    let mut folds = Vec::new();
    let mut matches = cursor.matches(&query, tree.root_node(), SAMPLE.as_bytes());
    while let Some(m) = matches.next() {
        let first: Node = m.captures().first().unwrap().node;
        let last: Node = m.captures().last().unwrap().node;
        let (start, end) = (first.start_position().row, last.end_position().row);
        if end > start {
            folds.push((first.kind(), start, end));
        }
    }
    assert!(folds.contains(&("env_instruction", 3, 4)), "{folds:?}");
    assert!(folds.contains(&("comment", 6, 8)), "{folds:?}");
    assert!(folds.contains(&("run_instruction", 10, 11)), "{folds:?}");
    assert!(folds.contains(&("run_instruction", 12, 14)), "{folds:?}");
    assert!(folds.contains(&("heredoc_block", 13, 14)), "{folds:?}");
    assert!(folds.contains(&("copy_instruction", 15, 17)), "{folds:?}");
    assert!(
        !folds.iter().any(|(kind, ..)| *kind == "from_instruction"),
        "{folds:?}"
    );
}

#[test]
fn locals_define_env_and_arg_keys_and_reference_expansions_and_templates() {
    let c = captures(tree_sitter_kubefile::LOCALS_QUERY, SAMPLE);
    assert_capture(&c, "local.scope", "source_file", SAMPLE);
    assert_capture(&c, "local.definition", "key", "VERSION");
    assert_capture(&c, "local.definition", "arg_name", "TARGETARCH");
    assert_capture(&c, "local.definition", "key", "NAME");
    assert_capture(&c, "local.definition", "key", "NAMESPACE");
    assert_no_capture(&c, "local.definition", "sealos.io.type");
    assert_capture(&c, "local.reference", "variable", "BUILDPLATFORM");
    assert_capture(&c, "local.reference", "variable", "NAMESPACE");
    let name_references = c
        .iter()
        .filter(|(n, k, t)| n == "local.reference" && k == "variable" && t == "NAME")
        .count();
    // ${NAME:-...} in ENV, $(NAME) in CMD and $(NAME) in ENTRYPOINT.
    assert_eq!(name_references, 3, "{c:#?}");
}

#[test]
fn every_query_compiles() {
    for (name, source) in [
        ("highlights", tree_sitter_kubefile::HIGHLIGHTS_QUERY),
        ("injections", tree_sitter_kubefile::INJECTIONS_QUERY),
        ("folds", tree_sitter_kubefile::FOLDS_QUERY),
        ("locals", tree_sitter_kubefile::LOCALS_QUERY),
    ] {
        let query = query(source);
        assert!(query.pattern_count() > 0, "{name} has no patterns");
    }
}
