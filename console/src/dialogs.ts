/** The live list of a bot's dialogs, and one dialog: transcript, data, and the operator's actions. */
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api, canWrite, download, messageOf, segment, type Page } from './api';
import { markdownText } from './rich-text';
import type { Dialog, DialogListItem, HistoryItem } from './types';
import { Alert, formatTime, href, Loading, navigate, Status, useLoad, usePoll } from './ui';

const LIST_INTERVAL_MS = 2000;
const TRANSCRIPT_INTERVAL_MS = 3000;
const TRANSCRIPT_LIMIT = 500;

export function guestName(dialog: Pick<Dialog, 'user'>): string {
  return dialog.user?.name ?? dialog.user?.username ?? dialog.user?.id ?? '—';
}

export function DialogsPage({ botId }: { botId: string }) {
  const [dialogs, setDialogs] = useState<Page<DialogListItem>>();
  const [error, setError] = useState<string>();
  const [checkedAt, setCheckedAt] = useState<Date>();
  usePoll(
    async (signal) => {
      try {
        setDialogs(await api<Page<DialogListItem>>(`/v1/bots/${segment(botId)}/dialogs`, { query: { limit: 100 }, signal }));
        setError(undefined);
        setCheckedAt(new Date());
      } catch (failure) {
        if (!signal.aborted) setError(messageOf(failure));
      }
    },
    LIST_INTERVAL_MS,
    botId,
  );
  return html`<h1>Dialogs</h1>
    <p class="muted">Updated every 2 seconds while this page is visible${checkedAt ? `; last at ${checkedAt.toLocaleTimeString()}` : ''}.</p>
    <${Alert} message=${error} />
    ${
      dialogs &&
      html`<div class="table-wrap">
        <table class="dialogs cards">
          <caption>
            Dialogs${dialogs.total > dialogs.items.length ? ` (latest ${dialogs.items.length} of ${dialogs.total})` : ''}
          </caption>
          <thead>
            <tr>
              <th scope="col">Chat</th>
              <th scope="col">Platform</th>
              <th scope="col">Status</th>
              <th scope="col">Step</th>
              <th scope="col">Guest</th>
              <th scope="col">Last message</th>
            </tr>
          </thead>
          <tbody>
            ${
              dialogs.items.length === 0
                ? html`<tr>
                    <td colspan="6">No dialogs yet.</td>
                  </tr>`
                : dialogs.items.map(
                    (dialog) =>
                      html`<tr key=${`${dialog.platform}/${dialog.chat_id}`}>
                        <th scope="row" class="chat"><a href=${href('bots', botId, 'dialogs', dialog.platform, dialog.chat_id)}>${dialog.chat_id}</a></th>
                        <td data-label="Platform">${dialog.platform}</td>
                        <td data-label="Status"><span class="badge ${dialog.status}">${dialog.status}</span></td>
                        <td data-label="Step"><code>${dialog.current_step ?? '—'}</code></td>
                        <td data-label="Guest">${guestName(dialog)}</td>
                        <td data-label="Last message">
                          ${formatTime(dialog.last_interaction_at)} <span class="muted">(${dialog.message_count} messages)</span>
                        </td>
                      </tr>`,
                  )
            }
          </tbody>
        </table>
      </div>`
    }`;
}

/** What a transcript row says, whatever its kind; a command as typed (the row's text lacks its slash). */
function rowText(item: HistoryItem): string {
  if (item.message_type === 'user' && item.payload?.kind === 'command') {
    const { command, args } = item.payload;
    return `/${command.replace(/^\//, '')}${args ? ` ${args}` : ''}`;
  }
  if (item.text) return item.text;
  if (item.message_type === 'user' && item.payload) {
    const input = item.payload;
    if (input.kind === 'button') return `[button ${input.text ?? input.value}]`;
    return `[${input.kind}]`;
  }
  if (item.message_type === 'bot' && item.payload?.media?.length) return `[${item.payload.media.map((m) => m.type).join(', ')}]`;
  return item.message_type === 'system' ? JSON.stringify(item.payload) : '';
}

/** A transcript row's text as shown: a bot's markdown message as the guest sees it, anything else as is. */
export function MessageText({ item }: { item: HistoryItem }) {
  const markdown = item.message_type === 'bot' && item.payload?.format === 'markdown' && item.text;
  return html`<span class="text">${markdown ? markdownText(markdown) : rowText(item)}</span>`;
}

