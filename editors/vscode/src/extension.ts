// VS Code client for kubefile-ls: finds the server, starts it over stdio, mirrors the
// `kubefile.*` settings into it, and adds the build/images commands and a status bar item.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as vscode from "vscode";
import {
  CancellationToken,
  ConfigurationParams,
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
  WorkDoneProgress,
  WorkDoneProgressCancelNotification,
} from "vscode-languageclient/node";

const LANGUAGE_ID = "kubefile";
const BUILD_COMMAND = "kubefile.build";
const IMAGES_COMMAND = "kubefile.images";

let client: LanguageClient | undefined;
let serverPath: string | undefined;
let statusItem: vscode.StatusBarItem;
let outputChannel: vscode.OutputChannel;
let extensionContext: vscode.ExtensionContext;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  extensionContext = context;
  outputChannel = vscode.window.createOutputChannel("Kubefile Language Server");
  statusItem = vscode.window.createStatusBarItem("kubefile.status", vscode.StatusBarAlignment.Left, 0);
  statusItem.name = "Kubefile Language Server";
  statusItem.command = "kubefile.statusMenu";
  context.subscriptions.push(outputChannel, statusItem);

  context.subscriptions.push(
    vscode.commands.registerCommand("kubefile.restartServer", restartServer),
    // From an editor menu the first argument is the file's URI; from the palette there is none.
    vscode.commands.registerCommand("kubefile.buildImage", (uri?: unknown) => buildImage(asUri(uri))),
    vscode.commands.registerCommand("kubefile.showImages", (uri?: unknown) => showImages(asUri(uri))),
    vscode.commands.registerCommand("kubefile.showOutput", () => outputChannel.show(true)),
    vscode.commands.registerCommand("kubefile.statusMenu", statusMenu),
    vscode.window.onDidChangeActiveTextEditor(updateStatusVisibility),
    vscode.workspace.onDidChangeConfiguration(onConfigurationChanged),
  );

  setStatus("starting", "Starting kubefile-ls");
  await startServer();
}

export async function deactivate(): Promise<void> {
  if (client) {
    await client.stop().catch(() => undefined);
    client = undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Server discovery

function expandHome(p: string): string {
  return p.startsWith("~/") ? path.join(os.homedir(), p.slice(2)) : p;
}

function isExecutable(file: string): boolean {
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) {
      return false;
    }
    if (process.platform === "win32") {
      return true;
    }
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  const exe = process.platform === "win32" ? `${name}.exe` : name;
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, exe))) {
      return path.join(dir, exe);
    }
  }
  return undefined;
}

/** `kubefile.server.path`, else `kubefile-ls` on PATH, else the binary bundled in the .vsix. */
export function findServer(): { path?: string; source: string; error?: string } {
  const configured = vscode.workspace.getConfiguration("kubefile").get<string>("server.path", "").trim();
  if (configured) {
    const resolved = expandHome(configured);
    if (isExecutable(resolved)) {
      return { path: resolved, source: "setting kubefile.server.path" };
    }
    return {
      source: "setting kubefile.server.path",
      error: `kubefile.server.path is set to "${configured}", which is not an executable file.`,
    };
  }
  const fromPath = onPath("kubefile-ls");
  if (fromPath) {
    return { path: fromPath, source: "PATH" };
  }
  const bundled = extensionContext.asAbsolutePath(
    path.join("server", process.platform === "win32" ? "kubefile-ls.exe" : "kubefile-ls"),
  );
  if (fs.existsSync(bundled)) {
    if (!isExecutable(bundled)) {
      try {
        fs.chmodSync(bundled, 0o755); // zip extraction may drop the executable bit
      } catch {
        // reported below
      }
    }
    if (isExecutable(bundled)) {
      return { path: bundled, source: "bundled with the extension" };
    }
  }
  return {
    source: "none",
    error:
      "kubefile-ls was not found: set kubefile.server.path, or put kubefile-ls on PATH " +
      "(`cargo install --path server` in the kubefile-ls repository).",
  };
}

// ---------------------------------------------------------------------------------------------
// Settings

