// Reads a JSON or YAML config file with errors that name the file and the problem.
import fs from 'node:fs'
import { parse as parseYaml } from 'yaml'

export function readConfigFile(file: string): unknown {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch {
    throw new Error(`Config file ${file} does not exist or cannot be read.`)
  }
  try {
    return /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text)
  } catch (err) {
    throw new Error(`Config file ${file} is not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(err as Error).message.split('\n')[0]}`, { cause: err })
  }
}
