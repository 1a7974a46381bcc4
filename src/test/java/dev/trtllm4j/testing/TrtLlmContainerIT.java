package dev.trtllm4j.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.cli.Trtllm4jCommand;
import dev.trtllm4j.safetensors.SafetensorsFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.ContainerLaunchException;
import picocli.CommandLine;

/**
 * The CPU image in a real container engine: built from docker/cpu.Dockerfile, started as a
 * {@link TrtLlmContainer}, and checked against the same work done in this JVM on the CPU backend.
 */
class TrtLlmContainerIT {

    private static CpuImage image;
    private static TrtLlmContainer container;

    @BeforeAll
    static void startContainer() {
        image = CpuImage.build();
        container = new TrtLlmContainer(image.name());
        container.start();
    }

    @AfterAll
    static void removeContainerAndImage() {
        try (CpuImage built = image) {
            if (container != null) {
                container.stop();
            }
        }
    }

    @Test
    void reportsTheVersionOfTheJarItCarries() {
        assertThat(container.getVersion()).isEqualTo(System.getProperty("trtllm4j.version"));
    }

    @Test
    void demoInsideTheContainerMatchesTheDemoInProcess() throws IOException, InterruptedException {
        String[] demo = {"demo", "--prompt", "16", "--steps", "2"};

        ExecResult inside = container.runTrtllm4j(demo);

        assertThat(inside.getExitCode()).as(inside.getStderr()).isZero();
        assertThat(deterministicLines(inside.getStdout())).isEqualTo(deterministicLines(inProcess(demo)));
    }

    @Test
    void badInputExitsWithStatusTwoAndNamesTheProblem() throws IOException, InterruptedException {
        ExecResult result = container.runTrtllm4j("demo", "--dtype", "float64");

        assertThat(result.getExitCode()).isEqualTo(2);
        assertThat(result.getStderr()).contains("float64");
    }

    @Test
    void attentionRunInsideTheContainerMatchesTheSameStepInProcess(@TempDir Path work)
            throws IOException, InterruptedException {
        // A small GQA layer in float16; a batch of a 5-token prompt and a generation step after 3
        // cached tokens.
        ContainerStep step = ContainerStep.of(4, 2, 64, 5, 3, 8, 7);

        SafetensorsFile inside = step.runIn(container, work);
        SafetensorsFile inProcess = step.onTheCpuBackend();
        assertThat(inside.tensor("context")).isEqualTo(inProcess.tensor("context"));
        assertThat(inside.tensor("kv_cache")).isEqualTo(inProcess.tensor("kv_cache"));
    }

    @Test
    void configConvertInsideTheContainerMatchesConvertInProcess(@TempDir Path work)
            throws IOException, InterruptedException {
        Path hfConfig = work.resolve("config.json");
        Files.copy(TrtLlmContainerIT.class.getResourceAsStream("/hf-configs/Llama-3.1-8B/config.json"), hfConfig);

        List<Path> converted = container.convertConfig(hfConfig, DataType.BFLOAT16, work.resolve("container"));
        Path inProcessOut = work.resolve("in-process");
        inProcess("config", "convert", "--hf", hfConfig.toString(), "--out", inProcessOut.toString(),
                "--dtype", "bfloat16");

        assertThat(converted).isNotEmpty();
        for (Path file : converted) {
            Path twin = inProcessOut.resolve(work.resolve("container").relativize(file));
            assertThat(file).hasSameTextualContentAs(twin);
        }
        try (var inProcessFiles = Files.walk(inProcessOut)) {
            assertThat(inProcessFiles.filter(Files::isRegularFile).count()).isEqualTo(converted.size());
        }
    }

    @Test
    void askingForGpusWhereNoneIsVisibleFailsTheStart() {
        assumeFalse(Files.exists(Path.of("/dev/nvidiactl")), "this host has an NVIDIA GPU");
        // Docker passes the device request on; Podman's GPUs come from a CDI specification, and a
        // host without a GPU has none.
        String why = TrtLlmContainer.isPodman(DockerClientFactory.instance().client())
                ? "no CDI device nvidia.com/gpu=all in [/etc/cdi, /var/run/cdi]"
                : "asked for GPUs (all) but sees no /dev/nvidiaN device";

        try (TrtLlmContainer withGpus = new TrtLlmContainer(image.name()).withGpus()) {
            assertThatThrownBy(withGpus::start)
                    .isInstanceOf(ContainerLaunchException.class)
                    .rootCause().hasMessageContaining(why);
        }
    }

    /** Runs the trtllm4j command in this JVM, on the CPU backend of this build; returns its output. */
    private static String inProcess(String... arguments) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = new CommandLine(new Trtllm4jCommand()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
                .execute(arguments);
        assertThat(status).as(err.toString()).isZero();
        return out.toString();
    }

    /** The demo's plugin fields and its difference from the reference; times and thread counts vary. */
    private static List<String> deterministicLines(String demoOutput) {
        return demoOutput.lines().filter(line -> line.startsWith("  ") || line.startsWith("largest difference"))
                .toList();
    }
}
