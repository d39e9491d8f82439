/** Small pieces every screen uses: loading data, polling, messages, routing. */
import { html } from 'htm/preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { messageOf } from './api';

export interface Loaded<T> {
  data?: T;
  error?: string;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when the key changes (and on reload); a late answer of an older key is dropped. */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, key: string): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [round, setRound] = useState(0);
  const loader = useRef(load);
  loader.current = load;
  useEffect(() => {
    const controller = new AbortController();
    setState((previous) => ({ ...previous, loading: true }));
    loader.current(controller.signal).then(
      (data) => setState({ data, loading: false }),
      (error: unknown) => {
        if (!controller.signal.aborted) setState({ error: messageOf(error), loading: false });
      },
    );
    return () => controller.abort();
  }, [key, round]);
  const reload = useCallback(() => setRound((value) => value + 1), []);
  return { ...state, reload };
}

/**
 * Calls `tick` now and then every `intervalMs` while the page is visible, one call at a time; stops
 * when the component leaves the screen (the in-flight request is aborted).
 */
export function usePoll(tick: (signal: AbortSignal) => Promise<void>, intervalMs: number, key: string): void {
  const ticker = useRef(tick);
  ticker.current = tick;
  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running = false;
    const run = async () => {
      timer = undefined;
      if (controller.signal.aborted || document.visibilityState !== 'visible' || running) return;
      running = true;
      try {
        await ticker.current(controller.signal);
      } catch {
        // The screen shows the failure itself; polling goes on.
      } finally {
        running = false;
      }
      if (!controller.signal.aborted && document.visibilityState === 'visible') timer = setTimeout(() => void run(), intervalMs);
    };
    const onVisibility = () => {
      if (document.visibilityState === 'visible' && timer === undefined && !running) void run();
    };
    document.addEventListener('visibilitychange', onVisibility);
    void run();
    return () => {
      controller.abort();
      if (timer !== undefined) clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [key, intervalMs]);
}

export function Alert({ message }: { message?: string }) {
  return message ? html`<p role="alert" class="alert">${message}</p>` : null;
}

/** A polite live message; `failed` styles a failure that is reported there rather than as an alert. */
export function Status({ message, failed = false }: { message?: string; failed?: boolean }) {
  return html`<p role="status" class=${failed ? 'status failed' : 'status'}>${message ?? ''}</p>`;
}

export function Loading({ loaded, children }: { loaded: Loaded<unknown>; children?: ComponentChildren }) {
  if (loaded.error) return html`<${Alert} message=${loaded.error} />`;
  if (loaded.data === undefined) return html`<p class="muted">Loading…</p>`;
  return html`${children}`;
}

export function formatTime(value: string | null | undefined): string {
  if (!value) return '—';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString();
}

/** The hash route's segments (`#/bots/b1/dialogs` → ['bots','b1','dialogs']), decoded. */
export function currentRoute(): string[] {
  return location.hash
    .replace(/^#\/?/, '')
    .split('/')
    .filter(Boolean)
    .map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part;
      }
    });
}

export function useRoute(): string[] {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const onChange = () => setRoute(currentRoute());
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/** A hash link to a route, each part escaped. */
export function href(...parts: string[]): string {
  return `#/${parts.map(encodeURIComponent).join('/')}`;
}

export function navigate(...parts: string[]): void {
  location.hash = href(...parts);
}
