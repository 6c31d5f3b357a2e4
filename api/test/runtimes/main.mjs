// `<runtime> main.mjs '<json config>'` in a project that installed the packed SDK: prints the
// check's result as JSON. No loader, no TypeScript: what a user's Node or Deno program does.
import { createClient } from "@helmr/sdk/client"
import { checkClient } from "./client-check.mjs"

const arg = globalThis.Deno ? globalThis.Deno.args[0] : globalThis.process.argv[2]
const result = await checkClient(createClient, JSON.parse(arg))
console.log(JSON.stringify(result))
