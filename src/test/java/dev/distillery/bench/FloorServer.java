package dev.distillery.bench;

import ai.onnxruntime.OrtException;
import com.google.protobuf.util.JsonFormat;
import dev.distillery.serve.ClassScore;
import dev.distillery.serve.Predictor;
import dev.distillery.serve.Softmax;
import dev.distillery.store.ModelStore;
import dev.distillery.v1.Classification;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.PredictRequest;
import dev.distillery.v1.PredictResponse;
import dev.distillery.v1.PredictionGrpc;
import dev.distillery.v1.Tensor;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The floor of the serving benchmark: a bare grpc-java (Netty) server whose {@code Predict} runs the same
 * ONNX Runtime call as Distillery on its transport thread (direct executor: no hand-over to another
 * thread), then softmax and the top three classes, as Distillery answers. One tensor input per call; no
 * checks beyond what the call needs, no metrics, no batching. What a server cannot go below.
 *
 * <p>Usage: {@code FloorServer PORT VERSION_DIR} (a store's {@code <model>/<version>} folder).
 */
public final class FloorServer {

    private FloorServer() {}

    public static void main(String[] args) throws IOException, OrtException, InterruptedException {
        if (args.length != 2) {
            System.err.println("usage: FloorServer PORT VERSION_DIR");
            System.exit(2);
        }
        Path version = Path.of(args[1]);
        ModelInfo.Builder card = ModelInfo.newBuilder();
        JsonFormat.parser().ignoringUnknownFields().merge(Files.readString(version.resolve(ModelStore.CARD_FILE)), card);
        long[] shape = card.getInputShapeList().stream().mapToLong(Long::longValue).toArray();
        OrtCall call = new OrtCall(version.resolve(ModelStore.MODEL_FILE), shape);
        Server server = NettyServerBuilder.forPort(Integer.parseInt(args[0]))
                .directExecutor()
                .addService(new Prediction(call, card.build()))
                .build()
                .start();
        System.out.println("floor server on port " + server.getPort());
        server.awaitTermination();
    }

    private static final class Prediction extends PredictionGrpc.PredictionImplBase {

        private final OrtCall call;
        private final ModelInfo card;
        private final int imageSize;
        /** Netty's transport threads each fill their own input buffer. */
        private final ThreadLocal<FloatBuffer> buffers;

        Prediction(OrtCall call, ModelInfo card) {
            this.call = call;
            this.card = card;
            this.imageSize = (int) (card.getInputShape(0) * card.getInputShape(1) * card.getInputShape(2));
            this.buffers = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(imageSize * Float.BYTES)
                    .order(ByteOrder.nativeOrder()).asFloatBuffer());
        }

        @Override
        public void predict(PredictRequest request, StreamObserver<PredictResponse> observer) {
            Tensor tensor = request.getInputs(0).getTensor();
            if (tensor.getValuesCount() != imageSize) {
                observer.onError(Status.INVALID_ARGUMENT.withDescription("expected " + imageSize + " values")
                        .asRuntimeException());
                return;
            }
            FloatBuffer image = buffers.get();
            image.clear();
            for (int i = 0; i < imageSize; i++) {
                image.put(tensor.getValues(i));
            }
            float[] logits;
            try {
                logits = call.logits(image);
            } catch (OrtException e) {
                observer.onError(Status.INTERNAL.withDescription(e.getMessage()).asRuntimeException());
                return;
            }
            List<ClassScore> top = Predictor.topK(Softmax.of(logits, 0, logits.length),
                    Math.min(3, logits.length), card.getLabelsList());
            PredictResponse.Builder response = PredictResponse.newBuilder();
            Classification.Builder classification = response.addClassificationsBuilder();
            for (ClassScore score : top) {
                classification.addTopBuilder().setIndex(score.index()).setLabel(score.label())
                        .setProbability(score.probability());
            }
            observer.onNext(response.build());
            observer.onCompleted();
        }
    }
}
