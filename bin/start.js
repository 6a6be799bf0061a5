#!/usr/bin/env node
// npm start: the desktop app under Electron; where Electron cannot start (no binary, no display)
// it says so in one line and serves the same UI on 127.0.0.1 instead.
const { spawn } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')

function electronBinary() {
  try {
    return { path: require('electron') }
  } catch (err) {
    return { reason: 'the Electron binary is not installed (' + String(err.message).split('\n')[0] + ')' }
  }
}

function missingDisplay() {
  return process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY
}

if (!fs.existsSync(path.join(root, 'out', 'main', 'index.js'))) {
  console.log('Building the workbench first (npm run build)...')
  const built = require('node:child_process').spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' })
  if (built.status !== 0) process.exit(built.status ?? 1)
}

const electron = electronBinary()
const reason = electron.path ? (missingDisplay() ? 'there is no display (DISPLAY is not set)' : null) : electron.reason
const portArg = process.argv.slice(2)

if (reason) {
  console.log(`Electron cannot start here: ${reason}; serving the same UI on 127.0.0.1 instead.`)
  require(path.join(root, 'out', 'main', 'cli.js')).runCli(['serve', ...portArg])
} else {
  const child = spawn(electron.path, [root], { stdio: 'inherit' })
  child.on('exit', (code) => process.exit(code ?? 0))
}
