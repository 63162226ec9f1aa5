package dev.distillery.cli;

import com.google.protobuf.UnsafeByteOperations;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.UploadHeader;
import dev.distillery.v1.UploadModelRequest;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CompletableFuture;

/**
 * One UploadModel call: the header, then the file in chunks, each sent only when the call's flow
 * control is ready for it, so that a file of any size passes through a few chunks of memory.
 */
final class FileUpload implements ClientResponseObserver<UploadModelRequest, ModelInfo> {

    /** 1 MiB: far under the server's message limit, large enough that framing costs nothing. */
    static final int CHUNK_BYTES = 1 << 20;

    private final UploadHeader header;
    private final InputStream file;
    private final CompletableFuture<ModelInfo> result = new CompletableFuture<>();
    private ClientCallStreamObserver<UploadModelRequest> requests;
    private boolean headerSent;
    private boolean done;

    FileUpload(UploadHeader header, InputStream file) {
        this.header = header;
        this.file = file;
    }

    /** The stored model's card once the server has accepted the file. */
    CompletableFuture<ModelInfo> result() {
        return result;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<UploadModelRequest> requests) {
        this.requests = requests;
        // gRPC runs the handler whenever the call can take more; never two at once.
        requests.setOnReadyHandler(this::sendWhileReady);
    }

    private void sendWhileReady() {
        try {
            while (!done && requests.isReady()) {
                if (!headerSent) {
                    requests.onNext(UploadModelRequest.newBuilder().setHeader(header).build());
                    headerSent = true;
                    continue;
                }
                byte[] chunk = file.readNBytes(CHUNK_BYTES);
                if (chunk.length == 0) {
                    done = true;
                    requests.onCompleted();
                } else {
                    // A fresh array per chunk, never written again: safe to wrap without a copy.
                    requests.onNext(UploadModelRequest.newBuilder().setChunk(UnsafeByteOperations.unsafeWrap(chunk)).build());
                }
            }
        } catch (IOException e) {
            done = true;
            result.completeExceptionally(e);
            requests.cancel("the client could not read the file", e);
        }
    }

    @Override
    public void onNext(ModelInfo card) {
        result.complete(card);
    }

    @Override
    public void onError(Throwable error) {
        done = true;
        result.completeExceptionally(error);
    }

    @Override
    public void onCompleted() {
        // onNext has completed the result; a server that answers nothing is a protocol error.
        result.completeExceptionally(new IllegalStateException("the server closed the upload without a model card"));
    }
}
