import json, sys
# A script that reports a manifest of its own, claiming to be something it is not.
job = json.loads(sys.argv[1])
print(json.dumps({"status": 200, "jobId": job["_id"], "loss": 1.0,
                  "manifest": {"scriptSha256": "forged", "seed": 1, "gpu": "imaginary"}}))
