package com.maddatum.worker.gpu;

import com.maddatum.worker.common.Text;
import com.maddatum.worker.runner.ProcessResult;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * The Python half of the GPU check, run once per GPU with {@code CUDA_VISIBLE_DEVICES} naming that GPU
 * alone, so the process sees it as device 0 and a hang or a crash there fails that GPU and no other. It
 * imports torch (the interpreter scripts run with), puts a 1 MiB tensor on device 0 and prints what CUDA
 * says the device's memory is ({@code total_memory}, bytes): under MIG or a container's limit that is less
 * than nvidia-smi's {@code memory.total}, which counts the whole card. A torch without CUDA, or no torch,
 * is not a failure: scripts on this machine then cannot use a GPU either way, and the note says so.
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
            "if n < 1:",
            "    sys.exit(0)",
            "try:",
            "    x = torch.ones(1 << 18, device='cuda:0')",
            "    total = int(x.sum().item())",
            "    torch.cuda.synchronize(0)",
            "    memory = int(torch.cuda.get_device_properties(0).total_memory)",
            "    say(index=0, ok=total == 1 << 18, memory=memory,",
            "        error=None if total == 1 << 18 else 'a tensor of 262144 ones summed to %d' % total)",
            "except Exception as e:",
            "    say(index=0, ok=False, error=(type(e).__name__ + ': ' + str(e))[:300])");

    /**
     * What the check on one GPU said. {@code skipped}: why it checked nothing (a note, not a failure);
     * {@code everyGpu}: the skip is the interpreter's (no torch, torch without CUDA) and holds for every GPU,
     * else it is this GPU's process alone (it could not start, or was interrupted). Otherwise
     * {@code failure} is null when the GPU passed, and {@code memoryBytes} is CUDA's {@code total_memory}
     * for it when the check printed one.
     */
    record Answer(String skipped, boolean everyGpu, String failure, Long memoryBytes) {
        Answer(String skipped, String failure, Long memoryBytes) {
            this(skipped, false, failure, memoryBytes);
        }

        /** This GPU's process checked nothing: the GPU keeps its previous verdict ({@link GpuHealth}). */
        static Answer skip(String why) {
            return new Answer(why, false, null, null);
        }

        /** The interpreter cannot use CUDA: no GPU is checked, and none is failed for it. */
        static Answer skipAll(String why) {
            return new Answer(why, true, null, null);
        }

        static Answer failed(String why) {
            return new Answer(null, false, why, null);
        }
    }

    private CudaCheck() {}

    /** {@code device}: what {@code CUDA_VISIBLE_DEVICES} named for this process, for the reasons. */
    static Answer read(ProcessResult result, String device, Duration timeout, JsonMapper json) {
        if (!result.started()) {
            return Answer.skip("the CUDA check could not start Python: " + result.startError());
        }
        Map<String, Object> header = null;
        Map<String, Object> verdict = null;
        for (String line : result.stdoutTail().split("\r?\n")) {
            Map<String, Object> fields = object(line.strip(), json);
            if (fields == null) {
                continue; // a warning, a banner, a cut-off line: only our own JSON counts
            }
            if (Integer.valueOf(0).equals(fields.get("index"))) {
                verdict = fields;
            } else if (header == null && fields.containsKey("torch")) {
                header = fields;
            }
        }
        if (header != null && header.get("torch") == null) {
            return Answer.skipAll("torch has no CUDA: torch is not installed for this Python (" + header.get("error") + ")");
        }
        if (header != null && header.get("cuda") == null) {
            return Answer.skipAll("torch has no CUDA: torch " + header.get("torch") + " is a CPU build");
        }
        if (verdict != null) {
            Long memory = verdict.get("memory") instanceof Number n && n.longValue() > 0 ? n.longValue() : null;
            return Boolean.TRUE.equals(verdict.get("ok")) ? new Answer(null, null, memory)
                    : Answer.failed(verdict.get("error") instanceof String error && !error.isBlank()
                            ? Text.abbreviate(error, 300) : "the CUDA allocation failed");
        }
        return Answer.failed(missing(result, header, device, timeout));
    }

    private static String missing(ProcessResult result, Map<String, Object> header, String device, Duration timeout) {
        if (result.timedOut() || result.stuck() || result.exitCode() == null) {
            return "the CUDA check on this GPU did not finish within " + timeout.toSeconds()
                    + "s (it hung; it was killed, and the other GPUs were checked on their own)";
        }
        if (result.exitCode() != 0) {
            return "the CUDA check crashed (exit " + result.exitCode() + ")" + lastLine(result.stderrTail());
        }
        if (header == null) {
            return "the CUDA check gave no answer" + lastLine(result.stdoutTail());
        }
        if (Boolean.FALSE.equals(header.get("available"))) {
            return "torch " + header.get("torch") + " (CUDA " + header.get("cuda") + ") finds no usable GPU with "
                    + "CUDA_VISIBLE_DEVICES=" + device + ": torch.cuda.is_available() is false";
        }
        return "CUDA does not see this GPU (with CUDA_VISIBLE_DEVICES=" + device + ", torch.cuda.device_count() is "
                + header.get("devices") + ")";
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
        return last.isEmpty() ? "" : ": " + Text.abbreviate(last, 300);
    }
}
