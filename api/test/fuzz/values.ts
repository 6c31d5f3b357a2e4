import type { Random } from "./random.ts"

/**
 * Hostile values for the fuzz test. A `RawJson` is spliced into the body text as it is, for what
 * `JSON.stringify` cannot write: 1e400, -0, integers past 2^53, nesting 10,000 deep.
 */
export class RawJson {
  constructor(readonly text: string) {}
}

export const ODD_STRINGS: readonly string[] = [
  "\u0000",
  "a\u0000b",
  "\ud800",
  "\udfff",
  "x\ud800y",
  "\udfff\ud800",
  "😀",
  "\u202eevil",
  "\ufeff",
  "\uffff",
  "é",
  "",
  " ",
  "\n\r\t",
  "x".repeat(300),
  "y".repeat(20_000),
  "𝕏".repeat(2_000),
  "../../etc/passwd",
  "%00",
  "' or 1=1 --",
  "\\",
  '"',
  "NaN",
  "-1",
  "1e400",
  "null",
  "<script>alert(1)</script>",
  "0 * * * *",
  "1h",
  "9999999999h",
  "+275760-09-13T00:00:00.000Z",
  "0000-01-01T00:00:00Z",
  "-000001-01-01T00:00:00Z",
  "2026-02-30T00:00:00Z",
  "UTC",
  "Mars/Olympus",
]

export const ODD_NUMBERS: readonly RawJson[] = [
  "1e400",
  "-1e400",
  "-0",
  "0",
  "-1",
  "1.5",
  "9007199254740993",
  "123456789012345678901234567890",
  "-2147483649",
  "2147483648",
  "4294967296",
  "1e308",
  "1e-400",
  "31536001",
].map((text) => new RawJson(text))

const nested = (depth: number, open = "[", close = "]") =>
  new RawJson(open.repeat(depth) + (open === "{" ? "" : "1") + close.repeat(depth))

const deepObject = (depth: number) => new RawJson(`${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`)

/** Any hostile value, wrong types and deep nesting included. */
export function oddValue(random: Random): unknown {
  switch (random.int(8)) {
    case 0:
    case 1:
    case 2:
      return random.pick(ODD_STRINGS)
    case 3:
      return random.pick(ODD_NUMBERS)
    case 4:
      return random.pick([null, true, false, [], {}, [random.pick(ODD_STRINGS)]])
    case 5:
      return random.pick([
        nested(99),
        nested(101),
        nested(10_000),
        deepObject(101),
        deepObject(10_000),
      ])
    case 6:
      return { [random.pick(ODD_STRINGS)]: random.pick(ODD_STRINGS) }
    default:
      return Array.from({ length: random.pick([0, 11, 1001]) }, (_, i) => `t${i}`)
  }
}

/** `value` as JSON text, `RawJson` parts spliced in. */
export function toJsonText(value: unknown): string {
  const raws: string[] = []
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof RawJson) {
      raws.push(v.text)
      return `\u0001raw${raws.length - 1}\u0001`
    }
    return v
  })
  return (text ?? "null").replace(
    /"\\u0001raw(\d+)\\u0001"/g,
    (_m, i: string) => raws[Number(i)] ?? "",
  )
}
