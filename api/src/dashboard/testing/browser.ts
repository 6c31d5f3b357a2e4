import { mkdirSync, readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core"

/** Debian's Chromium (scripts/ensure-chromium.sh installs it); never a downloaded browser. */
export const CHROMIUM = process.env.HELMR_CHROMIUM ?? "/usr/bin/chromium"
/** Where the tests write a screenshot of every page (listed in the README). */
export const SCREENSHOTS = new URL("../../../../docs/screenshots/", import.meta.url).pathname

export interface AxeViolation {
  page: string
  scheme: string
  /** The viewport width the page was checked at (1280 or 390). */
  width: number
  id: string
  impact: string | null
  help: string
  targets: string[]
}

export interface DashboardBrowser {
  browser: Browser
  context: BrowserContext
  page: Page
  /** Every serious or critical accessibility violation seen so far, by page. */
  violations: AxeViolation[]
  /** Pages captured so far (axe-checked and screenshotted). */
  captured: string[]
  /** axe-core runs that completed (three per captured page: 1280 px light and dark, 390 px). */
  axeRuns: number
  /**
   * Checks the current page with axe-core at 1280 px in light and dark schemes and at 390 px
   * (a phone, light), and writes screenshots: `<name>-1280-light.png`, `<name>-1280-dark.png`,
   * `<name>-390-light.png`.
   */
  capture(name: string): Promise<void>
  close(): Promise<void>
}

export async function launchDashboardBrowser(): Promise<DashboardBrowser> {
  mkdirSync(SCREENSHOTS, { recursive: true })
  const axeSource = readFileSync(
    createRequire(import.meta.url).resolve("axe-core/axe.min.js"),
    "utf8",
  )
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  })
  // The pages' CSP allows only their own script; axe is injected by the test, so bypass it here.
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    bypassCSP: true,
    colorScheme: "light",
  })
  context.setDefaultTimeout(60_000)
  const page = await context.newPage()
  page.on("dialog", (dialog) => void dialog.accept())
  const violations: AxeViolation[] = []
  const captured: string[] = []
  const state = { axeRuns: 0 }

  const axe = async (name: string, scheme: string, width: number) => {
    await page.addScriptTag({ content: axeSource })
    const result = (await page.evaluate(async () => {
      const run = (globalThis as unknown as { axe: { run(o: unknown): Promise<unknown> } }).axe
      return run.run({ resultTypes: ["violations"] })
    })) as {
      violations: {
        id: string
        impact: string | null
        help: string
        nodes: { target: string[] }[]
      }[]
    }
    if (!Array.isArray(result.violations)) throw new Error(`axe did not run on ${name}`)
    state.axeRuns++
    for (const v of result.violations) {
      if (v.impact !== "serious" && v.impact !== "critical") continue
      violations.push({
        page: name,
        scheme,
        width,
        id: v.id,
        impact: v.impact,
        help: v.help,
        targets: v.nodes.map((n) => n.target.join(" ")),
      })
    }
  }

  return {
    browser,
    context,
    page,
    violations,
    captured,
    get axeRuns() {
      return state.axeRuns
    },
    async capture(name) {
      captured.push(name)
      await page.emulateMedia({ colorScheme: "light" })
      await axe(name, "light", 1280)
      await page.screenshot({ path: `${SCREENSHOTS}${name}-1280-light.png`, fullPage: true })
      await page.emulateMedia({ colorScheme: "dark" })
      await axe(name, "dark", 1280)
      await page.screenshot({ path: `${SCREENSHOTS}${name}-1280-dark.png`, fullPage: true })
      await page.emulateMedia({ colorScheme: "light" })
      await page.setViewportSize({ width: 390, height: 844 })
      await axe(name, "light", 390)
      await page.screenshot({ path: `${SCREENSHOTS}${name}-390-light.png`, fullPage: true })
      await page.setViewportSize({ width: 1280, height: 900 })
    },
    async close() {
      await context.close()
      await browser.close()
    },
  }
}
