package dev.trtllm4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code trtllm4j engine build} and {@code attention run --backend tensorrt}: what they refuse before
 * any engine is built, each as one line with exit code 2. Building and running engines is tested on
 * GPU hosts (TensorRtBackendTest).
 */
class TensorRtCommandsTest {

    private static final String FIELDS = """
            {"num_heads": 4, "num_kv_heads": 2, "head_size": 64, "max_context_length": 16,
             "position_embedding_type": "rope_gpt_neox", "rotary_embedding_dim": 64, "type_id": "float16"}""";

    @TempDir
    Path dir;

    private Path fields() throws Exception {
        return Files.writeString(dir.resolve("fields.json"), FIELDS);
    }

    private static void assertOneLine(Cli.Result result, String message) {
        assertThat(result.exitCode()).as(result.err()).isEqualTo(2);
        assertThat(result.err()).isEqualTo("trtllm4j: " + message + System.lineSeparator());
    }

    @Test
    void everyEngineCommandHasHelpWithExamples() {
        for (String[] command : new String[][] {{"engine"}, {"engine", "build"}}) {
            String[] args = java.util.Arrays.copyOf(command, command.length + 1);
            args[command.length] = "--help";
            Cli.Result result = Cli.run((Object[]) args);
            assertThat(result.exitCode()).as(String.join(" ", command)).isZero();
            assertThat(result.out()).as(String.join(" ", command)).contains("Example", "trtllm4j " + String.join(" ", command));
        }
    }

    @Test
    void buildingIntoAMissingFolderIsOneLineNamingIt() throws Exception {
        Path output = dir.resolve("missing/attention.engine");
        assertOneLine(Cli.run("engine", "build", "--config", fields(), "--output", output),
                "--output " + output + ": the folder " + output.getParent() + " does not exist");
    }

    @Test
    void aProfileMaximumBelowOneNamesTheCommandLineOption() throws Exception {
        assertOneLine(Cli.run("engine", "build", "--config", fields(), "--output", dir.resolve("a.engine"),
                "--max-batch-size", 0), "--max-batch-size 0: maxBatchSize (max_batch_size) = 0: must be at least 1");
    }

    @Test
    void aPluginLibraryThatIsNotThereIsNamed() throws Exception {
        Path library = dir.resolve("libnone.so");
        assertOneLine(Cli.run("engine", "build", "--config", fields(), "--output", dir.resolve("a.engine"),
                "--plugin-library", library), "--plugin-library " + library + ": pluginLibrary (plugin_library) = "
                + library + ": no such file");
    }

    @Test
    void withoutTensorRtTheBuildSaysWhereItLookedForIt() throws Exception {
        Assumptions.assumeTrue(System.getenv("TRTLLM4J_TENSORRT_LIBRARY") == null, "TRTLLM4J_TENSORRT_LIBRARY is set");
        Assumptions.assumeFalse(loads("libnvinfer.so.10"), "libnvinfer.so.10 is on this host's library path");
        Cli.Result result = Cli.run("engine", "build", "--config", fields(), "--output", dir.resolve("a.engine"));
        Assumptions.assumeFalse(result.err().contains("no library could be loaded"),
                "the tensorrt backend was not built here (make native-tensorrt TENSORRT_INCLUDE=...)");
        assertThat(result.exitCode()).as(result.err()).isEqualTo(2);
        assertThat(result.err()).startsWith("trtllm4j: tensorrt backend, initialize: UNSUPPORTED: libnvinfer.so.10 not"
                + " found: looked in ");
        assertThat(result.err().lines()).hasSize(1);
        assertThat(dir.resolve("a.engine")).doesNotExist();
    }

    @Test
    void anEngineRunsOnlyOnTheTensorRtBackend() throws Exception {
        Path engine = Files.writeString(dir.resolve("a.engine"), "");
        assertOneLine(Cli.run("attention", "run", "--engine", engine, "--input", dir.resolve("in.safetensors"),
                "--output", dir.resolve("out.safetensors")),
                "--engine " + engine + ": engine files run on --backend tensorrt, not cpu");
    }

    @Test
    void aStepTakesEitherFieldsOrAnEngine() throws Exception {
        String message = "give one of --config (the layer's fields) and --engine (an engine file that holds them)";
        assertOneLine(Cli.run("attention", "run", "--backend", "tensorrt", "--input", dir.resolve("in.safetensors"),
                "--output", dir.resolve("out.safetensors")), message);
        assertOneLine(Cli.run("attention", "run", "--backend", "tensorrt", "--config", fields(), "--engine",
                dir.resolve("a.engine"), "--input", dir.resolve("in.safetensors"), "--output",
                dir.resolve("out.safetensors")), message);
    }

    @Test
    void tensorRtOptionsOnAnotherBackendAreRefused() throws Exception {
        assertOneLine(Cli.run("attention", "run", "--config", fields(), "--max-seq-len", 64, "--input",
                dir.resolve("in.safetensors"), "--output", dir.resolve("out.safetensors")),
                "--plugin-library, --plugin-namespace, --engine-cache and --max-* are options of --backend tensorrt, not cpu");
    }

    private static boolean loads(String library) {
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup.libraryLookup(library, arena);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
