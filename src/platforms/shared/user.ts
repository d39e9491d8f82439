import type { ChatUser } from '../../engine/types';

/** Names, usernames and ids are the sender's own words: cut to this many UTF-16 units. */
export const MAX_USER_FIELD_LENGTH = 256;
/** The longest language tag worth keeping (BCP 47 tags in practice stay far below it). */
const MAX_LANGUAGE_LENGTH = 35;

/** A string field as given, trimmed and cut (never inside a surrogate pair); nothing for anything else. */
function bounded(value: unknown, limit: number): string | undefined {
  const text = typeof value === 'string' ? value.trim() : '';
  if (text === '') return undefined;
  if (text.length <= limit) return text;
  const cut = /[\uD800-\uDBFF]/.test(text[limit - 1] ?? '') ? limit - 1 : limit;
  return text.slice(0, cut);
}

/**
 * The chat user from what a platform's payload says about them. The payload is hostile input: a
 * field of the wrong type is dropped, a long one cut. No id, no user.
 */
export function chatUser(fields: { id: unknown; name?: unknown; username?: unknown; language?: unknown }): ChatUser | undefined {
  // Telegram's ids are numbers.
  const id = bounded(typeof fields.id === 'number' && Number.isSafeInteger(fields.id) ? String(fields.id) : fields.id, MAX_USER_FIELD_LENGTH);
  if (id === undefined) return undefined;
  const user: ChatUser = { id };
  const name = bounded(fields.name, MAX_USER_FIELD_LENGTH);
  const username = bounded(fields.username, MAX_USER_FIELD_LENGTH);
  const language = bounded(fields.language, MAX_LANGUAGE_LENGTH);
  if (name !== undefined) user.name = name;
  if (username !== undefined) user.username = username;
  if (language !== undefined) user.language = language;
  return user;
}

/** `{ user }` to spread into an `IncomingMessage`, or nothing. */
export function userField(fields: Parameters<typeof chatUser>[0]): { user?: ChatUser } {
  const user = chatUser(fields);
  return user ? { user } : {};
}
