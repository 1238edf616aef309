/*
 * External scanner for the Kubefile grammar.
 *
 * What a context-free grammar cannot see lives here:
 *  - the escape character, which the `# escape=` directive changes, so line continuations and
 *    escape sequences must be recognised against the current one;
 *  - comments and parser directives, which exist only at the start of a line (a `#` elsewhere is
 *    an argument), and the blank and comment lines BuildKit drops inside a continuation;
 *  - heredocs, whose bodies end at a delimiter chosen on the instruction line;
 *  - the exec form: BuildKit uses JSON only when the whole rest of the line is a valid JSON array
 *    of strings and falls back to the shell form otherwise, which needs unbounded lookahead;
 *  - Sealos `$(NAME)` templates, which are only templates when a name and `)` follow.
 */

#include "tree_sitter/alloc.h"
#include "tree_sitter/parser.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <wctype.h>

enum TokenType {
  LINE_CONTINUATION,
  COMMENT,
  PARSER_DIRECTIVE,
  CONTINUATION_NEWLINE,
  NEWLINE,
  PARAGRAPH_BREAK,
  JSON_START,
  HEREDOC_MARKER,
  HEREDOC_NEWLINE,
  HEREDOC_BODY,
  HEREDOC_END,
  ESCAPE_SEQUENCE,
  LITERAL_ESCAPE,
  IMMEDIATE_ESCAPE_SEQUENCE,
  IMMEDIATE_LITERAL_ESCAPE,
  TEMPLATE_START,
  LITERAL_DOLLAR,
  ERROR_SENTINEL,
};

#define MAX_HEREDOCS 8
#define MAX_DELIMITER 96

typedef struct {
  bool strip_tabs;
  uint8_t length;
  char delimiter[MAX_DELIMITER];
} Heredoc;

typedef struct {
  int32_t escape;
  bool directives_open;  // still in the leading block where `# key=value` lines are directives
  bool on_directive;     // the current line is a parser directive; its newline keeps the block open
  bool continuing;       // the last line ended with a continuation; blank/comment lines are skipped
  bool after_comment;    // the last token was a comment line; its newline is an extra
  uint8_t heredoc_count;
  Heredoc heredocs[MAX_HEREDOCS];
} Scanner;

static inline void advance(TSLexer *lexer) { lexer->advance(lexer, false); }
static inline void skip(TSLexer *lexer) { lexer->advance(lexer, true); }
static inline bool is_blank(int32_t c) { return c == ' ' || c == '\t' || c == '\r'; }

void *tree_sitter_kubefile_external_scanner_create(void) {
  Scanner *scanner = ts_calloc(1, sizeof(Scanner));
  scanner->escape = '\\';
  scanner->directives_open = true;
  return scanner;
}

void tree_sitter_kubefile_external_scanner_destroy(void *payload) { ts_free(payload); }

unsigned tree_sitter_kubefile_external_scanner_serialize(void *payload, char *buffer) {
  Scanner *scanner = payload;
  unsigned size = 0;
  buffer[size++] = (char)(scanner->escape == '`' ? '`' : '\\');
  buffer[size++] = (char)scanner->directives_open;
  buffer[size++] = (char)scanner->on_directive;
  buffer[size++] = (char)scanner->continuing;
  buffer[size++] = (char)scanner->after_comment;
  buffer[size++] = (char)scanner->heredoc_count;
  for (unsigned i = 0; i < scanner->heredoc_count; i++) {
    Heredoc *heredoc = &scanner->heredocs[i];
    if (size + 2 + heredoc->length > TREE_SITTER_SERIALIZATION_BUFFER_SIZE) break;
    buffer[size++] = (char)heredoc->strip_tabs;
    buffer[size++] = (char)heredoc->length;
    memcpy(&buffer[size], heredoc->delimiter, heredoc->length);
    size += heredoc->length;
  }
  return size;
}

