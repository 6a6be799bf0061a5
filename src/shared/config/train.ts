// The training config: one schema for the UI editor, the CLI and the trainer. JSON or YAML on disk.
import { z } from 'zod'
import { ModelConfig } from './model'

export const BackendChoice = z.enum(['auto', 'tensorflow-gpu', 'tensorflow', 'native', 'wasm', 'cpu'])

/** Which trainer runs the config: the embedded engine (tfjs + native kernels), the PyTorch engine (python/gptw_torch under torchrun), or auto (PyTorch when a Python with torch and CUDA is found and a GPU is selected, else embedded). */
export const EngineChoice = z.enum(['embedded', 'pytorch', 'auto'])
export type EngineChoice = z.infer<typeof EngineChoice>

/** A machine of an SSH launch: how it is reached, its GPUs (0: one CPU process) and the folder the run works in there. */
export const SshHost = z.strictObject({
  host: z.string().min(1).max(512),
  gpus: z.number().int().min(0).max(64).default(0),
  workDir: z.string().min(1).max(4096)
})
export type SshHost = z.infer<typeof SshHost>

/** Where the PyTorch engine's torchrun runs: here (local), on each of a hosts list over SSH, or as a Slurm batch job. */
export const LauncherConfig = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('local') }),
  z.strictObject({
    kind: z.literal('ssh'),
    hosts: z.array(SshHost).min(1).max(256),
    /** The rendezvous port on the first host. */
    rdzvPort: z.number().int().min(1).max(65535).default(29500),
    /** Extra ssh arguments (e.g. -p 2222, -i KEY); BatchMode and the host-key policy are added. */
    sshOptions: z.array(z.string().max(4096)).max(32).default([])
  }),
  z.strictObject({
    kind: z.literal('slurm'),
    nodes: z.number().int().min(1).max(4096),
    gpusPerNode: z.number().int().min(0).max(64),
    /** sbatch --time, e.g. 01:00:00 or 2-00:00:00. */
    time: z.string().regex(/^[\d:-]+$/, 'time looks like 01:00:00 or 2-00:00:00'),
    partition: z
      .string()
      .regex(/^[\w.,-]+$/)
      .optional(),
    account: z
      .string()
      .regex(/^[\w.-]+$/)
      .optional(),
    /** CPU processes per node when gpusPerNode is 0. */
    cpuProcesses: z.number().int().min(1).max(256).default(1),
    /** The c10d rendezvous port on the job's first node. */
    rdzvPort: z.number().int().min(1).max(65535).default(29500)
  })
])
export type LauncherConfig = z.infer<typeof LauncherConfig>

/** The PyTorch engine's dtype for eval and generation: auto (bfloat16 for generation on a CUDA GPU with bf16, else float32), float32, or bfloat16 (CUDA only; refused on the CPU). */
export const TorchDtypeChoice = z.enum(['auto', 'float32', 'bfloat16'])
export type TorchDtypeChoice = z.infer<typeof TorchDtypeChoice>
/**
 * ZeRO-style sharding on the PyTorch engine (python/gptw_torch/sharding.py): what each
 * data-parallel rank keeps of the training state. `none`: everything (plain DDP). `optimizer`:
 * ZeRO stage 1, AdamW's moments split over the ranks (ZeroRedundancyOptimizer under DDP; any
 * torch, CPU or GPU; the numbers are those of `none`). `full`: ZeRO stage 3, parameters,
 * gradients and moments split by FSDP FULL_SHARD (torch >= 2.0 with CUDA only). Checkpoints hold
 * the full moments either way, so a run moves between modes and process counts.
 */
export const ShardingChoice = z.enum(['none', 'optimizer', 'full'])
export type ShardingChoice = z.infer<typeof ShardingChoice>

export const DeviceId = z.string().regex(/^(cpu|gpu):\d+$/, 'devices look like cpu:0 or gpu:1')

