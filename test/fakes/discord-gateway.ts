import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { snowflake } from './discord';

/** Gateway opcodes and close codes (https://discord.com/developers/docs/topics/opcodes-and-status-codes). */
const Op = { Dispatch: 0, Heartbeat: 1, Identify: 2, Resume: 6, InvalidSession: 9, Hello: 10, HeartbeatAck: 11 } as const;
const Close = {
  UnknownOpcode: 4001,
  DecodeError: 4002,
  NotAuthenticated: 4003,
  AuthenticationFailed: 4004,
  AlreadyAuthenticated: 4005,
  InvalidShard: 4010,
  InvalidApiVersion: 4012,
  InvalidIntents: 4013,
  DisallowedIntents: 4014,
} as const;
/** Every intent bit Discord defines (up to 1 << 25). */
const ALL_INTENTS = (1 << 26) - 1;

export interface FakeGatewayBot {
  token: string;
  /** The bot user's id; default a fresh snowflake. */
  userId?: string;
  applicationId?: string;
}

export interface FakeDiscordGatewayOptions {
  bots: FakeGatewayBot[];
  /** HELLO's `heartbeat_interval`; Discord's is about 41 s, short here so that tests see heartbeats. */
  heartbeatIntervalMs?: number;
  /** Intents the applications may not ask for (privileged intents not enabled in the portal): IDENTIFY with them closes with 4014. */
  disallowedIntents?: number;
}

export interface RecordedIdentify {
  token: string;
  intents: number;
  shard?: [number, number];
  sessionId: string;
}

export interface RecordedResume {
  token: string;
  sessionId: string;
  seq: number;
  /** The path the client connected to: the READY's `resume_gateway_url` ends in `/resume`. */
  path: string;
  /** Whether the session could be resumed (else INVALID_SESSION). */
  resumed: boolean;
}

interface Session {
  id: string;
  token: string;
  seq: number;
  /** Every dispatch of the session, for replay on RESUME. */
  log: { op: 0; t: string; s: number; d: unknown }[];
  socket?: WebSocket;
  /** Closed by the client with 1000/1001, or replaced: no longer resumable. */
  invalid: boolean;
}

export interface FakeDiscordGateway {
  /** `ws://127.0.0.1:<port>`: what `GET /gateway/bot` answers as `url`. */
  readonly url: string;
  readonly identifies: RecordedIdentify[];
  readonly resumes: RecordedResume[];
  /** Tokens of the IDENTIFYs refused with 4004, in order. */
  rejectedIdentifies(): string[];
  /** Heartbeats (op 1) received, each answered with op 11. */
  readonly heartbeats: () => number;
  /** Connections currently open and identified (or resumed) with the bot's token. */
  liveSessions(token: string): number;
  /**
   * Sends a dispatch (op 0) to the bot's live sessions, each with its next sequence number; a session
   * whose connection dropped keeps it for its RESUME. Returns how many sessions got it.
   */
  dispatch(token: string, event: string, data: unknown): number;
  /** Closes the bot's open connections with `code` (default 4000, resumable); 1006 drops them without a close frame. */
  drop(token: string, code?: number): void;
  close(): Promise<void>;
}

/**
 * A fake Discord Gateway (v10, JSON encoding, no compression) on a `ws` server: HELLO on connect,
 * IDENTIFY → READY (token and intents checked: 4004, 4013, 4014), heartbeats acknowledged, RESUME →
 * the missed dispatches by sequence then RESUMED (INVALID_SESSION for an unknown or closed session),
 * the close codes Discord uses for protocol errors.
 */
