import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
with open("child.pid", "w") as f:
    f.write(str(child.pid))
print("spawned", child.pid, flush=True)
time.sleep(300)
