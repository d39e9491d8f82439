/**
 * What each platform can show, for warnings at validation time. The numbers are the platforms'
 * documented limits; messages longer or richer than these are cut, split or refused when sent.
 */
import { characterLength, utf8Length } from './json';
import type { Button, MessageContent } from './types';

export interface LimitProblem {
  /** Path below the message's location ("buttons/3/text", "text", "media"). */
  at: (string | number)[];
  message: string;
}

const TEXT_LIMITS: [platform: string, max: number][] = [
  ['Discord', 2000],
  ['Messenger', 2000],
  ['Slack', 3000],
  ['Telegram', 4096],
  ['WhatsApp', 4096],
];
const TEXT_WITH_BUTTONS_LIMITS: [string, number][] = [
  ['WhatsApp (interactive body)', 1024],
  ['Messenger (button template)', 640],
];
const CAPTION_LIMITS: [string, number][] = [
  ['Telegram', 1024],
  ['WhatsApp', 1024],
];
const BUTTON_COUNT_LIMITS: [string, number, string][] = [
  ['WhatsApp', 3, 'reply buttons (up to 10 are sent as a list)'],
  ['Messenger', 13, 'quick replies'],
  ['Slack', 25, 'buttons in an actions block'],
  ['Discord', 25, 'buttons (5 rows of 5)'],
  ['Telegram', 100, 'inline buttons'],
];
const WHATSAPP_LIST_MAX = 10;
const BUTTON_TEXT_LIMITS: [string, number][] = [
  ['WhatsApp', 20],
  ['Messenger', 20],
  ['Slack', 75],
  ['Discord', 80],
];
const ALBUM_MAX = 10;

function over(limits: [string, number][], length: number): [string, number][] {
  return limits.filter(([, max]) => length > max);
}

function names(limits: [string, number][]): string {
  return limits.map(([platform, max]) => `${platform} ${max}`).join(', ');
}

/** Limit warnings for one message and the buttons shown with it. Templates are measured unfilled. */
export function platformLimitProblems(content: MessageContent | undefined, buttons: readonly Button[] | undefined): LimitProblem[] {
  const problems: LimitProblem[] = [];
  const text = content?.text;
  const hasMedia = (content?.media?.length ?? 0) > 0;
  if (text !== undefined) {
    const length = characterLength(text);
    const exceeded = over(TEXT_LIMITS, length);
    if (exceeded.length) problems.push({ at: ['text'], message: `text is ${length} characters, over the limit of ${names(exceeded)}` });
    else if (buttons?.length && over(TEXT_WITH_BUTTONS_LIMITS, length).length) {
      problems.push({ at: ['text'], message: `text with buttons is ${length} characters, over ${names(over(TEXT_WITH_BUTTONS_LIMITS, length))}` });
    } else if (hasMedia && content?.media?.length === 1 && over(CAPTION_LIMITS, length).length) {
      problems.push({ at: ['text'], message: `text sent as a media caption is ${length} characters, over ${names(over(CAPTION_LIMITS, length))}` });
    }
  }
  content?.media?.forEach((item, index) => {
    const length = item.caption === undefined ? 0 : characterLength(item.caption);
    if (over(CAPTION_LIMITS, length).length) {
      problems.push({ at: ['media', index, 'caption'], message: `caption is ${length} characters, over ${names(over(CAPTION_LIMITS, length))}` });
    }
  });
  if ((content?.media?.length ?? 0) > ALBUM_MAX) {
    problems.push({
      at: ['media'],
      message: `${content?.media?.length} media items: albums hold at most ${ALBUM_MAX} (Telegram, WhatsApp); the rest are sent separately`,
    });
  }
  if (buttons?.length) {
    const count = buttons.length;
    const crowded = BUTTON_COUNT_LIMITS.filter(([, max]) => count > max);
    if (crowded.length) {
      const detail = crowded
        .map(([platform, max, what]) =>
          platform === 'WhatsApp' && count > WHATSAPP_LIST_MAX ? `WhatsApp at most ${WHATSAPP_LIST_MAX} list rows` : `${platform} at most ${max} ${what}`,
        )
        .join('; ');
      problems.push({ at: ['buttons'], message: `${count} buttons: ${detail}` });
    }
    buttons.forEach((button, index) => {
      const length = characterLength(button.text);
      const exceeded = over(BUTTON_TEXT_LIMITS, length);
      if (exceeded.length)
        problems.push({ at: ['buttons', index, 'text'], message: `button text "${button.text}" is ${length} characters, over ${names(exceeded)}` });
      const bytes = utf8Length(button.value);
      if (bytes > 64)
        problems.push({ at: ['buttons', index, 'value'], message: `button value is ${bytes} bytes in UTF-8; Telegram callback_data holds at most 64` });
    });
  }
  return problems;
}
