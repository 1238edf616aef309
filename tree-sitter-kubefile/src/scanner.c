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
  bool continuing;       // the last line ended with a continuation; blank/comment lines are skipped
  bool after_comment;    // the last token was a comment inside a continuation
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
  scanner->continuing = false;
  scanner->after_comment = false;
  scanner->heredoc_count = 0;
  if (length < 5) return;
  unsigned size = 0;
  scanner->escape = buffer[size++] == '`' ? '`' : '\\';
  scanner->directives_open = buffer[size++];
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

/* Consumes whole lines that hold only blanks; the token end moves past each of them. */
static void consume_blank_lines(TSLexer *lexer) {
  for (;;) {
    while (is_blank(lexer->lookahead)) advance(lexer);
    if (lexer->lookahead != '\n') return;
    advance(lexer);
    lexer->mark_end(lexer);
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

/*
 * Reads a `#` line to its end. Returns PARSER_DIRECTIVE when it has the BuildKit directive shape
 * `# name = value` with a known name and directives are still allowed, COMMENT otherwise.
 */
static enum TokenType scan_comment_line(Scanner *scanner, TSLexer *lexer) {
  char text[128];
  size_t length = 0;
  advance(lexer);  // '#'
  while (lexer->lookahead != '\n' && !lexer->eof(lexer)) {
    if (length < sizeof(text)) text[length++] = (char)(lexer->lookahead < 128 ? lexer->lookahead : '?');
    advance(lexer);
  }
  lexer->mark_end(lexer);
  if (!scanner->directives_open || length >= sizeof(text)) return COMMENT;

  size_t i = 0;
  while (i < length && (text[i] == ' ' || text[i] == '\t')) i++;
  size_t name_start = i;
  if (i >= length || !((text[i] | 0x20) >= 'a' && (text[i] | 0x20) <= 'z')) return COMMENT;
  while (i < length && (((text[i] | 0x20) >= 'a' && (text[i] | 0x20) <= 'z') || (text[i] >= '0' && text[i] <= '9'))) i++;
  size_t name_length = i - name_start;
  while (i < length && (text[i] == ' ' || text[i] == '\t')) i++;
  if (i >= length || text[i] != '=') return COMMENT;
  i++;
  while (i < length && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r')) i++;
  size_t value_end = length;
  while (value_end > i && (text[value_end - 1] == ' ' || text[value_end - 1] == '\t' || text[value_end - 1] == '\r')) value_end--;
  if (value_end <= i) return COMMENT;

  const char *name = &text[name_start];
  if (name_length == 6 && ascii_equal_ignore_case(name, "escape", 6)) {
    if (value_end - i == 1 && (text[i] == '\\' || text[i] == '`')) scanner->escape = text[i];
    return PARSER_DIRECTIVE;
  }
  if ((name_length == 6 && ascii_equal_ignore_case(name, "syntax", 6)) ||
      (name_length == 5 && ascii_equal_ignore_case(name, "check", 5))) {
    return PARSER_DIRECTIVE;
  }
  return COMMENT;
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

/* `$(` counts as a template only when a name and `)` follow; the token covers just `$(`. */
static bool scan_template_start(TSLexer *lexer) {
  advance(lexer);  // '$'
  if (lexer->lookahead != '(') return false;
  advance(lexer);
  lexer->mark_end(lexer);
  int32_t c = lexer->lookahead;
  if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && c != '_') return false;
  while (((lexer->lookahead | 0x20) >= 'a' && (lexer->lookahead | 0x20) <= 'z') || lexer->lookahead == '_' ||
         (lexer->lookahead >= '0' && lexer->lookahead <= '9')) {
    advance(lexer);
  }
  return lexer->lookahead == ')';
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
    if (scanner->after_comment && scanner->continuing) {
      advance(lexer);
      lexer->mark_end(lexer);
      consume_blank_lines(lexer);
      scanner->after_comment = false;
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
    if (valid_symbols[NEWLINE]) {
      advance(lexer);
      lexer->mark_end(lexer);
      scanner->continuing = false;
      scanner->after_comment = false;
      scanner->directives_open = false;
      // Heredocs announced on a line that cannot carry them are forgotten with the line.
      scanner->heredoc_count = 0;
      lexer->result_symbol = NEWLINE;
      return true;
    }
    return false;
  }

  if (c == '#' && lexer->get_column(lexer) == blanks) {
    enum TokenType kind = scan_comment_line(scanner, lexer);
    if (kind == COMMENT) scanner->directives_open = false;
    scanner->after_comment = scanner->continuing;
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

  if (c == '<' && valid_symbols[HEREDOC_MARKER]) {
    advance(lexer);
    if (lexer->lookahead != '<') return false;
    advance(lexer);
    if (!scan_heredoc_marker(scanner, lexer)) return false;
    lexer->mark_end(lexer);
    lexer->result_symbol = HEREDOC_MARKER;
    return true;
  }

  if (c == '$' && valid_symbols[TEMPLATE_START]) {
    lexer->result_symbol = TEMPLATE_START;
    return scan_template_start(lexer);
  }

  return false;
}
