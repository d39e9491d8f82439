/**
 * Slack payloads (https://api.slack.com): Events API envelopes, interactivity and slash-command
 * posts, Block Kit, and the Web API answers this adapter uses.
 */

/** A file shared in a message; `url_private*` serve its bytes to the bot token only. */
export interface SlackFile {
  id: string;
  name?: string;
  mimetype?: string;
  filetype?: string;
  /** Bytes, as Slack declares them. */
  size?: number;
  url_private?: string;
  url_private_download?: string;
}

export interface SlackMessageEvent {
  type: 'message';
  subtype?: string;
  channel: string;
  channel_type?: 'im' | 'channel' | 'group' | 'mpim' | 'app_home';
  user?: string;
  bot_id?: string;
  text?: string;
  ts: string;
  thread_ts?: string;
  client_msg_id?: string;
  files?: SlackFile[];
}

export interface SlackEventEnvelope {
  type: 'event_callback';
  token?: string;
  team_id: string;
  api_app_id: string;
  event: SlackMessageEvent | { type: string };
  event_id: string;
  event_time: number;
}

/** The last member stands for the bodies nothing here reads, such as `app_rate_limited`. */
export type SlackEventsBody = SlackEventEnvelope | { type: 'url_verification'; challenge: string; token?: string } | { type: string };

export interface SlackBlockAction {
  /** `button`, `static_select`, or another element kind. */
  type: string;
  action_id: string;
  block_id?: string;
  value?: string;
  text?: { type: 'plain_text'; text: string };
  selected_option?: { value: string; text?: { text: string } };
  action_ts: string;
}

export interface SlackBlockActionsPayload {
  type: 'block_actions';
  user: { id: string; username?: string; name?: string };
  trigger_id: string;
  container?: { type: string; message_ts?: string; channel_id?: string; thread_ts?: string };
  channel?: { id: string; name?: string };
  message?: { ts: string; thread_ts?: string };
  actions: SlackBlockAction[];
}

/** A slash command as Slack posts it (form fields). */
export interface SlackSlashCommand {
  command: string;
  text: string;
  channel_id: string;
  user_id: string;
  user_name?: string;
  trigger_id: string;
}

export interface SlackTextObject {
  type: 'plain_text' | 'mrkdwn';
  text: string;
  emoji?: boolean;
}

export type SlackBlock =
  | { type: 'section'; text: SlackTextObject }
  | { type: 'actions'; block_id?: string; elements: { type: 'button'; text: SlackTextObject; value: string; action_id: string }[] }
  | { type: 'image'; image_url: string; alt_text: string; title?: SlackTextObject };

export interface SlackPostMessage {
  channel: string;
  text: string;
  blocks?: SlackBlock[];
  thread_ts?: string;
  unfurl_links?: boolean;
  /** Whether Slack reads `text` as mrkdwn (its default); set for markdown messages to say so. */
  mrkdwn?: boolean;
}

export interface SlackMethods {
  'chat.postMessage': { params: SlackPostMessage; result: { channel: string; ts: string } };
  'auth.test': { params: Record<string, never>; result: { url?: string; team?: string; user?: string; team_id?: string; user_id?: string; bot_id?: string } };
}

export type SlackResponse<T> = ({ ok: true } & T) | { ok: false; error: string; warning?: string };
