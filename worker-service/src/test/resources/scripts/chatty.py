import json, sys
line = "x" * 1023 + "\n"
out = sys.stdout
for _ in range(200 * 1024):
    out.write(line)
out.write(json.dumps({"status": 200, "jobId": "chatty", "loss": 0.0, "metric": 0.0}) + "\n")
