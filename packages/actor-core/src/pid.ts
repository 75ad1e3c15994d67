import { inspect } from 'node:util';
import type { Proc } from './internal/process.js';

/**
 * A process identifier: which node, which process on it, which incarnation of
 * that node. Immutable and comparable by value (`equals`, `key`); a pid from an
 * earlier `creation` of a node never reaches a process of a later one.
 */
export class Pid {
  /** @internal Cached local process; cleared when it exits. Never serialized. */
  p: Proc | null = null;
  #key: string | undefined;

  constructor(
    readonly node: string,
    readonly id: number,
    readonly creation: number,
  ) {}

  /** A string unique to this pid, usable as a Map key. */
  get key(): string {
    return (this.#key ??= `${this.node}.${this.id}.${this.creation}`);
  }

  equals(other: unknown): boolean {
    return (
      other instanceof Pid &&
      other.id === this.id &&
      other.node === this.node &&
      other.creation === this.creation
    );
  }

  toString(): string {
    return `<${this.node}.${this.id}.${this.creation}>`;
  }

  toJSON(): string {
    return this.toString();
  }

  /** `console.log(pid)` shows `<a@host.12.3>`, not the cached process behind it. */
  [inspect.custom](): string {
    return this.toString();
  }
}

/** A unique reference (monitors, timers, calls). Comparable by value. */
export class Ref {
  #key: string | undefined;
  constructor(
    readonly node: string,
    readonly id: number,
    readonly creation: number,
  ) {}

  get key(): string {
    return (this.#key ??= `${this.node}#${this.id}.${this.creation}`);
  }

  equals(other: unknown): boolean {
    return (
      other instanceof Ref &&
      other.id === this.id &&
      other.node === this.node &&
      other.creation === this.creation
    );
  }

  toString(): string {
    return `#Ref<${this.node}.${this.id}.${this.creation}>`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

export function isPid(x: unknown): x is Pid {
  return x instanceof Pid;
}

export function isRef(x: unknown): x is Ref {
  return x instanceof Ref;
}
