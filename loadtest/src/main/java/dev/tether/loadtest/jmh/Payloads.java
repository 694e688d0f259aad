package dev.tether.loadtest.jmh;

/** Payload texts of the benchmarks' two sizes. Stateless. */
final class Payloads {

    /** A short chat-like line. */
    static final String SMALL = "hello, how are you today?";

    private Payloads() {}

    /** About {@code bytes} of plain ASCII text, with spaces like prose (so JSON escaping stays rare). */
    static String text(int bytes) {
        StringBuilder out = new StringBuilder(bytes);
        String word = "lorem ipsum dolor sit amet consectetur ";
        while (out.length() < bytes) {
            out.append(word);
        }
        out.setLength(bytes);
        return out.toString();
    }

    /** The payload of a size name: {@code small} or {@code 4k}. */
    static String of(String size) {
        return switch (size) {
            case "small" -> SMALL;
            case "4k" -> text(4096);
            default -> throw new IllegalArgumentException("unknown payload size: " + size);
        };
    }
}
