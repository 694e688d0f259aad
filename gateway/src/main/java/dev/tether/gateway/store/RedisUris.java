package dev.tether.gateway.store;

import java.util.regex.Pattern;

/** Redis URIs as they may be shown: in logs and errors, a password in the URI is replaced. */
final class RedisUris {

    private static final Pattern USER_INFO = Pattern.compile("(?<=://)[^@/]*@");

    private RedisUris() {}

    /** {@code uri} with its user-info (which may hold a password) replaced by {@code ***@}. */
    static String redacted(String uri) {
        return uri == null ? "null" : USER_INFO.matcher(uri).replaceFirst("***@");
    }
}
