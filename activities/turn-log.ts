/**
 * What a recorded turn writes to the logs (CONTRACT.md §4): the log event type of each engine event,
 * and what of it may be logged. Names, steps and outcomes are logged; values are the user's data
 * and message texts are private, so neither is.
 */
import type { TurnRecord } from '../src/dialog/contract';
import type { JsonValue } from '../src/engine/types';
import type { LogEvent, Logger } from '../src/log';
import { describeInput } from './transcript';

/** Log event types of the engine's events; the others are DEBUG lines. */
const EVENT_LOG_TYPES: Record<string, LogEvent> = {
  variable_set: 'VARIABLE_UPDATE',
  condition_evaluated: 'CONDITION_EVAL',
  auto_transition: 'AUTO_TRANSITION',
  state_changed: 'STATE_CHANGE',
  error: 'ERROR',
};

/** The fields of an event's line: what the event says, without the values it carries. */
function eventFields(kind: string, data: Record<string, JsonValue>): Record<string, unknown> {
  switch (kind) {
    case 'variable_set':
      return { variable: data.variable };
    case 'condition_evaluated':
      return { condition: data.condition, result: data.result };
    case 'auto_transition':
      return { from: data.from, to: data.to };
    case 'error':
      return { code: data.code, error: data.message };
    case 'input_invalid':
      return {};
    case 'operator_update':
      return { data: { current_step: data.current_step ?? null, variables: data.variables ?? [] } };
    default:
      return { data };
  }
}

/** The lines of one recorded turn: the user's message, each event, and the turn itself. */
export function logTurn(log: Logger, record: TurnRecord): void {
  const { projection } = record;
  const context = { bot_id: projection.bot_id, platform: projection.platform, chat_id: projection.chat_id, workflow_id: projection.workflow_id };
  if (record.incoming) {
    const { messageId, input, step } = record.incoming;
    log.info({ event: 'INCOMING', ...context, message_id: messageId, kind: input.kind, step, length: describeInput(input).length }, 'message received');
  }
  for (const e of record.events) {
    const type = EVENT_LOG_TYPES[e.kind] ?? 'DEBUG';
    const fields = { event: type, ...context, step: e.step, kind: e.kind, ...eventFields(e.kind, (e.data ?? {}) as Record<string, JsonValue>) };
    if (type === 'ERROR') log.error(fields, e.kind);
    else if (type === 'DEBUG') log.debug(fields, e.kind);
    else log.info(fields, e.kind);
  }
  log.debug(
    { event: 'DEBUG', ...context, turn: record.turnKey, status: projection.status, step: projection.current_step, version: projection.version },
    'turn recorded',
  );
}
