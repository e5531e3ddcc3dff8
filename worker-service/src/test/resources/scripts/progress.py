# Reports progress lines as a sweep's trial does: ##progress {"step": s, "value": 1 / (s + 1)}.
# Job fields: points (how many, default 3), then sleep (seconds, default 0), then the Outcome; outcomeFirst: the Outcome, then one more
# progress line, so that a progress line comes last; forever: one point every 20 ms until stopped;
# ownOutcomeOnTerm: on SIGTERM print an Outcome with loss 0.3 and exit 0; artifact: write
# checkpoint.txt into the work directory (OUTPUT_DIR) first; leaveChild: leave a child sharing stdout
# that prints progress lines until it is killed.
import json, os, signal, subprocess, sys, time

job = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
outcome = {"status": 200, "jobId": job.get("_id", "x"), "loss": 0.5}


def point(step):
    # One write, so that a SIGTERM handler that prints cannot land between a line and its newline.
    sys.stdout.write("##progress " + json.dumps({"step": step, "value": 1 / (step + 1)}) + "\n")
    sys.stdout.flush()


if job.get("artifact"):
    with open(os.path.join(os.environ.get("OUTPUT_DIR", "."), "checkpoint.txt"), "w") as f:
        f.write("weights")
if job.get("ownOutcomeOnTerm"):
    def own(*_):
        print(json.dumps(dict(outcome, loss=0.3)), flush=True)
        sys.exit(0)
    signal.signal(signal.SIGTERM, own)
if job.get("forever"):
    step = 0
    while True:
        point(step)
        step += 1
        time.sleep(0.02)
if job.get("leaveChild"):
    code = ("import json, time\n"
            "open('child.ready', 'w').close()\n"
            "for s in range(100000):\n"
            "    print('##progress ' + json.dumps({'step': 1000 + s, 'value': 1}), flush=True)\n"
            "    time.sleep(0.001)\n")
    subprocess.Popen([sys.executable, "-c", code])
    deadline = time.time() + 20
    while not os.path.exists("child.ready") and time.time() < deadline:
        time.sleep(0.01)
for step in range(job.get("points", 3)):
    point(step)
time.sleep(job.get("sleep", 0))
print(json.dumps(outcome), flush=True)
if job.get("outcomeFirst"):
    point(99)
