// A Cloudflare Worker running the client check: POST the config, get the result as JSON.
import { createClient } from "@helmr/sdk/client"
import { checkClient } from "./client-check.mjs"

export default {
  async fetch(request) {
    try {
      return Response.json(await checkClient(createClient, await request.json()))
    } catch (error) {
      return Response.json({ error: String(error?.stack ?? error) }, { status: 500 })
    }
  },
}
