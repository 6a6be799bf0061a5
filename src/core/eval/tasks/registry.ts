// The 39 tasks of the seed's table (the seed project's README, "Run GPT with Colossal-AI"), by the harness's names, with their families.
import { glueTasks } from './glue'
import { superglueTasks } from './superglue'
import { lambada } from './lambada'
import { qaTasks } from './qa'
import { hfMiscTasks } from './hfmisc'
import { fileTasks } from './files'
import { generationTasks } from './generation'
import { hendrycksAbstractAlgebra } from './hendrycks'
import type { Task } from './types'

export const TASKS: readonly Task[] = [...glueTasks, ...superglueTasks, lambada as Task, ...qaTasks, ...hfMiscTasks, ...fileTasks, ...generationTasks, hendrycksAbstractAlgebra as Task]

const byName = new Map(TASKS.map((t) => [t.name, t]))

export function getTask(name: string): Task {
  const t = byName.get(name)
  if (!t) throw new Error(`Unknown eval task "${name}". Known tasks: ${[...byName.keys()].join(', ')}`)
  return t
}

export function taskNames(): string[] {
  return [...byName.keys()]
}
