# The Worker's warm interpreter (runner/WarmInterpreters). Started with `python -u -c <this> [module ...]`
# ahead of a job, it waits on stdin for that one job, turns into the script as `python -u <script> <args>`
# would have started it, runs it once and exits: a process is never reused. It takes the current directory
# off sys.path, and it runs no code but the standard library's before the job: nothing is looked up where a
# module of the script, or a file an earlier job left, could be found first. It reads its job with os.read,
# so nothing of what follows on stdin (the Job JSON, then end of file, as a cold start gets it) is taken
# from the script.
#
# Preload: the standard modules named after -c (the ones the project's scripts import through jobcontract,
# about 20 ms of a job's start, bench/ANALYSIS.md) are loaded while it waits, from the standard library's
# own entries of sys.path only and through the interpreter's own finders, then taken out of sys.modules and
# out of their packages' attributes again: the script sees none of them until it imports one. At that
# import, a finder first on sys.meta_path resolves the module, and every preloaded module it loaded, as the
# import would have without it (the finders behind it, the sys.path and package paths of that moment), and
# hands them over only if each resolves to the very file it was loaded from; else it gives the preload up
# and every import from then on loads from the files, as in a cold start. So a module on PYTHONPATH, beside
# the script, or put on sys.path by the script, that bears a preloaded module's name wins as in a cold start,
# a submodule is reachable only once imported, and a preload that fails is rolled back and costs nothing.
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



