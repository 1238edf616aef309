// Tokenizes Kubefile text with editors/vscode/syntaxes/kubefile.tmLanguage.json through the
// TextMate engine VS Code itself uses (vscode-textmate + vscode-oniguruma from the code-server
// install) and checks the scopes of keywords, labels, variables and Sealos $(VAR) templates.
// Usage: node grammar.mjs <code-server package dir>   (writes PASS/FAIL lines to $KUBEFILE_TEST_RESULTS)
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../../..");
const vscodeModules = path.join(process.argv[2], "lib/vscode/node_modules");
const require = createRequire(path.join(vscodeModules, "noop.js"));
const textmate = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const results = [];
const report = (status, name, detail = "") => {
  const line = `${status} ${name}${detail ? ": " + detail : ""}`;
  results.push(line);
  console.error(`  [grammar] ${line}`);
};

const wasm = fs.readFileSync(path.join(vscodeModules, "vscode-oniguruma/release/onig.wasm")).buffer;
await oniguruma.loadWASM(wasm);
const registry = new textmate.Registry({
  onigLib: Promise.resolve({
    createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
    createOnigString: (s) => new oniguruma.OnigString(s),
  }),
  loadGrammar: async (scopeName) => {
    if (scopeName !== "source.kubefile") return null;
    const file = path.join(repo, "editors/vscode/syntaxes/kubefile.tmLanguage.json");
    return textmate.parseRawGrammar(fs.readFileSync(file, "utf8"), file);
  },
});
const grammar = await registry.loadGrammar("source.kubefile");

function tokenize(text) {
  let state = textmate.INITIAL;
  const tokens = [];
  text.split("\n").forEach((line, lineNo) => {
    const r = grammar.tokenizeLine(line, state);
    for (const t of r.tokens) {
      tokens.push({ line: lineNo, text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes });
    }
    state = r.ruleStack;
  });
  return tokens;
}

// [name, text, token text, (line), scope that the token must have]
const SAMPLE = [
  "# syntax=docker/dockerfile:1",
  "FROM scratch AS base",
  'LABEL sealos.io.type="application" \\',
  "      version=v1.0.0",
  'ENV NAMESPACE=${NAMESPACE:-"web"} NAME=nginx',
  "COPY --chmod=755 registry registry",
  'CMD ["kubectl apply -n $(NAMESPACE) -f manifests/ && echo $$(date)"]',
  "ENTRYPOINT kubectl get pods -n $(NAMESPACE)",
  "RUN echo $HOME",
  "copy manifests manifests",
].join("\n");

const checks = [
  ["parser directive", 0, "syntax", "keyword.other.directive"],
  ["FROM keyword", 1, "FROM", "keyword.other.special-method"],
  ["stage name", 1, "base", "entity.name.type.stage"],
  ["LABEL key", 2, "sealos.io.type", "entity.other.attribute-name.label"],
  ["LABEL value string", 2, "application", "string.quoted.double"],
  ["LABEL key on a continuation line", 3, "version", "entity.other.attribute-name.label"],
  ["ENV key", 4, "NAMESPACE", "variable.other.env"],
  ["${VAR} expansion", 4, "NAMESPACE", "variable.other.kubefile"],
  ["expansion operator", 4, ":-", "keyword.operator.expansion"],
  ["flag", 5, "chmod", "entity.other.attribute-name.flag"],
  ["$(VAR) template in JSON CMD", 6, "NAMESPACE", "variable.other.template"],
  ["$( punctuation", 6, "$(", "punctuation.definition.template-expression.begin"],
  ["$$ escape", 6, "$$", "constant.character.escape.dollar"],
  ["$(VAR) template in shell-form ENTRYPOINT", 7, "NAMESPACE", "variable.other.template"],
  ["$VAR in RUN", 8, "HOME", "variable.other.kubefile"],
  ["lower-case keyword", 9, "copy", "keyword.other.special-method"],
];

const tokens = tokenize(SAMPLE);
for (const [name, line, text, scope] of checks) {
  const candidates = tokens.filter((t) => t.line === line && t.text === text);
  const ok = candidates.some((t) => t.scopes.some((s) => s.startsWith(scope)));
  if (ok) {
    report("PASS", `TextMate grammar: ${name}`, `\`${text}\` has ${scope}`);
  } else {
    const got = candidates.map((t) => t.scopes.join(" ")).join(" | ") || "no such token";
    report("FAIL", `TextMate grammar: ${name}`, `\`${text}\` on line ${line + 1} lacks ${scope} (${got})`);
  }
}

// The fixture Kubefile tokenizes without invalid scopes.
const fixture = fs.readFileSync(path.join(repo, "tests/editors/fixtures/workspace/Kubefile"), "utf8");
const invalid = tokenize(fixture).filter((t) => t.scopes.some((s) => s.startsWith("invalid")));
report(invalid.length ? "FAIL" : "PASS", "TextMate grammar: fixture has no invalid tokens",
  invalid.map((t) => t.text).join(", "));

fs.writeFileSync(process.env.KUBEFILE_TEST_RESULTS, results.join("\n") + "\n");
