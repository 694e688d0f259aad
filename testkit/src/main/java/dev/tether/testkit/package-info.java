/**
 * What the tests of every module and the load-test client share, so each exists once: waits on a
 * condition with a deadline, a TCP relay that can cut and stall connections, and the check that
 * fails a test run on a Netty {@code LEAK:} report.
 */
package dev.tether.testkit;
