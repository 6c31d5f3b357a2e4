/**
 * Reads all of stdin. From a terminal it prompts on stderr and reads one line with echo off, so
 * a typed secret never appears on screen or in the scrollback.
 */
export async function readProcessStdin(prompt = "value (input hidden): "): Promise<string> {
  const stdin = process.stdin
  if (!stdin.isTTY) return await Bun.stdin.text()
  process.stderr.write(prompt)
  stdin.setRawMode(true)
  stdin.resume()
  try {
    return await new Promise<string>((resolve, reject) => {
      let value = ""
      const onData = (chunk: Buffer) => {
        for (const char of chunk.toString("utf8")) {
          if (char === "\r" || char === "\n") {
            stdin.off("data", onData)
            resolve(value)
            return
          }
          if (char === "\u0003") {
            stdin.off("data", onData)
            reject(new Error("interrupted"))
            return
          }
          if (char === "\u007f" || char === "\b") value = value.slice(0, -1)
          else value += char
        }
      }
      stdin.on("data", onData)
    })
  } finally {
    stdin.setRawMode(false)
    stdin.pause()
    process.stderr.write("\n")
  }
}
