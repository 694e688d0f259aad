/**
 * Abuse limits, the {@code abuse} section of {@code config/gateway.yaml}, that do not belong to one
 * pipeline stage: {@link dev.tether.gateway.abuse.TokenBucket}, the per-address connection rate
 * ({@link dev.tether.gateway.abuse.AddressRateLimiter}, used at the upgrade), the per-session message
 * rate with its strikes ({@link dev.tether.gateway.abuse.MessageRateLimiter}, used by the session),
 * and the accept-time connection counts ({@link dev.tether.gateway.abuse.ConnectionGate}, used by the
 * first pipeline stage and the listener's accept-failure handler). Time is always injected as a
 * nanosecond ticker, so tests advance it instead of sleeping.
 *
 * <p>The {@code limits} section (worker restarts, RSS, a session's duration, idle and stall
 * timeouts, pending requests) is not here: it supervises a session and its worker, and is enforced
 * in {@code dev.tether.gateway.session}.
 */
package dev.tether.gateway.abuse;
