/**
 * Conversation tests: scripted conversations run against a scenario on the engine alone, as the
 * dialog workflow drives it (docs/scenario-format.md, "Conversation tests"). Pure and bounded: a
 * suite is hostile input, so its size, its counts and the work one turn may cause are capped, and
 * every problem comes back as a diagnostic with line and column, never as a throw.
 */
import { getNodeValue, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import type { RE2JS } from 're2js';
import { advance, initialState } from './advance';
import { parseDuration } from './durations';
import { checkPattern } from './input';
import { isPlainObject } from './json';
import { SourceMap, type Position } from './positions';
import { didYouMean, Report, type Path } from './report';
import { timeoutPolicy } from './timeouts';
import { matchTrigger, triggerStarts } from './triggers';
import type {
  Button,
  ChatUser,
  DialogState,
  DialogStatus,
  Diagnostic,
  Effect,
  EngineInput,
  JsonValue,
  MediaItem,
  OutgoingMessage,
  Scenario,
  UserInput,
} from './types';

export interface ConversationTurnFailure {
  /** The conversation's name. */
  conversation: string;
  /** Index in its turns. */
  turn: number;
  /** Of the failing turn in the suite text (1-based). */
  line: number;
  column: number;
  expected: string;
  got: string;
}

export interface ConversationResult {
  name: string;
  passed: boolean;
  failures: ConversationTurnFailure[];
}

export interface SuiteResult {
  /** False: the suite itself is malformed (see `problems`) and nothing ran. */
  valid: boolean;
  problems: Diagnostic[];
  conversations: ConversationResult[];
  passed: number;
  failed: number;
  /** Steps of the scenario no conversation entered, in the scenario's order. */
  unvisitedSteps: string[];
}

/** Caps on a suite (hostile input): beyond them the suite is refused, not run. */
export const SUITE_LIMITS = {
  /** Characters of the suite text. */
  textCharacters: 2 * 1024 * 1024,
  /** Arrays and objects inside one another. */
  nesting: 64,
  conversations: 1_000,
  turnsPerConversation: 1_000,
  turns: 20_000,
  httpPatterns: 100,
  /** Characters of one `/regex/` (its program is capped like a scenario `pattern`). */
  regexCharacters: 1_000,
  /** Timeouts one `wait` may fire. */
  timeoutsPerWait: 100,
  /** `http_request`s answered within one turn (a chain of them, each leading to the next). */
  requestsPerTurn: 100,
  /** Failures recorded per conversation; the rest are counted in the last one. */
  failuresPerConversation: 50,
} as const;

/** Texts and buttons matched against a bot reply: exactly, or a `/regex/flags`. */
type TextMatcher = { kind: 'exact'; text: string; source: string } | { kind: 'regex'; regex: RE2JS; source: string };

type Turn =
  | { kind: 'input'; input: UserInput }
  | { kind: 'press'; press: string }
  | { kind: 'wait'; milliseconds: number; source: string }
  | { kind: 'bot'; text?: TextMatcher; buttons?: TextMatcher[]; media?: number }
  | { kind: 'expect'; step?: string | null; status?: DialogStatus; data?: Record<string, JsonValue> };

interface CannedReply {
  pattern: TextMatcher;
  /** The reply's body, or the failure a status outside 2xx gives. */
  reply: { ok: true; value: JsonValue } | { ok: false; status: number };
}

interface Conversation {
  name: string;
  user?: ChatUser;
  strict: boolean;
  http: CannedReply[];
  turns: { turn: Turn; position: Position }[];
  position: Position;
}

const STATUSES: readonly DialogStatus[] = ['active', 'completed', 'abandoned', 'handoff', 'failed'];
const MEDIA_TYPES: readonly MediaItem['type'][] = ['image', 'video', 'audio', 'document'];
const TURN_KINDS = ['user', 'press', 'media', 'wait', 'bot', 'expect'] as const;
const REGEX = /^\/(.+)\/([a-z]*)$/s;
/** JavaScript's flags that RE2 has, written as its inline flags. */
const REGEX_FLAGS: Record<string, string> = { i: 'i', m: 'm', s: 's' };

// ---------------------------------------------------------------------------------------------
// Reading the suite

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** The deepest nesting of arrays and objects, found without recursion (the parser recurses). */
function deepestNesting(text: string): { depth: number; offset: number } {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const character = text[index];
    if (inString) {
      if (character === '\\') index += 1;
      else if (character === '"') inString = false;
    } else if (character === '"') inString = true;
    else if (character === '{' || character === '[') {
      depth += 1;
      if (depth > SUITE_LIMITS.nesting) return { depth, offset: index };
    } else if (character === '}' || character === ']') depth -= 1;
  }
  return { depth: 0, offset: 0 };
}

