package dev.trtllm4j.testing;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Device;
import com.github.dockerjava.api.model.DeviceRequest;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Version;
import com.github.dockerjava.api.model.Volume;
import dev.trtllm4j.attention.DataType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.ContainerLaunchException;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

/**
 * A container of trtllm4j's images, for integration tests: the {@code trtllm4j} command-line tool
 * runs inside it, on files that the helpers copy in and out.
 *
 * <p>Supported images: {@code trtllm4j/trtllm4j-cpu} ({@code docker/cpu.Dockerfile}, the CPU
 * backend), {@code trtllm4j/trtllm4j-gpu} ({@code docker/gpu.Dockerfile}: the CPU, CUDA and
 * tensorrt backends with TensorRT 10.6) and {@code trtllm4j/trtllm4j-nvidia}
 * ({@code docker/nvidia.Dockerfile}, on NVIDIA's TensorRT-LLM release image), as {@code make
 * image-cpu}, {@code make image-gpu} and {@code make image-nvidia} build them.
 * No ports are exposed and the container has no network ({@code none}): every command runs through
 * the engine's exec API and files travel by copy, so a container starts even where the engine has no
 * network backend (the GPU host's carried Podman; {@link #withNetworkMode} changes it). The container idles
 * instead of running the images' entry point, and is ready once {@code trtllm4j --version}
 * succeeds inside it, that is once the tool, its Java runtime and its jar work.
 *
 * <p>A GPU is used only when asked for with {@link #withGpus()} or {@link #withGpus(String...)}; the
 * container never infers one from what the engine offers. On Docker the request is a device request,
 * which NVIDIA's container toolkit fulfils. Podman's Docker API ignores device requests, so on Podman
 * the container is given what the host's CDI specification (JSON, in {@code /etc/cdi} or
 * {@code /var/run/cdi}) lists for {@code nvidia.com/gpu=all} or the named devices: device nodes, the
 * driver's files as read-only binds, environment. A container that asked for GPUs fails to start
 * unless it sees at least one NVIDIA device inside.
 *
 * {@snippet :
 * try (TrtLlmContainer trtllm4j = new TrtLlmContainer("trtllm4j/trtllm4j-cpu:0.1.0")) {
 *     trtllm4j.start();
 *     trtllm4j.runAttention(Path.of("fields.json"), Path.of("step.safetensors"), Path.of("out.safetensors"));
 * }
 * }
 */
public class TrtLlmContainer extends GenericContainer<TrtLlmContainer> {

    /** The CPU image, {@code docker/cpu.Dockerfile}. */
    public static final DockerImageName DEFAULT_IMAGE_NAME = DockerImageName.parse("trtllm4j/trtllm4j-cpu");

    /** The GPU image made from package registries alone, {@code docker/gpu.Dockerfile}. */
    public static final DockerImageName GPU_IMAGE_NAME = DockerImageName.parse("trtllm4j/trtllm4j-gpu");

    /** The image on NVIDIA's TensorRT-LLM release image, {@code docker/nvidia.Dockerfile}. */
    public static final DockerImageName NVIDIA_IMAGE_NAME = DockerImageName.parse("trtllm4j/trtllm4j-nvidia");

    /** The folder inside the container that the helpers copy files to and from. */
    public static final String WORK_DIRECTORY = "/workspace";

    private static final String ATTENTION_DIRECTORY = WORK_DIRECTORY + "/attention";
    private static final String CONVERT_DIRECTORY = WORK_DIRECTORY + "/convert";

    private String backend = "cpu";
    private List<String> gpuDeviceIds;
    private String version;

    /** A container of {@code dockerImageName}, such as {@code "trtllm4j/trtllm4j-cpu:0.1.0"}. */
    public TrtLlmContainer(String dockerImageName) {
        this(DockerImageName.parse(dockerImageName));
    }

    /**
     * A container of {@code dockerImageName}, which must be one of the supported images or declared a
     * compatible substitute for one ({@link DockerImageName#asCompatibleSubstituteFor}).
     */
    public TrtLlmContainer(DockerImageName dockerImageName) {
        super(dockerImageName);
        dockerImageName.assertCompatibleWith(DEFAULT_IMAGE_NAME, GPU_IMAGE_NAME, NVIDIA_IMAGE_NAME);
        withNetworkMode("none");
        // The images' entry point is the tool itself, which exits when done: the container sleeps
        // instead, and each command runs through exec.
        withCreateContainerCmdModifier(cmd -> {
            cmd.withEntrypoint("sleep", "infinity");
            if (gpuDeviceIds != null) {
                requestGpus(cmd);
            }
        });
        // A JVM starts per check; slow CI hosts take seconds.
        waitingFor(Wait.forSuccessfulCommand("trtllm4j --version").withStartupTimeout(Duration.ofMinutes(2)));
    }

