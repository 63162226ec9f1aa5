package dev.distillery.jobs;

import dev.distillery.v1.Job;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Runs each job in a child JVM started from this very application: the same {@code java}, the same
 * JVM options (system properties included, so the child reads the same configuration: store, job
 * folder, datasets, device, threads), the same jar or class path, the same environment and working
 * folder. Only the role changes: the child is a {@code worker} for one job, with no HTTP or gRPC port
 * of its own. Serving keeps its threads, and a crash of libtorch ends the worker, not the server.
 *
 * <p>The token goes to the child in its environment ({@code DISTILLERY_WORKER_TOKEN}), never on its
 * command line, which every user of the machine can read. DJL runs offline and oneDNN stays on AVX2
 * (as {@code ./distillery} sets them) unless this process was started otherwise. The child's output
 * goes where this process's goes.
 *
 * <p>The child runs at a lower CPU priority ({@link CpuPriority}, {@code low} by default): training is batch
 * work and serving is not, so when both want the cores the scheduler gives them to serving first and to training
 * whatever is left. On a machine whose cores training would otherwise fill, that keeps Predict's tail latency near
 * its idle value.
 */
public final class ProcessLauncher implements JobLauncher {

    private final List<String> command;
    private final Supplier<String> controlAddress;
    private final CpuPriority priority;

    /**
     * @param application how to start this application: the java binary, its JVM options, then
     *     {@code -jar JAR} or {@code -cp PATH MAIN}
     * @param controlAddress host:port of this process's gRPC port, asked at each launch (the port is
     *     known once the server listens)
     * @param priority the workers' CPU priority beside this process
     */
    public ProcessLauncher(List<String> application, Supplier<String> controlAddress, CpuPriority priority) {
        this.command = List.copyOf(application);
        this.controlAddress = controlAddress;
        this.priority = priority;
    }

    /** How this JVM was started, without its program arguments. */
    public static List<String> thisApplication() {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        String classPath = System.getProperty("java.class.path");
        String started = System.getProperty("sun.java.command", ""); // "<jar> args" or "<main class> args"
        if (classPath.endsWith(".jar") && started.startsWith(classPath)) {
            command.addAll(List.of("-jar", classPath));
        } else {
            command.addAll(List.of("-cp", classPath, started.split(" ")[0]));
        }
        return command;
    }

    @Override
    public WorkerHandle launch(Job job, String token) throws Exception {
        List<String> child = new ArrayList<>(command);
        int at = child.indexOf("-jar") >= 0 ? child.indexOf("-jar") : child.indexOf("-cp");
        // After the inherited options, so that these win over a -D of the same name.
        List<String> worker = new ArrayList<>(List.of(
                "-Ddistillery.roles=worker",
                "-Ddistillery.worker.job=" + job.getId(),
                "-Ddistillery.worker.control=" + controlAddress.get(),
                "-Dquarkus.banner.enabled=false"));
        if (command.stream().noneMatch(option -> option.startsWith("-Dai.djl.offline="))) {
            worker.add("-Dai.djl.offline=true");
        }
        child.addAll(at, worker);
        child.addAll(0, priority.command()); // chrt and nice exec java: one pid
        ProcessBuilder builder = new ProcessBuilder(child).inheritIO();
        Map<String, String> environment = builder.environment();
        environment.put("DISTILLERY_WORKER_TOKEN", token);
        environment.putIfAbsent("DJL_OFFLINE", "true");
        environment.putIfAbsent("ONEDNN_MAX_CPU_ISA", "AVX2");
        priority.environment().forEach(environment::putIfAbsent);
        return new ChildWorker(builder.start());
    }

    private record ChildWorker(Process process) implements WorkerHandle {

        @Override
        public String name() {
            return "worker process " + process.pid();
        }

        @Override
        public boolean alive() {
            return process.isAlive();
        }

        /** SIGKILL: the graceful stop went through the worker's channel and was not heeded. */
        @Override
        public void terminate() {
            process.destroyForcibly();
        }

        @Override
        public int awaitExit() throws InterruptedException {
            return process.waitFor();
        }
    }
}
