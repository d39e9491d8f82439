import { randomUUID } from 'node:crypto';
import { isLegacySealed, type Keyring, open, seal } from '../crypto';
import type { PlatformName } from '../platforms/types';
import type { ConnectionStatus } from './platform-status';
import { type Db, fromJson, toIso, toJson } from './index';

/** What the API may show of a connection: never the credentials. */
export interface PlatformConnection {
  id: string;
  bot_id: string;
  platform: PlatformName;
  status: ConnectionStatus;
  /** The platform's last error (scrubbed of credentials) and when it came; kept after a success, for the record. */
  last_error: string | null;
  last_error_at: string | null;
  /** When the platform last answered a test, registration or send in a way that set the status. */
  status_checked_at: string | null;
  settings: Record<string, unknown>;
  /** Whether the platform calls our webhook URL now, as registered through its API. */
  webhook_registered: boolean;
  webhook_registered_at: string | null;
  /** Which encryption key sealed the credentials (not secret): shows what a key rotation has left to re-seal. */
  key_id: string;
  created_at: string;
  updated_at: string;
}

export interface PlatformSecrets {
  credentials: Record<string, string>;
  webhookSecret?: string;
}

/** Where a sealed value belongs: it opens only in the row and column it was sealed for. */
export function bindingOf(botId: string, platform: string, column: 'credentials' | 'webhook_secret'): string {
  return `platform_connections/${botId}/${platform}/${column}`;
}

/** A `platform_connections` row as either driver returns it. */
interface ConnectionRow {
  id: string;
  bot_id: string;
  platform: PlatformName;
  credentials_sealed: string;
  webhook_secret_sealed: string | null;
  settings: unknown;
  status: ConnectionStatus;
  last_error: string | null;
  last_error_at: Date | string | null;
  consecutive_failures: number;
  status_checked_at: Date | string | null;
  webhook_registered_at: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

function toConnection(row: ConnectionRow): PlatformConnection {
  return {
    id: row.id,
    bot_id: row.bot_id,
    platform: row.platform,
    status: row.status,
    last_error: row.last_error,
    last_error_at: toIso(row.last_error_at),
    status_checked_at: toIso(row.status_checked_at),
    settings: fromJson(row.settings, {}),
    webhook_registered: row.webhook_registered_at !== null,
    webhook_registered_at: toIso(row.webhook_registered_at),
    key_id: row.credentials_sealed.split('.')[1] ?? '',
    created_at: toIso(row.created_at) as string,
    updated_at: toIso(row.updated_at) as string,
  };
}

export function platformsRepository(db: Db, keyring: Keyring) {
  return {
    async create(input: { bot_id: string; platform: PlatformName; credentials: Record<string, string>; settings?: Record<string, unknown> }) {
      const now = new Date().toISOString();
      const row: ConnectionRow = {
        id: randomUUID(),
        bot_id: input.bot_id,
        platform: input.platform,
        credentials_sealed: seal(input.credentials, keyring, bindingOf(input.bot_id, input.platform, 'credentials')),
        webhook_secret_sealed: null,
        settings: toJson(input.settings ?? {}),
        status: 'unverified',
        last_error: null,
        last_error_at: null,
        consecutive_failures: 0,
        status_checked_at: null,
        webhook_registered_at: null,
        created_at: now,
        updated_at: now,
      };
      await db<ConnectionRow>('platform_connections').insert(row);
      return toConnection(row);
    },

    async get(botId: string, platform: PlatformName): Promise<PlatformConnection | undefined> {
      const row = await db<ConnectionRow>('platform_connections').where({ bot_id: botId, platform }).first();
      return row ? toConnection(row) : undefined;
    },

    async list(botId: string): Promise<PlatformConnection[]> {
      const rows = await db<ConnectionRow>('platform_connections').where({ bot_id: botId }).orderBy('created_at');
      return rows.map(toConnection);
    },

    /** Decrypted credentials, for the platform call that needs them and nothing else. */
    async secrets(botId: string, platform: PlatformName): Promise<PlatformSecrets | undefined> {
      const row = await db<ConnectionRow>('platform_connections').where({ bot_id: botId, platform }).first();
      if (!row) return undefined;
      const secrets: PlatformSecrets = {
        credentials: open<Record<string, string>>(row.credentials_sealed, keyring, bindingOf(botId, platform, 'credentials')),
        webhookSecret: row.webhook_secret_sealed ? open<string>(row.webhook_secret_sealed, keyring, bindingOf(botId, platform, 'webhook_secret')) : undefined,
      };
      // Sealed before values were bound to their row: bound now, so they cannot be moved from here on.
      if (isLegacySealed(row.credentials_sealed) || (row.webhook_secret_sealed && isLegacySealed(row.webhook_secret_sealed))) {
        await db<ConnectionRow>('platform_connections')
          .where({ id: row.id })
          .update({
            credentials_sealed: seal(secrets.credentials, keyring, bindingOf(botId, platform, 'credentials')),
            webhook_secret_sealed:
              secrets.webhookSecret === undefined ? null : seal(secrets.webhookSecret, keyring, bindingOf(botId, platform, 'webhook_secret')),
          });
      }
      return secrets;
    },

    async update(
      botId: string,
      platform: PlatformName,
      changes: { credentials?: Record<string, string>; settings?: Record<string, unknown>; status?: ConnectionStatus },
    ) {
      const row: Partial<ConnectionRow> = { updated_at: new Date().toISOString() };
      if (changes.credentials) {
        row.credentials_sealed = seal(changes.credentials, keyring, bindingOf(botId, platform, 'credentials'));
        // What the platform said of the old credentials says nothing of these.
        row.status = 'unverified';
        row.consecutive_failures = 0;
      }
      if (changes.settings) row.settings = toJson(changes.settings);
      if (changes.status) row.status = changes.status;
      await db<ConnectionRow>('platform_connections').where({ bot_id: botId, platform }).update(row);
      return this.get(botId, platform);
    },

    async setWebhookSecret(botId: string, platform: PlatformName, secret: string): Promise<void> {
      await db('platform_connections')
        .where({ bot_id: botId, platform })
        .update({ webhook_secret_sealed: seal(secret, keyring, bindingOf(botId, platform, 'webhook_secret')), updated_at: new Date().toISOString() });
    },

    async setWebhookRegistered(botId: string, platform: PlatformName, registered: boolean): Promise<void> {
      await db('platform_connections')
        .where({ bot_id: botId, platform })
        .update({ webhook_registered_at: registered ? new Date().toISOString() : null });
    },

    async delete(botId: string, platform: PlatformName): Promise<void> {
      await db('platform_connections').where({ bot_id: botId, platform }).delete();
    },
  };
}
