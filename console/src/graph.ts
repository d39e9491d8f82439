/**
 * The read-only graph of a stored scenario version: each step with where it leads. Which steps are
 * unreachable, dead ends or loops is the engine's own judgement (src/engine/graph.ts, bundled: it is
 * pure), and so are the edges: the references it follows.
 */
import { html } from 'htm/preact';
import { checkGraph, stepReferences } from '../../src/engine/graph';
import { SourceMap } from '../../src/engine/positions';
import { Report } from '../../src/engine/report';
import type { Scenario, Step } from '../../src/engine/types';

interface Edge {
  label: string;
  target: string;
  missing: boolean;
}

interface Node {
  id: string;
  type: string;
  start: boolean;
  waits: boolean;
  edges: Edge[];
  marks: string[];
}

/** The engine's own references of a step, labelled by what leads there. */
function edgesOf(id: string, step: Step, scenario: Scenario, known: Set<string>): Edge[] {
  return stepReferences(id, step, scenario.settings).map(({ target, path }) => {
    const field = path.at(-1);
    const label =
      typeof path.at(-2) === 'number'
        ? `if ${step.conditions?.[path.at(-2) as number]?.condition ?? ''}`
        : field === 'next_step'
          ? step.conditions?.length
            ? 'otherwise'
            : 'next'
          : field === 'on_error_step'
            ? 'on error'
            : 'on timeout';
    return { label, target, missing: !known.has(target) };
  });
}

/** `/steps/a~1b/next_step` → `a/b`: the step a diagnostic's JSON pointer is about. */
function stepOfPointer(pointer: string): string | undefined {
  const [, root, id] = pointer.split('/');
  return root === 'steps' && id !== undefined ? id.replace(/~1/g, '/').replace(/~0/g, '~') : undefined;
}

const MARKS: Record<string, string> = {
  unreachable_step: 'unreachable',
  input_leads_nowhere: 'dead end',
  loop_without_input: 'loop without input',
};

export function scenarioGraph(scenario: Scenario): Node[] {
  const report = new Report(new SourceMap('', undefined));
  checkGraph(scenario, report);
  const marks = new Map<string, Set<string>>();
  for (const diagnostic of [...report.errors, ...report.warnings]) {
    const mark = MARKS[diagnostic.code];
    const step = stepOfPointer(diagnostic.path);
    if (mark && step !== undefined) marks.set(step, (marks.get(step) ?? new Set()).add(mark));
  }
  const known = new Set(Object.keys(scenario.steps));
  return Object.entries(scenario.steps).map(([id, step]) => ({
    id,
    type: step.type === 'action' ? `action: ${step.action.type}` : step.type,
    start: id === scenario.start_step,
    waits: step.expected_input !== undefined,
    edges: edgesOf(id, step, scenario, known),
    marks: [...(marks.get(id) ?? [])],
  }));
}

export function Graph({ scenario }: { scenario: Scenario }) {
  const nodes = scenarioGraph(scenario);
  return html`<ol class="graph" aria-label="Steps of the scenario">
    ${nodes.map(
      (node) =>
        html`<li class=${node.marks.length ? 'step flagged' : 'step'}>
          <code>${node.id}</code> <span class="muted">${node.type}${node.waits ? ', waits for input' : ''}</span>
          ${node.start && html` <span class="badge">start</span>`} ${node.marks.map((mark) => html` <span class="badge warn">${mark}</span>`)}
          ${
            node.edges.length
              ? html`<ul>
                  ${node.edges.map(
                    (edge) => html`<li>${edge.label} → <code>${edge.target}</code>${edge.missing && html` <span class="badge warn">missing step</span>`}</li>`,
                  )}
                </ul>`
              : html`<ul>
                  <li>${node.type === 'action: handoff' ? 'hands the chat to a person' : 'ends the dialog'}</li>
                </ul>`
          }
        </li>`,
    )}
  </ol>`;
}
