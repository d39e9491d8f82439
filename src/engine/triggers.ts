/**
 * Scenario triggers (CONTRACT §3, `settings.triggers`): a command or keyword that starts a scenario
 * in any dialog of the bot. The workflow matches every message against the triggers of the bot's
 * active scenarios, so matching is bounded by construction: the text is cut at MAX_INPUT_CHARACTERS,
 * split into words once, and each word position looks up at most MAX_KEYWORD_WORDS phrases.
 */
import { cutText } from './bounds';
import type { DialogState, ScenarioTriggers, UserInput } from './types';

export const MAX_TRIGGER_COMMANDS = 10;
export const MAX_TRIGGER_KEYWORDS = 20;
/** Characters of a command's name after the "/" (Telegram's own limit). */
export const MAX_COMMAND_NAME_LENGTH = 32;
export const MAX_KEYWORD_CHARACTERS = 50;
export const MAX_KEYWORD_WORDS = 4;
/** The engine's own commands (advance.ts): a trigger may not take them over. */
export const BUILT_IN_COMMANDS: readonly string[] = ['start', 'help', 'reset'];

export const COMMAND_PATTERN = new RegExp(`^/[A-Za-z0-9_]{1,${MAX_COMMAND_NAME_LENGTH}}$`);
/** Letters (with their combining marks) and digits; everything else separates words. */
const WORD = /[\p{L}\p{M}\p{N}]+/gu;

/** The words of a text, lower-cased, for whole-word comparison ("Menu!" → ["menu"]). */
export function wordsOf(text: string): string[] {
  return text.normalize('NFC').toLowerCase().match(WORD) ?? [];
}

/** `/Menu@my_bot` → `menu`; anything that is not a command → null. */
function commandName(input: UserInput): string | null {
  let token: string;
  if (input.kind === 'command') token = input.command.startsWith('/') ? input.command.slice(1) : input.command;
  else if (input.kind === 'text') {
    const text = cutText(input.text).trimStart();
    if (!text.startsWith('/')) return null;
    const end = text.search(/\s/);
    token = text.slice(1, end < 0 ? undefined : end);
  } else return null;
  const at = token.indexOf('@');
  const name = (at >= 0 ? token.slice(0, at) : token).toLowerCase();
  return name.length > 0 && name.length <= MAX_COMMAND_NAME_LENGTH ? name : null;
}

export type TriggerKind = 'command' | 'keyword';

/** What two scenarios' triggers are compared by: `/menu` for a command, `lunch menu` for a keyword. */
export function triggerKeys(triggers: ScenarioTriggers | undefined): { kind: TriggerKind; key: string }[] {
  return [
    ...(triggers?.commands ?? []).map((command) => ({ kind: 'command' as const, key: `/${command.slice(1).toLowerCase()}` })),
    ...(triggers?.keywords ?? []).map((keyword) => ({ kind: 'keyword' as const, key: wordsOf(keyword).join(' ') })),
  ];
}

export interface TriggerMatch<Route> {
  route: Route;
  kind: TriggerKind;
  /** The trigger as compared: `/menu` or `lunch menu`. */
  trigger: string;
}

/**
 * The route whose trigger the input matches, or undefined. Commands match exactly, ignoring case and
 * a `@botname` suffix, on command inputs and on texts that begin with the command; keywords match
 * whole words of a text, ignoring case; the one found earliest in the text wins, the longer phrase
 * first. Buttons, media and the rest never match.
 */
export function matchTrigger<Route extends { triggers?: ScenarioTriggers }>(routes: readonly Route[], input: UserInput): TriggerMatch<Route> | undefined {
  const command = commandName(input);
  if (command !== null) {
    for (const route of routes) {
      for (const { kind, key } of triggerKeys(route.triggers)) if (kind === 'command' && key === `/${command}`) return { route, kind, trigger: key };
    }
    return undefined;
  }
  if (input.kind !== 'text') return undefined;
  const keywords = new Map<string, Route>();
  for (const route of routes) {
    for (const { kind, key } of triggerKeys(route.triggers)) if (kind === 'keyword' && key && !keywords.has(key)) keywords.set(key, route);
  }
  if (keywords.size === 0) return undefined;
  const words = wordsOf(cutText(input.text));
  for (let start = 0; start < words.length; start += 1) {
    const phrases: string[] = [];
    for (let length = 0, end = start; end < words.length && phrases.length < MAX_KEYWORD_WORDS; end += 1) {
      length += words[end].length + (end > start ? 1 : 0);
      if (length > MAX_KEYWORD_CHARACTERS) break;
      phrases.push(words.slice(start, end + 1).join(' '));
    }
    for (const phrase of phrases.reverse()) {
      const route = keywords.get(phrase);
      if (route) return { route, kind: 'keyword', trigger: phrase };
    }
  }
  return undefined;
}

/**
 * Whether a matched trigger starts its scenario in a dialog in `state`: never during a handoff, and
 * a keyword of the scenario the dialog is in the middle of is an answer to its question.
 */
export function triggerStarts(match: { kind: TriggerKind }, state: Pick<DialogState, 'status' | 'currentStep'>, ofCurrentScenario: boolean): boolean {
  if (state.status === 'handoff') return false;
  const midConversation = state.status === 'active' && state.currentStep !== null;
  return !(match.kind === 'keyword' && midConversation && ofCurrentScenario);
}

/**
 * The first trigger of `candidate` that one of `others` has too (after the same normalisation as
 * matching), with that other scenario; undefined when they share none.
 */
export function findTriggerClash<Other extends { triggers?: ScenarioTriggers }>(
  candidate: ScenarioTriggers | undefined,
  others: readonly Other[],
): { trigger: string; kind: TriggerKind; other: Other } | undefined {
  const wanted = new Map(triggerKeys(candidate).map(({ kind, key }) => [`${kind}:${key}`, { kind, key }]));
  for (const other of others) {
    for (const { kind, key } of triggerKeys(other.triggers)) {
      if (wanted.has(`${kind}:${key}`)) return { trigger: key, kind, other };
    }
  }
  return undefined;
}
