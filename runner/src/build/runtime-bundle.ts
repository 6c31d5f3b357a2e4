import { createHash } from "node:crypto"

export interface RuntimeBundle {
  /** `runtime.js`: the in-sandbox runtime as one file. */
  code: Uint8Array
  digest: string
}

/** Bundles `@helmr/sdk/runtime/entry` into one file for the sandbox images. */
export async function bundleRuntime(): Promise<RuntimeBundle> {
  const entry = Bun.resolveSync("@helmr/sdk/runtime/entry", import.meta.dir)
  const result = await Bun.build({ entrypoints: [entry], target: "bun", minify: true })
  const [output] = result.outputs
  if (!result.success || !output) {
    throw new Error(`bundling the sandbox runtime failed: ${result.logs.join("\n")}`)
  }
  const code = new Uint8Array(await output.arrayBuffer())
  return { code, digest: `sha256:${createHash("sha256").update(code).digest("hex")}` }
}