/** The server's configuration object: what `initializationOptions` and the `kubefile` section carry. */
export function serverSettings(scope?: vscode.ConfigurationScope): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration("kubefile", scope);
  const settings: Record<string, unknown> = {
    severity: config.get<Record<string, string>>("severity", {}),
    allowedLabels: config.get<string[]>("allowedLabels", []),
    knownVariables: config.get<string[]>("knownVariables", []),
  };
  const helmPath = config.get<string>("helm.path", "").trim();
  if (helmPath) {
    settings.helm = { path: expandHome(helmPath) };
  }
  const authFile = config.get<string>("registry.authFile", "").trim();
  if (authFile) {
    settings.registry = { authFile: expandHome(authFile) };
  }
  return settings;
}

async function onConfigurationChanged(event: vscode.ConfigurationChangeEvent): Promise<void> {
  if (!event.affectsConfiguration("kubefile")) {
    return;
  }
  if (event.affectsConfiguration("kubefile.server")) {
    const found = findServer();
    if (found.path !== serverPath || event.affectsConfiguration("kubefile.server.extraEnv")) {
      await restartServer();
      return;
    }
  }
  if (client?.isRunning()) {
    await client
      .sendNotification(DidChangeConfigurationNotification.type, { settings: { kubefile: serverSettings() } })
      .catch((e) => outputChannel.appendLine(`didChangeConfiguration failed: ${e}`));
  }
}

// ---------------------------------------------------------------------------------------------
// Client lifecycle

async function startServer(): Promise<void> {
  const found = findServer();
  serverPath = found.path;
  if (!found.path) {
    setStatus("error", found.error ?? "kubefile-ls not found");
    outputChannel.appendLine(found.error ?? "kubefile-ls not found");
    const choice = await vscode.window.showErrorMessage(found.error ?? "kubefile-ls not found", "Open Settings");
    if (choice === "Open Settings") {
      await vscode.commands.executeCommand("workbench.action.openSettings", "kubefile.server.path");
    }
    return;
  }
  outputChannel.appendLine(`Starting ${found.path} (${found.source})`);

  const extraEnv = vscode.workspace.getConfiguration("kubefile").get<Record<string, string>>("server.extraEnv", {});
  const serverOptions: ServerOptions = {
    command: found.path,
    args: [],
    options: { env: { ...process.env, ...extraEnv } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: LANGUAGE_ID },
      { scheme: "untitled", language: LANGUAGE_ID },
      // Image lists of a build context, whatever their language: the server checks them by path.
      { scheme: "file", pattern: "**/images/shim/**" },
      { scheme: "file", pattern: "**/images/skopeo/tar.txt" },
    ],
    outputChannel,
    initializationOptions: serverSettings(),
    middleware: {
      // Code lenses and code actions run the server's commands through the client, which drops
      // their results: run them as "Show images" and "Build image" do instead.
      executeCommand: async (command: string, args: any[], next) => {
        const uri = typeof args[0] === "string" ? vscode.Uri.parse(args[0]) : undefined;
        if (command === IMAGES_COMMAND) {
          return showImages(uri);
        }
        if (command === BUILD_COMMAND) {
          return buildImage(uri);
        }
        return next(command, args);
      },
      workspace: {
        // Answer `workspace/configuration` for our section with the server's settings shape
        // (without the client-only `server.*` and `trace.*` keys).
        configuration: async (params: ConfigurationParams, token: CancellationToken, next) => {
          const fallback = await next(params, token);
          return params.items.map((item, i) => {
            if (item.section === "kubefile") {
              const scope = item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined;
              return serverSettings(scope);
            }
            return Array.isArray(fallback) ? fallback[i] : null;
          });
        },
      },
    },
  };

  client = new LanguageClient("kubefile", "Kubefile Language Server", serverOptions, clientOptions);
  client.onDidChangeState((event) => {
    switch (event.newState) {
      case State.Starting:
        setStatus("starting", "Starting kubefile-ls");
        break;
      case State.Running:
        setStatus("running", runningTooltip());
        break;
      case State.Stopped:
        setStatus("stopped", "kubefile-ls stopped: click to restart");
        break;
    }
  });
  try {
    await client.start();
    setStatus("running", runningTooltip());
  } catch (e) {
    setStatus("error", `kubefile-ls failed to start: ${errorMessage(e)}`);
    outputChannel.appendLine(`kubefile-ls failed to start: ${errorMessage(e)}`);
    void vscode.window.showErrorMessage(`Kubefile: the language server failed to start (${errorMessage(e)}).`, "Show Output")
      .then((choice) => choice && outputChannel.show(true));
  }
}

