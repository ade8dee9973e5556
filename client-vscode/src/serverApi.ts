/**
 * What this extension asks of the paperlens server beyond LSP proper (no `vscode` import).
 *
 * The server's commands (sent with workspace/executeCommand) are namespaced `paperlens.server.*`,
 * apart from this extension's own `paperlens.*` commands: vscode-languageclient registers every
 * command the server announces as a VS Code command, and two registrations of one id would fail
 * the client's start.
 */
import type { ServerStatus } from './format';

export const SERVER_COMMANDS = {
  /** [query, limit?] -> ranked passages */
  search: 'paperlens.server.search',
  /** [query, limit?] -> papers matching typed words [{key, title, year, authors}] */
  papers: 'paperlens.server.papers',
  /** [rebuild?] -> schedules a (re)index */
  reindex: 'paperlens.server.reindex',
  /** [] -> the index status (as the `paperlens/status` notification carries it) */
  status: 'paperlens.server.status',
  /** [file uri of a library PDF] -> where its extracted text is */
  openPaperText: 'paperlens.server.openPaperText',
  /** [uri, {line, character}, key] -> {range, newText}: what to insert for that key there */
  citationInsert: 'paperlens.server.citationInsert',
} as const;

/** Pushed by the server whenever the index status changes (params: what `status` returns). */
export const STATUS_NOTIFICATION = 'paperlens/status';

/** Sends one server command (workspace/executeCommand) and resolves to its answer. */
export type Exec = (command: string, args: unknown[]) => Promise<unknown>;

export interface Disposable {
  dispose(): void;
}

/** The part of a language client the status follower uses (a fake one in the unit tests). */
export interface StatusSource {
  onNotification(method: string, handler: (params: unknown) => void): Disposable;
  exec: Exec;
}

function isStatus(value: unknown): value is ServerStatus {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Follows the server's index status: listens to `paperlens/status`, then asks once (the status
 * before the first change). Each answer or notification replaces the last one, in the order they
 * arrive, which is the order the server made them. No polling.
 */
export function followStatus(
  source: StatusSource,
  onStatus: (status: ServerStatus) => void,
  onError: (message: string) => void,
): Disposable {
  let stopped = false;
  let pushed = false;
  const listener = source.onNotification(STATUS_NOTIFICATION, (params) => {
    if (stopped) return;
    if (!isStatus(params)) {
      onError(`${STATUS_NOTIFICATION} carried ${JSON.stringify(params)}, not a status object`);
      return;
    }
    pushed = true;
    onStatus(params);
  });
  source.exec(SERVER_COMMANDS.status, []).then(
    (answer) => {
      // a notification that arrived before this answer was made before it too: the answer wins;
      // one made after it arrives after it
      if (stopped) return;
      if (isStatus(answer)) onStatus(answer);
      else if (!pushed) onError(`${SERVER_COMMANDS.status} answered ${JSON.stringify(answer)}, not a status object`);
    },
    (err: unknown) => {
      if (!stopped) onError(`${SERVER_COMMANDS.status} failed: ${err instanceof Error ? err.message : String(err)}`);
    },
  );
  return {
    dispose: () => {
      stopped = true;
      listener.dispose();
    },
  };
}
