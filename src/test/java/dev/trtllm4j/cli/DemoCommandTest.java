package dev.trtllm4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** {@code trtllm4j demo} on a backend that cannot run here: one line saying why, exit code 2. */
class DemoCommandTest {

    @Test
    void aBackendThatIsNotThereIsOneLineNamingIt() {
        Cli.Result result = Cli.run("demo", "--backend", "nosuch");
        assertThat(result.exitCode()).as(result.err()).isEqualTo(2);
        assertThat(result.err()).startsWith("trtllm4j: --backend nosuch: no library could be loaded (tried: ");
        assertThat(result.err().lines()).hasSize(1);
        assertThat(result.out()).isEmpty();
    }

    @Test
    void withoutTheNvidiaDriverTheCudaDemoSaysSoInOneLine() {
        Assumptions.assumeFalse(loads("libcuda.so.1"), "the NVIDIA driver's libcuda.so.1 is on this host");
        Cli.Result result = Cli.run("demo", "--backend", "cuda");
        Assumptions.assumeFalse(result.err().contains("no library could be loaded"),
                "the CUDA backend was not built here (no nvcc)");
        assertThat(result.exitCode()).as(result.err()).isEqualTo(2);
        assertThat(result.err()).startsWith(
                "trtllm4j: cuda backend, initialize: UNSUPPORTED: no NVIDIA driver: libcuda.so.1 cannot be loaded");
        assertThat(result.err().lines()).hasSize(1);
    }

    private static boolean loads(String library) {
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup.libraryLookup(library, arena);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
