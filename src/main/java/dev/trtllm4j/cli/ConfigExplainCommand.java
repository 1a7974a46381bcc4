package dev.trtllm4j.cli;

import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.GptAttentionField;
import dev.trtllm4j.config.BuildConfig;
import dev.trtllm4j.config.ConfigFile;
import dev.trtllm4j.runtime.Backend;
import dev.trtllm4j.runtime.BackendNotFoundException;
import dev.trtllm4j.runtime.NativeException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code trtllm4j config explain}: the plugin fields a config file yields, then any problems. */
@Command(
        name = "explain",
        mixinStandardHelpOptions = true,
        description = {
            "Prints the GPT attention plugin fields FILE yields for one layer, one per line as"
                    + " name=value (wire type), then every problem a backend has with them, one per line.",
            "FILE is a Hugging Face config.json, a TensorRT-LLM checkpoint config.json or a plugin-field file."
                    + " A model config is combined with --build-config, or with trtllm-build's defaults.",
            "Exit code 2 when FILE yields no valid configuration; the one line on stderr names the key or the"
                    + " rule (a rule broken is also listed under the fields).",
            "",
            "Examples:",
            "  trtllm4j config explain Llama-3.1-8B/config.json",
            "  trtllm4j config explain llama-3.1-8b-ckpt/config.json --layer 31 --build-config llama-3.1-8b-ckpt/build_config.json",
            "  trtllm4j config explain fields.json --backend cpu"
        })
final class ConfigExplainCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "The config file.")
    private Path file;

    @Option(names = "--layer", defaultValue = "0", paramLabel = "N",
            description = "Layer of a model config (default: ${DEFAULT-VALUE}).")
    private int layer;

    @Option(names = "--build-config", paramLabel = "BUILD.json",
            description = "trtllm-build build config for a model config (default: trtllm-build's defaults).")
    private Path buildConfig;

    @Option(names = "--backend", defaultValue = "cpu", paramLabel = "NAME",
            description = "Backend whose support is checked (default: ${DEFAULT-VALUE}).")
    private String backendName;

    @Override
    public Integer call() {
        ConfigFile config = ConfigFile.read(file);
        BuildConfig build = buildConfig == null ? null : BuildConfig.read(buildConfig);
        GptAttentionConfig.Builder fields = config.attentionBuilder(layer, build);
        PrintWriter out = spec.commandLine().getOut();
        out.printf("# %s: %s%s%n", file, config.kind().description(),
                config.kind() == ConfigFile.Kind.PLUGIN_FIELDS ? "" : ", layer " + layer);
        for (GptAttentionField field : GptAttentionField.values()) {
            out.printf("%s=%s (%s)%n", field.fieldName(), fields.displayValue(field), field.wireType().tensorRtName());
        }
        GptAttentionConfig attention;
        try {
            attention = config.attentionConfig(layer, build);
        } catch (IllegalArgumentException e) {
            // The fields break a rule of the plugin: shown above, the rule here, and on stderr.
            out.println("problems:");
            out.println("  " + e.getMessage());
            throw e;
        }
        List<String> problems = problems(attention);
        out.println(problems.isEmpty() ? "problems: none" : "problems:");
        problems.forEach(problem -> out.println("  " + problem));
        return 0;
    }

    /** Everything the backend refuses; a missing backend is a problem to report, not a failure. */
    private List<String> problems(GptAttentionConfig attention) {
        List<String> problems = new ArrayList<>();
        try {
            Backend.open(backendName).createPlugin(attention).close();
        } catch (BackendNotFoundException e) {
            problems.add(backendName + " backend: no library could be loaded");
        } catch (NativeException e) {
            // A backend names every refusal in its one message, separated by "; ".
            for (String refusal : e.nativeMessage().split("; ")) {
                problems.add(backendName + " backend, create: " + e.status() + ": " + refusal);
            }
        }
        return problems;
    }
}
