/**
 * Node names are `name@host`, like Erlang's: `name` of letters, digits, `_`,
 * `.`, `-`; `host` a hostname of the same characters or a bracketed IPv6
 * literal (`a@[::1]`: unbracketed colons would be ambiguous with a port).
 * At most 255 characters. The set is narrow on purpose: names appear in log
 * lines, close reasons and HMAC input, and a name with spaces or control
 * characters is always a mistake. The one rule for nodes, transports and the CLI.
 */
const NODE_NAME = /^[A-Za-z0-9_.-]+@(?:[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\])$/;

export const MAX_NODE_NAME_LENGTH = 255;

export function isValidNodeName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= MAX_NODE_NAME_LENGTH && NODE_NAME.test(name);
}
