package dev.trtllm4j.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import dev.trtllm4j.safetensors.SafeTensor;
import dev.trtllm4j.safetensors.SafetensorsFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.utility.DockerImageName;

/**
 * The GPU image ({@code make image-gpu}) started with {@link TrtLlmContainer#withGpus()}: the cuda and
 * tensorrt backends run attention steps inside the container, checked against the same steps on the
 * CPU backend in this JVM. Skipped, with the reason printed, where no GPU is offered ({@link
 * GpuOffer}, asked before any container starts) or the image is not here; anywhere else every
 * failure fails, a container that cannot start included.
 */
class TrtLlmContainerGpuIT {

    private static final DockerImageName IMAGE =
            TrtLlmContainer.GPU_IMAGE_NAME.withTag(System.getProperty("trtllm4j.version"));

    /** Float16 steps on a GPU against the CPU backend, as the CUDA backend's accuracy suite allows. */
    private static final double FLOAT16_TOLERANCE = 2e-3;

    private static TrtLlmContainer container;

    @BeforeAll
    static void startContainerWithGpus() {
        Optional<String> noGpu = GpuOffer.whyNone();
        assumeTrue(noGpu.isEmpty(), () -> "no GPU offered: " + noGpu.orElseThrow());
        assumeTrue(exists(DockerClientFactory.instance().client(), IMAGE), "no image "
                + IMAGE.asCanonicalNameString() + " here: build it with make image-gpu TENSORRT_INCLUDE=..., or load"
                + " the archive that make image-gpu-archive writes");

        container = new TrtLlmContainer(IMAGE).withGpus();
        container.start();
    }

    @AfterAll
    static void stopContainer() {
        if (container != null) {
            container.stop();
        }
    }

    @Test
    void listsAnNvidiaGpuInside() throws IOException, InterruptedException {
        ExecResult gpus = container.execInContainer("nvidia-smi", "-L");

        assertThat(gpus.getExitCode()).as(gpus.getStderr()).isZero();
        assertThat(gpus.getStdout()).startsWith("GPU 0: NVIDIA").contains("(UUID: GPU-");
    }

    @Test
    void theGpusInsideAreThisHostsGpus() throws IOException, InterruptedException {
        Optional<String> host = hostGpuList();
        assumeTrue(host.isPresent(), "nvidia-smi does not run on this host: the engine's GPUs cannot be compared");

        ExecResult inside = container.execInContainer("nvidia-smi", "-L");

        assertThat(inside.getStdout().lines()).isNotEmpty().isSubsetOf(host.orElseThrow().lines().toList());
    }

    @Test
    void reportsTheVersionOfTheJarItCarries() {
        assertThat(container.getVersion()).isEqualTo(System.getProperty("trtllm4j.version"));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"cuda", "tensorrt"})
    void aStepOnTheGpuBackendInsideMatchesTheCpuBackendHere(String backend, @TempDir Path work)
            throws IOException, InterruptedException {
        // A 37-token prompt and a generation step after 20 cached tokens, in one batch, so that both
        // the context and the decode kernels run; 8 query and 2 KV heads of size 128.
        ContainerStep step = ContainerStep.of(8, 2, 128, 37, 20, 64, 11);

        SafetensorsFile inside = step.runIn(container.withBackend(backend), work);
        SafetensorsFile inProcess = step.onTheCpuBackend();
        assertClose(inside.tensor("context"), inProcess.tensor("context"));
        assertClose(inside.tensor("kv_cache"), inProcess.tensor("kv_cache"));
    }

    private static void assertClose(SafeTensor actual, SafeTensor expected) {
        assertThat(actual.dtype()).isEqualTo(expected.dtype());
        assertThat(actual.shape()).isEqualTo(expected.shape());
        float[] got = actual.toFloatArray();
        float[] want = expected.toFloatArray();
        double largest = 0;
        for (int i = 0; i < got.length; i++) {
            largest = Math.max(largest, Math.abs((double) got[i] - want[i]));
        }
        assertThat(largest).as("largest difference from the CPU backend").isLessThanOrEqualTo(FLOAT16_TOLERANCE);
    }

    /** This host's {@code nvidia-smi -L}, where it runs. */
    private static Optional<String> hostGpuList() throws InterruptedException {
        try {
            Process process = new ProcessBuilder("nvidia-smi", "-L").redirectErrorStream(true).start();
            String listing = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return process.waitFor() == 0 ? Optional.of(listing) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static boolean exists(DockerClient engine, DockerImageName image) {
        try {
            engine.inspectImageCmd(image.asCanonicalNameString()).exec();
            return true;
        } catch (NotFoundException e) {
            return false;
        }
    }

}
