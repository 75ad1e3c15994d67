/**
 * What an agent can do with a task. A task's action is free-form: any name
 * is queued. The built-in actions are deterministic (the same params give
 * the same result on any node) and check their params when the task is
 * queued, so `ProcessNext` never fails on bad input; applications add their
 * own with `registerAction` (on every node: an agent runs where it is
 * placed); any other action goes to the default handler (`DEFAULT_ACTION`).
 */
import type { Node } from '@troupe/actor-core';
import { GatewayError, invalidParam } from './errors.js';

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

/** Action names: what is safe in logs and events. */
export const ACTION_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * The handler of an action nobody registered: it queues params that are a
 * JSON object (or absent) as they are, and processing returns
 * `{ action, params, handled: 'default' }`, so a client can tell no
 * application code ran.
 */
export const DEFAULT_ACTION: Omit<ActionDef, 'run'> = {
  description: "Any other action: params (an object) are kept as sent; processing returns { action, params, handled: 'default' }.",
  params: [],
  validate: (x) => objectParams(x),
};

/** Application actions, per node (an agent runs its action on the node it lives on). */
const registered = new WeakMap<Node, Map<string, ActionDef>>();

/**
 * Makes `name` an action of `node`'s agents (register it on every node).
 * `validate` (default: params must be an object; what it throws is -32602
 * on `params`) runs when a task is queued through this node's gateway;
 * `run` when the agent processes it.
 * A built-in name cannot be replaced; registering a name again replaces it.
 */
export function registerAction(node: Node, name: string, def: { description?: string; params?: readonly ActionParamDoc[]; validate?: ActionDef['validate']; run: ActionDef['run'] }): void {
  if (typeof name !== 'string' || !ACTION_NAME.test(name)) throw new TypeError(`registerAction: the name must match ${ACTION_NAME.source}, got ${JSON.stringify(name)}`);
  if (Object.prototype.hasOwnProperty.call(ACTIONS, name)) throw new TypeError(`registerAction: '${name}' is a built-in action`);
  if (typeof def?.run !== 'function') throw new TypeError(`registerAction: '${name}' needs a run(params) function`);
  let m = registered.get(node);
  if (m === undefined) registered.set(node, (m = new Map()));
  const check = def.validate;
  // An application's validator throws what it likes: the client gets -32602 on `params` with its message.
  const validate = check === undefined
    ? (x: unknown) => objectParams(x)
    : (x: unknown) => {
        try {
          return check(x);
        } catch (e) {
          if (e instanceof GatewayError) throw e;
          throw invalidParam('params', e instanceof Error ? e.message : String(e));
        }
      };
  m.set(name, { description: def.description ?? '', params: def.params ?? [], validate, run: def.run });
}

/** Removes an application action; false if it was not registered. */
export function unregisterAction(node: Node, name: string): boolean {
  return registered.get(node)?.delete(name) ?? false;
}

/** The handler of `name` on `node`: built-in, else registered, else null (the default handler applies). */
export function actionFor(node: Node, name: string): ActionDef | null {
  if (Object.prototype.hasOwnProperty.call(ACTIONS, name)) return ACTIONS[name]!;
  return registered.get(node)?.get(name) ?? null;
}

/** Runs a queued task's action: its handler, or the default one. */
export async function runAction(node: Node, name: string, params: Record<string, unknown>): Promise<unknown> {
  const def = actionFor(node, name);
  if (def !== null) return def.run(params);
  return { action: name, params, handled: 'default' };
}

export function actionNames(): string[] {
  return Object.keys(ACTIONS);
}
