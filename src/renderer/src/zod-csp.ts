// zod compiles fast parsers with `new Function` when it may; under the app's CSP (no
// 'unsafe-eval') even its probe is reported as a violation. Imported first, before any schema runs.
import { z } from 'zod'

z.config({ jitless: true })
