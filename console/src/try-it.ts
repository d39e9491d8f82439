/**
 * A test chat on the built-in `console` platform: messages go through the real dialog workflow; the
 * bot's replies are read back from the dialog's transcript.
 */
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, canWrite, messageOf, segment, type Page } from './api';
import { MessageText } from './dialogs';
import type { HistoryItem, ScenarioVersion } from './types';
import { Alert, href, Loading, useLoad, usePoll } from './ui';

/** Fast while a reply is expected, slower when the chat is idle, to stay well inside the API's rate limits. */
const BUSY_INTERVAL_MS = 700;
const IDLE_INTERVAL_MS = 3000;
const BUSY_FOR_MS = 15_000;

/** The active default first, then the other active versions, then the drafts, newest first. */
function ordered(versions: ScenarioVersion[]): ScenarioVersion[] {
  const rank = (v: ScenarioVersion) => (v.is_default ? 0 : v.is_active ? 1 : 2);
  return [...versions].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name) || b.version - a.version);
}

function optionLabel(version: ScenarioVersion): string {
  return `${version.name} v${version.version}${version.is_default ? ' (default)' : version.is_active ? ' (active)' : ' (draft)'}`;
}

function Chat({ botId, scenarioId }: { botId: string; scenarioId: string }) {
  const [chatId, setChatId] = useState(() => crypto.randomUUID());
  const [items, setItems] = useState<HistoryItem[]>([]);
  const [started, setStarted] = useState(false);
  const [busyUntil, setBusyUntil] = useState(0);
  const [text, setText] = useState('');
  const [error, setError] = useState<string>();
  const [sending, setSending] = useState(false);
  const log = useRef<HTMLOListElement>(null);
  const historyPath = `/v1/bots/${segment(botId)}/dialogs/console/${segment(chatId)}/history`;

  const fast = Date.now() < busyUntil;
  usePoll(
    async (signal) => {
      if (!started) return;
      try {
        setItems((await api<Page<HistoryItem>>(historyPath, { query: { limit: 500 }, signal })).items);
        setError(undefined);
      } catch (failure) {
        if (!signal.aborted) setError(messageOf(failure));
      }
      if (Date.now() >= busyUntil) setBusyUntil(0);
    },
    fast ? BUSY_INTERVAL_MS : IDLE_INTERVAL_MS,
    `${chatId}/${String(started)}`,
  );

  useEffect(() => {
    if (log.current) log.current.scrollTop = log.current.scrollHeight;
  }, [items.length]);

  const send = async (message: { text: string } | { button: string }) => {
    setSending(true);
    setError(undefined);
    try {
      await api(`/v1/bots/${segment(botId)}/console/messages`, { method: 'POST', json: { chat_id: chatId, scenario_id: scenarioId, ...message } });
      setStarted(true);
      setBusyUntil(Date.now() + BUSY_FOR_MS);
      if ('text' in message) setText('');
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setSending(false);
    }
  };
  const submit = (event: Event) => {
    event.preventDefault();
    if (text.trim()) void send({ text });
  };
  const newChat = () => {
    setChatId(crypto.randomUUID());
    setItems([]);
    setStarted(false);
    setBusyUntil(0);
    setError(undefined);
  };

  const lastUser = items.map((item) => item.message_type).lastIndexOf('user');
  return html`<div class="chat">
    <p class="muted">Chat <code>${chatId}</code> on the console platform</p>
    <ol class="transcript test-chat" role="log" aria-label="Test chat" ref=${log}>
      ${items.map(
        (item, index) =>
          html`<li class="message ${item.message_type}">
            <span class="meta">${item.message_type === 'user' ? 'You' : item.message_type === 'bot' ? 'Bot' : 'System'}</span>
            <${MessageText} item=${item} />
            ${
              item.message_type === 'bot' &&
              item.payload?.buttons?.length &&
              html`<span class="bot-buttons">
                ${item.payload.buttons.map((button) =>
                  canWrite() && index > lastUser
                    ? html`<button type="button" class="secondary" disabled=${sending} onClick=${() => void send({ button: button.value })}>
                        ${button.text}
                      </button>`
                    : html`<span class="badge">${button.text}</span>`,
                )}
              </span>`
            }
          </li>`,
      )}
    </ol>
    ${items.length === 0 && html`<p class="muted">${canWrite() ? 'Send a message to start the scenario (try /start).' : 'Viewers cannot send test messages.'}</p>`}
    ${
      canWrite() &&
      html`<form class="send" onSubmit=${submit}>
        <label for="chat-message">Message</label>
        <input id="chat-message" autocomplete="off" maxlength="4096" value=${text} onInput=${(e: Event) => setText((e.target as HTMLInputElement).value)} />
        <button type="submit" disabled=${sending || !text.trim()}>Send</button>
      </form>`
    }
    <p><button type="button" class="secondary" onClick=${newChat}>New chat</button></p>
    <${Alert} message=${error} />
  </div>`;
}

export function TryItPage({ botId }: { botId: string }) {
  const versions = useLoad((signal) => api<Page<ScenarioVersion>>(`/v1/bots/${segment(botId)}/scenarios`, { query: { limit: 500 }, signal }), botId);
  const [chosen, setChosen] = useState<string>();
  const options = ordered(versions.data?.items ?? []);
  const scenarioId = chosen ?? options[0]?.id;
  return html`<h1>Try it</h1>
    <p>Talk to a scenario version through the real dialog workflow, as a guest would, before connecting a platform. Drafts can be tried too.</p>
    <${Loading} loaded=${versions}>
      ${
        options.length === 0
          ? html`<p>No scenario yet: write one under <a href=${href('bots', botId, 'scenarios')}>Scenarios</a>.</p>`
          : html`<p class="field inline">
                <label for="try-scenario">Scenario</label>
                <select id="try-scenario" value=${scenarioId} onChange=${(e: Event) => setChosen((e.target as HTMLSelectElement).value)}>
                  ${options.map((version) => html`<option value=${version.id}>${optionLabel(version)}</option>`)}
                </select>
              </p>
              ${scenarioId && html`<${Chat} botId=${botId} scenarioId=${scenarioId} key=${scenarioId} />`}`
      }
    <//>`;
}
