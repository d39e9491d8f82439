/**
 * Scenario validation: JSON syntax, shape (zod), then the graph and content checks an operator needs
 * to fix a scenario from the message alone. Every diagnostic carries a JSON pointer and, when the
 * scenario came as text, the line and column in that text.
 */
import { getNodeValue, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import type { z } from 'zod';
import { DEFAULT_MAX_AUTO_TRANSITIONS } from './advance';
import { conditionOperands, conditionVariables, parseCondition } from './conditions';
import { parseDuration } from './durations';
import { isPlainObject } from './json';
import { platformLimitProblems } from './limits';
import { SourceMap, toPointer } from './positions';
import { keysAt, scenarioSchema } from './schema';
import { closestMatch } from './suggest';
import { parseTemplate } from './templates';
import type { Button, Diagnostic, JsonValue, MessageContent, Scenario, Step, TimeoutSetting, ValidationContext, ValidationResult } from './types';

type Path = (string | number)[];

class Report {
  readonly errors: Diagnostic[] = [];
  readonly warnings: Diagnostic[] = [];

  constructor(readonly source: SourceMap) {}

  add(severity: Diagnostic['severity'], code: string, path: Path, message: string, options: { suggestion?: string; textIndex?: number; atKey?: boolean } = {}): void {
    const position =
      options.textIndex !== undefined
        ? this.source.positionInString(path, options.textIndex)
        : options.atKey
          ? this.source.keyPosition(path)
          : this.source.positionOf(path);
    const diagnostic: Diagnostic = { severity, code, path: toPointer(path), message };
    if (position) Object.assign(diagnostic, position);
    if (options.suggestion !== undefined) diagnostic.suggestion = options.suggestion;
    (severity === 'error' ? this.errors : this.warnings).push(diagnostic);
  }

  error(code: string, path: Path, message: string, options?: { suggestion?: string; textIndex?: number; atKey?: boolean }): void {
    this.add('error', code, path, message, options);
  }

  warning(code: string, path: Path, message: string, options?: { suggestion?: string; textIndex?: number; atKey?: boolean }): void {
    this.add('warning', code, path, message, options);
  }

  result(scenario?: Scenario): ValidationResult {
    const byPosition = (a: Diagnostic, b: Diagnostic) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);
    const result: ValidationResult = {
      valid: this.errors.length === 0,
      errors: [...this.errors].sort(byPosition),
      warnings: [...this.warnings].sort(byPosition),
    };
    if (scenario && result.valid) result.scenario = scenario;
    return result;
  }
}

