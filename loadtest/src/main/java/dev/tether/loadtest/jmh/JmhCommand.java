package dev.tether.loadtest.jmh;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code loadtest jmh}: runs the JMH microbenchmarks of the hot paths ({@link CodecBenchmark},
 * {@link ReplayBufferBenchmark}) with modest defaults, so that the whole set takes a few minutes on
 * two cores. For every JMH option use {@code java -cp loadtest.jar org.openjdk.jmh.Main -h} instead.
 * Runs on the command-line thread; JMH forks its own JVMs.
 */
@Command(
        name = "jmh",
        mixinStandardHelpOptions = true,
        description = "Run the JMH microbenchmarks of the codec and the replay buffer.")
public final class JmhCommand implements Callable<Integer> {

    @Option(
            names = "--include",
            paramLabel = "REGEX",
            defaultValue = "dev\\.tether\\.loadtest\\.jmh\\.(CodecBenchmark|ReplayBufferBenchmark)\\..*",
            description =
                    "Benchmarks to run, a regular expression over their names (default: ${DEFAULT-VALUE}: the codec"
                            + " and the replay buffer; TlsBenchmark, which makes its certificates with keytool, runs when named).")
    String include;

    @Option(names = "--forks", defaultValue = "1", description = "JVM forks per benchmark (default: ${DEFAULT-VALUE}).")
    int forks;

    @Option(
            names = "--warmup-iterations",
            defaultValue = "3",
            description = "Warm-up iterations (default: ${DEFAULT-VALUE}).")
    int warmupIterations;

    @Option(
            names = "--iterations",
            defaultValue = "5",
            description = "Measured iterations (default: ${DEFAULT-VALUE}).")
    int iterations;

    @Option(
            names = "--time",
            paramLabel = "SECONDS",
            defaultValue = "1",
            description = "Length of each warm-up and measured iteration, seconds (default: ${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--result", paramLabel = "FILE", description = "Also write the results to FILE.")
    Path result;

    @Option(
            names = "--result-format",
            defaultValue = "JSON",
            description = "Format of --result: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    ResultFormatType resultFormat;

    @Option(
            names = "--jvm-args",
            paramLabel = "ARGS",
            split = " ",
            description = "JVM options for the forks, space-separated (e.g. \"-Xmx1g -XX:+UseParallelGC\").")
    String[] jvmArgs;

    @Override
    public Integer call() throws RunnerException {
        ChainedOptionsBuilder options = new OptionsBuilder()
                .include(include)
                .forks(forks)
                .warmupIterations(warmupIterations)
                .warmupTime(TimeValue.seconds(seconds))
                .measurementIterations(iterations)
                .measurementTime(TimeValue.seconds(seconds))
                .shouldFailOnError(true);
        if (result != null) {
            options.result(result.toString()).resultFormat(resultFormat);
        }
        if (jvmArgs != null && jvmArgs.length > 0) {
            options.jvmArgsAppend(jvmArgs);
        }
        return new Runner(options.build()).run().isEmpty() ? 1 : 0;
    }
}
