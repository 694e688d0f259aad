package dev.tether.loadtest;

import dev.tether.loadtest.jmh.JmhCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of {@code loadtest.jar}: {@code java -jar loadtest/target/loadtest.jar SCENARIO
 * [options]}. Every scenario is a subcommand with its own {@code --help}.
 */
@Command(name = "loadtest", mixinStandardHelpOptions = true,
        description = "Load, chaos and soak client for the Tether gateway.",
        subcommands = {
            CommandLine.HelpCommand.class,
            JmhCommand.class,
        })
public final class Main implements Runnable {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a scenario");
    }
}
