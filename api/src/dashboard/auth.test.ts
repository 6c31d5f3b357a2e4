import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { grantOperator } from "@helmr/migrations/operators"
import { Redis } from "ioredis"
import { startTestApi, type TestApi } from "../testing.ts"
import { SIGN_IN_LIMIT } from "./sign-in-limit.ts"

// Sign-in, sessions, CSRF and membership through the real app (app.request), real Postgres and
// Valkey. The browser tests cover the same pages as a person uses them.

let api: TestApi
const PASSWORD = "correct horse battery staple"

beforeAll(async () => {
  api = await startTestApi("h13auth")
  await grantOperator(api.db.sql, {
    email: "ops@example.com",
    password: PASSWORD,
    projectSlug: "test",
  })
  await grantOperator(api.db.sql, {
    email: "dev-only@example.com",
    password: PASSWORD,
    projectSlug: "test",
    environments: ["dev"],
  })
}, 60_000)
afterAll(() => api?.close())

/** A cookie jar over app.request. */
function client(headers: Record<string, string> = {}) {
  const jar = new Map<string, string>()
  const setCookies: string[] = []
  const request = async (path: string, init: RequestInit = {}) => {
    const h = new Headers(init.headers)
    for (const [k, v] of Object.entries(headers)) h.set(k, v)
    if (jar.size) h.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "))
    const res = await api.app.request(`http://dash.test${path}`, { ...init, headers: h })
    for (const cookie of res.headers.getSetCookie()) {
      setCookies.push(cookie)
      const [pair = ""] = cookie.split(";")
      const [name = "", value = ""] = pair.split("=")
      if (/Max-Age=0/i.test(cookie)) jar.delete(name)
      else jar.set(name, value)
    }
    return res
  }
  const signIn = async (email: string, password: string, next = "/") => {
    const page = await (await request("/sign-in")).text()
    const token = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? ""
    return request("/sign-in", {
      method: "POST",
      body: new URLSearchParams({ _csrf: token, email, password, next }),
    })
  }
  const csrf = async (path: string) =>
    /name="csrf-token" content="([^"]+)"/.exec(await (await request(path)).text())?.[1] ?? ""
  return { jar, setCookies, request, signIn, csrf }
}

describe("sign-in", () => {
  test("sets an HttpOnly SameSite session cookie, Secure behind HTTPS", async () => {
    const plain = client()
    expect((await plain.signIn("ops@example.com", PASSWORD)).status).toBe(303)
    const cookie = plain.setCookies.find((c) => c.startsWith("helmr_session="))
    expect(cookie).toContain("HttpOnly")
    expect(cookie).toContain("SameSite=Lax")
    expect(cookie).not.toContain("Secure")
    const proxied = client({ "x-forwarded-proto": "https" })
    await proxied.signIn("OPS@example.com", PASSWORD)
    const secure = proxied.setCookies.find((c) => c.startsWith("helmr_session="))
    expect(secure).toContain("Secure")
  })

  test("an unknown email and a wrong password get the same answer", async () => {
    const a = await client().signIn("nobody@example.com", PASSWORD)
    const b = await client().signIn("ops@example.com", "wrong password!")
    expect(a.status).toBe(401)
    expect(b.status).toBe(401)
    expect(await a.text()).toContain("Wrong email or password.")
    expect(await b.text()).toContain("Wrong email or password.")
  })

  test("without its CSRF token the sign-in form is refused", async () => {
    const res = await client().request("/sign-in", {
      method: "POST",
      body: new URLSearchParams({ email: "ops@example.com", password: PASSWORD }),
    })
    expect(res.status).toBe(403)
  })

  test("`next` only ever points back into the dashboard", async () => {
    const res = await client().signIn("ops@example.com", PASSWORD, "//evil.example/x")
    expect(res.headers.get("location")).toBe("/")
    const ok = await client().signIn("ops@example.com", PASSWORD, "/p/test/dev/keys")
    expect(ok.headers.get("location")).toBe("/p/test/dev/keys")
  })

  test(`is rate limited per email: after ${SIGN_IN_LIMIT} attempts even the right password waits`, async () => {
    await grantOperator(api.db.sql, {
      email: "limited@example.com",
      password: PASSWORD,
      projectSlug: "test",
    })
    for (let i = 0; i < SIGN_IN_LIMIT; i++) {
      expect((await client().signIn("limited@example.com", `guess number ${i}`)).status).toBe(401)
    }
    const blocked = await client().signIn("limited@example.com", PASSWORD)
    expect(blocked.status).toBe(429)
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0)
    expect(await blocked.text()).toContain("Too many sign-in attempts")
    // Another operator is not affected.
    expect((await client().signIn("ops@example.com", PASSWORD)).status).toBe(303)
  }, 60_000)
})