function Transcript({ path }: { path: string }) {
  const [items, setItems] = useState<HistoryItem[]>();
  const [error, setError] = useState<string>();
  usePoll(
    async (signal) => {
      try {
        setItems((await api<Page<HistoryItem>>(`${path}/history`, { query: { limit: TRANSCRIPT_LIMIT }, signal })).items);
        setError(undefined);
      } catch (failure) {
        if (!signal.aborted) setError(messageOf(failure));
      }
    },
    TRANSCRIPT_INTERVAL_MS,
    path,
  );
  return html`<section aria-labelledby="transcript-title">
    <h2 id="transcript-title">Transcript</h2>
    <${Alert} message=${error} />
    <ol class="transcript" role="log" aria-labelledby="transcript-title">
      ${items?.map(
        (item) =>
          html`<li class="message ${item.message_type}">
            <span class="meta">${item.message_type} · ${formatTime(item.created_at)}${item.step ? ` · ${item.step}` : ''}</span>
            <${MessageText} item=${item} />
          </li>`,
      )}
    </ol>
    ${items?.length === 0 && html`<p class="muted">No messages yet.</p>`}
  </section>`;
}

function editableState(dialog: Dialog): string {
  return JSON.stringify({ current_step: dialog.current_step, collected_data: dialog.collected_data }, null, 2);
}