void tree_sitter_kubefile_external_scanner_deserialize(void *payload, const char *buffer, unsigned length) {
  Scanner *scanner = payload;
  scanner->escape = '\\';
  scanner->directives_open = true;
  scanner->on_directive = false;
  scanner->continuing = false;
  scanner->after_comment = false;
  scanner->heredoc_count = 0;
  if (length < 6) return;
  unsigned size = 0;
  scanner->escape = buffer[size++] == '`' ? '`' : '\\';
  scanner->directives_open = buffer[size++];
  scanner->on_directive = buffer[size++];
  scanner->continuing = buffer[size++];
  scanner->after_comment = buffer[size++];
  uint8_t count = (uint8_t)buffer[size++];
  for (unsigned i = 0; i < count && i < MAX_HEREDOCS && size + 2 <= length; i++) {
    Heredoc *heredoc = &scanner->heredocs[i];
    heredoc->strip_tabs = buffer[size++];
    heredoc->length = (uint8_t)buffer[size++];
    if (heredoc->length > MAX_DELIMITER || size + heredoc->length > length) break;
    memcpy(heredoc->delimiter, &buffer[size], heredoc->length);
    size += heredoc->length;
    scanner->heredoc_count = (uint8_t)(i + 1);
  }
}

/*
 * Consumes whole lines that hold only blanks; the token end moves past each of them. Returns
 * whether there was one.
 */
static bool consume_blank_lines(TSLexer *lexer) {
  bool consumed = false;
  for (;;) {
    while (is_blank(lexer->lookahead)) advance(lexer);
    if (lexer->lookahead != '\n') return consumed;
    advance(lexer);
    lexer->mark_end(lexer);
    consumed = true;
  }
}

/* After the escape character: blanks then a newline make a continuation. */
static bool scan_continuation_tail(TSLexer *lexer) {
  while (is_blank(lexer->lookahead)) advance(lexer);
  if (lexer->lookahead == '\n') {
    advance(lexer);
    return true;
  }
  return lexer->eof(lexer);
}

