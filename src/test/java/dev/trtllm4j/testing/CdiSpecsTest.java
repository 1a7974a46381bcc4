package dev.trtllm4j.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trtllm4j.testing.CdiSpecs.DeviceNode;
import dev.trtllm4j.testing.CdiSpecs.Mount;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a container is given for a CDI device, read from JSON specifications as CDI defines them. */
class CdiSpecsTest {

    /** A specification as scripts/gpu-host-engine.sh writes one for a host with two GPUs. */
    private static final String TWO_GPUS = """
            {
              "cdiVersion": "0.5.0",
              "kind": "nvidia.com/gpu",
              "devices": [
                {"name": "0", "containerEdits": {"deviceNodes": [{"path": "/dev/nvidia0"}]}},
                {"name": "1", "containerEdits": {"deviceNodes": [{"path": "/dev/nvidia1"}]}},
                {"name": "all", "containerEdits": {"deviceNodes": [{"path": "/dev/nvidia0"}, {"path": "/dev/nvidia1"}]}}
              ],
              "containerEdits": {
                "env": ["NVIDIA_VISIBLE_DEVICES=void"],
                "deviceNodes": [{"path": "/dev/nvidiactl"}, {"path": "/dev/nvidia-uvm", "permissions": "rw"}],
                "mounts": [
                  {"hostPath": "/usr/local/nvidia/lib64/libcuda.so.1",
                   "containerPath": "/usr/lib/x86_64-linux-gnu/libcuda.so.1", "options": ["ro", "nosuid", "nodev", "bind"]},
                  {"hostPath": "/srv/scratch", "containerPath": "/scratch", "options": ["rbind"]}
                ]
              }
            }
            """;

    @TempDir
    Path etc;

    @TempDir
    Path run;

    @Test
    void readsTheDevicesOfItsKindFromJsonFilesOnly() throws IOException {
        Files.writeString(etc.resolve("nvidia.json"), TWO_GPUS);
        Files.writeString(etc.resolve("vendor.json"), """
                {"cdiVersion": "0.5.0", "kind": "vendor.com/device", "devices": [{"name": "x", "containerEdits": {}}]}
                """);
        Files.writeString(etc.resolve("other.yaml"), "cdiVersion: 0.5.0\nkind: nvidia.com/gpu\n");

        assertThat(CdiSpecs.read(List.of(etc), "nvidia.com/gpu").deviceNames()).containsExactly("0", "1", "all");
    }

    @Test
    void aDeviceGetsItsOwnNodesAndItsSpecificationsEdits() throws IOException {
        Files.writeString(etc.resolve("nvidia.json"), TWO_GPUS);

        CdiSpecs.ContainerEdits edits = CdiSpecs.read(List.of(etc), "nvidia.com/gpu").edits(List.of("all"));

        assertThat(edits.deviceNodes()).containsExactly(
                new DeviceNode("/dev/nvidiactl", "/dev/nvidiactl", "rwm"),
                new DeviceNode("/dev/nvidia-uvm", "/dev/nvidia-uvm", "rw"),
                new DeviceNode("/dev/nvidia0", "/dev/nvidia0", "rwm"),
                new DeviceNode("/dev/nvidia1", "/dev/nvidia1", "rwm"));
        assertThat(edits.mounts()).containsExactly(
                new Mount("/usr/local/nvidia/lib64/libcuda.so.1", "/usr/lib/x86_64-linux-gnu/libcuda.so.1", true),
                new Mount("/srv/scratch", "/scratch", false));
        assertThat(edits.env()).containsExactly("NVIDIA_VISIBLE_DEVICES=void");
    }

    @Test
    void twoDevicesOfOneSpecificationTakeItsEditsOnce() throws IOException {
        Files.writeString(etc.resolve("nvidia.json"), TWO_GPUS);

        CdiSpecs.ContainerEdits edits = CdiSpecs.read(List.of(etc), "nvidia.com/gpu").edits(List.of("1", "0"));

        assertThat(edits.deviceNodes()).extracting(DeviceNode::path)
                .containsExactly("/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia1", "/dev/nvidia0");
        assertThat(edits.mounts()).hasSize(2);
        assertThat(edits.env()).containsExactly("NVIDIA_VISIBLE_DEVICES=void");
    }

    @Test
    void aLaterDirectoryReplacesADeviceOfTheSameName() throws IOException {
        Files.writeString(etc.resolve("nvidia.json"), TWO_GPUS);
        Files.writeString(run.resolve("nvidia.json"), """
                {"cdiVersion": "0.5.0", "kind": "nvidia.com/gpu",
                 "devices": [{"name": "all", "containerEdits": {"deviceNodes": [{"path": "/dev/nvidia7", "hostPath": "/dev/nvidia3"}]}}]}
                """);

        CdiSpecs.ContainerEdits edits = CdiSpecs.read(List.of(etc, run), "nvidia.com/gpu").edits(List.of("all"));

        assertThat(edits.deviceNodes()).containsExactly(new DeviceNode("/dev/nvidia7", "/dev/nvidia3", "rwm"));
        assertThat(edits.mounts()).isEmpty();
    }

    @Test
    void anUndefinedDeviceIsRefusedNamingTheDefinedOnes() throws IOException {
        Files.writeString(etc.resolve("nvidia.json"), TWO_GPUS);

        assertThatThrownBy(() -> CdiSpecs.read(List.of(etc), "nvidia.com/gpu").edits(List.of("2")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no CDI device nvidia.com/gpu=2")
                .hasMessageContaining("(defined: [0, 1, all])");
    }

    @Test
    void noSpecificationOfTheKindIsSaidSo() {
        assertThatThrownBy(() -> CdiSpecs.read(List.of(etc, run.resolve("absent")), "nvidia.com/gpu").edits(List.of("all")))
                .hasMessageContaining("(no JSON specification of kind nvidia.com/gpu there)");
    }

    @Test
    void aDeviceWithHooksIsRefusedNamingTheFile() throws IOException {
        Path spec = Files.writeString(etc.resolve("toolkit.json"), """
                {"cdiVersion": "0.5.0", "kind": "nvidia.com/gpu",
                 "devices": [{"name": "all", "containerEdits": {"deviceNodes": [{"path": "/dev/nvidia0"}]}}],
                 "containerEdits": {"hooks": [{"hookName": "createContainer", "path": "/usr/bin/nvidia-ctk",
                                               "args": ["nvidia-ctk", "hook", "update-ldcache"]}]}}
                """);

        assertThatThrownBy(() -> CdiSpecs.read(List.of(etc), "nvidia.com/gpu").edits(List.of("all")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith(spec + " has hooks, which cannot be applied through the Docker API");
    }

    @Test
    void aMountWithoutAContainerPathIsRefusedNamingTheFile() throws IOException {
        Path spec = Files.writeString(etc.resolve("broken.json"), """
                {"cdiVersion": "0.5.0", "kind": "nvidia.com/gpu",
                 "devices": [{"name": "all", "containerEdits": {"mounts": [{"hostPath": "/usr/bin/nvidia-smi"}]}}]}
                """);

        assertThatThrownBy(() -> CdiSpecs.read(List.of(etc), "nvidia.com/gpu").edits(List.of("all")))
                .hasMessageStartingWith(spec + ": an entry lacks \"containerPath\"");
    }
}
