package dev.distillery.cli;

import dev.distillery.v1.ModelRef;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** {@code NAME} or {@code NAME:VERSION} on the command line; a bare name means the newest version (0). */
final class ModelRefConverter implements ITypeConverter<ModelRef> {

    static final String LABEL = "NAME[:VERSION]";

    @Override
    public ModelRef convert(String value) {
        int colon = value.lastIndexOf(':');
        String name = colon < 0 ? value : value.substring(0, colon);
        if (name.isEmpty()) {
            throw new TypeConversionException("'" + value + "' has no model name; write NAME or NAME:VERSION");
        }
        if (colon < 0) {
            return ModelRef.newBuilder().setName(name).build();
        }
        String version = value.substring(colon + 1);
        if (!version.matches("[1-9][0-9]{0,17}")) {
            throw new TypeConversionException("'" + value + "': the version after ':' must be a whole number from 1,"
                    + " as in " + name + ":2; leave it out for the newest");
        }
        return ModelRef.newBuilder().setName(name).setVersion(Long.parseLong(version)).build();
    }

    /** "name:3", or "name" for the newest version. */
    static String format(ModelRef model) {
        return model.getVersion() == 0 ? model.getName() : model.getName() + ":" + model.getVersion();
    }
}
