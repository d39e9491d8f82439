/**
 * Branch conditions, parsed by hand (recursive descent; never eval):
 *
 *   expression := or
 *   or         := and ("or" and)*
 *   and        := unary ("and" unary)*
 *   unary      := "not" unary | primary
 *   primary    := "(" expression ")" | operand [comparison]
 *   comparison := ("==" | "!=" | ">" | "<" | ">=" | "<=" | "contains") operand
 *               | "exists" | ["not"] "in" "[" [operand ("," operand)*] "]"
 *
 * A bare word on the left of a comparison (or alone) is a variable path; on the right, and inside
 * `in [...]`, it is a literal word. Numbers, true/false/null and quoted strings are literals anywhere.
 */
import { getPath } from './json';
import type { CollectedData, JsonValue } from './types';

export type ComparisonOperator = '==' | '!=' | '>' | '<' | '>=' | '<=' | 'contains';

export type Operand =
  | { kind: 'variable'; path: string; column: number }
  | { kind: 'literal'; value: JsonValue; column: number; /** Written as a bare word, not quoted. */ word?: true };

export type ConditionNode =
  | { type: 'and' | 'or'; left: ConditionNode; right: ConditionNode }
  | { type: 'not'; operand: ConditionNode }
  | { type: 'compare'; operator: ComparisonOperator; left: Operand; right: Operand }
  | { type: 'exists'; operand: Operand }
  | { type: 'in'; operand: Operand; values: Operand[]; negated: boolean }
  | { type: 'truthy'; operand: Operand };

export interface ConditionError {
  /** 1-based column in the condition text. */
  column: number;
  message: string;
}

export type ParseConditionResult = { ok: true; ast: ConditionNode } | { ok: false; error: ConditionError };

type Token =
  | { kind: 'word'; text: string; column: number }
  | { kind: 'number'; value: number; text: string; column: number }
  | { kind: 'string'; value: string; column: number }
  | { kind: 'symbol'; text: string; column: number }
  | { kind: 'end'; column: number };

class ConditionSyntaxError extends Error {
  constructor(
    readonly column: number,
    message: string,
  ) {
    super(message);
  }
}

const KEYWORDS = new Set(['and', 'or', 'not', 'contains', 'exists', 'in', 'true', 'false', 'null']);
const SYMBOLS = ['==', '!=', '>=', '<=', '>', '<', '(', ')', '[', ']', ','];
const WORD_START = /[\p{L}_$]/u;
const WORD_PART = /[\p{L}\p{N}_$.\-]/u;
/** Sticky: read at the cursor, not from a copy of the rest of the text (quadratic on long conditions). */
const NUMBER = /-?\d+(\.\d+)?([eE][+-]?\d+)?/y;
/** Conditions run on every evaluation inside the workflow: their size and depth are bounded. */
export const MAX_CONDITION_LENGTH = 2_000;
const MAX_NESTING = 32;
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < text.length) {
    const character = text[index];
    const column = index + 1;
    if (/\s/.test(character)) {
      index += 1;
      continue;
    }
    if (character === '"' || character === "'") {
      let value = '';
      let cursor = index + 1;
      let closed = false;
      while (cursor < text.length) {
        const current = text[cursor];
        if (current === character) {
          closed = true;
          break;
        }
        if (current === '\\') {
          const escaped = text[cursor + 1];
          if (escaped === undefined) break;
          if (!(escaped in ESCAPES)) {
            throw new ConditionSyntaxError(cursor + 1, `unknown escape '\\${escaped}' in string (use \\\\ for a backslash)`);
          }
          value += ESCAPES[escaped];
          cursor += 2;
          continue;
        }
        value += current;
        cursor += 1;
      }
      if (!closed) throw new ConditionSyntaxError(column, `string starting here is never closed with ${character}`);
      tokens.push({ kind: 'string', value, column });
      index = cursor + 1;
      continue;
    }
    NUMBER.lastIndex = index;
    const number = NUMBER.exec(text);
    if (number && (character !== '-' || !WORD_PART.test(text[index - 1] ?? ' '))) {
      const after = text[index + number[0].length];
      if (after === undefined || !WORD_PART.test(after) || after === '-') {
        tokens.push({ kind: 'number', value: Number(number[0]), text: number[0], column });
        index += number[0].length;
        continue;
      }
    }
    if (WORD_START.test(character) || /\d/.test(character)) {
      let cursor = index + 1;
      while (cursor < text.length && WORD_PART.test(text[cursor])) cursor += 1;
      const word = text.slice(index, cursor);
      if (word.endsWith('.')) throw new ConditionSyntaxError(cursor, `'${word}' ends with a dot`);
      tokens.push({ kind: 'word', text: word, column });
      index = cursor;
      continue;
    }
    const symbol = SYMBOLS.find((candidate) => text.startsWith(candidate, index));
    if (symbol) {
      tokens.push({ kind: 'symbol', text: symbol, column });
      index += symbol.length;
      continue;
    }
    if (character === '=') throw new ConditionSyntaxError(column, "single '=' is not an operator: write '==' to compare");
    if (text.startsWith('&&', index) || text.startsWith('||', index)) {
      throw new ConditionSyntaxError(column, `'${text.slice(index, index + 2)}' is not supported: write '${character === '&' ? 'and' : 'or'}'`);
    }
    if (character === '!') throw new ConditionSyntaxError(column, "'!' is not supported: write 'not' (or '!=' to compare)");
    throw new ConditionSyntaxError(column, `unexpected character '${character}'`);
  }
  tokens.push({ kind: 'end', column: text.length + 1 });
  return tokens;
}

