# Leaves a child that shares stdout and, when it gets SIGTERM, prints a line there; reports at once.
import json, os, subprocess, sys, time
code = ("import signal, sys, time\n"
        "def bye(*_):\n"
        "    print('child got SIGTERM', flush=True)\n"
        "    sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, bye)\n"
        "open('child.ready', 'w').close()\n"
        "time.sleep(300)\n")
subprocess.Popen([sys.executable, "-c", code])
deadline = time.time() + 20
while not os.path.exists("child.ready") and time.time() < deadline:
    time.sleep(0.01)  # its handler is in place before the script ends
print(json.dumps({"status": 200, "jobId": "x"}), flush=True)
