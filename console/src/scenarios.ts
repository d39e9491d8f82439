/** Scenario versions: list, activation, the editor with the API's diagnostics, graph and analytics. */
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, apiText, ApiError, canWrite, messageOf, segment, type Page } from './api';
import { Graph } from './graph';
import type { Diagnostic, ScenarioAnalytics, ScenarioVersion } from './types';
import { Alert, formatTime, href, Loading, navigate, useLoad } from './ui';

const VALIDATE_DELAY_MS = 400;
/** The editor's line height in pixels (style.css, `.code textarea`). */
const LINE_HEIGHT_PX = 21;

const TEMPLATE = `{
  "version": "1.0",
  "name": "New scenario",
  "start_step": "welcome",
  "steps": {
    "welcome": {
      "id": "welcome",
      "type": "message",
      "message": { "text": "Hello! What is your name?" },
      "expected_input": { "type": "text", "variable": "name" },
      "next_step": "thanks"
    },
    "thanks": { "id": "thanks", "type": "message", "message": { "text": "Thank you, {{name}}!" } }
  }
}
`;

interface Marked extends Diagnostic {
  severity: 'error' | 'warning';
}

/** The diagnostics of a 422 answer (invalid scenario); other failures say nothing about the text. */
function diagnosticsOf(error: unknown): Marked[] | undefined {
  if (!(error instanceof ApiError) || error.status !== 422) return undefined;
  const details = Array.isArray(error.details) ? (error.details as Diagnostic[]) : [];
  const listed = details.length > 0 ? details : [{ path: '', line: null, column: null, message: error.message }];
  return listed.map((d) => ({ ...d, severity: 'error' as const }));
}

function diagnosticText(d: Diagnostic): string {
  const where = d.line !== null && d.line !== undefined ? `line ${d.line}, column ${d.column ?? 1}: ` : '';
  return `${where}${d.message}${d.suggestion ? ` (${d.suggestion})` : ''}`;
}

