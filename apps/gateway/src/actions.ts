/**
 * What an agent can do with a task. Each action is deterministic (the same
 * params give the same result on any node), and its params are checked when
 * the task is queued, so `ProcessNext` never fails on bad input.
 */
import { invalidParam } from './errors.js';

export interface ActionParamDoc {
  name: string;
  type: string;
  required: boolean;
  description: string;
}

export interface ActionDef {
  readonly description: string;
  readonly params: readonly ActionParamDoc[];
  /** Throws `-32602` (naming `params.<x>`) for bad params; returns the params to store. */
  validate(params: unknown): Record<string, unknown>;
  run(params: Record<string, unknown>): unknown | Promise<unknown>;
}

/** Longest `delay` accepted: a task cannot pin its agent for long. */
export const MAX_DELAY_MS = 30_000;
const MAX_TEXT = 64 * 1024;
const MAX_NUMBERS = 10_000;

function objectParams(params: unknown): Record<string, unknown> {
  if (params === undefined || params === null) return {};
  if (typeof params !== 'object' || Array.isArray(params)) throw invalidParam('params', 'must be an object');
  return params as Record<string, unknown>;
}

function onlyKeys(p: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(p)) if (!allowed.includes(k)) throw invalidParam(`params.${k}`, `is not a param of this action (expected: ${allowed.join(', ') || 'none'})`);
}

function text(p: Record<string, unknown>): Record<string, unknown> {
  onlyKeys(p, ['text']);
  if (typeof p['text'] !== 'string') throw invalidParam('params.text', 'must be a string');
  if (p['text'].length > MAX_TEXT) throw invalidParam('params.text', `must be at most ${MAX_TEXT} characters`);
  return { text: p['text'] };
}

export const ACTIONS: Readonly<Record<string, ActionDef>> = {
  echo: {
    description: 'Returns the text unchanged.',
    params: [{ name: 'text', type: 'string', required: true, description: 'any text' }],
    validate: (x) => text(objectParams(x)),
    run: (p) => p['text'],
  },
  upper: {
    description: 'Returns the text in upper case.',
    params: [{ name: 'text', type: 'string', required: true, description: 'any text' }],
    validate: (x) => text(objectParams(x)),
    run: (p) => (p['text'] as string).toUpperCase(),
  },
  reverse: {
    description: 'Returns the text reversed (by code point).',
    params: [{ name: 'text', type: 'string', required: true, description: 'any text' }],
    validate: (x) => text(objectParams(x)),
    run: (p) => [...(p['text'] as string)].reverse().join(''),
  },
  sum: {
    description: 'Returns the sum of the numbers.',
    params: [{ name: 'numbers', type: 'number[]', required: true, description: `finite numbers (at most ${MAX_NUMBERS})` }],
    validate: (x) => {
      const p = objectParams(x);
      onlyKeys(p, ['numbers']);
      const ns = p['numbers'];
      if (!Array.isArray(ns)) throw invalidParam('params.numbers', 'must be an array of numbers');
      if (ns.length > MAX_NUMBERS) throw invalidParam('params.numbers', `must have at most ${MAX_NUMBERS} numbers`);
      ns.forEach((n, i) => {
        if (typeof n !== 'number' || !Number.isFinite(n)) throw invalidParam(`params.numbers[${i}]`, 'must be a finite number');
      });
      return { numbers: ns as number[] };
    },
    run: (p) => (p['numbers'] as number[]).reduce((a, b) => a + b, 0),
  },
  delay: {
    description: `Waits ms milliseconds, then returns value (a slow task: shows timeouts and a busy agent).`,
    params: [
      { name: 'ms', type: 'integer', required: true, description: `0..${MAX_DELAY_MS}` },
      { name: 'value', type: 'any JSON', required: false, description: 'returned as the result (default null)' },
    ],
    validate: (x) => {
      const p = objectParams(x);
      onlyKeys(p, ['ms', 'value']);
      const ms = p['ms'];
      if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0 || ms > MAX_DELAY_MS) throw invalidParam('params.ms', `must be an integer from 0 to ${MAX_DELAY_MS}`);
      return { ms, value: p['value'] ?? null };
    },
    run: (p) => new Promise((resolve) => setTimeout(() => resolve(p['value']), p['ms'] as number)),
  },
};

export function actionNames(): string[] {
  return Object.keys(ACTIONS);
}
