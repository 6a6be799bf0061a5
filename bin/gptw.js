#!/usr/bin/env node
// gptw: the GPT Workbench CLI. The code lives in the build (out/main/cli.js).
const fs = require('node:fs')
const path = require('node:path')

const cli = path.join(__dirname, '..', 'out', 'main', 'cli.js')
if (!fs.existsSync(cli)) {
  console.error('gptw: the workbench is not built yet. Run `npm ci` (it builds) or `npm run build` in ' + path.dirname(__dirname) + '.')
  process.exit(1)
}
require(cli).runCli(process.argv.slice(2))
