/**
 * Running a dialog: one pure step function from (scenario, state, input) to (new state, effects).
 * Deterministic and side-effect free; the workflow performs the effects.
 */
import { checkData, checkValue, cutInput, textBudget, TooLarge } from './bounds';
import { evaluateCondition, InvalidConditionError } from './conditions';
import { validateInput } from './input';
import { cloneJson, setOwn } from './json';
import { escapeMarkdown, renderTemplate, renderUrlTemplate, renderValue, templateData } from './templates';
import { timeoutPolicy, timeoutSetting } from './timeouts';
import type {
  AdvanceResult,
  Button,
  CollectedData,
  ConditionalMessageStep,
  DialogState,
  Effect,
  EngineEvent,
  EngineInput,
  HttpRequestAction,
  HttpRequestErrorCode,
  HttpRequestSpec,
  JsonValue,
  MessageContent,
  OutgoingMessage,
  Scenario,
  Step,
  UserInput,
  WhatsAppTemplate,
} from './types';

export const DEFAULT_MAX_AUTO_TRANSITIONS = 25;
export const DEFAULT_HELP_MESSAGE = 'Send /start or /reset to start again from the beginning.';

/** A dialog that has not started: the first message or `start` input runs the start step. */
export function initialState(): DialogState {
  return { status: 'active', currentStep: null, collectedData: {}, checkpointStep: null, attempts: 0, reminders: 0 };
}

/** The collected data a dialog starts with: every declared variable's default. */
export function initialData(scenario: Scenario): CollectedData {
  const data: CollectedData = {};
  for (const [name, variable] of Object.entries(scenario.variables ?? {})) {
    if (variable.default !== undefined) setOwn(data, name, cloneJson(variable.default));
  }
  return data;
}

type Command = 'start' | 'help' | 'reset';

const TEXT_COMMAND = /^\/(start|help|reset)(@\S+)?$/i;

