# The classic daemon: fork, setsid in the child, fork again, and let the middle process exit, so the
# grandchild is re-parented to init. It keeps stdout open. The script then reports at once.
import json, os, sys, time
pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    with open("grandchild.pid", "w") as f:
        f.write(str(os.getpid()))
    time.sleep(300)
    os._exit(0)
os.waitpid(pid, 0)
while not os.path.exists("grandchild.pid"):
    time.sleep(0.01)
with open("script.ended", "w") as f:
    f.write(repr(time.time()))
print(json.dumps({"status": 200, "jobId": "x"}), flush=True)
