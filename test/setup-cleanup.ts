// Runs in every test file before its tests: the temp folders the file made go when it ends. This
// hook is registered before the file's own, and vitest runs afterAll hooks last-registered first,
// so the folders go after the file has closed whatever still writes to them.
import { afterAll } from 'vitest'
import { removeTempDirs } from './helpers'

afterAll(() => removeTempDirs())
