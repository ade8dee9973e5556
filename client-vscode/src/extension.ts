/**
 * paperlens for VS Code: starts `<python> -m paperlens serve` through vscode-languageclient and adds
 * commands (search papers, insert citation, show summary, ...) and a status bar item.
 */
import * as cp from 'child_process';
import * as readline from 'readline';
import * as vscode from 'vscode';
import {
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
  TransportKind,
  WorkDoneProgressBegin,
  WorkDoneProgressEnd,
  WorkDoneProgressReport,
} from 'vscode-languageclient/node';

import { citationEdits, keyAt, Range as LspRange, TextEdit } from './cite';
import {
  cardForPreview,
  formatPaper,
  formatSearchResult,
  noLinks,
  PaperInfo,
  papersFromResults,
  resultTarget,
  SearchResult,
  ServerStatus,
  statusView,
} from './format';
import { latestSearch } from './latest';
import {
  chooseInterpreter,
  CheckFailure,
  describeInterpreter,
  IMPORT_CHECK_ARGS,
  importFailureMessage,
  Interpreter,
  SERVER_ARGS,
} from './python';
import { onPythonInterpreterChanged, PYTHON_EXTENSION_ID, pythonExtensionInterpreter } from './pythonExtension';
import { stderrLine } from './serverlog';
import { SERVER_COMMANDS, followStatus } from './serverApi';
import { initializationOptions, normaliseSettings, RESTART_SETTINGS, settingsSchema, SettingsSchema, toServerSettings } from './settings';

/** Languages whose documents the server serves (hover, definition, completion). */
export const LANGUAGES = ['latex', 'tex', 'bibtex', 'markdown', 'typst', 'org', 'plaintext'];

const SEARCH_LIMIT = 30;
const CARD_SCHEME = 'paperlens-card';

type ResultItem = vscode.QuickPickItem & { result?: SearchResult };
type PaperItem = vscode.QuickPickItem & { paper?: PaperInfo };

function rawSettings(): unknown {
  return vscode.workspace.getConfiguration().get('paperlens') ?? {};
}

function firstWorkspaceFolder(): vscode.WorkspaceFolder | undefined {
  return vscode.workspace.workspaceFolders?.[0];
}

function checkImport(python: string, cwd: string | undefined): Promise<{ version?: string; failure?: CheckFailure }> {
  return new Promise((resolve) => {
    cp.execFile(python, [...IMPORT_CHECK_ARGS], { cwd, timeout: 60000, windowsHide: true }, (err, stdout, stderr) => {
      if (!err) {
        resolve({ version: String(stdout).trim() });
        return;
      }
      const code = (err as NodeJS.ErrnoException).code;
      const notFound = code === 'ENOENT' || code === 'EACCES' || code === 'ENOTDIR';
      resolve({ failure: { notFound, detail: notFound ? err.message : String(stderr || err.message) } });
    });
  });
}

/** The card store behind `paperlens-card:` documents (Show Paper Summary). */
class CardProvider implements vscode.TextDocumentContentProvider {
  private readonly cards = new Map<string, string>();
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;

  set(uri: vscode.Uri, markdown: string): void {
    this.cards.set(uri.toString(), markdown);
    this.emitter.fire(uri);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.cards.get(uri.toString()) ?? '';
  }
}

/**
 * Opens the Settings editor on paperlens.server.pythonPath. The setting is machine-overridable, so
 * in a remote window (SSH, WSL, containers, code-server) it lives in the Remote settings: the User
 * tab would say "No Settings Found".
 */
async function openPythonPathSetting(): Promise<void> {
  const query = 'paperlens.server.pythonPath';
  if (vscode.env.remoteName) {
    try {
      await vscode.commands.executeCommand('workbench.action.openRemoteSettings', { query });
      return;
    } catch {
      // an editor without remote settings: fall back to the usual Settings editor
    }
  }
  await vscode.commands.executeCommand('workbench.action.openSettings', query);
}

