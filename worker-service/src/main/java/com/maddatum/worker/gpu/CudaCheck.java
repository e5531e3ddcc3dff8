package com.maddatum.worker.gpu;

import com.maddatum.worker.runner.ProcessResult;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * The Python half of the GPU check: one interpreter (the one scripts run with) imports torch and puts
 * a 1 MiB tensor on each GPU it sees, printing one JSON line per GPU as it goes, so that a hang or a crash
 * on the third GPU still leaves the verdict on the first two. A torch without CUDA, or no torch, is not a
 * failure: scripts on this machine then cannot use a GPU either way, and the note says so. The GPUs to
 * touch are its arguments (nvidia-smi's indexes); none: every GPU CUDA sees.
 */
final class CudaCheck {

    private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() {};

    /** Standard library first; every step may fail on its own and says how. */
    static final String SCRIPT = String.join("\n",
            "import json, sys",
            "def say(**fields):",
            "    print(json.dumps(fields), flush=True)",
            "try:",
            "    import torch",
            "except Exception as e:",
            "    say(torch=None, error=(type(e).__name__ + ': ' + str(e))[:200])",
            "    sys.exit(0)",
            "if not torch.version.cuda:",
            "    say(torch=torch.__version__, cuda=None)",
            "    sys.exit(0)",
            "if not torch.cuda.is_available():",
            "    say(torch=torch.__version__, cuda=torch.version.cuda, available=False)",
            "    sys.exit(0)",
            "n = torch.cuda.device_count()",
            "say(torch=torch.__version__, cuda=torch.version.cuda, available=True, devices=n)",
            "wanted = [int(a) for a in sys.argv[1:]] if len(sys.argv) > 1 else range(n)",
            "for i in wanted:",
            "    if i >= n:",
            "        continue",
            "    try:",
            "        x = torch.ones(1 << 18, device='cuda:%d' % i)",
            "        total = int(x.sum().item())",
            "        torch.cuda.synchronize(i)",
            "        say(index=i, ok=total == 1 << 18, error=None if total == 1 << 18 else 'a tensor of 262144 ones summed to %d' % total)",
            "    except Exception as e:",
            "        say(index=i, ok=False, error=(type(e).__name__ + ': ' + str(e))[:300])");

    /**
     * What the check said. {@code skipped}: why it checked nothing (a note, not a failure). Otherwise
     * {@code devices} maps each GPU it reached to null (passed) or its error, and {@code missing} is the
     * failure of every GPU it did not reach (it hung, crashed, or CUDA does not see that GPU).
     */
    record Answer(String skipped, Map<Integer, String> devices, String missing) {
        static Answer skip(String why) {
            return new Answer(why, Map.of(), null);
        }
    }

    private CudaCheck() {}

    static Answer read(ProcessResult result, Duration timeout, JsonMapper json) {
        if (!result.started()) {
            return Answer.skip("the CUDA check could not start Python: " + result.startError());
        }
        Map<String, Object> header = null;
        Map<Integer, String> devices = new HashMap<>();
        for (String line : result.stdoutTail().split("\r?\n")) {
            Map<String, Object> fields = object(line.strip(), json);
            if (fields == null) {
                continue; // a warning, a banner, a cut-off line: only our own JSON counts
            }
            if (fields.get("index") instanceof Integer index) {
                devices.put(index, Boolean.TRUE.equals(fields.get("ok")) ? null
                        : fields.get("error") instanceof String error && !error.isBlank()
                                ? GpuHealth.abbreviate(error) : "the CUDA allocation failed");
            } else if (header == null && fields.containsKey("torch")) {
                header = fields;
            }
        }
        if (header != null && header.get("torch") == null) {
            return Answer.skip("torch has no CUDA: torch is not installed for this Python (" + header.get("error") + ")");
        }
        if (header != null && header.get("cuda") == null) {
            return Answer.skip("torch has no CUDA: torch " + header.get("torch") + " is a CPU build");
        }
        return new Answer(null, devices, missing(result, header, timeout));
    }

    private static String missing(ProcessResult result, Map<String, Object> header, Duration timeout) {
        if (result.timedOut() || result.stuck() || result.exitCode() == null) {
            return "the CUDA check did not finish within " + timeout.toSeconds() + "s";
        }
        if (result.exitCode() != 0) {
            return "the CUDA check crashed (exit " + result.exitCode() + ")" + lastLine(result.stderrTail());
        }
        if (header == null) {
            return "the CUDA check gave no answer" + lastLine(result.stdoutTail());
        }
        if (Boolean.FALSE.equals(header.get("available"))) {
            return "torch " + header.get("torch") + " (CUDA " + header.get("cuda")
                    + ") finds no usable GPU: torch.cuda.is_available() is false";
        }
        return "CUDA does not see this GPU (torch.cuda.device_count() is " + header.get("devices") + ")";
    }

    private static Map<String, Object> object(String line, JsonMapper json) {
        if (!line.startsWith("{")) {
            return null;
        }
        try {
            return json.readValue(line, MAP);
        } catch (JacksonException e) {
            return null;
        }
    }

    private static String lastLine(String text) {
        String[] lines = text.strip().split("\r?\n");
        String last = lines[lines.length - 1].strip();
        return last.isEmpty() ? "" : ": " + GpuHealth.abbreviate(last);
    }
}