function isKeyword(token: Token, keyword: string): boolean {
  return token.kind === 'word' && token.text.toLowerCase() === keyword;
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'end':
      return 'the end of the condition';
    case 'string':
      return `the string "${token.value}"`;
    case 'number':
      return `the number ${token.text}`;
    default:
      return `'${token.text}'`;
  }
}

class Parser {
  private position = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  parse(): ConditionNode {
    if (this.peek().kind === 'end') throw new ConditionSyntaxError(1, 'the condition is empty');
    const node = this.parseOr();
    const next = this.peek();
    if (next.kind !== 'end') {
      const hint = next.kind === 'symbol' && next.text === ')' ? ' (no matching opening parenthesis)' : " (missing 'and' / 'or'?)";
      throw new ConditionSyntaxError(next.column, `unexpected ${describe(next)}${hint}`);
    }
    return node;
  }

  private peek(): Token {
    return this.tokens[this.position];
  }

  private next(): Token {
    const token = this.tokens[this.position];
    if (token.kind !== 'end') this.position += 1;
    return token;
  }

  private isSymbol(text: string): boolean {
    const token = this.peek();
    return token.kind === 'symbol' && token.text === text;
  }

  private parseOr(): ConditionNode {
    let left = this.parseAnd();
    while (isKeyword(this.peek(), 'or')) {
      this.next();
      left = { type: 'or', left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): ConditionNode {
    let left = this.parseUnary();
    while (isKeyword(this.peek(), 'and')) {
      this.next();
      left = { type: 'and', left, right: this.parseUnary() };
    }
    return left;
  }

  /** Enters a `not` or a parenthesis; deeper than MAX_NESTING is an error, not a stack overflow. */
  private nested<T>(column: number, parse: () => T): T {
    this.depth += 1;
    if (this.depth > MAX_NESTING) throw new ConditionSyntaxError(column, `nested more than ${MAX_NESTING} levels deep`);
    const node = parse();
    this.depth -= 1;
    return node;
  }

  private parseUnary(): ConditionNode {
    if (isKeyword(this.peek(), 'not')) {
      const not = this.next();
      return this.nested(not.column, () => ({ type: 'not', operand: this.parseUnary() }));
    }
    return this.parsePrimary();
  }

  private parsePrimary(): ConditionNode {
    if (this.isSymbol('(')) {
      const open = this.next();
      const inner = this.nested(open.column, () => this.parseOr());
      if (!this.isSymbol(')')) {
        throw new ConditionSyntaxError(this.peek().column, `expected ')' to close the '(' at column ${open.column}, found ${describe(this.peek())}`);
      }
      this.next();
      return inner;
    }
    const left = this.parseOperand('left');
    const token = this.peek();
    if (token.kind === 'symbol' && ['==', '!=', '>', '<', '>=', '<='].includes(token.text)) {
      this.next();
      return { type: 'compare', operator: token.text as ComparisonOperator, left, right: this.parseOperand('right') };
    }
    if (isKeyword(token, 'contains')) {
      this.next();
      return { type: 'compare', operator: 'contains', left, right: this.parseOperand('right') };
    }
    if (isKeyword(token, 'exists')) {
      this.next();
      return { type: 'exists', operand: left };
    }
    if (isKeyword(token, 'in')) {
      this.next();
      return { type: 'in', operand: left, values: this.parseList(), negated: false };
    }
    if (isKeyword(token, 'not') && isKeyword(this.tokens[this.position + 1] ?? token, 'in')) {
      this.next();
      this.next();
      return { type: 'in', operand: left, values: this.parseList(), negated: true };
    }
    return { type: 'truthy', operand: left };
  }

  private parseList(): Operand[] {
    if (!this.isSymbol('[')) throw new ConditionSyntaxError(this.peek().column, `expected '[' after 'in', found ${describe(this.peek())}`);
    this.next();
    const values: Operand[] = [];
    if (this.isSymbol(']')) {
      this.next();
      return values;
    }
    for (;;) {
      values.push(this.parseOperand('right'));
      if (this.isSymbol(',')) {
        this.next();
        continue;
      }
      if (this.isSymbol(']')) {
        this.next();
        return values;
      }
      throw new ConditionSyntaxError(this.peek().column, `expected ',' or ']' in the list, found ${describe(this.peek())}`);
    }
  }

  private parseOperand(side: 'left' | 'right'): Operand {
    const token = this.next();
    switch (token.kind) {
      case 'number':
        return { kind: 'literal', value: token.value, column: token.column };
      case 'string':
        return { kind: 'literal', value: token.value, column: token.column };
      case 'word': {
        const lower = token.text.toLowerCase();
        if (lower === 'true' || lower === 'false') return { kind: 'literal', value: lower === 'true', column: token.column };
        if (lower === 'null') return { kind: 'literal', value: null, column: token.column };
        if (KEYWORDS.has(lower)) throw new ConditionSyntaxError(token.column, `expected a value, found the keyword '${token.text}'`);
        return side === 'left'
          ? { kind: 'variable', path: token.text, column: token.column }
          : { kind: 'literal', value: token.text, column: token.column, word: true };
      }
      default:
        throw new ConditionSyntaxError(token.column, `expected a value, found ${describe(token)}`);
    }
  }
}

export function parseCondition(text: string): ParseConditionResult {
  if (typeof text !== 'string') return { ok: false, error: { column: 1, message: 'a condition must be a string' } };
  if (text.length > MAX_CONDITION_LENGTH) {
    return {
      ok: false,
      error: { column: MAX_CONDITION_LENGTH + 1, message: `a condition may be at most ${MAX_CONDITION_LENGTH} characters long (this one is ${text.length})` },
    };
  }
  try {
    return { ok: true, ast: new Parser(tokenize(text)).parse() };
  } catch (error) {
    if (error instanceof ConditionSyntaxError) return { ok: false, error: { column: error.column, message: error.message } };
    throw error;
  }
}

/** Every operand of a condition, left to right. */
export function conditionOperands(node: ConditionNode): Operand[] {
  switch (node.type) {
    case 'and':
    case 'or':
      return [...conditionOperands(node.left), ...conditionOperands(node.right)];
    case 'not':
      return conditionOperands(node.operand);
    case 'compare':
      return [node.left, node.right];
    case 'in':
      return [node.operand, ...node.values];
    default:
      return [node.operand];
  }
}

/** Variables a condition reads, with their columns. */
export function conditionVariables(node: ConditionNode): { path: string; column: number }[] {
  return conditionOperands(node).flatMap((operand) => (operand.kind === 'variable' ? [{ path: operand.path, column: operand.column }] : []));
}

type Value = JsonValue | undefined;

function resolve(operand: Operand, data: CollectedData): Value {
  return operand.kind === 'variable' ? getPath(data, operand.path) : operand.value;
}

function asNumber(value: Value): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?([eE][+-]?\d+)?\s*$/.test(value)) return Number(value);
  return null;
}

