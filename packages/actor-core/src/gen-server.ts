// GenServer: OTP's gen_server on a behaviour-style process. The callbacks'
// types live in gen-server/types.ts, the loop in gen-server/server.ts, the
// start/call/cast/stop API in gen-server/api.ts.
import { GenServer as api } from './gen-server/api.js';
import type { GenServer as Callbacks } from './gen-server/types.js';

/** The API: `GenServer.start / startLink / startMonitor / call / cast / reply / stop / getState / ref`, and `sendRequest / waitResponse / receiveResponse / reqIds*`. */
export const GenServer = api;
/** The callbacks a server implements (same name as the API, as in OTP's `-behaviour(gen_server)`). */
export type GenServer<S, Call = unknown, Cast = unknown, Reply = unknown, Info = unknown, Args = undefined, Cont = unknown> = Callbacks<
  S,
  Call,
  Cast,
  Reply,
  Info,
  Args,
  Cont
>;

