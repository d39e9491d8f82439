/** Shapes of the `/v1` answers the console reads (docs/api.md; the OpenAPI document has them all). */
import type { OutgoingMessage, Scenario as ScenarioData, UserInput } from '../../src/engine/types';

export type { ScenarioData };

export interface Bot {
  id: string;
  account_id: string;
  name: string;
  description: string;
  status: 'active' | 'inactive';
  created_at: string;
  updated_at: string;
}

export interface ScenarioSummary {
  id: string;
  name: string;
  version: number;
  is_default: boolean;
}

export interface BotWithStats extends Bot {
  stats: {
    platforms: string[];
    active_scenario: ScenarioSummary | null;
    active_scenarios: ScenarioSummary[];
    dialogs: Record<string, number>;
  };
}

export interface Diagnostic {
  path: string;
  line: number | null;
  column: number | null;
  message: string;
  suggestion?: string;
}

export interface ScenarioVersion {
  id: string;
  bot_id: string;
  name: string;
  version: number;
  is_active: boolean;
  is_default: boolean;
  scenario_data: ScenarioData;
  warnings: Diagnostic[];
  created_at: string;
}

export interface ScenarioAnalytics {
  dialogs: { started: number; completed: number; abandoned: number; in_progress: number; completion_rate: number; average_completion_seconds: number | null };
  steps: { step: string; entered: number; completed: number; drop_off: number; drop_off_rate: number; input_errors: number }[];
}

export interface PlatformConnection {
  id: string;
  platform: string;
  status: string;
  webhook_registered: boolean;
  updated_at: string;
}

export interface WebhookStatus {
  last_event_at: string | null;
  counts: { received: number; accepted: number; rejected: number; messages: number };
  last_error: { message: string; at: string } | null;
}

export interface ChatUser {
  id: string;
  name?: string;
  username?: string;
}

export interface Dialog {
  bot_id: string;
  platform: string;
  chat_id: string;
  status: string;
  current_step: string | null;
  collected_data: Record<string, unknown>;
  scenario_id: string | null;
  scenario_version: number | null;
  version: number;
  started_at: string;
  last_interaction_at: string;
  workflow_id: string;
  user: ChatUser | null;
}

export interface DialogListItem extends Dialog {
  message_count: number;
  duration_s: number;
}

/** A transcript row: a bot row's payload is the message sent, a user row's the input received. */
export type HistoryItem = {
  id: string;
  text: string | null;
  step: string | null;
  created_at: string;
} & (
  { message_type: 'bot'; payload: OutgoingMessage | null } | { message_type: 'user'; payload: UserInput | null } | { message_type: 'system'; payload: unknown }
);
