package dev.tether.gateway.pipeline;

import dev.tether.gateway.async.Unwatched;
import dev.tether.protocol.CloseCode;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.compression.DecompressionException;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.ssl.NotSslRecordException;
import java.io.IOException;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The end of the pipeline (stage {@link GatewayPipeline#ERRORS}): every exception that reaches it
 * ends the connection with the matching close code, in exactly one close frame. A fragmented message
 * over the frame limit closes with 1009, and so does a compressed frame that inflates beyond it (a
 * corrupt compressed frame with 1007); an RFC 6455 violation (from Netty's frame decoder and UTF-8
 * validator, or {@link ControlFrameHandler}) with the code it carries (1002, 1007, 1009); a peer
 * that went away (an I/O error, or a close in the middle of a fragmented message) or failed its TLS
 * handshake (plain HTTP on a TLS port, a client that does not trust the certificate) just closes; anything else is unexpected, logged, and closes with 1011. Never touches a session: the
 * session sees the connection go inactive and carries on detached.
 */
@ChannelHandler.Sharable
final class ErrorHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(ErrorHandler.class);

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            closeWith(ctx, CloseCode.FRAME_TOO_LARGE.code(), CloseCode.FRAME_TOO_LARGE.reason());
        } else if (cause instanceof DecompressionException) {
            // From the permessage-deflate inflater: a frame that inflates beyond server.max_frame_bytes
            // (stopped there, never allocated whole: a decompression bomb), else a corrupt deflate stream.
            log.debug("{}: {}", ctx.channel(), cause.getMessage());
            if (inflatedTooLarge(cause)) {
                closeWith(ctx, CloseCode.FRAME_TOO_LARGE.code(), CloseCode.FRAME_TOO_LARGE.reason());
            } else {
                closeWith(ctx, WebSocketCloseStatus.INVALID_PAYLOAD_DATA.code(), "invalid compressed data");
            }
        } else if (cause instanceof CorruptedWebSocketFrameException corrupted) {
            // Netty's frame decoder and UTF-8 validator only throw (closeOnProtocolViolation is off):
            // the one close frame, with the code the violation calls for, is written here.
            log.debug("{}: protocol violation: {}", ctx.channel(), cause.getMessage());
            WebSocketCloseStatus status = corrupted.closeStatus();
            closeWith(ctx, status.code(), status.reasonText());
        } else if (cause instanceof IOException
                || cause instanceof PrematureChannelClosureException
                || cause instanceof NotSslRecordException
                || (cause instanceof DecoderException && cause.getCause() instanceof SSLException)) {
            // PrematureChannelClosureException: the frame aggregator saw the connection end
            // mid-message. That is the peer's doing (a dropped network, an abusive client), not a bug.
            log.debug("{}: {}", ctx.channel(), cause.toString());
            Unwatched.close(ctx);
        } else {
            log.warn("{}: unexpected error, closing", ctx.channel(), cause);
            closeWith(ctx, WebSocketCloseStatus.INTERNAL_SERVER_ERROR.code(), "internal error");
        }
    }

    /**
     * Whether Netty's inflater stopped at its {@code maxAllocation} (Netty says so only in the
     * message; CompressionTest runs the real inflater, so a change of wording fails a test).
     */
    static boolean inflatedTooLarge(Throwable cause) {
        return cause.getMessage() != null && cause.getMessage().startsWith(MAX_ALLOCATION_REACHED);
    }

    private static final String MAX_ALLOCATION_REACHED = "Decompression buffer has reached maximum size";

    private static void closeWith(ChannelHandlerContext ctx, int code, String reason) {
        if (!ctx.channel().isActive()) {
            return;
        }
        ctx.writeAndFlush(new CloseWebSocketFrame(code, reason)).addListener(ChannelFutureListener.CLOSE);
    }
}
