/**
 * Search-as-you-type plumbing (no `vscode` import): debounce the typed text, send one request per
 * pause, and deliver only the answer to the latest request (stale answers are dropped).
 */

export interface LatestSearchOptions<T> {
  fetch: (query: string) => Promise<T>;
  deliver: (query: string, result: T) => void;
  onError?: (query: string, error: unknown) => void;
  /** Called with true when a request is sent and false when the latest one has settled. */
  onBusy?: (busy: boolean) => void;
  delayMs?: number;
}

export interface LatestSearch {
  /** The text changed: (re)start the debounce timer. */
  update(query: string): void;
  /** Search now, without waiting (e.g. for the initial list). */
  now(query: string): void;
  dispose(): void;
  /** Sequence number of the latest request sent (for tests). */
  readonly sent: number;
}

export function latestSearch<T>(opts: LatestSearchOptions<T>): LatestSearch {
  const delay = opts.delayMs ?? 150;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let seq = 0;
  let disposed = false;

  const run = (query: string): void => {
    if (disposed) return;
    const mine = ++seq;
    opts.onBusy?.(true);
    let p: Promise<T>;
    try {
      p = opts.fetch(query);
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(
      (result) => {
        if (disposed || mine !== seq) return; // a newer request was sent: this answer is stale
        opts.onBusy?.(false);
        opts.deliver(query, result);
      },
      (error) => {
        if (disposed || mine !== seq) return;
        opts.onBusy?.(false);
        opts.onError?.(query, error);
      },
    );
  };

  return {
    update(query: string) {
      if (disposed) return;
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        run(query);
      }, delay);
    },
    now(query: string) {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      run(query);
    },
    dispose() {
      disposed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
    get sent() {
      return seq;
    },
  };
}