/** Commands the engine knows; any other command is treated as text. */
export function recognizeCommand(input: UserInput): Command | null {
  if (input.kind === 'command') {
    const name = withoutBotName(input.command.replace(/^\//, '')).toLowerCase();
    return name === 'start' || name === 'help' || name === 'reset' ? name : null;
  }
  if (input.kind === 'text') {
    const match = TEXT_COMMAND.exec(input.text.trim());
    return match ? (match[1].toLowerCase() as Command) : null;
  }
  return null;
}

/** `start@my_bot` → `start` (a group chat names the bot); a regex here could backtrack on hostile text. */
function withoutBotName(command: string): string {
  const at = command.indexOf('@');
  return at >= 0 && !/\s/.test(command.slice(at)) ? command.slice(0, at) : command;
}

/** A step of the scenario by an id from outside (an operator's): never a property of Object's prototype. */
export function stepOf(scenario: Scenario, id: string): Step | undefined {
  return Object.prototype.hasOwnProperty.call(scenario.steps, id) ? scenario.steps[id] : undefined;
}

/** An operator's data change: merged into the data (a `null` value removes its key), or replacing it. */
export function changedData(data: CollectedData, change: CollectedData, replace: boolean): CollectedData {
  if (replace) return cloneJson(change);
  const merged = cloneJson(data);
  for (const [key, value] of Object.entries(change)) {
    if (value === null) delete merged[key];
    else setOwn<JsonValue>(merged, key, cloneJson(value));
  }
  return merged;
}

function asText(input: UserInput): UserInput {
  return input.kind === 'command' ? { kind: 'text', text: `/${input.command.replace(/^\//, '')}${input.args ? ` ${input.args}` : ''}` } : input;
}

class Run {
  readonly state: DialogState;
  readonly effects: Effect[] = [];
  private autoTransitions = 0;
  private readonly maxAutoTransitions: number;

  constructor(
    private readonly scenario: Scenario,
    state: DialogState,
  ) {
    this.state = cloneJson(state);
    this.maxAutoTransitions = scenario.settings?.max_auto_transitions ?? DEFAULT_MAX_AUTO_TRANSITIONS;
  }

  result(): AdvanceResult {
    return { state: this.state, effects: this.effects };
  }

  event(event: EngineEvent): void {
    this.effects.push({ type: 'event', event });
  }

  private send(step: string | null, message: OutgoingMessage): void {
    if (message.text === undefined && !message.media?.length && !message.buttons?.length) return;
    const template = step === null ? undefined : stepOf(this.scenario, step)?.whatsapp_template;
    if (template) message.whatsapp_template = this.renderWhatsAppTemplate(template);
    this.effects.push({ type: 'send', step, message });
  }

  /** Every message of a step carries the step's WhatsApp template; only WhatsApp, outside the 24-hour window, sends it. */
  private renderWhatsAppTemplate(template: WhatsAppTemplate): WhatsAppTemplate {
    const data = templateData(this.state);
    const budget = textBudget("a WhatsApp template's parameters");
    const rendered: WhatsAppTemplate = { name: template.name, language: template.language };
    if (template.parameters) rendered.parameters = template.parameters.map((parameter) => renderTemplate(parameter, data, budget));
    return rendered;
  }

  /** A message as it is sent; its texts together count against one text bound (throws `TooLarge`). */
  private render(content: MessageContent | undefined, buttons: Button[] | undefined): OutgoingMessage {
    const data = templateData(this.state);
    const budget = textBudget('a message with its captions and buttons');
    const message: OutgoingMessage = {};
    if (content?.text !== undefined) {
      const markdown = content.format === 'markdown';
      message.text = renderTemplate(content.text, data, budget, markdown ? escapeMarkdown : undefined);
      if (markdown) message.format = 'markdown';
    }
    if (content?.media?.length) {
      message.media = content.media.map((item) => {
        const rendered = cloneJson(item);
        if (rendered.url !== undefined) rendered.url = renderTemplate(rendered.url, data, budget);
        if (rendered.caption !== undefined) rendered.caption = renderTemplate(rendered.caption, data, budget);
        return rendered;
      });
    }
    if (buttons?.length) message.buttons = buttons.map((button) => ({ text: renderTemplate(button.text, data, budget), value: button.value }));
    return message;
  }

  /** Evaluates a condition, logging its outcome; a condition that does not parse counts as false. */
  private test(step: string, condition: string, record: boolean): boolean {
    let result = false;
    try {
      result = evaluateCondition(condition, this.state.collectedData);
    } catch (error) {
      if (!(error instanceof InvalidConditionError)) throw error;
      if (record) this.event({ kind: 'error', step, code: 'invalid_condition', message: `${condition}: ${error.message}` });
    }
    if (record) this.event({ kind: 'condition_evaluated', step, condition, result });
    return result;
  }

  private chooseVariant(step: ConditionalMessageStep, record: boolean): { message?: MessageContent; buttons?: Button[] } {
    for (const variant of step.variants) {
      if (this.test(step.id, variant.condition, record)) return { message: variant.message, buttons: variant.buttons ?? step.buttons };
    }
    return { message: step.default_message, buttons: step.buttons };
  }

  /** The buttons shown with a step's question (a conditional message's depend on the data). */
  buttonsOf(step: Step): Button[] {
    if (step.type === 'conditional_message') return this.chooseVariant(step, false).buttons ?? [];
    return step.buttons ?? [];
  }

  private resolveNext(step: Step): string | null {
    for (const branch of step.conditions ?? []) {
      if (this.test(step.id, branch.condition, true)) return branch.next_step;
    }
    return step.next_step ?? null;
  }

  /** Stores a value; over its bound, or with the data over theirs, it throws `TooLarge` and stores nothing. */
  private setVariable(step: string, variable: string, value: JsonValue): void {
    checkValue(variable, value);
    const data = { ...this.state.collectedData };
    setOwn(data, variable, cloneJson(value));
    checkData(data);
    this.state.collectedData = data;
    this.event({ kind: 'variable_set', variable, value: cloneJson(value), step });
  }

  private complete(step: string | null): void {
    this.state.status = 'completed';
    this.state.currentStep = null;
    this.state.attempts = 0;
    this.event({ kind: 'dialog_completed', step });
  }

  fail(step: string | null, code: string, message: string): void {
    this.state.status = 'failed';
    this.event({ kind: 'error', step, code, message });
  }

  /** Enters a step and does what it says; returns the step when the dialog may move past it. */
  private enter(id: string): Step | null {
    const step = this.scenario.steps[id];
    if (!step) {
      this.fail(this.state.currentStep, 'unknown_step', `step '${id}' does not exist in the scenario`);
      return null;
    }
    this.state.currentStep = id;
    this.state.attempts = 0;
    this.event({ kind: 'step_entered', step: id });
    if (step.checkpoint) this.state.checkpointStep = id;

    if (step.type === 'message') {
      this.send(id, this.render(step.message, step.buttons));
      return step;
    }
    if (step.type === 'conditional_message') {
      const variant = this.chooseVariant(step, true);
      this.send(id, this.render(variant.message, variant.buttons));
      return step;
    }
    const action = step.action;
    switch (action.type) {
      case 'set_variable':
        this.setVariable(id, action.variable, renderValue(action.value, templateData(this.state)));
        this.send(id, this.render(step.message, step.buttons));
        return step;
      case 'http_request': {
        const data = templateData(this.state);
        const url = renderUrlTemplate(action.url, data);
        if (!url.ok) return this.requestFailed(step, action, 'http_request_refused', url.message);
        const request: HttpRequestSpec = { method: action.method ?? 'GET', url: url.url };
        if (action.headers) {
          request.headers = Object.fromEntries(Object.entries(action.headers).map(([name, value]) => [name, renderTemplate(value, data)]));
        }
        if (action.body !== undefined) request.body = renderValue(action.body, data);
        if (action.timeout_ms !== undefined) request.timeout_ms = action.timeout_ms;
        this.effects.push({ type: 'http_request', step: id, request });
        return null;
      }
      case 'handoff':
        this.state.status = 'handoff';
        this.effects.push(action.reason !== undefined ? { type: 'handoff', step: id, reason: action.reason } : { type: 'handoff', step: id });
        this.send(id, this.render(step.message, step.buttons));
        return null;
      case 'end':
        this.send(id, this.render(step.message, step.buttons));
        this.complete(id);
        return null;
    }
  }

  /** After a step has done its work: wait for input, or move on automatically, as often as allowed. */
  private continueFrom(step: Step): void {
    let current = step;
    for (;;) {
      if (current.expected_input) {
        this.state.currentStep = current.id;
        return;
      }
      const next = this.resolveNext(current);
      if (next === null) {
        this.complete(current.id);
        return;
      }
      const entered = this.autoTransition(current.id, next);
      if (!entered) return;
      current = entered;
    }
  }

  /** Moves on to `to` without input, as often as allowed; returns the step entered, as `enter` does. */
  private autoTransition(from: string, to: string): Step | null {
    this.autoTransitions += 1;
    if (this.autoTransitions > this.maxAutoTransitions) {
      this.fail(
        from,
        'max_auto_transitions',
        `more than ${this.maxAutoTransitions} steps in a row ran without waiting for input; the dialog was stopped at '${from}'`,
      );
      return null;
    }
    this.event({ kind: 'auto_transition', from, to });
    return this.enter(to);
  }

  /**
   * A request refused before it was made: its variable is emptied and the dialog goes to the
   * step's `on_error_step` (an automatic move, counted as one), else on as usual.
   */
  private requestFailed(step: Step, action: HttpRequestAction, code: HttpRequestErrorCode, message: string): Step | null {
    this.event({ kind: 'error', step: step.id, code, message });
    this.setVariable(step.id, action.variable, null);
    return action.on_error_step === undefined ? step : this.autoTransition(step.id, action.on_error_step);
  }

  /** Runs a step and whatever follows it without input. */
  runStep(id: string): void {
    const step = this.enter(id);
    if (step) this.continueFrom(step);
  }

  /** Moves on from a step whose input was taken (or given up on). */
  leave(step: Step): void {
    const next = this.resolveNext(step);
    if (next === null) this.complete(step.id);
    else this.runStep(next);
  }

  restart(): void {
    Object.assign(this.state, initialState(), { collectedData: initialData(this.scenario) });
    this.runStep(this.scenario.start_step);
  }

  /** Back to the named checkpoint, else the last one (or the start step), keeping what was collected. */
  resetToCheckpoint(named?: string): void {
    if (named !== undefined && !stepOf(this.scenario, named)?.checkpoint) {
      this.event({
        kind: 'error',
        step: this.state.currentStep,
        code: 'not_a_checkpoint',
        message: `step '${named}' is not a checkpoint of the scenario; the dialog was not changed`,
      });
      return;
    }
    const checkpoint = this.state.checkpointStep;
    const target = named ?? (checkpoint !== null && this.scenario.steps[checkpoint] ? checkpoint : this.scenario.start_step);
    this.state.status = 'active';
    this.state.attempts = 0;
    this.state.reminders = 0;
    this.runStep(target);
  }

  help(): void {
    const text = this.scenario.settings?.help_message ?? DEFAULT_HELP_MESSAGE;
    this.send(this.state.currentStep, { text: renderTemplate(text, templateData(this.state)) });
  }

  answer(step: Step, input: UserInput): void {
    const rules = step.expected_input;
    if (!rules) return;
    const outcome = validateInput(rules, cutInput(input), this.buttonsOf(step));
    if (outcome.valid) {
      if (rules.variable) this.setVariable(step.id, rules.variable, outcome.processed_value);
      this.event({ kind: 'step_completed', step: step.id });
      this.leave(step);
      return;
    }
    this.state.attempts += 1;
    const error = outcome.error_message ?? '';
    this.event({ kind: 'input_invalid', step: step.id, error, attempts: this.state.attempts });
    if (rules.max_attempts !== undefined && this.state.attempts >= rules.max_attempts) {
      this.state.attempts = 0;
      this.leave(step);
      return;
    }
    this.send(step.id, { text: renderTemplate(error, templateData(this.state)) });
  }

  actionResult(input: Extract<EngineInput, { type: 'action_result' }>): void {
    const step = this.state.currentStep === null ? undefined : this.scenario.steps[this.state.currentStep];
    if (this.state.status !== 'active' || !step || step.id !== input.step || step.type !== 'action' || step.action.type !== 'http_request') {
      this.event({
        kind: 'error',
        step: this.state.currentStep,
        code: 'unexpected_action_result',
        message: `a result for step '${input.step}' arrived while the dialog is not waiting for it`,
      });
      return;
    }
    const action = step.action;
    if (input.ok) {
      this.setVariable(step.id, action.variable, input.value);
      this.event({ kind: 'step_completed', step: step.id });
      this.send(step.id, this.render(step.message, step.buttons));
      this.continueFrom(step);
      return;
    }
    this.event({ kind: 'error', step: step.id, code: input.code ?? 'http_request_failed', message: input.error });
    this.setVariable(step.id, action.variable, null);
    if (action.on_error_step !== undefined) this.runStep(action.on_error_step);
    else this.continueFrom(step);
  }

  message(input: UserInput): void {
    const command = recognizeCommand(input);
    if (command) this.event({ kind: 'command', command });
    const startsOver = command === 'start' || command === 'reset';
    if (command === 'help') {
      // The user is there: a waiting step's reminders count again from now.
      if (this.state.status === 'active') this.state.reminders = 0;
      return this.help();
    }
    if (this.state.status === 'handoff') {
      if (startsOver) this.restart();
      else this.event({ kind: 'message_ignored', step: this.state.currentStep, reason: 'handoff' });
      return;
    }
    if (this.state.status !== 'active' || this.state.currentStep === null || startsOver) {
      this.restart();
      return;
    }
    this.state.reminders = 0;

    const step = this.scenario.steps[this.state.currentStep];
    if (!step) {
      this.event({
        kind: 'error',
        step: this.state.currentStep,
        code: 'unknown_step',
        message: `the dialog was on step '${this.state.currentStep}', which this scenario does not have; starting over`,
      });
      this.restart();
      return;
    }
    if (step.expected_input) {
      this.answer(step, asText(input));
      return;
    }
    if (step.type === 'action' && step.action.type === 'http_request') {
      this.event({ kind: 'message_ignored', step: step.id, reason: 'awaiting_action' });
      return;
    }
    // The dialog was placed on a step that does not wait (an operator's set_state): run it now.
    this.runStep(step.id);
  }

  timeout(): void {
    const policy = timeoutPolicy(this.scenario, this.state);
    if (!policy) return;
    const step = this.state.currentStep;
    let action: 'remind' | 'reset' | 'abandon' | 'goto' | 'none' = policy.action;
    if (action === 'remind') {
      if (this.state.reminders < policy.maxReminders) {
        this.state.reminders += 1;
        const current = step === null ? undefined : this.scenario.steps[step];
        // Rendered here, not taken from the policy: over the text bound this throws (see timeouts.ts).
        const text = timeoutSetting(this.scenario, this.state)?.message;
        const reminder = text !== undefined ? this.render({ text }, undefined) : current ? this.prompt(current) : undefined;
        if (reminder) this.send(step, reminder);
        this.event({ kind: 'reminder_sent', step, count: this.state.reminders });
        return;
      }
      action = policy.then;
    }
    switch (action) {
      case 'abandon':
        this.state.status = 'abandoned';
        this.event({ kind: 'dialog_abandoned', step });
        return;
      case 'reset':
        this.resetToCheckpoint();
        break;
      case 'goto':
        if (policy.step === undefined) return;
        this.state.reminders = 0;
        this.runStep(policy.step);
        break;
      default:
        return;
    }
    this.settleAfterTimeout();
  }

  /** The question a step asks, re-rendered (used as the reminder when the timeout has no message). */
  private prompt(step: Step): OutgoingMessage | undefined {
    if (step.type === 'conditional_message') {
      const variant = this.chooseVariant(step, false);
      return this.render(variant.message, variant.buttons);
    }
    return this.render(step.message, step.buttons);
  }

  /**
   * A timeout's final action has run: no further timeout fires until the user writes again (else an
   * idle chat would be reset or reminded forever). Marked by `reminders` beyond the step's maximum.
   */
  private settleAfterTimeout(): void {
    const next = timeoutPolicy(this.scenario, { ...this.state, reminders: 0 });
    if (next) this.state.reminders = next.maxReminders + 1;
  }

  setState(input: Extract<EngineInput, { type: 'set_state' }>): void {
    if (input.currentStep !== undefined && !stepOf(this.scenario, input.currentStep)) {
      this.event({ kind: 'error', step: this.state.currentStep, code: 'unknown_step', message: `step '${input.currentStep}' does not exist in the scenario` });
      return;
    }
    if (input.collectedData !== undefined) {
      // Data that would be over the bounds once changed is refused whole, and nothing else changes
      // (the workflow's update validator refuses it before it gets here).
      const data = changedData(this.state.collectedData, input.collectedData, input.replaceData === true);
      try {
        checkData(data);
      } catch (error) {
        if (!(error instanceof TooLarge)) throw error;
        this.event({ kind: 'error', step: this.state.currentStep, code: error.code, message: `${error.message}; the dialog was not changed` });
        return;
      }
      this.state.collectedData = data;
    }
    if (input.currentStep !== undefined) {
      this.state.currentStep = input.currentStep;
      this.state.status = 'active';
    }
    this.state.attempts = 0;
    this.state.reminders = 0;
  }
}

function dispatch(run: Run, input: EngineInput): void {
  switch (input.type) {
    case 'start':
      run.restart();
      break;
    case 'message':
      run.message(cutInput(input.input));
      break;
    case 'action_result':
      run.actionResult(input);
      break;
    case 'timeout':
      run.timeout();
      break;
    case 'set_state':
      run.setState(input);
      break;
    case 'reset':
      if (input.toCheckpoint === false) run.restart();
      else run.resetToCheckpoint(input.toCheckpoint === true ? undefined : input.toCheckpoint);
      break;
  }
}

/**
 * Moves a dialog forward by one input. Pure: the same scenario, state and input always give
 * deep-equal results, and the arguments are never modified. Bounded (bounds.ts): a user's text is
 * cut before any rule runs; a text, value or data that would pass its bound is not sent or stored,
 * and the turn ends there with an `error` event and the dialog `failed` on that step (what the turn
 * did before stays). Never throws for any of these.
 */
export function advance(scenario: Scenario, state: DialogState, input: EngineInput): AdvanceResult {
  const run = new Run(scenario, state);
  try {
    dispatch(run, input);
  } catch (error) {
    if (!(error instanceof TooLarge)) throw error;
    run.fail(run.state.currentStep, error.code, error.message);
  }
  return run.result();
}
