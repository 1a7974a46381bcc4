package dev.trtllm4j.testing;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Version;
import com.github.dockerjava.api.model.VersionComponent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.testcontainers.DockerClientFactory;

/**
 * Whether containers can be given GPUs here, decided before any container starts, so that a GPU test
 * skips only for that reason and fails on every error of its own container.
 */
final class GpuOffer {

    private static final String NO_DEVICE =
            "the engine runs on this host, which has no NVIDIA GPU (no /dev/nvidiaN device)";

    private GpuOffer() {}

    /** Why no GPU is offered to a container of this engine, or empty when one is. */
    static Optional<String> whyNone() {
        DockerClient engine = DockerClientFactory.instance().client();
        Version version = engine.versionCmd().exec();
        List<String> components = version.getComponents() == null ? List.of()
                : version.getComponents().stream().map(VersionComponent::getName).toList();
        Map<String, ?> runtimes = engine.infoCmd().exec().getRuntimes();
        URI host = DockerClientFactory.instance().getTransportConfig().getDockerHost();
        boolean local = "unix".equals(host.getScheme()) || "npipe".equals(host.getScheme());
        List<String> cdiGpus = local ? CdiSpecs.read(CdiSpecs.DIRECTORIES, CdiSpecs.NVIDIA_GPU).deviceNames() : List.of();
        return whyNone(components, runtimes == null ? Set.of() : runtimes.keySet(), local, nvidiaDevices(), cdiGpus);
    }

    /**
     * The decision. On Docker: an NVIDIA runtime registered with the engine and, when the engine runs
     * on this host, an NVIDIA device node here (a remote engine's host cannot be looked at from
     * here). On Podman, whose Docker API ignores device requests: an engine on this host, a CDI
     * specification here that defines {@code nvidia.com/gpu=all} ({@link TrtLlmContainer} applies
     * it), and an NVIDIA device node.
     *
     * @param engineComponents the names of the engine's version components
     * @param runtimes the runtimes the engine lists
     * @param localEngine whether the engine runs on this host
     * @param nvidiaDevices this host's {@code /dev/nvidiaN} device nodes
     * @param cdiGpus the {@code nvidia.com/gpu} devices that this host's CDI specifications define
     */
    static Optional<String> whyNone(List<String> engineComponents, Set<String> runtimes, boolean localEngine,
            List<String> nvidiaDevices, List<String> cdiGpus) {
        if (engineComponents.stream().anyMatch(name -> name.startsWith("Podman"))) {
            if (!localEngine) {
                return Optional.of("the container engine is Podman on another host, whose CDI specifications"
                        + " cannot be read from here (its Docker API ignores GPU device requests)");
            }
            if (!cdiGpus.contains("all")) {
                return Optional.of("the container engine is Podman, whose Docker API ignores GPU device requests,"
                        + " and no CDI specification here defines " + CdiSpecs.NVIDIA_GPU + "=all (JSON in "
                        + CdiSpecs.DIRECTORIES + "; scripts/gpu-host-engine.sh writes one)");
            }
            return nvidiaDevices.isEmpty() ? Optional.of(NO_DEVICE) : Optional.empty();
        }
        if (!runtimes.contains("nvidia")) {
            return Optional.of("the container engine offers no NVIDIA runtime (its runtimes: "
                    + new TreeSet<>(runtimes) + ")");
        }
        if (localEngine && nvidiaDevices.isEmpty()) {
            return Optional.of(NO_DEVICE);
        }
        return Optional.empty();
    }

    private static List<String> nvidiaDevices() {
        try (Stream<Path> devices = Files.list(Path.of("/dev"))) {
            return devices.map(device -> device.getFileName().toString()).filter(name -> name.matches("nvidia[0-9]+"))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("listing /dev", e);
        }
    }
}
