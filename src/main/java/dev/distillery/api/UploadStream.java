package dev.distillery.api;

import dev.distillery.error.DistilleryException;
import dev.distillery.serve.ModelRepository;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.UploadModelRequest;
import io.grpc.stub.StreamObserver;

/**
 * Receives one UploadModel call: the header, then the file's chunks, written to disk as they come.
 * gRPC delivers a call's messages one at a time and asks the client for the next only when this has
 * taken one, so at most a chunk or two is ever in memory. The staging file is dropped when the call
 * fails, is refused or is cancelled by the client.
 */
final class UploadStream implements StreamObserver<UploadModelRequest> {

    private final ModelRepository repository;
    private final StreamObserver<ModelInfo> response;
    private ModelRepository.Upload upload;
    private boolean ended;

    UploadStream(ModelRepository repository, StreamObserver<ModelInfo> response) {
        this.repository = repository;
        this.response = response;
    }

    @Override
    public synchronized void onNext(UploadModelRequest part) {
        if (ended) {
            return; // refused already; what the client still had in flight is dropped
        }
        try {
            switch (part.getPartCase()) {
                case HEADER -> {
                    if (upload != null) {
                        throw DistilleryException.invalid("a second header arrived: send one header, then only chunks");
                    }
                    upload = repository.startUpload(part.getHeader());
                }
                case CHUNK -> {
                    if (upload == null) {
                        throw DistilleryException.invalid(
                                "the first message must be the header (name, labels, preprocessing), then the file in chunks");
                    }
                    upload.append(part.getChunk());
                }
                case PART_NOT_SET -> throw DistilleryException.invalid("a message with neither a header nor a chunk");
            }
        } catch (RuntimeException e) {
            end();
            response.onError(GrpcErrors.toStatus(e));
        }
    }

    /** The client cancelled or the connection broke: nothing is stored. */
    @Override
    public synchronized void onError(Throwable cause) {
        end();
    }

    @Override
    public synchronized void onCompleted() {
        if (ended) {
            return;
        }
        if (upload == null) {
            end();
            response.onError(GrpcErrors.toStatus(DistilleryException.invalid(
                    "nothing was uploaded: send the header (name, labels, preprocessing), then the file in chunks")));
            return;
        }
        // The staging file is gone before the client hears the answer.
        GrpcErrors.respond(response, () -> {
            try {
                return upload.finish();
            } finally {
                end();
            }
        });
    }

    private void end() {
        ended = true;
        if (upload != null) {
            upload.close();
        }
    }
}