class SuiteReader {
  readonly conversations: Conversation[] = [];
  private turnCount = 0;

  constructor(
    readonly report: Report,
    private readonly steps: readonly string[],
  ) {}

  private fail(path: Path, message: string, options?: { suggestion?: string; atKey?: boolean }): void {
    this.report.error('invalid_suite', path, message, options);
  }

  private position(path: Path): Position {
    return this.report.source.positionOf(path) ?? { line: 1, column: 1 };
  }

  /** An object with only the keys given; unknown keys are reported (with a suggestion). */
  private object(value: unknown, path: Path, keys: readonly string[], what: string): Record<string, unknown> | undefined {
    if (!isPlainObject(value)) {
      this.fail(path, `${what} must be an object, not ${describe(value)}`);
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (!keys.includes(key)) this.fail([...path, key], `unknown key "${key}" in ${what}`, { suggestion: didYouMean(key, keys), atKey: true });
    }
    return value;
  }

  private string(value: unknown, path: Path, what: string): string | undefined {
    if (typeof value === 'string') return value;
    this.fail(path, `${what} must be a string, not ${describe(value)}`);
    return undefined;
  }

  /** `/regex/flags` or an exact text. */
  matcher(value: unknown, path: Path, what: string): TextMatcher | undefined {
    const text = this.string(value, path, what);
    if (text === undefined) return undefined;
    const regex = REGEX.exec(text);
    if (!regex) return { kind: 'exact', text, source: JSON.stringify(text) };
    const [, body, flags] = regex;
    const unknown = [...flags].find((flag) => !(flag in REGEX_FLAGS));
    if (unknown !== undefined) {
      this.fail(path, `${what}: regex flag "${unknown}" is not supported (i, m and s are)`);
      return undefined;
    }
    if (body.length > SUITE_LIMITS.regexCharacters) {
      this.fail(path, `${what}: a regex may have at most ${SUITE_LIMITS.regexCharacters} characters`);
      return undefined;
    }
    const inline = [...new Set(flags)].map((flag) => REGEX_FLAGS[flag]).join('');
    const checked = checkPattern(inline ? `(?${inline})${body}` : body);
    if (!checked.ok) {
      this.report.error('invalid_suite', path, `${what}: ${checked.message}`, {
        suggestion: checked.suggestion,
        textIndex: 1 + Math.max(0, checked.index - (inline ? inline.length + 3 : 0)),
      });
      return undefined;
    }
    return { kind: 'regex', regex: checked.regex, source: text };
  }

  read(root: unknown): void {
    const suite = this.object(root, [], ['conversations'], 'a conversation suite');
    if (!suite) return;
    const list = suite.conversations;
    if (!Array.isArray(list)) {
      this.fail(
        ['conversations'],
        list === undefined ? 'missing required field "conversations" (a list of conversations)' : `"conversations" must be an array, not ${describe(list)}`,
      );
      return;
    }
    if (list.length > SUITE_LIMITS.conversations) {
      this.fail(['conversations'], `a suite may have at most ${SUITE_LIMITS.conversations} conversations, not ${list.length}`);
      return;
    }
    const names = new Set<string>();
    list.forEach((value, index) => {
      const conversation = this.conversation(value, ['conversations', index]);
      if (!conversation) return;
      if (names.has(conversation.name))
        this.fail(['conversations', index, 'name'], `two conversations are named "${conversation.name}"; names identify their results`);
      names.add(conversation.name);
      this.conversations.push(conversation);
    });
  }

