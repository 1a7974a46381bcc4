package dev.trtllm4j.testing;

import java.nio.file.Path;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.utility.DockerImageName;

/**
 * The CPU image, built by the engine from docker/cpu.Dockerfile and the context that Maven stages in
 * target/image/ before the integration tests, under a tag of its own; closing removes it, since
 * nothing else would (Ryuk is off on Podman hosts).
 */
final class CpuImage implements AutoCloseable {

    private final DockerImageName name;

    private CpuImage(DockerImageName name) {
        this.name = name;
    }

    /**
     * Builds the image. The base image is the Dockerfile's default, or TRTLLM4J_BASE_IMAGE where the
     * host has no registry (scripts/container-engine.sh sets it to the base it made).
     */
    static CpuImage build() {
        String tag = "it-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
        DockerImageName name = TrtLlmContainer.DEFAULT_IMAGE_NAME.withTag(tag);
        ImageFromDockerfile image = new ImageFromDockerfile(name.asCanonicalNameString(), false)
                .withDockerfile(Path.of(System.getProperty("trtllm4j.imageContext"), "cpu.Dockerfile"));
        String base = System.getenv("TRTLLM4J_BASE_IMAGE");
        if (base != null && !base.isBlank()) {
            image.withBuildArg("BASE_IMAGE", base);
        }
        image.get();
        return new CpuImage(name);
    }

    DockerImageName name() {
        return name;
    }

    @Override
    public void close() {
        DockerClientFactory.instance().client().removeImageCmd(name.asCanonicalNameString()).withForce(true).exec();
    }
}
