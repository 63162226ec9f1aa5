package dev.distillery.bench;

import ai.onnxruntime.OrtException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.google.protobuf.util.JsonFormat;
import dev.distillery.inference.GRPCInferenceServiceGrpc;
import dev.distillery.inference.InferParameter;
import dev.distillery.inference.ModelInferRequest;
import dev.distillery.store.ModelStore;
import dev.distillery.v1.Input;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.PredictRequest;
import dev.distillery.v1.PredictionGrpc;
import dev.distillery.v1.Tensor;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The serving benchmark's load generator (bench/serving drives it). One tensor per call, closed loop, at each
 * concurrency level in turn; at each level every target runs back to back, so that the machine's drift
 * touches all of them alike:
 * <ul>
 *   <li>{@code floor}: {@link FloorServer}'s Predict, the bare grpc-java server;
 *   <li>{@code predict} and {@code predict-unbatched}: Distillery's Predict on the model with dynamic batching
 *       and on the same ONNX file stored under a second name whose batching is off;
 *   <li>{@code infer} and {@code infer-unbatched}: the same through the Open Inference Protocol's ModelInfer
 *       ({@code raw_input_contents}, the {@code probabilities} output with {@code classification} = 3, the
 *       top three classes as Predict gives them).
 * </ul>
 * Before them, the raw in-process ONNX Runtime call ({@link OrtCall}) in a loop on this thread. Writes every
 * figure as JSON to the output file; bench/summarize.py makes the table.
 *
 * Beside latency and calls/s, each level gives the serving process's CPU time per call over the interval
 * (for the raw call, this process's): a cost the machine's load barely moves.
 *
 * <p>Usage: {@code ServingLoad --distillery HOST:PORT --distillery-pid PID --floor HOST:PORT --floor-pid PID
 * --version-dir DIR --model NAME --unbatched-model NAME --levels 1,8,32,64 --warmup 3 --seconds 10
 * --server-warmup 15 --out FILE
 * [--targets floor,predict,...] [--raw false]}: every target when {@code --targets} is not given (the floor's and
 * the unbatched model's options are needed only when their targets are called); {@code --raw false} leaves out
 * the raw call.
 */
public final class ServingLoad {

    private static final List<String> TARGETS = List.of("floor", "predict", "predict-unbatched", "infer", "infer-unbatched");

    private ServingLoad() {}

    private record Target(String name, String protocol, ManagedChannel channel, MethodDescriptor<?, ?> method,
            Object request, ProcessHandle server) {}

    public static void main(String[] args) throws Exception {
        Map<String, String> options = options(args);
        Path versionDir = Path.of(options.get("version-dir"));
        ModelInfo.Builder card = ModelInfo.newBuilder();
        JsonFormat.parser().ignoringUnknownFields().merge(Files.readString(versionDir.resolve(ModelStore.CARD_FILE)), card);
        long[] shape = card.getInputShapeList().stream().mapToLong(Long::longValue).toArray();
        float[] image = image(shape);
        double warmup = Double.parseDouble(options.get("warmup"));
        double seconds = Double.parseDouble(options.get("seconds"));
        int[] levels = Arrays.stream(options.get("levels").split(",")).mapToInt(Integer::parseInt).toArray();

        Map<String, Object> results = new LinkedHashMap<>();
        results.put("model", card.getName() + "/" + card.getVersion());
        results.put("input_shape", shape);
        results.put("warmup_seconds", warmup);
        results.put("seconds", seconds);
        results.put("server_warmup_seconds", Double.parseDouble(options.get("server-warmup")));
        if (Boolean.parseBoolean(options.get("raw"))) {
            System.out.println("== raw in-process ONNX Runtime call, concurrency 1");
            Map<String, Object> raw = level(raw(versionDir.resolve(ModelStore.MODEL_FILE), shape, image, warmup, seconds));
            System.out.println(line("raw", raw));
            results.put("raw", raw);
        }

        EventLoopGroup loop = new NioEventLoopGroup(1);
        List<String> names = List.of(options.get("targets").split(","));
        boolean floorCalled = names.contains("floor");
        ManagedChannel floor = floorCalled ? channel(options.get("floor"), loop) : null;
        ManagedChannel distillery = channel(options.get("distillery"), loop);
        ProcessHandle floorProcess = floorCalled ? process(options.get("floor-pid")) : null;
        ProcessHandle distilleryProcess = process(options.get("distillery-pid"));
        String model = options.get("model");
        String unbatched = options.get("unbatched-model");
        List<Target> targets = TARGETS.stream().filter(names::contains).map(name -> switch (name) {
            case "floor" -> new Target(name, "Predict", floor, PredictionGrpc.getPredictMethod(), predict(model, shape, image),
                    floorProcess);
            case "predict" -> new Target(name, "Predict", distillery, PredictionGrpc.getPredictMethod(),
                    predict(model, shape, image), distilleryProcess);
            case "predict-unbatched" -> new Target(name, "Predict", distillery, PredictionGrpc.getPredictMethod(),
                    predict(unbatched, shape, image), distilleryProcess);
            case "infer" -> new Target(name, "ModelInfer", distillery, GRPCInferenceServiceGrpc.getModelInferMethod(),
                    infer(model, shape, image), distilleryProcess);
            default -> new Target(name, "ModelInfer", distillery, GRPCInferenceServiceGrpc.getModelInferMethod(),
                    infer(unbatched, shape, image), distilleryProcess);
        }).toList();
        // Every path compiled before any level is measured: the first level would otherwise pay for the JIT.
        double serverWarmup = Double.parseDouble(options.get("server-warmup"));
        System.out.printf("== warm-up: every target at concurrency 8 for %.0f s%n", serverWarmup);
        for (Target target : targets) {
            loop(target).warm(8, serverWarmup);
        }
        Map<String, List<Map<String, Object>>> byTarget = new LinkedHashMap<>();
        for (int concurrency : levels) {
            System.out.println("== concurrency " + concurrency);
            for (Target target : targets) {
                Map<String, Object> figures = level(loop(target).run(concurrency, warmup, seconds, target.server()));
                System.out.println(line(target.name(), figures));
                byTarget.computeIfAbsent(target.name(), k -> new ArrayList<>()).add(figures);
            }
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (Target target : targets) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("name", target.name());
            entry.put("protocol", target.protocol());
            entry.put("levels", byTarget.get(target.name()));
            out.add(entry);
        }
        results.put("targets", out);
        if (floor != null) {
            floor.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        distillery.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        loop.shutdownGracefully();
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(Path.of(options.get("out")).toFile(), results);
    }

    @SuppressWarnings("unchecked")
    private static ClosedLoop<Object, Object> loop(Target target) {
        return new ClosedLoop<>(target.channel(), (MethodDescriptor<Object, Object>) target.method(), target.request());
    }

    /** The raw call on this thread for the warm-up and the interval, each call's image copied in as a server would. */
    private static ClosedLoop.Level raw(Path modelFile, long[] shape, float[] image, double warmup, double seconds)
            throws OrtException {
        Latencies latencies = new Latencies();
        Duration cpuFrom = Duration.ZERO;
        FloatBuffer buffer = ByteBuffer.allocateDirect(image.length * Float.BYTES).order(ByteOrder.nativeOrder())
                .asFloatBuffer();
        try (OrtCall call = new OrtCall(modelFile, shape)) {
            long start = System.nanoTime();
            long measureFrom = start + (long) (warmup * 1e9);
            long measureUntil = measureFrom + (long) (seconds * 1e9);
            boolean measuring = false;
            for (long now = start; now < measureUntil; now = System.nanoTime()) {
                if (!measuring && now >= measureFrom) {
                    measuring = true;
                    cpuFrom = ClosedLoop.cpu(ProcessHandle.current());
                }
                buffer.clear();
                buffer.put(image);
                call.logits(buffer);
                if (now >= measureFrom) {
                    latencies.record(System.nanoTime() - now);
                }
            }
        }
        Duration cpu = ClosedLoop.cpu(ProcessHandle.current()).minus(cpuFrom);
        return new ClosedLoop.Level(1, latencies.count(), 0, seconds, latencies.percentileMillis(50),
                latencies.percentileMillis(90), latencies.percentileMillis(99), latencies.percentileMillis(99.9),
                cpu.toNanos() / 1e3 / latencies.count(), null);
    }

    /** A fixed image of standard-normal values, as a normalized input looks. */
    private static float[] image(long[] shape) {
        Random random = new Random(7);
        float[] values = new float[(int) (shape[0] * shape[1] * shape[2])];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }

    private static PredictRequest predict(String model, long[] shape, float[] image) {
        Tensor.Builder tensor = Tensor.newBuilder();
        for (long dim : shape) {
            tensor.addShape(dim);
        }
        for (float value : image) {
            tensor.addValues(value);
        }
        return PredictRequest.newBuilder().setModel(ModelRef.newBuilder().setName(model))
                .addInputs(Input.newBuilder().setTensor(tensor)).setTopK(3).build();
    }

    private static ModelInferRequest infer(String model, long[] shape, float[] image) {
        ByteBuffer raw = ByteBuffer.allocate(image.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        raw.asFloatBuffer().put(image);
        return ModelInferRequest.newBuilder().setModelName(model)
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("input").setDatatype("FP32")
                        .addShape(1).addShape(shape[0]).addShape(shape[1]).addShape(shape[2]))
                .addRawInputContents(ByteString.copyFrom(raw.array()))
                .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("probabilities")
                        .putParameters("classification", InferParameter.newBuilder().setInt64Param(3).build()))
                .build();
    }

    private static ManagedChannel channel(String target, EventLoopGroup loop) {
        return NettyChannelBuilder.forTarget(target).usePlaintext().directExecutor().eventLoopGroup(loop)
                .channelType(NioSocketChannel.class).build();
    }

    private static ProcessHandle process(String pid) {
        return ProcessHandle.of(Long.parseLong(pid))
                .orElseThrow(() -> new IllegalArgumentException("no process " + pid));
    }

    private static Map<String, Object> level(ClosedLoop.Level level) {
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("concurrency", level.concurrency());
        figures.put("calls", level.calls());
        figures.put("errors", level.errors());
        figures.put("calls_per_second", round(level.callsPerSecond(), 1));
        figures.put("p50_ms", round(level.p50(), 4));
        figures.put("p90_ms", round(level.p90(), 4));
        figures.put("p99_ms", round(level.p99(), 4));
        figures.put("p999_ms", round(level.p999(), 4));
        figures.put("server_cpu_us_per_call", round(level.serverCpuMicrosPerCall(), 1));
        if (level.firstError() != null) {
            figures.put("first_error", level.firstError());
        }
        return figures;
    }

    /** One line per level, in perf_analyzer's manner. */
    private static String line(String name, Map<String, Object> f) {
        return String.format("%-18s concurrency %3s: %9s calls/s, p50 %s ms, p90 %s ms, p99 %s ms, p99.9 %s ms, server CPU %s us/call%s",
                name,
                f.get("concurrency"), f.get("calls_per_second"), f.get("p50_ms"), f.get("p90_ms"), f.get("p99_ms"),
                f.get("p999_ms"), f.get("server_cpu_us_per_call"), f.containsKey("first_error") ? ", " + f.get("errors") + " errors: " + f.get("first_error")
                        : "");
    }

    private static double round(double value, int digits) {
        double scale = Math.pow(10, digits);
        return Math.round(value * scale) / scale;
    }

    private static Map<String, String> options(String[] args) throws IOException {
        Map<String, String> options = new LinkedHashMap<>(Map.of("levels", "1,8,32,64", "warmup", "3", "seconds", "10",
                "server-warmup", "15", "raw", "true", "targets", String.join(",", TARGETS)));
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected an option, got " + args[i]);
            }
            options.put(args[i].substring(2), args[i + 1]);
        }
        List<String> required = new ArrayList<>(List.of("distillery", "distillery-pid", "version-dir", "model", "out"));
        List<String> targets = List.of(options.get("targets").split(","));
        if (!TARGETS.containsAll(targets)) {
            throw new IllegalArgumentException("--targets takes some of " + TARGETS + ", not " + targets);
        }
        if (targets.contains("floor")) {
            required.addAll(List.of("floor", "floor-pid"));
        }
        if (targets.stream().anyMatch(name -> name.endsWith("-unbatched"))) {
            required.add("unbatched-model");
        }
        for (String name : required) {
            if (!options.containsKey(name)) {
                throw new IllegalArgumentException("missing --" + name);
            }
        }
        return options;
    }
}
