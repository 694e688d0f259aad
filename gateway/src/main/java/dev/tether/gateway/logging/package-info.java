/**
 * What the text log does to what it is given: Logback converters that escape control characters in
 * messages and key-value pairs, so that a value a client chose (a token's {@code sub}, a message id)
 * can never start a line of its own in {@code config/logback.xml}'s format.
 */
package dev.tether.gateway.logging;