  private conversation(value: unknown, path: Path): Conversation | undefined {
    const raw = this.object(value, path, ['name', 'user', 'strict', 'http', 'turns'], 'a conversation');
    if (!raw) return undefined;
    const errorsBefore = this.report.errors.length;
    const name = raw.name === undefined ? undefined : this.string(raw.name, [...path, 'name'], '"name"');
    if (raw.name === undefined) this.fail(path, 'missing required field "name"');
    if (name !== undefined && (name.trim() === '' || name.length > 200)) this.fail([...path, 'name'], '"name" must have 1 to 200 characters');
    const conversation: Conversation = { name: name ?? '', strict: false, http: [], turns: [], position: this.position(path) };
    if (raw.user !== undefined) conversation.user = this.user(raw.user, [...path, 'user']);
    if (raw.strict !== undefined) {
      if (typeof raw.strict === 'boolean') conversation.strict = raw.strict;
      else this.fail([...path, 'strict'], `"strict" must be a boolean, not ${describe(raw.strict)}`);
    }
    if (raw.http !== undefined) conversation.http = this.http(raw.http, [...path, 'http']);
    if (!Array.isArray(raw.turns)) {
      this.fail(
        raw.turns === undefined ? path : [...path, 'turns'],
        raw.turns === undefined ? 'missing required field "turns"' : `"turns" must be an array, not ${describe(raw.turns)}`,
      );
    } else if (raw.turns.length > SUITE_LIMITS.turnsPerConversation) {
      this.fail([...path, 'turns'], `a conversation may have at most ${SUITE_LIMITS.turnsPerConversation} turns, not ${raw.turns.length}`);
    } else if ((this.turnCount += raw.turns.length) > SUITE_LIMITS.turns) {
      this.fail([...path, 'turns'], `a suite may have at most ${SUITE_LIMITS.turns} turns in all`);
    } else {
      raw.turns.forEach((turnValue, index) => {
        const turn = this.turn(turnValue, [...path, 'turns', index]);
        if (turn) conversation.turns.push({ turn, position: this.position([...path, 'turns', index]) });
      });
    }
    return this.report.errors.length === errorsBefore ? conversation : undefined;
  }

  private user(value: unknown, path: Path): ChatUser | undefined {
    const raw = this.object(value, path, ['id', 'name', 'username', 'language'], '"user"');
    if (!raw) return undefined;
    const user: ChatUser = { id: 'test-user' };
    for (const key of ['id', 'name', 'username', 'language'] as const) {
      if (raw[key] === undefined) continue;
      const text = this.string(raw[key], [...path, key], `"user.${key}"`);
      if (text !== undefined) user[key] = text;
    }
    return user;
  }

  private http(value: unknown, path: Path): CannedReply[] {
    if (!isPlainObject(value)) {
      this.fail(path, `"http" must be an object of URL patterns to replies, not ${describe(value)}`);
      return [];
    }
    const entries = Object.entries(value);
    if (entries.length > SUITE_LIMITS.httpPatterns) {
      this.fail(path, `"http" may have at most ${SUITE_LIMITS.httpPatterns} URL patterns`);
      return [];
    }
    const replies: CannedReply[] = [];
    for (const [key, reply] of entries) {
      const pattern = REGEX.test(key)
        ? this.matcher(key, [...path, key], `URL pattern ${JSON.stringify(key)}`)
        : { kind: 'exact' as const, text: key, source: JSON.stringify(key) };
      const canned = this.cannedReply(reply, [...path, key]);
      if (pattern && canned) replies.push({ pattern, reply: canned });
    }
    return replies;
  }

