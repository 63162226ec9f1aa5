package dev.distillery.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.distillery.error.DistilleryException;
import dev.distillery.v1.Recipe;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.schema.CoreSchema;

/**
 * A training recipe written as YAML: its keys are {@link Recipe}'s fields one to one, named as in
 * {@code recipe.proto} (snake_case; lowerCamelCase works too), nested as the messages nest. The YAML is
 * read into plain maps and lists, written out as JSON and parsed by protobuf's own JSON parser, so the
 * proto stays the only definition of a recipe: an unknown key or a value of the wrong type is an error
 * naming the file and what is wrong. Wrapper fields take plain numbers ({@code temperature: 3}).
 */
public final class RecipeFile {

    private static final ObjectMapper JSON = new ObjectMapper();

    private RecipeFile() {}

    /** The recipe in {@code file}. */
    public static Recipe read(Path file) throws IOException {
        return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
    }

    /** The recipe in {@code yaml}; {@code source} names it in error messages. */
    static Recipe parse(String yaml, String source) {
        Object document = load(yaml, source);
        if (document == null) {
            throw DistilleryException.invalid("%s is empty: a recipe is a mapping of Recipe fields such as "
                    + "output_model, student, data and epochs", source);
        }
        if (!(document instanceof Map)) {
            throw DistilleryException.invalid("%s: a recipe is a mapping of Recipe fields (output_model: ..., "
                    + "epochs: ...), not a %s", source, document instanceof List ? "list" : "single value");
        }
        Recipe.Builder recipe = Recipe.newBuilder();
        try {
            JsonFormat.parser().merge(JSON.writeValueAsString(document), recipe);
        } catch (InvalidProtocolBufferException e) {
            throw DistilleryException.invalid("%s: %s", source,
                    locate((Map<?, ?>) document, Recipe.getDescriptor(), "").orElse(e.getMessage()));
        } catch (JsonProcessingException e) {
            throw DistilleryException.invalid("%s: cannot be written as JSON: %s", source, e.getOriginalMessage());
        }
        return recipe.build();
    }

    private static Object load(String yaml, String source) {
        // YAML 1.2's core schema: "on" and "yes" stay strings, 1e-3 and .5 are numbers.
        LoadSettings settings = LoadSettings.builder().setLabel(source).setSchema(new CoreSchema()).build();
        try {
            return new Load(settings).loadFromString(yaml);
        } catch (MarkedYamlEngineException e) {
            Optional<Mark> at = e.getProblemMark().or(e::getContextMark);
            String where = at.map(mark -> ":" + (mark.getLine() + 1) + ":" + (mark.getColumn() + 1)).orElse("");
            throw DistilleryException.invalid("%s%s: not valid YAML: %s", source, where, e.getProblem());
        } catch (YamlEngineException e) {
            throw DistilleryException.invalid("%s: not valid YAML: %s", source, e.getMessage());
        }
    }

    /**
     * Where protobuf's complaint comes from, found by parsing one key at a time and descending into the
     * first one refused: "distillation.temperature should be a float: ...", or the fields an unknown key
     * could have been.
     */
    private static Optional<String> locate(Map<?, ?> mapping, Descriptor type, String path) {
        for (Map.Entry<?, ?> entry : mapping.entrySet()) {
            String key = String.valueOf(entry.getKey());
            String at = path.isEmpty() ? key : path + "." + key;
            FieldDescriptor field = field(type, key);
            if (field == null) {
                return Optional.of(String.format("%sunknown key '%s'; %s's fields are %s", path.isEmpty() ? "" : path + ": ",
                        key, type.getName(), type.getFields().stream()
                                .map(FieldDescriptor::getName).collect(Collectors.joining(", "))));
            }
            Optional<String> refusal = refusal(Collections.singletonMap(key, entry.getValue()), type);
            if (refusal.isEmpty()) {
                continue;
            }
            Object value = entry.getValue();
            if (isMapping(field) && !field.isRepeated() && value instanceof Map<?, ?> inner) {
                return locate(inner, field.getMessageType(), at).or(() -> refusal.map(why -> at + ": " + why));
            }
            if (isMapping(field) && field.isRepeated() && value instanceof List<?> items) {
                for (int i = 0; i < items.size(); i++) {
                    if (items.get(i) instanceof Map<?, ?> inner) {
                        Optional<String> found = locate(inner, field.getMessageType(), at + "[" + i + "]");
                        if (found.isPresent()) {
                            return found;
                        }
                    }
                }
            }
            return Optional.of(String.format("%s should be %s: %s", at, expected(field), refusal.get()));
        }
        return Optional.empty();
    }

    /** Why protobuf refuses {@code mapping} as a {@code type}, if it does. */
    private static Optional<String> refusal(Map<?, ?> mapping, Descriptor type) {
        try {
            JsonFormat.parser().merge(JSON.writeValueAsString(mapping), DynamicMessage.newBuilder(type));
            return Optional.empty();
        } catch (InvalidProtocolBufferException | JsonProcessingException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** The field a key names: its proto name, or its lowerCamelCase JSON name, as protobuf's parser accepts. */
    private static FieldDescriptor field(Descriptor type, String key) {
        FieldDescriptor byName = type.findFieldByName(key);
        return byName != null ? byName
                : type.getFields().stream().filter(f -> f.getJsonName().equals(key)).findFirst().orElse(null);
    }

    /** A message field written as a nested mapping; wrappers such as FloatValue are written as plain values. */
    private static boolean isMapping(FieldDescriptor field) {
        return field.getJavaType() == FieldDescriptor.JavaType.MESSAGE
                && !field.getMessageType().getFile().getPackage().equals("google.protobuf");
    }

    /** "a float", "a mapping of Architecture fields", "a list of int32 values"... */
    private static String expected(FieldDescriptor field) {
        String one;
        if (isMapping(field)) {
            one = "mapping of " + field.getMessageType().getName() + " fields";
        } else if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
            // A wrapper: the type of its one field, "value".
            one = field.getMessageType().getFields().get(0).getType().name().toLowerCase(Locale.ROOT);
        } else {
            one = field.getType().name().toLowerCase(Locale.ROOT);
        }
        return field.isRepeated() ? "a list, each " + article(one) : article(one);
    }

    private static String article(String noun) {
        return ("aeiou".indexOf(noun.charAt(0)) >= 0 ? "an " : "a ") + noun;
    }
}
