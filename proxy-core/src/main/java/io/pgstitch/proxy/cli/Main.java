package io.pgstitch.proxy.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code pgstitch <command>}: the one entry point of pgstitch.jar. */
@Command(name = "pgstitch", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "PostgreSQL wire-protocol proxy: routes by database ID, pools, stitches RPC-function results.",
        subcommands = {RunCommand.class, CheckConfigCommand.class, DemoCommand.class, ExplainSplitCommand.class,
                PasswdCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        return commandLine(CommandLine.defaultFactory());
    }

    /** With a factory that creates the commands: tests hand a command its standard input this way. */
    static CommandLine commandLine(CommandLine.IFactory factory) {
        return new CommandLine(new Main(), factory).setCaseInsensitiveEnumValuesAllowed(true);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Main.class.getPackage().getImplementationVersion();
            return new String[] {"pgstitch " + (version == null ? "(development build)" : version)};
        }
    }
}
