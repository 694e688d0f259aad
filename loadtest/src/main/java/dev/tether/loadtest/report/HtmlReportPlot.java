package dev.tether.loadtest.report;

import static dev.tether.loadtest.report.HtmlReportFormat.coord;
import static dev.tether.loadtest.report.HtmlReportFormat.esc;
import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleFunction;

/**
 * One line chart as inline SVG, for the HTML report: several series over a shared x axis, linear or
 * logarithmic y. The x axis is either linear (time) or the HdrHistogram percentile axis, where a
 * percentile p sits at {@code log10(1 / (1 - p))} so that 90 %, 99 %, 99.9 % ... are evenly spaced.
 * A time chart may shade one interval (the warm-up) behind its lines, with its own legend entry.
 *
 * <p>Lines that may coincide stay apart by their {@link Stroke}: a {@link Stroke#HALO} series (a
 * maximum) is drawn first, wide and translucent, so the lines drawn over it stay visible and it
 * still shows around them; a {@link Stroke#DASHED} one lets a solid line beneath show through.
 *
 * <p>Hand-written rather than a charting library: the report needs a few line charts, and about two
 * hundred lines of SVG keep the jar small and the output free of scripts and fonts. Immutable once
 * built; not shared between threads.
 */
final class HtmlReportPlot {

    /** How x values are placed. */
    enum XAxis {
        LINEAR,
        PERCENTILE
    }

    /** How a line is drawn; the legend shows the same. */
    enum Stroke {
        /** 2 px, solid. */
        SOLID(2, null, 1),
        /** 2 px, dashed: a line beneath shows through its gaps. */
        DASHED(2, "6 4", 1),
        /** 7 px, translucent, drawn before every other line: what is drawn over it stays visible, and it shows around it. */
        HALO(7, null, 0.3);

        final double width;
        final String dashes;
        final double opacity;

        Stroke(double width, String dashes, double opacity) {
            this.width = width;
            this.dashes = dashes;
            this.opacity = opacity;
        }

        /** The stroke attributes of a line drawn this way, at {@code widthFactor} times its width. */
        String attributes(double widthFactor) {
            StringBuilder out = new StringBuilder(" stroke-width=\"")
                    .append(coord(width * widthFactor))
                    .append('"');
            if (dashes != null) {
                out.append(" stroke-dasharray=\"").append(dashes).append('"');
            }
            if (opacity < 1) {
                out.append(" stroke-opacity=\"")
                        .append(opacity)
                        .append("\" stroke-linecap=\"round\" stroke-linejoin=\"round\"");
            }
            return out.toString();
        }
    }

    /**
     * One line: parallel arrays of x and y; NaN y values leave a gap. The arrays are the report's
     * columns, taken without a copy and only read. A class, not a record, whose equals would compare
     * the arrays by identity.
     */
    static final class Series {
        private final String label;
        private final String color;
        private final double[] xs;
        private final double[] ys;
        private final Stroke stroke;

        Series(String label, String color, double[] xs, double[] ys, Stroke stroke) {
            this.label = requireNonNull(label, "label");
            this.color = requireNonNull(color, "color");
            this.stroke = requireNonNull(stroke, "stroke");
            if (xs.length != ys.length) {
                throw new IllegalArgumentException("xs and ys differ in length");
            }
            this.xs = xs;
            this.ys = ys;
        }

        /** A solid or a dashed line. */
        Series(String label, String color, double[] xs, double[] ys, boolean dashed) {
            this(label, color, xs, ys, dashed ? Stroke.DASHED : Stroke.SOLID);
        }

        String label() {
            return label;
        }

        String color() {
            return color;
        }

        double[] xs() {
            return xs;
        }

        double[] ys() {
            return ys;
        }

        Stroke stroke() {
            return stroke;
        }
    }

    /** An interval of x shaded behind the lines (the warm-up), named in the legend. */
    record Shade(double from, double to, String label) {
        Shade {
            requireNonNull(label, "label");
            if (!(from < to)) {
                throw new IllegalArgumentException("shade from " + from + " to " + to + " (expected: from < to)");
            }
        }
    }

    static final int WIDTH = 760;
    static final int HEIGHT = 300;
    private static final int LEFT = 70;
    private static final int RIGHT = 20;
    private static final int TOP = 34;
    private static final int BOTTOM = 44;
    /** Points are drawn as dots with a tooltip only up to this many per series. */
    private static final int MAX_DOTS = 120;

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final XAxis xAxis;
    private final boolean logY;
    private final List<Series> series;
    private final Shade shade;

