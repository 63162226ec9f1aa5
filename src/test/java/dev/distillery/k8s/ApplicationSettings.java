package dev.distillery.k8s;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithName;
import java.io.IOException;
import java.io.Reader;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Parameter;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * What the application really reads and serves, taken from its own files rather than restated: the environment
 * variables named in application.properties' {@code ${NAME:default}} expressions, the environment form of every
 * setting of its {@code @ConfigMapping} interfaces and {@code @ConfigProperty} injection points, and the port and
 * paths its configuration (or Quarkus's defaults) gives.
 */
final class ApplicationSettings {

    private static final Path PROPERTIES = Path.of("src/main/resources/application.properties");
    private static final Path CLASSES = Path.of("target/classes");
    private static final Pattern EXPRESSION = Pattern.compile("\\$\\{([A-Za-z0-9_]+)(?::([^}]*))?}");

    private ApplicationSettings() {
    }

    static Properties properties() {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(PROPERTIES)) {
            properties.load(reader);
        } catch (IOException e) {
            throw new AssertionError("cannot read " + PROPERTIES, e);
        }
        return properties;
    }

    /** A property's production value: the default of its ${ENV:default} expression, or Quarkus's default. */
    static String value(String property, String quarkusDefault) {
        String raw = properties().getProperty(property);
        if (raw == null) {
            return quarkusDefault;
        }
        Matcher expression = EXPRESSION.matcher(raw);
        return expression.matches() ? Optional.ofNullable(expression.group(2)).orElse(quarkusDefault) : raw;
    }

    /** The gRPC server's port in production (Quarkus' separate gRPC server). */
    static int grpcPort() {
        return Integer.parseInt(value("quarkus.grpc.server.port", "9000"));
    }

    /** The HTTP server's port in production: health and metrics. */
    static int httpPort() {
        return Integer.parseInt(value("quarkus.http.port", "8080"));
    }

    /** A path under Quarkus's non-application root, e.g. "health/live" gives "/q/health/live". */
    private static String nonApplication(String path) {
        return "/" + value("quarkus.http.non-application-root-path", "q") + "/" + path;
    }

    static String livenessPath() {
        return health(value("quarkus.smallrye-health.liveness-path", "live"));
    }

    static String readinessPath() {
        return health(value("quarkus.smallrye-health.readiness-path", "ready"));
    }

    static String startupPath() {
        return health(value("quarkus.smallrye-health.startup-path", "started"));
    }

    private static String health(String check) {
        return nonApplication(value("quarkus.smallrye-health.root-path", "health") + "/" + check);
    }

    static String metricsPath() {
        return nonApplication(value("quarkus.micrometer.export.prometheus.path", "metrics"));
    }

    /** Every environment variable the application reads. */
    static Set<String> environmentNames() {
        Set<String> names = new TreeSet<>();
        for (Object raw : properties().values()) {
            Matcher expression = EXPRESSION.matcher(raw.toString());
            while (expression.find()) {
                names.add(expression.group(1));
            }
        }
        for (Class<?> type : applicationClasses()) {
            ConfigMapping mapping = type.getAnnotation(ConfigMapping.class);
            if (mapping != null) {
                settings(type, mapping.prefix(), names);
            }
            for (Field field : type.getDeclaredFields()) {
                configProperty(field.getAnnotation(ConfigProperty.class), names);
            }
            for (Executable executable : Stream.concat(Stream.of(type.getDeclaredMethods()),
                    Stream.of(type.getDeclaredConstructors())).toList()) {
                for (Parameter parameter : executable.getParameters()) {
                    configProperty(parameter.getAnnotation(ConfigProperty.class), names);
                }
            }
        }
        return names;
    }

    private static void configProperty(ConfigProperty property, Set<String> names) {
        if (property != null && !property.name().isEmpty()) {
            names.add(environmentName(property.name()));
        }
    }

    /** The settings under one prefix of a mapping interface; maps are left out (their keys are the user's). */
    private static void settings(Class<?> group, String prefix, Set<String> names) {
        for (Method method : group.getMethods()) {
            if (method.getParameterCount() != 0 || method.isDefault() || Modifier.isStatic(method.getModifiers())) {
                continue;
            }
            WithName named = method.getAnnotation(WithName.class);
            String key = prefix + "." + (named != null ? named.value() : kebab(method.getName()));
            Class<?> type = method.getReturnType();
            if (Map.class.isAssignableFrom(type)) {
                continue;
            }
            Optional<Class<?>> nested = group(type, method.getGenericReturnType());
            if (nested.isPresent()) {
                settings(nested.get(), key, names);
            } else {
                names.add(environmentName(key));
            }
        }
    }

    /** A nested group of settings: an application interface, or an Optional of one. */
    private static Optional<Class<?>> group(Class<?> type, Type generic) {
        if (type == Optional.class && generic instanceof ParameterizedType optional
                && optional.getActualTypeArguments()[0] instanceof Class<?> inner) {
            type = inner;
        }
        return type.isInterface() && type.getName().startsWith("dev.distillery.") ? Optional.of(type) : Optional.empty();
    }

    /** maxUploadBytes -> max-upload-bytes, SmallRye's default naming. */
    static String kebab(String name) {
        return name.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase();
    }

    /** distillery.serving.intra-op-threads -> DISTILLERY_SERVING_INTRA_OP_THREADS, as MicroProfile Config maps them. */
    static String environmentName(String property) {
        return property.toUpperCase().replaceAll("[^A-Z0-9]", "_");
    }

    /** The application's own classes, loaded without running their initialisers. */
    private static Set<Class<?>> applicationClasses() {
        try (Stream<Path> files = Files.walk(CLASSES.resolve("dev/distillery"))) {
            ClassLoader loader = ApplicationSettings.class.getClassLoader();
            Set<Class<?>> classes = new java.util.LinkedHashSet<>();
            for (Path file : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                String name = CLASSES.relativize(file).toString().replace('/', '.').replaceAll("\\.class$", "");
                classes.add(Class.forName(name, false, loader));
            }
            return classes;
        } catch (IOException | ClassNotFoundException e) {
            throw new AssertionError("cannot list the application's classes under " + CLASSES, e);
        }
    }
}
