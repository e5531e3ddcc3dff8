package com.maddatum.worker.runner;

import static com.maddatum.worker.runner.ProcessRunnerTest.awaitCondition;
import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.worker.config.WorkerProperties;
import com.maddatum.worker.support.TestSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real interpreters: each script is run cold ({@link ProcessRunner#start}) and on a warm interpreter, and
 * what the Worker sees of the two (exit code, stdout, stderr, what was killed) must be the same.
 */
class WarmInterpretersTest {

    @TempDir
    Path root;

    private final ProcessRunner runner = new ProcessRunner(Clock.systemUTC());
    private WarmInterpreters warm;
    private final List<Long> started = new ArrayList<>();

    private WarmInterpreters pool() throws IOException {
        if (warm == null) {
            warm = new WarmInterpreters(runner, true, Files.createDirectories(root.resolve("home")), 2);
        }
        return warm;
    }

    /** A pool of its own (the one before closed): these modules preloaded, unasked after {@code unused}. */
    private WarmInterpreters pool(Duration maxWait, List<String> preload, Duration unused) throws Exception {
        if (warm != null) {
            warm.close();
        }
        warm = new WarmInterpreters(runner, true, Files.createDirectories(root.resolve("home")), 2, maxWait, preload,
                unused);
        return warm;
    }

    @AfterEach
    void closePool() throws Exception {
        if (warm != null) {
            warm.close();
        }
    }

    private Path script(String name, String source) throws IOException {
        Path dir = Files.createDirectories(root.resolve("scripts"));
        return Files.writeString(dir.resolve(name), source);
    }

    private ProcessSpec spec(Path script, Map<String, String> env, byte[] stdin, String... args) throws IOException {
        Path work = Files.createDirectories(root.resolve("work"));
        List<String> command = new ArrayList<>(List.of(TestSettings.python(), "-u", script.toString()));
        command.addAll(List.of(args));
        Map<String, String> environment = new HashMap<>(env);
        environment.put("PATH", System.getenv("PATH"));
        environment.put("PYTHONUNBUFFERED", "1");
        environment.put("OUTPUT_DIR", work.toString());
        return new ProcessSpec(command, work, environment, false, stdin, Duration.ofSeconds(30), 1 << 20, 64 * 1024,
                Duration.ofSeconds(2), null);
    }

    private ProcessSpec spec(Path script, String... args) throws IOException {
        return spec(script, Map.of("FOO", "bar"), "{\"_id\": \"job-1\"}".getBytes(StandardCharsets.UTF_8), args);
    }

    /** Starts {@code spec} on an interpreter that waits for it, priming the pool with a first run if it is empty. */
    private ProcessRunner.Running startWarm(ProcessSpec spec, Integer gpu) throws Exception {
        awaitWaiting(spec, gpu);
        ProcessRunner.Running running = pool().start(spec, gpu, true);
        assertThat(running.warm()).as("ran on a warm interpreter").isTrue();
        started.add(running.pid());
        return running;
    }

    /** One interpreter waiting, told to preload as when its slot goes idle. */
    private void awaitWaiting(ProcessSpec spec, Integer gpu) throws Exception {
        if (pool().waiting() == 0) {
            pool().start(spec, gpu, true).await(); // cold, and leaves the next one started
        }
        awaitCondition(() -> pool().waiting() == 1, Duration.ofSeconds(20));
        pool().slotIdle(gpu);
        awaitCondition(() -> pool().preloading() == 1, Duration.ofSeconds(20));
    }

    private record Seen(Integer exitCode, String stdout, String stderr) {}

    private static Seen seen(ProcessResult result) {
        return new Seen(result.exitCode(), result.stdoutTail(), result.stderrTail());
    }

    private void assertSameColdAndWarm(Path script, String... args) throws Exception {
        Seen cold = seen(runner.start(spec(script, args)).await());
        Seen warm = seen(startWarm(spec(script, args), null).await());
        assertThat(warm).isEqualTo(cold);
    }

    @Test
    void aScriptSeesWhatAColdStartGivesIt() throws Exception {
        Path probe = script("probe.py", """
                import json, os, sys
                env = {k: v for k, v in os.environ.items() if k != "WORKER_RUN_ID"}
                print(json.dumps({"argv": sys.argv, "path": sys.path, "cwd": os.getcwd(), "env": env,
                                  "stdin": sys.stdin.read(), "name": __name__, "file": __file__,
                                  "main": sys.modules["__main__"].__file__, "flags": str(sys.flags),
                                  "marker": "WORKER_RUN_ID" in os.environ, "session": os.getsid(0) == os.getpid()},
                                 sort_keys=True))
                """);
        Seen cold = seen(runner.start(spec(probe, "{\"_id\": \"job-1\"}")).await());
        Seen warm = seen(startWarm(spec(probe, "{\"_id\": \"job-1\"}"), null).await());
        assertThat(warm).isEqualTo(cold);
        assertThat(cold.stdout()).contains("\"stdin\": \"{\\\"_id\\\": \\\"job-1\\\"}\"").contains("\"marker\": true")
                .contains("\"session\": true").contains("\"name\": \"__main__\"");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "import sys\nprint('out')\nsys.exit(3)\n",
        "import sys\nsys.exit('a message for stderr')\n",
        "import sys\nsys.exit(None)\n",
        "def f():\n    raise ValueError('boom')\nprint('before')\nf()\n",
        "def f(:\n    pass\n",
        "raise KeyboardInterrupt\n",
        "import os, signal\nos.kill(os.getpid(), signal.SIGTERM)\n",
        "import sys\nsys.excepthook = lambda t, v, tb: print('hook', t.__name__, tb.tb_frame.f_code.co_filename == __file__)\nraise RuntimeError\n",
        "import atexit\natexit.register(lambda: print('atexit ran'))\ntry:\n    raise KeyError(1)\nexcept KeyError as e:\n    raise ValueError(2) from e\n",
        "import threading, time\nthreading.Thread(target=lambda: (time.sleep(0.2), print('thread done'))).start()\nraise SystemExit(4)\n",
        // sys.exit() exits from inside its report: __file__ is still there for exit handlers (a checkpoint path)
        "import atexit, sys\natexit.register(lambda: print('at exit', globals().get('__file__', 'gone')))\nsys.exit(0)\n",
        "import atexit\natexit.register(lambda: print('at exit', globals().get('__file__', 'gone')))\nraise ValueError\n",
    })
    void exitCodesSystemExitUncaughtExceptionsAndSignalsEndAsAColdStartDoes(String source) throws Exception {
        assertSameColdAndWarm(script("ending.py", source));
    }

    @Test
    void theScriptStaysMainThroughShutdownSoAtexitCanPickleItsClasses() throws Exception {
        // A checkpoint saved at exit: pickle looks the class up as __main__.Net, which must still be the script.
        Path saver = script("saver.py", """
                import atexit, io, pickle, sys
                class Net:
                    pass
                def save():
                    main = sys.modules["__main__"]
                    print("pickled", len(pickle.dumps(Net())) > 0, main.Net is Net, list(vars(main))[:9])
                atexit.register(save)
                print("body", list(globals())[:9], __loader__.__class__.__name__, __spec__, __package__, __cached__)
                """);
        assertSameColdAndWarm(saver);
        // As CPython does it: __file__ and __cached__ are the body's only, gone before the atexit handlers.
        assertThat(seen(runner.start(spec(saver)).await()).stdout())
                .contains("pickled True True ['__name__', '__doc__', '__package__', '__loader__', '__spec__', "
                        + "'__annotations__', '__builtins__', 'atexit', 'io']")
                .contains("'__file__', '__cached__'] SourceFileLoader None None None");
    }

    @Test
    void aModuleBesideTheScriptShadowsTheStandardLibraryAsInAColdStart() throws Exception {
        // enum is not loaded by the interpreter's own start: a cold start imports the script's enum.py.
        script("enum.py", "print('the script directory enum')\n");
        Path user = script("user.py", "import enum\nprint('from', enum.__file__)\n");
        Seen cold = seen(runner.start(spec(user)).await());
        assertThat(cold.stdout()).contains("the script directory enum");
        assertThat(seen(startWarm(spec(user), null).await())).isEqualTo(cold);
    }

    /** What the script saw of the preload: the names handed over to it, none on a cold start. */
    private static final String HANDED = "print('handed', [f.handed for f in sys.meta_path if hasattr(f, 'handed')])\n";

    @ParameterizedTest
    @ValueSource(strings = {"__future__", "csv", "json", "math", "pathlib", "re", "signal", "time", "traceback",
        "typing", "urllib", "collections", "importlib", "email"})
    void aPreloadedModuleAppearsOnlyOnImportAndWithWhatItsColdImportBrings(String module) throws Exception {
        // What the import adds to sys.modules, and which submodules packages show as attributes, before and
        // after: a preloaded module (or one it loaded) must not be reachable before the script imports it.
        String packages = "print(sorted((n, sorted(k for k, v in vars(m).items() if type(v) is type(sys))) "
                + "for n, m in list(sys.modules.items()) if n in ('urllib', 'collections', 'importlib', 'json', 're', "
                + "'email', 'encodings', 'typing')))\n";
        Path user = script("imports.py", "import sys\nbefore = set(sys.modules)\n" + packages
                + "import " + module + "\nprint(sorted(set(sys.modules) - before))\n" + packages);
        assertSameColdAndWarm(user);
    }

    @Test
    void theScriptsImportsTakeThePreloadedModules() throws Exception {
        Path user = script("user.py", "import sys\nprint('json' in sys.modules)\nimport json, csv\n" + HANDED);
        assertThat(seen(runner.start(spec(user)).await()).stdout()).isEqualTo("False\nhanded []\n");
        // What else is handed over with them depends on what the interpreter's own start-up loaded.
        assertThat(seen(startWarm(spec(user), null).await()).stdout())
                .startsWith("False\nhanded [[").contains("'json', ").contains("'csv']]");
    }

    @Test
    void aWaitingInterpreterPreloadsOnlyOnceItsSlotIsIdle() throws Exception {
        // Jobs back to back take their interpreters before anything tells them: no preload beside the reporting.
        pool(WarmInterpreters.MAX_WAIT, WorkerProperties.WarmInterpreter.DEFAULT_PRELOAD, Duration.ofHours(1));
        Path user = script("user.py", "import sys, json\n" + HANDED);
        warm.start(spec(user), null, true).await();
        awaitCondition(() -> warm.waiting() == 1, Duration.ofSeconds(20));
        ProcessRunner.Running untold = warm.start(spec(user), null, true);
        assertThat(untold.warm()).isTrue();
        assertThat(untold.await().stdoutTail()).isEqualTo("handed []\n");
        awaitCondition(() -> warm.waiting() == 1, Duration.ofSeconds(20));
        warm.slotIdle(null);
        awaitCondition(() -> warm.preloading() == 1, Duration.ofSeconds(20));
        ProcessRunner.Running told = warm.start(spec(user), null, true);
        assertThat(told.warm()).isTrue();
        assertThat(told.await().stdoutTail()).startsWith("handed [[").contains("'json']]");
    }

    @Test
    void anInterpreterToldToPreloadWhenItsJobIsAlreadyThereRunsTheJobAtOnce() throws Exception {
        // The slot went idle and its long poll found a job at once: the job must not wait for a preload.
        Path user = script("user.py", "import sys, json\n" + HANDED);
        Path work = Files.createDirectories(root.resolve("work"));
        Process launcher = new ProcessBuilder(TestSettings.python(), "-u", "-c", WarmInterpreters.LAUNCHER, "json")
                .directory(work.toFile()).start();
        byte[] header = WarmInterpreters.header(work, List.of(user.toString()), Map.of("PATH", System.getenv("PATH")));
        try (var in = launcher.getOutputStream()) {
            in.write(WarmInterpreters.PRELOAD);
            in.write(header); // in the pipe before the launcher reads the preload line
        }
        assertThat(new String(launcher.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("handed []\n");
        assertThat(launcher.waitFor()).isZero();
    }

    @Test
    void aWaitingInterpreterNobodyTakesPreloadsByItself() throws Exception {
        pool(WarmInterpreters.MAX_WAIT, WorkerProperties.WarmInterpreter.DEFAULT_PRELOAD, Duration.ofMillis(100));
        Path user = script("user.py", "import sys, json\n" + HANDED);
        warm.start(spec(user), null, true).await();
        awaitCondition(() -> warm.waiting() == 1 && warm.preloading() == 1, Duration.ofSeconds(20));
        ProcessRunner.Running running = warm.start(spec(user), null, true);
        assertThat(running.warm()).isTrue();
        assertThat(running.await().stdoutTail()).startsWith("handed [[").contains("'json']]");
    }

    @Test
    void aPreloadThatFailsLeavesNoTraceAndTheJobRunsAsACold() throws Exception {
        pool(WarmInterpreters.MAX_WAIT, List.of("json", "no_such_module_here"), WarmInterpreters.PRELOAD_WHEN_UNUSED);
        Path user = script("user.py", "import sys\nprint('json' in sys.modules, 're' in sys.modules)\nimport json\n"
                + HANDED);
        Seen cold = seen(runner.start(spec(user)).await());
        assertThat(cold.stdout()).isEqualTo("False False\nhanded []\n");
        assertThat(seen(startWarm(spec(user), null).await())).isEqualTo(cold);
    }

    @Test
    void aModuleOnPythonPathThatBreaksAPreloadedOneBreaksOnlyTheScriptsThatImportIt() throws Exception {
        // A project's own token.py ahead of the standard library: traceback -> linecache -> tokenize -> token.
        Path project = Files.createDirectories(root.resolve("project"));
        Files.writeString(project.resolve("token.py"), "raise RuntimeError('the project token')\n");
        Map<String, String> env = Map.of("PYTHONPATH", project.toString());
        byte[] stdin = "{}".getBytes(StandardCharsets.UTF_8);
        for (String source : List.of("import os\nprint('runs')\n", "import traceback\nprint('runs')\n")) {
            Path user = script("user.py", source);
            Seen cold = seen(runner.start(spec(user, env, stdin)).await());
            awaitWaiting(spec(user, env, stdin), null);
            ProcessRunner.Running running = pool().start(spec(user, env, stdin), null, true);
            assertThat(running.warm()).isTrue();
            assertThat(seen(running.await())).as(source).isEqualTo(cold);
        }
        assertThat(seen(runner.start(spec(script("user.py", "import traceback\n"), env, stdin)).await()).stderr())
                .contains("the project token");
    }

    @Test
    void aModuleBesideTheScriptThatShadowsOneAPreloadedModuleImportsWinsEvenIfWrittenWhileTheInterpreterWaited()
            throws Exception {
        Path user = script("user.py", "import traceback, sys\nprint(sys.modules['tokenize'].__file__)\n");
        awaitWaiting(spec(user), null); // waiting before the shadow exists
        script("tokenize.py", "print('the script directory tokenize')\nfrom token import *\n");
        Seen warmRun = seen(startWarm(spec(user), null).await());
        assertThat(warmRun.stdout()).startsWith("the script directory tokenize\n").contains("scripts/tokenize.py");
        assertThat(warmRun).isEqualTo(seen(runner.start(spec(user)).await()));
    }

    @Test
    void aFolderTheScriptPutsOnSysPathShadowsPreloadedModulesAsInAColdStart() throws Exception {
        Path own = Files.createDirectories(root.resolve("own"));
        Files.writeString(own.resolve("csv.py"), "print('own csv')\n");
        Files.writeString(own.resolve("enum.py"), "print('own enum')\nraise ImportError('own enum')\n");
        Path user = script("user.py", "import sys\nsys.path.insert(0, " + pyString(own) + ")\nimport csv\n"
                + "try:\n    import json\nexcept ImportError as e:\n    print('json:', e)\n"
                + "print(sorted(n for n in ('csv', 'json', 're', 'enum') if n in sys.modules))\n");
        Seen warmRun = seen(startWarm(spec(user), null).await());
        assertThat(warmRun.stdout()).startsWith("own csv\nown enum\njson: own enum\n");
        assertThat(warmRun).isEqualTo(seen(runner.start(spec(user)).await()));
    }

    /** The hooks, stubs and probes of the import system a script or a library may use, each with preloaded modules. */
    @ParameterizedTest
    @ValueSource(strings = {
        // a post-import hook on a module a preloaded one imports (wrapt, OpenTelemetry): it must see that import
        """
        import sys, importlib.machinery
        class Chained:
            def __init__(self, loader): self.loader = loader
            def create_module(self, spec): return self.loader.create_module(spec)
            def exec_module(self, module):
                self.loader.exec_module(module)
                print('post-import hook ran for', module.__name__)
        class Finder:
            def find_spec(self, name, path=None, target=None):
                if name != 're': return None
                spec = importlib.machinery.PathFinder.find_spec(name, path, target)
                spec.loader = Chained(spec.loader)
                return spec
        sys.meta_path.insert(0, Finder())
        import json
        print(json.dumps({'ok': True}))
        """,
        // an import guard that refuses a module a preloaded one imports: the same traceback, no launcher frame
        """
        import sys
        class Guard:
            def find_spec(self, name, path=None, target=None):
                if name == 're':
                    raise ImportError('module re is not allowed here')
        sys.meta_path.insert(0, Guard())
        import json
        """,
        // blockers and stubs in sys.modules (test.support.import_fresh_module's way to the pure-Python json)
        "import sys\nsys.modules['_json'] = None\nimport json\nprint(json.decoder.c_scanstring, sys.modules['_json'])\n",
        "import sys\nsys.modules['tokenize'] = None\ntry:\n    import traceback\nexcept ImportError as e:\n    print(e)\n",
        // what runpy, pkgutil and importlib ask of a spec and its loader
        "import runpy\nrunpy.run_module('textwrap', run_name='__main__')\n",
        """
        import importlib.util, pkgutil
        s = importlib.util.find_spec('json')
        print(s.origin, s.cached, s.has_location, s.submodule_search_locations, s.parent)
        print(pkgutil.get_data('json', '__init__.py')[:20])
        """,
        """
        import importlib, importlib.util
        s1, s2 = importlib.util.find_spec('csv'), importlib.util.find_spec('csv')
        m1, m2 = importlib.util.module_from_spec(s1), importlib.util.module_from_spec(s2)
        s1.loader.exec_module(m1)
        s2.loader.exec_module(m2)
        import csv
        print(hasattr(m1, 'reader'), hasattr(m2, 'reader'), m1 is csv, importlib.reload(csv) is csv)
        """,
        // a plugin loader that walks sys.meta_path with a folder of its own must get the plugin, not csv
        """
        import importlib.util, os, sys
        plugins = os.path.join(os.path.dirname(__file__), 'plugins')
        os.makedirs(plugins, exist_ok=True)
        open(os.path.join(plugins, 'csv.py'), 'w').write('def load(): return "plugin csv"')
        for finder in sys.meta_path:
            spec = finder.find_spec('csv', [plugins])
            if spec is not None:
                break
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print(module.load())
        """,
        // a stop (SIGTERM, whose handler raises SystemExit) arriving while a preloaded module is handed over
        """
        import os, signal, sys
        def on_term(signum, frame):
            raise SystemExit('stopped by SIGTERM')
        signal.signal(signal.SIGTERM, on_term)
        fired = []
        class Clock:
            def find_spec(self, name, path=None, target=None):
                if name == 'json.decoder' and not fired:
                    fired.append(True)
                    os.kill(os.getpid(), signal.SIGTERM)
        sys.meta_path.insert(0, Clock())
        import json
        print('still running after the stop')
        """,
        // another thread importing a module while this one's import of it is under way waits for it whole
        """
        import sys, threading
        sys.setswitchinterval(1e-5)
        def b():
            while 'json' not in sys.modules:
                pass
            import json
            print('B sees', json.decoder.JSONDecodeError.__name__)
        tb = threading.Thread(target=b)
        ta = threading.Thread(target=lambda: __import__('json'))
        tb.start(); ta.start(); ta.join(); tb.join()
        """,
        // a module a preloaded one failed to import, which the script's folder now holds (pathlib -> ntpath -> nt)
        "import sys, os\nopen(os.path.join(os.path.dirname(__file__), 'nt.py'), 'w').write('print(\\'own nt\\')')\n"
            + "import pathlib\nprint('nt' in sys.modules)\n",
    })
    void importHooksStubsAndSpecProbesMeetPreloadedModulesAsColdImportsDo(String source) throws Exception {
        Files.deleteIfExists(root.resolve("scripts").resolve("nt.py"));
        Path user = script("user.py", source);
        Seen cold = seen(runner.start(spec(user)).await());
        Files.deleteIfExists(root.resolve("scripts").resolve("nt.py"));
        assertThat(seen(startWarm(spec(user), null).await())).isEqualTo(cold);
    }

    @Test
    void inAnInterpreterWhoseStartUpLoadsLittleTheScriptsOwnModulesWinAndLegacyFindersAnswerAsInAColdStart()
            throws Exception {
        // A virtual environment's interpreter starts without the .pth files of the system's site-packages (here
        // they load warnings and types at start-up): the launcher must load nothing of its own beyond that.
        Path venv = root.resolve("venv");
        Process make = new ProcessBuilder(TestSettings.python(), "-m", "venv", "--without-pip", venv.toString())
                .redirectErrorStream(true).start();
        assertThat(make.waitFor()).isZero();
        script("warnings.py", "LEVEL = 'strict'\n");
        script("types.py", "KIND = tuple\n");
        // And the legacy finder protocol, which Python's own finders still answer on 3.10 and 3.11 (this system's
        // start-up puts a finder without it first, so it is asked here).
        Path user = script("user.py", "import warnings, types, sys\nprint(warnings.LEVEL, types.KIND)\n"
                + "import json\nprint(sorted(n for n in ('warnings', 'types', '_weakrefset') if n in sys.modules))\n"
                + "print([type(f.find_module('csv')).__name__ for f in sys.meta_path][-1])\n");
        ProcessSpec base = spec(user);
        List<String> command = new ArrayList<>(base.command());
        command.set(0, venv.resolve("bin").resolve("python").toString());
        ProcessSpec spec = new ProcessSpec(command, base.workDir(), base.environment(), false, base.stdin(),
                base.timeout(), base.maxLogBytes(), base.tailBytes(), base.killGrace(), null);
        Seen cold = seen(runner.start(spec).await());
        assertThat(cold.stdout()).startsWith("strict <class 'tuple'>\n");
        assertThat(seen(startWarm(spec, null).await())).isEqualTo(cold);
    }

    @Test
    void aHookInstalledAtStartUpSeesThePreloadedModulesItWatches() throws Exception {
        // As an instrumentation agent installs one from sitecustomize (opentelemetry-instrument, ddtrace-run).
        Path site = Files.createDirectories(root.resolve("site"));
        Files.writeString(site.resolve("sitecustomize.py"), """
                import sys
                from importlib.machinery import PathFinder
                class Chained:
                    def __init__(self, loader): self.loader = loader
                    def create_module(self, spec): return self.loader.create_module(spec)
                    def exec_module(self, module):
                        self.loader.exec_module(module)
                        module.INSTRUMENTED = True
                class Watch:
                    def find_spec(self, name, path=None, target=None):
                        if name != 'json': return None
                        spec = PathFinder.find_spec(name, path, target)
                        spec.loader = Chained(spec.loader)
                        return spec
                sys.meta_path.insert(0, Watch())
                """);
        Map<String, String> env = Map.of("PYTHONPATH", site.toString());
        byte[] stdin = "{}".getBytes(StandardCharsets.UTF_8);
        Path user = script("user.py", "import json\nprint('instrumented', getattr(json, 'INSTRUMENTED', False))\n");
        Seen cold = seen(runner.start(spec(user, env, stdin)).await());
        assertThat(cold.stdout()).isEqualTo("instrumented True\n");
        awaitWaiting(spec(user, env, stdin), null);
        ProcessRunner.Running running = pool().start(spec(user, env, stdin), null, true);
        assertThat(running.warm()).isTrue();
        assertThat(seen(running.await())).isEqualTo(cold);
    }

    @Test
    void aConfiguredPreloadThatPrintsWarnsOrRegistersAtExitHandlersChangesNoJobsOutput() throws Exception {
        // 'this' prints, 'cgi' warns (both rolled back); logging's atexit flush must still run before a
        // KeyboardInterrupt's death by SIGINT, as in a cold start.
        Path user = script("user.py", """
                import logging, logging.handlers, sys
                memory = logging.handlers.MemoryHandler(capacity=100, target=logging.StreamHandler(sys.stdout))
                logging.getLogger().addHandler(memory)
                logging.getLogger().warning('flushed at exit')
                raise KeyboardInterrupt
                """);
        Seen cold = seen(runner.start(spec(user)).await());
        assertThat(cold.stdout()).contains("flushed at exit");
        for (List<String> preload : List.of(List.of("json", "this"), List.of("json", "cgi"), List.of("json", "logging"))) {
            pool(WarmInterpreters.MAX_WAIT, preload, WarmInterpreters.PRELOAD_WHEN_UNUSED);
            assertThat(seen(startWarm(spec(user), null).await())).as("preload %s", preload).isEqualTo(cold);
        }
    }

    private static String pyString(Path path) {
        return "'" + path.toString().replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    @Test
    void aRelativeOrEmptyPythonPathEntryRunsColdWhereAWaitingInterpreterWouldResolveItInTheWorkDirectory()
            throws Exception {
        // What an earlier job could leave in the Worker's work directory, where waiting interpreters start.
        Path home = Files.createDirectories(root.resolve("home"));
        Files.writeString(home.resolve("planted.py"), "print('planted by an earlier job')\n");
        Files.createDirectories(home.resolve("lib"));
        Files.writeString(home.resolve("lib").resolve("planted.py"), "print('planted by an earlier job')\n");
        Path user = script("user.py", "try:\n    import planted\nexcept ImportError:\n    print('not found')\n");
        for (String pythonPath : List.of("lib", "/usr/lib/nothing:", "/usr/lib/nothing::/tmp", "")) {
            ProcessSpec spec = spec(user, Map.of("PYTHONPATH", pythonPath), "{}".getBytes(StandardCharsets.UTF_8));
            for (int run = 0; run < 2; run++) { // a first run would leave an interpreter waiting for the second
                ProcessRunner.Running running = pool().start(spec, null, true);
                assertThat(running.warm()).as("PYTHONPATH=%s", pythonPath).isFalse();
                assertThat(running.await().stdoutTail()).as("PYTHONPATH=%s", pythonPath).isEqualTo("not found\n");
            }
        }
        assertThat(WarmInterpreters.startsWithRelativePaths(Map.of("PYTHONPATH", "/opt/a:/opt/b"))).isFalse();
        assertThat(WarmInterpreters.startsWithRelativePaths(Map.of("PYTHONHOME", "usr"))).isTrue();
    }

    @Test
    void aFileAnEarlierJobLeftInTheWorkDirectoryIsNotImportedByTheNextInterpreter() throws Exception {
        Path work = Files.createDirectories(root.resolve("home"));
        // What a job could write into the Worker's work directory, where waiting interpreters start.
        Files.writeString(work.resolve("warnings.py"), "print('planted')\n");
        Files.writeString(work.resolve("re.py"), "print('planted')\n");
        Path plain = script("plain.py", "import re, warnings\nprint('ok', re.__file__.endswith('/re/__init__.py') "
                + "or re.__file__.endswith('/re.py') and 'home' not in re.__file__)\n");
        Seen warmRun = seen(startWarm(spec(plain), null).await());
        assertThat(warmRun.stdout()).doesNotContain("planted").contains("ok True");
        assertThat(warmRun).isEqualTo(seen(runner.start(spec(plain)).await()));
    }

    @Test
    void anInterpreterThatWaitedTooLongIsDiscardedAndTheJobRunsCold() throws Exception {
        pool(Duration.ZERO, WorkerProperties.WarmInterpreter.DEFAULT_PRELOAD, WarmInterpreters.PRELOAD_WHEN_UNUSED);
        Path hello = script("hello.py", "print('hello')\n");
        warm.start(spec(hello), null, true).await();
        awaitCondition(() -> warm.waiting() == 1, Duration.ofSeconds(20));
        long old = warm.waitingPids().get(0);
        ProcessRunner.Running running = warm.start(spec(hello), null, true);
        assertThat(running.warm()).as("the waiting one is too old to stand for a cold start").isFalse();
        assertThat(seen(running.await()).stdout()).contains("hello");
        awaitCondition(() -> !ProcessHandle.of(old).map(ProcessHandle::isAlive).orElse(false), Duration.ofSeconds(10));
    }

    @Test
    void aJobLargerThanAPipeBufferOnStdinArrivesWhole() throws Exception {
        Path reader = script("reader.py", "import hashlib, sys\ndata = sys.stdin.buffer.read()\n"
                + "print(len(data), hashlib.sha256(data).hexdigest())\n");
        byte[] big = "x".repeat(300_000).getBytes(StandardCharsets.UTF_8);
        Seen cold = seen(runner.start(spec(reader, Map.of(), big)).await());
        Seen warm = seen(startWarm(spec(reader, Map.of(), big), null).await());
        assertThat(warm).isEqualTo(cold);
        assertThat(cold.stdout()).startsWith("300000 ");
    }

    @Test
    void logCapsAndProgressLinesHoldOnAWarmRunAsOnACold() throws Exception {
        Path chatty = script("chatty.py", """
                import sys
                for step in range(3):
                    sys.stdout.write('##progress {"step": %d, "value": %d.5}\\n' % (step, step))
                sys.stderr.write("e" * 300_000)
                print("x" * 300_000)
                print('{"status": 200, "loss": 1.0}')
                """);
        awaitWaiting(spec(chatty), null); // primed apart, so that each progress below sees one run
        List<Object> seen = new ArrayList<>();
        for (boolean warmRun : new boolean[] {false, true}) {
            Progress progress = new Progress();
            ProcessSpec base = spec(chatty);
            ProcessSpec capped = new ProcessSpec(base.command(), base.workDir(), base.environment(), false, base.stdin(),
                    base.timeout(), 100_000, 4096, base.killGrace(), null, progress);
            ProcessResult result = warmRun ? startWarm(capped, null).await() : runner.start(capped).await();
            seen.add(List.of(result.exitCode(), result.logsTruncated(), result.stdoutBytes(), result.stderrBytes(),
                    result.lastStdoutLine(), Files.size(base.workDir().resolve("stdout.log")),
                    Files.size(base.workDir().resolve("stderr.log")), progress.pending().points(), progress.last()));
        }
        assertThat(seen.get(1)).isEqualTo(seen.get(0));
        assertThat(seen.get(0).toString()).contains("true").contains("Point[step=2, value=2.5]");
    }

    @Test
    void stoppingAWarmRunKillsTheChildrenItSpawnedAsACold() throws Exception {
        Path spawner = TestSettings.fixtureScripts().resolve("spawner.py");
        awaitWaiting(spec(TestSettings.fixtureScripts().resolve("ok.py")), null); // same directory: it fits
        ProcessRunner.Running running = startWarm(spec(spawner), null);
        Path pidFile = root.resolve("work/child.pid");
        awaitCondition(() -> Files.exists(pidFile) && !Files.readString(pidFile).isBlank(), Duration.ofSeconds(20));
        long child = Long.parseLong(Files.readString(pidFile).trim());
        running.stop(StopReason.CANCELLED);
        ProcessResult result = running.await();
        assertThat(result.killedBecause()).isEqualTo("cancelled");
        assertThat(result.exitCode()).isEqualTo(143); // SIGTERM, as a cold script dies of it
        assertThat(result.stuck()).isFalse();
        awaitCondition(() -> ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false) == false,
                Duration.ofSeconds(5));
    }

    /** The grandchild leaves the session: only the run's marker, set through os.environ, finds it. */
    @Test
    void aGrandchildThatLeftTheSessionIsFoundByTheMarkerTheJobWasGiven() throws Exception {
        Path escaper = TestSettings.fixtureScripts().resolve("escaper.py");
        ProcessResult cold = runner.start(spec(escaper)).await();
        ProcessResult warmResult = startWarm(spec(escaper), null).await();
        assertThat(warmResult.leftovers()).isEqualTo(cold.leftovers()).isEqualTo(1);
        assertThat(warmResult.exitCode()).isEqualTo(cold.exitCode());
        assertThat(warmResult.lastStdoutLine()).contains("\"status\": 200");
        assertThat(warmResult.stuck()).isFalse();
    }

    @Test
    void aTimeoutKillsAWarmRunAsItKillsACold() throws Exception {
        Path sleeper = script("sleeper.py", "import time\nprint('sleeping')\ntime.sleep(300)\n");
        ProcessSpec base = spec(sleeper);
        ProcessSpec short_ = new ProcessSpec(base.command(), base.workDir(), base.environment(), false, base.stdin(),
                Duration.ofMillis(500), base.maxLogBytes(), base.tailBytes(), base.killGrace(), null);
        ProcessResult result = startWarm(short_, null).await();
        assertThat(result.timedOut()).isTrue();
        assertThat(result.stdoutTail()).isEqualTo("sleeping\n");
    }

    /** A hand-over never waits on the interpreter: one stuck starting up is a stuck script, ended by its timeout. */
    @Test
    void aWarmInterpreterStuckInItsStartUpIsEndedByTheJobsTimeout() throws Exception {
        Path site = Files.createDirectories(root.resolve("site"));
        Files.writeString(site.resolve("sitecustomize.py"),
                "import sys, time\nif '-c' in sys.orig_argv:\n    time.sleep(300)\n"); // launchers only
        Path ok = script("ok.py", "print('ok')\n");
        Map<String, String> env = Map.of("PYTHONPATH", site.toString());
        awaitWaiting(spec(ok, env, null), null);
        ProcessSpec base = spec(ok, env, null, "j".repeat(200_000)); // a header far beyond a pipe's buffer
        ProcessSpec spec = new ProcessSpec(base.command(), base.workDir(), base.environment(), false, base.stdin(),
                Duration.ofSeconds(1), base.maxLogBytes(), base.tailBytes(), Duration.ofMillis(500), null);
        long start = System.nanoTime();
        ProcessRunner.Running running = pool().start(spec, null, true);
        assertThat(running.warm()).isTrue();
        ProcessResult result = running.await();
        assertThat(result.timedOut()).isTrue();
        assertThat(result.stuck()).isFalse();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(15));
    }

    @Test
    void variablesThatChangeWithEveryRunKeepTheWarmInterpreter() throws Exception {
        Path probe = script("probe.py", "import os\nprint(os.environ['BOSS_ORDER_ID'], os.environ['JOB_FILE'])\n");
        awaitWaiting(spec(probe, Map.of("BOSS_ORDER_ID", "a", "JOB_FILE", "/a"), null), 0);
        ProcessRunner.Running second = pool().start(spec(probe, Map.of("BOSS_ORDER_ID", "b", "JOB_FILE", "/b"), null), 0, true);
        assertThat(second.warm()).isTrue();
        assertThat(second.await().stdoutTail()).isEqualTo("b /b\n");
    }

    @Test
    void aJobThatOptsOutRunsColdAndLeavesTheWaitingInterpreterWaiting() throws Exception {
        Path ok = script("ok.py", "print('ok')\n");
        awaitWaiting(spec(ok), null);
        List<Long> waiting = pool().waitingPids();
        ProcessRunner.Running running = pool().start(spec(ok), null, false);
        assertThat(running.warm()).isFalse();
        assertThat(running.await().exitCode()).isZero();
        assertThat(pool().waitingPids()).isEqualTo(waiting);
    }

    @Test
    void theLanesNextInterpreterStartsOnceTheScriptHasExitedNotBesideItsStart() throws Exception {
        // On a machine of few cores a start-up beside the script's own delayed its first line (bench/ANALYSIS.md).
        // One clock for both ends: seconds since boot, as /proc/uptime and a process's start time count them.
        Path brief = script("brief.py", "import time\ntime.sleep(0.4)\nprint(open('/proc/uptime').read().split()[0])\n");
        awaitWaiting(spec(brief), null);
        ProcessResult result = startWarm(spec(brief), null).await();
        double scriptEnded = Double.parseDouble(result.stdoutTail().trim());
        awaitCondition(() -> pool().waiting() == 1, Duration.ofSeconds(20));
        String stat = Files.readString(Path.of("/proc/" + pool().waitingPids().get(0) + "/stat"));
        double nextStarted = Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[19]) / 100.0;
        assertThat(nextStarted).as("started at the script's end, not 400 ms before it")
                .isGreaterThanOrEqualTo(scriptEnded - 0.02);
    }

    @Test
    void aWaitingInterpreterWhoseEnvironmentNoLongerFitsItsLaneIsDiscardedAndAFreshOneStarted() throws Exception {
        Path ok = script("ok.py", "import os\nprint(os.environ.get('CUDA_VISIBLE_DEVICES'))\n");
        awaitWaiting(spec(ok, Map.of("CUDA_VISIBLE_DEVICES", "0"), null), 0);
        long old = pool().waitingPids().get(0);
        ProcessRunner.Running other = pool().start(spec(ok, Map.of("CUDA_VISIBLE_DEVICES", ""), null), 0, true);
        assertThat(other.warm()).isFalse();
        assertThat(other.await().stdoutTail()).isEqualTo("\n");
        awaitCondition(() -> gone(old), Duration.ofSeconds(10));
        awaitCondition(() -> pool().waiting() == 1 && !pool().waitingPids().contains(old), Duration.ofSeconds(20));
        ProcessRunner.Running next = pool().start(spec(ok, Map.of("CUDA_VISIBLE_DEVICES", ""), null), 0, true);
        assertThat(next.warm()).isTrue();
        assertThat(next.await().stdoutTail()).isEqualTo("\n");
    }

    @Test
    void anotherScriptDirectoryOrInterpreterIsAnotherStart() throws Exception {
        Path ok = script("ok.py", "print('ok')\n");
        awaitWaiting(spec(ok), null);
        Path elsewhere = Files.createDirectories(root.resolve("other"));
        Path moved = Files.copy(ok, elsewhere.resolve("ok.py"));
        assertThat(pool().start(spec(moved), null, true).warm()).isFalse();
        Path python = Files.createSymbolicLink(root.resolve("python-link"), Path.of(TestSettings.python()).toRealPath());
        ProcessSpec base = spec(moved);
        List<String> command = new ArrayList<>(base.command());
        command.set(0, python.toString());
        awaitCondition(() -> pool().waiting() == 1, Duration.ofSeconds(20));
        ProcessRunner.Running linked = pool().start(new ProcessSpec(command, base.workDir(), base.environment(), false,
                base.stdin(), base.timeout(), base.maxLogBytes(), base.tailBytes(), base.killGrace(), null), null, true);
        assertThat(linked.warm()).isFalse();
        assertThat(linked.await().stdoutTail()).isEqualTo("ok\n");
    }

    @Test
    void anInterpreterThatDiedWhileWaitingIsReplacedAndTheJobRunsCold() throws Exception {
        Path ok = script("ok.py", "print('ok')\n");
        awaitWaiting(spec(ok), null);
        long dead = pool().waitingPids().get(0);
        ProcessHandle.of(dead).orElseThrow().destroyForcibly();
        awaitCondition(() -> pool().waiting() == 0, Duration.ofSeconds(10));
        ProcessRunner.Running running = pool().start(spec(ok), null, true);
        assertThat(running.warm()).isFalse();
        assertThat(running.await().exitCode()).isZero();
        awaitCondition(() -> pool().waiting() == 1, Duration.ofSeconds(20));
        assertThat(startWarm(spec(ok), null).await().stdoutTail()).isEqualTo("ok\n");
    }

    /** The kernel has it dead, the JDK not yet: the job's header meets a closed pipe, and the job runs cold. */
    @Test
    void anInterpreterThatDiedJustBeforeItsJobCostsTheJobNothing() throws Exception {
        warm = new WarmInterpreters(TestRunners.noticedLate(), true, Files.createDirectories(root.resolve("home")), 2);
        Path ok = script("ok.py", "print('ok')\n");
        // This runner's processes are noticed only when waited for, so a run ends at its timeout, uncut.
        ProcessSpec base = spec(ok);
        ProcessSpec spec = new ProcessSpec(base.command(), base.workDir(), base.environment(), false, base.stdin(),
                Duration.ofSeconds(2), base.maxLogBytes(), base.tailBytes(), base.killGrace(), null);
        awaitWaiting(spec, null);
        long dead = pool().waitingPids().get(0);
        ProcessHandle.of(dead).orElseThrow().destroyForcibly();
        awaitCondition(() -> gone(dead), Duration.ofSeconds(10));
        ProcessRunner.Running running = pool().start(spec, null, true);
        assertThat(running.warm()).isFalse();
        ProcessResult result = running.await();
        assertThat(result.killedBecause()).isNull();
        assertThat(result.exitCode()).isZero();
        assertThat(result.stdoutTail()).isEqualTo("ok\n");
    }

    @Test
    void closingKillsEveryWaitingInterpreterAndLeavesNoDescriptorBehind() throws Exception {
        long pipesBefore = pipes();
        Path ok = script("ok.py", "print('ok')\n");
        List<Long> seen = new ArrayList<>();
        awaitWaiting(spec(ok, Map.of("V", "0"), null), 0);
        for (int i = 1; i <= 4; i++) { // each run in another environment discards the lane's waiting interpreter
            seen.addAll(pool().waitingPids());
            assertThat(pool().start(spec(ok, Map.of("V", Integer.toString(i)), null), 0, true).await().exitCode()).isZero();
            List<Long> before = List.copyOf(seen);
            awaitCondition(() -> pool().waiting() == 1 && !before.containsAll(pool().waitingPids()), Duration.ofSeconds(20));
        }
        seen.addAll(pool().waitingPids());
        warm.close();
        assertThat(pool().waiting()).isZero();
        for (long pid : seen) {
            awaitCondition(() -> gone(pid), Duration.ofSeconds(5));
        }
        awaitCondition(() -> pipes() <= pipesBefore, Duration.ofSeconds(5));
        ProcessRunner.Running after = pool().start(spec(ok), null, true);
        assertThat(after.warm()).isFalse();
        assertThat(after.await().exitCode()).isZero();
        assertThat(pool().waiting()).isZero(); // its starter is shut down: nothing can start later either
    }

    @Test
    void theHeaderCarriesArgvEnvironmentAndDirectoryAsTheLauncherReadsThem() throws Exception {
        byte[] header = WarmInterpreters.header(Path.of("/w"), List.of("/s/a.py", "{\"x\": \"é\"}"), Map.of("A", "1=2"));
        String text = new String(header, StandardCharsets.UTF_8);
        String payload = "/w\0" + "2\0/s/a.py\0{\"x\": \"é\"}\0" + "1\0A=1=2";
        assertThat(text).isEqualTo(payload.getBytes(StandardCharsets.UTF_8).length + "\n" + payload);
    }

    /** Gone from the process table: exited and reaped, not a zombie. */
    private static boolean gone(long pid) {
        Path stat = Path.of("/proc/" + pid + "/stat");
        try {
            String text = Files.readString(stat);
            return text.charAt(text.lastIndexOf(')') + 2) == 'X';
        } catch (IOException e) {
            return true;
        }
    }

    private static long pipes() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().startsWith("pipe:");
                } catch (IOException e) {
                    return false;
                }
            }).count();
        }
    }
}
