import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { projectFiles, type TypecheckLib } from './sources'

/**
 * Where the generated projects go: bench/.generated/typecheck/<lib>
 * (gitignored). Under bench/, so that node resolution from them finds
 * bench/node_modules: zod, @trpc/*, and @wirecall/* through the workspace
 * links, whose `exports` types are the built packages/*\/dist/*.d.ts.
 */
export const GENERATED_ROOT = fileURLToPath(new URL('../../.generated/typecheck/', import.meta.url))

/** Directory name of each project under GENERATED_ROOT. */
export const PROJECT_DIRS: Record<TypecheckLib, string> = { wirecall: 'wirecall', trpc: 'trpc', zodOnly: 'zod-only' }

/** Writes the generated project for `lib` afresh and returns its directory. */
export async function generateProject(lib: TypecheckLib): Promise<string> {
  const dir = join(GENERATED_ROOT, PROJECT_DIRS[lib])
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  for (const [name, text] of Object.entries(projectFiles(lib))) await writeFile(join(dir, name), text)
  return dir
}