function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const match = closestMatch(word, candidates);
  return match === undefined ? undefined : `did you mean "${match}"?`;
}

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
  if (before.endsWith(',') && (after.startsWith('}') || after.startsWith(']'))) return 'JSON syntax error: trailing comma before the closing bracket is not allowed in JSON';
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
        else report.error('invalid_type', path, `"${String(last)}" must be ${issue.expected === 'int' ? 'a whole number' : `${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`}, not ${describeType(actual)}`);
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
        report.error('out_of_range', path, `"${String(last)}" ${issue.message.replace(/^Too (small|big): expected (number|string|int) to (have|be) /, 'must be ')}`);
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

// ---------------------------------------------------------------------------------------------
// Content and graph

/** The steps a step can lead to, with the path of each reference. */
function references(id: string, step: Step, settings: Scenario['settings']): { target: string; path: Path; automatic: boolean }[] {
  const base: Path = ['steps', id];
  const refs: { target: string; path: Path; automatic: boolean }[] = [];
  step.conditions?.forEach((branch, index) => refs.push({ target: branch.next_step, path: [...base, 'conditions', index, 'next_step'], automatic: true }));
  if (typeof step.next_step === 'string') refs.push({ target: step.next_step, path: [...base, 'next_step'], automatic: true });
  if (step.type === 'action' && step.action.type === 'http_request' && step.action.on_error_step !== undefined) {
    refs.push({ target: step.action.on_error_step, path: [...base, 'action', 'on_error_step'], automatic: true });
  }
  if (step.timeout?.step !== undefined) refs.push({ target: step.timeout.step, path: [...base, 'timeout', 'step'], automatic: false });
  else if (step.expected_input && settings?.timeout?.step !== undefined) {
    refs.push({ target: settings.timeout.step, path: ['settings', 'timeout', 'step'], automatic: false });
  }
  return refs;
}

/** Steps that stop the automatic run: they wait for a person (input or a human operator) or end it. */
function stopsAutomaticRun(step: Step): boolean {
  return step.expected_input !== undefined || (step.type === 'action' && (step.action.type === 'handoff' || step.action.type === 'end'));
}

function knownVariables(scenario: Scenario): Set<string> {
  const names = new Set(Object.keys(scenario.variables ?? {}));
  for (const step of Object.values(scenario.steps)) {
    if (step.expected_input?.variable) names.add(step.expected_input.variable);
    if (step.type === 'action' && (step.action.type === 'set_variable' || step.action.type === 'http_request')) names.add(step.action.variable);
  }
  return names;
}

class ContentChecker {
  private readonly variables: Set<string>;

  constructor(
    scenario: Scenario,
    private readonly report: Report,
    private readonly context: ValidationContext,
  ) {
    this.variables = knownVariables(scenario);
  }

  checkVariable(name: string, path: Path, textIndex: number): void {
    const root = name.split('.')[0];
    if (this.variables.has(root)) return;
    this.report.warning('unknown_variable', path, `variable "${root}" is never declared or collected; it will be empty`, {
      suggestion: didYouMean(root, this.variables),
      textIndex,
    });
  }

  template(text: string | undefined, path: Path): void {
    if (text === undefined) return;
    const { parts, problems } = parseTemplate(text);
    for (const problem of problems) this.report.warning('template_syntax', path, problem.message, { textIndex: problem.offset });
    for (const part of parts) {
      if (part.kind === 'placeholder' && part.fallback === undefined) this.checkVariable(part.path, path, part.offset + 2);
    }
  }

  templatesIn(value: JsonValue | undefined, path: Path): void {
    if (typeof value === 'string') this.template(value, path);
    else if (Array.isArray(value)) value.forEach((item, index) => this.templatesIn(item, [...path, index]));
    else if (isPlainObject(value)) for (const [key, item] of Object.entries(value)) this.templatesIn(item, [...path, key]);
  }

  condition(text: string, path: Path): void {
    const parsed = parseCondition(text);
    if (!parsed.ok) {
      this.report.error('condition_syntax', path, `condition "${text}": ${parsed.error.message} (column ${parsed.error.column} of the condition)`, {
        textIndex: parsed.error.column - 1,
      });
      return;
    }
    for (const variable of conditionVariables(parsed.ast)) this.checkVariable(variable.path, path, variable.column - 1);
    for (const operand of conditionOperands(parsed.ast)) {
      if (operand.kind === 'literal' && operand.word && typeof operand.value === 'string' && this.variables.has(operand.value.split('.')[0])) {
        this.report.warning('word_is_variable_name', path, `"${operand.value}" here is the literal word, not the variable of that name: a condition compares a variable with a value`, {
          suggestion: `quote it ("${operand.value}") to make the intent clear`,
          textIndex: operand.column - 1,
        });
      }
    }
  }

  message(content: MessageContent | undefined, buttons: Button[] | undefined, path: Path, buttonsPath: Path): void {
    this.template(content?.text, [...path, 'text']);
    content?.media?.forEach((item, index) => {
      const itemPath = [...path, 'media', index];
      this.template(item.caption, [...itemPath, 'caption']);
      this.template(item.url, [...itemPath, 'url']);
      const known = this.context.knownMediaIds;
      if (item.media_id !== undefined && known && !known.has(item.media_id)) {
        this.report.error('unknown_media', [...itemPath, 'media_id'], `media "${item.media_id}" does not exist for this bot (upload it first)`, {
          suggestion: didYouMean(item.media_id, known),
        });
      }
    });
    buttons?.forEach((button, index) => this.template(button.text, [...buttonsPath, index, 'text']));
    this.duplicateButtons(buttons, buttonsPath);
    for (const problem of platformLimitProblems(content, buttons)) {
      const at = problem.at[0] === 'buttons' ? [...buttonsPath, ...problem.at.slice(1)] : [...path, ...problem.at];
      this.report.warning('platform_limit', at, problem.message);
    }
  }

  private duplicateButtons(buttons: Button[] | undefined, path: Path): void {
    const values = new Map<string, number>();
    buttons?.forEach((button, index) => {
      const first = values.get(button.value);
      if (first !== undefined) {
        this.report.error('duplicate_button_value', [...path, index, 'value'], `button value "${button.value}" is already used by button ${first + 1}; the answer could not tell them apart`);
      } else {
        values.set(button.value, index);
      }
    });
  }

  timeout(setting: TimeoutSetting | undefined, path: Path): void {
    if (!setting) return;
    if (parseDuration(setting.after) === null) {
      this.report.error('invalid_duration', [...path, 'after'], `"${setting.after}" is not a duration; write a whole number and a unit: "30s", "30m", "2h" or "1d"`);
    }
    const needsStep = setting.action === 'goto' || setting.then === 'goto';
    if (needsStep && setting.step === undefined) this.report.error('missing_field', path, 'a timeout that goes to a step needs "step"');
    if (setting.action !== 'remind' && (setting.then !== undefined || setting.max_reminders !== undefined)) {
      this.report.warning('unused_field', path, `"then" and "max_reminders" only apply when "action" is "remind"`);
    }
    this.template(setting.message, [...path, 'message']);
  }

  input(step: Step, path: Path): void {
    const rules = step.expected_input;
    if (!rules) return;
    if (rules.pattern !== undefined) {
      try {
        new RegExp(rules.pattern, 'u');
      } catch (error) {
        this.report.error('invalid_pattern', [...path, 'pattern'], `pattern is not a valid regular expression: ${(error as Error).message}`);
      }
    }
    if (rules.min_length !== undefined && rules.max_length !== undefined && rules.min_length > rules.max_length) {
      this.report.error('invalid_range', [...path, 'min_length'], `min_length ${rules.min_length} is greater than max_length ${rules.max_length}; no answer could pass`);
    }
    if (rules.min_value !== undefined && rules.max_value !== undefined && rules.min_value > rules.max_value) {
      this.report.error('invalid_range', [...path, 'min_value'], `min_value ${rules.min_value} is greater than max_value ${rules.max_value}; no answer could pass`);
    }
    const hasButtons = (step.buttons?.length ?? 0) > 0 || (step.type === 'conditional_message' && step.variants.some((variant) => variant.buttons?.length));
    if (rules.type === 'button' && !hasButtons) {
      this.report.error('button_input_without_buttons', [...path, 'type'], 'the step expects a button press but shows no buttons');
    }
    if (rules.variable === undefined) this.report.warning('answer_not_stored', path, 'no "variable": the answer is checked but not kept');
  }
}

function checkVariables(scenario: Scenario, report: Report): void {
  const matches: Record<string, (value: JsonValue) => boolean> = {
    string: (value) => typeof value === 'string',
    number: (value) => typeof value === 'number',
    boolean: (value) => typeof value === 'boolean',
    object: (value) => isPlainObject(value),
    array: (value) => Array.isArray(value),
    date: (value) => typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value),
  };
  for (const [name, variable] of Object.entries(scenario.variables ?? {})) {
    if (variable.default !== undefined && variable.default !== null && !matches[variable.type](variable.default)) {
      report.warning('variable_default_type', ['variables', name, 'default'], `default of "${name}" is not a ${variable.type}`);
    }
  }
}

