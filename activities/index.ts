import type { Config } from '../src/config';
import type { Db } from '../src/db';
import { botsRepository } from '../src/db/bots';
import { type ScenarioRoute, scenariosRepository } from '../src/db/scenarios';
import type { DialogActivities, LoadedScenario, MediaProcessingActivities, ScenarioWithRoutes } from '../src/dialog/contract';
import { expiringCache } from '../src/expiring-cache';
import type { Logger } from '../src/log';
import { createDelivery } from './delivery';
import { createHttpRequest } from './http-request';
import { createMediaActivities } from './media';

export interface ActivityDeps {
  db: Db;
  config: Config;
  log: Logger;
  fetch?: typeof fetch;
}

/**
 * How long a worker goes on matching messages against a bot's trigger table that an operator
 * changed: the table is read when a dialog starts or refreshes its own, and changes rarely.
 */
export const ROUTES_CACHE_TTL_MS = 5_000;

/** Every side effect of a dialog (src/dialog/contract.ts), and of the processing of uploaded media. */
export function createActivities(deps: ActivityDeps): DialogActivities & MediaProcessingActivities {
  const scenarios = scenariosRepository(deps.db);
  const bots = botsRepository(deps.db);
  const scenarioCache = new Map<string, { botId: string; loaded: LoadedScenario }>();
  const routesCache = expiringCache<ScenarioRoute[]>(ROUTES_CACHE_TTL_MS);
  const routesOf = (botId: string) => routesCache.get(botId, () => scenarios.routes(botId));

  return {
    /** Versions are immutable, so cached by id; the trigger table comes along (one marker for both). */
    async loadScenario(input: { botId: string; scenarioId?: string }): Promise<ScenarioWithRoutes | null> {
      const cached = input.scenarioId === undefined ? undefined : scenarioCache.get(input.scenarioId);
      let loaded = cached?.botId === input.botId ? cached.loaded : undefined;
      if (!cached) {
        const record = input.scenarioId ? await scenarios.get(input.scenarioId) : await scenarios.getDefault(input.botId);
        // A dialog runs only its own bot's scenarios, whatever id its workflow input names.
        if (record && record.bot_id === input.botId) {
          loaded = { id: record.id, name: record.name, version: record.version, data: record.scenario_data };
          scenarioCache.set(record.id, { botId: record.bot_id, loaded });
        }
      }
      return loaded ? { ...loaded, routes: await routesOf(input.botId) } : null;
    },

    async loadTriggers(input: { botId: string }): Promise<ScenarioRoute[]> {
      return routesOf(input.botId);
    },

    async botIsActive(input: { botId: string }): Promise<boolean> {
      return (await bots.get(input.botId))?.status === 'active';
    },

    ...createDelivery(deps),

    httpRequest: createHttpRequest({ allowedHosts: deps.config.httpRequest.allowedHosts }),

    ...createMediaActivities(deps),
  };
}
