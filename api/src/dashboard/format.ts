/** Pure formatting for pages: no I/O, every input passed in. */

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timezone)
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
      timeZoneName: "short",
    })
    if (formatters.size > 500) formatters.clear()
    formatters.set(timezone, formatter)
  }
  return formatter
}

/** `2026-03-29 03:00:00 GMT+2` in `timezone` (wall time and the zone's name or offset then). */
export function formatInZone(date: Date, timezone: string): string {
  const parts = Object.fromEntries(
    formatterFor(timezone)
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  )
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second} ${parts.timeZoneName}`
}

/** `2026-03-29 01:00:00 UTC`. */
export function formatUtc(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`
}

/** `1.2 s`, `3 min 4 s`, `2 h 5 min`: how long between two instants. */
export function formatDuration(ms: number): string {
  if (ms < 0) return "0 s"
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min ${s % 60} s`
  return `${Math.floor(m / 60)} h ${m % 60} min`
}

/** JSON for a `<pre>`: pretty, and `null` shown as a dash by the caller. */
export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? "undefined"
}

/**
 * A `datetime-local` value (`2026-12-01T10:30`, wall time in UTC on these pages) as an ISO
 * instant, or undefined when empty; null when it is not a valid time.
 */
export function fromLocalInput(value: string | undefined): string | undefined | null {
  if (value === undefined || value.trim() === "") return undefined
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?$/.exec(value.trim())
  if (!match) return null
  const date = new Date(`${match[1]}T${match[2]}${match[3] ?? ":00"}Z`)
  return Number.isNaN(date.getTime()) ? null : date.toISOString()
}