class _Preloaded:
    """The preloaded modules not yet imported, and the finder and loader that hand them over (see the top)."""

    stash = {}     # name -> module: loaded while waiting, not in sys.modules
    specs = {}     # name -> the spec it was loaded by (None: put into sys.modules by another's code, typing.io)
    needs = {}     # name -> names its own code imported while it loaded
    order = []     # the preloaded names in the order they loaded
    handed = []    # the names handed over, in order (what a test reads to know the preload was used)
    fresh = set()  # names given a module of their own to load from the file after all (see create_module)

    @classmethod
    def load(cls, names):
        """Loads `names` from the standard library's entries only; on any failure leaves no trace of them."""
        if not names or sys.flags.verbose or "importtime" in sys._xoptions or os.environ.get("PYTHONPROFILEIMPORTTIME"):
            return  # the import lines a cold start prints would be printed ahead of the job, and others than its
        standard = cls._standard_entries()
        if standard is None:
            return
        import builtins
        bootstrap = sys.modules["_frozen_importlib"]
        external = sys.modules["_frozen_importlib_external"]
        own = (bootstrap.BuiltinImporter, bootstrap.FrozenImporter, external.PathFinder)
        before = dict(sys.modules)
        caches = set(sys.path_importer_cache)
        saved = sys.path[:], sys.meta_path[:], builtins.__import__
        real_import = builtins.__import__

        def recording(name, globals=None, locals=None, fromlist=(), level=0):
            module = real_import(name, globals, locals, fromlist, level)
            importer = globals.get("__name__") if isinstance(globals, dict) else None
            if importer:
                target = name
                if level:
                    base = (globals.get("__package__") or "").rsplit(".", level - 1)[0]
                    target = base + "." + name if name else base
                found = cls.needs.setdefault(importer, set())
                found.add(target)
                found.update(target + "." + each for each in fromlist or () if target + "." + each in sys.modules)
            return module

        try:
            sys.path[:] = standard
            sys.meta_path[:] = [finder for finder in saved[1] if finder in own]
            builtins.__import__ = recording
            for name in names:
                __import__(name)
        except Exception:
            cls._roll_back(before)
            return
        finally:
            sys.path[:], sys.meta_path[:], builtins.__import__ = saved
            for entry in set(sys.path_importer_cache) - caches:  # as a cold start has them until it imports
                del sys.path_importer_cache[entry]
        for name, module in list(sys.modules.items()):
            if before.get(name, cls) is not module:
                cls.order.append(name)
                cls.stash[name] = sys.modules.pop(name)
                spec = getattr(module, "__spec__", None)
                cls.specs[name] = spec if isinstance(spec, bootstrap.ModuleSpec) and spec.origin else None
                if cls.specs[name] is None and "." in name:  # a name its package's code put into sys.modules
                    cls.needs.setdefault(name.rpartition(".")[0], set()).add(name)
        for name in cls.order:  # a submodule is its package's attribute once imported, not before
            parent, _, child = name.rpartition(".")
            owner = cls.stash.get(parent) or before.get(parent)
            if owner is not None and owner.__dict__.get(child) is cls.stash[name] \
                    and (parent not in cls.stash or name not in cls.closure(parent)):
                delattr(owner, child)
        if cls.stash:
            sys.meta_path.insert(0, cls)

    @staticmethod
    def _standard_entries():
        """sys.path's entries that hold the standard library (its zip, its folder, lib-dynload), or None."""
        home = os.path.dirname(os.__file__)
        if home not in sys.path or os.path.join(home, "lib-dynload") not in sys.path:
            return None
        at = sys.path.index(home)
        zipped = os.path.join(os.path.dirname(home), "python%d%d.zip" % sys.version_info[:2])
        first = at - 1 if at > 0 and sys.path[at - 1] == zipped else at
        return sys.path[first:at + 1] + [os.path.join(home, "lib-dynload")]

    @classmethod
    def _roll_back(cls, before):
        loaded = {id(module) for name, module in sys.modules.items() if before.get(name, cls) is not module}
        for name in [name for name, module in sys.modules.items() if before.get(name, cls) is not module]:
            del sys.modules[name]
        for module in before.values():
            for key, value in list(getattr(module, "__dict__", {}).items()):
                if id(value) in loaded:
                    delattr(module, key)
        cls.needs.clear()

    @classmethod
    def closure(cls, name):
        """`name`, its packages and what their code imported as they loaded, transitively, in load order."""
        seen, todo = set(), [name]
        while todo:
            each = todo.pop()
            if each in seen or each not in cls.specs:
                continue
            seen.add(each)
            todo.extend(cls.needs.get(each, ()))
            if "." in each:
                todo.append(each.rpartition(".")[0])
        return [each for each in cls.order if each in seen]

    @classmethod
    def _resolves_alike(cls, name):
        """True when an import of `name` now, without this finder, would find the file it was loaded from."""
        spec = cls.specs[name]
        parent = name.rpartition(".")[0]
        path = None
        if parent:
            owner = sys.modules.get(parent) or cls.stash.get(parent)
            path = getattr(owner, "__path__", None)
            if path is None:
                return False
        for finder in sys.meta_path:
            if finder is cls:
                continue
            find = getattr(finder, "find_spec", None)
            if find is None:
                return False  # a legacy finder: not worth imitating
            found = find(name, path, None)
            if found is not None:
                return found.origin == spec.origin and \
                    found.submodule_search_locations == spec.submodule_search_locations
        return False

    @classmethod
    def give_up(cls):
        cls.stash.clear()
        if cls in sys.meta_path:
            sys.meta_path.remove(cls)

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name not in cls.stash or cls.specs.get(name) is None:
            return None
        for each in cls.closure(name):
            if each in cls.stash and cls.specs[each] is not None and not cls._resolves_alike(each):
                cls.give_up()
                return None
        spec = cls.specs[name]
        return sys.modules["_frozen_importlib"].ModuleSpec(name, cls, origin=spec.origin,
                                                            is_package=spec.submodule_search_locations is not None)

    @classmethod
    def create_module(cls, spec):
        module = cls.stash.pop(spec.name, None)
        if module is None:  # given up, or taken, since find_spec: loaded from its file as any other
            cls.fresh.add(spec.name)
            return sys.modules["_frozen_importlib"].module_from_spec(cls.specs[spec.name])
        for each in cls.closure(spec.name):  # what its loading put into sys.modules, in the same order
            dependency = cls.stash.pop(each, None)
            if dependency is not None:
                sys.modules[each] = dependency
                parent, _, child = each.rpartition(".")
                owner = module if parent == spec.name else sys.modules.get(parent)
                if owner is not None:
                    setattr(owner, child, dependency)
                cls.handed.append(each)
        cls.handed.append(spec.name)
        if not cls.stash:
            cls.give_up()
        return module

    @classmethod
    def exec_module(cls, module):
        name = module.__name__
        module.__spec__ = cls.specs[name]  # the import system set this finder's spec on it: its own goes back
        if name in cls.fresh:
            cls.fresh.discard(name)
            cls.specs[name].loader.exec_module(module)

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
    _Preloaded.load(sys.argv[1:])
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