    /** The backend that {@link #runAttention} runs on: {@code cpu} (the default), {@code cuda} or {@code tensorrt}. */
    public TrtLlmContainer withBackend(String backend) {
        this.backend = Objects.requireNonNull(backend, "backend");
        return this;
    }

    /** Requests every GPU of the host for the container, as {@code docker run --gpus all} does. */
    public TrtLlmContainer withGpus() {
        this.gpuDeviceIds = List.of();
        return this;
    }

    /** Requests the GPUs with these indices or UUIDs, as {@code docker run --gpus device=0,1} does. */
    public TrtLlmContainer withGpus(String... deviceIds) {
        if (deviceIds.length == 0) {
            throw new IllegalArgumentException("withGpus(deviceIds): name at least one device, or call withGpus() for all");
        }
        this.gpuDeviceIds = List.of(deviceIds);
        return this;
    }

    /** Whether the container asks the engine for GPUs. */
    public boolean requestsGpus() {
        return gpuDeviceIds != null;
    }

    /** The backend that {@link #runAttention} runs on. */
    public String getBackend() {
        return backend;
    }

    /** The version that {@code trtllm4j --version} reports inside the started container, such as {@code 0.1.0}. */
    public String getVersion() {
        if (version == null) {
            throw new IllegalStateException("getVersion(): the container is not started");
        }
        return version;
    }

