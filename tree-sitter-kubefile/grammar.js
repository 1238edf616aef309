/**
 * @file Kubefile grammar for tree-sitter
 * @license Apache-2.0
 *
 * A Kubefile is a Dockerfile read by `sealos build` (buildah/imagebuilder, BuildKit parsing rules)
 * whose CMD and ENTRYPOINT carry Sealos `$(VAR)` templates. The grammar accepts everything BuildKit
 * accepts; what BuildKit rejects later (wrong arity, unknown flags) is left to diagnostics, so the
 * tree stays usable while a file is half typed.
 *
 * Every instruction's arguments are optional for the same reason: `COPY` typed alone is a
 * copy_instruction with no paths (completion needs to know where it is), not an ERROR that hides
 * which instruction it was. Arity belongs to diagnostics.
 *
 * Newlines are significant: an instruction ends at a newline that is not escaped. The external
 * scanner (src/scanner.c) owns everything that depends on the `# escape=` directive or on what
 * came before: line continuations, comments and directives at line starts, heredocs, the JSON
 * exec form check, and escape sequences.
 */

/// <reference types="tree-sitter-cli/dsl" />
// @ts-check

const NAME = /[A-Za-z_][A-Za-z0-9_]*/;

// Shell text in RUN and friends, built so that a heredoc can only start where BuildKit looks for
// one: at the start of a whitespace-separated word (`cat <<EOF`, `cat 3<<EOF`, never `cat<<EOF`),
// and never inside a quoted string that closes on the same line. A chunk is one character or one
// quoted string; a token never ends with blanks, and never with a separate all-digit word, so the
// scanner sees the blanks before `<<` and the fd digits in front of it.
const SHELL_CHUNK = '[^\\s\\\\`<"\']|"[^"\\\\`\\n]*"|\'[^\'\\n]*\'|["\']';
const SHELL_CHUNK_NOT_DIGIT = '[^\\s\\\\`<"\'0-9]|"[^"\\\\`\\n]*"|\'[^\'\\n]*\'|["\']';
const SHELL_BLANKS = '[ \\t\\r\\f\\v]+';
const SHELL_TEXT = new RegExp(
  `(${SHELL_CHUNK})+((${SHELL_BLANKS}(${SHELL_CHUNK})+)*${SHELL_BLANKS}[0-9]*(${SHELL_CHUNK_NOT_DIGIT})(${SHELL_CHUNK})*)?`,
);

/** Case-insensitive keyword, shown in the tree as its upper-case spelling. */
function keyword(word) {
  const pattern = word
    .split('')
    .map((c) => `[${c.toLowerCase()}${c.toUpperCase()}]`)
    .join('');
  return alias(token(prec(2, new RegExp(pattern))), word);
}

function commaSep(rule) {
  return optional(seq(rule, repeat(seq(',', rule))));
}