/** Strongly connected components (Tarjan), in a deterministic order. */
function cycles(nodes: string[], edges: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      const selfLoop = (edges.get(node) ?? []).includes(node);
      if (component.length > 1 || selfLoop) found.push(component.reverse());
    }
  };
  for (const node of nodes) if (!index.has(node)) visit(node);
  return found;
}

function checkGraph(scenario: Scenario, report: Report): void {
  const ids = Object.keys(scenario.steps);
  const known = new Set(ids);
  if (!known.has(scenario.start_step)) {
    report.error('unknown_start_step', ['start_step'], `start_step "${scenario.start_step}" is not a step`, { suggestion: didYouMean(scenario.start_step, ids) });
  }
  const allEdges = new Map<string, string[]>();
  const automaticEdges = new Map<string, string[]>();
  for (const id of ids) {
    const step = scenario.steps[id];
    const refs = references(id, step, scenario.settings);
    for (const ref of refs) {
      if (!known.has(ref.target)) {
        report.error('unknown_step', ref.path, `step "${ref.target}" does not exist`, { suggestion: didYouMean(ref.target, ids) });
      }
    }
    const targets = refs.filter((ref) => known.has(ref.target));
    allEdges.set(id, targets.map((ref) => ref.target));
    automaticEdges.set(id, stopsAutomaticRun(step) ? [] : targets.filter((ref) => ref.automatic).map((ref) => ref.target));

    if (step.expected_input && !step.conditions?.length && (step.next_step === undefined || step.next_step === null)) {
      report.error('input_leads_nowhere', ['steps', id, 'expected_input'], `step "${id}" waits for an answer but has no next_step or conditions: the dialog would end without a reply`, {
        suggestion: 'add a "next_step" (for example a thank-you step)',
      });
    }
    if (step.expected_input && step.conditions?.length && (step.next_step === undefined || step.next_step === null)) {
      report.warning('no_fallback_step', ['steps', id, 'conditions'], `step "${id}" has no next_step: when no condition is true, the dialog ends right after the answer`, {
        suggestion: 'add a "next_step" for the other answers',
      });
    }
  }
  const settingsTimeoutStep = scenario.settings?.timeout?.step;
  if (settingsTimeoutStep !== undefined && !known.has(settingsTimeoutStep) && !ids.some((id) => scenario.steps[id].expected_input)) {
    report.error('unknown_step', ['settings', 'timeout', 'step'], `step "${settingsTimeoutStep}" does not exist`, { suggestion: didYouMean(settingsTimeoutStep, ids) });
  }

  if (known.has(scenario.start_step)) {
    const reached = new Set<string>([scenario.start_step]);
    const queue = [scenario.start_step];
    while (queue.length) {
      for (const next of allEdges.get(queue.shift()!) ?? []) {
        if (!reached.has(next)) {
          reached.add(next);
          queue.push(next);
        }
      }
    }
    for (const id of ids) {
      if (!reached.has(id)) report.warning('unreachable_step', ['steps', id], `step "${id}" cannot be reached from start_step "${scenario.start_step}"`);
    }
  }

  const loops = cycles(ids, automaticEdges);
  const looping = new Set(loops.flat());
  for (const loop of loops) {
    const first = [...loop].sort((a, b) => ids.indexOf(a) - ids.indexOf(b))[0];
    const route = [...loop.slice(loop.indexOf(first)), ...loop.slice(0, loop.indexOf(first)), first].join(' → ');
    report.error('loop_without_input', ['steps', first], `steps ${route} form a loop in which no step waits for input; it would run until stopped`, {
      suggestion: 'give one of these steps an "expected_input", or break the loop',
    });
  }
  checkChainLength(scenario, ids, automaticEdges, looping, report);
}

