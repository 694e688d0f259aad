/**
 * The shared session store ({@code sessions.store: redis}, contract section 7.1): what a session
 * needs to continue on any node (its directory entry, replay log, recent client message ids and
 * worker checkpoint, its tombstone once ended) and the per-user session counts, kept in Redis,
 * with ownership by a claim whose epoch fences every write of a node that lost it.
 *
 * <p>The layout and the scripts are described in {@code docs/architecture.md} ("The session
 * store"); the scripts are resources next to this package's classes.
 */
package dev.tether.gateway.store;