    HtmlReportPlot(String title, String xLabel, String yLabel, XAxis xAxis, boolean logY, List<Series> series) {
        this(title, xLabel, yLabel, xAxis, logY, series, null);
    }

    /** @param shade an interval of x to shade behind the lines, or null */
    HtmlReportPlot(
            String title, String xLabel, String yLabel, XAxis xAxis, boolean logY, List<Series> series, Shade shade) {
        this.title = requireNonNull(title, "title");
        this.xLabel = requireNonNull(xLabel, "xLabel");
        this.yLabel = requireNonNull(yLabel, "yLabel");
        this.xAxis = requireNonNull(xAxis, "xAxis");
        this.logY = logY;
        this.series = List.copyOf(series);
        if (shade != null && xAxis != XAxis.LINEAR) {
            throw new IllegalArgumentException("a shade needs a linear x axis");
        }
        this.shade = shade;
    }

    /** True when a log y axis suits these values better: positive, and spanning more than 30×. */
    static boolean wantsLogY(List<Series> series) {
        double min = Double.POSITIVE_INFINITY;
        double max = 0;
        for (Series s : series) {
            for (double y : s.ys()) {
                if (y > 0 && Double.isFinite(y)) {
                    min = Math.min(min, y);
                    max = Math.max(max, y);
                }
            }
        }
        return max > 0 && max / min > 30;
    }