async function restartServer(): Promise<void> {
  const old = client;
  client = undefined;
  if (old) {
    setStatus("starting", "Restarting kubefile-ls");
    try {
      await old.stop();
    } catch (e) {
      outputChannel.appendLine(`stopping the server failed: ${errorMessage(e)}`);
    }
    old.dispose().catch(() => undefined);
  }
  await startServer();
}

function runningTooltip(): string {
  const info = client?.initializeResult?.serverInfo;
  const name = info ? `${info.name}${info.version ? " " + info.version : ""}` : "kubefile-ls";
  return `${name} running\n${serverPath ?? ""}`;
}

type ServerStatus = "starting" | "running" | "stopped" | "error" | "busy";

function setStatus(status: ServerStatus, tooltip: string): void {
  const icon = {
    starting: "$(sync~spin)",
    running: "$(check)",
    stopped: "$(debug-stop)",
    error: "$(error)",
    busy: "$(loading~spin)",
  }[status];
  statusItem.text = `${icon} Kubefile`;
  statusItem.tooltip = tooltip;
  statusItem.backgroundColor =
    status === "error" || status === "stopped" ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
  statusItem.accessibilityInformation = { label: `Kubefile language server: ${status}` };
  void vscode.commands.executeCommand("setContext", "kubefile.serverRunning", status === "running" || status === "busy");
  updateStatusVisibility();
}

function updateStatusVisibility(): void {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId === LANGUAGE_ID) {
    statusItem.show();
  } else {
    statusItem.hide();
  }
}

async function statusMenu(): Promise<void> {
  const items: (vscode.QuickPickItem & { command: string })[] = [
    { label: "$(debug-restart) Restart server", command: "kubefile.restartServer" },
    { label: "$(output) Show server output", command: "kubefile.showOutput" },
    { label: "$(package) Build image", command: "kubefile.buildImage" },
    { label: "$(list-unordered) Show images", command: "kubefile.showImages" },
  ];
  const pick = await vscode.window.showQuickPick(items, { placeHolder: statusItem.tooltip?.toString() });
  if (pick) {
    await vscode.commands.executeCommand(pick.command);
  }
}

// ---------------------------------------------------------------------------------------------
// Server commands (kubefile.build, kubefile.images)

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The running client if the server advertises `command`; otherwise explains why not and returns undefined. */
function clientFor(command: string, what: string): LanguageClient | undefined {
  if (!client || !client.isRunning()) {
    void vscode.window.showErrorMessage(`Kubefile: the language server is not running, so it cannot ${what}.`, "Restart Server")
      .then((choice) => choice && restartServer());
    return undefined;
  }
  const commands = client.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
  if (!commands.includes(command)) {
    void vscode.window.showWarningMessage(
      `Kubefile: this kubefile-ls (${serverPath}) cannot ${what} yet: it does not offer the "${command}" command. ` +
        "Update kubefile-ls to a version that does.",
    );
    return undefined;
  }
  return client;
}

/** The Kubefile to act on: the active editor's, else a visible one, else the only open one. */
async function targetDocument(): Promise<vscode.TextDocument | undefined> {
  const active = vscode.window.activeTextEditor?.document;
  if (active?.languageId === LANGUAGE_ID) {
    return active;
  }
  const visible = vscode.window.visibleTextEditors.find((e) => e.document.languageId === LANGUAGE_ID);
  if (visible) {
    return visible.document;
  }
  const open = vscode.workspace.textDocuments.filter((d) => d.languageId === LANGUAGE_ID);
  if (open.length === 1) {
    return open[0];
  }
  const files = await vscode.workspace.findFiles("**/{Kubefile,Sealfile,*.Kubefile,Kubefile.*}", "**/node_modules/**", 50);
  if (files.length === 0) {
    void vscode.window.showWarningMessage("Kubefile: open a Kubefile first.");
    return undefined;
  }
  const pick =
    files.length === 1
      ? { uri: files[0] }
      : await vscode.window.showQuickPick(
          files.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })),
          { placeHolder: "Which Kubefile?" },
        );
  return pick ? vscode.workspace.openTextDocument(pick.uri) : undefined;
}

