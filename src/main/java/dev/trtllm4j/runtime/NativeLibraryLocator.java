package dev.trtllm4j.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Finds a backend's shared library, {@code libtrtllm4j_<name>.so}, through one chain, stopping at
 * the first that loads:
 * <ol>
 *   <li>the directory named by the system property {@value #PATH_PROPERTY}, else by the environment
 *       variable {@value #PATH_VARIABLE};
 *   <li>the copy bundled in the jar under {@code dev/trtllm4j/native/linux-x86_64/};
 *   <li>the system's library path ({@code dlopen} by file name: {@code LD_LIBRARY_PATH},
 *       {@code ldconfig}'s cache).
 * </ol>
 * When none loads, the exception lists every place tried, with the loader's errors attached.
 * A bundled library is copied out of the jar into one temporary folder per JVM, with the libraries it
 * loads from its own folder (the tensorrt backend's GPTAttention plugin library).
 */
final class NativeLibraryLocator {

    static final String PATH_PROPERTY = "trtllm4j.library.path";
    static final String PATH_VARIABLE = "TRTLLM4J_LIBRARY_PATH";
    private static final String PLATFORM = "linux-x86_64";
    private static final String RESOURCES = "/dev/trtllm4j/native/" + PLATFORM + "/";
    /** Bundled libraries a backend opens from its own folder, by backend. */
    private static final Map<String, List<String>> COMPANIONS =
            Map.of("tensorrt", List.of("libtrtllm4j_tensorrt_plugin.so"));
    private static Path extracted; // the folder bundled libraries are copied to, made on first use

    private NativeLibraryLocator() {}

    /** A loaded library and where it came from. */
    record Located(SymbolLookup symbols, String origin) {}

    static Located load(String backend, Arena arena) {
        String fileName = "libtrtllm4j_" + backend + ".so";
        List<String> attempts = new ArrayList<>();
        List<Throwable> failures = new ArrayList<>();

        String configured = System.getProperty(PATH_PROPERTY);
        String source = "system property " + PATH_PROPERTY;
        if (configured == null) {
            configured = System.getenv(PATH_VARIABLE);
            source = "environment variable " + PATH_VARIABLE;
        }
        if (configured == null) {
            attempts.add("system property " + PATH_PROPERTY + " and environment variable " + PATH_VARIABLE
                    + ": neither is set");
        } else {
            Located found = tryPath(Path.of(configured, fileName), source, arena, attempts, failures);
            if (found != null) {
                return found;
            }
        }

        String resource = RESOURCES + fileName;
        URL bundled = NativeLibraryLocator.class.getResource(resource);
        if (bundled == null) {
            attempts.add("bundled resource " + resource + ": not in the jar");
        } else {
            try {
                Located found = tryPath(bundledFile(bundled, fileName, COMPANIONS.getOrDefault(backend, List.of())),
                        "bundled resource " + resource, arena, attempts, failures);
                if (found != null) {
                    return found;
                }
            } catch (IOException | URISyntaxException e) {
                attempts.add("bundled resource " + resource + ": could not be extracted: " + e.getMessage());
                failures.add(e);
            }
        }

        try {
            return new Located(SymbolLookup.libraryLookup(fileName, arena), "system library path (" + fileName + ")");
        } catch (IllegalArgumentException e) {
            attempts.add("system library path (" + fileName + "): " + e.getMessage());
            failures.add(e);
        }
        BackendNotFoundException notFound = new BackendNotFoundException(backend, attempts);
        failures.forEach(notFound::addSuppressed);
        throw notFound;
    }

    private static Located tryPath(Path path, String source, Arena arena, List<String> attempts,
            List<Throwable> failures) {
        if (!Files.isRegularFile(path)) {
            attempts.add(source + ": " + path + ": no such file");
            return null;
        }
        try {
            return new Located(SymbolLookup.libraryLookup(path, arena), source + " (" + path + ")");
        } catch (IllegalArgumentException e) {
            attempts.add(source + ": " + path + ": " + e.getMessage());
            failures.add(e);
            return null;
        } catch (IllegalCallerException e) {
            throw new IllegalCallerException("loading " + path + " needs native access: run java with "
                    + "--enable-native-access=" + moduleName(), e);
        }
    }

    /**
     * A bundled library on the file system: used in place, or copied out of the jar with those of its
     * companions the jar holds.
     */
    private static Path bundledFile(URL bundled, String fileName, List<String> companions)
            throws IOException, URISyntaxException {
        if ("file".equals(bundled.getProtocol())) {
            return Path.of(bundled.toURI()); // the companions lie beside it already
        }
        Path directory = extractionFolder();
        for (String companion : companions) {
            URL url = NativeLibraryLocator.class.getResource(RESOURCES + companion);
            if (url != null) {
                copy(url, directory.resolve(companion));
            }
        }
        Path file = directory.resolve(fileName);
        copy(bundled, file);
        return file;
    }

    private static synchronized Path extractionFolder() throws IOException {
        if (extracted == null) {
            extracted = Files.createTempDirectory("trtllm4j-");
            // Registered first, so deleted last: after the libraries in it (deleteOnExit runs in reverse).
            extracted.toFile().deleteOnExit();
        }
        return extracted;
    }

    private static synchronized void copy(URL resource, Path file) throws IOException {
        if (Files.exists(file)) {
            return; // copied for an earlier backend; a loaded library must not be overwritten
        }
        try (InputStream in = resource.openStream()) {
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        }
        // dlopen has mapped the file by the time the JVM exits, so deleting it then is safe.
        file.toFile().deleteOnExit();
    }

    private static String moduleName() {
        Module module = NativeLibraryLocator.class.getModule();
        return module.isNamed() ? module.getName() : "ALL-UNNAMED";
    }
}