export const TrainConfig = z
  .strictObject({
    name: z.string().min(1).max(200).optional(),
    model: ModelConfig,
    /** A token shard folder (train.bin, val.bin, meta.json); omitted: the bundled sample corpus. */
    dataset: z.string().min(1).optional(),
    /** Sequences per optimizer step, across all devices and micro-batches. */
    batchSize: z
      .number()
      .int()
      .min(1)
      .max(1 << 16),
    /** Gradient accumulation: each device's share is split into this many micro-batches. */
    microBatches: z.number().int().min(1).max(1024).default(1),
    steps: z.number().int().min(1).max(1e9),
    optimizer: z
      .strictObject({
        lr: z.number().positive().max(1),
        minLr: z.number().min(0).max(1).default(0),
        weightDecay: z.number().min(0).max(1).default(0.01),
        beta1: z.number().min(0).lt(1).default(0.9),
        beta2: z.number().min(0).lt(1).default(0.95),
        eps: z.number().positive().max(1).default(1e-8),
        /** Clip the global gradient norm to this; 0 turns clipping off. */
        gradClip: z.number().min(0).default(1)
      })
      .prefault({ lr: 6e-4 }),
    schedule: z
      .strictObject({
        decay: z.enum(['cosine', 'linear', 'constant']).default('cosine'),
        warmupSteps: z.number().int().min(0).default(0)
      })
      .prefault({}),
    eval: z
      .strictObject({
        /** Validation loss every N steps (0: never). */
        interval: z.number().int().min(0).default(50),
        batches: z.number().int().min(1).default(4)
      })
      .prefault({}),
    checkpoint: z
      .strictObject({
        /** Save every N steps (0: only at the end). */
        interval: z.number().int().min(0).default(100),
        keepLast: z.number().int().min(1).default(3)
      })
      .prefault({}),
    /**
     * Activation checkpointing (the seed's model checkpoint=True): keep only each block's input
     * from the forward pass and recompute the block's forward inside the backward. Less memory
     * (one block's activations at a time), one more forward per step. Embedded engine.
     */
    activationCheckpointing: z.boolean().optional(),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(1337),
    backend: BackendChoice.default('auto'),
    /** Embedded by default so existing configs train as before. */
    engine: EngineChoice.default('embedded'),
    /** The PyTorch engine's interpreter; else GPTW_PYTHON, else python3 on PATH. */
    python: z.string().min(1).max(4096).optional(),
    /** Start a new run from this checkpoint's or Hugging Face GPT-2 folder's weights (fine-tuning; PyTorch engine). */
    init: z.string().min(1).max(4096).optional(),
    devices: z.array(DeviceId).min(1).max(64).default(['cpu:0']),
    /** Memory admission: false starts the run even when its estimate (model, optimizer, activations, engine) is past the host's available memory. */
    memoryCheck: z.boolean().optional(),
    /** The PyTorch engine's launcher: local torchrun (default), SSH to a hosts list, or a Slurm batch job. */
    launcher: LauncherConfig.default({ kind: 'local' }),
    /** What each data-parallel rank keeps of the training state (ShardingChoice); PyTorch engine. */
    sharding: ShardingChoice.default('none'),
    /** The seed's parallel dict; this engine runs data parallel only. */
    parallel: z
      .strictObject({
        tensor: z.number().int().min(1).default(1),
        pipeline: z.number().int().min(1).default(1)
      })
      .prefault({})
  })
  .superRefine((c, ctx) => {
    if (c.parallel.tensor > 1 || c.parallel.pipeline > 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['parallel'],
        message: `tensor parallel ${c.parallel.tensor} x pipeline parallel ${c.parallel.pipeline} is not supported: this engine runs data parallel only (one worker per device, parallel.tensor = parallel.pipeline = 1)`
      })
    }
    if (c.sharding !== 'none' && c.engine === 'embedded') {
      ctx.addIssue({
        code: 'custom',
        path: ['sharding'],
        message: `sharding ${c.sharding} runs on the PyTorch engine only: the embedded engine keeps the whole optimizer state on every worker. Set engine: pytorch, or sharding: none`
      })
    }
    if (c.sharding === 'full' && c.launcher.kind === 'local' && !c.devices.some((d) => d.startsWith('gpu:'))) {
      ctx.addIssue({
        code: 'custom',
        path: ['sharding'],
        message: `sharding full (FSDP FULL_SHARD) needs CUDA GPUs (devices gpu:N) and torch >= 2.0; on CPU devices use sharding optimizer (ZeRO stage 1: the optimizer state split over the processes) or none`
      })
    }
    const perDevice = c.batchSize / c.devices.length
    if (!Number.isInteger(perDevice) || perDevice % c.microBatches !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['batchSize'],
        message: `batchSize ${c.batchSize} must split evenly over ${c.devices.length} device(s) x ${c.microBatches} micro-batch(es)`
      })
    }
    if (new Set(c.devices).size !== c.devices.length) ctx.addIssue({ code: 'custom', path: ['devices'], message: 'a device is listed twice' })
    if (c.optimizer.minLr > c.optimizer.lr) ctx.addIssue({ code: 'custom', path: ['optimizer', 'minLr'], message: 'minLr is above lr' })
  })
export type TrainConfig = z.infer<typeof TrainConfig>
export type TrainConfigInput = z.input<typeof TrainConfig>
