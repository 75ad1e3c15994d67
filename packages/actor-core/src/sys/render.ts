import { types } from 'node:util';
import { Pid, Ref } from '../pid.js';

/** Bounds of `renderValue`. Every bound holds whatever the value is (cycles, huge arrays, deep nesting). */
export interface RenderLimits {
  /** Nesting levels shown; deeper values become `…`. Default 6. */
  depth?: number;
  /** Entries shown per object, array, Map or Set. Default 50. */
  entries?: number;
  /** Characters kept of each string. Default 200. */
  string?: number;
  /** Characters of the whole rendering; it is cut there with `…`. Default 4000. */
  total?: number;
}

const DEFAULTS: Required<RenderLimits> = { depth: 6, entries: 50, string: 200, total: 4000 };

/**
 * A bounded, side-effect-free text rendering of any value, for showing a
 * process's state or messages to a person. It never calls user code: no
 * getters (accessors show as `[Getter]`), no `toString`/`toJSON` of user
 * classes, no Proxy traps (a Proxy shows as `[Proxy]`). Work is bounded by
 * the limits, not by the value's size.
 */
export function renderValue(value: unknown, limits?: RenderLimits): string {
  const l = { ...DEFAULTS, ...limits };
  const out: string[] = [];
  let len = 0;
  let full = false;
  const seen = new Set<object>();
  const put = (s: string): void => {
    if (full) return;
    if (len + s.length > l.total) {
      out.push(s.slice(0, Math.max(0, l.total - len)), '…');
      full = true;
      return;
    }
    out.push(s);
    len += s.length;
  };
  const str = (s: string): string => JSON.stringify(s.length > l.string ? s.slice(0, l.string) + '…' : s);

  const walk = (v: unknown, depth: number): void => {
    if (full) return;
    switch (typeof v) {
      case 'string':
        return put(str(v));
      case 'number':
      case 'boolean':
        return put(String(v));
      case 'bigint':
        return put(`${v}n`);
      case 'undefined':
        return put('undefined');
      case 'symbol':
        return put(`Symbol(${str(v.description ?? '').slice(1, -1)})`);
      case 'function':
        return put(`[Function ${(v as { name?: unknown }).name || 'anonymous'}]`);
    }
    if (v === null) return put('null');
    const o = v as object;
    if (types.isProxy(o)) return put('[Proxy]');
    if (o instanceof Pid || o instanceof Ref) return put(o.toString());
    if (o instanceof Date) return put(Number.isNaN(o.getTime()) ? 'Invalid Date' : o.toISOString());
    if (o instanceof Error) return put(`[${str(o.name).slice(1, -1)}: ${str(o.message).slice(1, -1)}]`);
    if (o instanceof RegExp) return put(str(o.source).slice(1, -1).replace(/^/, '/') + '/' + o.flags);
    if (types.isPromise(o)) return put('[Promise]');
    if (ArrayBuffer.isView(o)) return put(`[${o.constructor.name} ${o.byteLength} bytes]`);
    if (o instanceof ArrayBuffer) return put(`[ArrayBuffer ${o.byteLength} bytes]`);
    if (seen.has(o)) return put('[Circular]');
    if (depth >= l.depth) return put(Array.isArray(o) ? '[…]' : '{…}');
    seen.add(o);
    try {
      if (Array.isArray(o)) {
        put('[');
        const n = Math.min(o.length, l.entries);
        for (let i = 0; i < n && !full; i++) {
          if (i > 0) put(', ');
          const d = Object.getOwnPropertyDescriptor(o, i);
          if (d === undefined) put('<empty>');
          else if ('value' in d) walk(d.value, depth + 1);
          else put('[Getter]');
        }
        if (o.length > n) put(`, … ${o.length - n} more`);
        return put(']');
      }
      if (o instanceof Map) {
        put(`Map(${o.size}) {`);
        let i = 0;
        for (const [k, val] of o) {
          if (i >= l.entries || full) break;
          put(i++ > 0 ? ', ' : ' ');
          walk(k, depth + 1);
          put(' => ');
          walk(val, depth + 1);
        }
        if (o.size > i) put(`, … ${o.size - i} more`);
        return put(' }');
      }
      if (o instanceof Set) {
        put(`Set(${o.size}) {`);
        let i = 0;
        for (const val of o) {
          if (i >= l.entries || full) break;
          put(i++ > 0 ? ', ' : ' ');
          walk(val, depth + 1);
        }
        if (o.size > i) put(`, … ${o.size - i} more`);
        return put(' }');
      }
      const proto = Object.getPrototypeOf(o) as { constructor?: { name?: unknown } } | null;
      const cname = proto === null ? '' : Object.getOwnPropertyDescriptor(proto, 'constructor')?.value?.name;
      if (typeof cname === 'string' && cname !== 'Object' && cname !== '') put(`${cname} `);
      put('{');
      const keys = Object.keys(o);
      const n = Math.min(keys.length, l.entries);
      for (let i = 0; i < n && !full; i++) {
        put(i > 0 ? ', ' : ' ');
        const k = keys[i]!;
        put(/^[A-Za-z_$][\w$]*$/.test(k) ? k : str(k));
        put(': ');
        const d = Object.getOwnPropertyDescriptor(o, k);
        if (d === undefined) put('undefined');
        else if ('value' in d) walk(d.value, depth + 1);
        else put('[Getter]');
      }
      if (keys.length > n) put(`, … ${keys.length - n} more`);
      return put(keys.length > 0 ? ' }' : '}');
    } finally {
      seen.delete(o);
    }
  };
  walk(value, 0);
  return out.join('');
}
