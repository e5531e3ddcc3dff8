import json, os, sys
from_argv = sys.argv[1] if len(sys.argv) > 1 else None
from_stdin = sys.stdin.read()
with open(os.environ["JOB_FILE"]) as f:
    from_file = f.read()
job = json.loads(from_file)
print(json.dumps({"status": 200, "jobId": job["_id"], "argv": from_argv is not None,
                  "sameOnStdin": json.loads(from_stdin) == job,
                  "sameInArgv": from_argv is None or json.loads(from_argv) == job,
                  "dataDir": os.environ.get("DATA_DIR"), "outputDir": os.environ.get("OUTPUT_DIR"),
                  "orderId": os.environ.get("BOSS_ORDER_ID"), "cwd": os.getcwd(),
                  "cuda": os.environ.get("CUDA_VISIBLE_DEVICES")}))
