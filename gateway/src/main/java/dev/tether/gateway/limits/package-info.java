/**
 * Abuse limits that do not belong to one pipeline stage: {@link dev.tether.gateway.limits.TokenBucket},
 * the per-address connection rate ({@link dev.tether.gateway.limits.AddressRateLimiter}, used at the
 * upgrade) and the per-session message rate with its strikes
 * ({@link dev.tether.gateway.limits.MessageRateLimiter}, used by the session). Time is always injected
 * as a nanosecond ticker, so tests advance it instead of sleeping.
 */
package dev.tether.gateway.limits;