/** Warns when a run of steps without input is longer than max_auto_transitions allows. */
function checkChainLength(scenario: Scenario, ids: string[], edges: Map<string, string[]>, looping: Set<string>, report: Report): void {
  const max = scenario.settings?.max_auto_transitions ?? DEFAULT_MAX_AUTO_TRANSITIONS;
  const longest = new Map<string, number>();
  const measure = (id: string): number => {
    const cached = longest.get(id);
    if (cached !== undefined) return cached;
    longest.set(id, 0);
    let best = 0;
    for (const next of edges.get(id) ?? []) if (!looping.has(next)) best = Math.max(best, 1 + measure(next));
    longest.set(id, best);
    return best;
  };
  let worst: string | undefined;
  for (const id of ids) {
    if (looping.has(id)) continue;
    if (worst === undefined || measure(id) > measure(worst)) worst = id;
  }
  if (worst !== undefined && measure(worst) > max) {
    report.warning('too_many_auto_transitions', ['steps', worst], `${measure(worst)} steps in a row from "${worst}" run without waiting for input, more than max_auto_transitions (${max}); the dialog would stop with an error`);
  }
}

function checkContent(scenario: Scenario, report: Report, context: ValidationContext): void {
  const content = new ContentChecker(scenario, report, context);
  const settings = scenario.settings;
  content.template(settings?.help_message, ['settings', 'help_message']);
  content.timeout(settings?.timeout, ['settings', 'timeout']);
  for (const [id, step] of Object.entries(scenario.steps)) {
    const base: Path = ['steps', id];
    if (step.id !== undefined && step.id !== id) {
      report.error('step_id_mismatch', [...base, 'id'], `step id "${step.id}" differs from its key "${id}"`, { suggestion: `set "id" to "${id}" or remove it` });
    }
    content.message(step.message, step.buttons, [...base, 'message'], [...base, 'buttons']);
    step.conditions?.forEach((branch, index) => content.condition(branch.condition, [...base, 'conditions', index, 'condition']));
    if (step.type === 'conditional_message') {
      step.variants.forEach((variant, index) => {
        const variantPath = [...base, 'variants', index];
        content.condition(variant.condition, [...variantPath, 'condition']);
        content.message(variant.message, variant.buttons ?? step.buttons, [...variantPath, 'message'], variant.buttons ? [...variantPath, 'buttons'] : [...base, 'buttons']);
      });
      content.message(step.default_message, step.buttons, [...base, 'default_message'], [...base, 'buttons']);
    }
    if (step.type === 'action') {
      const action = step.action;
      if (action.type === 'set_variable') content.templatesIn(action.value, [...base, 'action', 'value']);
      if (action.type === 'http_request') {
        content.template(action.url, [...base, 'action', 'url']);
        for (const [name, value] of Object.entries(action.headers ?? {})) content.template(value, [...base, 'action', 'headers', name]);
        content.templatesIn(action.body, [...base, 'action', 'body']);
      }
      if ((action.type === 'end' || action.type === 'handoff') && (step.next_step || step.conditions?.length || step.expected_input)) {
        report.warning('unused_field', [...base, 'action', 'type'], `a "${action.type}" action stops the scenario here; next_step, conditions and expected_input are ignored`);
      }
    }
    content.input(step, [...base, 'expected_input']);
    content.timeout(step.timeout, [...base, 'timeout']);
  }
  checkVariables(scenario, report);
}

