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
        if (exit != 0) {
            System.exit(exit);
        }
    }
}