module.exports = grammar({
  name: 'kubefile',

  extras: ($) => [/[ \t\r]/, $.line_continuation, $.comment, $.parser_directive, $._continuation_newline],

  externals: ($) => [
    $.line_continuation,
    $.comment,
    $.parser_directive,
    $._continuation_newline,
    $._newline,
    $._paragraph_break,
    $._json_start,
    $.heredoc_marker,
    $._heredoc_newline,
    $.heredoc_body,
    $.heredoc_end,
    $.escape_sequence,
    $._literal_escape,
    $._immediate_escape_sequence,
    $._immediate_literal_escape,
    $._template_start,
    $._literal_dollar,
    $._error_sentinel,
  ],

  conflicts: ($) => [],

  // Hidden helpers that only group choices: inlined so that they cost no reductions or tree nodes.
  inline: ($) => [
    $._instruction,
    $._line,
    $._pairs,
    $._sealos_command,
    $._command_with_heredocs,
    $._paths_or_heredocs,
    $._exec_form,
    $._double_quoted_part,
    $._simple_expansion,
    $._braced_expansion,
    $._braced_expansion_body,
    $._immediate_word_parts,
    $._word,
    $._heredoc_blocks,
    $._words,
  ],

  rules: {
    // Blank lines split the file into paragraphs, hidden so that the root's children are the
    // instructions either way. An incremental parse reuses each paragraph an edit did not touch
    // as one subtree; as items of one long repeat, every top-level instruction was re-shifted and
    // rebalanced on every keystroke (tree-sitter never reuses a repeat's inner nodes: they are
    // "fragile"). For the reuse to happen, the break (the newline token that took blank lines
    // along) ends its paragraph, so that every paragraph starts in the same parse state, and a
    // paragraph's first line stays out of the repeat of the lines after it, since a node whose
    // first or last child is fragile is fragile too. The lines after the last break have the
    // same shape, so the parser never has to guess which of the two it is in.
    source_file: ($) =>
      seq(
        repeat($._paragraph),
        optional(choice(seq($._line, repeat($._line), optional($._instruction)), $._instruction)),
      ),

    _paragraph: ($) =>
      seq(optional(seq($._line, repeat($._line))), optional($._instruction), $._paragraph_break),

    _line: ($) => choice(seq($._instruction, $._newline), $._newline),

    _instruction: ($) =>
      choice(
        $.from_instruction,
        $.run_instruction,
        $.cmd_instruction,
        $.label_instruction,
        $.maintainer_instruction,
        $.expose_instruction,
        $.env_instruction,
        $.add_instruction,
        $.copy_instruction,
        $.entrypoint_instruction,
        $.volume_instruction,
        $.user_instruction,
        $.workdir_instruction,
        $.arg_instruction,
        $.onbuild_instruction,
        $.stopsignal_instruction,
        $.healthcheck_instruction,
        $.shell_instruction,
        $.unknown_instruction,
      ),

    unknown_instruction: ($) =>
      seq(field('name', alias($._instruction_word, $.instruction_name)), optional($.shell_command)),

    from_instruction: ($) =>
      seq(
        keyword('FROM'),
        repeat($.flag),
        optional(
          seq(field('image', $.image_spec), optional(seq(keyword('AS'), optional(field('as', $.image_alias))))),
        ),
      ),

    image_spec: ($) => $._word,
    image_alias: ($) => $._word,

    run_instruction: ($) => seq(keyword('RUN'), repeat($.flag), optional($._command_with_heredocs)),

    _command_with_heredocs: ($) =>
      seq(choice($._exec_form, $.shell_command), optional($._heredoc_blocks)),

    _heredoc_blocks: ($) => repeat1(seq($._heredoc_newline, $.heredoc_block)),

    heredoc_block: ($) => seq(optional($.heredoc_body), $.heredoc_end),

    cmd_instruction: ($) => seq(keyword('CMD'), optional($._sealos_command)),
    entrypoint_instruction: ($) => seq(keyword('ENTRYPOINT'), optional($._sealos_command)),

    // CMD and ENTRYPOINT run at `sealos run`, where $(VAR), ${VAR} and $VAR are Sealos templates.
    _sealos_command: ($) =>
      choice(
        seq($._json_start, alias($._template_json_string_array, $.json_string_array)),
        alias($._template_shell_command, $.shell_command),
      ),

    shell_instruction: ($) => seq(keyword('SHELL'), optional(choice($._exec_form, $.shell_command))),

    label_instruction: ($) => seq(keyword('LABEL'), optional($._pairs)),
    env_instruction: ($) => seq(keyword('ENV'), optional($._pairs)),

    // `KEY=VALUE ...`, or the legacy `KEY VALUE` with everything after the key as the value.
    _pairs: ($) =>
      choice(
        repeat1($.key_value_pair),
        alias($._legacy_pair, $.key_value_pair),
      ),

    key_value_pair: ($) =>
      seq(
        field('key', $.key),
        // Outranks legacy value text, which may also start with `=` (`ENV A =b` sets A to "=b").
        token.immediate(prec(1, '=')),
        optional(field('value', $.value)),
      ),

    _legacy_pair: ($) => seq(field('key', $.key), field('value', alias($._spaced_value, $.value))),

    key: ($) =>
      seq(
        choice($._key_text, $.double_quoted_string, $.single_quoted_string, $.expansion),
        repeat(
          choice(
            $._immediate_key_text,
            alias($._immediate_double_quoted_string, $.double_quoted_string),
            alias($._immediate_single_quoted_string, $.single_quoted_string),
            alias($._immediate_expansion, $.expansion),
          ),
        ),
      ),

    _key_text: (_) => /[^\s"'\\`$=]+/,
    _immediate_key_text: (_) => token.immediate(/[^\s"'\\`$=]+/),

    value: ($) => $._immediate_word_parts,

    _spaced_value: ($) =>
      repeat1(
        choice(
          $._legacy_value_text,
          $.double_quoted_string,
          $.single_quoted_string,
          $.expansion,
          $.escape_sequence,
          $._literal_escape,
          '$',
        ),
      ),

    _legacy_value_text: (_) => /[^\s"'\\`$]+/,

    maintainer_instruction: ($) => seq(keyword('MAINTAINER'), optional($.shell_command)),

    expose_instruction: ($) => seq(keyword('EXPOSE'), repeat($.expose_port)),

    expose_port: ($) => $._word,

    add_instruction: ($) => seq(keyword('ADD'), repeat($.flag), optional($._paths_or_heredocs)),
    copy_instruction: ($) => seq(keyword('COPY'), repeat($.flag), optional($._paths_or_heredocs)),

    _paths_or_heredocs: ($) =>
      choice(
        seq($._json_start, $.json_string_array),
        seq(repeat1(choice($.path, $.heredoc_marker)), optional($._heredoc_blocks)),
      ),

    path: ($) => $._word,

    volume_instruction: ($) =>
      seq(keyword('VOLUME'), optional(choice(seq($._json_start, $.json_string_array), repeat1($.path)))),

    // USER and STOPSIGNAL take the rest of the line as one string in BuildKit (`parseString`).
    user_instruction: ($) => seq(keyword('USER'), optional(field('user', $.user))),

    user: ($) => $._words,

    workdir_instruction: ($) => seq(keyword('WORKDIR'), repeat($.path)),

    arg_instruction: ($) =>
      seq(keyword('ARG'), repeat(choice($.key_value_pair, alias($.key, $.arg_name)))),

    onbuild_instruction: ($) => seq(keyword('ONBUILD'), optional($._instruction)),

    stopsignal_instruction: ($) => seq(keyword('STOPSIGNAL'), optional($.signal)),

    signal: ($) => $._words,

    _words: ($) => prec.right(repeat1($._word)),

    healthcheck_instruction: ($) =>
      seq(
        keyword('HEALTHCHECK'),
        optional(
          choice(
            keyword('NONE'),
            seq(repeat1($.flag), optional(alias($._healthcheck_cmd, $.cmd_instruction))),
            alias($._healthcheck_cmd, $.cmd_instruction),
          ),
        ),
      ),

    _healthcheck_cmd: ($) => seq(keyword('CMD'), optional(choice($._exec_form, $.shell_command))),

    // --name or --name=value
    flag: ($) =>
      seq(
        token(prec(3, '--')),
        field('name', alias(token.immediate(/[A-Za-z][A-Za-z0-9-]*/), $.flag_name)),
        optional(seq(token.immediate(prec(3, '=')), optional(field('value', $.flag_value)))),
      ),

    flag_value: ($) => $._immediate_word_parts,

    _exec_form: ($) => seq($._json_start, $.json_string_array),

    json_string_array: ($) => seq('[', commaSep($.json_string), ']'),
    json_string: ($) =>
      seq('"', repeat(choice($._json_text, $.json_escape_sequence)), '"'),
    _json_text: (_) => /[^"\\\n]+/,
    _template_json_text: (_) => /[^"\\\n$]+/,
    json_escape_sequence: (_) => token(prec(1, /\\(["\\\/bfnrt]|u[0-9a-fA-F]{4})/)),

    _template_json_string_array: ($) =>
      seq('[', commaSep(alias($._template_json_string, $.json_string)), ']'),
    _template_json_string: ($) =>
      seq(
        '"',
        repeat(
          choice(
            $._template_json_text,
            $.json_escape_sequence,
            $.template_variable,
            $.expansion,
            alias('$$', $.template_escape),
            alias($._literal_dollar, '$'),
          ),
        ),
        '"',
      ),

    template_variable: ($) =>
      seq(alias($._template_start, '$('), field('name', alias(token.immediate(NAME), $.variable)), token.immediate(')')),

    shell_command: ($) =>
      repeat1(choice($.shell_fragment, $.heredoc_marker)),

    shell_fragment: ($) =>
      prec.right(
        repeat1(
          // Below everything else, so that a flag value (`--mount=type=cache`) is not swallowed.
          choice(token(prec(-1, SHELL_TEXT)), '<', $.escape_sequence, $._literal_escape),
        ),
      ),

    _template_shell_command: ($) =>
      repeat1(
        choice(
          alias($._template_shell_fragment, $.shell_fragment),
          $.template_variable,
          $.expansion,
          alias('$$', $.template_escape),
        ),
      ),

    _template_shell_fragment: ($) =>
      prec.right(
        repeat1(
          choice(
            /[^\s\\`$][^\n\\`$]*/,
            // A `$` that starts neither an expansion nor a template, decided by the scanner so
            // that `echo $HOME` ends the fragment before `$HOME`. BuildKit leaves CMD text alone
            // and sealos turns a stray `${` into text, so an unclosed `${` is one of them.
            alias($._literal_dollar, '$'),
            $.escape_sequence,
            $._literal_escape,
          ),
        ),
      ),

    // A word as BuildKit's shell lexer splits it: text, quotes and expansions with no space between.
    _word: ($) =>
      seq(
        choice($._word_text, $.double_quoted_string, $.single_quoted_string, $.expansion, $.escape_sequence, $._literal_escape, '$'),
        optional($._immediate_word_parts),
      ),

    _immediate_word_parts: ($) =>
      repeat1(
        choice(
          $._immediate_word_text,
          alias($._immediate_double_quoted_string, $.double_quoted_string),
          alias($._immediate_single_quoted_string, $.single_quoted_string),
          alias($._immediate_expansion, $.expansion),
          alias($._immediate_escape_sequence, $.escape_sequence),
          $._immediate_literal_escape,
          alias(token.immediate('$'), '$'),
        ),
      ),

    _word_text: (_) => /[^\s"'\\`$]+/,
    _immediate_word_text: (_) => token.immediate(/[^\s"'\\`$]+/),

    double_quoted_string: ($) => seq('"', repeat($._double_quoted_part), '"'),
    _immediate_double_quoted_string: ($) => seq(token.immediate('"'), repeat($._double_quoted_part), '"'),
    _double_quoted_part: ($) =>
      choice($._string_text, $.expansion, $.escape_sequence, $._literal_escape, '$'),
    _string_text: (_) => /[^"\\`$\n]+/,

    single_quoted_string: ($) => seq("'", optional($._single_quoted_text), "'"),
    _immediate_single_quoted_string: ($) => seq(token.immediate("'"), optional($._single_quoted_text), "'"),
    _single_quoted_text: (_) => /[^'\n]+/,

    expansion: ($) => choice($._simple_expansion, $._braced_expansion),
    _immediate_expansion: ($) =>
      choice(
        seq(alias(token.immediate('$'), '$'), field('name', alias(token.immediate(prec(1, NAME)), $.variable))),
        seq(alias(token.immediate('${'), '${'), $._braced_expansion_body),
      ),
    _simple_expansion: ($) => seq('$', field('name', alias(token.immediate(prec(1, NAME)), $.variable))),
    _braced_expansion: ($) => seq('${', $._braced_expansion_body),
    _braced_expansion_body: ($) =>
      seq(
        field('name', alias(token.immediate(NAME), $.variable)),
        optional(
          seq(
            field(
              'operator',
              alias(
                token.immediate(choice(':-', '-', ':+', '+', ':?', '?', '#', '##', '%', '%%', '/', '//', ':=', '=')),
                $.expansion_operator,
              ),
            ),
            optional(field('argument', $.expansion_argument)),
          ),
        ),
        token.immediate('}'),
      ),
    expansion_argument: ($) =>
      repeat1(
        choice(
          token.immediate(/[^}"'\\`$\n]+/),
          alias($._immediate_double_quoted_string, $.double_quoted_string),
          alias($._immediate_single_quoted_string, $.single_quoted_string),
          alias($._immediate_expansion, $.expansion),
          alias($._immediate_escape_sequence, $.escape_sequence),
          $._immediate_literal_escape,
        ),
      ),

    // Any other word at the start of a line (BuildKit takes the first whitespace-separated word as
    // the instruction): buildah rejects it, the tree keeps it to one line. `FROMx` is one unknown
    // word, as in BuildKit; the escape characters stay out so that `RUN\` is RUN and a
    // continuation. Defined last so that a keyword of the same length wins.
    _instruction_word: (_) => token(prec(2, /[^\s\\`#][^\s\\`]*/)),
  },
});
