/** The {@code dcformer4j} command-line tool: the picocli top command and its subcommands. */
package io.dcformer4j.cli;
