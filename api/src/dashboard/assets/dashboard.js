// The dashboard's only script: the live parts of server-rendered pages. Served as it is (no build
// step). Every page works without it except the live log, the cron preview and the payload check.

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.getAttribute("content") ?? ""

function text(tag, value, className) {
  const el = document.createElement(tag)
  el.textContent = value
  if (className) el.className = className
  return el
}

// --- Run page: status and logs as they arrive (SSE), details refreshed when the run ends. -----
function followRun(root) {
  const log = root.querySelector("[data-log]")
  const status = document.getElementById("run-status")
  const empty = root.querySelector("[data-log-empty]")
  const source = new EventSource(root.getAttribute("data-live-run"))
  const seen = new Set(Array.from(log.querySelectorAll("li[data-id]"), (li) => li.dataset.id))
  // Metadata, streams and attempts change while the run goes: re-read them at most every 2 s.
  let refreshTimer = null
  const refreshSoon = () => {
    if (refreshTimer) return
    refreshTimer = setTimeout(async () => {
      await refreshDetails()
      refreshTimer = null
    }, 2000)
  }
  source.onmessage = (message) => {
    const event = JSON.parse(message.data)
    if (seen.has(event.id)) return
    seen.add(event.id)
    if (empty) empty.remove()
    const line = `${event.createdAt.slice(11, 23)}  ${describeEvent(event)}`
    const li = text("li", line, `ev-${event.type} lvl-${event.level ?? "info"}`)
    li.dataset.id = event.id
    log.append(li)
    log.scrollTop = log.scrollHeight
    if (event.type === "transition" && event.data && event.data.to && status) {
      setStatus(status, event.data.to)
    }
    refreshSoon()
  }
  source.addEventListener("end", async (message) => {
    source.close()
    clearTimeout(refreshTimer)
    const end = JSON.parse(message.data)
    if (status) setStatus(status, end.status)
    await refreshDetails()
  })
}

function describeEvent(event) {
  if (event.type === "transition" && event.data) return `→ ${event.data.to}`
  if (event.message) return event.level ? `[${event.level}] ${event.message}` : event.message
  return `${event.type} ${event.data ? JSON.stringify(event.data) : ""}`
}

function setStatus(el, value) {
  el.textContent = value
  el.className = `badge s-${value}`
}

/** Re-reads this page and swaps in the parts a finished run changes (output, error, attempts). */
async function refreshDetails() {
  const response = await fetch(location.href, { headers: { accept: "text/html" } })
  if (!response.ok) return
  const doc = new DOMParser().parseFromString(await response.text(), "text/html")
  for (const id of ["run-details", "run-actions"]) {
    const fresh = doc.getElementById(id)
    const current = document.getElementById(id)
    if (fresh && current) current.replaceWith(fresh)
  }
}

// --- Schedule form: cron in words and the next five fires, while typing. ---------------------
function previewCron(form) {
  const url = form.getAttribute("data-cron-preview")
  const out = document.getElementById("cron-preview")
  const cron = form.querySelector('[name="cron"]')
  const zone = form.querySelector('[name="timezone"]')
  let timer
  let seq = 0
  const run = async () => {
    const mine = ++seq
    const query = new URLSearchParams({ cron: cron.value, timezone: zone.value || "UTC" })
    const response = await fetch(`${url}?${query}`, { headers: { accept: "application/json" } })
    const body = await response.json()
    if (mine !== seq) return
    out.replaceChildren()
    if (body.error) {
      out.append(text("p", body.error, "error-box"))
      return
    }
    out.append(text("p", body.description))
    const list = document.createElement("ol")
    for (const fire of body.upcoming) list.append(text("li", `${fire.local}  (${fire.utc})`))
    out.append(text("p", `Next ${body.upcoming.length} fires, ${body.timezone} (UTC):`, "muted"))
    out.append(list)
  }
  const schedule = () => {
    clearTimeout(timer)
    timer = setTimeout(run, 200)
  }
  cron.addEventListener("input", schedule)
  zone.addEventListener("input", schedule)
  zone.addEventListener("change", schedule)
}

// --- Trigger form: the payload is checked against the task's schema before it is sent. -------
function checkPayload(form) {
  const url = form.getAttribute("data-payload-check")
  const field = form.querySelector('[name="payload"]')
  const out = document.getElementById("payload-check")
  let valid = false
  let timer
  const check = async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-csrf-token": csrf() },
      body: JSON.stringify({ payload: field.value }),
    })
    const body = await response.json()
    valid = body.ok === true
    out.replaceChildren()
    if (valid) {
      out.append(text("p", "Payload matches the task's schema.", "flash"))
      field.removeAttribute("aria-invalid")
      return
    }
    field.setAttribute("aria-invalid", "true")
    const box = text("div", "", "error-box")
    box.append(text("strong", "The payload does not match the task's schema:"))
    const list = document.createElement("ul")
    for (const issue of body.issues) list.append(text("li", `${issue.path}: ${issue.message}`))
    box.append(list)
    out.append(box)
  }
  field.addEventListener("input", () => {
    clearTimeout(timer)
    timer = setTimeout(check, 250)
  })
  form.addEventListener("submit", async (event) => {
    if (form.dataset.checked === "yes") return
    event.preventDefault()
    await check()
    if (!valid) return
    form.dataset.checked = "yes"
    form.requestSubmit()
  })
  check()
}

// --- Destructive buttons ask first. -----------------------------------------------------------
function confirmSubmit(form) {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault()
  })
}

for (const el of document.querySelectorAll("[data-live-run]")) followRun(el)
for (const el of document.querySelectorAll("form[data-cron-preview]")) previewCron(el)
for (const el of document.querySelectorAll("form[data-payload-check]")) checkPayload(el)
for (const el of document.querySelectorAll("form[data-confirm]")) confirmSubmit(el)
