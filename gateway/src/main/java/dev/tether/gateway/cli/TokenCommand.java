package dev.tether.gateway.cli;

import dev.tether.gateway.auth.TokenMinter;
import dev.tether.gateway.config.Durations;
import dev.tether.gateway.config.GatewayConfig;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Prints a token signed with the configured HMAC secret: the try-it path for newcomers and a
 * helper for scripts. Refuses when no HS algorithm is configured.
 */
@Command(
        name = "token",
        mixinStandardHelpOptions = true,
        description = "Prints a JWT signed with the configured HMAC secret (for development and tests).")
final class TokenCommand implements Callable<Integer> {

    @Mixin
    private ConfigOption configOption;

    @Option(names = "--sub", required = true, paramLabel = "NAME", description = "Subject (user) of the token.")
    private String subject;

    @Option(
            names = "--ttl",
            paramLabel = "DURATION",
            defaultValue = "1h",
            converter = DurationConverter.class,
            description = "Lifetime, like 30s, 15m, 1h (default: ${DEFAULT-VALUE}).")
    private Duration ttl;

    @Option(names = "--claim", paramLabel = "KEY=VALUE", description = "Extra string claim; repeatable.")
    private Map<String, String> claims = new LinkedHashMap<>();

    @Override
    public Integer call() {
        GatewayConfig config = configOption.load().orElse(null);
        if (config == null) {
            return 2;
        }
        String algorithm = config.auth().algorithms().stream()
                .filter(a -> a.startsWith("HS"))
                .findFirst()
                .orElse(null);
        if (algorithm == null || config.auth().hmacSecret() == null) {
            System.err.println("no HMAC algorithm configured (auth.algorithms): cannot mint tokens");
            return 2;
        }
        TokenMinter minter = new TokenMinter(
                config.auth().hmacSecret().getBytes(StandardCharsets.UTF_8), algorithm, Clock.systemUTC());
        Map<String, Object> extra = new LinkedHashMap<>(claims);
        if (config.auth().issuer() != null) {
            extra.putIfAbsent("iss", config.auth().issuer());
        }
        if (config.auth().audience() != null) {
            extra.putIfAbsent("aud", config.auth().audience());
        }
        System.out.println(minter.mint(subject, ttl, extra));
        return 0;
    }

    /** Parses {@code --ttl} with the config file's duration syntax. */
    static final class DurationConverter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return Durations.parse(value);
        }
    }
}