  /** Any JSON is the reply's body; `{"status": N, "body"?: …}` gives a status (outside 2xx: the request fails). */
  private cannedReply(value: JsonValue, path: Path): CannedReply['reply'] | undefined {
    if (!isPlainObject(value) || typeof value.status !== 'number' || !Object.keys(value).every((key) => key === 'status' || key === 'body'))
      return { ok: true, value };
    const status = value.status;
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      this.fail([...path, 'status'], `"status" must be an HTTP status (100 to 599), not ${status}`);
      return undefined;
    }
    return status >= 200 && status < 300 ? { ok: true, value: value.body ?? null } : { ok: false, status };
  }

  private turn(value: unknown, path: Path): Turn | undefined {
    if (!isPlainObject(value)) {
      this.fail(path, `a turn must be an object with one of ${TURN_KINDS.join(', ')}, not ${describe(value)}`);
      return undefined;
    }
    const keys = Object.keys(value);
    const kinds = keys.filter((key): key is (typeof TURN_KINDS)[number] => (TURN_KINDS as readonly string[]).includes(key));
    for (const key of keys.filter((key) => !kinds.includes(key as (typeof TURN_KINDS)[number]))) {
      this.fail([...path, key], `unknown key "${key}" in a turn`, { suggestion: didYouMean(key, TURN_KINDS), atKey: true });
    }
    if (kinds.length !== 1) {
      if (kinds.length > 1) this.fail(path, `a turn has exactly one of ${TURN_KINDS.join(', ')}; this one has ${kinds.join(' and ')}`);
      else if (keys.length === 0) this.fail(path, `an empty turn: give one of ${TURN_KINDS.join(', ')}`);
      return undefined;
    }
    const kind = kinds[0];
    const at = [...path, kind];
    const raw = value[kind];
    switch (kind) {
      case 'user': {
        const text = this.string(raw, at, '"user"');
        return text === undefined ? undefined : { kind: 'input', input: { kind: 'text', text } };
      }
      case 'press': {
        const press = this.string(raw, at, '"press"');
        return press === undefined ? undefined : { kind: 'press', press };
      }
      case 'media':
        return this.media(raw, at);
      case 'wait': {
        const text = this.string(raw, at, '"wait"');
        if (text === undefined) return undefined;
        const milliseconds = parseDuration(text);
        if (milliseconds === null) {
          this.fail(at, `"wait" must be a duration such as "30s", "30m", "2h" or "1d", not ${JSON.stringify(text)}`);
          return undefined;
        }
        return { kind: 'wait', milliseconds, source: text };
      }
      case 'bot':
        return this.bot(raw, at);
      case 'expect':
        return this.expect(raw, at);
    }
  }

  private media(value: unknown, path: Path): Turn | undefined {
    const raw = this.object(value, path, ['type', 'media_id', 'url', 'mime', 'caption'], '"media"');
    if (!raw) return undefined;
    if (!MEDIA_TYPES.includes(raw.type as MediaItem['type'])) {
      this.fail([...path, 'type'], `"type" must be one of ${MEDIA_TYPES.join(', ')}`, {
        suggestion: typeof raw.type === 'string' ? didYouMean(raw.type, MEDIA_TYPES) : undefined,
      });
      return undefined;
    }
    const media: Extract<UserInput, { kind: 'media' }>['media'] = { type: raw.type as MediaItem['type'] };
    for (const key of ['media_id', 'url', 'mime', 'caption'] as const) {
      if (raw[key] === undefined) continue;
      const text = this.string(raw[key], [...path, key], `"${key}"`);
      if (text === undefined) return undefined;
      media[key] = text;
    }
    if (media.media_id === undefined && media.url === undefined) media.media_id = 'test-media';
    return { kind: 'input', input: { kind: 'media', media } };
  }

  private bot(value: unknown, path: Path): Turn | undefined {
    if (typeof value === 'string') {
      const text = this.matcher(value, path, '"bot"');
      return text && { kind: 'bot', text };
    }
    const raw = this.object(value, path, ['text', 'buttons', 'media'], '"bot"');
    if (!raw) return undefined;
    const turn: Extract<Turn, { kind: 'bot' }> = { kind: 'bot' };
    if (raw.text !== undefined) turn.text = this.matcher(raw.text, [...path, 'text'], '"text"');
    if (raw.buttons !== undefined) {
      if (!Array.isArray(raw.buttons)) this.fail([...path, 'buttons'], `"buttons" must be an array of button texts, not ${describe(raw.buttons)}`);
      else if (raw.buttons.length > 100) this.fail([...path, 'buttons'], '"buttons" may list at most 100 buttons');
      else
        turn.buttons = raw.buttons
          .map((button, index) => this.matcher(button, [...path, 'buttons', index], 'a button'))
          .filter((button) => button !== undefined);
    }
    if (raw.media !== undefined) {
      if (typeof raw.media === 'number' && Number.isInteger(raw.media) && raw.media >= 0) turn.media = raw.media;
      else this.fail([...path, 'media'], '"media" must be the number of media items the reply has');
    }
    return turn;
  }

  private expect(value: unknown, path: Path): Turn | undefined {
    const raw = this.object(value, path, ['step', 'status', 'data'], '"expect"');
    if (!raw) return undefined;
    const turn: Extract<Turn, { kind: 'expect' }> = { kind: 'expect' };
    if (raw.step !== undefined) {
      if (typeof raw.step === 'string' && !this.steps.includes(raw.step)) {
        this.report.error('unknown_step', [...path, 'step'], `the scenario has no step "${raw.step}"`, { suggestion: didYouMean(raw.step, this.steps) });
      } else if (raw.step === null || typeof raw.step === 'string') turn.step = raw.step;
      else this.fail([...path, 'step'], `"step" must be a step id (or null once the dialog completed), not ${describe(raw.step)}`);
    }
    if (raw.status !== undefined) {
      if (STATUSES.includes(raw.status as DialogStatus)) turn.status = raw.status as DialogStatus;
      else
        this.fail([...path, 'status'], `"status" must be one of ${STATUSES.join(', ')}`, {
          suggestion: typeof raw.status === 'string' ? didYouMean(raw.status, STATUSES) : undefined,
        });
    }
    if (raw.data !== undefined) {
      if (isPlainObject(raw.data)) turn.data = raw.data;
      else this.fail([...path, 'data'], `"data" must be an object (the values the dialog collected, a subset), not ${describe(raw.data)}`);
    }
    return turn;
  }
}

