"""gptw_torch: GPT Workbench's PyTorch engine.

The same GPT-2, batches, optimizer, schedule and checkpoint folders as the embedded engine
(src/core/engine), on PyTorch: CUDA GPUs, and several processes or machines under torchrun.
Needs only torch and numpy. Run `python3 -m gptw_torch train --help`.
"""
