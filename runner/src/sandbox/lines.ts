/**
 * Byte streams to lines: the Engine API's multiplexed attach stream (8-byte frame headers: stream
 * type, 3 zero bytes, big-endian length) and a line splitter that bounds what it buffers.
 */

export type LineSink = (line: string) => void

/** Splits text chunks into lines; a line longer than `maxLine` is cut into pieces. */
/** 16 MiB: a result frame (the run output) is one line and must not be cut. */
export function createLineSplitter(sink: LineSink, maxLine = 16 << 20) {
  const decoder = new TextDecoder()
  let buffer = ""
  return {
    push(chunk: Uint8Array): void {
      buffer += decoder.decode(chunk, { stream: true })
      let newline = buffer.indexOf("\n")
      while (newline !== -1) {
        sink(buffer.slice(0, newline).replace(/\r$/, ""))
        buffer = buffer.slice(newline + 1)
        newline = buffer.indexOf("\n")
      }
      while (buffer.length > maxLine) {
        sink(buffer.slice(0, maxLine))
        buffer = buffer.slice(maxLine)
      }
    },
    end(): void {
      buffer += decoder.decode()
      if (buffer) sink(buffer)
      buffer = ""
    },
  }
}

/** Demultiplexes a Docker attach stream (non-TTY) into stdout and stderr chunks. */
export function createDemuxer(
  onStdout: (chunk: Uint8Array) => void,
  onStderr: (chunk: Uint8Array) => void,
) {
  let pending = new Uint8Array(0)
  return (chunk: Uint8Array): void => {
    const joined = new Uint8Array(pending.length + chunk.length)
    joined.set(pending)
    joined.set(chunk, pending.length)
    let offset = 0
    while (joined.length - offset >= 8) {
      const type = joined[offset]
      const size = new DataView(joined.buffer, joined.byteOffset + offset + 4, 4).getUint32(0)
      if (joined.length - offset - 8 < size) break
      const payload = joined.subarray(offset + 8, offset + 8 + size)
      if (type === 2) onStderr(payload)
      else onStdout(payload)
      offset += 8 + size
    }
    pending = joined.slice(offset)
  }
}
