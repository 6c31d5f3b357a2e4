/**
 * Decodes the `moby.buildkit.trace` records of a BuildKit build on the Engine API: base64 of a
 * protobuf `moby.buildkit.v1.StatusResponse`. Only the fields the builder reports are read
 * (vertexes with name, cached, started, completed, error; logs), with a small wire-format reader.
 */

export interface BuildVertex {
  digest: string
  name: string
  cached: boolean
  started: boolean
  completed: boolean
  error: string
}

export interface BuildLog {
  vertex: string
  /** 1 stdout, 2 stderr. */
  stream: number
  message: string
}

export interface BuildStatus {
  vertexes: BuildVertex[]
  logs: BuildLog[]
}

type Field = { field: number; varint?: bigint; bytes?: Uint8Array }

function readVarint(buf: Uint8Array, at: number): [bigint, number] {
  let result = 0n
  let shift = 0n
  let pos = at
  for (;;) {
    const byte = buf[pos]
    if (byte === undefined) throw new Error("truncated protobuf varint")
    pos += 1
    result |= BigInt(byte & 0x7f) << shift
    if ((byte & 0x80) === 0) return [result, pos]
    shift += 7n
  }
}

/** The top-level fields of one protobuf message. */
function readFields(buf: Uint8Array): Field[] {
  const fields: Field[] = []
  let pos = 0
  while (pos < buf.length) {
    const [key, next] = readVarint(buf, pos)
    pos = next
    const field = Number(key >> 3n)
    const wire = Number(key & 7n)
    if (wire === 0) {
      const [value, after] = readVarint(buf, pos)
      fields.push({ field, varint: value })
      pos = after
    } else if (wire === 2) {
      const [length, after] = readVarint(buf, pos)
      const end = after + Number(length)
      if (end > buf.length) throw new Error("truncated protobuf field")
      fields.push({ field, bytes: buf.subarray(after, end) })
      pos = end
    } else if (wire === 1) {
      pos += 8
    } else if (wire === 5) {
      pos += 4
    } else {
      throw new Error(`unsupported protobuf wire type ${wire}`)
    }
  }
  return fields
}

const text = new TextDecoder()

function decodeVertex(buf: Uint8Array): BuildVertex {
  const v: BuildVertex = {
    digest: "",
    name: "",
    cached: false,
    started: false,
    completed: false,
    error: "",
  }
  for (const f of readFields(buf)) {
    if (f.field === 1 && f.bytes) v.digest = text.decode(f.bytes)
    else if (f.field === 3 && f.bytes) v.name = text.decode(f.bytes)
    else if (f.field === 4) v.cached = f.varint === 1n
    else if (f.field === 5) v.started = true
    else if (f.field === 6) v.completed = true
    else if (f.field === 7 && f.bytes) v.error = text.decode(f.bytes)
  }
  return v
}

function decodeLog(buf: Uint8Array): BuildLog {
  const log: BuildLog = { vertex: "", stream: 1, message: "" }
  for (const f of readFields(buf)) {
    if (f.field === 1 && f.bytes) log.vertex = text.decode(f.bytes)
    else if (f.field === 3 && f.varint !== undefined) log.stream = Number(f.varint)
    else if (f.field === 4 && f.bytes) log.message = text.decode(f.bytes)
  }
  return log
}

/** Decodes one trace record (the `aux` string). */
export function decodeBuildStatus(base64: string): BuildStatus {
  const status: BuildStatus = { vertexes: [], logs: [] }
  for (const f of readFields(Buffer.from(base64, "base64"))) {
    if (f.field === 1 && f.bytes) status.vertexes.push(decodeVertex(f.bytes))
    else if (f.field === 3 && f.bytes) status.logs.push(decodeLog(f.bytes))
  }
  return status
}
