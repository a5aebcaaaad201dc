import {normalizePubkey} from "../hex.js";
import {isRequestType, type RequestType} from "../signing/requestTypeNames.js";

/**
 * Fault injection: a signer that misbehaves on purpose (slow, failing, dropping, hanging), so the
 * people testing a validator client can see what it does then. A SPEC is a `;`-separated list of
 * rules, each a `,`-separated list of `name=value`:
 *
 *   delay=50ms..400ms,types=ATTESTATION;error=0.05:503;drop=0.01,keys=0.25
 *
 * Faults are decided on the HTTP thread before a request reaches the pool, so a fault costs no
 * signing work, and with no rules the sign route pays one branch.
 */
export type FaultKind = "delay" | "error" | "drop" | "timeout";

export type FaultRule = {
  /** Uniform from min to max (equal for a fixed delay), added before the request is handled. */
  delayMs?: {min: number; max: number};
  error?: {rate: number; status: number};
  drop?: number;
  timeout?: number;
  /** Scope: only these request types (all when absent). */
  types?: RequestType[];
  /** Scope: only these keys (lower-case 0x hex), or a stable fraction of all keys. */
  keys?: string[] | number;
};

/** What happens to one request: a delay first, then the request is handled or replaced by a fault. */
export type FaultPlan = {delayMs: number; outcome: "pass" | "drop" | "timeout" | {status: number}};

export class FaultSpecError extends Error {}

/** Bounds on what a SPEC can make the signer hold: a request's total delay (every matching rule's, summed), the rules, the text. */
export const MAX_DELAY_MS = 600_000;
export const MAX_RULES = 64;
export const MAX_SPEC_CHARS = 4096;
const actionNames = ["delay", "error", "drop", "timeout"] as const;

/** SPEC → rules; throws a FaultSpecError naming the rule and the part that is wrong. */
export function parseFaultSpec(spec: string): FaultRule[] {
  if (spec.length > MAX_SPEC_CHARS) throw new FaultSpecError(`the SPEC is ${spec.length} characters, over the ${MAX_SPEC_CHARS} limit`);
  const rules: FaultRule[] = [];
  const texts = spec.split(";").map((t) => t.trim());
  // Every matching rule adds its delay, so the bound is on the sum: else 5,000 rules of 600 s
  // would overflow Node's timer (over 2^31 ms it fires at once) and 3,000 would hold a request 20 days.
  let longestDelayMs = 0;
  texts.forEach((text, i) => {
    if (!text) {
      if (texts.length > 1 && i < texts.length - 1) throw new FaultSpecError(`rule ${i + 1} is empty`);
      return;
    }
    if (rules.length === MAX_RULES) throw new FaultSpecError(`rule ${i + 1}: over the ${MAX_RULES}-rule limit`);
    try {
      const rule = parseRule(text);
      longestDelayMs += rule.delayMs?.max ?? 0;
      if (longestDelayMs > MAX_DELAY_MS) {
        throw new Error(
          `the delays up to this rule add up to ${longestDelayMs / 1000} s, over the ${MAX_DELAY_MS / 1000} s limit for a request`
        );
      }
      rules.push(rule);
    } catch (e) {
      throw new FaultSpecError(`rule ${i + 1} ("${text.slice(0, 200)}"): ${(e as Error).message}`);
    }
  });
  return rules;
}