function Editor({ botId, initialText, name, onSaved }: { botId: string; initialText: string; name?: string; onSaved: (version: ScenarioVersion) => void }) {
  const [text, setText] = useState(initialText);
  const [diagnostics, setDiagnostics] = useState<Marked[]>([]);
  const [checking, setChecking] = useState(false);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string>();
  const [checkError, setCheckError] = useState<string>();
  const gutter = useRef<HTMLDivElement>(null);
  const field = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    if (!text.trim()) {
      setDiagnostics([]);
      return;
    }
    const controller = new AbortController();
    setChecking(true);
    const timer = setTimeout(() => {
      api<{ valid: boolean; warnings: Diagnostic[] }>(`/v1/bots/${segment(botId)}/scenarios/validate`, {
        method: 'POST',
        body: text,
        contentType: 'application/json',
        signal: controller.signal,
      }).then(
        (answer) => {
          setCheckError(undefined);
          setDiagnostics(answer.warnings.map((d) => ({ ...d, severity: 'warning' as const })));
          setChecking(false);
        },
        (error: unknown) => {
          if (controller.signal.aborted) return;
          const found = diagnosticsOf(error);
          setDiagnostics(found ?? []);
          setCheckError(found ? undefined : `Could not check the scenario: ${messageOf(error)}`);
          setChecking(false);
        },
      );
    }, VALIDATE_DELAY_MS);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [text, botId]);

  const errors = diagnostics.filter((d) => d.severity === 'error');
  const lineMarks = new Map<number, 'error' | 'warning'>();
  for (const d of diagnostics) if (d.line && lineMarks.get(d.line) !== 'error') lineMarks.set(d.line, d.severity);
  const lineCount = text.split('\n').length;

  /** Selects a diagnostic's line and scrolls it to the middle of the editor: only on the operator's click, never while typing. */
  const goToLine = (line: number) => {
    const textarea = field.current;
    if (!textarea) return;
    const lines = textarea.value.split('\n');
    const start = lines.slice(0, line - 1).reduce((offset, text) => offset + text.length + 1, 0);
    textarea.focus({ preventScroll: true });
    textarea.setSelectionRange(start, start + (lines[line - 1]?.length ?? 0));
    textarea.scrollTop = Math.max(0, (line - 1) * LINE_HEIGHT_PX - textarea.clientHeight / 2);
    textarea.scrollLeft = 0;
    textarea.scrollIntoView({ block: 'nearest' });
  };

  const save = async () => {
    setSaving(true);
    setSaveError(undefined);
    try {
      const form = new FormData();
      form.set('file', new Blob([text], { type: 'application/json' }), 'scenario.json');
      if (name) form.set('name', name);
      onSaved(await api<ScenarioVersion>(`/v1/bots/${segment(botId)}/scenarios/upload`, { method: 'POST', body: form }));
    } catch (error) {
      const found = diagnosticsOf(error);
      if (found) setDiagnostics(found);
      else setSaveError(messageOf(error));
    } finally {
      setSaving(false);
    }
  };

  return html`<section class="editor card" aria-labelledby="editor-title">
    <h2 id="editor-title">${name ? `New version of ${name}` : 'New scenario'}</h2>
    <label for="scenario-json">Scenario JSON</label>
    <div class="code">
      <div class="gutter" ref=${gutter} aria-hidden="true">
        ${Array.from({ length: lineCount }, (_, index) => {
          const mark = lineMarks.get(index + 1);
          return html`<div class=${mark ? `line ${mark}` : 'line'} data-line=${index + 1}>${index + 1}</div>`;
        })}
      </div>
      <textarea
        ref=${field}
        id="scenario-json"
        spellcheck=${false}
        wrap="off"
        rows="22"
        value=${text}
        aria-describedby="diagnostics-summary"
        onInput=${(e: Event) => setText((e.target as HTMLTextAreaElement).value)}
        onScroll=${(e: Event) => {
          if (gutter.current) gutter.current.scrollTop = (e.target as HTMLTextAreaElement).scrollTop;
        }}
      />
    </div>
    <p id="diagnostics-summary" class="muted" aria-live="polite">
      ${
        checking
          ? 'Checking…'
          : errors.length
            ? `${errors.length} error${errors.length === 1 ? '' : 's'}, ${diagnostics.length - errors.length} warning(s)`
            : diagnostics.length
              ? `No errors, ${diagnostics.length} warning(s)`
              : text.trim()
                ? 'No problems found'
                : ''
      }
    </p>
    <${Alert} message=${checkError} />
    <ul class="diagnostics" aria-label="Diagnostics">
      ${diagnostics.map(
        (d) =>
          html`<li class=${d.severity}>
            ${d.line ? html`<button type="button" class="link" title="Select line ${d.line} in the editor" onClick=${() => goToLine(d.line ?? 1)}>${diagnosticText(d)}</button>` : diagnosticText(d)}
            <span class="badge severity">${d.severity}</span>
          </li>`,
      )}
    </ul>
    <button type="button" disabled=${saving || checking || errors.length > 0 || !text.trim()} onClick=${() => void save()}>Save version</button>
    <${Alert} message=${saveError} />
  </section>`;
}

function VersionActions({ version, onChanged }: { version: ScenarioVersion; onChanged: () => void }) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const activate = async (makeDefault: boolean) => {
    setBusy(true);
    setError(undefined);
    try {
      await api(`/v1/scenarios/${segment(version.id)}/activate`, { method: 'POST', json: makeDefault ? { active: true, default: true } : { active: true } });
      onChanged();
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  };
  if (!canWrite()) return null;
  return html`<span class="actions">
    ${
      !version.is_active &&
      html`<button
        type="button"
        disabled=${busy}
        onClick=${() => void activate(false)}
        aria-label="Activate"
        title="Activate ${version.name} v${version.version}"
      >
        Activate
      </button>`
    }
    ${
      !version.is_default &&
      html`<button
        type="button"
        class="secondary"
        disabled=${busy}
        onClick=${() => void activate(true)}
        aria-label="Make default"
        title="Make ${version.name} v${version.version} the default"
      >
        Make default
      </button>`
    }
    <${Alert} message=${error} />
  </span>`;
}

