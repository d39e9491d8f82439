/**
 * The parts of the Telegram Bot API (https://core.telegram.org/bots/api) this adapter reads and
 * writes, typed after the official field names.
 */

export interface TgUser {
  id: number;
  is_bot: boolean;
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
  can_join_groups?: boolean;
  can_read_all_group_messages?: boolean;
  supports_inline_queries?: boolean;
}

export interface TgChat {
  id: number;
  type: 'private' | 'group' | 'supergroup' | 'channel';
  title?: string;
  username?: string;
  first_name?: string;
  last_name?: string;
}

export interface TgMessageEntity {
  type: string;
  offset: number;
  length: number;
}

export interface TgPhotoSize {
  file_id: string;
  file_unique_id: string;
  width: number;
  height: number;
  file_size?: number;
}

export interface TgFile {
  file_id: string;
  file_unique_id: string;
  file_name?: string;
  mime_type?: string;
  file_size?: number;
  duration?: number;
}

export interface TgLocation {
  latitude: number;
  longitude: number;
}

export interface TgContact {
  phone_number: string;
  first_name: string;
  last_name?: string;
  user_id?: number;
}

export interface TgInlineKeyboardButton {
  text: string;
  callback_data?: string;
  url?: string;
}

export interface TgInlineKeyboardMarkup {
  inline_keyboard: TgInlineKeyboardButton[][];
}

export interface TgMessage {
  message_id: number;
  from?: TgUser;
  chat: TgChat;
  date: number;
  text?: string;
  entities?: TgMessageEntity[];
  caption?: string;
  photo?: TgPhotoSize[];
  document?: TgFile;
  video?: TgFile;
  audio?: TgFile;
  voice?: TgFile;
  video_note?: TgFile;
  sticker?: TgFile;
  location?: TgLocation;
  venue?: { location: TgLocation; title: string; address: string };
  contact?: TgContact;
  media_group_id?: string;
  reply_markup?: TgInlineKeyboardMarkup;
}

export interface TgCallbackQuery {
  id: string;
  from: TgUser;
  message?: TgMessage;
  inline_message_id?: string;
  chat_instance: string;
  data?: string;
}

export interface TgUpdate {
  update_id: number;
  message?: TgMessage;
  edited_message?: TgMessage;
  channel_post?: TgMessage;
  edited_channel_post?: TgMessage;
  callback_query?: TgCallbackQuery;
  my_chat_member?: unknown;
}

export type TgInputMediaType = 'photo' | 'video' | 'audio' | 'document';

export interface TgInputMedia {
  type: TgInputMediaType;
  media: string;
  caption?: string;
}

/** Every Bot API answer. */
export type TgResponse<T> =
  | { ok: true; result: T; description?: string }
  | { ok: false; error_code: number; description: string; parameters?: { retry_after?: number; migrate_to_chat_id?: number } };

/** Parameters of the methods the adapter calls. */
export interface TgMethods {
  getMe: { params: Record<string, never>; result: TgUser };
  setWebhook: {
    params: { url: string; secret_token: string; allowed_updates: string[]; drop_pending_updates: boolean };
    result: true;
  };
  deleteWebhook: { params: { drop_pending_updates: boolean }; result: true };
  sendMessage: {
    params: { chat_id: string; text: string; reply_markup?: TgInlineKeyboardMarkup; link_preview_options?: { is_disabled: boolean } };
    result: TgMessage;
  };
  sendPhoto: { params: { chat_id: string; photo: string; caption?: string }; result: TgMessage };
  sendVideo: { params: { chat_id: string; video: string; caption?: string }; result: TgMessage };
  sendAudio: { params: { chat_id: string; audio: string; caption?: string }; result: TgMessage };
  sendDocument: { params: { chat_id: string; document: string; caption?: string }; result: TgMessage };
  sendMediaGroup: { params: { chat_id: string; media: TgInputMedia[] }; result: TgMessage[] };
  sendChatAction: { params: { chat_id: string; action: 'typing' | 'upload_photo' | 'upload_video' | 'upload_document' }; result: true };
  answerCallbackQuery: { params: { callback_query_id: string; text?: string }; result: true };
  getFile: { params: { file_id: string }; result: TgFile & { file_path?: string } };
}

export type TgMethod = keyof TgMethods;
