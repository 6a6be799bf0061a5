// Training presets (resources/presets/*.json): the seed's GPT-2 / GPT-3 shapes and CPU-sized ones.
import { z } from 'zod'
import { TrainConfig } from './config/train'

export const Preset = z.strictObject({
  name: z.string().regex(/^[a-z0-9.-]+$/),
  title: z.string(),
  description: z.string(),
  config: TrainConfig
})
export type Preset = z.infer<typeof Preset>
