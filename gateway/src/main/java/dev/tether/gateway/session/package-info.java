/**
 * Sessions: {@link dev.tether.gateway.session.Session}, one user's session confined to one event
 * loop and the one owner of its state machine, the parts it uses (each answering with return values
 * or events), and {@link dev.tether.gateway.session.SessionRegistry}, the live sessions of this node.
 *
 * <p>The {@code limits} section of {@code config/gateway.yaml} is enforced here, not in
 * {@code dev.tether.gateway.abuse}: worker restarts within a window ({@code RestartBudget}), the
 * RSS limits (acted on by {@code WorkerSlot}), a session's duration, idle and first-message timeouts
 * ({@code SessionClock}), the turn stall timeout ({@code StallWatch}) and the worker's pending
 * requests ({@code PendingRequests}). The {@code abuse} section (connection and message rates,
 * connection counts, outbound bytes) is enforced by the pipeline and the abuse package.
 */
package dev.tether.gateway.session;
