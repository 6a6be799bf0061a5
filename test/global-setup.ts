// The supervisor and host tests fork the built workers: build once if the bundle is missing.
import { execSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

export default function setup(): void {
  const root = path.join(__dirname, '..')
  if (!['tokenize.js', 'prepare.js', 'eval.js', 'generate.js'].every((f) => fs.existsSync(path.join(root, 'out', 'main', 'workers', f)))) {
    execSync('npx electron-vite build', { cwd: root, stdio: 'inherit' })
  }
}
