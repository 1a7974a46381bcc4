package dev.trtllm4j.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * On a host without TensorRT, opening the tensorrt backend fails with the places it looked for
 * libnvinfer.so.10, with or without options, and a failed open is not remembered.
 */
class TensorRtBackendUnavailableTest {

    @BeforeEach
    void onlyWithoutTensorRt() {
        Assumptions.assumeTrue(System.getenv("TRTLLM4J_TENSORRT_LIBRARY") == null,
                "TRTLLM4J_TENSORRT_LIBRARY is set: TensorRT may be found, and the GPU tests run instead");
        Assumptions.assumeFalse(loads("libnvinfer.so.10"), "libnvinfer.so.10 is on this host's library path");
    }

    @Test
    void openingWithoutTensorRtListsWhereLibnvinferWasLookedFor() {
        NativeException e = notFound(this::openPlainly);
        assertThat(e.status()).isEqualTo(NativeStatus.UNSUPPORTED);
        assertThat(e.nativeMessage()).startsWith("libnvinfer.so.10 not found: looked in ")
                .contains("/libnvinfer.so.10 (absent)") // the backend's own folder
                .contains("the system library path (LD_LIBRARY_PATH=")
                .contains("Set TRTLLM4J_TENSORRT_LIBRARY to its folder")
                .contains("org.bytedeco:tensorrt:10.6-1.5.11:linux-x86_64-redist");
    }

    @Test
    void openingWithOptionsFailsTheSameWayAndIsNotRemembered() {
        NativeException plain = notFound(this::openPlainly);
        NativeException withOptions = notFound(() -> Backend.openTensorRt(TensorRtOptions.builder().maxBatchSize(4).build()));
        assertThat(withOptions).hasMessage(plain.getMessage());
        // Each open tries again, so TensorRT installed later is found; the reason stays the same.
        assertThatThrownBy(this::openPlainly).hasMessage(plain.getMessage());
    }

    private void openPlainly() {
        Backend.open("tensorrt");
    }

    /** The NativeException opening threw, or a skip where the tensorrt backend was not built. */
    private static NativeException notFound(Runnable open) {
        try {
            open.run();
        } catch (BackendNotFoundException e) {
            Assumptions.abort("the tensorrt backend was not built here (make native-tensorrt TENSORRT_INCLUDE=...): "
                    + e.getMessage().lines().findFirst().orElse(""));
        } catch (NativeException e) {
            return e;
        }
        throw new AssertionError("the tensorrt backend opened on a host without TensorRT");
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
