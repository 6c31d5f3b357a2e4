/** A closed-loop load generator: `concurrency` workers each send one request at a time. */

export interface LoadResult {
  name: string
  ok: number
  failed: number
  seconds: number
  /** Latencies of successful requests, ms, sorted. */
  latencies: number[]
  firstError?: string
}

export async function runLoad(
  name: string,
  options: { concurrency: number; seconds: number; warmupSeconds: number },
  send: (i: number) => Promise<Response>,
  expectStatus: number,
): Promise<LoadResult> {
  let i = 0
  const latencies: number[] = []
  let ok = 0
  let failed = 0
  let firstError: string | undefined
  const warmupEnd = performance.now() + options.warmupSeconds * 1000
  const end = warmupEnd + options.seconds * 1000
  const worker = async () => {
    while (performance.now() < end) {
      const started = performance.now()
      const measured = started >= warmupEnd
      try {
        const res = await send(i++)
        await res.arrayBuffer()
        if (!measured) continue
        if (res.status === expectStatus) {
          ok++
          latencies.push(performance.now() - started)
        } else {
          failed++
          firstError ??= `HTTP ${res.status}`
        }
      } catch (error) {
        if (measured) failed++
        firstError ??= String(error)
      }
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, worker))
  latencies.sort((a, b) => a - b)
  return {
    name,
    ok,
    failed,
    seconds: options.seconds,
    latencies,
    ...(firstError ? { firstError } : {}),
  }
}

/** Rounds of one side added up: counts and seconds summed, latencies merged. */
export function mergeResults(rounds: LoadResult[]): LoadResult {
  const first = rounds[0]
  if (!first) throw new Error("no rounds")
  const firstError = rounds.find((r) => r.firstError)?.firstError
  return {
    name: first.name,
    ok: rounds.reduce((n, r) => n + r.ok, 0),
    failed: rounds.reduce((n, r) => n + r.failed, 0),
    seconds: rounds.reduce((n, r) => n + r.seconds, 0),
    latencies: rounds.flatMap((r) => r.latencies).sort((a, b) => a - b),
    ...(firstError ? { firstError } : {}),
  }
}

const quantile = (sorted: number[], q: number) =>
  sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!

export function formatResult(r: LoadResult): string {
  const f = (n: number) => n.toFixed(2).padStart(8)
  return [
    r.name.padEnd(34),
    `${(r.ok / r.seconds).toFixed(0).padStart(7)} req/s`,
    `p50 ${f(quantile(r.latencies, 0.5))} ms`,
    `p99 ${f(quantile(r.latencies, 0.99))} ms`,
    `max ${f(r.latencies.at(-1) ?? Number.NaN)} ms`,
    `ok ${r.ok}`,
    `failed ${r.failed}${r.firstError ? ` (${r.firstError})` : ""}`,
  ].join("  ")
}
