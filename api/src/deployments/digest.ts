import { createHash } from "node:crypto"

/** `sha256:<hex>` of some bytes, the digest format of blobs and manifests. */
export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`
}

/** JSON with object keys sorted at every level, so equal values always hash the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return v
    const sorted: Record<string, unknown> = {}
    for (const key of Object.keys(v).sort()) sorted[key] = (v as Record<string, unknown>)[key]
    return sorted
  })
}

/**
 * A deployment's identity: bundle, manifest and copied files. The same content deployed twice to
 * an environment is the same deployment (unique (environment_id, content_digest)).
 */
export function contentDigest(parts: {
  bundleDigest: string
  manifest: unknown
  files: readonly { path: string; digest: string }[]
}): string {
  const files = [...parts.files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f) => [f.path, f.digest])
  return sha256Digest(
    canonicalJson({ v: 1, bundle: parts.bundleDigest, manifest: parts.manifest, files }),
  )
}
