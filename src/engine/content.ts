/**
 * Checks on what steps say and ask: templates, conditions, variables, buttons, media, input rules,
 * timeouts and the platforms' limits.
 */
import { conditionOperands, conditionVariables, parseCondition } from './conditions';
import { parseDuration } from './durations';
import { checkPattern } from './input';
import { isPlainObject } from './json';
import { platformLimitProblems } from './limits';
import { didYouMean, type Path, type Report } from './report';
import { checkUrlTemplate, parseTemplate, readsUser, USER_ROOT } from './templates';
import type { Button, JsonValue, MessageContent, Scenario, Step, TimeoutSetting, ValidationContext } from './types';

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
      if (part.kind === 'placeholder' && part.fallback === undefined && !readsUser(part.path)) this.checkVariable(part.path, path, part.offset + 2);
    }
  }

  /** A request's URL: a template whose placeholders stand only in the path or query. */
  url(template: string, path: Path): void {
    this.template(template, path);
    const checked = checkUrlTemplate(template);
    if (!checked.ok) this.report.error('invalid_url', path, checked.message, { textIndex: checked.offset });
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
        this.report.warning(
          'word_is_variable_name',
          path,
          `"${operand.value}" here is the literal word, not the variable of that name: a condition compares a variable with a value`,
          {
            suggestion: `quote it ("${operand.value}") to make the intent clear`,
            textIndex: operand.column - 1,
          },
        );
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
        this.report.error(
          'duplicate_button_value',
          [...path, index, 'value'],
          `button value "${button.value}" is already used by button ${first + 1}; the answer could not tell them apart`,
        );
      } else {
        values.set(button.value, index);
      }
    });
  }

  timeout(setting: TimeoutSetting | undefined, path: Path): void {
    if (!setting) return;
    if (parseDuration(setting.after) === null) {
      this.report.error(
        'invalid_duration',
        [...path, 'after'],
        `"${setting.after}" is not a duration; write a whole number and a unit: "30s", "30m", "2h" or "1d"`,
      );
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
      const checked = checkPattern(rules.pattern);
      if (!checked.ok)
        this.report.error('invalid_pattern', [...path, 'pattern'], checked.message, { suggestion: checked.suggestion, textIndex: checked.index });
    }
    if (rules.min_length !== undefined && rules.max_length !== undefined && rules.min_length > rules.max_length) {
      this.report.error(
        'invalid_range',
        [...path, 'min_length'],
        `min_length ${rules.min_length} is greater than max_length ${rules.max_length}; no answer could pass`,
      );
    }
    if (rules.min_value !== undefined && rules.max_value !== undefined && rules.min_value > rules.max_value) {
      this.report.error(
        'invalid_range',
        [...path, 'min_value'],
        `min_value ${rules.min_value} is greater than max_value ${rules.max_value}; no answer could pass`,
      );
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

/** `user` is the templates' chat user profile: a variable of that name would be hidden behind it. */
function checkReservedNames(scenario: Scenario, report: Report): void {
  const message = `"${USER_ROOT}" is reserved for the chat user's profile ({{${USER_ROOT}.name}}); a variable may not be named so`;
  const suggestion = 'choose another name, e.g. "user_name"';
  if (scenario.variables && Object.prototype.hasOwnProperty.call(scenario.variables, USER_ROOT)) {
    report.error('reserved_variable', ['variables', USER_ROOT], message, { suggestion, atKey: true });
  }
  for (const [id, step] of Object.entries(scenario.steps)) {
    if (step.expected_input?.variable === USER_ROOT) report.error('reserved_variable', ['steps', id, 'expected_input', 'variable'], message, { suggestion });
    if (step.type === 'action' && (step.action.type === 'set_variable' || step.action.type === 'http_request') && step.action.variable === USER_ROOT) {
      report.error('reserved_variable', ['steps', id, 'action', 'variable'], message, { suggestion });
    }
  }
}

export function checkContent(scenario: Scenario, report: Report, context: ValidationContext): void {
  const content = new ContentChecker(scenario, report, context);
  checkReservedNames(scenario, report);
  const settings = scenario.settings;
  content.template(settings?.help_message, ['settings', 'help_message']);
  content.timeout(settings?.timeout, ['settings', 'timeout']);
  for (const [id, step] of Object.entries(scenario.steps)) {
    const base: Path = ['steps', id];
    if (step.id !== undefined && step.id !== id) {
      report.error('step_id_mismatch', [...base, 'id'], `step id "${step.id}" differs from its key "${id}"`, {
        suggestion: `set "id" to "${id}" or remove it`,
      });
    }
    content.message(step.message, step.buttons, [...base, 'message'], [...base, 'buttons']);
    step.conditions?.forEach((branch, index) => content.condition(branch.condition, [...base, 'conditions', index, 'condition']));
    if (step.type === 'conditional_message') {
      step.variants.forEach((variant, index) => {
        const variantPath = [...base, 'variants', index];
        content.condition(variant.condition, [...variantPath, 'condition']);
        content.message(
          variant.message,
          variant.buttons ?? step.buttons,
          [...variantPath, 'message'],
          variant.buttons ? [...variantPath, 'buttons'] : [...base, 'buttons'],
        );
      });
      content.message(step.default_message, step.buttons, [...base, 'default_message'], [...base, 'buttons']);
    }
    if (step.type === 'action') {
      const action = step.action;
      if (action.type === 'set_variable') content.templatesIn(action.value, [...base, 'action', 'value']);
      if (action.type === 'http_request') {
        content.url(action.url, [...base, 'action', 'url']);
        for (const [name, value] of Object.entries(action.headers ?? {})) content.template(value, [...base, 'action', 'headers', name]);
        content.templatesIn(action.body, [...base, 'action', 'body']);
      }
      if ((action.type === 'end' || action.type === 'handoff') && (step.next_step || step.conditions?.length || step.expected_input)) {
        report.warning(
          'unused_field',
          [...base, 'action', 'type'],
          `a "${action.type}" action stops the scenario here; next_step, conditions and expected_input are ignored`,
        );
      }
    }
    content.input(step, [...base, 'expected_input']);
    content.timeout(step.timeout, [...base, 'timeout']);
  }
  checkVariables(scenario, report);
}
