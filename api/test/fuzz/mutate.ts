import type { Random } from "./random.ts"
import { ODD_STRINGS, oddValue, RawJson, toJsonText } from "./values.ts"

type Json = unknown

/** Every path into `value` (objects and arrays), the root included. */
function pathsOf(value: Json, path: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(path)
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) pathsOf(v, [...path, i], out)
  } else if (value !== null && typeof value === "object" && !(value instanceof RawJson)) {
    for (const [k, v] of Object.entries(value)) pathsOf(v, [...path, k], out)
  }
  return out
}

/** `value` with the part at `path` replaced (or removed when `next` is `undefined`). */
function setAt(value: Json, path: (string | number)[], next: Json): Json {
  if (path.length === 0) return next
  const [head, ...rest] = path as [string | number, ...(string | number)[]]
  if (Array.isArray(value)) {
    const copy = [...value]
    if (next === undefined && rest.length === 0) copy.splice(Number(head), 1)
    else copy[Number(head)] = setAt(copy[Number(head)], rest, next)
    return copy
  }
  const copy = { ...(value as Record<string, Json>) }
  if (next === undefined && rest.length === 0) delete copy[head]
  else copy[head] = setAt(copy[head], rest, next)
  return copy
}

/** One to three structural changes to a valid body: odd values, removed or unknown keys. */
export function mutateValue(random: Random, valid: Json): Json {
  let value = valid
  for (let n = 1 + random.int(3); n > 0; n--) {
    const path = random.pick(pathsOf(value))
    const roll = random.int(10)
    if (roll < 6) value = setAt(value, path, oddValue(random))
    else if (roll < 8 && path.length > 0) value = setAt(value, path, undefined)
    else value = setAt(value, [...path, random.pick(ODD_STRINGS)], oddValue(random))
  }
  return value
}

/** A body for a route whose valid body is `valid`: mostly mutated JSON, sometimes mangled bytes. */
export function fuzzBody(random: Random, valid: Json): string | Uint8Array<ArrayBuffer> {
  const text = toJsonText(valid)
  switch (random.int(12)) {
    case 0: // truncated
      return text.slice(0, random.int(Math.max(1, text.length)))
    case 1: // JSON, but not an object
      return random.pick(["[]", '"x"', "1", "null", "true", "[{}]", "-0", "1e400"])
    case 2: // a key twice, the second an odd value
      if (text.startsWith("{") && text !== "{}") {
        const key = random.pick(Object.keys(valid as object))
        return `{${JSON.stringify(key)}:${toJsonText(oddValue(random))},${text.slice(1)}`
      }
      return `{"a":1,"a":${toJsonText(oddValue(random))}}`
    case 3: // not UTF-8, or a byte-order mark, or control bytes
      return random.pick([
        new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
        new Uint8Array([0x7b, 0x22, 0xc3, 0x22, 0x3a, 0x31, 0x7d]),
        `\ufeff${text}`,
        `${text}\u0000`,
        "\u0000",
        "{\u0000}",
      ])
    case 4: // garbage that is not JSON at all
      return random.pick(["{", "}", "{'a':1}", "nope", '{"a":}', "[".repeat(200_000), ""])
    default:
      return toJsonText(mutateValue(random, valid))
  }
}

/** A path parameter as it would arrive on the wire: odd bytes percent-encoded, or raw garbage. */
export function fuzzPathParam(random: Random, valid: readonly string[]): string {
  const roll = random.int(10)
  if (roll < 3 && valid.length > 0) return encodeURIComponent(random.pick(valid))
  if (roll < 6) {
    return random.pick([
      "%00",
      "a%00b",
      "%zz",
      "%c3",
      "%",
      "%ed%a0%80",
      "%ed%bf%bf",
      "%2F",
      "..",
      "%20",
    ])
  }
  return encodeText(random.pick(ODD_STRINGS)) || "x"
}

/** Percent-encoding that also writes lone surrogates (as the WTF-8 bytes a client could send). */
export function encodeText(text: string): string {
  let out = ""
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0
    if (code >= 0xd800 && code <= 0xdfff) {
      out += `%${(0xe0 | (code >> 12)).toString(16)}%${(0x80 | ((code >> 6) & 0x3f)).toString(16)}%${(0x80 | (code & 0x3f)).toString(16)}`
    } else out += encodeURIComponent(char)
  }
  return out
}

const QUERY_KEYS = ["status", "tag", "task", "schedule", "from", "to", "limit", "cursor", "kind"]

/** A query string: known and unknown keys, repeated keys, odd and huge values. */
export function fuzzQuery(random: Random, extraKeys: readonly string[] = []): string {
  const parts: string[] = []
  for (let n = random.int(4); n > 0; n--) {
    const key = random.chance(0.8)
      ? random.pick([...QUERY_KEYS, ...extraKeys])
      : random.pick(ODD_STRINGS)
    const value = random.chance(0.3)
      ? random.pick([
          "%zz",
          "%c3",
          "%",
          "%00",
          "queued,,running",
          "-1",
          "0",
          "1e400",
          "101",
          "AAAA",
          "+",
        ])
      : encodeText(random.chance(0.5) ? random.pick(ODD_STRINGS) : String(oddNumberText(random)))
    parts.push(`${encodeText(key)}=${value}`)
  }
  return parts.length > 0 ? `?${parts.join("&")}` : ""
}

const oddNumberText = (random: Random) =>
  random.pick(["-1", "0", "1", "1e400", "-0", "9007199254740993", "2.5"])
