import type { Readable } from 'node:stream';

/**
 * Calls `onLine` with each line `stream` produces, without its `\n`. A
 * chunk may end mid-line: the rest waits for the next chunk, and a last line
 * without a newline is delivered when the stream ends.
 */
export function onLines(stream: Readable, onLine: (line: string) => void): void {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      onLine(line);
    }
  });
  stream.on('end', () => {
    if (buf.length > 0) onLine(buf);
    buf = '';
  });
}
