#!/usr/bin/env node
// Checks what npm would show of each package given on the command line: it
// packs the package with `pnpm pack` (so workspace: versions are replaced,
// as on publish), then reads the tarball itself. The npm page of a package
// is its README; its license is its LICENSE file and `license` field; the
// links on the page come from `repository`, `homepage` and `bugs`; search
// finds it by `description` and `keywords`. A package missing one of them
// fails, with one line per problem.
//
//   node scripts/check-package-files.mjs packages/core packages/server ...
//
// Exit code 0 when every package passes, 1 otherwise.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'

const REPOSITORY_URL = 'git+https://github.com/wirecall/wirecall.git'

/**
 * The problems of one packed package, given the paths in its tarball and
 * its packed package.json; empty when it is fine. `folder` is the
 * package's folder name under packages/ (`core`).
 */
function packedPackageProblems(folder, entries, manifest, files) {
  const problems = []
  const has = (path) => entries.includes(`package/${path}`)
  if (!has('README.md')) problems.push('the tarball has no README.md (the npm page would be empty)')
  if (!has('LICENSE')) problems.push('the tarball has no LICENSE file')
  const text = (field) => typeof manifest[field] === 'string' && manifest[field].trim() !== ''
  if (!text('description')) problems.push('package.json has no "description"')
  if (manifest.license !== 'MIT') problems.push(`package.json "license" is ${JSON.stringify(manifest.license)}, not "MIT"`)
  if (!Array.isArray(manifest.keywords) || manifest.keywords.length === 0 || !manifest.keywords.every((k) => typeof k === 'string' && k !== '')) {
    problems.push('package.json has no "keywords" (a non-empty list of words)')
  }
  if (!text('homepage') || !manifest.homepage.startsWith('https://')) problems.push('package.json has no "homepage" (an https:// URL)')
  const bugs = typeof manifest.bugs === 'string' ? manifest.bugs : manifest.bugs?.url
  if (typeof bugs !== 'string' || !bugs.startsWith('https://')) problems.push('package.json has no "bugs" (an https:// URL, or { "url": ... })')
  const repo = manifest.repository
  const wanted = { type: 'git', url: REPOSITORY_URL, directory: `packages/${folder}` }
  if (typeof repo !== 'object' || repo === null || repo.type !== wanted.type || repo.url !== wanted.url || repo.directory !== wanted.directory) {
    problems.push(`package.json "repository" is ${JSON.stringify(repo)}, not ${JSON.stringify(wanted)}`)
  }
  for (const needed of ['README.md', 'LICENSE']) {
    if (!Array.isArray(manifest.files) || !manifest.files.includes(needed)) problems.push(`package.json "files" does not list ${needed}`)
  }
  if (has('LICENSE') && !/^MIT License\n\nCopyright \(c\) \d{4} the wirecall authors\n/.test(files.LICENSE ?? '')) {
    problems.push('LICENSE is not the MIT license of "the wirecall authors"')
  }
  if (has('README.md') && !(files['README.md'] ?? '').startsWith(`# ${manifest.name}\n`)) problems.push(`README.md does not start with "# ${manifest.name}"`)
  return problems
}

/** Packs the package in `dir` into a temporary folder and checks the tarball. */
function checkPackageDir(dir) {
  const out = mkdtempSync(join(tmpdir(), 'wirecall-pack-'))
  try {
    execFileSync('pnpm', ['pack', '--pack-destination', out], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
    const tarball = join(out, readdirSync(out).find((name) => name.endsWith('.tgz')))
    const entries = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean)
    const read = (path) => execFileSync('tar', ['-xzOf', tarball, `package/${path}`], { encoding: 'utf8' })
    const files = {}
    for (const path of ['README.md', 'LICENSE']) if (entries.includes(`package/${path}`)) files[path] = read(path)
    return packedPackageProblems(basename(resolve(dir)), entries, JSON.parse(read('package.json')), files)
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
}

const dirs = process.argv.slice(2)
if (dirs.length === 0) {
  console.error('usage: node scripts/check-package-files.mjs <package dir>...')
  process.exit(2)
}
let failed = false
for (const dir of dirs) {
  const problems = checkPackageDir(dir)
  for (const problem of problems) console.error(`check-packages: ${dir.replace(/\/$/, '')}: ${problem}`)
  failed ||= problems.length > 0
}
if (failed) process.exit(1)
console.log(`check-packages: README.md, LICENSE and package.json fields present in the packed tarballs of ${dirs.length} package(s)`)
