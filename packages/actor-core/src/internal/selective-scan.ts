/**
 * The scan of a selective receive over a long mailbox, specialised per filter.
 *
 * V8 inlines a function called through a variable only while that call site
 * has seen a single callee (or closures from a single place in the source).
 * One shared scan loop sees every filter of the program, its call goes
 * generic, and each item then costs a full call: 100 receives past a
 * 100,000-message backlog took ~4× longer than with the filter inlined.
 * So a long scan runs in a copy of the loop kept for that filter's source
 * text: a copy's call site sees one filter (fresh closures of one arrow
 * function share its feedback) and V8 inlines it. The copies are made from
 * the fixed loop below (`new Function` never sees user code), at most
 * `MAX_SCANNERS` of them, and only for long scans, where reading the
 * filter's source costs nothing next to the scan.
 */

interface SegmentView {
  start: number;
  end: number;
  next: SegmentView | null;
  readonly buf: unknown[];
}

export type Scanner = (head: SegmentView, match: (m: unknown) => boolean, from: number) => number;

/** A scan this long (items) uses a specialised copy. */
const SPECIALISE_AT = 4096;
const MAX_SCANNERS = 64;

// The loop of `Queue.findIndex`: the position of the first item at or after
// `from` that `match` accepts, or -1; a filter that throws is no match for that item.
const LOOP = `
let base = 0;
for (let s = head; s !== null; s = s.next) {
  const n = s.end - s.start;
  if (from < base + n) {
    const buf = s.buf;
    for (let r = s.start + Math.max(0, from - base); r < s.end; r++) {
      let hit = false;
      try {
        hit = match(buf[r]);
      } catch {
        // no match
      }
      if (hit) return base + r - s.start;
    }
  }
  base += n;
}
return -1;`;

const scanners = new Map<string, Scanner>();
/** The copy short scans share (reading a filter's source would cost more than they do). */
const shared = new Function('head', 'match', 'from', LOOP) as Scanner;

/** The scanner for a scan of `items` items with `match`. */
export function scannerFor(match: (m: unknown) => boolean, items: number): Scanner {
  if (items < SPECIALISE_AT) return shared;
  const key = Function.prototype.toString.call(match);
  let s = scanners.get(key);
  if (s === undefined) {
    if (scanners.size >= MAX_SCANNERS) scanners.clear();
    s = new Function('head', 'match', 'from', LOOP) as Scanner;
    scanners.set(key, s);
  }
  return s;
}
