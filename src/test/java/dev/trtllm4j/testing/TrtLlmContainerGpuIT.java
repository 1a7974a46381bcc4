package dev.trtllm4j.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import java.io.IOException;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.utility.DockerImageName;

/**
 * The NVIDIA image with a GPU device request. Skipped, with the reason printed, where no GPU is
 * offered ({@link GpuOffer}, asked before any container starts) or the image was not built
 * ({@code make image-nvidia}); anywhere else every failure fails, a container that cannot start
 * (a broken image, a failed readiness check, a device request the engine ignored) included.
 *
 * <p>These tests check that the image carries this build and that the device request reaches the
 * container; the tool inside runs on the CPU backend, not yet on the image's cuda and tensorrt
 * backends.
 */
class TrtLlmContainerGpuIT {

    private static final DockerImageName IMAGE =
            TrtLlmContainer.NVIDIA_IMAGE_NAME.withTag(System.getProperty("trtllm4j.version"));

    private static TrtLlmContainer container;

    @BeforeAll
    static void startContainerWithGpus() {
        Optional<String> noGpu = GpuOffer.whyNone();
        assumeTrue(noGpu.isEmpty(), () -> "no GPU offered: " + noGpu.orElseThrow());
        assumeTrue(exists(DockerClientFactory.instance().client(), IMAGE), "no image "
                + IMAGE.asCanonicalNameString() + " here: build it with make image-nvidia TRTLLM_RELEASE_IMAGE=...");

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
    void seesTheGpusItAskedFor() throws IOException, InterruptedException {
        ExecResult gpus = container.execInContainer("nvidia-smi", "-L");

        assertThat(gpus.getExitCode()).as(gpus.getStderr()).isZero();
        assertThat(gpus.getStdout()).contains("GPU 0");
    }

    @Test
    void reportsTheVersionOfTheJarItCarries() {
        assertThat(container.getVersion()).isEqualTo(System.getProperty("trtllm4j.version"));
    }

    @Test
    void runsTheDemoWithGpusAttached() throws IOException, InterruptedException {
        ExecResult demo = container.runTrtllm4j("demo", "--prompt", "16", "--steps", "2");

        assertThat(demo.getExitCode()).as(demo.getStderr()).isZero();
        assertThat(demo.getStdout()).contains("largest difference from the double-precision reference");
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
