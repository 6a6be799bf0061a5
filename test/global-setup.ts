// The supervisor and host tests fork the built workers and serve the built renderer: build when
// a bundle is missing or older than any source it is built from, so a run never tests stale
// code. Several test runs may start at once in one working tree: a lock file lets one of them
// build while the others wait, then check again.
import { execSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

const ROOT = path.join(__dirname, '..')
const OUT = path.join(ROOT, 'out')
const LOCK = path.join(ROOT, 'out', '.test-build.lock')
/** What the tests load; the build writes all of them. */
const BUNDLES = ['main/index.js', 'main/cli.js', 'preload/index.js', 'renderer/index.html', ...['tokenize', 'prepare', 'train', 'eval', 'generate'].map((w) => `main/workers/${w}.js`)]
/** What the bundles are built from. */
const INPUTS = ['src', 'electron.vite.config.ts', 'package-lock.json']
/** A build takes well under a minute; a lock older than this was left by a run that died mid-build. */
const LOCK_STALE_MS = 10 * 60_000

function newestInput(): { file: string; mtimeMs: number } {
  let newest = { file: '', mtimeMs: 0 }
  const visit = (p: string): void => {
    const stat = fs.statSync(p, { throwIfNoEntry: false })
    if (!stat) return
    if (stat.isDirectory()) for (const name of fs.readdirSync(p)) visit(path.join(p, name))
    else if (stat.mtimeMs > newest.mtimeMs) newest = { file: path.relative(ROOT, p), mtimeMs: stat.mtimeMs }
  }
  for (const input of INPUTS) visit(path.join(ROOT, input))
  return newest
}

/** Why the bundles must be built again, or null when they are current. */
export function staleReason(): string | null {
  let oldest = Infinity
  for (const bundle of BUNDLES) {
    const stat = fs.statSync(path.join(OUT, bundle), { throwIfNoEntry: false })
    if (!stat) return `out/${bundle} is missing`
    oldest = Math.min(oldest, stat.mtimeMs)
  }
  const newest = newestInput()
  return newest.mtimeMs > oldest ? `${newest.file} is newer than the built bundles` : null
}

function lockHolderAlive(): boolean {
  const stat = fs.statSync(LOCK, { throwIfNoEntry: false })
  if (!stat) return true // just released: try again
  const age = Date.now() - stat.mtimeMs
  if (age > LOCK_STALE_MS) return false
  let pid: number
  try {
    pid = (JSON.parse(fs.readFileSync(LOCK, 'utf8')) as { pid: number }).pid
  } catch {
    return age < 5000 // being written; unreadable for longer: left by a run that died
  }
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' // alive, under another user
  }
}

/** Takes the build lock: true when taken, false when another live run holds it. */
function tryLock(): boolean {
  fs.mkdirSync(OUT, { recursive: true })
  try {
    fs.writeFileSync(LOCK, JSON.stringify({ pid: process.pid }), { flag: 'wx' })
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    if (!lockHolderAlive()) fs.rmSync(LOCK, { force: true }) // the next try takes it
    return false
  }
}

export default async function setup(): Promise<void> {
  // Several engineers in one working tree: a test that forks no worker and serves no page may run
  // while someone else's half-edited file breaks the build. Never set in CI.
  if (process.env.GPTW_TEST_SKIP_BUILD === '1' && !process.env.CI) {
    console.log('GPTW_TEST_SKIP_BUILD=1: not checking the built bundles (tests that fork workers may run stale code).')
    return
  }
  const deadline = Date.now() + LOCK_STALE_MS
  let told = false
  for (;;) {
    const reason = staleReason()
    if (!reason) return
    if (tryLock()) {
      try {
        // Another run may have finished a build while this one waited for the lock.
        const still = staleReason()
        if (still) {
          console.log(`Building the app for the tests (pid ${process.pid}): ${still}.`)
          try {
            execSync('npx electron-vite build', { cwd: ROOT, stdio: 'inherit' })
          } catch {
            throw new Error(
              `The app build failed (its output is above), so the tests would run stale bundles (${still}). Fix the build and run the tests again (tests that fork no worker can skip this check with GPTW_TEST_SKIP_BUILD=1).`
            )
          }
        }
      } finally {
        fs.rmSync(LOCK, { force: true })
      }
      return
    }
    if (!told) console.log(`Waiting for another test run's build (pid ${process.pid}; ${path.relative(ROOT, LOCK)}): ${reason}.`)
    told = true
    if (Date.now() > deadline) throw new Error(`Timed out waiting for another test run's build (${LOCK})`)
    await new Promise((r) => setTimeout(r, 500))
  }
}
