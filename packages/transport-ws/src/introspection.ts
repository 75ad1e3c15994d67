import type { MeshView, MetricFamily } from '@troupe/actor-core';
import type { WsTransport } from './ws-transport.js';

/** Per-peer traffic of a transport as Prometheus families (labels: `peer`; counters restart when a connection does). */
export function transportMetrics(t: WsTransport): MetricFamily[] {
  const peers = t.nodes('connected').flatMap((n) => {
    const s = t.peer(n);
    return s === undefined ? [] : [s];
  });
  const fam = (name: string, help: string, type: 'gauge' | 'counter', pick: (s: (typeof peers)[number]) => number): MetricFamily => ({
    name,
    help,
    type,
    samples: peers.map((s) => ({ labels: { peer: s.name }, value: pick(s) })),
  });
  return [
    fam('troupe_peer_bytes_sent_total', 'Bytes of frames sent to each connected peer over its current connection.', 'counter', (s) => s.bytesSent),
    fam('troupe_peer_bytes_received_total', 'Bytes of frames received from each connected peer over its current connection.', 'counter', (s) => s.bytesReceived),
    fam('troupe_peer_frames_sent_total', 'WebSocket frames (batches of signals, ticks) sent to each connected peer.', 'counter', (s) => s.framesSent),
    fam('troupe_peer_frames_received_total', 'WebSocket frames received from each connected peer.', 'counter', (s) => s.framesReceived),
    fam('troupe_peer_buffered_bytes', 'Bytes queued in the socket to each peer, not yet sent.', 'gauge', (s) => s.bufferedBytes),
  ];
}

/** This node's mesh address and its connections with their addresses, for `exposeIntrospection`'s `mesh`. */
export function meshView(t: WsTransport): MeshView {
  return {
    url: t.url,
    peers: t.nodes('connected').flatMap((n) => {
      const p = t.peer(n);
      return p === undefined ? [] : [{ name: p.name, url: p.url, hidden: p.hidden }];
    }),
  };
}
