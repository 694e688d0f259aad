package dev.tether.loadtest.report;

import java.util.Locale;

/** Escaping and number formats shared by the HTML report's classes. Stateless. */
final class HtmlReportFormat {

    private HtmlReportFormat() {}

    /** Text made safe for HTML and XML content and for quoted attribute values. */
    static String esc(String text) {
        if (text == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> {
                    // Control characters are not allowed in XML 1.0 (and say nothing in a report).
                    if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') {
                        out.append('\uFFFD');
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }

    /** Milliseconds with as many decimals as their size deserves: 0.123, 1.23, 12.3, 123. */
    static String ms(double ms) {
        if (Double.isNaN(ms)) {
            return "–";
        }
        double abs = Math.abs(ms);
        String pattern = abs < 1 ? "%.3f" : abs < 10 ? "%.2f" : abs < 100 ? "%.1f" : "%.0f";
        return String.format(Locale.ROOT, pattern, ms);
    }

    /** A count or rate: integers with thin separators, others with one decimal. */
    static String number(double value) {
        if (Double.isNaN(value)) {
            return "–";
        }
        if (value == Math.rint(value) && Math.abs(value) < 1e15) {
            return String.format(Locale.ROOT, "%,d", (long) value).replace(',', '\u2009');
        }
        return String.format(Locale.ROOT, Math.abs(value) < 10 ? "%.2f" : "%,.1f", value)
                .replace(',', '\u2009');
    }

    /** Bytes as MiB with one decimal. */
    static String mib(double bytes) {
        return Double.isNaN(bytes) ? "–" : String.format(Locale.ROOT, "%.1f MiB", bytes / (1024 * 1024));
    }

    /** A ratio such as {@code 1.42×}. */
    static String ratio(double ratio) {
        return Double.isNaN(ratio) ? "–" : String.format(Locale.ROOT, "%.2f\u00d7", ratio);
    }

    /** A number for SVG coordinates: short, never in exponent notation. */
    static String coord(double value) {
        return String.format(Locale.ROOT, "%.1f", value);
    }
}
