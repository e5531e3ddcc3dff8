package com.maddatum.worker.runner;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScriptsTest {

    @TempDir
    Path dir;

    @Test
    void onlyScriptsAJobCanNameAreAdvertisedNotTheLibrariesTheyImport() throws Exception {
        Files.writeString(dir.resolve("helpers.py"), "def f():\n    return 1\n");
        Files.writeString(dir.resolve("shared.py"), "X = 1\n");
        Files.writeString(dir.resolve("train.py"), "import json, helpers\nfrom shared import X\n"
                + "if __name__ == \"__main__\":\n    print(helpers.f())\n");
        Files.writeString(dir.resolve("seedstyle.py"), "import sys, json\nprint(json.dumps({'status': 200}))\n");
        Files.writeString(dir.resolve("both.py"), "import helpers\nif __name__ == '__main__':\n    pass\n");
        Files.writeString(dir.resolve("uses_both.py"), "import both\nif __name__ == '__main__':\n    pass\n");
        Files.writeString(dir.resolve("notes.txt"), "import train\n");
        assertThat(Scripts.advertised(dir)).containsExactly("both.py", "seedstyle.py", "train.py", "uses_both.py");
    }

    @Test
    void theShippedLibrariesAreNotAdvertised() {
        Path shipped = Path.of(System.getProperty("scripts.dir", "../python-scripts"));
        assertThat(Scripts.advertised(shipped)).contains("nn.py", "sk.py", "noop.py")
                .doesNotContain("jobcontract.py", "tabular.py");
    }
}
