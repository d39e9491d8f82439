/** The console's entry: sign-in, the page frame (header, navigation, main) and the hash routes. */
import { html } from 'htm/preact';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { onSessionChange, session, signOut } from './api';
import { BotPage, BotsPage } from './bots';
import { DialogPage, DialogsPage } from './dialogs';
import { Login } from './login';
import { PlatformsPage } from './platforms';
import { ScenariosPage } from './scenarios';
import { TryItPage } from './try-it';
import { href, useRoute } from './ui';

function useSession() {
  const [claims, setClaims] = useState(session);
  useEffect(() => onSessionChange(() => setClaims(session())), []);
  return claims;
}

function Screen({ route }: { route: string[] }) {
  const [root, botId, section, ...rest] = route;
  if (root !== 'bots' || botId === undefined) return html`<${BotsPage} />`;
  switch (section) {
    case undefined:
      return html`<${BotPage} botId=${botId} />`;
    case 'scenarios':
      return html`<${ScenariosPage} botId=${botId} scenarioId=${rest[0]} />`;
    case 'platforms':
      return html`<${PlatformsPage} botId=${botId} />`;
    case 'dialogs':
      return rest.length === 2
        ? html`<${DialogPage} botId=${botId} platform=${rest[0]} chatId=${rest[1]} key=${rest.join('/')} />`
        : html`<${DialogsPage} botId=${botId} />`;
    case 'try':
      return html`<${TryItPage} botId=${botId} />`;
    default:
      return html`<h1>Not found</h1>
        <p>No page at this address. <a href="#/bots">Back to the bots</a></p>`;
  }
}

function Navigation({ route }: { route: string[] }) {
  const botId = route[0] === 'bots' ? route[1] : undefined;
  const current = (section: string | undefined) => (route[0] === 'bots' && route[2] === section && route.length <= 4 ? 'page' : undefined);
  return html`<nav aria-label="Main">
    <ul>
      <li><a href="#/bots" aria-current=${route.length <= 1 ? 'page' : undefined}>Bots</a></li>
      ${
        botId !== undefined &&
        html`<li><a href=${href('bots', botId)} aria-current=${route.length === 2 ? 'page' : undefined}>Overview</a></li>
          <li><a href=${href('bots', botId, 'scenarios')} aria-current=${current('scenarios')}>Scenarios</a></li>
          <li><a href=${href('bots', botId, 'dialogs')} aria-current=${current('dialogs')}>Dialogs</a></li>
          <li><a href=${href('bots', botId, 'platforms')} aria-current=${current('platforms')}>Platforms</a></li>
          <li><a href=${href('bots', botId, 'try')} aria-current=${current('try')}>Try it</a></li>`
      }
    </ul>
  </nav>`;
}

function App() {
  const claims = useSession();
  const route = useRoute();
  const path = route.join('/');
  // After a navigation, keyboard and screen reader users continue from the new page's content.
  useEffect(() => document.getElementById('main')?.focus({ preventScroll: true }), [path]);
  if (!claims) {
    return html`<header class="top"><span class="brand">GET INN Bot Engine</span></header>
      <main id="main" tabindex="-1"><${Login} /></main>`;
  }
  return html`<header class="top">
      <a class="brand" href="#/bots">GET INN Bot Engine</a>
      <span class="who">Role: <strong>${claims.role}</strong> <span class="muted">(${claims.sub})</span></span>
      <button type="button" class="secondary" onClick=${signOut}>Sign out</button>
    </header>
    <${Navigation} route=${route} />
    <main id="main" tabindex="-1"><${Screen} route=${route} /></main>`;
}

render(html`<${App} />`, document.getElementById('app')!);
