/**
 * A small structured logger: JSON lines, or `time level message key=value` on a TTY.
 * Callers pass fields, never secrets; nothing here can tell a key from any other string.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "json" | "pretty";
export type Logger = Record<LogLevel, (msg: string, fields?: Record<string, unknown>) => void>;

const levels: Record<LogLevel, number> = {debug: 10, info: 20, warn: 30, error: 40};

export function isLogLevel(s: string): s is LogLevel {
  return Object.hasOwn(levels, s);
}

export function createLogger(opts: {level?: LogLevel; format?: LogFormat; write?: (line: string) => void} = {}): Logger {
  const min = levels[opts.level ?? "info"];
  const format = opts.format ?? (process.stdout.isTTY ? "pretty" : "json");
  const write = opts.write ?? ((line: string) => process.stdout.write(line + "\n"));
  const log = (level: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
    if (levels[level] < min) return;
    const time = new Date().toISOString();
    if (format === "json") {
      write(JSON.stringify({time, level, msg, ...fields}, (_, v) => (typeof v === "bigint" ? v.toString() : v)));
    } else {
      const extra = fields
        ? Object.entries(fields)
            .map(([k, v]) => ` ${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
            .join("")
        : "";
      write(`${time} ${level.toUpperCase().padEnd(5)} ${msg}${extra}`);
    }
  };
  return {debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error")};
}
