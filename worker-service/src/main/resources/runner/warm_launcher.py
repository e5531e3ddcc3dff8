# The Worker's warm interpreter (runner/WarmInterpreters). Started with `python -u -c <this> [module ...]`
# ahead of a job, it waits on stdin for that one job, turns into the script as `python -u <script> <args>`
# would have started it, runs it once and exits: a process is never reused. It takes the current directory
# off sys.path, and it runs no code but the standard library's before the job: nothing is looked up where a
# module of the script, or a file an earlier job left, could be found first. It reads its job with os.read,
# so nothing of what follows on stdin (the Job JSON, then end of file, as a cold start gets it) is taken
# from the script.
#
# Preload: the standard modules named after -c (the ones the project's scripts import through jobcontract,
# about 20 ms of a job's start, bench/ANALYSIS.md) are loaded while it waits, once the Worker writes the line
# "preload" ahead of the job's header (its slot went idle, or it has waited a second: not while jobs come
# back to back, where it would only take a core from the previous job's reporting), from the standard library's
# own entries of sys.path only and through Python's own finders, recording the imports each one's loading
# made (in order, and those that failed); then they are taken out of sys.modules and out of their packages'
# attributes again: the script sees none of them until it imports one. A finder placed just before Python's
# own on sys.meta_path (so hooks installed at start-up, and any the script inserts, are asked first, as in a
# cold start) answers such an import only if the module, and every preloaded one its loading loaded, still
# resolves through the finders behind it to the very file it was loaded from, unchanged, with nothing put in
# sys.modules under its name. The module then makes its loading's imports again through the whole import
# system, in order: each must give what the module was built against, and each that failed must fail again;
# else, and on any error, that module loads from its file, and so does every module from then on, as in a
# cold start. So a module beside the script, on PYTHONPATH or put on sys.path by the script that bears a
# preloaded module's name wins, a post-import hook sees its modules, a stub or None in sys.modules holds, a
# submodule is reachable only once imported, and a preload that fails, prints or warns is rolled back. What a
# script can still tell: one more finder on sys.meta_path (until every preloaded module was imported); the
# hand-over's loader on a spec it asks for (it answers as the module's own); a builtins.__import__ hook sees
# the hand-over's imports as absolute names without globals, and audit hooks do not see the imports it did
# not make; a hook ahead of this finder that changes sys.path in the middle of an import is seen from the
# next import on; a KeyboardInterrupt landing in a hand-over shows import-system frames; what the preloaded
# modules' code registered in shared places (subclasses, copyreg) is there before it imports them; and the
# memory of those never imported. Only modules that capture no process state as they load belong on the
# list (logging keeps its start time, multiprocessing the directory it started in): the default is such.
#
# The script runs as a cold start runs it: compiled from its file's bytes (coding cookie and BOM as the
# interpreter reads them) into a module named __main__ that stays sys.modules["__main__"] through the
# interpreter's shutdown, so atexit handlers, threads still running, and pickle find the script's classes
# in __main__ (runpy.run_path would put its caller's module back when the script's body returns).
#
# Job header (after any number of b"preload\n" lines): b"<length>\n" then <length> bytes of NUL-separated fields:
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
    """The preloaded modules not yet imported, and the finder that hands them over (see the top)."""

    stash = {}     # name -> module: loaded while waiting, not in sys.modules
    specs = {}     # name -> the spec it was loaded by
    stamps = {}    # name -> (mtime, size) of its file then: a file changed since is loaded again
    # name -> [[name, submodules, how]]: what its loading did, in order: imports ("imported", or "failed"), and
    # entries its code put into sys.modules itself ("registered": typing.io, importlib._bootstrap)
    needs = {}
    seen = {}      # every name in sys.modules after the preload -> its object: what the stash was built against
    handed = []    # the names handed over, in order (what a test reads to know the preload was used)
    fresh = {}     # id -> module given a module of its own, to load from its file after all (see create_module)

    loaded = False

    @classmethod
    def load(cls, names):
        """Loads `names` from the standard library's entries only; on any failure or output leaves no trace."""
        if cls.loaded:
            return
        cls.loaded = True
        if not names or sys.flags.verbose or "importtime" in sys._xoptions or os.environ.get("PYTHONPROFILEIMPORTTIME"):
            return  # the import lines a cold start prints would be printed ahead of the job, and others than its
        standard = cls._standard_entries()
        if standard is None:
            return
        # Nothing the interpreter's start-up may not have loaded: the script must find its own warnings.py or
        # types.py as a cold start does. builtins, io, _warnings and _thread are always loaded by then.
        builtins, io, _warnings = sys.modules["builtins"], sys.modules["io"], sys.modules["_warnings"]
        if not hasattr(_warnings, "_filters_mutated"):
            return  # a Python whose warnings machinery differs: no preload rather than one that could warn early
        bootstrap = sys.modules["_frozen_importlib"]
        own = cls._own_finders()
        before = dict(sys.modules)
        caches = set(sys.path_importer_cache)
        saved = sys.path[:], sys.meta_path[:], builtins.__import__, sys.stdout, sys.stderr
        real_import = builtins.__import__
        loading = []  # the modules being loaded, innermost last: an import is made by the innermost one
        known = set(sys.modules)

        def registrations():
            """What the loading module's code put into sys.modules since the last look, in its needs there."""
            for name in sys.modules.keys() - known:
                known.add(name)
                spec = getattr(sys.modules[name], "__spec__", None)
                if loading and getattr(spec, "name", None) != name:
                    cls.needs.setdefault(loading[-1], []).append([name, (), "registered"])

        class Executing:
            """A found module's loader during the preload: what its loading imports is recorded for it."""

            def __init__(self, loader, name):
                self.loader, self.name = loader, name

            def __getattr__(self, attr):
                return getattr(self.loader, attr)

            def create_module(self, spec):  # an extension module's own initialisation runs here
                loading.append(self.name)
                try:
                    return self.loader.create_module(spec)
                finally:
                    loading.pop()

            def exec_module(self, module):
                loading.append(self.name)
                try:
                    self.loader.exec_module(module)
                    registrations()
                finally:
                    loading.pop()

        class Recorder:
            """First while the preload runs: the finders' spec, with its loader wrapped as above."""

            @staticmethod
            def find_spec(name, path=None, target=None):
                for finder in own:
                    spec = finder.find_spec(name, path, target)
                    if spec is not None:
                        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                            spec.loader = Executing(spec.loader, name)
                        return spec
                return None

        def recording(name, globals=None, locals=None, fromlist=(), level=0):
            target = name
            if level:
                base = ((globals or {}).get("__package__") or "").rsplit(".", level - 1)[0]
                target = base + "." + name if name else base
            registrations()
            entry = [target, (), "imported"]
            if loading:
                cls.needs.setdefault(loading[-1], []).append(entry)  # in the order the imports are made
            try:
                module = real_import(name, globals, locals, fromlist, level)
            except ImportError:
                entry[2] = "failed"
                raise
            entry[1] = tuple(target + "." + each for each in fromlist or ()
                             if isinstance(each, str) and target + "." + each in sys.modules)
            return module

        printed = io.StringIO()
        filters = _warnings.filters[:]
        try:
            try:
                # Any warning raises (and rolls back): a cold start would show it in the job's run, not before.
                _warnings.filters.insert(0, ("error", None, Warning, None, 0))
                _warnings._filters_mutated()
                sys.path[:] = standard
                sys.meta_path[:] = [Recorder]
                sys.stdout = sys.stderr = printed
                builtins.__import__ = recording
                for name in names:
                    __import__(name)
                if printed.getvalue():
                    raise ImportError("the preload printed")  # a cold start would print it in the job's run
            finally:
                sys.path[:], sys.meta_path[:], builtins.__import__, sys.stdout, sys.stderr = saved
                _warnings.filters[:] = filters
                _warnings._filters_mutated()
                for module in list(sys.modules.values()):
                    cls._unwrap(module, Executing)
        except BaseException:
            cls._roll_back(before, caches)
            return
        cls._forget_caches(caches)
        cls.seen = dict(sys.modules)
        for name, module in list(sys.modules.items()):
            if before.get(name, cls) is module:
                continue
            del sys.modules[name]
            spec = getattr(module, "__spec__", None)
            if isinstance(spec, bootstrap.ModuleSpec) and spec.origin and spec.name == name:
                cls.stash[name] = module
                cls.specs[name] = spec
                cls.stamps[name] = cls._stamp(spec)
            # else put there by a module's own code, recorded in its needs, and put back when it is handed over
        for name in cls.stash:  # a submodule is its package's attribute once imported, not before
            parent, _, child = name.rpartition(".")
            owner = cls.stash.get(parent) or before.get(parent)
            if owner is not None and owner.__dict__.get(child) is cls.stash[name]:
                delattr(owner, child)
        cls.closures = {name: cls._closure_of(name) for name in cls.stash}  # while it waits, not on import
        if cls.stash:  # behind the finders start-up put ahead of Python's own, as a cold start asks them first
            at = next((i for i, finder in enumerate(sys.meta_path) if finder in own), len(sys.meta_path))
            sys.meta_path.insert(at, cls)

    @staticmethod
    def _unwrap(module, wrapper):
        """The module's own loader back where the preload's recording wrapper stood."""
        spec = getattr(module, "__spec__", None)
        if isinstance(getattr(spec, "loader", None), wrapper):
            spec.loader = spec.loader.loader
        if isinstance(getattr(module, "__loader__", None), wrapper):
            module.__loader__ = module.__loader__.loader

    @staticmethod
    def _own_finders():
        bootstrap = sys.modules["_frozen_importlib"]
        return bootstrap.BuiltinImporter, bootstrap.FrozenImporter, sys.modules["_frozen_importlib_external"].PathFinder

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

    @staticmethod
    def _stamp(spec):
        if not os.path.isabs(spec.origin):
            return None  # built in or frozen: no file
        try:
            info = os.stat(spec.origin)
            return info.st_mtime_ns, info.st_size
        except (OSError, ValueError):
            return None

    @staticmethod
    def _forget_caches(caches):
        for entry in set(sys.path_importer_cache) - caches:  # as a cold start has them until it imports
            del sys.path_importer_cache[entry]

    @classmethod
    def _roll_back(cls, before, caches):
        new = {name: module for name, module in sys.modules.items() if before.get(name, cls) is not module}
        loaded = {id(module) for module in new.values()}
        for name in new:
            del sys.modules[name]
        for module in before.values():
            for key, value in list(getattr(module, "__dict__", {}).items()):
                if id(value) in loaded:
                    delattr(module, key)
        cls._forget_caches(caches)
        cls.needs.clear()

    closures = {}  # name -> _closure_of(name), computed once the preload is done

    @classmethod
    def _closure_of(cls, name):
        """The preloaded modules an import of `name` would load, with its packages (those still stashed count)."""
        found, todo = [], [name]
        while todo:
            each = todo.pop()
            if each in found or each not in cls.specs:
                continue
            found.append(each)
            todo.extend(target for target, _, how in cls.needs.get(each, ()) if how == "imported")
            todo.extend(sub for _, subs, _ in cls.needs.get(each, ()) for sub in subs)
            if "." in each:
                todo.append(each.rpartition(".")[0])
        return found

    @classmethod
    def _resolves_alike(cls, name):
        """True when an import of `name` now, without this finder, would load the file it was loaded from."""
        spec = cls.specs[name]
        if name in sys.modules or cls._stamp(spec) != cls.stamps[name]:
            return False  # the script put something there (a stub, None), or the file changed
        path = cls._search_path(name)
        if path is False:
            return False
        own = cls._own_finders()
        try:
            for finder in sys.meta_path[sys.meta_path.index(cls) + 1:]:
                found = finder.find_spec(name, path, None)
                if found is not None:
                    return finder in own and found.origin == spec.origin and type(found.loader) is type(spec.loader) \
                        and found.submodule_search_locations == spec.submodule_search_locations
        except Exception:  # raised as a cold import would raise it, when the import goes on without this finder
            return False
        return False

    @classmethod
    def give_up(cls):
        cls.stash.clear()
        if cls in sys.meta_path:
            sys.meta_path.remove(cls)

    resolved = {}  # thread -> the names found alike during the import that thread is making (see find_spec)
    depth = {}     # thread -> how many hand-overs that thread is in

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name not in cls.stash or not cls._the_import_systems_path(name, path):
            return None
        thread = sys.modules["_thread"].get_ident()
        if not cls.depth.get(thread):  # an import of the script's own: nothing found alike before counts
            cls.resolved[thread] = set()
        resolved = cls.resolved.setdefault(thread, set())
        for each in cls.closures[name]:  # what it loads through this finder: any file that differs, and none is
            if each in cls.stash and each not in resolved:
                if not cls._resolves_alike(each):
                    cls.give_up()
                    return None
                resolved.add(each)  # the imports it makes next, while it is handed over, need not look again
        own = cls.specs[name]
        spec = sys.modules["_frozen_importlib"].ModuleSpec(name, _HandOver(own.loader), origin=own.origin,
                                                            loader_state=own.loader_state,
                                                            is_package=own.submodule_search_locations is not None)
        if own.submodule_search_locations is not None:
            spec.submodule_search_locations = list(own.submodule_search_locations)
        spec.cached = own.cached
        spec.has_location = own.has_location
        return spec

    @classmethod
    def _search_path(cls, name):
        """What an import of `name` passes its finders: None for a top-level name, else its package's __path__
        (the package handed over, or still stashed); False when that package has none."""
        parent = name.rpartition(".")[0]
        if not parent:
            return None
        path = getattr(sys.modules.get(parent) or cls.stash.get(parent), "__path__", None)
        return False if path is None else path

    @classmethod
    def _the_import_systems_path(cls, name, path):
        """True when `path` is what an import of `name` passes: a caller that walks sys.meta_path with a folder
        of its own (a plugin loader) must get what that folder holds."""
        expected = cls._search_path(name)
        if expected is None:
            return path is None
        return path is not None and list(path) == list(expected or ())

    @staticmethod
    def find_module(name, path=None):
        return None  # the legacy protocol Python's own finders still answer on 3.10 and 3.11, for callers of it

    @classmethod
    def create_module(cls, spec):
        module = cls.stash.pop(spec.name, None)
        if module is None:  # given up, or taken, since find_spec: loaded from its file as any other
            module = sys.modules["_frozen_importlib"].module_from_spec(cls.specs[spec.name])
            cls.fresh[id(module)] = module
        return module

    @classmethod
    def exec_module(cls, module):
        # Its __spec__ stays the hand-over's, marked as initialising by the import system, until it is whole:
        # another thread importing it meanwhile waits for it, as for any module being loaded.
        name = module.__spec__.name
        own = cls.specs[name]
        if cls.fresh.pop(id(module), None) is not None:
            own.loader.exec_module(module)
            module.__spec__ = own
            return
        thread = sys.modules["_thread"].get_ident()
        cls.depth[thread] = cls.depth.get(thread, 0) + 1
        try:
            alike = cls._imports_again(name)
        finally:
            cls.depth[thread] -= 1
        if alike:
            cls.handed.append(name)
            if not cls.stash:
                cls.give_up()
            module.__spec__ = own
            return
        # Not what a cold import would build: this one loads from its file, and from now on all do.
        cls.give_up()
        fresh = sys.modules["_frozen_importlib"].module_from_spec(own)
        for each, sub in list(sys.modules.items()):  # its submodules imported above, as its loading sets them
            if each.rpartition(".")[0] == name and sub is not None:
                setattr(fresh, each.rpartition(".")[2], sub)
        own._initializing = True
        try:
            sys.modules[name] = fresh  # what the import system returns once this returns
            own.loader.exec_module(fresh)
        finally:
            own._initializing = False

    @classmethod
    def _imports_again(cls, name):
        """Does again, through the import system and in order, what `name`'s loading did: true when each
        import gave what the module was built against (no hook, stub or other file in between), each that
        failed then failed again, and each entry its code registered was free to take."""
        try:
            for target, subs, how in cls.needs.get(name, ()):
                if how == "registered":
                    if target in sys.modules:
                        return False
                    sys.modules[target] = cls.seen[target]
                    continue
                if how == "failed":
                    if target not in sys.modules and cls._fails(target):
                        continue
                    return False
                __import__(target)
                for each in (target,) + subs:
                    if each not in sys.modules:
                        __import__(each)
                    if sys.modules.get(each) is not cls.seen.get(each):
                        return False
        except Exception:  # the same import, made from the module's own file next, raises it as a cold one
            return False
        except BaseException:  # a KeyboardInterrupt, a SystemExit from a signal handler: the script's own
            cls.give_up()
            raise
        return True

    @staticmethod
    def _fails(target):
        try:
            __import__(target)
        except ImportError:
            return True
        return False