function syntaxProblem(error: ParseError, source: SourceMap): Diagnostic {
  return {
    severity: 'error',
    code: 'json_syntax',
    path: '',
    ...source.positionAt(error.offset),
    message: `JSON syntax error: ${printParseErrorCode(error.error)}`,
  };
}

/** The suite's conversations, or the problems that keep it from running. */
function readSuite(scenario: Scenario, suiteText: string): { conversations: Conversation[]; problems: Diagnostic[] } {
  const text = typeof suiteText === 'string' ? suiteText : '';
  if (text.length > SUITE_LIMITS.textCharacters) {
    const problem: Diagnostic = {
      severity: 'error',
      code: 'suite_too_large',
      path: '',
      line: 1,
      column: 1,
      message: `a suite may have at most ${SUITE_LIMITS.textCharacters} characters, not ${text.length}`,
    };
    return { conversations: [], problems: [problem] };
  }
  const nesting = deepestNesting(text);
  if (nesting.depth > SUITE_LIMITS.nesting) {
    const source = new SourceMap(text, undefined);
    const problem: Diagnostic = {
      severity: 'error',
      code: 'suite_too_large',
      path: '',
      ...source.positionAt(nesting.offset),
      message: `arrays and objects may be nested at most ${SUITE_LIMITS.nesting} deep`,
    };
    return { conversations: [], problems: [problem] };
  }
  const errors: ParseError[] = [];
  const root: Node | undefined = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const source = new SourceMap(text, root);
  if (errors.length || !root) {
    const problem = errors.length
      ? syntaxProblem(errors[0], source)
      : ({ severity: 'error', code: 'json_syntax', path: '', line: 1, column: 1, message: 'JSON syntax error: the suite is empty' } as Diagnostic);
    return { conversations: [], problems: [problem] };
  }
  const reader = new SuiteReader(new Report(source), Object.keys(scenario.steps));
  reader.read(getNodeValue(root));
  const problems = reader.report.result().errors;
  return { conversations: problems.length ? [] : reader.conversations, problems };
}

// ---------------------------------------------------------------------------------------------
// Running a conversation

function matches(matcher: TextMatcher, text: string): boolean {
  return matcher.kind === 'exact' ? matcher.text === text : matcher.regex.matcher(text).find();
}

function describeReply(reply: OutgoingMessage | undefined): string {
  if (!reply) return 'no reply';
  const parts = [reply.text === undefined ? '(no text)' : JSON.stringify(reply.text)];
  if (reply.buttons?.length) parts.push(`buttons [${reply.buttons.map((button) => JSON.stringify(button.text)).join(', ')}]`);
  if (reply.media?.length) parts.push(`${reply.media.length} media`);
  return parts.join(' with ');
}

function describeExpected(turn: Extract<Turn, { kind: 'bot' }>): string {
  const parts = [turn.text ? turn.text.source : 'a reply'];
  if (turn.buttons) parts.push(`buttons [${turn.buttons.map((button) => button.source).join(', ')}]`);
  if (turn.media !== undefined) parts.push(`${turn.media} media`);
  return parts.join(' with ');
}

/** Whether `actual` holds every value `expected` names: objects by their keys, anything else equal; `null` also matches a missing key. */
function subsetMatch(expected: JsonValue, actual: JsonValue | undefined): boolean {
  if (expected === null) return actual === null || actual === undefined;
  if (isPlainObject(expected)) {
    if (!isPlainObject(actual)) return false;
    return Object.entries(expected).every(([key, value]) => subsetMatch(value, Object.hasOwn(actual, key) ? actual[key] : undefined));
  }
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((value, index) => subsetMatch(value, actual[index]));
  }
  return expected === actual;
}

