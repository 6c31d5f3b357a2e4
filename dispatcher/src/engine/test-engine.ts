import type { Sql } from "@helmr/migrations/db"
import type { TestValkey } from "@helmr/migrations/testing"
import pino from "pino"
import { type DispatcherSettings, dispatcherSettings } from "../config.ts"
import type { EngineDeps } from "./deps.ts"
import { createMetrics } from "./metrics.ts"

/** Engine dependencies for in-process tests: a real database and Valkey, a clock of the test's. */
export function testDeps(
  sql: Sql,
  t: TestValkey,
  options: { settings?: Partial<DispatcherSettings>; now?: () => number } = {},
): EngineDeps {
  return {
    sql,
    valkey: t.valkey,
    keys: t.keys,
    settings: dispatcherSettings({ dispatcherId: "i5-test", ...options.settings }),
    metrics: createMetrics(),
    logger: pino({ level: process.env.HELMR_TEST_LOG ?? "silent" }),
    now: options.now ?? Date.now,
  }
}