    /** The chart as one {@code <svg>} element. */
    String svg() {
        StringBuilder out = new StringBuilder(8192);
        out.append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" viewBox=\"0 0 ")
                .append(WIDTH)
                .append(' ')
                .append(HEIGHT)
                .append("\" role=\"img\" aria-label=\"")
                .append(esc(title))
                .append("\">");
        out.append("<title>").append(esc(title)).append("</title>");
        double[] xRange = xRange();
        double[] yRange = yRange();
        if (xRange == null || yRange == null) {
            out.append("<text x=\"")
                    .append(WIDTH / 2)
                    .append("\" y=\"")
                    .append(HEIGHT / 2)
                    .append("\" class=\"empty\" text-anchor=\"middle\">no data</text></svg>");
            return out.toString();
        }
        Scale x = xAxis == XAxis.PERCENTILE
                ? new Scale(xRange[0], xRange[1], LEFT, WIDTH - RIGHT, HtmlReportPlot::percentileX)
                : new Scale(xRange[0], xRange[1], LEFT, WIDTH - RIGHT, v -> v);
        Scale y = logY
                ? new Scale(yRange[0], yRange[1], HEIGHT - BOTTOM, TOP, Math::log10)
                : new Scale(yRange[0], yRange[1], HEIGHT - BOTTOM, TOP, v -> v);
        axes(out, x, y);
        boolean shaded = shade(out, x);
        // Halos first, so that no line drawn after them can be covered by them.
        for (Series s : series) {
            if (s.stroke() == Stroke.HALO) {
                line(out, s, x, y);
            }
        }
        for (Series s : series) {
            if (s.stroke() != Stroke.HALO) {
                line(out, s, x, y);
            }
        }
        legend(out, shaded);
        out.append("</svg>");
        return out.toString();
    }

    /** Maps data values to pixels, through a transform (identity, log10, the percentile axis). */
    private record Scale(double min, double max, double from, double to, DoubleFunction<Double> transform) {
        double px(double value) {
            double lo = transform.apply(min);
            double hi = transform.apply(max);
            double t = hi == lo ? 0.5 : (transform.apply(value) - lo) / (hi - lo);
            return from + t * (to - from);
        }
    }

    static double percentileX(double p) {
        return Math.log10(100.0 / (100.0 - Math.min(p, 99.9999)));
    }

    private double[] xRange() {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (int i = 0; i < s.xs().length; i++) {
                if (usable(s, i)) {
                    min = Math.min(min, s.xs()[i]);
                    max = Math.max(max, s.xs()[i]);
                }
            }
        }
        if (min > max) {
            return null;
        }
        if (shade != null && shade.from() < min && shade.to() >= min) {
            // The shade starts before the first point (the warm-up from 0, the first second's point at 1): show all of
            // it.
            min = shade.from();
        }
        if (xAxis == XAxis.PERCENTILE) {
            // Whole decades of nines: 0 %, 90 %, 99 %, ... up to the first one past the data.
            double decades = Math.max(1, Math.ceil(percentileX(max) - 1e-9));
            return new double[] {0, 100.0 - 100.0 / Math.pow(10, decades)};
        }
        return min == max ? new double[] {min - 1, max + 1} : new double[] {min, max};
    }

    private double[] yRange() {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (int i = 0; i < s.ys().length; i++) {
                if (usable(s, i)) {
                    min = Math.min(min, s.ys()[i]);
                    max = Math.max(max, s.ys()[i]);
                }
            }
        }
        if (min > max) {
            return null;
        }
        if (logY) {
            double lo = Math.pow(10, Math.floor(Math.log10(min)));
            double hi = Math.pow(10, Math.ceil(Math.log10(max)));
            return new double[] {lo, hi == lo ? lo * 10 : hi};
        }
        double step = niceStep(Math.max(max, 1e-9) / 5);
        return new double[] {Math.min(0, min), Math.ceil(max / step) * step == 0 ? step : Math.ceil(max / step) * step};
    }

    private boolean usable(Series s, int i) {
        double xv = s.xs()[i];
        double yv = s.ys()[i];
        if (!Double.isFinite(xv) || !Double.isFinite(yv)) {
            return false;
        }
        if (xAxis == XAxis.PERCENTILE && (xv < 0 || xv >= 100)) {
            return false;
        }
        return !logY || yv > 0;
    }

    static double niceStep(double raw) {
        double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
        double residual = raw / magnitude;
        double nice = residual < 1.5 ? 1 : residual < 3 ? 2 : residual < 7 ? 5 : 10;
        return nice * magnitude;
    }

    private void axes(StringBuilder out, Scale x, Scale y) {
        out.append("<g class=\"axes\">");
        List<double[]> yTicks = new ArrayList<>();
        if (logY) {
            for (double v = y.min(); v <= y.max() * 1.0001; v *= 10) {
                yTicks.add(new double[] {v});
            }
        } else {
            double step = niceStep((y.max() - y.min()) / 5);
            for (double v = Math.ceil(y.min() / step) * step; v <= y.max() + step / 1e6; v += step) {
                yTicks.add(new double[] {v});
            }
        }
        for (double[] t : yTicks) {
            double py = y.px(t[0]);
            out.append("<line class=\"grid\" x1=\"")
                    .append(LEFT)
                    .append("\" x2=\"")
                    .append(WIDTH - RIGHT)
                    .append("\" y1=\"")
                    .append(coord(py))
                    .append("\" y2=\"")
                    .append(coord(py))
                    .append("\"/>");
            out.append("<text class=\"tick\" x=\"")
                    .append(LEFT - 6)
                    .append("\" y=\"")
                    .append(coord(py + 4))
                    .append("\" text-anchor=\"end\">")
                    .append(esc(tickLabel(t[0])))
                    .append("</text>");
        }
        if (xAxis == XAxis.PERCENTILE) {
            int decades = (int) Math.round(percentileX(x.max()));
            for (int k = 0; k <= decades; k++) {
                double p = 100.0 - 100.0 / Math.pow(10, k);
                xTick(out, x.px(p), percentileLabel(k));
            }
        } else {
            double step = niceStep((x.max() - x.min()) / 8);
            for (double v = Math.ceil(x.min() / step) * step; v <= x.max() + step / 1e6; v += step) {
                xTick(out, x.px(v), tickLabel(v));
            }
        }
        out.append("<rect class=\"frame\" x=\"")
                .append(LEFT)
                .append("\" y=\"")
                .append(TOP)
                .append("\" width=\"")
                .append(WIDTH - LEFT - RIGHT)
                .append("\" height=\"")
                .append(HEIGHT - TOP - BOTTOM)
                .append("\"/>");
        out.append("<text class=\"label\" x=\"")
                .append((LEFT + WIDTH - RIGHT) / 2)
                .append("\" y=\"")
                .append(HEIGHT - 8)
                .append("\" text-anchor=\"middle\">")
                .append(esc(xLabel))
                .append("</text>");
        out.append("<text class=\"label\" transform=\"translate(16 ")
                .append((TOP + HEIGHT - BOTTOM) / 2)
                .append(") rotate(-90)\" text-anchor=\"middle\">")
                .append(esc(yLabel + (logY ? " (log)" : "")))
                .append("</text></g>");
    }

    private static void xTick(StringBuilder out, double px, String label) {
        out.append("<line class=\"grid\" x1=\"")
                .append(coord(px))
                .append("\" x2=\"")
                .append(coord(px))
                .append("\" y1=\"")
                .append(TOP)
                .append("\" y2=\"")
                .append(HEIGHT - BOTTOM)
                .append("\"/>");
        out.append("<text class=\"tick\" x=\"")
                .append(coord(px))
                .append("\" y=\"")
                .append(HEIGHT - BOTTOM + 16)
                .append("\" text-anchor=\"middle\">")
                .append(esc(label))
                .append("</text>");
    }

    /** 0 → 0%, 1 → 90%, 2 → 99%, 3 → 99.9% ... */
    static String percentileLabel(int nines) {
        if (nines == 0) {
            return "0%";
        }
        if (nines == 1) {
            return "90%";
        }
        return "99" + (nines > 2 ? "." + "9".repeat(nines - 2) : "") + "%";
    }

    private static String tickLabel(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e9) {
            return Long.toString((long) v);
        }
        return String.format(Locale.ROOT, Math.abs(v) < 0.01 ? "%.4f" : Math.abs(v) < 1 ? "%.2f" : "%.1f", v);
    }

    private void line(StringBuilder out, Series s, Scale x, Scale y) {
        StringBuilder points = new StringBuilder();
        List<String> paths = new ArrayList<>();
        int drawn = 0;
        for (int i = 0; i < s.xs().length; i++) {
            if (!usable(s, i)) {
                if (points.length() > 0) {
                    paths.add(points.toString());
                    points.setLength(0);
                }
                continue;
            }
            points.append(points.length() == 0 ? "M" : " L")
                    .append(coord(x.px(s.xs()[i])))
                    .append(' ')
                    .append(coord(y.px(s.ys()[i])));
            drawn++;
        }
        if (points.length() > 0) {
            paths.add(points.toString());
        }
        out.append("<g class=\"series\"><title>").append(esc(s.label())).append("</title>");
        for (String d : paths) {
            out.append("<path d=\"")
                    .append(d)
                    .append("\" fill=\"none\" stroke=\"")
                    .append(esc(s.color()))
                    .append('"')
                    .append(s.stroke().attributes(1))
                    .append("/>");
        }
        if (drawn <= MAX_DOTS && s.stroke() != Stroke.HALO) {
            for (int i = 0; i < s.xs().length; i++) {
                if (usable(s, i)) {
                    out.append("<circle cx=\"")
                            .append(coord(x.px(s.xs()[i])))
                            .append("\" cy=\"")
                            .append(coord(y.px(s.ys()[i])))
                            .append("\" r=\"2.5\" fill=\"")
                            .append(esc(s.color()))
                            .append("\"><title>")
                            .append(esc(s.label() + ": " + tickLabel(s.xs()[i]) + " → " + tickLabel(s.ys()[i])))
                            .append("</title></circle>");
                }
            }
        }
        out.append("</g>");
    }

    /** The shaded interval, clipped to the x range, behind the lines; nothing when it lies outside. True when drawn. */
    private boolean shade(StringBuilder out, Scale x) {
        if (shade == null) {
            return false;
        }
        double from = Math.max(shade.from(), x.min());
        double to = Math.min(shade.to(), x.max());
        if (!(from < to)) {
            return false;
        }
        double left = x.px(from);
        out.append("<rect class=\"shade\" x=\"")
                .append(coord(left))
                .append("\" y=\"")
                .append(TOP)
                .append("\" width=\"")
                .append(coord(x.px(to) - left))
                .append("\" height=\"")
                .append(HEIGHT - TOP - BOTTOM)
                .append("\" data-from=\"")
                .append(esc(tickLabel(shade.from())))
                .append("\" data-to=\"")
                .append(esc(tickLabel(shade.to())))
                .append("\"><title>")
                .append(esc(
                        shade.label() + ": " + tickLabel(shade.from()) + " to " + tickLabel(shade.to()) + " " + xLabel))
                .append("</title></rect>");
        return true;
    }

    private void legend(StringBuilder out, boolean shaded) {
        int x = LEFT;
        out.append("<g class=\"legend\">");
        for (Series s : series) {
            out.append("<line x1=\"")
                    .append(x)
                    .append("\" x2=\"")
                    .append(x + 22)
                    .append("\" y1=\"16\" y2=\"16\" stroke=\"")
                    .append(esc(s.color()))
                    .append('"')
                    .append(s.stroke().attributes(s.stroke() == Stroke.HALO ? 1 : 1.5))
                    .append("/><text x=\"")
                    .append(x + 28)
                    .append("\" y=\"20\">")
                    .append(esc(s.label()))
                    .append("</text>");
            x += 40 + 7 * s.label().length();
        }
        if (shaded) {
            out.append("<rect class=\"shade\" x=\"")
                    .append(x)
                    .append("\" y=\"10\" width=\"22\" height=\"12\"/><text x=\"")
                    .append(x + 28)
                    .append("\" y=\"20\">")
                    .append(esc(shade.label()))
                    .append("</text>");
        }
        out.append("</g>");
    }
}
