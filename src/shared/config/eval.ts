// The evaluation config: one schema for the Evaluate view, `gptw eval --config FILE` and the eval
// worker. It mirrors the seed's eval config (checkpoint, task_list, num_fewshot, no_cache, batch
// size) plus what a machine without the internet needs: where task data is fetched from.
import { z } from 'zod'
import { BackendChoice, DeviceId, EngineChoice, TorchDtypeChoice } from './train'

export const EvalSources = z.strictObject({
  /** Base of the Hugging Face Hub, or a mirror serving the same /api/datasets parquet layout. */
  huggingfaceBase: z.string().url('huggingfaceBase must be a URL such as https://huggingface.co').default('https://huggingface.co'),
  /** Origin -> replacement base for the official direct files, e.g. {"https://people.eecs.berkeley.edu": "http://mirror/berkeley"}. */
  mirrors: z.record(z.string().url('mirror origins are URLs'), z.string().url('mirror bases are URLs')).default({}),
  /** Check the harness's SHA-256 of official files (turn off for a mirror serving other bytes). */
  verifyChecksums: z.boolean().default(true),
  /** Hub repository renames, e.g. {"ybisk/piqa": "someone/piqa"}. */
  hfRepoAliases: z.record(z.string(), z.string()).optional()
})
export type EvalSources = z.infer<typeof EvalSources>

export const EvalConfig = z.strictObject({
  /** Checkpoint folders (model.safetensors + config.json): a run's step-N folders or any GPT-2 folder. */
  checkpoints: z.array(z.string().min(1)).min(1, 'name at least one checkpoint folder').max(64),
  /** Task names as the harness spells them (see `evals.tasks`). */
  tasks: z.array(z.string().min(1)).min(1, 'name at least one task').max(200),
  numFewshot: z.number().int().min(0).max(64).default(0),
  /** Documents per task (the first N after the harness's Random(42) shuffle); omitted: all. */
  limit: z.number().int().min(1).optional(),
  /** Neither read nor write the request cache (the seed's no_cache). */
  noCache: z.boolean().default(false),
  /** Sequences per forward pass. */
  batchSize: z.number().int().min(1).max(1024).default(8),
  /** Bootstrap resamples for the stderr of mcc / f1 / ppl (the harness: 100000; bleu, chrf and ter use at most 1000). */
  bootstrapIters: z.number().int().min(10).max(100_000).default(100_000),
  sources: EvalSources.prefault({}),
  backend: BackendChoice.default('auto'),
  /** Which engine answers: embedded (tfjs + native kernels), pytorch (python/gptw_torch model servers) or auto (pytorch when a GPU is selected and the interpreter has torch with CUDA). */
  engine: EngineChoice.default('embedded'),
  /** The PyTorch engine's devices, one model server each; requests are sharded across them by length. */
  devices: z
    .array(DeviceId)
    .min(1)
    .max(64)
    .refine((d) => new Set(d).size === d.length, 'a device is listed twice')
    .default(['cpu:0']),
  /** The PyTorch engine's interpreter; else GPTW_PYTHON, else python3 on PATH. */
  python: z.string().min(1).max(4096).optional(),
  /** The PyTorch engine's weights and activations. auto: float32 (log-likelihoods are compared to the third digit and beyond, past bfloat16's precision); bfloat16 only on a CUDA GPU with bf16, refused on the CPU. */
  dtype: TorchDtypeChoice.default('auto'),
  /** Task name -> description prepended to every prompt (the seed's description_dict). */
  descriptions: z.record(z.string(), z.string()).optional()
})
export type EvalConfig = z.infer<typeof EvalConfig>
export type EvalConfigInput = z.input<typeof EvalConfig>

/** The engine an eval job ran on (the job result's `engine`): auto resolved, with its devices and dtype or the embedded backend. */
export interface EvalEngineRan {
  name: 'embedded' | 'pytorch'
  /** "cpu, float32; torch 1.13.1" or the embedded backend's description. */
  detail: string
  dtype: string
}

/** A checkpoint as the worker receives it: its folder and the name the matrix shows. */
export const EvalCheckpointRef = z.strictObject({ dir: z.string().min(1), label: z.string() })
export type EvalCheckpointRef = z.infer<typeof EvalCheckpointRef>

/** What the eval worker receives once main has checked the folders and chosen the data folder. */
export const EvalWorkerParams = z.strictObject({
  config: EvalConfig,
  checkpoints: z.array(EvalCheckpointRef).min(1),
  /** The workspace's eval-data/ folder (downloads kept between runs). */
  dataDir: z.string().min(1)
})
export type EvalWorkerParams = z.infer<typeof EvalWorkerParams>
