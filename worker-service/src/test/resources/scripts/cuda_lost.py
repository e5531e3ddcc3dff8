import os, sys
# A run whose GPU fell off the bus: torch's words for it, after the GPU it ran on.
print("visible=%s" % os.environ.get("CUDA_VISIBLE_DEVICES"), flush=True)
print("RuntimeError: CUDA error: unspecified launch failure", file=sys.stderr)
sys.exit(1)
