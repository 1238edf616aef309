// Copies the kubefile-ls binary into server/ so that `vsce package` bundles it into the .vsix.
// Source: $KUBEFILE_LS_BIN, else the newer of target/release and target/debug (honouring
// $CARGO_TARGET_DIR). The copy is stripped when `strip` is available (a debug build shrinks ~5x).
// The bundled binary runs only on the platform it was built for; the extension prefers
// kubefile.server.path and `kubefile-ls` on PATH anyway.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const extensionDir = path.resolve(here, "..");
const repo = path.resolve(extensionDir, "../..");
const exe = process.platform === "win32" ? "kubefile-ls.exe" : "kubefile-ls";
const targetDir = process.env.CARGO_TARGET_DIR ? path.resolve(repo, process.env.CARGO_TARGET_DIR) : path.join(repo, "target");

function candidates() {
  if (process.env.KUBEFILE_LS_BIN) {
    return [path.resolve(process.env.KUBEFILE_LS_BIN)];
  }
  return ["release", "debug"]
    .map((profile) => path.join(targetDir, profile, exe))
    .filter((file) => fs.existsSync(file))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
}

const source = candidates().find((file) => fs.existsSync(file));
const outDir = path.join(extensionDir, "server");
fs.rmSync(outDir, { recursive: true, force: true });
if (!source) {
  const message = `no kubefile-ls binary found (looked for $KUBEFILE_LS_BIN, ${targetDir}/{release,debug}/${exe}); ` +
    "run `cargo build --release -p kubefile-ls` first";
  if (process.env.KUBEFILE_LS_REQUIRE_BUNDLE === "1") {
    console.error(`bundle-server: ${message}`);
    process.exit(1);
  }
  console.warn(`bundle-server: WARNING: ${message}; packaging without a bundled server`);
  process.exit(0);
}
fs.mkdirSync(outDir, { recursive: true });
const dest = path.join(outDir, exe);
fs.copyFileSync(source, dest);
try {
  execFileSync("strip", [dest], { stdio: "ignore" });
} catch {
  // strip is optional
}
fs.chmodSync(dest, 0o755);
console.log(`bundle-server: ${path.relative(repo, source)} -> ${path.relative(repo, dest)} (${(fs.statSync(dest).size / 1e6).toFixed(1)} MB)`);