    @Override
    protected void containerIsStarted(InspectContainerResponse containerInfo) {
        try {
            if (gpuDeviceIds != null) {
                checkGpusVisible();
            }
            String line = runChecked("--version").getStdout().strip();
            version = line.startsWith("trtllm4j ") ? line.substring("trtllm4j ".length()) : line;
        } catch (IOException e) {
            throw new ContainerLaunchException("starting " + getDockerImageName() + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ContainerLaunchException("interrupted while starting " + getDockerImageName(), e);
        }
    }

    /** Whether the engine is Podman, by the components its Docker API reports. */
    static boolean isPodman(DockerClient engine) {
        Version version = engine.versionCmd().exec();
        return version.getComponents() != null
                && version.getComponents().stream().anyMatch(component -> component.getName().startsWith("Podman"));
    }

    private void requestGpus(CreateContainerCmd cmd) {
        DockerClient engine = DockerClientFactory.instance().client();
        if (!isPodman(engine)) {
            cmd.getHostConfig().withDeviceRequests(List.of(gpuRequest(gpuDeviceIds)));
            return;
        }
        String scheme = DockerClientFactory.instance().getTransportConfig().getDockerHost().getScheme();
        if (!"unix".equals(scheme)) {
            throw new IllegalStateException("GPUs on Podman come from its host's CDI specification, which cannot be"
                    + " read from here: the engine is not on this host (" + scheme + ")");
        }
        List<String> devices = gpuDeviceIds.isEmpty() ? List.of("all") : gpuDeviceIds;
        apply(CdiSpecs.read(CdiSpecs.DIRECTORIES, CdiSpecs.NVIDIA_GPU).edits(devices), cmd);
    }

    private static void apply(CdiSpecs.ContainerEdits edits, CreateContainerCmd cmd) {
        HostConfig host = cmd.getHostConfig();
        List<Device> devices = new ArrayList<>(host.getDevices() == null ? List.of() : Arrays.asList(host.getDevices()));
        edits.deviceNodes().forEach(node -> devices.add(new Device(node.permissions(), node.path(), node.hostPath())));
        host.withDevices(devices);
        List<Bind> binds = new ArrayList<>(host.getBinds() == null ? List.of() : Arrays.asList(host.getBinds()));
        edits.mounts().forEach(mount -> binds.add(new Bind(mount.hostPath(), new Volume(mount.containerPath()),
                mount.readOnly() ? AccessMode.ro : AccessMode.rw)));
        host.withBinds(binds);
        List<String> env = new ArrayList<>(cmd.getEnv() == null ? List.of() : Arrays.asList(cmd.getEnv()));
        env.addAll(edits.env());
        cmd.withEnv(env);
    }

    /**
     * An engine may accept a device request and ignore it (Podman's Docker-compatible API does): the
     * GPUs must be seen inside, or a test asking for them would silently run without.
     */
    private void checkGpusVisible() throws IOException, InterruptedException {
        ExecResult devices = execInContainer("sh", "-c", "ls /dev/nvidia[0-9]*");
        if (devices.getExitCode() != 0) {
            throw new ContainerLaunchException("a container of " + getDockerImageName() + " asked for GPUs "
                    + (gpuDeviceIds.isEmpty() ? "(all)" : gpuDeviceIds) + " but sees no /dev/nvidiaN device: the"
                    + " host has no NVIDIA GPU, or the engine ignored the device request");
        }
    }

    /**
     * Runs {@code trtllm4j ARGUMENTS...} inside the container, whatever its exit code: for commands
     * the helpers do not cover, and for checking how the tool fails.
     */
    public ExecResult runTrtllm4j(String... arguments) throws IOException, InterruptedException {
        return execInContainer(trtllm4jCommand(arguments));
    }

    /**
     * Runs one attention step inside the container: copies the plugin-field file and the input tensors
     * in, runs {@code trtllm4j attention run --config ... --input ... --output ... --backend ...}, and
     * copies the output tensors ({@code context} and the updated {@code kv_cache}) to {@code output}.
     *
     * @param pluginFields a JSON object of the plugin's fields, named as TensorRT-LLM names them
     * @param input the step's tensors, safetensors
     * @param output where the output tensors go on this host, safetensors
     * @throws TrtLlmCommandException when the command exits non-zero
     */
    public void runAttention(Path pluginFields, Path input, Path output) throws IOException, InterruptedException {
        String config = ATTENTION_DIRECTORY + "/fields.json";
        String in = ATTENTION_DIRECTORY + "/input.safetensors";
        String out = ATTENTION_DIRECTORY + "/output.safetensors";
        copyFileToContainer(MountableFile.forHostPath(pluginFields), config);
        copyFileToContainer(MountableFile.forHostPath(input), in);
        runChecked("attention", "run", "--config", config, "--input", in, "--output", out, "--backend", backend);
        copyFileFromContainer(out, output.toString());
    }

    /**
     * Converts a Hugging Face {@code config.json} inside the container: copies it in, runs
     * {@code trtllm4j config convert --hf ... --out ... --dtype ...}, and copies every file the
     * command wrote (TensorRT-LLM's checkpoint and build configurations) into {@code outputDirectory}.
     *
     * @return the files copied, sorted
     * @throws TrtLlmCommandException when the command exits non-zero
     */
    public List<Path> convertConfig(Path huggingFaceConfig, DataType dtype, Path outputDirectory)
            throws IOException, InterruptedException {
        String hf = CONVERT_DIRECTORY + "/config.json";
        String out = CONVERT_DIRECTORY + "/out";
        copyFileToContainer(MountableFile.forHostPath(huggingFaceConfig), hf);
        execChecked("rm", "-rf", out);
        runChecked("config", "convert", "--hf", hf, "--out", out, "--dtype", dtype.tensorRtLlmName());
        ExecResult listing = execChecked("find", out, "-type", "f");
        List<Path> copied = new ArrayList<>();
        for (String file : listing.getStdout().lines().sorted().toList()) {
            Path target = outputDirectory.resolve(file.substring(out.length() + 1));
            Files.createDirectories(target.getParent());
            copyFileFromContainer(file, target.toString());
            copied.add(target);
        }
        return copied;
    }

    private ExecResult runChecked(String... arguments) throws IOException, InterruptedException {
        return execChecked(trtllm4jCommand(arguments));
    }

    private ExecResult execChecked(String... command) throws IOException, InterruptedException {
        ExecResult result = execInContainer(command);
        if (result.getExitCode() != 0) {
            throw new TrtLlmCommandException(List.of(command), getDockerImageName(), result.getExitCode(),
                    result.getStdout(), result.getStderr());
        }
        return result;
    }

    private static String[] trtllm4jCommand(String... arguments) {
        String[] command = new String[arguments.length + 1];
        command[0] = "trtllm4j";
        System.arraycopy(arguments, 0, command, 1, arguments.length);
        return command;
    }

    private static DeviceRequest gpuRequest(List<String> deviceIds) {
        DeviceRequest request = new DeviceRequest().withDriver("nvidia").withCapabilities(List.of(List.of("gpu")));
        // Count -1 is the engine's "all"; naming devices replaces the count.
        return deviceIds.isEmpty() ? request.withCount(-1) : request.withDeviceIds(deviceIds);
    }
}
