/**
 * Abuse limits that do not belong to one pipeline stage: {@link dev.tether.gateway.limits.TokenBucket},
 * the per-address connection rate ({@link dev.tether.gateway.limits.AddressRateLimiter}, used at the
 * upgrade), the per-session message rate with its strikes
 * ({@link dev.tether.gateway.limits.MessageRateLimiter}, used by the session), and the accept-time
 * connection counts ({@link dev.tether.gateway.limits.ConnectionGate}, used by the first pipeline
 * stage and the listener's accept-failure handler). Time is always injected
 * as a nanosecond ticker, so tests advance it instead of sleeping.
 */
package dev.tether.gateway.limits;
