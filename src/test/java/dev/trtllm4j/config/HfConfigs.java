package dev.trtllm4j.config;

import java.net.URISyntaxException;
import java.nio.file.Path;

/** The published Hugging Face configs stored under src/test/resources/hf-configs. */
final class HfConfigs {

    private HfConfigs() {}

    static Path path(String model) {
        try {
            return Path.of(HfConfigs.class.getResource("/hf-configs/" + model + "/config.json").toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("no test resource hf-configs/" + model + "/config.json", e);
        }
    }
}
