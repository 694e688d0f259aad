package dev.tether.gateway;

import dev.tether.gateway.cli.RunCommand;
import picocli.CommandLine;

/**
 * Entry point of {@code gateway.jar}: {@code java -jar gateway.jar [--config PATH]} runs the
 * gateway; {@code java -jar gateway.jar token --sub NAME} prints a dev token.
 */
public final class Main {

    private Main() {}

    public static void main(String[] args) {
        int exit = new CommandLine(new RunCommand()).execute(args);
        // Always: after a drain, a stray non-daemon thread must not keep the process alive.
        System.exit(exit);
    }
}
