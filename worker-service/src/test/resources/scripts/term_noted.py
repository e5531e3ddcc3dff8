# Ignores SIGTERM, but writes term.received in its directory when one comes, then sleeps on.
import json, signal, time


def noted(signum, frame):
    with open("term.received", "w") as f:
        f.write("SIGTERM")


signal.signal(signal.SIGTERM, noted)
print("waiting", flush=True)
time.sleep(60)
print(json.dumps({"status": 200, "jobId": "x"}))