/** A compact JSON of a value, cut so a failure line stays readable. */
function brief(value: JsonValue | undefined): string {
  const text = value === undefined ? 'missing' : JSON.stringify(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

class ConversationRun {
  private state: DialogState = initialState();
  private replies: OutgoingMessage[] = [];
  /** The buttons the user sees: those of the last reply that had any. */
  private shownButtons: Button[] = [];
  private lastError: string | undefined;
  /** Time passed since the dialog last took an input or fired a timeout. */
  private idleMs = 0;
  readonly failures: ConversationTurnFailure[] = [];
  private failuresLeftOut = 0;
  private turnIndex = 0;
  private turnPosition: Position;

  constructor(
    private readonly scenario: Scenario,
    private readonly conversation: Conversation,
    private readonly visited: Set<string>,
  ) {
    this.turnPosition = conversation.position;
  }

  private fail(expected: string, got: string): void {
    if (this.failures.length >= SUITE_LIMITS.failuresPerConversation) {
      this.failuresLeftOut += 1;
      return;
    }
    this.failures.push({ conversation: this.conversation.name, turn: this.turnIndex, ...this.turnPosition, expected, got });
  }

  run(): ConversationResult {
    const { turns } = this.conversation;
    try {
      turns.forEach(({ turn, position }, index) => {
        this.turnIndex = index;
        this.turnPosition = position;
        this.play(turn);
      });
    } catch (error) {
      // The engine does not throw on any input (advance.ts); should it, the suite still answers.
      this.fail('the engine to answer', `it threw: ${error instanceof Error ? error.message : String(error)}`);
      return { name: this.conversation.name, passed: false, failures: this.failures };
    }
    if (this.conversation.strict) this.noRepliesLeft('the end of the conversation');
    if (this.failuresLeftOut > 0) {
      const last = this.failures[this.failures.length - 1];
      last.got += ` (and ${this.failuresLeftOut} more failures after this one)`;
    }
    return { name: this.conversation.name, passed: this.failures.length === 0, failures: this.failures };
  }

  private play(turn: Turn): void {
    switch (turn.kind) {
      case 'input':
      case 'press':
        if (this.conversation.strict) this.noRepliesLeft('the next message');
        this.replies = [];
        return turn.kind === 'press' ? this.press(turn.press) : this.message(turn.input);
      case 'wait':
        if (this.conversation.strict) this.noRepliesLeft(`waiting ${turn.source}`);
        this.replies = [];
        return this.wait(turn.milliseconds);
      case 'bot':
        return this.bot(turn);
      case 'expect':
        return this.expect(turn);
    }
  }

  private noRepliesLeft(before: string): void {
    if (this.replies.length === 0) return;
    this.fail(`no further reply before ${before} (strict)`, this.replies.map(describeReply).join('; '));
  }

  private press(pressed: string): void {
    const button = this.shownButtons.find((shown) => shown.value === pressed) ?? this.shownButtons.find((shown) => shown.text === pressed);
    if (!button) {
      const shown = this.shownButtons.length ? this.shownButtons.map((shown) => JSON.stringify(shown.text)).join(', ') : 'none';
      this.fail(`a button ${JSON.stringify(pressed)} to press`, `buttons shown: ${shown}`);
      return;
    }
    this.message({ kind: 'button', value: button.value, text: button.text });
  }

  /** A user message, as the workflow takes it: the profile first, then this scenario's triggers, then the engine. */
  private message(input: UserInput): void {
    this.idleMs = 0;
    if (this.conversation.user) this.state = { ...this.state, user: this.conversation.user };
    const trigger = matchTrigger([{ triggers: this.scenario.settings?.triggers }], input);
    if (trigger && triggerStarts(trigger, this.state, true)) this.drive({ type: 'start' });
    else this.drive({ type: 'message', input });
  }

  /**
   * Time passes: the timeout due fires once the dialog has been idle as long as its policy says,
   * and the next one is timed from there, as the workflow's timer does. Consecutive waits add up.
   */
  private wait(milliseconds: number): void {
    this.idleMs = Math.min(this.idleMs + milliseconds, Number.MAX_SAFE_INTEGER);
    for (let fired = 0; fired < SUITE_LIMITS.timeoutsPerWait; fired += 1) {
      const policy = timeoutPolicy(this.scenario, this.state);
      if (!policy || policy.afterMs > this.idleMs) return;
      this.idleMs -= policy.afterMs;
      this.drive({ type: 'timeout' });
    }
  }

  /** One input and the `action_result`s its `http_request`s lead to, with canned replies. */
  private drive(first: EngineInput): void {
    let next: EngineInput | null = first;
    for (let requests = 0; next; requests += 1) {
      if (requests > SUITE_LIMITS.requestsPerTurn) {
        this.fail(`at most ${SUITE_LIMITS.requestsPerTurn} http requests in one turn`, 'more; the conversation stopped there');
        return;
      }
      const result = advance(this.scenario, this.state, next);
      this.state = result.state;
      next = null;
      for (const effect of result.effects) next = this.take(effect) ?? next;
    }
  }

  private take(effect: Effect): EngineInput | null {
    if (effect.type === 'send') {
      this.replies.push(effect.message);
      if (effect.message.buttons?.length) this.shownButtons = effect.message.buttons;
    } else if (effect.type === 'event') {
      if (effect.event.kind === 'step_entered') this.visited.add(effect.event.step);
      if (effect.event.kind === 'error') this.lastError = `${effect.event.code}: ${effect.event.message}`;
    } else if (effect.type === 'http_request') {
      const { method, url } = effect.request;
      const canned = this.conversation.http.find((reply) =>
        reply.pattern.kind === 'exact' ? url.startsWith(reply.pattern.text) : matches(reply.pattern, url),
      );
      if (!canned) {
        this.fail(`a canned reply in "http" for ${method} ${url}`, 'no URL pattern matches; the request failed (http_request_failed)');
        return { type: 'action_result', step: effect.step, ok: false, error: `no canned reply for ${method} ${url}`, code: 'http_request_failed' };
      }
      return canned.reply.ok
        ? { type: 'action_result', step: effect.step, ok: true, value: canned.reply.value }
        : { type: 'action_result', step: effect.step, ok: false, error: `HTTP ${canned.reply.status}`, code: 'http_request_failed' };
    }
    return null;
  }

  private bot(turn: Extract<Turn, { kind: 'bot' }>): void {
    const reply = this.replies.shift();
    const textOk = !turn.text || (reply?.text !== undefined && matches(turn.text, reply.text));
    const buttons = reply?.buttons ?? [];
    const buttonsOk =
      !turn.buttons || (turn.buttons.length === buttons.length && turn.buttons.every((matcher, index) => matches(matcher, buttons[index].text)));
    const mediaOk = turn.media === undefined || (reply?.media?.length ?? 0) === turn.media;
    if (reply && textOk && buttonsOk && mediaOk) return;
    const why = !reply && this.state.status === 'failed' && this.lastError ? ` (the dialog failed: ${this.lastError})` : '';
    this.fail(describeExpected(turn), `${describeReply(reply)}${why}`);
  }

  private expect(turn: Extract<Turn, { kind: 'expect' }>): void {
    if (turn.step !== undefined && turn.step !== this.state.currentStep) {
      this.fail(`step ${brief(turn.step)}`, `step ${brief(this.state.currentStep)} (${this.state.status})`);
    }
    if (turn.status !== undefined && turn.status !== this.state.status) {
      this.fail(`status ${turn.status}`, `status ${this.state.status}${this.state.status === 'failed' && this.lastError ? ` (${this.lastError})` : ''}`);
    }
    for (const [key, value] of Object.entries(turn.data ?? {})) {
      const actual = Object.hasOwn(this.state.collectedData, key) ? this.state.collectedData[key] : undefined;
      if (!subsetMatch(value, actual)) this.fail(`data ${key} = ${brief(value)}`, `${key} = ${brief(actual)}`);
    }
  }
}

/**
 * Runs a suite of conversation tests (its JSON text; positions refer to it) against a scenario that
 * passed validation. Never throws; a malformed suite runs nothing and says why in `problems`.
 */
export function runConversationSuite(scenario: Scenario, suiteText: string): SuiteResult {
  const { conversations, problems } = readSuite(scenario, suiteText);
  if (problems.length) return { valid: false, problems, conversations: [], passed: 0, failed: 0, unvisitedSteps: [] };
  const visited = new Set<string>();
  const results = conversations.map((conversation) => new ConversationRun(scenario, conversation, visited).run());
  const passed = results.filter((result) => result.passed).length;
  return {
    valid: true,
    problems: [],
    conversations: results,
    passed,
    failed: results.length - passed,
    unvisitedSteps: Object.keys(scenario.steps).filter((id) => !visited.has(id)),
  };
}
