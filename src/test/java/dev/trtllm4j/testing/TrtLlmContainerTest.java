package dev.trtllm4j.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.testcontainers.utility.DockerImageName;

/** What TrtLlmContainer decides before any engine is involved. */
class TrtLlmContainerTest {

    @Test
    void refusesAnImageItWasNotMadeFor() {
        assertThatThrownBy(() -> new TrtLlmContainer("debian:bookworm-slim"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Failed to verify that image 'debian:bookworm-slim' is a compatible substitute"
                        + " for 'trtllm4j/trtllm4j-cpu'");
    }

    @Test
    void acceptsADeclaredSubstitute() {
        DockerImageName mirrored = DockerImageName.parse("registry.example/team/trtllm4j:1.0")
                .asCompatibleSubstituteFor(TrtLlmContainer.DEFAULT_IMAGE_NAME);

        assertThatCode(() -> new TrtLlmContainer(mirrored)).doesNotThrowAnyException();
    }

    @Test
    void acceptsTheNvidiaImage() {
        assertThatCode(() -> new TrtLlmContainer("trtllm4j/trtllm4j-nvidia:0.1.0")).doesNotThrowAnyException();
    }

    @Test
    void acceptsTheGpuImage() {
        assertThatCode(() -> new TrtLlmContainer("trtllm4j/trtllm4j-gpu:0.1.0")).doesNotThrowAnyException();
    }

    @Test
    void hasNoNetworkSinceEveryCommandRunsThroughExec() {
        assertThat(new TrtLlmContainer("trtllm4j/trtllm4j-cpu:0.1.0").getNetworkMode()).isEqualTo("none");
    }

    @Test
    void optionsReturnTheSameContainer() {
        TrtLlmContainer container = new TrtLlmContainer("trtllm4j/trtllm4j-cpu:0.1.0");

        assertThat(container.withBackend("cpu")).isSameAs(container);
        assertThat(container.withGpus()).isSameAs(container);
        assertThat(container.withGpus("0")).isSameAs(container);
    }

    @Test
    void usesNoGpuByDefault() {
        assertThat(new TrtLlmContainer("trtllm4j/trtllm4j-cpu:0.1.0").requestsGpus()).isFalse();
    }

    @Test
    void requestsGpusWhenAsked() {
        assertThat(new TrtLlmContainer("trtllm4j/trtllm4j-cpu:0.1.0").withGpus().requestsGpus()).isTrue();
    }

    @Test
    void namingNoDeviceIsAnError() {
        assertThatThrownBy(() -> new TrtLlmContainer("trtllm4j/trtllm4j-cpu:0.1.0").withGpus(new String[0]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("withGpus(deviceIds): name at least one device, or call withGpus() for all");
    }

    @Test
    void versionIsKnownOnlyOnceStarted() {
        assertThatThrownBy(() -> new TrtLlmContainer("trtllm4j/trtllm4j-cpu:0.1.0").getVersion())
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("getVersion(): the container is not started");
    }
}
