/* help.c - `cnet help [COMMAND]`, printed from the commands and options
 * tables: a command's synopsis lists the options it accepts, and
 * `cnet help COMMAND` adds one line per option, so help cannot drift from
 * what the parser takes. */
#include <string.h>

#include "cli.h"

#define WIDTH 80 /* columns that help text is wrapped to */

/* One word (n bytes of w) after column col, on a new line indented by
 * indent when it would pass WIDTH; returns the column after it. */
static int put_word(FILE *f, const char *w, int n, int col, int indent, int sep)
{
    if (col + sep + n > WIDTH && col > indent) {
        fprintf(f, "\n%*s", indent, "");
        col = indent;
    } else if (sep) {
        fputc(' ', f);
        col++;
    }
    return col + fprintf(f, "%.*s", n, w);
}

/* The words of text after column col, wrapped as put_word does. */
static int put_words(FILE *f, const char *text, int col, int indent)
{
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, " ");
        col = put_word(f, p, (int)n, col, indent, 1);
        p += n + strspn(p + n, " ");
    }
    return col;
}

/* "cnet train CFG [--set section.key=value]... [--epochs N] ...": the
 * required options first, bare, then the others in brackets. */
static void synopsis(FILE *f, const cli_command *c)
{
    if (c->usage) {
        fprintf(f, "%s\n", c->usage);
        return;
    }
    int col = fprintf(f, "cnet %s", c->name), indent = col + 1;
    if (*c->args)
        col += fprintf(f, " %s", c->args);
    for (int required = 1; required >= 0; required--)
        for (const cli_opt_id *id = c->opts; *id != CLI_END; id++) {
            const cli_opt *opt = &cli_options[*id];
            char spec[128], item[140];
            if (opt->required != required)
                continue;
            cli_opt_spec(opt, spec, sizeof spec);
            snprintf(item, sizeof item, required ? "%s" : "[%s]%s", spec,
                     opt->kind == CLI_LIST ? "..." : "");
            col = put_word(f, item, (int)strlen(item), col, indent, 1);
        }
    fputc('\n', f);
}

/* One line per option: its spec, then its help aligned in a column. */
static void option_lines(FILE *f, const cli_command *c)
{
    char spec[128];
    int w = 0;
    for (const cli_opt_id *id = c->opts; *id != CLI_END; id++) {
        cli_opt_spec(&cli_options[*id], spec, sizeof spec);
        if ((int)strlen(spec) > w)
            w = (int)strlen(spec);
    }
    for (const cli_opt_id *id = c->opts; *id != CLI_END; id++) {
        cli_opt_spec(&cli_options[*id], spec, sizeof spec);
        int col = fprintf(f, "  %-*s ", w, spec);
        put_words(f, cli_options[*id].help, col, w + 4);
        fputc('\n', f);
    }
}

int cli_help(FILE *f, const char *command)
{
    if (command) {
        const cli_command *c = cli_command_find(command);
        if (!c) {
            fprintf(stderr, "cnet: error: no help for unknown command '%s'\n", command);
            return CLI_EXIT_USAGE;
        }
        synopsis(f, c);
        fputs(c->text, f);
        if (c->opts[0] != CLI_END) {
            fputs("options:\n", f);
            option_lines(f, c);
        }
        return 0;
    }
    fputs("cnet - networks as cfg files, trained and evaluated from the command line\n\n"
          "usage: cnet COMMAND [options]   (cnet help COMMAND, or COMMAND --help)\n\n", f);
    for (size_t i = 0; i < cli_n_commands; i++) {
        synopsis(f, &cli_commands[i]);
        fputs(cli_commands[i].text, f);
    }
    return 0;
}
