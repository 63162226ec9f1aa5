package dev.distillery.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code distillery models ...}: the model store. */
@Command(name = "models", synopsisSubcommandLabel = "COMMAND",
        description = "The server's model store: list, show, upload, download and delete models.",
        subcommands = {ModelsList.class, ModelsShow.class, ModelsUpload.class, ModelsDownload.class, ModelsDelete.class})
final class ModelsCommand {

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help.")
    boolean help;
}