class _HandOver:
    """The loader of a hand-over's spec: loads through the finder, and is the module's own loader otherwise
    (get_code, get_data, get_resource_reader..., which runpy, pkgutil and importlib.resources ask for)."""

    def __init__(self, loader):
        self._loader = loader

    def __getattr__(self, name):
        return getattr(self._loader, name)

    def create_module(self, spec):
        return _Preloaded.create_module(spec)

    def exec_module(self, module):
        _Preloaded.exec_module(module)


# The hand-over's frames lie between the import system's own when a module it loads from its file after all
# raises: named as the import system's, they are left out of the traceback the script prints, as CPython leaves
# out its own (a cold import's traceback goes from the script's line to the module's).
for _function in [*vars(_Preloaded).values(), *vars(_HandOver).values()]:
    _function = getattr(_function, "__func__", _function)
    if hasattr(_function, "__code__") and _function.__name__ != "load":
        _function.__code__ = _function.__code__.replace(co_filename="<frozen importlib._bootstrap_external>")
del _function


def _read(n):
    parts = []
    while n > 0:
        part = os.read(0, min(n, 1 << 20))
        if not part:
            return None
        parts.append(part)
        n -= len(part)
    return b"".join(parts)


def _job_already_there():
    """The job header's first byte if it is on stdin already (then a preload would only delay the job), b"" at
    end of file, None when nothing is there yet."""
    os.set_blocking(0, False)
    try:
        return os.read(0, 1)
    except BlockingIOError:
        return None
    finally:
        os.set_blocking(0, True)


def _job():
    digits = b""
    while True:
        byte = os.read(0, 1)
        if not byte:
            return None
        if byte == b"\n":
            if digits != b"preload":
                break
            digits = _job_already_there()
            if digits is None:
                _Preloaded.load(sys.argv[1:])  # the Worker's word that the slot is idle (at most once)
                digits = b""
            elif not digits:
                return None
            continue
        digits += byte
        if len(digits) > 12 or not (digits.isdigit() or b"preload".startswith(digits)):
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
    # First, so it runs last: after the script's handlers and after any a preloaded module registered.
    atexit.register(_die_of_sigint)
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