function parseRule(text: string): FaultRule {
  // `types=A,B` and `keys=K1,K2` carry commas of their own: a part without `=` continues the value before it.
  const parts: [string, string][] = [];
  for (const piece of text.split(",").map((p) => p.trim())) {
    const eq = piece.indexOf("=");
    if (eq >= 0) parts.push([piece.slice(0, eq).trim(), piece.slice(eq + 1).trim()]);
    else if (parts.length && piece) parts[parts.length - 1][1] += "," + piece;
    else throw new Error(`"${piece}": expected name=value`);
  }
  const rule: FaultRule = {};
  const seen = new Set<string>();
  for (const [name, value] of parts) {
    if (seen.has(name)) throw new Error(`${name} is given twice`);
    seen.add(name);
    switch (name) {
      case "delay":
        rule.delayMs = parseDelay(value);
        break;
      case "error": {
        const [rate, status = "503", extra] = value.split(":");
        const code = Number(status);
        if (extra !== undefined || !/^\d{3}$/.test(status) || code < 400 || code > 599) {
          throw new Error(`error: expected RATE:STATUS with a status from 400 to 599 (e.g. error=0.05:503), got "${value}"`);
        }
        rule.error = {rate: parseRate("error", rate), status: code};
        break;
      }
      case "drop":
      case "timeout":
        rule[name] = parseRate(name, value);
        break;
      case "types": {
        const types = value.split(",").map((t) => t.trim().toUpperCase());
        const unknown = types.find((t) => !isRequestType(t));
        if (unknown !== undefined) throw new Error(`types: "${unknown}" is not a request type`);
        rule.types = types as RequestType[];
        break;
      }
      case "keys":
        rule.keys = parseKeys(value);
        break;
      default:
        throw new Error(`unknown name "${name}" (expected delay, error, drop, timeout, types or keys)`);
    }
  }
  if (!actionNames.some((a) => seen.has(a))) throw new Error("no fault in it (delay, error, drop or timeout)");
  const rates = (rule.error?.rate ?? 0) + (rule.drop ?? 0) + (rule.timeout ?? 0);
  if (rates > 1) throw new Error(`error, drop and timeout rates add up to ${rates}, over 1`);
  return rule;
}

function parseRate(name: string, value: string): number {
  const rate = Number(value);
  if (!/^(0|1|0?\.\d+|1\.0*)$/.test(value) || !(rate >= 0 && rate <= 1))
    throw new Error(`${name}: expected a rate from 0 to 1, got "${value}"`);
  return rate;
}

function parseDuration(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(value.trim());
  if (!m) throw new Error(`delay: expected a duration such as 200ms or 1.5s, got "${value}"`);
  const ms = Number(m[1]) * (m[2] === "s" ? 1000 : 1);
  if (ms > MAX_DELAY_MS) throw new Error(`delay: ${value} is over the ${MAX_DELAY_MS / 1000} s limit`);
  return ms;
}

function parseDelay(value: string): {min: number; max: number} {
  const [a, b, extra] = value.split("..");
  if (extra !== undefined) throw new Error(`delay: expected MIN..MAX or one duration, got "${value}"`);
  const min = parseDuration(a);
  const max = b === undefined ? min : parseDuration(b);
  if (max < min) throw new Error(`delay: ${a} is more than ${b}`);
  return {min, max};
}

function parseKeys(value: string): string[] | number {
  if (/^[\d.]+$/.test(value)) {
    const fraction = parseRate("keys", value);
    if (fraction === 0) throw new Error("keys: a fraction of 0 matches no key");
    return fraction;
  }
  return value.split(",").map((k) => {
    const key = normalizePubkey(k.trim());
    if (!key) throw new Error(`keys: "${k.slice(0, 120)}" is neither a fraction nor a 0x-prefixed 48-byte public key`);
    return key;
  });
}

/**
 * Whether a key is in the stable `fraction` of all keys: its last 4 bytes read as a number. A
 * compressed BLS public key is the x coordinate, whose low bytes are uniform (its high bytes are
 * not: they carry flags and x < p), so about `fraction` of any key set falls in, the same ones
 * every time.
 */
export function inKeyFraction(pubkeyHex: string, fraction: number): boolean {
  const low = Number.parseInt(pubkeyHex.slice(-8), 16);
  return Number.isFinite(low) && low / 2 ** 32 < fraction;
}

/** A rule in the JSON the runtime API answers with (durations in ms). */
export function describeRule(rule: FaultRule): Record<string, unknown> {
  return {
    ...(rule.delayMs && {delay_ms: rule.delayMs}),
    ...(rule.error && {error: rule.error}),
    ...(rule.drop !== undefined && {drop: rule.drop}),
    ...(rule.timeout !== undefined && {timeout: rule.timeout}),
    ...(rule.types && {types: rule.types}),
    ...(rule.keys !== undefined && (typeof rule.keys === "number" ? {keys_fraction: rule.keys} : {keys: rule.keys})),
  };
}

