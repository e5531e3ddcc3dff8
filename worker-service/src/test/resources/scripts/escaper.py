# Starts a grandchild in a session of its own (start_new_session=True) that keeps stdout and stderr
# open, then reports at once. With "ignoreTerm" in argv the grandchild ignores SIGTERM too.
import json, os, subprocess, sys, time
code = ("import signal, time\n"
        + ("signal.signal(signal.SIGTERM, signal.SIG_IGN)\n" if "ignoreTerm" in sys.argv else "")
        + "time.sleep(300)\n")
child = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
with open("grandchild.pid", "w") as f:
    f.write(str(child.pid))
time.sleep(0.2)  # let it start (and install its handler) before the script ends
with open("script.ended", "w") as f:
    f.write(repr(time.time()))
print(json.dumps({"status": 200, "jobId": "x", "session": os.getsid(0), "pid": os.getpid()}), flush=True)
