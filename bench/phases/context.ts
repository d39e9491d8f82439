/** What every phase of a bench run reads and shares. */
import type { Send, Tracker } from '../messages';
import type { BenchStack } from '../stack';

/** The command line, as the phases read it. */
export interface BenchOptions {
  durationMs: number;
  concurrencies: number[];
  /** Open-loop rates: the target's 100 messages/s, and one this box sustains (ack latency without queueing). */
  rates: number[];
  idle: number;
  history: number;
  /** The dialog worker's workflow cache: the product's, or what `--tuning` sets. */
  workerCache: number;
  phases: Set<string>;
}

export interface BenchRun {
  options: BenchOptions;
  stack: BenchStack;
  tracker: Tracker;
  /** One message through the product, its chat noted in `dialogs`. */
  product: Send;
  /** One message through the floor, its chat noted in `floorChats`. */
  floor: Send;
  /** The same, noting nothing: for chats a phase keeps to itself. */
  send: { product: Send; floor: Send };
  /** Chats with a dialog, in the order they were started: later phases reuse and count them. */
  dialogs: Set<number>;
  floorChats: Set<number>;
  /**
   * Dialogs the workers phase started: they exist (the idle phase counts them) but are no steady
   * chats for the open loops, as the second worker that ran half of them is gone.
   */
  workersDialogs: Set<number>;
  /** Starts the next timed part of the run: printed, and its seconds reported. */
  step(what: string): void;
  results: Record<string, unknown>;
}

/** Processes each side runs on; `bench` is this process (load, and the fake Telegram for the product). */
export const FLOOR_PROCESSES = ['temporal', 'floor', 'bench'];
export const PRODUCT_PROCESSES = ['temporal', 'worker', 'api', 'bench'];

/**
 * Dialogs started at once where the bench only needs them to exist (the idle phase, the open loop's
 * missing chats). Enough to keep both cores busy; at 200 the Temporal server spent more CPU per new
 * dialog (a longer backlog) and the idle phase made 35–38 dialogs/s against 39–41.
 */
export const STARTS_PARALLEL = 100;
