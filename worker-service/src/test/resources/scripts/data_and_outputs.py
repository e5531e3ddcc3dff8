import json, os, sys, time
job = json.loads(sys.argv[1])
out = os.environ["OUTPUT_DIR"]
seen = {"dataFile": os.environ.get("DATA_FILE"), "dataDir": os.environ.get("DATA_DIR"),
        "inputDir": os.environ.get("INPUT_DIR")}
if seen["dataFile"]:
    with open(seen["dataFile"]) as f:
        seen["data"] = f.read()
name = job.get("dataFileName")
if name and os.path.exists(os.path.join(seen["dataDir"], name)):
    with open(os.path.join(seen["dataDir"], name)) as f:
        seen["viaDataDir"] = f.read()
if seen["inputDir"]:
    seen["inputs"] = {}
    for entry in sorted(os.listdir(seen["inputDir"])):
        with open(os.path.join(seen["inputDir"], entry)) as f:
            seen["inputs"][entry] = f.read()
for path, text in job.get("write", {}).items():
    target = os.path.join(out, path)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "w") as f:
        f.write(text)
if job.get("linkOut"):
    os.symlink("/etc", os.path.join(out, "escape"))
if job.get("sleep"):
    print("written", flush=True)
    time.sleep(job["sleep"])
print(json.dumps({"status": 200, "jobId": job["_id"], "seen": seen, "artifacts": [{"name": "forged.pt"}]}))
