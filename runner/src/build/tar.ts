/**
 * A minimal tar writer for build contexts: regular files only, deterministic (mtime 0, uid 0),
 * pax headers for paths longer than ustar allows. Dockerd extracts it and creates parent folders.
 */

export interface TarEntry {
  path: string
  content: Uint8Array
  /** Permission bits; 0o644 when omitted. */
  mode?: number
}

const BLOCK = 512
const encoder = new TextEncoder()

function writeString(block: Uint8Array, offset: number, length: number, value: string): void {
  const bytes = encoder.encode(value)
  if (bytes.length > length) throw new Error(`tar header field too long: ${value}`)
  block.set(bytes, offset)
}

function writeOctal(block: Uint8Array, offset: number, length: number, value: number): void {
  writeString(block, offset, length, `${value.toString(8).padStart(length - 1, "0")}\0`)
}

function header(name: string, size: number, mode: number, type: "0" | "x"): Uint8Array {
  const block = new Uint8Array(BLOCK)
  writeString(block, 0, 100, name)
  writeOctal(block, 100, 8, mode)
  writeOctal(block, 108, 8, 0)
  writeOctal(block, 116, 8, 0)
  writeOctal(block, 124, 12, size)
  writeOctal(block, 136, 12, 0)
  block.fill(0x20, 148, 156)
  writeString(block, 156, 1, type)
  writeString(block, 257, 6, "ustar\0")
  writeString(block, 263, 2, "00")
  let sum = 0
  for (const byte of block) sum += byte
  writeString(block, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `)
  return block
}

/** A pax record `"<len> path=<value>\n"`, whose length counts its own digits. */
function paxRecord(key: string, value: string): Uint8Array {
  const body = ` ${key}=${value}\n`
  const bodyLength = encoder.encode(body).length
  let length = bodyLength + String(bodyLength).length
  if (String(length).length !== String(bodyLength).length) length += 1
  return encoder.encode(`${length}${body}`)
}

function padded(bytes: Uint8Array): Uint8Array[] {
  const rest = bytes.length % BLOCK
  return rest === 0 ? [bytes] : [bytes, new Uint8Array(BLOCK - rest)]
}

/** Writes `entries` as one tar archive. */
export function createTar(entries: readonly TarEntry[]): Uint8Array {
  const parts: Uint8Array[] = []
  for (const entry of entries) {
    const path = entry.path.replace(/^\/+/, "")
    if (!path || path.split("/").includes("..")) throw new Error(`unsafe tar path: ${entry.path}`)
    const mode = entry.mode ?? 0o644
    if (encoder.encode(path).length > 99) {
      const pax = paxRecord("path", path)
      parts.push(header("PaxHeader", pax.length, 0o644, "x"), ...padded(pax))
      parts.push(header(path.slice(0, 99), entry.content.length, mode, "0"))
    } else {
      parts.push(header(path, entry.content.length, mode, "0"))
    }
    parts.push(...padded(entry.content))
  }
  parts.push(new Uint8Array(BLOCK * 2))
  const total = parts.reduce((n, p) => n + p.length, 0)
  const out = new Uint8Array(total)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}
