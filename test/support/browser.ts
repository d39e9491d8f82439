/**
 * The operator console in a real headless Chromium (Debian's `chromium`, driven by playwright-core)
 * against the whole product: `startStack`'s API listening on 127.0.0.1, its dialog worker, and the
 * console the API serves at `/console`.
 *
 *   const ui = await startConsoleStack();
 *   const page = await ui.signIn('operator');              // the console, signed in with a real token
 *   await page.getByRole('link', { name: 'Bots' }).click();
 *   expect(ui.problems).toEqual([]);                       // no uncaught errors, no CSP violations
 *   await ui.close();
 */
import type { AddressInfo } from 'node:net';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import type { Role } from '../../api/auth';
import { type FakeTelegram, startFakeTelegram } from '../fakes';
import { type DbKind, type StackOptions, startStack } from './stack';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain CommonJS helper, like scripts/temporal-bin.js
const { findChromium, chromiumMissing } = require('../../scripts/chromium-bin') as {
  findChromium: (options?: { install?: boolean }) => string | undefined;
  chromiumMissing: () => string;
};

/** Flags for Chromium: the new headless mode, and no sandbox only for root. */
export function chromiumArgs(): string[] {
  // Chromium's sandbox refuses to run as root (CI containers run as root); any other user keeps it.
  const root = process.getuid?.() === 0;
  return ['--headless=new', ...(root ? ['--no-sandbox'] : [])];
}

/** Chromium from CHROMIUM_PATH (`npm test` sets it) or where scripts/chromium-bin.js finds it. */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? findChromium({ install: false });
  if (!executablePath) throw new Error(chromiumMissing());
  return chromium.launch({ executablePath, args: chromiumArgs() });
}

export interface Viewport {
  width: number;
  height: number;
}
export const DESKTOP: Viewport = { width: 1280, height: 900 };
export const PHONE: Viewport = { width: 375, height: 812 };

export async function startConsoleStack(options: { db?: DbKind; account?: string; apiBases?: StackOptions['apiBases'] } = {}) {
  const account = options.account ?? 'acme';
  const stack = await startStack({ db: options.db ?? 'sqlite', apiBases: options.apiBases });
  const { port } = stack.server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  const browser = await launchBrowser();
  /** What went wrong inside the pages: uncaught exceptions and Content-Security-Policy violations. */
  const problems: string[] = [];

  /** A token of `role` for the stack's account, as an operator would paste it. */
  const token = (role: Role) => stack.token(role, [account]);

  /** A fresh page (its own context: nothing kept from another) with the console open at its login. */
  const openConsole = async (viewport: Viewport = DESKTOP): Promise<Page> => {
    const context = await browser.newContext({ viewport, baseURL: baseUrl });
    // Long enough for a reply through the workflow on a busy machine, short of jest's own timeout.
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content.Security.Policy/i.test(message.text())) problems.push(`CSP: ${message.text()}`);
    });
    await page.goto('/console/');
    return page;
  };

  /** The console, signed in with a token of `role` (the header then offers "Sign out"). */
  const signIn = async (role: Role, viewport: Viewport = DESKTOP): Promise<Page> => {
    const page = await openConsole(viewport);
    await page.getByLabel('API token').fill(token(role));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    return page;
  };

  const close = async () => {
    await browser.close();
    await stack.close();
  };

  return { stack, account, baseUrl, browser, problems, token, openConsole, signIn, close };
}

export type ConsoleStack = Awaited<ReturnType<typeof startConsoleStack>>;

/**
 * A test file's console stack against a fake Telegram: started before its tests (handed to `use`),
 * closed after them, and after each test no page error or CSP violation.
 */
export function consoleStackPerFile(use: (started: { ui: ConsoleStack; telegram: FakeTelegram }) => void): void {
  let started: { ui: ConsoleStack; telegram: FakeTelegram } | undefined;
  beforeAll(async () => {
    const telegram = await startFakeTelegram();
    started = { ui: await startConsoleStack({ apiBases: { telegram: telegram.url } }), telegram };
    use(started);
  });
  afterAll(async () => {
    await started?.ui.close();
    await started?.telegram.close();
  });
  afterEach(() => {
    expect(started?.ui.problems).toEqual([]);
  });
}

/** A button or link by its exact accessible name. */
export const button = (page: Page, name: string) => page.getByRole('button', { name, exact: true });
export const link = (page: Page, name: string) => page.getByRole('link', { name, exact: true });

/** Whether the page scrolls sideways: its content is wider than the viewport. */
export async function scrollsHorizontally(page: Page): Promise<boolean> {
  const widths = await page.evaluate('[document.documentElement.scrollWidth, document.documentElement.clientWidth]');
  const [scrollWidth, clientWidth] = widths as [number, number];
  return scrollWidth > clientWidth;
}

/** Waits until nothing matches `locator` (a `waitFor` of `.first()`: detached once there is none). */
export const absent = (locator: Locator): Promise<void> => locator.first().waitFor({ state: 'detached' });
