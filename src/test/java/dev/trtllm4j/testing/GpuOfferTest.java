package dev.trtllm4j.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** When a GPU test may skip: only when the engine cannot give a container a GPU. */
class GpuOfferTest {

    private static final List<String> DOCKER = List.of("Engine", "containerd", "runc", "docker-init");

    @Test
    void aLocalDockerWithTheNvidiaRuntimeAndADeviceOffersAGpu() {
        assertThat(GpuOffer.whyNone(DOCKER, Set.of("runc", "nvidia"), true, List.of("nvidia0"))).isEmpty();
    }

    @Test
    void anEngineWithoutTheNvidiaRuntimeOffersNone() {
        assertThat(GpuOffer.whyNone(DOCKER, Set.of("runc", "io.containerd.runc.v2"), true, List.of("nvidia0")))
                .contains("the container engine offers no NVIDIA runtime (its runtimes: [io.containerd.runc.v2, runc])");
    }

    @Test
    void aLocalEngineOnAHostWithoutNvidiaDevicesOffersNone() {
        assertThat(GpuOffer.whyNone(DOCKER, Set.of("runc", "nvidia"), true, List.of()))
                .contains("the engine runs on this host, which has no NVIDIA GPU (no /dev/nvidiaN device)");
    }

    @Test
    void aRemoteEngineIsTakenAtItsRuntimes() {
        assertThat(GpuOffer.whyNone(DOCKER, Set.of("runc", "nvidia"), false, List.of())).isEmpty();
    }

    @Test
    void podmansDockerApiOffersNoneEvenWithTheNvidiaRuntime() {
        assertThat(GpuOffer.whyNone(List.of("Podman Engine"), Set.of("crun", "nvidia"), true, List.of("nvidia0")))
                .contains("the container engine is Podman, whose Docker API ignores GPU device requests");
    }
}
