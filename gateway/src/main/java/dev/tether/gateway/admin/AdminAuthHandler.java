package dev.tether.gateway.admin;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.gateway.auth.TokenRejectedException;
import dev.tether.gateway.auth.TokenVerification;
import dev.tether.gateway.auth.VerifiedToken;
import dev.tether.gateway.http.HttpAnswer;
import dev.tether.gateway.http.HttpResponses;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.Collection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin listener's gate (stage {@link AdminInitializer#AUTH}): a request goes on to the router
 * only with {@code Authorization: Bearer <jwt>} that the gateway's {@link TokenVerification}
 * accepts and whose claim {@code admin.role_claim} holds {@code admin.role} (the claim is that
 * string, or an array containing it). Otherwise it answers 401 {@code unauthorized} (no token, or
 * one refused: the message is {@link TokenRejectedException}'s, which never quotes the token) or
 * 403 {@code forbidden}, and the request goes no further. Requests that could not be decoded get
 * 400 and the connection is closed. Operators' changes (every method but {@code GET}/{@code HEAD})
 * are logged with the token's subject.
 *
 * <p>Stateless and sharable; runs on the connection's event loop (verification never blocks).
 */
@ChannelHandler.Sharable
final class AdminAuthHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(AdminAuthHandler.class);
    private static final String BEARER = "bearer ";

    private final TokenVerification verifier;
    private final String roleClaim;
    private final String role;
    private final ObjectMapper mapper;

    AdminAuthHandler(TokenVerification verifier, String roleClaim, String role, ObjectMapper mapper) {
        this.verifier = requireNonNull(verifier, "verifier");
        this.roleClaim = requireNonNull(roleClaim, "roleClaim");
        this.role = requireNonNull(role, "role");
        this.mapper = requireNonNull(mapper, "mapper");
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (!request.decoderResult().isSuccess()) {
            request.release();
            HttpResponses.write(
                    ctx,
                    AdminApi.error(
                            mapper, HttpResponseStatus.BAD_REQUEST, "bad_request", "the request could not be decoded"),
                    false,
                    false);
            return;
        }
        HttpAnswer refusal = refusal(request);
        if (refusal != null) {
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            boolean head = HttpMethod.HEAD.equals(request.method());
            request.release();
            HttpResponses.write(ctx, refusal, keepAlive, head);
            return;
        }
        ctx.fireChannelRead(request);
    }

    /** Why {@code request} may not go on, as the answer to give, or null when it may. */
    private HttpAnswer refusal(FullHttpRequest request) {
        String authorization = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (authorization == null
                || !authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())
                || authorization.substring(BEARER.length()).isBlank()) {
            return unauthorized("missing bearer token");
        }
        VerifiedToken token;
        try {
            token = verifier.verify(authorization.substring(BEARER.length()).strip());
        } catch (TokenRejectedException e) {
            log.atInfo().addKeyValue("reason", e.reason()).log("admin request refused: {}", e.getMessage());
            return unauthorized(e.getMessage());
        }
        if (!hasRole(token.claims().get(roleClaim))) {
            log.atInfo()
                    .addKeyValue("subject", token.subject())
                    .log("admin request refused: no role {} in claim {}", role, roleClaim);
            return AdminApi.error(
                    mapper,
                    HttpResponseStatus.FORBIDDEN,
                    "forbidden",
                    "the token has no role " + role + " in claim " + roleClaim);
        }
        if (!HttpMethod.GET.equals(request.method()) && !HttpMethod.HEAD.equals(request.method())) {
            // The path only: a query string may carry what must never be logged (a token put in the URL).
            log.atInfo()
                    .addKeyValue("subject", token.subject())
                    .log("admin {} {}", request.method(), new QueryStringDecoder(request.uri()).rawPath());
        }
        return null;
    }

    private boolean hasRole(Object claim) {
        if (claim instanceof String single) {
            return single.equals(role);
        }
        if (claim instanceof Collection<?> many) {
            return many.stream().anyMatch(role::equals);
        }
        return false;
    }

    private HttpAnswer unauthorized(String message) {
        return AdminApi.error(mapper, HttpResponseStatus.UNAUTHORIZED, "unauthorized", message)
                .withHeader(HttpHeaderNames.WWW_AUTHENTICATE.toString(), "Bearer");
    }
}
