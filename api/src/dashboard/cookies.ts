import type { Context } from "hono"
import { deleteCookie, getCookie, setCookie } from "hono/cookie"

/**
 * The dashboard's cookies, in one place. All are HttpOnly and SameSite=Lax (a link from elsewhere
 * may open a page; a cross-site form post does not carry them) and Secure when the request came
 * over HTTPS (directly, or through a proxy that says so in X-Forwarded-Proto).
 */
export const SESSION_COOKIE = "helmr_session"
/** Double-submit token of the sign-in form, before any session exists. */
export const PRE_SESSION_CSRF_COOKIE = "helmr_signin_csrf"
export const FLASH_COOKIE = "helmr_flash"

export function isHttps(c: Context): boolean {
  const forwarded = c.req.header("x-forwarded-proto")?.split(",")[0]?.trim()
  return forwarded ? forwarded === "https" : new URL(c.req.url).protocol === "https:"
}

export function putCookie(c: Context, name: string, value: string, maxAgeSeconds?: number): void {
  setCookie(c, name, value, {
    httpOnly: true,
    sameSite: "Lax",
    secure: isHttps(c),
    path: "/",
    ...(maxAgeSeconds === undefined ? {} : { maxAge: maxAgeSeconds }),
  })
}

export function readCookie(c: Context, name: string): string | undefined {
  return getCookie(c, name)
}

export function dropCookie(c: Context, name: string): void {
  deleteCookie(c, name, { path: "/", secure: isHttps(c) })
}

/** A one-time message for the next page (after a redirect). */
export function setFlash(c: Context, message: string): void {
  putCookie(c, FLASH_COOKIE, encodeURIComponent(message.slice(0, 300)), 60)
}

export function takeFlash(c: Context): string | null {
  const value = readCookie(c, FLASH_COOKIE)
  if (value === undefined) return null
  dropCookie(c, FLASH_COOKIE)
  try {
    return decodeURIComponent(value)
  } catch {
    return null
  }
}
