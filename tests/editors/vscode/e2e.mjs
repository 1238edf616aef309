// Drives code-server (with the packaged kubefile .vsix installed) in Debian's chromium through
// playwright-core: opens the fixture workspace and its Kubefile, checks the language mode, the
// Problems panel, settings, Show images (command and code lens), Build image, completion, and
// takes screenshots. Run by scripts/test-editors.sh.
//
// Environment: PLAYWRIGHT_DIR (folder whose node_modules has playwright-core), KUBEFILE_CS_URL,
// KUBEFILE_CS_WORKSPACE, KUBEFILE_TEST_RESULTS, KUBEFILE_TEST_OUT (screenshots),
// KUBEFILE_EXPECTED_CODES (comma-separated), KUBEFILE_TEST_STEP_TIMEOUT (ms, default 30000).
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(path.join(process.env.PLAYWRIGHT_DIR, "node_modules", "noop.js"));
const { chromium } = require("playwright-core");

const url = process.env.KUBEFILE_CS_URL;
const outDir = process.env.KUBEFILE_TEST_OUT;
const expected = (process.env.KUBEFILE_EXPECTED_CODES ?? "").split(",").filter(Boolean);
const workspace = process.env.KUBEFILE_CS_WORKSPACE;
// The image of the fixture's manifests/deploy.yaml.
const FIXTURE_IMAGE = "docker.io/library/nginx:1.27";
const STEP = Number(process.env.KUBEFILE_TEST_STEP_TIMEOUT ?? 30000);
const resultsFile = process.env.KUBEFILE_TEST_RESULTS;
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(resultsFile, "");

const log = (msg) => console.error(`  [code-server +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
const t0 = Date.now();
const report = (status, name, detail = "") => {
  const line = `${status} ${name}${detail ? ": " + String(detail).replace(/\s*\n\s*/g, " | ") : ""}`;
  fs.appendFileSync(resultsFile, line + "\n");
  log(line);
};

let page;
let shot = 0;
async function screenshot(name) {
  if (!page) return undefined;
  const file = path.join(outDir, `${String(++shot).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file }).catch((e) => log(`screenshot ${name} failed: ${e.message}`));
  return file;
}

/** Runs one step; on failure records a screenshot and returns false. */
async function step(name, fn) {
  try {
    const detail = await fn();
    report("PASS", name, detail ?? "");
    return true;
  } catch (e) {
    const file = await screenshot(`failed-${name.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}`);
    const message = e?.name === "TimeoutError" ? `timed out: ${e.message.split("\n")[0]}` : e?.message ?? String(e);
    report("FAIL", name, `${message}${file ? ` (screenshot ${path.relative(process.cwd(), file)})` : ""}`);
    return false;
  }
}

