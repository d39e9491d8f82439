/** Bots of an account: list, create, and one bot's page with activation. */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, canWrite, messageOf, segment, session, type Page } from './api';
import type { Bot, BotWithStats } from './types';
import { Alert, href, Loading, navigate, useLoad } from './ui';

/** The account whose bots are shown; an admin token may name none, then the operator types one. */
let chosenAccount: string | undefined;

function AccountPicker({ account, onChange }: { account: string; onChange: (value: string) => void }) {
  const accounts = session()?.account_ids ?? [];
  if (accounts.length === 1) return null;
  const changed = (e: Event) => onChange((e.target as HTMLInputElement | HTMLSelectElement).value.trim());
  return html`<p class="field inline">
    <label for="account">Account</label>
    ${
      accounts.length > 1
        ? html`<select id="account" value=${account} onChange=${changed}>
            ${accounts.map((id) => html`<option value=${id}>${id}</option>`)}
          </select>`
        : html`<input id="account" value=${account} onChange=${changed} placeholder="account id" />`
    }
  </p>`;
}

function NewBotForm({ account, onCreated }: { account: string; onCreated: (bot: Bot) => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const bot = await api<Bot>(`/v1/accounts/${segment(account)}/bots`, { method: 'POST', json: { name, ...(description ? { description } : {}) } });
      onCreated(bot);
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="card" onSubmit=${submit} aria-label="New bot">
    <p class="field">
      <label for="bot-name">Name</label>
      <input id="bot-name" required maxlength="200" value=${name} onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} />
    </p>
    <p class="field">
      <label for="bot-description">Description</label>
      <textarea
        id="bot-description"
        rows="2"
        maxlength="2000"
        value=${description}
        onInput=${(e: Event) => setDescription((e.target as HTMLTextAreaElement).value)}
      />
    </p>
    <button type="submit" disabled=${busy}>Create bot</button>
    <${Alert} message=${error} />
  </form>`;
}

export function BotsPage() {
  const [account, setAccount] = useState(chosenAccount ?? session()?.account_ids[0] ?? '');
  const [creating, setCreating] = useState(false);
  const bots = useLoad(
    (signal) =>
      account ? api<Page<Bot>>(`/v1/accounts/${segment(account)}/bots`, { query: { status: 'all', limit: 500 }, signal }) : Promise.resolve(undefined),
    account,
  );
  const choose = (value: string) => {
    chosenAccount = value;
    setAccount(value);
  };
  return html`<h1>Bots</h1>
    <${AccountPicker} account=${account} onChange=${choose} />
    ${
      canWrite() &&
      account &&
      html`<button type="button" aria-expanded=${creating} onClick=${() => setCreating(!creating)}>New bot</button>
        ${creating && html`<${NewBotForm} account=${account} onCreated=${(bot: Bot) => navigate('bots', bot.id)} />`}`
    }
    ${
      !account
        ? html`<p>Type the id of the account whose bots you want to see.</p>`
        : html`<${Loading} loaded=${bots}>
            ${
              bots.data?.items.length === 0
                ? html`<p>No bots yet.</p>`
                : html`<ul class="list" aria-label="Bots of ${account}">
                    ${bots.data?.items.map(
                      (bot) =>
                        html`<li>
                          <a href=${href('bots', bot.id)}><strong>${bot.name}</strong> <span class="badge ${bot.status}">${bot.status}</span></a>
                          ${bot.description && html`<span class="muted"> ${bot.description}</span>`}
                        </li>`,
                    )}
                  </ul>`
            }
          <//>`
    }`;
}

export function BotPage({ botId }: { botId: string }) {
  const bot = useLoad((signal) => api<BotWithStats>(`/v1/bots/${segment(botId)}`, { signal }), botId);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const toggle = async (action: 'activate' | 'deactivate') => {
    setBusy(true);
    setError(undefined);
    try {
      await api(`/v1/bots/${segment(botId)}/${action}`, { method: 'POST' });
      bot.reload();
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  };
  const data = bot.data;
  return html`<${Loading} loaded=${bot}>
    ${
      data &&
      html`<h1>${data.name}</h1>
        <p>Status: <span class="badge ${data.status}">${data.status}</span> <span class="muted">account ${data.account_id}</span></p>
        ${data.description && html`<p>${data.description}</p>`}
        ${
          canWrite() &&
          html`<p class="actions">
            ${
              data.status === 'active'
                ? html`<button type="button" disabled=${busy} onClick=${() => void toggle('deactivate')}>Deactivate</button>`
                : html`<button type="button" disabled=${busy} onClick=${() => void toggle('activate')}>Activate</button>`
            }
          </p>`
        }
        <${Alert} message=${error} />
        <h2>At a glance</h2>
        <dl class="facts">
          <dt>Platforms</dt>
          <dd>${data.stats.platforms.length ? data.stats.platforms.join(', ') : 'none connected'}</dd>
          <dt>Active scenarios</dt>
          <dd>
            ${
              data.stats.active_scenarios.length
                ? data.stats.active_scenarios.map((s) => `${s.name} v${s.version}${s.is_default ? ' (default)' : ''}`).join(', ')
                : 'none'
            }
          </dd>
          <dt>Dialogs</dt>
          <dd>
            ${
              Object.entries(data.stats.dialogs)
                .map(([status, count]) => `${status}: ${count}`)
                .join(', ') || 'none yet'
            }
          </dd>
        </dl>`
    }
  <//>`;
}
