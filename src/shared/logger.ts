/** The slice of pino's logger Net-Pulse uses; Fastify's logger satisfies it, tests pass a silent one. */
export interface LogFn {
  (msg: string): void;
  (obj: object, msg?: string): void;
}

export interface Logger {
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
}

const noop: LogFn = () => undefined;
export const silentLogger: Logger = { error: noop, warn: noop, info: noop, debug: noop };