let lastTag = "";

function asUri(value: unknown): vscode.Uri | undefined {
  return value instanceof vscode.Uri ? value : undefined;
}

/** Opens `uri` (the Kubefile a code lens or action names), else asks which Kubefile. */
async function documentFor(uri: vscode.Uri | undefined): Promise<vscode.TextDocument | undefined> {
  return uri ? vscode.workspace.openTextDocument(uri) : targetDocument();
}

async function buildImage(uri?: vscode.Uri): Promise<void> {
  const lc = clientFor(BUILD_COMMAND, "build images");
  if (!lc) {
    return;
  }
  const document = await documentFor(uri);
  if (!document) {
    return;
  }
  const tag = await vscode.window.showInputBox({
    title: "Kubefile: Build image",
    prompt: "Image name and tag (leave empty for none)",
    placeHolder: "e.g. docker.io/me/my-app:v1.0.0",
    value: lastTag,
  });
  if (tag === undefined) {
    return;
  }
  lastTag = tag.trim();
  if (document.isDirty) {
    await document.save();
  }
  const options: Record<string, unknown> = {};
  if (lastTag) {
    options.tags = [lastTag];
  }
  if (!vscode.workspace.getConfiguration("kubefile", document.uri).get<boolean>("build.saveImage", true)) {
    options.saveImage = false;
  }
  const args: unknown[] = [document.uri.toString()];
  if (Object.keys(options).length > 0) {
    args.push(options);
  }

  const started = Date.now();
  setStatus("busy", "kubefile-ls: building an image");
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "Kubefile: building image", cancellable: true },
      async (progress, cancel) => {
        const workDoneToken = `kubefile-build-${started}-${Math.random().toString(36).slice(2)}`;
        let reported = 0;
        const listener = lc.onProgress(WorkDoneProgress.type, workDoneToken, (value) => {
          if (value.kind === "end") {
            progress.report({ message: value.message });
            return;
          }
          const message = value.kind === "begin" ? value.message ?? value.title : value.message;
          const percentage = value.percentage;
          if (percentage !== undefined && percentage > reported) {
            progress.report({ message, increment: percentage - reported });
            reported = percentage;
          } else {
            progress.report({ message });
          }
        });
        const cancelListener = cancel.onCancellationRequested(() => {
          void lc.sendNotification(WorkDoneProgressCancelNotification.type, { token: workDoneToken });
        });
        try {
          return await lc.sendRequest(
            ExecuteCommandRequest.type,
            { command: BUILD_COMMAND, arguments: args, workDoneToken },
            cancel,
          );
        } finally {
          listener.dispose();
          cancelListener.dispose();
        }
      },
    );
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    void vscode.window.showInformationMessage(`Kubefile: built ${describeBuildResult(result) ?? "the image"} in ${seconds}s.`);
  } catch (e) {
    const message = errorMessage(e);
    if (/cancel/i.test(message)) {
      void vscode.window.showInformationMessage("Kubefile: build cancelled.");
    } else {
      void vscode.window.showErrorMessage(`Kubefile: build failed: ${message}`, "Show Output")
        .then((choice) => choice && outputChannel.show(true));
    }
  } finally {
    setStatus(client?.isRunning() ? "running" : "stopped", runningTooltip());
  }
}

