/** Which scenario version the dialog runs on, and the scenario a message's trigger starts. */
import type { LoadedScenario, ScenarioWithRoutes } from '../../src/dialog/contract';
import { matchTrigger, triggerStarts } from '../../src/engine/triggers';
import type { UserInput } from '../../src/engine/types';
import { CONSOLE_PLATFORM, type IncomingMessage } from '../../src/platforms/types';
import { loadScenario, loadTriggers } from './activities';
import { local } from './sdk-workarounds';
import type { Dialog } from './state';

/**
 * How old the dialog's table of the bot's triggers may be when a message arrives. It comes with
 * each scenario load; past this age the next message refreshes it first (one local activity), so
 * a chat that writes often costs one refresh a minute, not one per message.
 */
const ROUTES_MAX_AGE_MS = 60_000;

/** Keeps the trigger table that came with a load; returns the scenario alone. */
function keepRoutes(dialog: Dialog, loaded: ScenarioWithRoutes | null): LoadedScenario | null {
  if (!loaded) return null;
  const { routes, ...scenario } = loaded;
  dialog.routes = { list: routes, loadedAt: Date.now() };
  return scenario;
}

/**
 * Keeps the scenario version the dialog runs on; `useDefault` moves it to the bot's default one (a
 * new conversation). A pinned version that was deleted meanwhile also falls back to the default.
 */
export async function ensureScenario(dialog: Dialog, useDefault: boolean): Promise<void> {
  if (dialog.scenario && !useDefault) return;
  const pinned = useDefault ? undefined : (dialog.scenario?.id ?? dialog.carriedScenarioId ?? undefined);
  const summary = pinned ? 'load pinned scenario version' : 'load default scenario';
  let loaded = await local(loadScenario.executeWithOptions({ summary }, [{ botId: dialog.botId, scenarioId: pinned }]));
  if (!loaded && pinned) loaded = await local(loadScenario.executeWithOptions({ summary: 'load default scenario' }, [{ botId: dialog.botId }]));
  dialog.scenario = keepRoutes(dialog, loaded) ?? dialog.scenario;
}

/**
 * The version a console message names (active or a draft), loaded with the bot's triggers; null on
 * other platforms, for a message naming none, or for a version not of this bot.
 */
export async function namedScenario(dialog: Dialog, message: IncomingMessage): Promise<LoadedScenario | null> {
  if (dialog.platform !== CONSOLE_PLATFORM || !message.scenarioId) return null;
  const summary = 'load the scenario version the console names';
  return keepRoutes(dialog, await local(loadScenario.executeWithOptions({ summary }, [{ botId: dialog.botId, scenarioId: message.scenarioId }])));
}

export interface Triggered {
  scenario: LoadedScenario;
  trigger: string;
  kind: string;
}

/**
 * The active scenario whose trigger this message matches, loaded; null when none does, during a
 * handoff, or for a keyword of the scenario the dialog is in the middle of (there the word is an
 * answer). A stale table is refreshed first; the scenario's own load refreshes it again, so a
 * scenario deactivated meanwhile is not started.
 */
export async function triggeredScenario(dialog: Dialog, input: UserInput): Promise<Triggered | null> {
  if (dialog.state.status === 'handoff') return null;
  if (!dialog.routes || Date.now() - dialog.routes.loadedAt > ROUTES_MAX_AGE_MS) {
    const list = await local(loadTriggers.executeWithOptions({ summary: 'load the bot’s scenario triggers' }, [{ botId: dialog.botId }]));
    dialog.routes = { list, loadedAt: Date.now() };
  }
  const match = matchTrigger(dialog.routes.list, input);
  if (!match || !triggerStarts(match, dialog.state, match.route.name === dialog.scenario?.name)) return null;
  const summary = `load scenario "${match.route.name}" (trigger ${match.trigger})`;
  const scenario = keepRoutes(dialog, await local(loadScenario.executeWithOptions({ summary }, [{ botId: dialog.botId, scenarioId: match.route.scenarioId }])));
  const routes = dialog.routes.list;
  if (!scenario || !routes.some((route) => route.scenarioId === scenario.id)) return null;
  return { scenario, trigger: match.trigger, kind: match.kind };
}
