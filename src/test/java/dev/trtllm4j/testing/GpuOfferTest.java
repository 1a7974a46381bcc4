package dev.trtllm4j.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** When a GPU test may skip: only when the engine cannot give a container a GPU. */
class GpuOfferTest {

    private static final List<String> DOCKER = List.of("Engine", "containerd", "runc", "docker-init");
    private static final List<String> PODMAN = List.of("Podman Engine");

    @Test
    void aLocalDockerWithTheNvidiaRuntimeAndADeviceOffersAGpu() {
        assertThat(GpuOffer.whyNone(DOCKER, Set.of("runc", "nvidia"), true, List.of("nvidia0"), List.of())).isEmpty();
    }

    @Test
    void anEngineWithoutTheNvidiaRuntimeOffersNone() {
        assertThat(GpuOffer.whyNone(DOCKER, Set.of("runc", "io.containerd.runc.v2"), true, List.of("nvidia0"), List.of()))
                .contains("the container engine offers no NVIDIA runtime (its runtimes: [io.containerd.runc.v2, runc])");
    }

    @Test
    void aLocalEngineOnAHostWithoutNvidiaDevicesOffersNone() {
        assertThat(GpuOffer.whyNone(DOCKER, Set.of("runc", "nvidia"), true, List.of(), List.of()))
                .contains("the engine runs on this host, which has no NVIDIA GPU (no /dev/nvidiaN device)");
    }

    @Test
    void aRemoteEngineIsTakenAtItsRuntimes() {
        assertThat(GpuOffer.whyNone(DOCKER, Set.of("runc", "nvidia"), false, List.of(), List.of())).isEmpty();
    }

    @Test
    void podmanWithoutACdiSpecificationOffersNoneEvenWithTheNvidiaRuntime() {
        assertThat(GpuOffer.whyNone(PODMAN, Set.of("crun", "nvidia"), true, List.of("nvidia0"), List.of()))
                .hasValueSatisfying(why -> assertThat(why).startsWith(
                        "the container engine is Podman, whose Docker API ignores GPU device requests,"
                                + " and no CDI specification here defines nvidia.com/gpu=all"));
    }

    @Test
    void podmanOnThisHostWithACdiSpecificationForAllGpusOffersOne() {
        assertThat(GpuOffer.whyNone(PODMAN, Set.of("runc"), true, List.of("nvidia0"), List.of("0", "all"))).isEmpty();
    }

    @Test
    void podmanWithACdiSpecificationOnAHostWithoutNvidiaDevicesOffersNone() {
        assertThat(GpuOffer.whyNone(PODMAN, Set.of("runc"), true, List.of(), List.of("0", "all")))
                .contains("the engine runs on this host, which has no NVIDIA GPU (no /dev/nvidiaN device)");
    }

    @Test
    void podmanOnAnotherHostOffersNoneSinceItsCdiSpecificationsCannotBeRead() {
        assertThat(GpuOffer.whyNone(PODMAN, Set.of("runc"), false, List.of("nvidia0"), List.of("all")))
                .hasValueSatisfying(why -> assertThat(why).startsWith("the container engine is Podman on another host"));
    }
}
