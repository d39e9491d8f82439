/** A bot's platform connections, their webhook health and a connection test. */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, canWrite, messageOf, segment, type Page } from './api';
import type { PlatformConnection, WebhookStatus } from './types';
import { formatTime, Loading, Status, useLoad } from './ui';

interface Row {
  connection: PlatformConnection;
  webhook?: WebhookStatus;
  webhookError?: string;
}

async function loadRows(botId: string, signal: AbortSignal): Promise<Row[]> {
  const { items } = await api<Page<PlatformConnection>>(`/v1/bots/${segment(botId)}/platforms`, { signal });
  return Promise.all(
    items.map(async (connection) => {
      try {
        return { connection, webhook: await api<WebhookStatus>(`/v1/webhooks/${segment(connection.platform)}/${segment(botId)}/status`, { signal }) };
      } catch (error) {
        return { connection, webhookError: messageOf(error) };
      }
    }),
  );
}

function WebhookCell({ row }: { row: Row }) {
  if (row.webhookError) return html`<span class="error-text">${row.webhookError}</span>`;
  const webhook = row.webhook;
  if (!webhook) return '—';
  const { received, accepted, rejected, messages } = webhook.counts;
  return html`${row.connection.webhook_registered ? 'registered' : 'not registered'}; last event ${formatTime(webhook.last_event_at)}<br />
    <span class="muted">received ${received}, accepted ${accepted}, rejected ${rejected}, messages ${messages}</span>`;
}

/** What the platform said about the bot's account: its @username where it has one, else its details as "key: value". */
function describeConnection(info: Record<string, unknown>): string {
  if (typeof info.username === 'string' && info.username) return `Connected: @${info.username}`;
  const facts = Object.entries(info)
    .filter(([, value]) => (typeof value === 'string' && value !== '') || typeof value === 'number' || typeof value === 'boolean')
    .map(([key, value]) => `${key.replace(/_/g, ' ')}: ${String(value)}`);
  return facts.length > 0 ? `Connected: ${facts.join(', ')}` : 'Connected.';
}

/** Tests the connection, then `onTested` (the answer set the connection's status). */
function TestButton({ botId, platform, onTested }: { botId: string; platform: string; onTested: () => void }) {
  const [result, setResult] = useState<{ message: string; failed: boolean }>();
  const [busy, setBusy] = useState(false);
  const test = async () => {
    setBusy(true);
    setResult({ message: `Testing ${platform}…`, failed: false });
    try {
      const answer = await api<{ ok: boolean; info?: Record<string, unknown> }>(`/v1/bots/${segment(botId)}/platforms/${segment(platform)}/test`, {
        method: 'POST',
      });
      setResult({ message: describeConnection(answer.info ?? {}), failed: false });
    } catch (error) {
      setResult({ message: `Connection test failed: ${messageOf(error)}`, failed: true });
    } finally {
      setBusy(false);
    }
    onTested();
  };
  return html`<button type="button" disabled=${busy} onClick=${() => void test()} aria-label="Test connection" title="Test the ${platform} connection">
      Test connection
    </button>
    <${Status} message=${result?.message} failed=${result?.failed} />`;
}

export function PlatformsPage({ botId }: { botId: string }) {
  const rows = useLoad((signal) => loadRows(botId, signal), botId);
  const lastError = (row: Row) => (row.webhook?.last_error ? `${row.webhook.last_error.message} (${formatTime(row.webhook.last_error.at)})` : '—');
  return html`<h1>Platforms</h1>
    <${Loading} loaded=${rows}>
      ${
        rows.data?.length === 0
          ? html`<p>
              No platform connected yet. Connect one with <code>POST /v1/bots/{bot_id}/platforms</code> (see the API docs at <a href="/docs">/docs</a>).
            </p>`
          : html`<div class="table-wrap">
              <table class="cards">
                <caption>
                  Platform connections
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Platform</th>
                    <th scope="col">Status</th>
                    <th scope="col">Last error</th>
                    <th scope="col">Webhook</th>
                    ${canWrite() && html`<th scope="col">Test</th>`}
                  </tr>
                </thead>
                <tbody>
                  ${rows.data?.map(
                    (row) =>
                      html`<tr>
                        <th scope="row">${row.connection.platform}</th>
                        <td data-label="Status">${row.connection.status}</td>
                        <td data-label="Last error">${lastError(row)}</td>
                        <td data-label="Webhook"><${WebhookCell} row=${row} /></td>
                        ${canWrite() && html`<td data-label="Test"><${TestButton} botId=${botId} platform=${row.connection.platform} onTested=${rows.reload} /></td>`}
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
      }
    <//>`;
}
