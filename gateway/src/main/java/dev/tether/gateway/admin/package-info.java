/**
 * The operators' HTTP API on its own listener ({@code admin} section, loopback by default):
 * {@link dev.tether.gateway.admin.AdminServer} binds it on the gateway's event loops,
 * {@link dev.tether.gateway.admin.AdminInitializer} builds each connection's pipeline,
 * {@link dev.tether.gateway.admin.AdminAuthHandler} lets through only tokens with the admin role,
 * and {@link dev.tether.gateway.admin.AdminApi} holds the endpoints (sessions, pool, drain). JSON in
 * and out; no response ever holds a token. See docs/operations.md, "Admin API".
 */
package dev.tether.gateway.admin;
