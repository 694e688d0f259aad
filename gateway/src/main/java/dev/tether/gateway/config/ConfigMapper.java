package dev.tether.gateway.config;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdScalarSerializer;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The one Jackson mapper that turns YAML into config records: snake_case keys, strict types (no
 * float-to-int or number-to-boolean guessing), duplicate keys rejected, and the duration, byte-size
 * and path formats of {@code config/gateway.yaml}. Thread-safe once built.
 */
final class ConfigMapper {
    static final YAMLMapper MAPPER = create();

    private ConfigMapper() {}

    private static YAMLMapper create() {
        SimpleModule formats = new SimpleModule("tether-config")
                .addSerializer(Duration.class, new DurationSerializer())
                .addDeserializer(Duration.class, new DurationDeserializer())
                .addSerializer(Path.class, ToStringSerializer.instance)
                .addDeserializer(Path.class, new PathDeserializer());
        YAMLMapper mapper = YAMLMapper.builder()
                .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .addModule(formats)
                .build();
        mapper.coercionConfigDefaults().setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail);
        mapper.coercionConfigFor(LogicalType.Boolean).setCoercion(CoercionInputShape.Integer, CoercionAction.Fail);
        mapper.coercionConfigFor(LogicalType.Integer).setCoercion(CoercionInputShape.Float, CoercionAction.Fail);
        return mapper;
    }

    /**
     * A scalar in the wrong format, thrown by the deserializers below; {@link ConfigLoader} adds the
     * key from Jackson's path and the value from the YAML tree.
     */
    static final class BadValue extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadValue(String expected) {
            super(expected, null, false, false);
        }

        String expected() {
            return getMessage();
        }
    }

    private static String scalarText(JsonParser p, String expected) throws IOException {
        if (p.hasToken(JsonToken.VALUE_STRING) || p.hasToken(JsonToken.VALUE_NUMBER_INT)) {
            return p.getText();
        }
        throw new BadValue(expected);
    }

    /**
     * A scalar written as a string or an integer in a format of its own ({@link #scalarText}); a
     * value {@link #parse} refuses (with an {@link IllegalArgumentException}) is a {@link BadValue}.
     */
    private abstract static class FormattedDeserializer<T> extends StdScalarDeserializer<T> {
        private static final long serialVersionUID = 1L;
        private final String expected;

        FormattedDeserializer(Class<T> type, String expected) {
            super(type);
            this.expected = expected;
        }

        abstract T parse(String text);

        @Override
        public T deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            String text = scalarText(p, expected);
            try {
                return parse(text);
            } catch (IllegalArgumentException e) {
                throw new BadValue(expected);
            }
        }
    }

    static final class DurationDeserializer extends FormattedDeserializer<Duration> {
        private static final long serialVersionUID = 1L;

        DurationDeserializer() {
            super(Duration.class, Durations.EXPECTED);
        }

        @Override
        Duration parse(String text) {
            return Durations.parse(text);
        }
    }

    static final class DurationSerializer extends StdScalarSerializer<Duration> {
        private static final long serialVersionUID = 1L;

        DurationSerializer() {
            super(Duration.class);
        }

        @Override
        public void serialize(Duration value, JsonGenerator gen, SerializerProvider provider) throws IOException {
            gen.writeString(Durations.format(value));
        }
    }

    static final class PathDeserializer extends StdScalarDeserializer<Path> {
        private static final long serialVersionUID = 1L;
        private static final String EXPECTED = "a file path";

        PathDeserializer() {
            super(Path.class);
        }

        @Override
        public Path deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            if (!p.hasToken(JsonToken.VALUE_STRING) || p.getText().isBlank()) {
                throw new BadValue(EXPECTED);
            }
            try {
                return Path.of(p.getText());
            } catch (InvalidPathException e) {
                throw new BadValue(EXPECTED);
            }
        }
    }

    /** For {@code long} byte-size keys: an integer, or a string such as {@code 8MiB}. */
    static final class LongByteSizeDeserializer extends FormattedDeserializer<Long> {
        private static final long serialVersionUID = 1L;

        LongByteSizeDeserializer() {
            super(Long.class, ByteSizes.EXPECTED);
        }

        @Override
        Long parse(String text) {
            return ByteSizes.parse(text);
        }
    }

    /** For {@code int} byte-size keys; rejects sizes that do not fit in an int before range checks. */
    static final class IntByteSizeDeserializer extends FormattedDeserializer<Integer> {
        private static final long serialVersionUID = 1L;

        IntByteSizeDeserializer() {
            super(Integer.class, ByteSizes.EXPECTED);
        }

        @Override
        Integer parse(String text) {
            long bytes = ByteSizes.parse(text);
            if (bytes < Integer.MIN_VALUE || bytes > Integer.MAX_VALUE) {
                throw new BadValue(ByteSizes.EXPECTED + ", below 2GiB");
            }
            return (int) bytes;
        }
    }
}