function describeBuildResult(result: unknown): string | undefined {
  if (typeof result === "string") {
    return result;
  }
  if (result && typeof result === "object") {
    const r = result as Record<string, unknown>;
    const name = r.image ?? r.name ?? (Array.isArray(r.tags) ? r.tags.join(", ") : undefined) ?? r.output;
    const digest = typeof r.digest === "string" ? ` (${r.digest.slice(0, 19)})` : "";
    return name ? `${name}${digest}` : undefined;
  }
  return undefined;
}

interface ImageEntry {
  image: string;
  source?: string;
  location?: vscode.Location;
  detail?: string;
}

/** Accepts the shapes a `kubefile.images` result may take: an array, or `{images: [...]}`. */
export function parseImages(result: unknown, base: vscode.Uri): ImageEntry[] {
  const list = Array.isArray(result)
    ? result
    : result && typeof result === "object" && Array.isArray((result as { images?: unknown }).images)
      ? (result as { images: unknown[] }).images
      : [];
  const entries: ImageEntry[] = [];
  for (const raw of list) {
    if (typeof raw === "string") {
      entries.push({ image: raw });
      continue;
    }
    if (!raw || typeof raw !== "object") {
      continue;
    }
    const item = raw as Record<string, any>;
    const image = item.image ?? item.name ?? item.reference;
    if (typeof image !== "string") {
      continue;
    }
    let location: vscode.Location | undefined;
    const loc = item.location;
    if (loc && typeof loc.uri === "string" && loc.range) {
      location = new vscode.Location(
        vscode.Uri.parse(loc.uri),
        new vscode.Position(loc.range.start.line, loc.range.start.character),
      );
    } else {
      const file = item.uri ?? item.file ?? item.path;
      if (typeof file === "string") {
        const uri = /^[a-z][a-z0-9+.-]*:/i.test(file)
          ? vscode.Uri.parse(file)
          : path.isAbsolute(file)
            ? vscode.Uri.file(file)
            : vscode.Uri.joinPath(base, file);
        const line = typeof item.line === "number" ? Math.max(0, item.line - 1) : 0; // 1-based like the CLI
        location = new vscode.Location(uri, new vscode.Position(line, 0));
      }
    }
    const source = [item.source, item.chart].filter((s) => typeof s === "string").join(" ");
    const detail = typeof item.registry_path === "string" ? `registry/${item.registry_path}` : undefined;
    entries.push({ image, source: source || undefined, location, detail });
  }
  return entries;
}

async function showImages(uri?: vscode.Uri): Promise<void> {
  const lc = clientFor(IMAGES_COMMAND, "list images");
  if (!lc) {
    return;
  }
  const document = await documentFor(uri);
  if (!document) {
    return;
  }
  let result: unknown;
  try {
    result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: "Kubefile: extracting images" },
      () => lc.sendRequest(ExecuteCommandRequest.type, { command: IMAGES_COMMAND, arguments: [document.uri.toString()] }),
    );
  } catch (e) {
    void vscode.window.showErrorMessage(`Kubefile: listing images failed: ${errorMessage(e)}`);
    return;
  }
  const images = parseImages(result, vscode.Uri.joinPath(document.uri, ".."));
  if (images.length === 0) {
    void vscode.window.showInformationMessage(
      "Kubefile: this build context has no images to save (charts/, manifests/, images/shim/, images/skopeo/tar.txt).",
    );
    return;
  }
  const pick = await vscode.window.showQuickPick(
    images.map((entry) => ({
      label: entry.image,
      description: [
        entry.source,
        entry.location ? `${vscode.workspace.asRelativePath(entry.location.uri)}:${entry.location.range.start.line + 1}` : undefined,
      ]
        .filter(Boolean)
        .join(" · "),
      detail: entry.detail,
      entry,
    })),
    {
      title: `Kubefile: ${images.length} image${images.length === 1 ? "" : "s"} will be saved into registry/`,
      placeHolder: "Select an image to go to where it comes from",
      matchOnDescription: true,
    },
  );
  if (pick?.entry.location) {
    const editor = await vscode.window.showTextDocument(pick.entry.location.uri);
    const position = pick.entry.location.range.start;
    editor.selection = new vscode.Selection(position, position);
    editor.revealRange(new vscode.Range(position, position), vscode.TextEditorRevealType.InCenter);
  }
}
