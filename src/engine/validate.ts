/**
 * Scenario validation: JSON syntax, shape (zod), then the graph and content checks an operator needs
 * to fix a scenario from the message alone. Every diagnostic carries a JSON pointer and, when the
 * scenario came as text, the line and column in that text.
 */
import { findNodeAtLocation, getNodeValue, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import type { z } from 'zod';
import { checkContent } from './content';
import { checkGraph, checkReferencesOfRawData } from './graph';
import { isPlainObject } from './json';
import { SourceMap, toPointer } from './positions';
import { didYouMean, Report, type Path } from './report';
import { keysAt, scenarioSchema } from './schema';
import type { Scenario, ValidationContext, ValidationResult } from './types';

// ---------------------------------------------------------------------------------------------
// Text and shape

function syntaxMessage(error: ParseError, text: string): string {
  const code = printParseErrorCode(error.error);
  const found = text.slice(error.offset, error.offset + Math.max(error.length, 1));
  const words: Record<string, string> = {
    InvalidSymbol: `unexpected ${found ? `'${found}'` : 'character'}`,
    InvalidNumberFormat: 'invalid number',
    PropertyNameExpected: 'expected a property name in double quotes',
    ValueExpected: 'expected a value',
    ColonExpected: "expected ':' after the property name",
    CommaExpected: "expected ',' between items (or a closing bracket)",
    CloseBraceExpected: "expected '}' to close the object",
    CloseBracketExpected: "expected ']' to close the array",
    EndOfFileExpected: 'unexpected content after the end of the JSON document',
    InvalidCommentToken: 'comments are not allowed in JSON',
    UnexpectedEndOfComment: 'comments are not allowed in JSON',
    UnexpectedEndOfString: 'string is never closed with a double quote',
    UnexpectedEndOfNumber: 'number is cut short',
    InvalidUnicode: 'invalid \\u escape in string',
    InvalidEscapeCharacter: 'invalid escape in string',
    InvalidCharacter: 'invalid character in string (control characters must be escaped)',
  };
  const before = text.slice(0, error.offset).trimEnd();
  const after = text.slice(error.offset).trimStart();
  if (before.endsWith(',') && (after.startsWith('}') || after.startsWith(']')))
    return 'JSON syntax error: trailing comma before the closing bracket is not allowed in JSON';
  return `JSON syntax error: ${words[code] ?? code}`;
}

function checkDuplicateKeys(node: Node | undefined, path: Path, report: Report): void {
  if (!node) return;
  if (node.type === 'object') {
    const seen = new Set<string>();
    for (const property of node.children ?? []) {
      const [key, value] = property.children ?? [];
      if (!key) continue;
      const name = String(key.value);
      if (seen.has(name)) {
        report.errors.push({
          severity: 'error',
          code: 'duplicate_key',
          path: toPointer([...path, name]),
          ...report.source.positionAt(key.offset),
          message: `key "${name}" appears twice in this object; only the last one would count`,
        });
      }
      seen.add(name);
      checkDuplicateKeys(value, [...path, name], report);
    }
  } else if (node.type === 'array') {
    (node.children ?? []).forEach((child, index) => checkDuplicateKeys(child, [...path, index], report));
  }
}

function valueAt(data: unknown, path: PropertyKey[]): unknown {
  let current = data;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function reportSchemaIssues(issues: z.core.$ZodIssue[], data: unknown, report: Report): void {
  for (const issue of issues) {
    const path = issue.path as Path;
    const last = path[path.length - 1];
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          report.error('unknown_key', [...path, key], `unknown key "${key}"`, { suggestion: didYouMean(key, keysAt(path)), atKey: true });
        }
        break;
      case 'invalid_type': {
        const actual = valueAt(data, issue.path);
        if (actual === undefined) report.error('missing_field', path, `missing required field "${String(last)}"`);
        else
          report.error(
            'invalid_type',
            path,
            `"${String(last)}" must be ${issue.expected === 'int' ? 'a whole number' : `${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`}, not ${describeType(actual)}`,
          );
        break;
      }
      case 'invalid_union': {
        const options = 'options' in issue && Array.isArray(issue.options) ? (issue.options as string[]) : [];
        const actual = valueAt(data, issue.path);
        if (options.length && actual === undefined) {
          report.error('missing_field', path, `missing required field "type" (one of ${options.join(', ')})`);
        } else if (options.length) {
          report.error('invalid_value', path, `"${String(actual)}" is not a valid type; expected one of ${options.join(', ')}`, {
            suggestion: typeof actual === 'string' ? didYouMean(actual, options) : undefined,
          });
        } else if (issue.errors.every((branch) => branch.length === 1 && branch[0].code === 'invalid_type')) {
          const expected = issue.errors.map((branch) => (branch[0] as z.core.$ZodIssueInvalidType).expected).join(' or ');
          report.error('invalid_type', path, `"${String(last)}" must be a ${expected}, not ${describeType(actual)}`);
        } else {
          report.error('invalid_value', path, issue.message);
        }
        break;
      }
      case 'invalid_value': {
        const actual = valueAt(data, issue.path);
        const options = issue.values.map(String);
        report.error('invalid_value', path, `"${String(actual)}" is not allowed for "${String(last)}"; expected one of ${options.join(', ')}`, {
          suggestion: typeof actual === 'string' ? didYouMean(actual, options) : undefined,
        });
        break;
      }
      case 'too_small':
      case 'too_big': {
        report.error(
          'out_of_range',
          path,
          `"${String(last)}" ${issue.message.replace(/^Too (small|big): expected (number|string|int) to (have|be) /, 'must be ')}`,
        );
        break;
      }
      case 'invalid_format':
        report.error('invalid_value', path, `"${String(last)}" ${issue.message}`);
        break;
      case 'invalid_key': {
        const detail = issue.issues[0]?.message ?? issue.message;
        report.error('invalid_value', path, `"${String(last)}" is not allowed as a name: it ${detail}`, { atKey: true });
        break;
      }
      case 'custom':
        report.error('invalid_value', path, issue.message);
        break;
      default:
        report.error('invalid_value', path, `${String(last ?? 'scenario')}: ${issue.message}`);
    }
  }
}

/** The format version of every scenario so far. */
const FORMAT_VERSION = '1.0';

/** The id of the first step as the document lists it (JSON.parse puts keys like "10" first). */
function firstStepId(scenario: Scenario, source: SourceMap): string | undefined {
  const steps = source.root && findNodeAtLocation(source.root, ['steps']);
  const firstKey: unknown = steps?.type === 'object' ? steps.children?.[0]?.children?.[0]?.value : undefined;
  return typeof firstKey === 'string' && Object.hasOwn(scenario.steps, firstKey) ? firstKey : Object.keys(scenario.steps)[0];
}

/**
 * The product spec's own sample documents have no `version` or `start_step`. Their meaning is clear,
 * so they are filled in (and stored with the scenario) with a warning, not refused. False when there
 * is no step to start with.
 */
function fillInOmittedFields(scenario: Scenario, report: Report): boolean {
  if (scenario.version === undefined) {
    scenario.version = FORMAT_VERSION;
    report.warning('version_assumed', [], `no "version": the scenario is read as format version "${FORMAT_VERSION}"`, {
      suggestion: `add "version": "${FORMAT_VERSION}"`,
    });
  }
  if (scenario.start_step !== undefined) return true;
  const first = firstStepId(scenario, report.source);
  if (first === undefined) {
    report.error('missing_field', ['start_step'], 'missing required field "start_step", and there is no step to start with');
    return false;
  }
  scenario.start_step = first;
  report.warnings.push({
    severity: 'warning',
    code: 'start_step_assumed',
    path: toPointer(['start_step']),
    ...report.source.keyPosition(['steps', first]),
    message: `no "start_step": dialogs start at "${first}", the first step of "steps"`,
    suggestion: `add "start_step": "${first}"`,
  });
  return true;
}

// ---------------------------------------------------------------------------------------------
// Entry points

function validateParsed(data: unknown, report: Report, context: ValidationContext): ValidationResult {
  if (!isPlainObject(data)) {
    report.error('invalid_type', [], `a scenario must be a JSON object, not ${describeType(data)}`);
    return report.result();
  }
  const parsed = scenarioSchema.safeParse(data);
  if (!parsed.success) {
    reportSchemaIssues(parsed.error.issues, data, report);
    checkReferencesOfRawData(data, report);
    return report.result();
  }
  const scenario = parsed.data as Scenario;
  if (!fillInOmittedFields(scenario, report)) return report.result();
  checkContent(scenario, report, context);
  checkGraph(scenario, report);
  for (const [id, step] of Object.entries(scenario.steps)) if (step.id === undefined) step.id = id;
  return report.result(scenario);
}

/** Validates a scenario file's text; positions refer to that text. Never throws. */
export function validateScenarioText(text: string, context: ValidationContext = {}): ValidationResult {
  const errors: ParseError[] = [];
  const source = typeof text === 'string' ? text : '';
  const root = parseTree(source, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const report = new Report(new SourceMap(source, root));
  if (errors.length || !root) {
    // Only the first: the parser's recovery makes every later error a guess.
    for (const error of errors.slice(0, 1)) {
      report.errors.push({
        severity: 'error',
        code: 'json_syntax',
        path: '',
        ...report.source.positionAt(error.offset),
        message: syntaxMessage(error, source),
      });
    }
    if (!errors.length)
      report.errors.push({ severity: 'error', code: 'json_syntax', path: '', line: 1, column: 1, message: 'JSON syntax error: the document is empty' });
    return report.result();
  }
  checkDuplicateKeys(root, [], report);
  return validateParsed(getNodeValue(root), report, context);
}

/**
 * Validates an already parsed scenario. Positions refer to its pretty-printed form
 * (JSON.stringify(data, null, 2)). Never throws.
 */
export function validateScenario(data: unknown, context: ValidationContext = {}): ValidationResult {
  let text: string | undefined;
  try {
    text = JSON.stringify(data, null, 2);
  } catch {
    text = undefined;
  }
  if (text === undefined) {
    return {
      valid: false,
      errors: [{ severity: 'error', code: 'invalid_type', path: '', message: 'a scenario must be a JSON object (this value cannot be written as JSON)' }],
      warnings: [],
    };
  }
  return validateScenarioText(text, context);
}
