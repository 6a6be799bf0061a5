// Starts `gptw serve --port 0` (or a given port) as a real child process over a given workspace and reads its URL.
import { type ChildProcess, spawn } from 'node:child_process'
import path from 'node:path'

export interface RunningHost {
  url: string
  origin: string
  process: ChildProcess
  stop(): Promise<void>
}

const ROOT = path.join(__dirname, '..')

export function startHost(workspace: string, port = 0): Promise<RunningHost> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'gptw.js'), 'serve', '--port', String(port)], {
    env: { ...process.env, GPTW_HOME: workspace },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gptw serve did not print its URL:\n${output}`)), 20_000)
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      const match = /serving at (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(output)
      if (!match) return
      clearTimeout(timer)
      const url = match[1]
      resolve({
        url,
        origin: new URL(url).origin,
        process: child,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done()
            child.once('exit', () => done())
            child.kill('SIGTERM')
          })
      })
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', (code) => reject(new Error(`gptw serve exited with ${code}:\n${output}`)))
  })
}
