import { advance, initialState, validateScenario } from '../../src/engine';
import type { AdvanceResult, DialogState, Effect, EngineEvent, EngineInput, Scenario, UserInput } from '../../src/engine';

/** A scenario from a partial literal; steps get their ids from their keys. */
export function scenario(partial: Omit<Scenario, 'version' | 'steps'> & { version?: string; steps: Record<string, object> }): Scenario {
  const steps: Record<string, unknown> = {};
  for (const [id, step] of Object.entries(partial.steps)) steps[id] = { id, ...step };
  return { version: '1.0', ...partial, steps } as Scenario;
}

/** The scenario as validated; fails the test when it has errors. */
export function validScenario(data: unknown): Scenario {
  const result = validateScenario(data);
  if (!result.valid || !result.scenario) throw new Error(`invalid scenario: ${JSON.stringify(result.errors, null, 2)}`);
  return result.scenario;
}

export const say = (text: string): EngineInput => ({ type: 'message', input: { kind: 'text', text } });
export const press = (value: string): EngineInput => ({ type: 'message', input: { kind: 'button', value } });
export const command = (name: string, args?: string): EngineInput => ({
  type: 'message',
  input: { kind: 'command', command: name, ...(args ? { args } : {}) } as UserInput,
});

export const sent = (effects: Effect[]): (string | undefined)[] => effects.flatMap((effect) => (effect.type === 'send' ? [effect.message.text] : []));
export const events = (effects: Effect[]): EngineEvent[] => effects.flatMap((effect) => (effect.type === 'event' ? [effect.event] : []));
export const kinds = (effects: Effect[]): string[] => events(effects).map((event) => event.kind);

/** Runs inputs one after another from a fresh dialog, returning every result. */
export function play(scenarioValue: Scenario, inputs: EngineInput[], from: DialogState = initialState()): AdvanceResult[] {
  const results: AdvanceResult[] = [];
  let state = from;
  for (const input of inputs) {
    const result = advance(scenarioValue, state, input);
    results.push(result);
    state = result.state;
  }
  return results;
}

export function last<T>(items: T[]): T {
  return items[items.length - 1];
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}
