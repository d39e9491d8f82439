/** Sign-in with an API token; the token is kept in memory only (see api.ts). */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { messageOf, signIn } from './api';
import { Alert } from './ui';

export function Login() {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await signIn(token);
      if (!location.hash) location.hash = '#/bots';
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  };
  return html`<section class="login" aria-labelledby="login-title">
    <h1 id="login-title">Sign in</h1>
    <p>Paste an operator token (<code>${'npm run token -- --account <id>'}</code> prints one). It stays in this tab only: a reload asks for it again.</p>
    <form onSubmit=${submit}>
      <label for="token">API token</label>
      <input
        id="token"
        type="password"
        autocomplete="off"
        spellcheck=${false}
        required
        value=${token}
        onInput=${(e: Event) => setToken((e.target as HTMLInputElement).value)}
      />
      <button type="submit" disabled=${busy}>Sign in</button>
    </form>
    <${Alert} message=${error} />
  </section>`;
}
