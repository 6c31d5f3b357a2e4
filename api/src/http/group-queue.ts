/**
 * Group commit as a function: `submit(input)` sends its input at once while fewer than
 * `maxInFlight` calls of `run` are running, and otherwise joins the inputs that arrive meanwhile
 * in the next call (at most `maxBatch`). A lone caller waits for nothing; under load one round
 * trip serves many callers. An input only ever joins a call not yet sent, so what `run` reads is
 * never older than the caller's request. A failed group is retried input by input, so one bad
 * input fails alone and every caller sees its own error.
 *
 * @example
 * const submit = groupQueue(async (ids: string[]) => lookUp(ids))
 * const row = await submit("key_1")
 */
export function groupQueue<I, O>(
  run: (inputs: I[]) => Promise<O[]>,
  options: { maxBatch?: number; maxInFlight?: number } = {},
): (input: I) => Promise<O> {
  const maxBatch = options.maxBatch ?? 64
  const maxInFlight = options.maxInFlight ?? 2
  const pending: { input: I; resolve(value: O): void; reject(error: unknown): void }[] = []
  let inFlight = 0

  const flush = async (group: typeof pending): Promise<void> => {
    try {
      const results = await run(group.map((p) => p.input))
      for (const [i, p] of group.entries()) p.resolve(results[i] as O)
    } catch (error) {
      if (group.length === 1) {
        group[0]?.reject(error)
        return
      }
      await Promise.all(
        group.map((p) =>
          run([p.input]).then(
            ([result]) => p.resolve(result as O),
            (e: unknown) => p.reject(e),
          ),
        ),
      )
    }
  }
  const pump = (): void => {
    while (inFlight < maxInFlight && pending.length > 0) {
      const group = pending.splice(0, maxBatch)
      inFlight++
      void flush(group).finally(() => {
        inFlight--
        pump()
      })
    }
  }
  return (input) =>
    new Promise<O>((resolve, reject) => {
      pending.push({ input, resolve, reject })
      pump()
    })
}
