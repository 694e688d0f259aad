package dev.tether.loadtest;

import dev.tether.loadtest.compress.DeflateCommand;
import dev.tether.loadtest.jmh.JmhCommand;
import dev.tether.loadtest.jmh.TlsCostCommand;
import dev.tether.loadtest.scenario.ChaosCommand;
import dev.tether.loadtest.scenario.ConnectCommand;
import dev.tether.loadtest.scenario.HibernateCommand;
import dev.tether.loadtest.scenario.IdleCommand;
import dev.tether.loadtest.scenario.RefreshCommand;
import dev.tether.loadtest.scenario.ResumeCommand;
import dev.tether.loadtest.scenario.SoakCommand;
import dev.tether.loadtest.scenario.SteadyCommand;
import dev.tether.loadtest.scenario.SurgeCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of {@code loadtest.jar}: {@code java -jar loadtest/target/loadtest.jar SCENARIO
 * [options]}. Every scenario is a subcommand with its own {@code --help}. Exit codes: 0 the run
 * passed its audit with no unexpected error, 1 audit violations or unexpected errors, 2 usage or
 * setup error.
 */
@Command(
        name = "loadtest",
        mixinStandardHelpOptions = true,
        description = "Load, chaos and soak client for the Tether gateway.",
        subcommands = {
            CommandLine.HelpCommand.class,
            SteadyCommand.class,
            ConnectCommand.class,
            ChaosCommand.class,
            RefreshCommand.class,
            ResumeCommand.class,
            SoakCommand.class,
            IdleCommand.class,
            SurgeCommand.class,
            HibernateCommand.class,
            JmhCommand.class,
            TlsCostCommand.class,
            DeflateCommand.class,
        })
public final class Main implements Runnable {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Parses and runs {@code args}; returns the exit code (tests call this instead of {@link #main}). */
    public static int run(String... args) {
        return new CommandLine(new Main()).execute(args);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a scenario");
    }
}