function asText(value: Value): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value ?? null);
}

function isNullish(value: Value): value is null | undefined {
  return value === null || value === undefined;
}

/**
 * Equality with one value, read once: `in [...]` and `contains` compare it with many, and reading
 * an object means writing it as JSON.
 */
function equalTo(left: Value): (right: Value) => boolean {
  const leftNumber = asNumber(left);
  let leftText: string | undefined;
  return (right) => {
    if (isNullish(left) || isNullish(right)) return isNullish(left) && isNullish(right);
    const rightNumber = asNumber(right);
    if (leftNumber !== null && rightNumber !== null) return leftNumber === rightNumber;
    leftText ??= asText(left);
    return leftText === asText(right);
  };
}

function equals(left: Value, right: Value): boolean {
  return equalTo(left)(right);
}

function order(left: Value, right: Value): number | null {
  if (isNullish(left) || isNullish(right)) return null;
  const leftNumber = asNumber(left);
  const rightNumber = asNumber(right);
  if (leftNumber !== null && rightNumber !== null) return leftNumber - rightNumber;
  const leftText = asText(left);
  const rightText = asText(right);
  return leftText < rightText ? -1 : leftText > rightText ? 1 : 0;
}

function contains(haystack: Value, needle: Value): boolean {
  if (Array.isArray(haystack)) return haystack.some(equalTo(needle));
  if (isNullish(haystack) || isNullish(needle)) return false;
  if (typeof haystack === 'object') return Object.prototype.hasOwnProperty.call(haystack, asText(needle));
  return asText(haystack).toLowerCase().includes(asText(needle).toLowerCase());
}

