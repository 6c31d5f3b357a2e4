import { describe, expect, test } from "bun:test"
import { generateApiKey, hashApiKey, hashApiKeyHex } from "./api-keys.ts"

describe("hashApiKeyHex", () => {
  test("is the hex of the stored hash, for generated keys and for any text", () => {
    const keys = [generateApiKey("dev").key, generateApiKey("prod").key, "", "hk_dev_ünïcødé✓"]
    for (const key of keys) {
      expect(hashApiKeyHex(key)).toBe(Buffer.from(hashApiKey(key)).toString("hex"))
    }
    expect(hashApiKeyHex("abc")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    )
  })
})
