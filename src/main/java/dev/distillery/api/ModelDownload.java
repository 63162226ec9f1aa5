package dev.distillery.api;

import com.google.protobuf.UnsafeByteOperations;
import dev.distillery.store.ModelStore;
import dev.distillery.v1.DownloadModelResponse;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelRef;
import io.grpc.stub.ServerCallStreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Sends one DownloadModel answer: the card, then model.onnx in chunks of {@value #CHUNK} bytes. A
 * chunk is read only when gRPC says the client can take more (flow control), so a slow client never
 * makes the server hold the file in memory. The file is opened before the first message: a version
 * deleted during the download still streams whole, from the open file.
 */
final class ModelDownload implements Runnable {

    static final int CHUNK = 1 << 20;

    private final ServerCallStreamObserver<DownloadModelResponse> call;
    private final ModelInfo card;
    private final FileChannel file;
    private boolean cardSent;
    private boolean ended;

    private ModelDownload(ServerCallStreamObserver<DownloadModelResponse> call, ModelInfo card, FileChannel file) {
        this.call = call;
        this.card = card;
        this.file = file;
    }

    static void start(ModelStore store, ModelRef ref, ServerCallStreamObserver<DownloadModelResponse> call) {
        ModelInfo card;
        FileChannel file;
        try {
            card = store.get(ref);
            file = store.openModelFile(card.getName(), card.getVersion());
        } catch (RuntimeException e) {
            call.onError(GrpcErrors.toStatus(e));
            return;
        }
        ModelDownload download = new ModelDownload(call, card, file);
        call.setOnCancelHandler(download::end);
        call.setOnReadyHandler(download);
    }

    /** Sends while the client can take more; gRPC calls this again when it can. */
    @Override
    public synchronized void run() {
        try {
            while (!ended && call.isReady()) {
                if (!cardSent) {
                    call.onNext(DownloadModelResponse.newBuilder().setInfo(card).build());
                    cardSent = true;
                    continue;
                }
                ByteBuffer chunk = ByteBuffer.allocate(CHUNK);
                if (file.read(chunk) < 0) {
                    end();
                    call.onCompleted();
                    return;
                }
                chunk.flip();
                call.onNext(DownloadModelResponse.newBuilder().setChunk(UnsafeByteOperations.unsafeWrap(chunk)).build());
            }
        } catch (IOException e) {
            end();
            call.onError(GrpcErrors.toStatus(new UncheckedIOException("cannot read " + card.getName() + "/"
                    + card.getVersion() + " from the store", e)));
        }
    }

    private synchronized void end() {
        ended = true;
        try {
            file.close();
        } catch (IOException ignored) {
            // Read-only: nothing is lost by a failed close.
        }
    }
}