/** Decides one request's faults: every matching rule adds its delay; the first rule whose draw fires decides the outcome. */
export function planFaults(rules: FaultRule[], type: string, pubkeyHex: string, random: () => number = Math.random): FaultPlan {
  let delayMs = 0;
  let outcome: FaultPlan["outcome"] = "pass";
  for (const rule of rules) {
    if (rule.types && !rule.types.includes(type as RequestType)) continue;
    if (rule.keys !== undefined && !(typeof rule.keys === "number" ? inKeyFraction(pubkeyHex, rule.keys) : rule.keys.includes(pubkeyHex)))
      continue;
    if (rule.delayMs) delayMs += rule.delayMs.min + random() * (rule.delayMs.max - rule.delayMs.min);
    if (outcome !== "pass") continue;
    // One draw per rule, so each rate is exact: [0, drop) drops, then timeout, then error.
    const u = random();
    const drop = rule.drop ?? 0;
    const timeout = drop + (rule.timeout ?? 0);
    if (u < drop) outcome = "drop";
    else if (u < timeout) outcome = "timeout";
    else if (rule.error && u < timeout + rule.error.rate) outcome = {status: rule.error.status};
  }
  return {delayMs, outcome};
}

/** A request a fault is holding: released when its time comes, or cancelled when its client goes away. */
export type HeldRequest = {timer: NodeJS.Timeout; release: () => void};

/**
 * The signer's current faults and the requests they are holding (delayed or hung), so a shutdown
 * or clearing the faults can release them at once instead of waiting, and a client that goes away
 * takes its request (and its body) out at once.
 */
export class Faults {
  private current: {spec: string; rules: FaultRule[]} = {spec: "", rules: []};
  private readonly held = new Set<HeldRequest>();
  private closed = false;

  /** `random`: the source of every draw (tests pass a seeded one). */
  constructor(private readonly random: () => number = Math.random) {}

  /** Any rule at all: the one branch the sign route pays when faults are off. */
  get on(): boolean {
    return this.current.rules.length > 0;
  }

  get spec(): string {
    return this.current.spec;
  }

  get rules(): FaultRule[] {
    return this.current.rules;
  }

  /** Requests held now (for tests and diagnostics). */
  get holding(): number {
    return this.held.size;
  }

  /**
   * Replaces every rule; `""` clears, and releases what the old rules hold (delays end now, hung
   * requests are dropped). Throws a FaultSpecError and changes nothing on a bad SPEC.
   */
  set(spec: string): void {
    this.current = {spec: spec.trim(), rules: parseFaultSpec(spec)};
    if (!this.on) this.releaseAll();
  }

  plan(type: string, pubkeyHex: string): FaultPlan {
    return this.closed ? {delayMs: 0, outcome: "pass"} : planFaults(this.current.rules, type, pubkeyHex, this.random);
  }

  /** Runs `release` after `ms`, or at once when the signer closes or the faults are cleared. */
  hold(ms: number, release: () => void): HeldRequest | undefined {
    if (this.closed) {
      release();
      return undefined;
    }
    const entry: HeldRequest = {
      timer: setTimeout(() => {
        this.held.delete(entry);
        release();
      }, ms),
      release,
    };
    this.held.add(entry);
    return entry;
  }

  /** The client went away: forget the request without running it, so nothing of it stays. */
  cancel(entry: HeldRequest | undefined): void {
    if (!entry || !this.held.delete(entry)) return;
    clearTimeout(entry.timer);
  }

  /** Shutdown: releases every held request now; no fault applies after this. */
  close(): void {
    this.closed = true;
    this.releaseAll();
  }

  private releaseAll(): void {
    const entries = [...this.held];
    this.held.clear();
    for (const entry of entries) {
      clearTimeout(entry.timer);
      entry.release();
    }
  }
}
