import { Buffer } from "node:buffer"
import { ScheduleError, validateSchedule } from "@helmr/dispatcher/schedule"
import {
  type CreateDeploymentBody,
  checkManifest,
  type FieldIssue,
  type Manifest,
} from "@helmr/sdk/contract"
import { validationFailed } from "../http/validate.ts"
import { contentDigest, sha256Digest } from "./digest.ts"

/** An upload whose digests, references and schedules all check out. */
export interface VerifiedUpload {
  manifest: Manifest
  bundle: { digest: string; content: Uint8Array }
  files: { path: string; digest: string; content: Uint8Array }[]
  contentDigest: string
}

/**
 * Checks an upload before anything is stored: every digest matches its bytes, the manifest's
 * references resolve, every declared cron and time zone is valid, and the uploaded files are
 * exactly the files the image graphs copy. Throws a 422 listing every problem.
 */
export function verifyUpload(body: CreateDeploymentBody): VerifiedUpload {
  const issues: FieldIssue[] = [...checkManifest(body.manifest)]
  const add = (path: string, message: string) => issues.push({ path, message })

  body.manifest.tasks.forEach((task, i) => {
    if (!task.cron) return
    try {
      validateSchedule(task.cron.pattern, task.cron.timezone)
    } catch (error) {
      if (!(error instanceof ScheduleError)) throw error
      const field = error.field === "cron" ? "pattern" : "timezone"
      // Worded as the SDK's declaration error for the same `{ pattern, timezone }`.
      add(`tasks[${i}].cron.${field}`, `task "${task.id}": cron.${field}: ${error.message}`)
    }
  })

  const bundle = Buffer.from(body.bundle.content, "base64")
  if (sha256Digest(bundle) !== body.bundle.digest) {
    add("bundle.digest", "does not match the bundle's content")
  }

  const uploaded = new Map<string, { digest: string; content: Uint8Array }>()
  body.files.forEach((file, i) => {
    const content = Buffer.from(file.content, "base64")
    if (uploaded.has(file.path)) add(`files[${i}].path`, `"${file.path}" is uploaded twice`)
    else if (sha256Digest(content) !== file.digest) {
      add(`files[${i}].digest`, `does not match the content of "${file.path}"`)
    }
    uploaded.set(file.path, { digest: file.digest, content })
  })

  const referenced = new Map<string, string>()
  body.manifest.images.forEach((image, i) => {
    image.steps.forEach((step, j) => {
      if (step.op !== "copy") return
      step.files.forEach((file, k) => {
        const at = `manifest.images[${i}].steps[${j}].files[${k}]`
        const known = referenced.get(file.path)
        if (known !== undefined && known !== file.digest) {
          add(at, `"${file.path}" is listed with two different digests`)
        }
        referenced.set(file.path, file.digest)
        const sent = uploaded.get(file.path)
        if (!sent) add(at, `"${file.path}" is copied by image "${image.name}" but was not uploaded`)
        else if (sent.digest !== file.digest) {
          add(at, `"${file.path}" was uploaded with another digest`)
        }
      })
    })
  })
  for (const path of uploaded.keys()) {
    if (!referenced.has(path)) add("files", `"${path}" is uploaded but no image copies it`)
  }

  if (issues.length > 0) {
    const first = issues[0] as FieldIssue
    throw validationFailed(issues, `invalid deployment: ${first.path}: ${first.message}`)
  }
  const files = [...uploaded].map(([path, f]) => ({ path, digest: f.digest, content: f.content }))
  return {
    manifest: body.manifest,
    bundle: { digest: body.bundle.digest, content: bundle },
    files,
    contentDigest: contentDigest({
      bundleDigest: body.bundle.digest,
      manifest: body.manifest,
      files,
    }),
  }
}
