package dev.distillery.api;

import com.google.protobuf.ByteString;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelsGrpc;
import dev.distillery.v1.UploadHeader;
import dev.distillery.v1.UploadModelRequest;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** UploadModel calls as tests make them: the header, then the file in chunks, one call, its answer. */
public final class UploadCalls {

    private UploadCalls() {}

    /** The messages of one upload: the header, then {@code file} in chunks of {@code chunk} bytes. */
    public static List<UploadModelRequest> messages(UploadHeader.Builder header, byte[] file, int chunk) {
        List<UploadModelRequest> messages = new ArrayList<>();
        messages.add(UploadModelRequest.newBuilder().setHeader(header).build());
        for (int start = 0; start < file.length; start += chunk) {
            messages.add(UploadModelRequest.newBuilder()
                    .setChunk(ByteString.copyFrom(file, start, Math.min(chunk, file.length - start))).build());
        }
        return messages;
    }

    /**
     * Sends the messages as one UploadModel call and waits for its answer; a refusal is rethrown as the
     * call's StatusRuntimeException.
     */
    public static ModelInfo send(ModelsGrpc.ModelsStub stub, List<UploadModelRequest> messages) {
        CompletableFuture<ModelInfo> answer = new CompletableFuture<>();
        StreamObserver<UploadModelRequest> requests = stub.uploadModel(new StreamObserver<>() {
            private ModelInfo info;

            @Override
            public void onNext(ModelInfo value) {
                info = value;
            }

            @Override
            public void onError(Throwable t) {
                answer.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                answer.complete(info);
            }
        });
        messages.forEach(requests::onNext);
        requests.onCompleted();
        try {
            return answer.get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw (RuntimeException) e.getCause();
        } catch (Exception e) {
            throw new AssertionError("no answer to UploadModel", e);
        }
    }
}
