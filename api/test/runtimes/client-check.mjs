// The client test every runtime runs (Bun, Node, Deno, workerd): plain JavaScript, web standards
// only. Triggers a run, retrieves and lists it, cancels it (queued: canceled at once) and reads
// its events over SSE until the stream ends; then checks an error answer.

/** @param {typeof import("@helmr/sdk/client").createClient} createClient */
export async function checkClient(createClient, { apiUrl, apiKey, taskId }) {
  const client = createClient({ apiUrl, apiKey })
  const triggered = await client.runs.trigger(taskId, undefined, { tags: ["runtime-check"] })
  const again = await client.runs.trigger(taskId, undefined, {
    idempotencyKey: `check-${triggered.id}`,
  })
  const repeated = await client.runs.trigger(taskId, undefined, {
    idempotencyKey: `check-${triggered.id}`,
  })
  const run = await client.runs.retrieve(triggered.id)
  const page = await client.runs.list({ task: taskId, tag: ["runtime-check"], limit: 100 })
  const canceled = await client.runs.cancel(triggered.id)
  const events = []
  for await (const event of client.runs.events(triggered.id)) {
    events.push({ type: event.type, message: event.message })
  }
  let missing = null
  try {
    await client.runs.retrieve("run_0000000000zzzzzzzzzzzzzzzz")
  } catch (error) {
    missing = { name: error.name, status: error.status, code: error.code }
  }
  return {
    created: triggered.created,
    idempotent: { first: again.created, second: repeated.created, same: again.id === repeated.id },
    retrieved: { id: run.id === triggered.id, status: run.status, tags: run.tags },
    listed: page.data.map((r) => r.id).includes(triggered.id),
    canceled: canceled.status,
    events,
    missing,
  }
}