class Paperlens implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<LanguageClient | undefined> | undefined;
  private readonly output: vscode.LogOutputChannel;
  private readonly statusItem: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  private serverStatus: ServerStatus | undefined;
  private progress: { pct?: number; message?: string } | undefined;
  private clientErrors: string[] = [];
  private stoppedReason: string | undefined;
  private statusFeed: vscode.Disposable | undefined;
  private interpreter: Interpreter | undefined;
  private readonly cards = new CardProvider();
  private pythonWatch: vscode.Disposable | undefined;
  /** The settings schema: this extension's contributes.configuration (generated from config.py). */
  private readonly schema: SettingsSchema;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.schema = settingsSchema(context.extension.packageJSON);
    this.output = vscode.window.createOutputChannel('paperlens', { log: true });
    this.statusItem = vscode.window.createStatusBarItem('paperlens.status', vscode.StatusBarAlignment.Left, 10);
    this.statusItem.name = 'paperlens';
    this.statusItem.command = 'paperlens.searchPapers';
    this.disposables.push(this.output, this.statusItem);
    this.clientErrors = normaliseSettings(this.schema, rawSettings()).errors;
    this.render();
    this.statusItem.show();
  }

  // -- server lifecycle ------------------------------------------------------------------------

  async start(): Promise<LanguageClient | undefined> {
    if (this.client && this.client.state === State.Running) return this.client;
    if (!this.starting) {
      this.starting = this.doStart().finally(() => {
        this.starting = undefined;
      });
    }
    return this.starting;
  }

  private async doStart(): Promise<LanguageClient | undefined> {
    this.stoppedReason = undefined;
    this.render(true);
    const folder = firstWorkspaceFolder();
    const normalised = normaliseSettings(this.schema, rawSettings());
    this.clientErrors = normalised.errors;
    for (const e of normalised.errors) this.output.appendLine(`[client] settings: ${e}`);
    const fromExt = normalised.settings.pythonPath ? undefined : await pythonExtensionInterpreter(folder?.uri);
    const interp = chooseInterpreter({
      configured: normalised.settings.pythonPath,
      pythonExtension: fromExt,
      workspaceFolder: folder?.uri.fsPath,
    });
    this.interpreter = interp;
    this.output.appendLine(`[client] using ${describeInterpreter(interp)}`);
    const check = await checkImport(interp.command, folder?.uri.fsPath);
    if (check.failure) {
      const msg = importFailureMessage(interp, check.failure);
      this.output.appendLine(`[client] ${msg}`);
      this.stoppedReason = msg;
      this.render();
      this.showStartError(msg);
      return undefined;
    }
    this.output.appendLine(`[client] paperlens ${check.version ?? ''} found; starting ${interp.command} ${SERVER_ARGS.join(' ')}`);

    const serverOptions: ServerOptions = {
      command: interp.command,
      args: [...SERVER_ARGS],
      transport: TransportKind.stdio, // the client appends --stdio; `paperlens serve` accepts it
      options: { cwd: folder?.uri.fsPath, env: { ...process.env, PYTHONUNBUFFERED: '1' } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: LANGUAGES.map((language) => ({ scheme: 'file', language })),
      outputChannel: this.output,
      stdioOptions: {
        stdout: (input, channel) => {
          readline.createInterface({ input, crlfDelay: Infinity, terminal: false }).on('line', (l) => channel.info(l));
        },
        // the server logs to stderr and (once initialised) as window/logMessage: show each record once
        stderr: (input, channel) => {
          readline.createInterface({ input, crlfDelay: Infinity, terminal: false }).on('line', (l) => {
            const out = stderrLine(l, this.client?.state === State.Running && this.client.initializeResult !== undefined);
            if (out) channel[out.level](out.text);
          });
        },
      },
      initializationOptions: () => initializationOptions(this.schema, rawSettings()),
      synchronize: { configurationSection: 'paperlens' },
      middleware: {
        workspace: {
          // answer workspace/configuration with the server's settings tree (trace as a string,
          // no client-only keys), validated like the server does
          configuration: async (params, token, next) => {
            const result = await next(params, token);
            if (!Array.isArray(result)) return result;
            return result.map((value, i) => (params.items[i]?.section === 'paperlens' ? toServerSettings(this.schema, value) : value));
          },
        },
        handleWorkDoneProgress: (token, params, next) => {
          this.onProgress(params);
          next(token, params);
        },
      },
    };
    const client = new LanguageClient('paperlens', 'paperlens', serverOptions, clientOptions);
    client.onDidChangeState((e) => {
      if (e.newState === State.Stopped && this.client === client) {
        this.progress = undefined;
        this.stoppedReason = this.stoppedReason ?? 'The paperlens server stopped. Run "paperlens: Restart Server".';
        this.render();
      } else if (e.newState === State.Running) {
        this.stoppedReason = undefined;
        this.render();
      }
    });
    this.client = client;
    try {
      await client.start();
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      // a server from before the namespaced command ids announces paperlens.reindex and
      // paperlens.openPaperText, which are this extension's own commands
      const old = /command '?paperlens\.(reindex|openPaperText)'? already exists/i.test(why)
        ? ' The paperlens package of this Python is older than the extension: pip install -U paperlens.'
        : '';
      const msg = `paperlens: the server did not start (${why}).${old}`;
      this.output.appendLine(`[client] ${msg}`);
      this.stoppedReason = msg;
      this.render();
      this.showStartError(msg);
      return undefined;
    }
    this.stoppedReason = undefined;
    this.followStatus(client);
    void this.watchPythonExtension();
    return client;
  }

  private showStartError(msg: string): void {
    const buttons = ['Open Setting', 'Show Output'];
    if (vscode.extensions.getExtension(PYTHON_EXTENSION_ID)) buttons.splice(1, 0, 'Select Interpreter');
    void vscode.window.showErrorMessage(noLinks(msg), ...buttons).then((choice) => {
      if (choice === 'Open Setting') {
        void openPythonPathSetting();
      } else if (choice === 'Select Interpreter') {
        void vscode.commands.executeCommand('python.setInterpreter');
      } else if (choice === 'Show Output') {
        this.output.show(true);
      }
    });
  }

  private async watchPythonExtension(): Promise<void> {
    if (this.pythonWatch || this.interpreter?.source === 'setting') return;
    this.pythonWatch = await onPythonInterpreterChanged(() => {
      if (this.interpreter?.source !== 'setting') {
        this.output.appendLine('[client] the Python interpreter changed: restarting the server');
        void this.restart();
      }
    });
    if (this.pythonWatch) this.disposables.push(this.pythonWatch);
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.statusFeed?.dispose();
    this.statusFeed = undefined;
    if (client) {
      try {
        if (client.state !== State.Stopped) await client.stop(5000);
      } catch (e) {
        this.output.appendLine(`[client] stopping the server: ${e instanceof Error ? e.message : String(e)}`);
      }
      await client.dispose().catch(() => undefined);
    }
  }

  async restart(): Promise<void> {
    if (this.starting) await this.starting;
    await this.stop();
    this.serverStatus = undefined;
    this.progress = undefined;
    await this.start();
  }

  onConfigurationChanged(e: vscode.ConfigurationChangeEvent): void {
    if (!e.affectsConfiguration('paperlens')) return;
    this.clientErrors = normaliseSettings(this.schema, rawSettings()).errors;
    for (const err of this.clientErrors) this.output.appendLine(`[client] settings: ${err}`);
    this.render();
    // the others reach the server (workspace/didChangeConfiguration), which pushes its new status
    if (RESTART_SETTINGS.some((name) => e.affectsConfiguration(name))) void this.restart();
  }

  // -- requests --------------------------------------------------------------------------------

  private async running(): Promise<LanguageClient | undefined> {
    const client = await this.start();
    if (!client) {
      void vscode.window.showWarningMessage('paperlens: the server is not running.', 'Show Output').then((c) => {
        if (c) this.output.show(true);
      });
    }
    return client;
  }

  /** Commands the server announced in its capabilities. */
  serverCommands(): string[] {
    return this.client?.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
  }

  async exec<T>(command: string, args: unknown[] = []): Promise<T> {
    const client = this.client && this.client.state === State.Running ? this.client : await this.running();
    if (!client) throw new Error('the paperlens server is not running');
    return (await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args })) as T;
  }

  // -- status bar ------------------------------------------------------------------------------

  private render(starting = false): void {
    const view = statusView({
      status: this.serverStatus,
      progress: this.progress?.pct,
      progressMessage: this.progress?.message,
      clientErrors: this.clientErrors,
      stoppedReason: this.stoppedReason,
      starting: starting || this.starting !== undefined,
    });
    this.statusItem.text = view.text;
    this.statusItem.tooltip = view.tooltip;
    this.statusItem.command = view.action === 'restart' ? 'paperlens.restartServer' : 'paperlens.searchPapers';
    this.statusItem.backgroundColor = view.warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  }

  private onProgress(params: WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd): void {
    if (params.kind === 'end') {
      this.progress = undefined;
      this.render();
      return;
    }
    this.progress = {
      pct: params.percentage ?? this.progress?.pct ?? 0,
      message: params.message ?? this.progress?.message,
    };
    this.render();
  }

  /** Asks the server its status once, then follows its `paperlens/status` notifications. */
  private followStatus(client: LanguageClient): void {
    this.statusFeed?.dispose();
    this.statusFeed = followStatus(
      {
        onNotification: (method, handler) => client.onNotification(method, handler),
        exec: (command, args) => client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args }),
      },
      (status) => {
        if (this.client !== client) return;
        this.serverStatus = status;
        this.render();
      },
      (message) => this.output.appendLine(`[client] ${message}`),
    );
  }

  // -- commands --------------------------------------------------------------------------------

  async searchPapers(initial?: string): Promise<void> {
    if (!(await this.running())) return;
    const qp = vscode.window.createQuickPick<ResultItem>();
    qp.title = 'paperlens: Search Papers';
    qp.placeholder = 'Search the passages of your papers (two letters or more)';
    qp.matchOnDescription = false;
    qp.matchOnDetail = false;
    const search = latestSearch<SearchResult[]>({
      delayMs: 150,
      fetch: (q) => (q.trim().length < 2 ? Promise.resolve([]) : this.exec<SearchResult[]>(SERVER_COMMANDS.search, [q.trim(), SEARCH_LIMIT])),
      onBusy: (busy) => {
        qp.busy = busy;
      },
      deliver: (q, results) => {
        const items: ResultItem[] = (results ?? []).map((r) => ({ ...formatSearchResult(r), alwaysShow: true, result: r }));
        if (!items.length && q.trim().length >= 2) {
          items.push({ label: '$(info) No passage matches', description: q.trim(), alwaysShow: true });
        }
        qp.items = items;
      },
      onError: (_q, err) => {
        qp.items = [{ label: '$(error) Search failed', detail: err instanceof Error ? err.message : String(err), alwaysShow: true }];
      },
    });
    qp.onDidChangeValue((v) => search.update(v));
    qp.onDidAccept(() => {
      const item = qp.selectedItems[0];
      if (!item?.result) return;
      qp.hide();
      void this.openResult(item.result);
    });
    qp.onDidHide(() => {
      search.dispose();
      qp.dispose();
    });
    const editor = vscode.window.activeTextEditor;
    const selected = initial ?? (editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : '');
    if (selected && selected.length < 200 && !selected.includes('\n')) {
      qp.value = selected;
      search.now(selected);
    }
    qp.show();
  }

  private async openResult(r: SearchResult): Promise<void> {
    const target = resultTarget(r);
    const uri = target.uri ? vscode.Uri.parse(target.uri) : vscode.Uri.file(target.file);
    if (target.pdf) {
      if (this.serverCommands().includes(SERVER_COMMANDS.openPaperText)) {
        await this.openPaperText(uri, target.line0);
        return;
      }
      const where = r.page ? ` (p. ${r.page})` : '';
      const choice = await vscode.window.showInformationMessage(
        `paperlens: the passage is in ${noLinks(target.file)}${where}. This server cannot show paper texts of PDFs yet.`,
        'Open PDF',
        'Reveal in Explorer',
      );
      if (choice === 'Open PDF') await vscode.env.openExternal(uri);
      else if (choice === 'Reveal in Explorer') await vscode.commands.executeCommand('revealInExplorer', uri);
      return;
    }
    const range = new vscode.Range(target.line0, 0, target.lineEnd0, 0);
    const editor = await vscode.window.showTextDocument(uri, { selection: new vscode.Range(target.line0, 0, target.line0, 0), preview: true });
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  async insertCitation(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('paperlens: open a document to insert a citation.');
      return;
    }
    if (!(await this.running())) return;
    const hasPapers = this.serverCommands().includes(SERVER_COMMANDS.papers);
    const qp = vscode.window.createQuickPick<PaperItem>();
    qp.title = 'paperlens: Insert Citation';
    qp.placeholder = hasPapers ? 'Type author, title words or year' : 'Type title words, authors or topic (two letters or more)';
    qp.matchOnDescription = true;
    qp.matchOnDetail = true;
    const fetchPapers = async (q: string): Promise<PaperInfo[]> => {
      if (hasPapers) {
        // a server command listing papers: [{key, title, year, authors}] (as `paperlens cite --json`)
        const res = await this.exec<PaperInfo[] | { results?: PaperInfo[] }>(SERVER_COMMANDS.papers, [q.trim(), 50]);
        return Array.isArray(res) ? res : res?.results ?? [];
      }
      if (q.trim().length < 2) return [];
      const hits = await this.exec<SearchResult[]>(SERVER_COMMANDS.search, [q.trim(), 60]);
      return papersFromResults(hits ?? []);
    };
    const search = latestSearch<PaperInfo[]>({
      delayMs: 150,
      fetch: fetchPapers,
      onBusy: (busy) => {
        qp.busy = busy;
      },
      deliver: (_q, papers) => {
        qp.items = papers.map((p) => ({ ...formatPaper(p), alwaysShow: true, paper: p }));
      },
      onError: (_q, err) => {
        qp.items = [{ label: '$(error) paperlens failed', detail: err instanceof Error ? err.message : String(err), alwaysShow: true }];
      },
    });
    qp.onDidChangeValue((v) => search.update(v));
    const picked = new Promise<PaperInfo | undefined>((resolve) => {
      qp.onDidAccept(() => {
        const p = qp.selectedItems[0]?.paper;
        if (p) {
          resolve(p);
          qp.hide();
        }
      });
      qp.onDidHide(() => {
        resolve(undefined);
        search.dispose();
        qp.dispose();
      });
    });
    if (hasPapers) search.now('');
    qp.show();
    const paper = await picked;
    if (!paper) return;
    await this.insertKey(editor, paper.key);
  }

  /** Inserts `key` at each selection in the document's citation syntax, as the server says. */
  private async insertKey(editor: vscode.TextEditor, key: string): Promise<void> {
    const doc = editor.document;
    const client = this.client;
    if (!client) return;
    const version = doc.version;
    const served = doc.uri.scheme === 'file' && LANGUAGES.includes(doc.languageId);
    const selections: LspRange[] = editor.selections.map((s) => ({
      start: { line: s.start.line, character: s.start.character },
      end: { line: s.end.line, character: s.end.character },
    }));
    let edits: TextEdit[];
    try {
      const uri = client.code2ProtocolConverter.asUri(doc.uri);
      edits = await citationEdits((command, args) => this.exec(command, args), uri, selections, key, served);
    } catch (e) {
      void vscode.window.showErrorMessage(`paperlens: cannot insert the citation: ${noLinks(e instanceof Error ? e.message : String(e))}`);
      return;
    }
    if (doc.version !== version) {
      void vscode.window.showInformationMessage('paperlens: the document changed while the citation was prepared; run Insert Citation again.');
      return;
    }
    await editor.edit((b) => {
      for (const e of edits) {
        b.replace(new vscode.Range(e.range.start.line, e.range.start.character, e.range.end.line, e.range.end.character), e.newText);
      }
    });
  }

  async showSummary(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('paperlens: put the cursor on a citation key first.');
      return;
    }
    if (!(await this.running())) return;
    const pos = editor.selection.active;
    const key = keyAt(editor.document.lineAt(pos.line).text, pos.character);
    const hovers = (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, pos)) ?? [];
    const parts: string[] = [];
    for (const h of hovers) {
      for (const c of h.contents) {
        const value = typeof c === 'string' ? c : (c as vscode.MarkdownString).value ?? (c as { value?: string }).value;
        if (value && value.trim()) parts.push(value.trim());
      }
    }
    if (!parts.length) {
      void vscode.window.showInformationMessage(
        key ? `paperlens: no paper card for "${noLinks(key)}".` : 'paperlens: put the cursor on a citation key first.',
      );
      return;
    }
    const name = (key ?? 'paper').replace(/[^A-Za-z0-9_.-]+/g, '_');
    const uri = vscode.Uri.from({ scheme: CARD_SCHEME, path: `/${name}.md` });
    this.cards.set(uri, cardForPreview(parts.join('\n\n---\n\n')) + '\n');
    const doc = await vscode.workspace.openTextDocument(uri);
    try {
      await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
    } catch {
      // keep plain text
    }
    try {
      await vscode.commands.executeCommand('markdown.showPreviewToSide', uri);
    } catch {
      await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true });
    }
  }

  async openPaperText(arg?: unknown, line0?: number): Promise<void> {
    let uri: vscode.Uri | undefined;
    if (arg instanceof vscode.Uri) uri = arg;
    else if (typeof arg === 'string') uri = arg.includes(':') && !/^[A-Za-z]:[\\/]/.test(arg) ? vscode.Uri.parse(arg) : vscode.Uri.file(arg);
    else uri = vscode.window.activeTextEditor?.document.uri;
    if (!uri) {
      void vscode.window.showInformationMessage('paperlens: open a paper (or pass its file) to see its text.');
      return;
    }
    if (!(await this.running())) return;
    if (!this.serverCommands().includes(SERVER_COMMANDS.openPaperText)) {
      void vscode.window.showInformationMessage(
        `paperlens: this version of the server cannot show the extracted text of ${noLinks(uri.fsPath)} (no ${SERVER_COMMANDS.openPaperText} command).`,
      );
      return;
    }
    type Answer = string | { uri?: string; line?: number; text?: string; title?: string } | null;
    const res = await this.exec<Answer>(SERVER_COMMANDS.openPaperText, [uri.toString()]);
    if (!res) {
      void vscode.window.showInformationMessage(`paperlens: no paper text for ${noLinks(uri.fsPath)}.`);
      return;
    }
    if (typeof res === 'string' || res.uri) {
      const target = vscode.Uri.parse(typeof res === 'string' ? res : (res.uri as string));
      const line = typeof res === 'object' && typeof res.line === 'number' ? Math.max(0, res.line - 1) : line0 ?? 0;
      await vscode.window.showTextDocument(target, { selection: new vscode.Range(line, 0, line, 0), preview: true });
      return;
    }
    if (res.text !== undefined) {
      const doc = await vscode.workspace.openTextDocument({ content: res.text, language: 'markdown' });
      const line = line0 ?? 0;
      await vscode.window.showTextDocument(doc, { selection: new vscode.Range(line, 0, line, 0), preview: true });
    }
  }

  async reindex(rebuild = false): Promise<void> {
    try {
      await this.exec(SERVER_COMMANDS.reindex, rebuild ? [true] : []);
      this.output.appendLine(`[client] re-index${rebuild ? ' (rebuild)' : ''} scheduled`);
    } catch (e) {
      void vscode.window.showErrorMessage(`paperlens: re-index failed: ${noLinks(e instanceof Error ? e.message : String(e))}`);
    }
  }

  register(): void {
    const reg = (id: string, fn: (...args: any[]) => unknown) =>
      this.disposables.push(vscode.commands.registerCommand(id, fn));
    reg('paperlens.searchPapers', (q?: unknown) => this.searchPapers(typeof q === 'string' ? q : undefined));
    reg('paperlens.insertCitation', () => this.insertCitation());
    reg('paperlens.showSummary', () => this.showSummary());
    reg('paperlens.openPaperText', (arg?: unknown) => this.openPaperText(arg));
    reg('paperlens.reindex', (rebuild?: unknown) => this.reindex(rebuild === true));
    reg('paperlens.restartServer', () => this.restart());
    reg('paperlens.showOutput', () => this.output.show(true));
    this.disposables.push(
      vscode.workspace.registerTextDocumentContentProvider(CARD_SCHEME, this.cards),
      vscode.workspace.onDidChangeConfiguration((e) => this.onConfigurationChanged(e)),
    );
  }

  dispose(): void {
    this.statusFeed?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

let paperlens: Paperlens | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<{ paperlens: Paperlens }> {
  paperlens = new Paperlens(context);
  paperlens.register();
  context.subscriptions.push(paperlens);
  void paperlens.start();
  return { paperlens };
}

export async function deactivate(): Promise<void> {
  if (paperlens) await paperlens.stop();
  paperlens = undefined;
}
