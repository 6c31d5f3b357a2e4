import { OperationError } from "./operation-error.ts"

/**
 * Opaque keyset cursors: base64url of `<microseconds since epoch>:<id>` of the last row of a page.
 * Microseconds, because Postgres timestamps carry them and a JS Date would round ties apart.
 */
export interface CursorPosition {
  micros: string
  id: string
}

export function encodeCursor(position: CursorPosition): string {
  return btoa(`${position.micros}:${position.id}`)
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "")
}

export function decodeCursor(cursor: string): CursorPosition {
  let text: string
  try {
    text = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"))
  } catch {
    throw invalidCursor()
  }
  // At most 17 digits: microseconds up to the year 5000, well inside Postgres' range.
  const match = /^(\d{1,17}):([a-z]{1,10}_[0-9a-z]{26})$/.exec(text)
  if (!match?.[1] || !match[2]) throw invalidCursor()
  return { micros: match[1], id: match[2] }
}

function invalidCursor(): OperationError {
  return new OperationError(
    422,
    "validation_failed",
    "invalid cursor: pass nextCursor back unchanged",
    [{ path: "cursor", message: "not a cursor this API issued" }],
  )
}