/**
 * When the shape is wrong the full checks cannot run, but step references and condition syntax can
 * still be checked on the raw data, so one round of fixes covers the common typos.
 */
function checkReferencesOfRawData(data: Record<string, JsonValue>, report: Report): void {
  const steps = data.steps;
  if (!isPlainObject(steps)) return;
  const ids = Object.keys(steps);
  const reported = new Set(report.errors.map((error) => error.path));
  const reference = (target: JsonValue | undefined, path: Path) => {
    if (typeof target !== 'string' || target === '' || ids.includes(target) || reported.has(toPointer(path))) return;
    report.error(path[0] === 'start_step' ? 'unknown_start_step' : 'unknown_step', path, `step "${target}" does not exist`, { suggestion: didYouMean(target, ids) });
  };
  const condition = (text: JsonValue | undefined, path: Path) => {
    if (typeof text !== 'string' || reported.has(toPointer(path))) return;
    const parsed = parseCondition(text);
    if (!parsed.ok) report.error('condition_syntax', path, `condition "${text}": ${parsed.error.message} (column ${parsed.error.column} of the condition)`, { textIndex: parsed.error.column - 1 });
  };
  reference(data.start_step, ['start_step']);
  for (const id of ids) {
    const step = steps[id];
    if (!isPlainObject(step)) continue;
    reference(step.next_step, ['steps', id, 'next_step']);
    for (const list of ['conditions', 'variants'] as const) {
      const items = step[list];
      if (!Array.isArray(items)) continue;
      items.forEach((item, index) => {
        if (!isPlainObject(item)) return;
        if (list === 'conditions') reference(item.next_step, ['steps', id, list, index, 'next_step']);
        condition(item.condition, ['steps', id, list, index, 'condition']);
      });
    }
    if (isPlainObject(step.action)) reference(step.action.on_error_step, ['steps', id, 'action', 'on_error_step']);
    if (isPlainObject(step.timeout)) reference(step.timeout.step, ['steps', id, 'timeout', 'step']);
  }
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
      report.errors.push({ severity: 'error', code: 'json_syntax', path: '', ...report.source.positionAt(error.offset), message: syntaxMessage(error, source) });
    }
    if (!errors.length) report.errors.push({ severity: 'error', code: 'json_syntax', path: '', line: 1, column: 1, message: 'JSON syntax error: the document is empty' });
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
