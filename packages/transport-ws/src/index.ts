export {
  WsTransport,
  type WsTransportEvents,
  type NodeUpEvent,
  type NodeDownEvent,
  type PeerStatus,
  type TransportHealth,
} from './ws-transport.js';
export type { WsTransportOptions, TlsOptions, ReconnectOptions } from './options.js';
export type { FrameAuth } from './frame-auth/mode.js';
export type { BackoffOptions } from './backoff.js';
export type { RateLimitOptions } from './rate-limiter.js';
export type { DownReason } from './peer-connection.js';
export type { WireCodec } from './codec.js';
export { resolveCookie, defaultCookieFile, type CookieSource } from './cookie.js';
export { assertNodeName } from './node-name.js';
export { CloseReason, FrameType, type CloseReasonName } from './frame-types.js';
export { PROTOCOL_MIN_VERSION, PROTOCOL_MAX_VERSION } from './handshake/types.js';
export {
  InvalidNodeNameError,
  InvalidUrlError,
  HandshakeError,
  ConnectError,
  NotConnectedError,
  TransportClosedError,
  CookieError,
  ListenError,
} from './errors.js';
export { Discovery, startDiscovery, type DiscoveryHost, type DiscoveryOptions, type DiscoveryEvents } from './discovery/discovery.js';
export { type DiscoveryStrategy, type DiscoverySelf, nodeUrl } from './discovery/strategy.js';
export { LocalNodes, defaultNodesDir, type LocalNodesOptions } from './discovery/local-nodes.js';
export { UdpGossip, MAX_GOSSIP_PEERS, type UdpGossipOptions } from './discovery/udp-gossip.js';
export { StaticSeeds, type StaticSeedsOptions } from './discovery/static-seeds.js';
export { DnsPoll, type DnsPollOptions, type DnsAnswer } from './discovery/dns-poll.js';
export { transportMetrics, meshView } from './introspection.js';
