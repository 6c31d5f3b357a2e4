import { existsSync, realpathSync, statSync } from "node:fs"
import { join, relative, sep } from "node:path"
import type { ImageGraph, ManifestFile } from "../contract/manifest.ts"
import { CliError } from "./errors.ts"

/** A project file an image copies: its manifest path, digest and bytes. */
export interface ProjectFile extends ManifestFile {
  content: Uint8Array
}

/** Directories `source.dir()` never copies. */
const SKIPPED_DIRS = new Set([".git", "node_modules"])

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`
}

/**
 * Reads every file the images' copy steps refer to, fills each step's `files` with paths and
 * digests, and returns the files to upload (each once). Paths must stay inside the project, also
 * through symlinks.
 */
export async function resolveCopiedFiles(
  projectDir: string,
  images: ImageGraph[],
): Promise<{ images: ImageGraph[]; files: ProjectFile[] }> {
  const root = realpathSync(projectDir)
  const files = new Map<string, ProjectFile>()
  const read = async (path: string, context: string): Promise<ManifestFile> => {
    const known = files.get(path)
    if (known) return { path, digest: known.digest }
    const absolute = inside(root, join(root, path), context)
    const content = new Uint8Array(await Bun.file(absolute).arrayBuffer())
    const file = { path, digest: sha256Digest(content), content }
    files.set(path, file)
    return { path, digest: file.digest }
  }

  const resolved: ImageGraph[] = []
  for (const image of images) {
    const steps: ImageGraph["steps"] = []
    for (const step of image.steps) {
      if (step.op !== "copy") {
        steps.push(step)
        continue
      }
      const { kind, path } = step.source
      const context = `image ${JSON.stringify(image.name)}: copy ${step.dest}: source.${kind}(${JSON.stringify(path)})`
      const target = join(root, path)
      if (!existsSync(target)) throw new CliError(`${context}: no such ${kind} in ${projectDir}`)
      const isDir = statSync(target).isDirectory()
      if (kind === "file" && isDir)
        throw new CliError(`${context}: is a directory; use source.dir()`)
      if (kind === "dir" && !isDir) throw new CliError(`${context}: is a file; use source.file()`)
      const paths = kind === "file" ? [path] : await listDir(root, path, context)
      const listed: ManifestFile[] = []
      for (const p of paths) listed.push(await read(p, context))
      steps.push({ ...step, files: listed })
    }
    resolved.push({ ...image, steps })
  }
  return { images: resolved, files: [...files.values()] }
}

async function listDir(root: string, dir: string, context: string): Promise<string[]> {
  const base = inside(root, join(root, dir), context)
  const glob = new Bun.Glob("**/*")
  const found: string[] = []
  for await (const rel of glob.scan({
    cwd: base,
    onlyFiles: true,
    dot: true,
    followSymlinks: false,
  })) {
    const parts = rel.split(sep)
    if (parts.some((part) => SKIPPED_DIRS.has(part))) continue
    found.push(dir === "." ? parts.join("/") : `${dir}/${parts.join("/")}`)
  }
  if (found.length === 0) throw new CliError(`${context}: the directory has no files to copy`)
  return found.sort()
}

/** The real path of `path`, refused when it leads outside the project (e.g. by a symlink). */
function inside(root: string, path: string, context: string): string {
  const real = realpathSync(path)
  const rel = relative(root, real)
  if (rel === ".." || rel.startsWith(`..${sep}`) || rel.startsWith(sep)) {
    throw new CliError(`${context}: leads outside the project (${real})`)
  }
  return real
}
