# The Worker's warm interpreter (runner/WarmInterpreters). Started with `python -u -c <this>` ahead of
# a job, it waits on stdin for that one job, turns into the script as `python -u <script> <args>` would
# have started it, runs it once and exits: a process is never reused. Before the job it imports nothing
# beyond what the interpreter loaded to start (os, sys) and the built-in modules atexit and _signal, and it
# takes the current directory off sys.path: nothing is looked up where a module of the script, or a file an
# earlier job left, could be found first. It reads its job with os.read, so nothing of what follows on stdin
# (the Job JSON, then end of file, as a cold start gets it) is taken from the script.
#
# The script runs as a cold start runs it: compiled from its file's bytes (coding cookie and BOM as the
# interpreter reads them) into a module named __main__ that stays sys.modules["__main__"] through the
# interpreter's shutdown, so atexit handlers, threads still running, and pickle find the script's classes
# in __main__ (runpy.run_path would put its caller's module back when the script's body returns).
#
# Job header: b"<length>\n" then <length> bytes of NUL-separated fields:
#   cwd, argc, argv[0] (the script) ... argv[argc-1], envc, NAME=value ... (envc of them)
# End of file before a whole header: the Worker let this interpreter go; it exits 0 and prints nothing.
import atexit
import os
import sys

# python -c puts the current directory first on sys.path; a cold start of the script puts its directory
# there instead (unless PYTHONSAFEPATH: then neither), set once the job says which.
_SAFE_PATH = getattr(sys.flags, "safe_path", False)
if not _SAFE_PATH and sys.path and sys.path[0] == "":
    del sys.path[0]


def _read(n):
    parts = []
    while n > 0:
        part = os.read(0, min(n, 1 << 20))
        if not part:
            return None
        parts.append(part)
        n -= len(part)
    return b"".join(parts)


def _job():
    digits = b""
    while True:
        byte = os.read(0, 1)
        if not byte:
            return None
        if byte == b"\n":
            break
        digits += byte
        if len(digits) > 12 or not byte.isdigit():
            raise SystemExit("warm launcher: malformed job header")
    payload = _read(int(digits))
    if payload is None:
        return None
    fields = [os.fsdecode(field) for field in payload.split(b"\0")]
    cwd, argc = fields[0], int(fields[1])
    argv = fields[2:2 + argc]
    envc = int(fields[2 + argc])
    env = dict(entry.split("=", 1) for entry in fields[3 + argc:3 + argc + envc])
    return cwd, argv, env


_interrupted = []


def _die_of_sigint():
    # A cold interpreter that ends on an uncaught KeyboardInterrupt kills itself with SIGINT once it has
    # finalised (exit status 130 to the shell); registered before the script's handlers, this runs last.
    if _interrupted:
        import _signal  # built in: found nowhere on sys.path
        _signal.signal(_signal.SIGINT, _signal.SIG_DFL)
        os.kill(os.getpid(), _signal.SIGINT)


def _added_at_start_up():
    # What the interpreter put into its own environment as it started (PEP 538's LC_CTYPE coercion):
    # a cold start of the script would have added it too, the interpreter's environment being the same
    # but for the job's own variables, which the Worker keeps from playing any part in start-up.
    try:
        with open("/proc/self/environ", "rb") as f:
            given = dict(entry.split(b"=", 1) for entry in f.read().split(b"\0") if b"=" in entry)
    except OSError:
        return {}
    return {name: value for name, value in os.environ.items()
            if given.get(os.fsencode(name)) != os.fsencode(value)}


def _main():
    added = _added_at_start_up()
    job = _job()
    if job is None:
        return
    cwd, argv, env = job
    for name, value in added.items():
        env.setdefault(name, value)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    sys.argv = list(argv)
    script = argv[0]
    if not _SAFE_PATH:
        sys.path.insert(0, os.path.dirname(os.path.realpath(script)))  # a cold start's sys.path[0]
    atexit.register(_die_of_sigint)
    try:
        with open(script, "rb") as f:
            source = f.read()
    except OSError as e:  # as the interpreter says it, with its exit status
        sys.stderr.write(f"{sys.orig_argv[0]}: can't open file {script!r}: [Errno {e.errno}] {e.strerror}\n")
        raise SystemExit(2)
    # The script's own __main__, as a cold start builds it (same names, in the same order): a source loader,
    # no spec, no package, __file__ and __cached__ while the script's body runs, and not after (CPython takes
    # them away once the body returns or its traceback is printed, before atexit handlers run; a SystemExit
    # exits from inside its report, so they stay for the handlers and threads of sys.exit()).
    main = type(sys)("__main__")
    path = os.path.abspath(script)
    main.__loader__ = sys.modules["_frozen_importlib_external"].SourceFileLoader("__main__", path)
    main.__annotations__ = {}
    main.__builtins__ = sys.modules["builtins"]
    main.__file__ = path
    main.__cached__ = None
    sys.modules["__main__"] = main
    exiting = False
    try:
        exec(compile(source, script, "exec", dont_inherit=True), main.__dict__)
    except SystemExit:
        exiting = True
        raise
    except BaseException as e:
        # Report it as a cold start would: the traceback from the script's own first frame (none for a
        # SyntaxError, which is raised before the script runs), through the script's sys.excepthook.
        tb = e.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != script:
            tb = tb.tb_next
        e = e.with_traceback(tb)
        sys.last_type, sys.last_value, sys.last_traceback = type(e), e, tb
        sys.excepthook(type(e), e, tb)
        if isinstance(e, KeyboardInterrupt):
            _interrupted.append(True)
    else:
        return
    finally:
        if not exiting:
            main.__dict__.pop("__file__", None)
            main.__dict__.pop("__cached__", None)
    raise SystemExit(1)


_main()
