/**
 * Node names are `name@host`, like Erlang's; the host may be a DNS name, an
 * IPv4 address or an IPv6 address in brackets (`a@[::1]`). The character set
 * is narrow on purpose: names appear in log lines, close reasons and HMAC
 * input, and a name with spaces or control characters is always a mistake.
 */
const NODE_NAME = /^[A-Za-z0-9_.-]+@[A-Za-z0-9_.\-:[\]]+$/;
export const MAX_NODE_NAME_LENGTH = 255;

export function isValidNodeName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= MAX_NODE_NAME_LENGTH && NODE_NAME.test(name);
}