function TemporalLink({ workflowId }: { workflowId: string }) {
  const config = useLoad(async (signal) => {
    const response = await fetch('/console/config.json', { signal });
    if (!response.ok) return {};
    return (await response.json()) as { temporal_ui_url?: string | null; temporal_namespace?: string };
  }, 'config');
  const base = config.data?.temporal_ui_url;
  // Only a plain http(s) address is linked: the page never follows what it did not check.
  if (!base || !/^https?:\/\//i.test(base)) return html`<span class="muted">Temporal UI address not configured</span>`;
  const namespace = config.data?.temporal_namespace ?? 'default';
  const target = `${base.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return html`<a href=${target} target="_blank" rel="noopener noreferrer">Open in Temporal UI</a>`;
}

function Operations({ path, dialog, onChanged, onErased }: { path: string; dialog: Dialog; onChanged: (d: Dialog) => void; onErased: () => void }) {
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [confirmingErase, setConfirmingErase] = useState(false);
  const run = async (what: string, action: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    try {
      await action();
      setDone(what);
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  };
  const reset = () => run('Dialog reset to the beginning.', async () => onChanged(await api<Dialog>(path, { method: 'DELETE', query: { confirm: true } })));
  const close = () => run('Dialog closed.', async () => onChanged(await api<Dialog>(`${path}/close`, { method: 'POST' })));
  const erase = () =>
    run('Dialog erased.', async () => {
      await api(`${path}/erase`, { method: 'POST', query: { confirm: true } });
      onErased();
    });
  return html`<section aria-labelledby="operations-title">
    <h2 id="operations-title">Operations</h2>
    <p class="actions">
      <button type="button" disabled=${busy} onClick=${() => void reset()}>Reset</button>
      <button type="button" disabled=${busy || dialog.status !== 'active'} onClick=${() => void close()}>Close dialog</button>
      <button type="button" class="danger" disabled=${busy} aria-expanded=${confirmingErase} onClick=${() => setConfirmingErase(!confirmingErase)}>
        Erase
      </button>
    </p>
    ${
      confirmingErase &&
      html`<div class="card confirm" role="group" aria-labelledby="erase-question">
        <p id="erase-question">
          Erase this dialog for good? Its state, transcript, events, the files the guest sent and its Temporal history are deleted; this cannot be undone.
        </p>
        <button type="button" class="danger" disabled=${busy} onClick=${() => void erase()}>Erase for good</button>
        <button type="button" class="secondary" onClick=${() => setConfirmingErase(false)}>Cancel</button>
      </div>`
    }
    <${Alert} message=${error} />
    <${Status} message=${done} />
  </section>`;
}

function StateEditor({ path, dialog, onChanged }: { path: string; dialog: Dialog; onChanged: (d: Dialog) => void }) {
  const [text, setText] = useState(() => editableState(dialog));
  const [error, setError] = useState<string>();
  const [saved, setSaved] = useState<string>();
  const [busy, setBusy] = useState(false);
  useEffect(() => setText(editableState(dialog)), [dialog]);
  const save = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setSaved(undefined);
    let edited: { current_step?: unknown; collected_data?: unknown };
    try {
      edited = JSON.parse(text) as typeof edited;
    } catch (failure) {
      setError(`State (JSON) is not valid JSON: ${messageOf(failure)}`);
      return;
    }
    if (typeof edited !== 'object' || edited === null || typeof edited.collected_data !== 'object' || Array.isArray(edited.collected_data)) {
      setError('State (JSON) needs an object "collected_data" (and may name a "current_step").');
      return;
    }
    setBusy(true);
    try {
      const changedStep = typeof edited.current_step === 'string' && edited.current_step !== dialog.current_step ? { current_step: edited.current_step } : {};
      const updated = await api<Dialog>(path, {
        method: 'PUT',
        json: { ...changedStep, collected_data: edited.collected_data, replace_data: true, expected_version: dialog.version },
      });
      onChanged(updated);
      setSaved(`Saved: state version ${updated.version}.`);
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  };
  return html`<form onSubmit=${save} aria-labelledby="state-title">
    <h2 id="state-title">Edit state</h2>
    <label for="state-json">State (JSON)</label>
    <textarea id="state-json" rows="10" spellcheck=${false} value=${text} onInput=${(e: Event) => setText((e.target as HTMLTextAreaElement).value)} />
    <p class="muted">Replaces the collected data; a changed current_step moves the dialog (nothing is sent). Based on state version ${dialog.version}.</p>
    <button type="submit" disabled=${busy}>Save state</button>
    <${Alert} message=${error} />
    <${Status} message=${saved} />
  </form>`;
}

export function DialogPage({ botId, platform, chatId }: { botId: string; platform: string; chatId: string }) {
  const path = `/v1/bots/${segment(botId)}/dialogs/${segment(platform)}/${segment(chatId)}`;
  const loaded = useLoad((signal) => api<Dialog>(path, { signal }), path);
  const [dialog, setDialog] = useState<Dialog>();
  const [exportError, setExportError] = useState<string>();
  useEffect(() => setDialog(loaded.data), [loaded.data]);
  const exportAs = (format: 'json' | 'csv') => (event: Event) => {
    event.preventDefault();
    setExportError(undefined);
    download(`${path}/export`, { format }, `dialog-${platform}-${chatId.replace(/[^\w.-]+/g, '_')}.${format}`).catch((failure: unknown) =>
      setExportError(messageOf(failure)),
    );
  };
  return html`<h1>Dialog <code>${chatId}</code></h1>
    <${Loading} loaded=${loaded}>
      ${
        dialog &&
        html`<dl class="facts">
            <dt>Platform</dt>
            <dd>${dialog.platform}</dd>
            <dt>Status</dt>
            <dd><span class="badge ${dialog.status}">${dialog.status}</span></dd>
            <dt>Step</dt>
            <dd><code>${dialog.current_step ?? '—'}</code></dd>
            <dt>Guest</dt>
            <dd>${guestName(dialog)}</dd>
            <dt>Scenario</dt>
            <dd>${dialog.scenario_id ? html`<a href=${href('bots', botId, 'scenarios', dialog.scenario_id)}>version ${dialog.scenario_version}</a>` : '—'}</dd>
            <dt>Started</dt>
            <dd>${formatTime(dialog.started_at)}</dd>
            <dt>Last interaction</dt>
            <dd>${formatTime(dialog.last_interaction_at)}</dd>
          </dl>
          <p class="actions links">
            <a href=${`${path}/export?format=json`} onClick=${exportAs('json')}>Export JSON</a>
            <a href=${`${path}/export?format=csv`} onClick=${exportAs('csv')}>Export CSV</a>
            <${TemporalLink} workflowId=${dialog.workflow_id} />
          </p>
          <${Alert} message=${exportError} />
          <div class="columns">
            <${Transcript} path=${path} />
            <section aria-labelledby="data-title">
              <h2 id="data-title">Collected data</h2>
              ${
                Object.keys(dialog.collected_data).length === 0
                  ? html`<p class="muted">Nothing collected yet.</p>`
                  : html`<dl class="facts data">
                      ${Object.entries(dialog.collected_data).map(
                        ([key, value]) =>
                          html`<dt>${key}</dt>
                            <dd>${typeof value === 'string' ? value : JSON.stringify(value)}</dd>`,
                      )}
                    </dl>`
              }
            </section>
          </div>
          ${
            canWrite() &&
            html`<${StateEditor} path=${path} dialog=${dialog} onChanged=${setDialog} />
              <${Operations} path=${path} dialog=${dialog} onChanged=${setDialog} onErased=${() => navigate('bots', botId, 'dialogs')} />`
          }`
      }
    <//>`;
}
