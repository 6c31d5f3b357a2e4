import { CliError } from "./errors.ts"

export interface CliConfig {
  apiUrl: string
  apiKey: string
}

export const DEFAULT_API_URL = "http://localhost:3000"

/** `HELMR_API_URL` (default http://localhost:3000) and `HELMR_API_KEY` (required). */
export function readConfig(env: Record<string, string | undefined>): CliConfig {
  const apiKey = env.HELMR_API_KEY?.trim()
  if (!apiKey) {
    throw new CliError(
      "HELMR_API_KEY is not set: export the API key of the environment you deploy to",
    )
  }
  const rawUrl = env.HELMR_API_URL?.trim() || DEFAULT_API_URL
  let url: URL
  try {
    url = new URL(rawUrl)
  } catch {
    throw new CliError(`HELMR_API_URL is not a URL: '${rawUrl}'`)
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CliError(`HELMR_API_URL must be an http:// or https:// URL, got '${rawUrl}'`)
  }
  return { apiUrl: url.toString().replace(/\/+$/, ""), apiKey }
}
