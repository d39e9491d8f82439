/**
 * Checks on the shape of the flow: references to missing steps, unreachable steps, answers that lead
 * nowhere, loops in which nothing waits for input, and runs longer than max_auto_transitions.
 */
import { DEFAULT_MAX_AUTO_TRANSITIONS } from './advance';
import { parseCondition } from './conditions';
import { isPlainObject } from './json';
import { toPointer } from './positions';
import { didYouMean, type Path, type Report } from './report';
import type { JsonValue, Scenario, Step } from './types';

/** The steps a step can lead to, with the path of each reference (the console draws these edges). */
export function stepReferences(id: string, step: Step, settings: Scenario['settings']): { target: string; path: Path; automatic: boolean }[] {
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

export function checkGraph(scenario: Scenario, report: Report): void {
  const ids = Object.keys(scenario.steps);
  const known = new Set(ids);
  if (!known.has(scenario.start_step)) {
    report.error('unknown_start_step', ['start_step'], `start_step "${scenario.start_step}" is not a step`, {
      suggestion: didYouMean(scenario.start_step, ids),
    });
  }
  const allEdges = new Map<string, string[]>();
  const automaticEdges = new Map<string, string[]>();
  const missing = new Set<string>();
  const reportMissing = (target: string, path: Path) => {
    const pointer = toPointer(path);
    if (missing.has(pointer)) return;
    missing.add(pointer);
    report.error('unknown_step', path, `step "${target}" does not exist`, { suggestion: didYouMean(target, ids) });
  };
  const settingsTimeoutStep = scenario.settings?.timeout?.step;
  if (settingsTimeoutStep !== undefined && !known.has(settingsTimeoutStep)) reportMissing(settingsTimeoutStep, ['settings', 'timeout', 'step']);
  for (const id of ids) {
    const step = scenario.steps[id];
    const refs = stepReferences(id, step, scenario.settings);
    for (const ref of refs) if (!known.has(ref.target)) reportMissing(ref.target, ref.path);
    const targets = refs.filter((ref) => known.has(ref.target));
    allEdges.set(
      id,
      targets.map((ref) => ref.target),
    );
    automaticEdges.set(id, stopsAutomaticRun(step) ? [] : targets.filter((ref) => ref.automatic).map((ref) => ref.target));

    if (step.expected_input && !step.conditions?.length && (step.next_step === undefined || step.next_step === null)) {
      report.error(
        'input_leads_nowhere',
        ['steps', id, 'expected_input'],
        `step "${id}" waits for an answer but has no next_step or conditions: the dialog would end without a reply`,
        {
          suggestion: 'add a "next_step" (for example a thank-you step)',
        },
      );
    }
    if (step.expected_input && step.conditions?.length && (step.next_step === undefined || step.next_step === null)) {
      report.warning(
        'no_fallback_step',
        ['steps', id, 'conditions'],
        `step "${id}" has no next_step: when no condition is true, the dialog ends right after the answer`,
        {
          suggestion: 'add a "next_step" for the other answers',
        },
      );
    }
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
    report.warning(
      'too_many_auto_transitions',
      ['steps', worst],
      `${measure(worst)} steps in a row from "${worst}" run without waiting for input, more than max_auto_transitions (${max}); the dialog would stop with an error`,
    );
  }
}

/**
 * When the shape is wrong the full checks cannot run, but step references and condition syntax can
 * still be checked on the raw data, so one round of fixes covers the common typos.
 */
export function checkReferencesOfRawData(data: Record<string, JsonValue>, report: Report): void {
  const steps = data.steps;
  if (!isPlainObject(steps)) return;
  const ids = Object.keys(steps);
  const reported = new Set(report.errors.map((error) => error.path));
  const reference = (target: JsonValue | undefined, path: Path) => {
    if (typeof target !== 'string' || target === '' || ids.includes(target) || reported.has(toPointer(path))) return;
    report.error(path[0] === 'start_step' ? 'unknown_start_step' : 'unknown_step', path, `step "${target}" does not exist`, {
      suggestion: didYouMean(target, ids),
    });
  };
  const condition = (text: JsonValue | undefined, path: Path) => {
    if (typeof text !== 'string' || reported.has(toPointer(path))) return;
    const parsed = parseCondition(text);
    if (!parsed.ok)
      report.error('condition_syntax', path, `condition "${text}": ${parsed.error.message} (column ${parsed.error.column} of the condition)`, {
        textIndex: parsed.error.column - 1,
      });
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
