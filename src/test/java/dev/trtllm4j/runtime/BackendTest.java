package dev.trtllm4j.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Finding and opening backend libraries. */
class BackendTest {

    @TempDir
    Path directory;

    @AfterEach
    void clearProperty() {
        System.clearProperty(NativeLibraryLocator.PATH_PROPERTY);
    }

    @Test
    void opensTheBundledCpuBackendOnce() {
        Backend cpu = Backend.open("cpu");
        assertThat(Backend.open("cpu")).isSameAs(cpu);
        assertThat(cpu.origin()).startsWith("bundled resource /dev/trtllm4j/native/linux-x86_64/libtrtllm4j_cpu.so");
        assertThat(cpu.description()).startsWith("cpu: C11 reference backend, ");
        assertThat(cpu.tensorLocation()).isEqualTo(MemoryLocation.HOST);
    }

    @Test
    void aMissingBackendListsEveryPlaceTried() {
        System.setProperty(NativeLibraryLocator.PATH_PROPERTY, directory.toString());
        assertThatThrownBy(() -> Backend.open("nosuch"))
                .isInstanceOfSatisfying(BackendNotFoundException.class, e -> {
                    assertThat(e.attempts()).hasSize(3);
                    assertThat(e.attempts().get(0)).isEqualTo("system property trtllm4j.library.path: "
                            + directory.resolve("libtrtllm4j_nosuch.so") + ": no such file");
                    assertThat(e.attempts().get(1))
                            .isEqualTo("bundled resource /dev/trtllm4j/native/linux-x86_64/libtrtllm4j_nosuch.so: not in the jar");
                    assertThat(e.attempts().get(2)).startsWith("system library path (libtrtllm4j_nosuch.so): ");
                    assertThat(e.getSuppressed()).isNotEmpty();
                })
                .hasMessageStartingWith("no library for backend 'nosuch' could be loaded; tried:\n  - system property");
    }

    @Test
    void theConfiguredDirectoryComesFirst() throws IOException {
        // A stream, not a path: the resource may be in a directory or in the jar.
        try (InputStream bundled = BackendTest.class.getResourceAsStream("/dev/trtllm4j/native/linux-x86_64/libtrtllm4j_cpu.so")) {
            Files.copy(bundled, directory.resolve("libtrtllm4j_configured.so"));
        }
        System.setProperty(NativeLibraryLocator.PATH_PROPERTY, directory.toString());
        assertThat(Backend.open("configured").origin())
                .isEqualTo("system property trtllm4j.library.path (" + directory.resolve("libtrtllm4j_configured.so") + ")");
    }

    @Test
    void aNameThatCannotBeALibraryIsRejected() {
        assertThatThrownBy(() -> Backend.open("../cpu"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("backend name '../cpu': must be lower-case letters, digits and underscores, such as cpu,"
                        + " cuda or tensorrt");
    }
}