function truthy(value: Value): boolean {
  if (Array.isArray(value)) return value.length > 0;
  return !isNullish(value) && value !== false && value !== 0 && value !== '';
}

function evaluateNode(node: ConditionNode, data: CollectedData): boolean {
  switch (node.type) {
    case 'and':
      return evaluateNode(node.left, data) && evaluateNode(node.right, data);
    case 'or':
      return evaluateNode(node.left, data) || evaluateNode(node.right, data);
    case 'not':
      return !evaluateNode(node.operand, data);
    case 'exists':
      return !isNullish(resolve(node.operand, data));
    case 'truthy':
      return truthy(resolve(node.operand, data));
    case 'in': {
      const value = resolve(node.operand, data);
      const isValue = equalTo(value);
      const found = node.values.some((candidate) => isValue(resolve(candidate, data)));
      return node.negated ? !found : found;
    }
    case 'compare': {
      const left = resolve(node.left, data);
      const right = resolve(node.right, data);
      switch (node.operator) {
        case '==':
          return equals(left, right);
        case '!=':
          return !equals(left, right);
        case 'contains':
          return contains(left, right);
        default: {
          const comparison = order(left, right);
          if (comparison === null) return false;
          if (node.operator === '>') return comparison > 0;
          if (node.operator === '<') return comparison < 0;
          if (node.operator === '>=') return comparison >= 0;
          return comparison <= 0;
        }
      }
    }
  }
}

/**
 * Evaluates a condition (text or parsed) against collected data. A condition that does not parse
 * throws a ConditionError-shaped error; use parseCondition first to report it instead.
 */
export function evaluateCondition(condition: string | ConditionNode, data: CollectedData): boolean {
  if (typeof condition !== 'string') return evaluateNode(condition, data);
  const parsed = parseCondition(condition);
  if (!parsed.ok) throw new InvalidConditionError(condition, parsed.error);
  return evaluateNode(parsed.ast, data);
}

export class InvalidConditionError extends Error {
  constructor(
    readonly condition: string,
    readonly detail: ConditionError,
  ) {
    super(`invalid condition at column ${detail.column}: ${detail.message}`);
    this.name = 'InvalidConditionError';
  }
}
