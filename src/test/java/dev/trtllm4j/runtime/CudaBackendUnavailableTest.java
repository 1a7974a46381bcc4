package dev.trtllm4j.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** On a host without NVIDIA's driver, opening the cuda backend fails with a message that says so. */
class CudaBackendUnavailableTest {

    @Test
    void openingTheCudaBackendWithoutTheDriverNamesTheMissingLibrary() {
        Assumptions.assumeFalse(driverLoads(), "this host has NVIDIA's driver (libcuda.so.1): the GPU tests run instead");
        try {
            Backend.open("cuda");
        } catch (BackendNotFoundException e) {
            Assumptions.abort("the cuda backend was not built here (it needs nvcc): " + e.getMessage().lines().findFirst()
                    .orElse(""));
        } catch (NativeException e) {
            assertThat(e.status()).isEqualTo(NativeStatus.UNSUPPORTED);
            assertThat(e.nativeMessage()).contains("libcuda.so.1").contains("NVIDIA driver");
            return;
        }
        throw new AssertionError("Backend.open(\"cuda\") succeeded on a host without libcuda.so.1");
    }

    @Test
    void aFailedOpenIsNotRemembered() {
        Assumptions.assumeFalse(driverLoads(), "this host has NVIDIA's driver (libcuda.so.1)");
        Throwable first = catchOpen();
        Assumptions.assumeTrue(first instanceof NativeException, "the cuda backend was not built here");
        // Each open tries again, so a driver installed later is found, and the reason stays the same.
        assertThatThrownBy(() -> Backend.open("cuda")).hasMessage(first.getMessage());
    }

    private static Throwable catchOpen() {
        try {
            Backend.open("cuda");
            return null;
        } catch (TrtLlmException e) {
            return e;
        }
    }

    private static boolean driverLoads() {
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup.libraryLookup("libcuda.so.1", arena);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
