import { describe, expect, test } from "bun:test"
import { allocateWarm } from "./warm-allocation.ts"

describe("allocateWarm", () => {
  const cases: [string, { key: string; n: number }[], number, Record<string, number>][] = [
    ["nothing asked", [], 8, {}],
    [
      "all fits",
      [
        { key: "a", n: 2 },
        { key: "b", n: 1 },
      ],
      8,
      { a: 2, b: 1 },
    ],
    ["cap 0 keeps none", [{ key: "a", n: 2 }], 0, { a: 0 }],
    [
      "shared round the pools",
      [
        { key: "b", n: 5 },
        { key: "a", n: 5 },
      ],
      3,
      { a: 2, b: 1 },
    ],
    [
      "a small pool's rest goes to others",
      [
        { key: "a", n: 1 },
        { key: "b", n: 9 },
      ],
      4,
      { a: 1, b: 3 },
    ],
    [
      "zero asked gets zero",
      [
        { key: "a", n: 0 },
        { key: "b", n: 2 },
      ],
      4,
      { a: 0, b: 2 },
    ],
  ]
  for (const [name, wanted, cap, sizes] of cases) {
    test(name, () => {
      expect(Object.fromEntries(allocateWarm(wanted, cap))).toEqual(sizes)
    })
  }
})