export async function startFakeDiscordGateway(options: FakeDiscordGatewayOptions): Promise<FakeDiscordGateway> {
  const bots = options.bots.map((bot) => ({ ...bot, userId: bot.userId ?? snowflake(), applicationId: bot.applicationId ?? snowflake() }));
  const heartbeatInterval = options.heartbeatIntervalMs ?? 1_000;
  const sessions = new Map<string, Session>();
  const identifies: RecordedIdentify[] = [];
  const resumes: RecordedResume[] = [];
  const rejected: string[] = [];
  let heartbeats = 0;

  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const sendDispatch = (session: Session, t: string, d: unknown) => {
    session.seq += 1;
    const payload = { op: Op.Dispatch, t, s: session.seq, d } as const;
    session.log.push(payload);
    session.socket?.send(JSON.stringify(payload));
  };

  server.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    const requestUrl = new URL(request.url ?? '/', url);
    if (requestUrl.searchParams.get('v') !== '10') return socket.close(Close.InvalidApiVersion, 'Invalid API version');
    if (requestUrl.searchParams.get('encoding') !== 'json') return socket.close(Close.DecodeError, 'Error while decoding payload.');
    let session: Session | undefined;
    socket.send(JSON.stringify({ op: Op.Hello, d: { heartbeat_interval: heartbeatInterval, _trace: ['["fake-gateway",{"micros":0}]'] }, s: null, t: null }));

    socket.on('message', (raw) => {
      let payload: { op?: unknown; d?: Record<string, unknown> | number | null };
      try {
        payload = JSON.parse((raw as Buffer).toString('utf8')) as typeof payload;
      } catch {
        return socket.close(Close.DecodeError, 'Error while decoding payload.');
      }
      switch (payload.op) {
        case Op.Heartbeat:
          heartbeats += 1;
          return socket.send(JSON.stringify({ op: Op.HeartbeatAck, d: null, s: null, t: null }));
        case Op.Identify: {
          if (session) return socket.close(Close.AlreadyAuthenticated, 'Already authenticated.');
          const d = (payload.d ?? {}) as { token?: unknown; intents?: unknown; shard?: unknown; properties?: unknown };
          const bot = bots.find((candidate) => candidate.token === d.token);
          if (!bot) {
            rejected.push(String(d.token));
            return socket.close(Close.AuthenticationFailed, 'Authentication failed.');
          }
          const intents = d.intents;
          if (typeof intents !== 'number' || !Number.isInteger(intents) || intents < 0 || (intents & ~ALL_INTENTS) !== 0) {
            return socket.close(Close.InvalidIntents, 'Invalid intent(s).');
          }
          if (options.disallowedIntents && (intents & options.disallowedIntents) !== 0) return socket.close(Close.DisallowedIntents, 'Disallowed intent(s).');
          const shard = d.shard as [number, number] | undefined;
          if (shard !== undefined && !(Array.isArray(shard) && shard[1] === 1 && shard[0] === 0)) return socket.close(Close.InvalidShard, 'Invalid shard.');
          if (typeof d.properties !== 'object' || d.properties === null) return socket.close(Close.DecodeError, 'Error while decoding payload.');
          session = { id: randomBytes(16).toString('hex'), token: bot.token, seq: 0, log: [], socket, invalid: false };
          sessions.set(session.id, session);
          identifies.push({ token: bot.token, intents, ...(shard ? { shard } : {}), sessionId: session.id });
          sendDispatch(session, 'READY', {
            v: 10,
            user: { id: bot.userId, username: 'getinn_bot', discriminator: '0000', global_name: null, avatar: null, bot: true, verified: true, flags: 0 },
            guilds: [],
            session_id: session.id,
            session_type: 'normal',
            resume_gateway_url: `${url}/resume`,
            shard: shard ?? [0, 1],
            application: { id: bot.applicationId, flags: 0 },
            private_channels: [],
            presences: [],
            relationships: [],
            guild_join_requests: [],
            user_settings: {},
            geo_ordered_rtc_regions: [],
            _trace: ['["fake-gateway",{"micros":0}]'],
          });
          return;
        }
        case Op.Resume: {
          if (session) return socket.close(Close.AlreadyAuthenticated, 'Already authenticated.');
          const d = (payload.d ?? {}) as { token?: unknown; session_id?: unknown; seq?: unknown };
          const found = typeof d.session_id === 'string' ? sessions.get(d.session_id) : undefined;
          const seq = typeof d.seq === 'number' ? d.seq : -1;
          const resumable = found !== undefined && !found.invalid && found.token === d.token && seq >= 0 && seq <= found.seq;
          resumes.push({ token: String(d.token), sessionId: String(d.session_id), seq, path: requestUrl.pathname, resumed: resumable });
          if (!resumable) return socket.send(JSON.stringify({ op: Op.InvalidSession, d: false, s: null, t: null }));
          session = found;
          session.socket?.terminate();
          session.socket = socket;
          for (const missed of session.log.filter((entry) => entry.s > seq)) socket.send(JSON.stringify(missed));
          sendDispatch(session, 'RESUMED', { _trace: ['["fake-gateway",{"micros":0}]'] });
          return;
        }
        default:
          if (!session) return socket.close(Close.NotAuthenticated, 'Not authenticated.');
          return socket.close(Close.UnknownOpcode, 'Unknown opcode.');
      }
    });

    socket.on('close', (code) => {
      if (!session || session.socket !== socket) return;
      session.socket = undefined;
      // Discord ends a session the client closes normally; any other close leaves it resumable.
      if (code === 1000 || code === 1001) session.invalid = true;
    });
  });

  const liveOf = (token: string) => [...sessions.values()].filter((session) => session.token === token && !session.invalid);

  return {
    url,
    identifies,
    resumes,
    rejectedIdentifies: () => [...rejected],
    heartbeats: () => heartbeats,
    liveSessions: (token) => liveOf(token).filter((session) => session.socket !== undefined).length,
    dispatch(token, event, data) {
      const targets = liveOf(token);
      for (const session of targets) sendDispatch(session, event, data);
      return targets.length;
    },
    drop(token, code = 4000) {
      for (const session of liveOf(token)) {
        if (code === 1006) session.socket?.terminate();
        else session.socket?.close(code, 'Dropped by the test.');
      }
    },
    close() {
      for (const client of server.clients) client.terminate();
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

export interface GatewayMessageOptions {
  channelId: string;
  userId: string;
  content: string;
  /** The message id (the dedupe key); default a fresh snowflake. */
  id?: string;
  /** A guild channel's message; none: a direct message. */
  guildId?: string;
  bot?: boolean;
  /** `0` default, `19` reply, `7` member join, ... */
  type?: number;
  attachments?: Record<string, unknown>[];
}

/** A `MESSAGE_CREATE` dispatch's data as Discord sends it (with the MESSAGE_CONTENT intent). */
export function discordGatewayMessage(options: GatewayMessageOptions): Record<string, unknown> {
  const author = { id: options.userId, username: 'anna', discriminator: '0', global_name: 'Anna', avatar: null, ...(options.bot ? { bot: true } : {}) };
  return {
    id: options.id ?? snowflake(),
    type: options.type ?? 0,
    channel_id: options.channelId,
    author,
    content: options.content,
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: options.attachments ?? [],
    embeds: [],
    pinned: false,
    flags: 0,
    components: [],
    nonce: String(Date.now()),
    ...(options.guildId
      ? {
          guild_id: options.guildId,
          member: { nick: null, roles: [], joined_at: '2024-01-01T00:00:00.000000+00:00', deaf: false, mute: false, flags: 0 },
        }
      : {}),
  };
}
