package dev.distillery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs src/test/python/client_test.py (Debian's python3-grpcio, stubs generated from proto/) against
 * this test's server. `./distillery test` and .ci/run install the Python packages it needs.
 */
@QuarkusTest
class PythonClientTest {

    @TestHTTPResource("/")
    URL server;

    @TempDir
    Path scratch;

    @Test
    void pythonClientPasses() throws IOException, InterruptedException {
        Path output = scratch.resolve("python-client.log");
        String python = System.getProperty("distillery.python",
                Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3");
        ProcessBuilder builder = new ProcessBuilder(python, "src/test/python/client_test.py")
                .redirectErrorStream(true)
                .redirectOutput(output.toFile());
        builder.environment().put("DISTILLERY_TARGET", TestPorts.grpcTarget());
        builder.environment().put("DISTILLERY_HTTP_TARGET", server.getHost() + ":" + server.getPort());
        Process process = builder.start();
        if (!process.waitFor(10, TimeUnit.MINUTES)) {
            process.destroyForcibly().waitFor();
        }
        String printed = Files.readString(output);
        System.out.println(printed);
        assertEquals(0, process.exitValue(),
                "the Python client test failed (output above); it needs the Debian packages python3-grpcio and "
                        + "python3-grpc-tools: apt-get install -y python3-grpcio python3-grpc-tools");
        assertTrue(printed.contains("Ran 4 tests"), "all four Python tests ran");
    }
}