static bool ascii_equal_ignore_case(const char *a, const char *b, size_t length) {
  for (size_t i = 0; i < length; i++) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = (char)(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

static bool is_ascii_letter(int32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_directive_blank(int32_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f'; }

/*
 * After `#`: reads BuildKit's directive shape `\s*name\s*=\s*value\s*` while the line allows.
 * Streaming rather than buffering the line keeps long `# check=skip=...` lists directives.
 */
static enum TokenType scan_directive(Scanner *scanner, TSLexer *lexer) {
  while (is_directive_blank(lexer->lookahead)) advance(lexer);
  if (!is_ascii_letter(lexer->lookahead)) return COMMENT;
  char name[8];
  size_t name_length = 0;
  while (is_ascii_letter(lexer->lookahead) || (lexer->lookahead >= '0' && lexer->lookahead <= '9')) {
    if (name_length < sizeof(name)) name[name_length] = (char)lexer->lookahead;
    name_length++;
    advance(lexer);
  }
  while (is_directive_blank(lexer->lookahead)) advance(lexer);
  if (lexer->lookahead != '=') return COMMENT;
  advance(lexer);

  // The value, trimmed: its first character and how many characters it spans.
  int32_t first = 0;
  unsigned position = 0, first_position = 0, last_position = 0;
  while (lexer->lookahead != '\n' && !lexer->eof(lexer)) {
    if (!is_directive_blank(lexer->lookahead)) {
      if (first == 0) {
        first = lexer->lookahead;
        first_position = position;
      }
      last_position = position;
    }
    position++;
    advance(lexer);
  }
  if (first == 0) return COMMENT;

  if (name_length == 6 && ascii_equal_ignore_case(name, "escape", 6)) {
    if (last_position == first_position && (first == '\\' || first == '`')) scanner->escape = first;
    return PARSER_DIRECTIVE;
  }
  if ((name_length == 6 && ascii_equal_ignore_case(name, "syntax", 6)) ||
      (name_length == 5 && ascii_equal_ignore_case(name, "check", 5))) {
    return PARSER_DIRECTIVE;
  }
  return COMMENT;
}

/*
 * Reads a `#` line to its end. Returns PARSER_DIRECTIVE when it has the BuildKit directive shape
 * `# name = value` with a known name and directives are still allowed, COMMENT otherwise.
 */
static enum TokenType scan_comment_line(Scanner *scanner, TSLexer *lexer) {
  advance(lexer);  // '#'
  enum TokenType kind = scanner->directives_open ? scan_directive(scanner, lexer) : COMMENT;
  while (lexer->lookahead != '\n' && !lexer->eof(lexer)) advance(lexer);
  lexer->mark_end(lexer);
  return kind;
}

/* --- JSON exec form ------------------------------------------------------------------------ */

/* Skips JSON whitespace, including line continuations and the lines BuildKit drops after them. */
static bool skip_json_space(Scanner *scanner, TSLexer *lexer) {
  for (;;) {
    if (is_blank(lexer->lookahead)) {
      advance(lexer);
    } else if (lexer->lookahead == scanner->escape) {
      advance(lexer);
      if (!scan_continuation_tail(lexer)) return false;
      for (;;) {
        while (is_blank(lexer->lookahead)) advance(lexer);
        if (lexer->lookahead == '\n') {
          advance(lexer);
        } else if (lexer->lookahead == '#') {
          while (lexer->lookahead != '\n' && !lexer->eof(lexer)) advance(lexer);
        } else {
          break;
        }
      }
    } else {
      return true;
    }
  }
}

static bool is_hex(int32_t c) { return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }

static bool scan_json_string(Scanner *scanner, TSLexer *lexer) {
  advance(lexer);  // '"'
  for (;;) {
    int32_t c = lexer->lookahead;
    if (lexer->eof(lexer) || c == '\n') return false;
    if (c == '"') {
      advance(lexer);
      return true;
    }
    if (c == scanner->escape && scanner->escape == '`') {
      // A backtick continuation inside a string joins lines just as outside one.
      advance(lexer);
      if (is_blank(lexer->lookahead) || lexer->lookahead == '\n') {
        if (!scan_continuation_tail(lexer)) return false;
      }
      continue;
    }
    if (c == '\\') {
      advance(lexer);
      int32_t e = lexer->lookahead;
      if (scanner->escape == '\\' && (is_blank(e) || e == '\n')) {
        if (!scan_continuation_tail(lexer)) return false;
        continue;
      }
      if (e == 'u') {
        advance(lexer);
        for (int i = 0; i < 4; i++) {
          if (!is_hex(lexer->lookahead)) return false;
          advance(lexer);
        }
        continue;
      }
      if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
        advance(lexer);
        continue;
      }
      return false;
    }
    if (c < 0x20) return false;
    advance(lexer);
  }
}

/* True when the rest of the logical line is a JSON array of strings and nothing else. */
static bool scan_json_array(Scanner *scanner, TSLexer *lexer) {
  advance(lexer);  // '['
  if (!skip_json_space(scanner, lexer)) return false;
  if (lexer->lookahead == ']') {
    advance(lexer);
  } else {
    for (;;) {
      if (lexer->lookahead != '"' || !scan_json_string(scanner, lexer)) return false;
      if (!skip_json_space(scanner, lexer)) return false;
      if (lexer->lookahead == ',') {
        advance(lexer);
        if (!skip_json_space(scanner, lexer)) return false;
        continue;
      }
      if (lexer->lookahead != ']') return false;
      advance(lexer);
      break;
    }
  }
  while (is_blank(lexer->lookahead)) advance(lexer);
  return lexer->lookahead == '\n' || lexer->eof(lexer);
}

/* --- heredocs ------------------------------------------------------------------------------ */

static bool is_delimiter_char(int32_t c) {
  return c > ' ' && c != '<' && c != '>' && c != '|' && c != '&' && c != ';' && c != '(' && c != ')' &&
         c != '"' && c != '\'';
}

/* `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'`; the `<<` has been consumed. */
static bool scan_heredoc_marker(Scanner *scanner, TSLexer *lexer) {
  Heredoc heredoc = {0};
  if (lexer->lookahead == '-') {
    heredoc.strip_tabs = true;
    advance(lexer);
  }
  int32_t quote = 0;
  if (lexer->lookahead == '"' || lexer->lookahead == '\'') {
    quote = lexer->lookahead;
    advance(lexer);
  }
  while (quote ? (lexer->lookahead != quote && lexer->lookahead != '\n' && !lexer->eof(lexer))
               : is_delimiter_char(lexer->lookahead)) {
    if (heredoc.length >= MAX_DELIMITER || lexer->lookahead > 127) return false;
    heredoc.delimiter[heredoc.length++] = (char)lexer->lookahead;
    advance(lexer);
  }
  if (quote) {
    if (lexer->lookahead != quote) return false;
    advance(lexer);
  }
  if (heredoc.length == 0 || scanner->heredoc_count >= MAX_HEREDOCS) return false;
  if (!(is_blank(lexer->lookahead) || lexer->lookahead == '\n' || lexer->eof(lexer) ||
        lexer->lookahead == scanner->escape)) {
    return false;
  }
  scanner->heredocs[scanner->heredoc_count++] = heredoc;
  return true;
}

/* Returns true when the current line equals the delimiter; consumes it. */
static bool line_is_delimiter(Heredoc *heredoc, TSLexer *lexer) {
  if (heredoc->strip_tabs) {
    while (lexer->lookahead == '\t') advance(lexer);
  }
  for (unsigned i = 0; i < heredoc->length; i++) {
    if (lexer->lookahead != heredoc->delimiter[i]) return false;
    advance(lexer);
  }
  if (lexer->lookahead == '\r') advance(lexer);
  return lexer->lookahead == '\n' || lexer->eof(lexer);
}

static void pop_heredoc(Scanner *scanner) {
  memmove(&scanner->heredocs[0], &scanner->heredocs[1], sizeof(Heredoc) * (scanner->heredoc_count - 1));
  scanner->heredoc_count--;
}

static bool scan_heredoc_content(Scanner *scanner, TSLexer *lexer, const bool *valid_symbols) {
  Heredoc *heredoc = &scanner->heredocs[0];
  bool has_body = false;
  for (;;) {
    if (line_is_delimiter(heredoc, lexer)) {
      if (has_body) {
        lexer->result_symbol = HEREDOC_BODY;
        return valid_symbols[HEREDOC_BODY];
      }
      lexer->mark_end(lexer);
      pop_heredoc(scanner);
      lexer->result_symbol = HEREDOC_END;
      return valid_symbols[HEREDOC_END];
    }
    while (lexer->lookahead != '\n' && !lexer->eof(lexer)) {
      advance(lexer);
      has_body = true;
    }
    if (lexer->eof(lexer)) {
      // Unterminated: the body runs to the end of the file and the end delimiter is missing.
      lexer->mark_end(lexer);
      lexer->result_symbol = HEREDOC_BODY;
      return has_body && valid_symbols[HEREDOC_BODY];
    }
    advance(lexer);
    lexer->mark_end(lexer);
    has_body = true;
  }
}

/* --- Sealos templates ---------------------------------------------------------------------- */

static bool is_name_start(int32_t c) { return ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '_'; }
static bool is_name_char(int32_t c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

/*
 * After `$`: `(` counts as a template only when a name and `)` follow. The token ends after `(`
 * either way, so a caller that finds no template can still return `$(` as text.
 */
static bool scan_template_start_after_dollar(TSLexer *lexer) {
  if (lexer->lookahead != '(') return false;
  advance(lexer);
  lexer->mark_end(lexer);
  if (!is_name_start(lexer->lookahead)) return false;
  while (is_name_char(lexer->lookahead)) advance(lexer);
  return lexer->lookahead == ')';
}

/*
 * After `${`: true when the expansion closes on this line the way the grammar reads one (a name,
 * then `}` or an operator, an argument and a matching `}`). `in_json` means a bare `"` ends the
 * enclosing JSON string first.
 */
static bool braced_expansion_closes(Scanner *scanner, TSLexer *lexer, bool in_json, unsigned depth) {
  if (depth > 16 || !is_name_start(lexer->lookahead)) return false;
  while (is_name_char(lexer->lookahead)) advance(lexer);
  int32_t c = lexer->lookahead;
  if (c == '}') return true;
  if (c == ':') {
    advance(lexer);
    c = lexer->lookahead;
    if (c != '-' && c != '+' && c != '?' && c != '=') return false;
  } else if (c != '-' && c != '+' && c != '?' && c != '=' && c != '#' && c != '%' && c != '/') {
    return false;
  }
  advance(lexer);
  for (;;) {
    c = lexer->lookahead;
    if (lexer->eof(lexer) || c == '\n') return false;
    if (c == '}') return true;
    if (c == '\\' || c == '`') {
      advance(lexer);
      if (lexer->lookahead == '\n' || lexer->eof(lexer)) return false;
      advance(lexer);
    } else if (c == '"') {
      if (in_json) return false;
      advance(lexer);
      while (lexer->lookahead != '"') {
        if (lexer->eof(lexer) || lexer->lookahead == '\n') return false;
        if (lexer->lookahead == scanner->escape) advance(lexer);
        advance(lexer);
      }
      advance(lexer);
    } else if (c == '\'') {
      advance(lexer);
      while (lexer->lookahead != '\'') {
        if (lexer->eof(lexer) || lexer->lookahead == '\n' || (in_json && lexer->lookahead == '"')) return false;
        advance(lexer);
      }
      advance(lexer);
    } else if (c == '$') {
      advance(lexer);
      if (lexer->lookahead == '{') {
        advance(lexer);
        if (!braced_expansion_closes(scanner, lexer, in_json, depth + 1)) return false;
        advance(lexer);
      }
    } else {
      advance(lexer);
    }
  }
}

/* --- entry point --------------------------------------------------------------------------- */

bool tree_sitter_kubefile_external_scanner_scan(void *payload, TSLexer *lexer, const bool *valid_symbols) {
  Scanner *scanner = payload;
  bool error_recovery = valid_symbols[ERROR_SENTINEL];

  if (!error_recovery && scanner->heredoc_count > 0 && (valid_symbols[HEREDOC_BODY] || valid_symbols[HEREDOC_END])) {
    return scan_heredoc_content(scanner, lexer, valid_symbols);
  }

  unsigned blanks = 0;
  while (is_blank(lexer->lookahead) || lexer->lookahead == 0xFEFF) {
    skip(lexer);
    blanks++;
  }
  int32_t c = lexer->lookahead;

  if (c == '\n') {
    if (scanner->after_comment) {
      // The newline of a comment line belongs to no instruction: inside a continuation BuildKit
      // drops the line, between instructions it ends like a blank line. As an extra it costs the
      // parser no step, and it takes the blank lines after it along.
      advance(lexer);
      lexer->mark_end(lexer);
      bool blank_lines = consume_blank_lines(lexer);
      scanner->after_comment = false;
      if (!scanner->continuing) {
        // BuildKit reads directives until the first line that is not one, blank lines included.
        scanner->directives_open = scanner->on_directive && !blank_lines;
        scanner->on_directive = false;
      }
      lexer->result_symbol = CONTINUATION_NEWLINE;
      return true;
    }
    if (!error_recovery && scanner->heredoc_count > 0 && valid_symbols[HEREDOC_NEWLINE]) {
      advance(lexer);
      lexer->mark_end(lexer);
      scanner->continuing = false;
      lexer->result_symbol = HEREDOC_NEWLINE;
      return true;
    }
    if (valid_symbols[NEWLINE] || valid_symbols[PARAGRAPH_BREAK]) {
      // Blank lines after an instruction go with its newline: one token instead of one per line.
      // With at least one, the token is a paragraph break (see source_file in grammar.js).
      advance(lexer);
      lexer->mark_end(lexer);
      bool blank_lines = consume_blank_lines(lexer);
      scanner->continuing = false;
      scanner->after_comment = false;
      // An instruction or a blank line ends the directive block.
      scanner->directives_open = false;
      scanner->on_directive = false;
      // Heredocs announced on a line that cannot carry them are forgotten with the line.
      scanner->heredoc_count = 0;
      bool paragraph_break = (blank_lines && valid_symbols[PARAGRAPH_BREAK]) || !valid_symbols[NEWLINE];
      lexer->result_symbol = paragraph_break ? PARAGRAPH_BREAK : NEWLINE;
      return true;
    }
    return false;
  }

  if (c == '#' && lexer->get_column(lexer) == blanks) {
    enum TokenType kind = scan_comment_line(scanner, lexer);
    if (kind == COMMENT) scanner->directives_open = false;
    scanner->on_directive = kind == PARSER_DIRECTIVE;
    scanner->after_comment = true;
    lexer->result_symbol = kind;
    return true;
  }

  if (c == scanner->escape) {
    advance(lexer);
    bool escaped_blank = is_blank(lexer->lookahead);
    if (escaped_blank) {
      advance(lexer);
      lexer->mark_end(lexer);
    }
    if (lexer->lookahead == '\n' || lexer->eof(lexer) || escaped_blank) {
      if (!escaped_blank) lexer->mark_end(lexer);
      if (scan_continuation_tail(lexer)) {
        lexer->mark_end(lexer);
        consume_blank_lines(lexer);
        scanner->continuing = true;
        scanner->after_comment = false;
        scanner->directives_open = false;
        lexer->result_symbol = LINE_CONTINUATION;
        return true;
      }
      if (!escaped_blank) return false;
    } else {
      advance(lexer);
      lexer->mark_end(lexer);
    }
    if (error_recovery) return false;
    // The token is the escape character and the one character it escapes. Whether it continues
    // the previous word depends on the blanks before it, which only the scanner sees.
    if (blanks == 0 && valid_symbols[IMMEDIATE_ESCAPE_SEQUENCE]) {
      lexer->result_symbol = IMMEDIATE_ESCAPE_SEQUENCE;
      return true;
    }
    lexer->result_symbol = ESCAPE_SEQUENCE;
    return valid_symbols[ESCAPE_SEQUENCE];
  }

  if (error_recovery) return false;

  if (c == '\\' || c == '`') {
    advance(lexer);
    lexer->mark_end(lexer);
    if (blanks == 0 && valid_symbols[IMMEDIATE_LITERAL_ESCAPE]) {
      lexer->result_symbol = IMMEDIATE_LITERAL_ESCAPE;
      return true;
    }
    lexer->result_symbol = LITERAL_ESCAPE;
    return valid_symbols[LITERAL_ESCAPE];
  }

  if (c == '[' && valid_symbols[JSON_START]) {
    lexer->mark_end(lexer);
    lexer->result_symbol = JSON_START;
    return scan_json_array(scanner, lexer);
  }

  if ((c == '<' || (c >= '0' && c <= '9')) && valid_symbols[HEREDOC_MARKER]) {
    // BuildKit takes a heredoc only from a word that starts with `<<` (or fd digits and `<<`).
    if (blanks == 0 && lexer->get_column(lexer) != 0) return false;
    while (lexer->lookahead >= '0' && lexer->lookahead <= '9') advance(lexer);
    if (lexer->lookahead != '<') return false;
    advance(lexer);
    if (lexer->lookahead != '<') return false;
    advance(lexer);
    if (!scan_heredoc_marker(scanner, lexer)) return false;
    lexer->mark_end(lexer);
    lexer->result_symbol = HEREDOC_MARKER;
    return true;
  }

  if (c == '$' && valid_symbols[LITERAL_DOLLAR]) {
    // In CMD and ENTRYPOINT a `$` is literal unless an expansion, a template or `$$` follows.
    advance(lexer);
    lexer->mark_end(lexer);
    c = lexer->lookahead;
    if (is_name_start(c) || c == '$') return false;
    if (c == '{') {
      advance(lexer);
      // Shell-form CMD allows escape sequences and JSON strings do not: that tells them apart.
      lexer->result_symbol = LITERAL_DOLLAR;
      return !braced_expansion_closes(scanner, lexer, !valid_symbols[ESCAPE_SEQUENCE], 0);
    }
    if (c == '(' && valid_symbols[TEMPLATE_START]) {
      lexer->result_symbol = TEMPLATE_START;
      if (scan_template_start_after_dollar(lexer)) return true;
      // `$(` without a name and `)` (command substitution, `$( )`): the token is literal `$(`.
      lexer->result_symbol = LITERAL_DOLLAR;
      return true;
    }
    lexer->result_symbol = LITERAL_DOLLAR;
    return true;
  }

  if (c == '$' && valid_symbols[TEMPLATE_START]) {
    advance(lexer);
    lexer->result_symbol = TEMPLATE_START;
    return scan_template_start_after_dollar(lexer);
  }

  return false;
}
