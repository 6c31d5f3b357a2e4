import { expect, test } from "bun:test"
import { Counter, Gauge, Histogram, metricRegistry } from "./metrics.ts"

test("renders counters, gauges and labelled histograms in the text format", () => {
  const m = metricRegistry({
    c: new Counter("x_total", "Things."),
    g: new Gauge("x_alive", "Alive."),
    h: new Histogram("x_seconds", "Durations.", [0.1, 1]),
  })
  m.c.inc({ route: '/a"b\\c\n' })
  m.c.inc({ route: '/a"b\\c\n' }, 2)
  m.g.inc({ state: "running" }, 3)
  m.g.dec({ state: "running" })
  m.h.observe(0.05, { route: "/r" })
  m.h.observe(0.5, { route: "/r" })
  m.h.observe(5)
  const text = m.render()
  expect(text).toContain("# TYPE x_total counter\n")
  expect(text).toContain('x_total{route="/a\\"b\\\\c\\n"} 3\n')
  expect(text).toContain("# TYPE x_alive gauge\n")
  expect(text).toContain('x_alive{state="running"} 2\n')
  expect(text).toContain("# TYPE x_seconds histogram\n")
  expect(text).toContain('x_seconds_bucket{route="/r",le="0.1"} 1\n')
  expect(text).toContain('x_seconds_bucket{route="/r",le="1"} 2\n')
  expect(text).toContain('x_seconds_bucket{route="/r",le="+Inf"} 2\n')
  expect(text).toContain('x_seconds_count{route="/r"} 2\n')
  expect(text).toContain('x_seconds_bucket{le="+Inf"} 1\n')
  expect(text).toContain("x_seconds_sum 5\n")
  expect(m.h.count({ route: "/r" })).toBe(2)
  expect(m.h.observations).toBe(3)
  expect(text.endsWith("\n")).toBe(true)
})
