import json, sys
job = json.loads(sys.argv[1])
print("epoch 1")
print("epoch 2", file=sys.stderr)
print(json.dumps({"status": 200, "jobId": job["_id"], "loss": 1.5, "metric": 2.5}))
