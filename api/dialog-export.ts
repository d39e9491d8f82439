import PDFDocument from 'pdfkit';
import { PassThrough, Readable } from 'node:stream';
import type { DialogRecord, HistoryItem } from '../src/db/dialogs';
import type { ChatUser } from '../src/engine/types';

export type HistoryPages = AsyncIterable<HistoryItem[]>;

const CSV_COLUMNS = ['id', 'created_at', 'message_type', 'step', 'text', 'payload'] as const;

/**
 * One CSV cell (RFC 4180 quoting). A cell a spreadsheet would run as a formula (=, +, -, @ first)
 * gets a leading apostrophe: user text must not become a formula on an operator's machine.
 */
function csvCell(value: unknown): string {
  let text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Columns a dialog's export adds: who wrote the user rows, as the platform last described them. */
const USER_COLUMNS = ['user_id', 'user_name', 'user_username'] as const;

/** The history as CSV; with `user` (a dialog's export), its user rows name the user too. */
export function historyCsv(pages: HistoryPages, user?: ChatUser | null): Readable {
  const withUser = user !== undefined;
  const userCells = (item: HistoryItem) => {
    const writer = item.message_type === 'user' ? user : null;
    return [writer?.id, writer?.name, writer?.username].map(csvCell);
  };
  return Readable.from(
    (async function* () {
      yield `${[...CSV_COLUMNS, ...(withUser ? USER_COLUMNS : [])].join(',')}\r\n`;
      for await (const items of pages) {
        yield items.map((item) => `${[...CSV_COLUMNS.map((c) => csvCell(item[c])), ...(withUser ? userCells(item) : [])].join(',')}\r\n`).join('');
      }
    })(),
  );
}

/** `{"dialog":{...},"history":[...]}`, written as the history pages arrive. */
export function dialogJson(dialog: DialogRecord, pages: HistoryPages): Readable {
  return Readable.from(
    (async function* () {
      yield `{"dialog":${JSON.stringify(dialog)},"history":[`;
      let first = true;
      for await (const items of pages) {
        for (const item of items) {
          yield `${first ? '' : ','}${JSON.stringify(item)}`;
          first = false;
        }
      }
      yield ']}\n';
    })(),
  );
}

/** Characters XML 1.0 cannot hold at all are dropped; the five special ones escaped. */
function xmlText(value: unknown): string {
  const text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  return text
    .replace(/[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export function dialogXml(dialog: DialogRecord, pages: HistoryPages): Readable {
  return Readable.from(
    (async function* () {
      yield '<?xml version="1.0" encoding="UTF-8"?>\n';
      const attrs = (
        [
          'bot_id',
          'platform',
          'chat_id',
          'status',
          'current_step',
          'scenario_id',
          'scenario_version',
          'version',
          'started_at',
          'last_interaction_at',
          'workflow_id',
        ] as const
      )
        .filter((k) => dialog[k] !== null && dialog[k] !== undefined)
        .map((k) => `${k}="${xmlText(dialog[k])}"`)
        .join(' ');
      yield `<dialog ${attrs}>\n`;
      if (dialog.user) {
        const user = (['id', 'name', 'username', 'language'] as const)
          .filter((k) => dialog.user?.[k] !== undefined)
          .map((k) => `${k}="${xmlText(dialog.user?.[k])}"`)
          .join(' ');
        yield `  <user ${user}/>\n`;
      }
      yield '  <collected_data>\n';
      for (const [name, value] of Object.entries(dialog.collected_data)) {
        yield `    <variable name="${xmlText(name)}">${xmlText(value)}</variable>\n`;
      }
      yield '  </collected_data>\n  <history>\n';
      for await (const items of pages) {
        for (const m of items) {
          const step = m.step === null ? '' : ` step="${xmlText(m.step)}"`;
          const payload = m.payload === null ? '' : `<payload>${xmlText(m.payload)}</payload>`;
          yield `    <message id="${xmlText(m.id)}" type="${m.message_type}" created_at="${m.created_at}"${step}><text>${xmlText(m.text)}</text>${payload}</message>\n`;
        }
      }
      yield '  </history>\n</dialog>\n';
    })(),
  );
}

/**
 * A readable transcript as PDF (pdfkit), written page by page as the history is read, set in
 * `fontPath` (a TrueType font covering the guests' scripts).
 */
export function dialogPdf(dialog: DialogRecord, pages: HistoryPages, fontPath: string): Readable {
  const doc = new PDFDocument({ size: 'A4', margin: 50, info: { Title: `Dialog ${dialog.workflow_id}`, Producer: 'GET INN Bot Engine' } });
  doc.registerFont('body', fontPath).font('body');
  const out = new PassThrough();
  doc.pipe(out);
  (async () => {
    doc.fontSize(16).text(`Dialog ${dialog.platform} ${dialog.chat_id}`);
    doc.moveDown(0.5).fontSize(9);
    doc.text(`Bot: ${dialog.bot_id}`);
    if (dialog.user)
      doc.text(`Guest: ${[dialog.user.name, dialog.user.username && `@${dialog.user.username}`, `id ${dialog.user.id}`].filter(Boolean).join('  ')}`);
    doc.text(`Status: ${dialog.status}    Current step: ${dialog.current_step ?? '-'}    Scenario version: ${dialog.scenario_version ?? '-'}`);
    doc.text(`Started: ${dialog.started_at}    Last interaction: ${dialog.last_interaction_at}`);
    doc.moveDown(0.5).text(`Collected data: ${JSON.stringify(dialog.collected_data)}`);
    doc.moveDown();
    for await (const items of pages) {
      for (const m of items) {
        doc
          .fontSize(8)
          .fillColor('#666666')
          .text(`${m.created_at}  ${m.message_type}${m.step ? `  [${m.step}]` : ''}`);
        doc
          .fontSize(10)
          .fillColor('#000000')
          .text(m.text ?? (m.payload === null ? '' : JSON.stringify(m.payload)));
        doc.moveDown(0.4);
      }
    }
    doc.end();
  })().catch((error: Error) => out.destroy(error));
  return out;
}