function Analytics({ scenarioId }: { scenarioId: string }) {
  const analytics = useLoad((signal) => api<ScenarioAnalytics>(`/v1/scenarios/${segment(scenarioId)}/analytics`, { signal }), scenarioId);
  const percent = (rate: number) => `${Math.round(rate * 1000) / 10}%`;
  return html`<section aria-labelledby="analytics-title">
    <h2 id="analytics-title">Analytics</h2>
    <${Loading} loaded=${analytics}>
      ${
        analytics.data &&
        html`<p>
            Conversations: ${analytics.data.dialogs.started} started, ${analytics.data.dialogs.completed} completed
            (${percent(analytics.data.dialogs.completion_rate)}), ${analytics.data.dialogs.abandoned} abandoned, ${analytics.data.dialogs.in_progress} in
            progress.
          </p>
          <div class="table-wrap">
            <table class="cards">
              <caption>
                Steps
              </caption>
              <thead>
                <tr>
                  <th scope="col">Step</th>
                  <th scope="col">Entered</th>
                  <th scope="col">Completed</th>
                  <th scope="col">Drop-off</th>
                  <th scope="col">Input errors</th>
                </tr>
              </thead>
              <tbody>
                ${
                  analytics.data.steps.length === 0
                    ? html`<tr>
                        <td colspan="5">No conversation on this version yet.</td>
                      </tr>`
                    : analytics.data.steps.map(
                        (row) =>
                          html`<tr>
                            <th scope="row"><code>${row.step}</code></th>
                            <td data-label="Entered">${row.entered}</td>
                            <td data-label="Completed">${row.completed}</td>
                            <td data-label="Drop-off">${row.drop_off} (${percent(row.drop_off_rate)})</td>
                            <td data-label="Input errors">${row.input_errors}</td>
                          </tr>`,
                      )
                }
              </tbody>
            </table>
          </div>`
      }
    <//>
  </section>`;
}

function VersionDetail({ botId, version }: { botId: string; version: ScenarioVersion }) {
  const [editing, setEditing] = useState<string>();
  const [error, setError] = useState<string>();
  const edit = async () => {
    setError(undefined);
    try {
      setEditing(await apiText(`/v1/scenarios/${segment(version.id)}`, { query: { format: 'export' } }));
    } catch (failure) {
      setError(messageOf(failure));
    }
  };
  return html`<article class="version" aria-labelledby="version-title">
    <h2 id="version-title">${version.name} v${version.version}</h2>
    <p class="muted">Stored ${formatTime(version.created_at)}</p>
    ${
      canWrite() &&
      html`<button type="button" aria-expanded=${editing !== undefined} onClick=${() => (editing === undefined ? void edit() : setEditing(undefined))}>
        Edit as new version
      </button>`
    }
    <${Alert} message=${error} />
    ${
      editing !== undefined &&
      html`<${Editor}
        botId=${botId}
        initialText=${editing}
        name=${version.name}
        onSaved=${(saved: ScenarioVersion) => navigate('bots', botId, 'scenarios', saved.id)}
      />`
    }
    <section aria-labelledby="graph-title">
      <h2 id="graph-title">Graph</h2>
      <${Graph} scenario=${version.scenario_data} />
    </section>
    <${Analytics} scenarioId=${version.id} />
  </article>`;
}

export function ScenariosPage({ botId, scenarioId }: { botId: string; scenarioId?: string }) {
  const versions = useLoad(
    (signal) => api<Page<ScenarioVersion>>(`/v1/bots/${segment(botId)}/scenarios`, { query: { limit: 500 }, signal }),
    `${botId}/${scenarioId ?? ''}`,
  );
  const [creating, setCreating] = useState(false);
  const selected = versions.data?.items.find((v) => v.id === scenarioId);
  const sorted = [...(versions.data?.items ?? [])].sort((a, b) => a.name.localeCompare(b.name) || b.version - a.version);
  return html`<h1>Scenarios</h1>
    ${canWrite() && html`<button type="button" aria-expanded=${creating} onClick=${() => setCreating(!creating)}>New scenario</button>`}
    ${
      creating &&
      html`<${Editor}
        botId=${botId}
        initialText=${TEMPLATE}
        onSaved=${(saved: ScenarioVersion) => {
          setCreating(false);
          navigate('bots', botId, 'scenarios', saved.id);
        }}
      />`
    }
    <${Loading} loaded=${versions}>
      ${
        sorted.length === 0
          ? html`<p>No scenario yet.</p>`
          : html`<ul class="list versions" aria-label="Scenario versions">
              ${sorted.map(
                (version) =>
                  html`<li aria-current=${version.id === scenarioId ? 'true' : undefined}>
                    <a href=${href('bots', botId, 'scenarios', version.id)}>${version.name} v${version.version}</a>
                    ${version.is_active && html` <span class="badge active">active</span>`} ${version.is_default && html` <span class="badge">default</span>`}
                    <${VersionActions} version=${version} onChanged=${versions.reload} />
                  </li>`,
              )}
            </ul>`
      }
    <//>
    ${scenarioId !== undefined && versions.data && !selected && html`<${Alert} message="This scenario version does not exist (any more)." />`}
    ${selected && html`<${VersionDetail} botId=${botId} version=${selected} key=${selected.id} />`}`;
}
