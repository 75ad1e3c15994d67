/** The gateway's version, shown in the agent card (kept in step with package.json). */
export const GATEWAY_VERSION = '0.1.0';
