package dev.trtllm4j.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The Container Device Interface (CDI) specifications of this host, in JSON: what a container needs
 * to be given a device such as {@code nvidia.com/gpu=all} (device nodes, mounts, environment), as
 * NVIDIA's {@code nvidia-ctk cdi generate --format=json} or {@code scripts/gpu-host-engine.sh}
 * write them and Podman's command line reads them ({@code podman run --device nvidia.com/gpu=all}).
 *
 * <p>Podman's Docker API ignores GPU device requests, so {@link TrtLlmContainer} applies a CDI
 * device's edits itself, through that API's devices, binds and environment. Hooks cannot be applied
 * that way: a device whose edits have hooks is refused, naming the file.
 */
final class CdiSpecs {

    /** Where CDI specifications live; a later folder's device replaces an earlier one's of the same name. */
    static final List<Path> DIRECTORIES = List.of(Path.of("/etc/cdi"), Path.of("/var/run/cdi"));

    /** NVIDIA's GPUs, as NVIDIA's container toolkit names them in CDI. */
    static final String NVIDIA_GPU = "nvidia.com/gpu";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** A device node: {@code path} in the container, {@code hostPath} on the host. */
    record DeviceNode(String path, String hostPath, String permissions) {}

    /** A mount of {@code hostPath} at {@code containerPath}, read-only when its options say {@code ro}. */
    record Mount(String hostPath, String containerPath, boolean readOnly) {}

    /** What giving a container one or more devices changes. */
    record ContainerEdits(List<DeviceNode> deviceNodes, List<Mount> mounts, List<String> env) {}

    private record Device(Path file, JsonNode specEdits, JsonNode deviceEdits) {}

    private final String kind;
    private final Map<String, Device> devices;
    private final List<Path> directories;

    private CdiSpecs(String kind, Map<String, Device> devices, List<Path> directories) {
        this.kind = kind;
        this.devices = devices;
        this.directories = directories;
    }

    /** The devices of {@code kind} that the JSON specifications in {@code directories} define. */
    static CdiSpecs read(List<Path> directories, String kind) {
        Map<String, Device> devices = new LinkedHashMap<>();
        for (Path directory : directories) {
            for (Path file : jsonFiles(directory)) {
                JsonNode spec = parse(file);
                if (!kind.equals(spec.path("kind").asText())) {
                    continue;
                }
                for (JsonNode device : spec.path("devices")) {
                    devices.put(device.path("name").asText(),
                            new Device(file, spec.path("containerEdits"), device.path("containerEdits")));
                }
            }
        }
        return new CdiSpecs(kind, devices, directories);
    }

    /** The device names defined, in the order read. */
    List<String> deviceNames() {
        return List.copyOf(devices.keySet());
    }

    /**
     * The edits that give a container the named devices: each device's own and its specification's,
     * each specification's once.
     *
     * @throws IllegalStateException when a device is not defined or has hooks
     */
    ContainerEdits edits(List<String> names) {
        List<DeviceNode> nodes = new ArrayList<>();
        List<Mount> mounts = new ArrayList<>();
        List<String> env = new ArrayList<>();
        List<Path> specsApplied = new ArrayList<>();
        for (String name : names) {
            Device device = devices.get(name);
            if (device == null) {
                throw new IllegalStateException("no CDI device " + kind + "=" + name + " in " + directories
                        + (devices.isEmpty() ? " (no JSON specification of kind " + kind + " there)"
                                : " (defined: " + devices.keySet() + ")"));
            }
            if (!specsApplied.contains(device.file())) {
                specsApplied.add(device.file());
                add(device.file(), device.specEdits(), nodes, mounts, env);
            }
            add(device.file(), device.deviceEdits(), nodes, mounts, env);
        }
        return new ContainerEdits(List.copyOf(nodes), List.copyOf(mounts), List.copyOf(env));
    }

    private static void add(Path file, JsonNode edits, List<DeviceNode> nodes, List<Mount> mounts, List<String> env) {
        if (!edits.path("hooks").isEmpty()) {
            throw new IllegalStateException(file + " has hooks, which cannot be applied through the Docker API:"
                    + " write a specification without hooks (scripts/gpu-host-engine.sh does), or use Docker with"
                    + " NVIDIA's container toolkit");
        }
        for (JsonNode node : edits.path("deviceNodes")) {
            String path = required(file, node, "path");
            DeviceNode device = new DeviceNode(path, node.path("hostPath").asText(path),
                    node.path("permissions").asText("rwm"));
            if (!nodes.contains(device)) {
                nodes.add(device);
            }
        }
        for (JsonNode mount : edits.path("mounts")) {
            boolean readOnly = false;
            for (JsonNode option : mount.path("options")) {
                readOnly |= option.asText().equals("ro");
            }
            Mount bind = new Mount(required(file, mount, "hostPath"), required(file, mount, "containerPath"), readOnly);
            if (!mounts.contains(bind)) {
                mounts.add(bind);
            }
        }
        for (JsonNode variable : edits.path("env")) {
            env.add(variable.asText());
        }
    }

    private static String required(Path file, JsonNode node, String field) {
        String value = node.path(field).asText("");
        if (value.isEmpty()) {
            throw new IllegalStateException(file + ": an entry lacks \"" + field + "\": " + node);
        }
        return value;
    }

    private static List<Path> jsonFiles(Path directory) {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(file -> file.getFileName().toString().endsWith(".json")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("listing " + directory, e);
        }
    }

    private static JsonNode parse(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("reading the CDI specification " + file + ": " + e.getMessage(), e);
        }
    }
}