/** Polls `fn` until it returns a truthy value or `ms` pass; throws `what` on timeout. */
async function until(what, fn, ms = STEP) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await fn().catch((e) => ({ error: e }));
    if (last && !last.error) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} (after ${ms / 1000}s${last?.error ? `; ${last.error.message}` : ""})`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
let exitCode = 0;
try {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(STEP);
  const consoleErrors = [];
  page.on("console", (m) => {
    if (m.type() === "error" && /kubefile/i.test(m.text())) consoleErrors.push(m.text());
  });

  const workbench = await step("workbench loads", async () => {
    await page.goto(url, { waitUntil: "domcontentloaded" });
    await page.locator(".monaco-workbench").waitFor({ state: "visible", timeout: 60000 });
    await page.locator(".part.statusbar").waitFor({ state: "visible" });
    return `${url}`;
  });
  if (!workbench) throw new Error("the workbench did not load");

  const opened = await step("open the Kubefile (Quick Open)", async () => {
    await until("Quick Open did not open the Kubefile", async () => {
      await page.keyboard.press("Escape");
      await page.locator(".monaco-workbench").click({ position: { x: 700, y: 400 } }).catch(() => {});
      await page.keyboard.press("Control+P");
      const input = page.locator(".quick-input-widget input");
      await input.waitFor({ state: "visible", timeout: 5000 });
      await input.fill("Kubefile");
      await page.locator(".quick-input-list .monaco-list-row", { hasText: "Kubefile" }).first().waitFor({ timeout: 10000 });
      await page.keyboard.press("Enter");
      await page.locator(".tabs-container .tab", { hasText: "Kubefile" }).first().waitFor({ timeout: 5000 });
      return true;
    }, 60000);
    await page.locator(".monaco-editor .view-lines").first().waitFor({ state: "visible" });
  });
  if (!opened) throw new Error("could not open the Kubefile");

  await step('language mode shows "Kubefile"', async () => {
    const mode = page.locator('[id="status.editor.mode"]');
    const text = await until("the language mode is not Kubefile", async () => {
      const t = (await mode.innerText({ timeout: 2000 })).trim();
      return t === "Kubefile" ? t : undefined;
    });
    return text;
  });

  await step("status bar shows the kubefile-ls server running", async () => {
    const item = page.locator('.statusbar-item[aria-label^="Kubefile language server"], .statusbar-item [aria-label^="Kubefile language server"]').first();
    await until("no running Kubefile status item", async () => {
      const label = (await item.getAttribute("aria-label", { timeout: 2000 })) ?? "";
      return /running/.test(label) ? label : undefined;
    }, 45000);
    return (await item.getAttribute("aria-label")) ?? "";
  });

  await step("Problems panel lists the expected diagnostics", async () => {
    await page.keyboard.press("Control+Shift+M");
    const panel = page.locator(".markers-panel");
    await panel.waitFor({ state: "visible" });
    const text = await until(`the Problems panel does not list ${expected.join(", ")}`, async () => {
      const t = await panel.innerText({ timeout: 2000 });
      return expected.every((code) => t.includes(code)) ? t : undefined;
    }, 45000);
    await screenshot("problems");
    const found = expected.filter((code) => text.includes(code));
    return `${found.join(", ")}`;
  });

  await step("hovering a squiggle shows the diagnostic (screenshot)", async () => {
    await page.keyboard.press("Escape");
    const word = page.locator(".monaco-editor .view-line span", { hasText: "sealos.io.typ" }).first();
    await until("no hover with the unknown-label message", async () => {
      await page.mouse.move(10, 10);
      await word.hover({ timeout: 3000 });
      const hover = page.locator(".monaco-hover:visible", { hasText: "sealos.io.type" }).first();
      await hover.waitFor({ state: "visible", timeout: 4000 });
      return true;
    });
    await page.waitForTimeout(800); // let the hover finish fading in
    const file = await screenshot("kubefile-diagnostics");
    await page.mouse.move(10, 10);
    return path.relative(process.cwd(), file);
  });

  await step("hovering FROM shows the server's documentation", async () => {
    const word = page.locator(".monaco-editor .view-line span", { hasText: /^FROM$/ }).first();
    const text = await until("no hover documenting FROM", async () => {
      await page.mouse.move(10, 10);
      await word.hover({ timeout: 3000 });
      // FROM also carries the missing-registry-copy squiggle: the hover shows both.
      const hover = page.locator(".monaco-hover:visible", { hasText: "Starts a build stage" }).first();
      await hover.waitFor({ state: "visible", timeout: 4000 });
      return (await hover.innerText()).replace(/\s+/g, " ");
    });
    await page.mouse.move(10, 10);
    return text.slice(text.indexOf("Starts a build stage"), text.indexOf("Starts a build stage") + 80);
  });

  await step("a kubefile.severity setting reaches the server (split-exec-form off, then back)", async () => {
    // Workspace settings, as a user would commit them in .vscode/settings.json.
    const settingsFile = path.join(workspace, ".vscode", "settings.json");
    fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
    const original = "{}\n";
    const panel = page.locator(".markers-panel");
    fs.writeFileSync(settingsFile, JSON.stringify({ "kubefile.severity": { "split-exec-form": "off" } }, null, 2));
    try {
      await until("split-exec-form is still listed after turning it off in settings.json", async () => {
        const t = await panel.innerText({ timeout: 2000 });
        return t.includes("unknown-label") && !t.includes("split-exec-form");
      });
    } finally {
      fs.writeFileSync(settingsFile, original);
    }
    await until("split-exec-form did not come back after removing the setting", async () => {
      const t = await panel.innerText({ timeout: 2000 });
      return t.includes("split-exec-form");
    });
    return "off → gone, removed → back";
  });

  /** Runs a command from the Command Palette by its title. */
  async function runCommand(title) {
    await page.keyboard.press("Escape");
    await page.keyboard.press("F1");
    const input = page.locator(".quick-input-widget input");
    await input.waitFor({ state: "visible" });
    await input.fill(`>${title}`);
    await page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first().waitFor();
    await page.keyboard.press("Enter");
  }

  /** Text of the visible notification toasts. */
  async function toasts() {
    return (await page.locator(".notifications-toasts .notification-toast").allInnerTexts()).join(" | ");
  }

  async function clearToasts() {
    await page.keyboard.press("Escape");
    for (const close of await page.locator(".notifications-toasts .codicon-notifications-clear").all()) {
      await close.click({ timeout: 1000 }).catch(() => {});
    }
  }

  /** Waits for the image quick pick, checks it lists the fixture's image, and closes it. */
  async function expectImagePick(shotName) {
    const pick = page.locator(".quick-input-widget:visible");
    const row = pick.locator(".monaco-list-row", { hasText: FIXTURE_IMAGE }).first();
    await row.waitFor({ state: "visible", timeout: 20000 }).catch(async (e) => {
      throw new Error(`no quick pick listing ${FIXTURE_IMAGE} (${e.message.split("\n")[0]}; notifications: ${await toasts()})`);
    });
    const title = (await pick.locator(".quick-input-title").innerText().catch(() => "")).trim();
    const text = (await row.innerText()).replace(/\s+/g, " ");
    if (!/deploy\.yaml/.test(text)) throw new Error(`the image is not located in manifests/deploy.yaml: ${text}`);
    await screenshot(shotName);
    await page.keyboard.press("Escape");
    return `${title}: ${text}`;
  }

  await step('"Kubefile: Show images" shows the fixture\'s images in a quick pick', async () => {
    await runCommand("Kubefile: Show images");
    return expectImagePick("show-images");
  });

  await step('"Kubefile: Build image" builds the image (kubefile.build.saveImage false: no network)', async () => {
    await clearToasts();
    await runCommand("Kubefile: Build image");
    const input = page.locator(".quick-input-widget:visible input");
    await page.locator(".quick-input-widget:visible", { hasText: "tag" }).waitFor({ state: "visible", timeout: 15000 })
      .catch(async () => {
        throw new Error(`no tag prompt (notifications: ${await toasts()})`);
      });
    await input.fill("editor-test:v1");
    await page.keyboard.press("Enter");
    const done = await until("no \"Kubefile: built editor-test:v1\" message after the build", async () => {
      const t = await toasts();
      if (/build failed/.test(t)) throw new Error(t);
      return /Kubefile: built editor-test:v1/.test(t) ? t : undefined;
    }, 60000);
    await screenshot("build-done");
    const layout = path.join(workspace, "editor-test.oci", "index.json");
    if (!fs.existsSync(layout)) throw new Error(`no OCI layout at ${layout}`);
    await clearToasts();
    return done;
  });

  await step('"Kubefile: Restart server" restarts it and diagnostics come back', async () => {
    const item = page.locator('.statusbar-item[aria-label^="Kubefile language server"], .statusbar-item [aria-label^="Kubefile language server"]').first();
    await runCommand("Kubefile: Restart server");
    await until("the status item did not show the server running again", async () => {
      const label = (await item.getAttribute("aria-label", { timeout: 2000 })) ?? "";
      return /running/.test(label);
    });
    const panel = page.locator(".markers-panel");
    await until("diagnostics did not come back after the restart", async () => {
      const t = await panel.innerText({ timeout: 2000 });
      return expected.every((code) => t.includes(code));
    });
    return "running, diagnostics back";
  });

  // After the restart: the first server instance gets no textDocument/codeLens request from
  // code-server until the document changes (the lenses then appear as they do here).
  await step('the "images will be saved" code lens shows the same quick pick', async () => {
    await page.keyboard.press("Escape");
    const lens = page.locator(".monaco-editor .codelens-decoration a", { hasText: /images? will be saved/ }).first();
    await lens.waitFor({ state: "visible", timeout: 20000 });
    const title = (await lens.innerText()).trim();
    await lens.click();
    return `${title} -> ${await expectImagePick("code-lens-images")}`;
  });

  await step("completion list after typing `LABEL sealos.io.type=`", async () => {
    await page.locator(".monaco-editor .view-lines").first().click();
    await page.keyboard.press("Control+End");
    await page.keyboard.press("End");
    await page.keyboard.press("Enter");
    await page.keyboard.type("LABEL sealos.io.type=", { delay: 30 });
    const widget = page.locator(".editor-widget.suggest-widget");
    try {
      await widget.filter({ hasText: "rootfs" }).waitFor({ state: "visible", timeout: 3000 });
    } catch {
      await page.keyboard.press("Control+Space"); // the server may not trigger on `=`
    }
    await widget.filter({ hasText: "rootfs" }).waitFor({ state: "visible" });
    const items = await widget.locator(".monaco-list-row").allInnerTexts();
    await screenshot("completion");
    await page.keyboard.press("Escape");
    return items.map((s) => s.split("\n")[0]).join(", ");
  });

  await step("Enter after a trailing `\\` indents the continuation line", async () => {
    await page.keyboard.press("Escape");
    await page.locator(".monaco-editor .view-lines").first().click();
    await page.keyboard.press("Control+End");
    await page.keyboard.press("End");
    await page.keyboard.press("Enter");
    await page.keyboard.type("RUN echo a \\", { delay: 20 });
    await page.keyboard.press("Escape"); // a word suggestion would take the Enter
    await page.keyboard.press("Enter");
    await page.keyboard.type("b", { delay: 20 });
    // The rendered lines, in order (Monaco positions line elements absolutely).
    const renderedLines = () =>
      page.$$eval(".part.editor .monaco-editor .view-lines .view-line", (nodes) =>
        nodes
          .map((n) => ({ top: parseFloat(n.style.top), text: n.textContent.replace(/\u00a0/g, " ") }))
          .sort((a, b) => a.top - b.top)
          .map((l) => l.text),
      );
    let lines = [];
    const line = await until("no continuation line `b` after `RUN echo a \\`", async () => {
      lines = await renderedLines();
      const at = lines.findIndex((l) => l.trimEnd() === "RUN echo a \\");
      return at >= 0 && lines[at + 1]?.trim() === "b" ? lines[at + 1] : undefined;
    }, 5000).catch((e) => {
      throw new Error(`${e.message}; last lines: ${JSON.stringify(lines.slice(-3))}`);
    });
    if (!/^\s+b$/.test(line)) throw new Error(`the continuation line is not indented: ${JSON.stringify(line)}`);
    const text = JSON.stringify(line);
    await page.keyboard.press("Control+Z");
    return text;
  });

  if (consoleErrors.length) {
    log(`browser console errors mentioning kubefile:\n${consoleErrors.join("\n")}`);
  }
} catch (e) {
  log(`aborted: ${e.message}`);
  exitCode = 1;
} finally {
  await browser.close().catch(() => {});
}
process.exit(exitCode);
