import json, os
print(json.dumps({"status": 200, "jobId": "x", "env": sorted(os.environ), "pid": os.getpid(),
                  "session": os.getsid(0)}))
