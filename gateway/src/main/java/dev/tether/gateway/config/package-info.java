/**
 * The gateway's configuration: one immutable record per section of {@code config/gateway.yaml},
 * each validated in its compact constructor, and {@link dev.tether.gateway.config.ConfigLoader},
 * which reads the YAML file, merges it over the defaults and applies environment overrides.
 *
 * <p>Configuration is loaded once at startup and never mutated; a reload builds a new
 * {@link dev.tether.gateway.config.GatewayConfig}. All types here are immutable and safe to share
 * between threads.
 */
package dev.tether.gateway.config;
