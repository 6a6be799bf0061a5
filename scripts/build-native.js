#!/usr/bin/env node
// Builds the native CPU kernels (native/, N-API) with node-gyp. Runs during `npm ci`; a failed
// build never fails the install: the engine then uses its wasm backend and says why.
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const nativeDir = path.join(root, 'native')

function nodeGyp() {
  const candidates = [process.env.npm_config_node_gyp, path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')]
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'))
  } catch {
    /* not installed as a package */
  }
  return candidates.find((c) => c && fs.existsSync(c))
}

if (process.env.GPTW_SKIP_NATIVE === '1') {
  console.log('gptw: native kernels skipped (GPTW_SKIP_NATIVE=1).')
  process.exit(0)
}
const gyp = nodeGyp()
if (!gyp) {
  console.warn('gptw: node-gyp not found; native kernels not built. Training runs on the wasm backend.')
  process.exit(0)
}
const args = [gyp, 'rebuild', '--release']
if (process.env.npm_config_nodedir) args.push(`--nodedir=${process.env.npm_config_nodedir}`)
const started = Date.now()
const result = spawnSync(process.execPath, args, { cwd: nativeDir, encoding: 'utf8' })
if (result.status === 0) {
  console.log(`gptw: native kernels built in ${((Date.now() - started) / 1000).toFixed(1)} s (native/build/Release/gptw_native.node).`)
} else {
  const tail = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-8).join('\n')
  console.warn(`gptw: the native kernels did not build; training will use the wasm backend instead.\n${tail}\n(Needs g++, make and Python 3; run \`npm run build:native\` to retry.)`)
}
process.exit(0)