describe("sessions", () => {
  test("sign out ends this session only; sign out everywhere ends them all", async () => {
    const laptop = client()
    const phone = client()
    await laptop.signIn("ops@example.com", PASSWORD)
    await phone.signIn("ops@example.com", PASSWORD)
    const token = await laptop.csrf("/p/test/dev/runs")
    const out = await laptop.request("/sign-out", {
      method: "POST",
      body: new URLSearchParams({ _csrf: token }),
    })
    expect(out.status).toBe(303)
    expect((await laptop.request("/p/test/dev/runs")).status).toBe(303)
    expect((await phone.request("/p/test/dev/runs")).status).toBe(200)

    const tablet = client()
    await tablet.signIn("ops@example.com", PASSWORD)
    const everywhere = await phone.request("/sign-out-everywhere", {
      method: "POST",
      body: new URLSearchParams({ _csrf: await phone.csrf("/p/test/dev/runs") }),
    })
    expect(everywhere.status).toBe(303)
    expect((await phone.request("/p/test/dev/runs")).status).toBe(303)
    expect((await tablet.request("/p/test/dev/runs")).status).toBe(303)
  })

  test("an expired session is signed out", async () => {
    const c = client()
    await c.signIn("ops@example.com", PASSWORD)
    await api.db.sql`update operator_sessions set expires_at = now() - interval '1 second'`
    const res = await c.request("/p/test/dev/runs")
    expect(res.status).toBe(303)
    expect(res.headers.get("location")).toBe("/sign-in?next=%2Fp%2Ftest%2Fdev%2Fruns")
  })

  test("signed out: a write is 401 and a JSON endpoint answers JSON", async () => {
    const res = await client().request("/p/test/dev/secrets", {
      method: "POST",
      body: new URLSearchParams({ name: "X", value: "y" }),
    })
    expect(res.status).toBe(401)
    const preview = await client().request("/p/test/dev/schedules/preview?cron=*+*+*+*+*")
    expect(preview.status).toBe(303)
    expect(await api.db.sql`select name from secrets`).toHaveLength(0)
  })
})

describe("membership", () => {
  test("an operator sees only their environments; others are not found", async () => {
    const c = client()
    await c.signIn("dev-only@example.com", PASSWORD)
    const dev = await c.request("/p/test/dev/runs")
    expect(dev.status).toBe(200)
    const html = await dev.text()
    expect(html).toContain("/p/test/dev/runs")
    expect(html).not.toContain("/p/test/staging/")
    expect((await c.request("/p/test/staging/runs")).status).toBe(404)
    expect((await c.request("/p/test/prod/keys", { method: "POST" })).status).toBe(404)
  })

  test("pages carry a strict CSP and are not framed", async () => {
    const c = client()
    await c.signIn("ops@example.com", PASSWORD)
    const res = await c.request("/p/test/dev/runs")
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'")
    expect(res.headers.get("x-frame-options")).toBe("DENY")
  })
})

describe("the API is untouched by the dashboard", () => {
  test("API routes get no dashboard cookies or headers; unknown paths stay JSON 404", async () => {
    const res = await api.app.request("/api/v1/whoami", {
      headers: { authorization: `Bearer ${api.apiKeys.dev}` },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get("content-security-policy")).toBeNull()
    const missing = await api.app.request("/nothing/here")
    expect(missing.status).toBe(404)
    expect(await missing.json()).toMatchObject({ error: { code: "not_found" } })
  })
})

describe("sign-in without Valkey", () => {
  test("fails closed with a 503 page, no session", async () => {
    // Nothing listens on this port (the top of this helper's range): the limiter cannot count.
    const down = new Redis("redis://127.0.0.1:4899", {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
    })
    const broken = await startTestApi("h13authdown", { valkey: down })
    try {
      await grantOperator(broken.db.sql, {
        email: "ops@example.com",
        password: PASSWORD,
        projectSlug: "test",
      })
      const form = await broken.app.request("http://dash.test/sign-in")
      const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? ""
      const res = await broken.app.request("http://dash.test/sign-in", {
        method: "POST",
        headers: { cookie: form.headers.getSetCookie()[0]?.split(";")[0] ?? "" },
        body: new URLSearchParams({ _csrf: token, email: "ops@example.com", password: PASSWORD }),
      })
      expect(res.status).toBe(503)
      expect(await res.text()).toContain("Sign-in is unavailable right now")
      expect(res.headers.getSetCookie().some((c) => c.startsWith("helmr_session="))).toBe(false)
    } finally {
      down.disconnect()
      await broken.close()
    }
  }, 60_000)
})
