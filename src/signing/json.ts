import {
  BitListType,
  BitVectorType,
  ByteVectorType,
  ContainerType,
  ListBasicType,
  ListCompositeType,
  type Type,
  UintBigintType,
  VectorCompositeType,
} from "@chainsafe/ssz";
import {hexToBytes} from "../hex.js";
import {duplicateKeyMessage} from "./duplicateKeys.js";
import {badRequest, FieldError} from "./errors.js";

export const MAX_UINT64 = 2n ** 64n - 1n;

// An integer literal of 16+ digits may exceed 2^53 and would be rounded by JSON.parse. Such
// literals are quoted before parsing so they reach the uint64 parser as exact decimal strings.
// The quick test keeps the full scan (which must skip string contents) off the common path.
const maybeBigLiteral = /[:,[]\s*-?\d{16}/;
const stringOrBigLiteral = /"(?:[^"\\]|\\.)*"|(?<![\d.eE+-])-?\d{16,}(?![\d.eE])/g;

/** JSON.parse that keeps integer literals beyond 2^53 exact (as decimal strings) and refuses duplicate keys. */
export function parseJsonExact(text: string): unknown {
  if (maybeBigLiteral.test(text)) {
    text = text.replace(stringOrBigLiteral, (m) => (m.charCodeAt(0) === 34 /* " */ ? m : `"${m}"`));
  }
  const value = parseJson(text);
  const duplicate = duplicateKeyMessage(text, value);
  if (duplicate) throw badRequest(duplicate);
  return value;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`malformed JSON: ${(e as Error).message}`);
  }
}

const decimal = /^\d{1,20}$/;

export function parseUint64(json: unknown): bigint {
  if (typeof json === "string") {
    if (!decimal.test(json)) throw new FieldError("", `expected a uint64 as a decimal string, got "${clip(json)}"`);
    const n = BigInt(json);
    if (n > MAX_UINT64) throw new FieldError("", `${json} is out of the uint64 range`);
    return n;
  }
  if (typeof json === "number") {
    if (!Number.isInteger(json) || json < 0) throw new FieldError("", `expected a non-negative integer, got ${json}`);
    if (!Number.isSafeInteger(json)) throw new FieldError("", `${json} is not exact as a JSON number; send it as a decimal string`);
    return BigInt(json);
  }
  throw new FieldError("", `expected a uint64 (decimal string), got ${describe(json)}`);
}

export function parseHex(json: unknown, length: number): Uint8Array {
  if (typeof json !== "string") throw new FieldError("", `expected 0x-prefixed hex, got ${describe(json)}`);
  const bytes = hexToBytes(json, length);
  if (!bytes) {
    throw new FieldError("", `expected 0x-prefixed hex of ${length} bytes, got "${clip(json)}"`);
  }
  return bytes;
}

type FromJson = (json: unknown) => unknown;
const compiled = new WeakMap<Type<unknown>, FromJson>();

/**
 * A strict JSON → SSZ value converter for `type`, compiled once per type: exact uint64s, hex of the
 * exact length, list limits, bitlist/bitvector padding, and errors that name the failing field.
 * Unknown keys are ignored (Web3Signer ignores them too); camelCase spellings of keys are accepted.
 */
export function fromJson<T>(type: Type<T>, json: unknown): T {
  return converterFor(type)(json) as T;
}

function converterFor(type: Type<unknown>): FromJson {
  let fn = compiled.get(type);
  if (!fn) {
    fn = compile(type);
    compiled.set(type, fn);
  }
  return fn;
}

function compile(type: Type<unknown>): FromJson {
  if (type instanceof UintBigintType) return parseUint64;
  if (type instanceof ByteVectorType) {
    const length = type.lengthBytes;
    return (json) => parseHex(json, length);
  }
  if (type instanceof BitVectorType || type instanceof BitListType) {
    const kind = type instanceof BitListType ? `bitlist (limit ${type.limitBits} bits)` : `bitvector of ${type.lengthBits} bits`;
    return (json) => {
      if (typeof json !== "string" || !/^0x(?:[0-9a-fA-F]{2})*$/.test(json)) {
        throw new FieldError("", `expected a ${kind} as 0x-prefixed hex, got ${describe(json)}`);
      }
      try {
        return type.deserialize(Buffer.from(json.slice(2), "hex"));
      } catch {
        throw new FieldError("", `not a valid ${kind}: "${clip(json)}"`);
      }
    };
  }
  if (type instanceof ContainerType) {
    const fields = Object.entries(type.fields as Record<string, Type<unknown>>).map(([name, fieldType]) => ({
      name,
      camel: snakeToCamel(name),
      convert: converterFor(fieldType),
    }));
    return (json) => {
      if (typeof json !== "object" || json === null || Array.isArray(json)) {
        throw new FieldError("", `expected an object, got ${describe(json)}`);
      }
      const obj = json as Record<string, unknown>;
      const value: Record<string, unknown> = {};
      for (const {name, camel, convert} of fields) {
        const raw = obj[name] ?? obj[camel];
        if (raw === undefined || raw === null) throw new FieldError(name, "missing");
        try {
          value[name] = convert(raw);
        } catch (e) {
          throw prefix(e, name);
        }
      }
      return value;
    };
  }
  if (type instanceof ListCompositeType || type instanceof ListBasicType || type instanceof VectorCompositeType) {
    const convert = converterFor(type.elementType as Type<unknown>);
    const isVector = type instanceof VectorCompositeType;
    const n = isVector ? (type as VectorCompositeType<any>).length : (type as ListCompositeType<any>).limit;
    return (json) => {
      if (!Array.isArray(json)) throw new FieldError("", `expected an array, got ${describe(json)}`);
      if (isVector ? json.length !== n : json.length > n) {
        throw new FieldError("", `expected ${isVector ? "exactly" : "at most"} ${n} items, got ${json.length}`);
      }
      return json.map((item, i) => {
        try {
          return convert(item);
        } catch (e) {
          throw prefix(e, `[${i}]`);
        }
      });
    };
  }
  throw new Error(`no JSON converter for SSZ type ${type.constructor.name}`);
}

/** `obj[key]` converted to `type`; errors name `key` as the start of their path. */
export function fieldFromJson<T>(type: Type<T>, obj: unknown, key: string): T {
  const raw = requireField(obj, key);
  try {
    return fromJson(type, raw);
  } catch (e) {
    throw prefix(e, key);
  }
}

const prefix = (e: unknown, key: string): unknown => (e instanceof FieldError ? e.within(key) : e);

export const snakeToCamel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** `obj[key]`, or its camelCase spelling (some published examples use it); missing → a FieldError. */
export function requireField(obj: unknown, key: string): unknown {
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
    throw new FieldError("", `expected an object, got ${describe(obj)}`);
  }
  const value = (obj as Record<string, unknown>)[key] ?? (obj as Record<string, unknown>)[snakeToCamel(key)];
  if (value === undefined || value === null) throw new FieldError(key, "missing");
  return value;
}

export function describe(json: unknown): string {
  if (json === null) return "null";
  if (Array.isArray(json)) return "an array";
  if (typeof json === "string") return `"${clip(json)}"`;
  if (typeof json === "object") return "an object";
  return `${typeof json} ${String(json)}`;
}

/** Long values are cut in messages: a 1 MiB string must not come back in an error body. */
function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
