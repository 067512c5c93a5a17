/* check_cli.c - the `cnet` command line as a user meets it: exit statuses
 * (0, 1 runtime, 2 usage), error messages on stderr (those of the options
 * table among them), help printed from the tables, every shipped cfg
 * valid, a tiny train + eval round trip, a VAE's eval --iw and sample,
 * and docs/cfg.md equal to the reference generated from the key tables. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cnet/cnet.h"
#include "internal.h"
#include "util.h"

START_TEST(test_usage_errors)
{
    char out[8192];
    ck_assert_int_eq(tu_run("./cnet frobnicate", out, sizeof out), 2);
    ck_assert_str_eq(out, "cnet: error: unknown command 'frobnicate' (commands: train, eval, "
                          "kmeans, pca, summary, doc, visualize, plot, convert, sample, help)\n");
    ck_assert_int_eq(tu_run("./cnet train", out, sizeof out), 2);
    ck_assert_str_eq(out, "cnet: error: missing CFG (see cnet help train)\n");
    ck_assert_int_eq(tu_run("./cnet train cfg/ae.cfg --epoch 3", out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "unknown option '--epoch' (accepted: --set --epochs"));
    ck_assert_int_eq(tu_run("./cnet train cfg/ae.cfg --epochs x", out, sizeof out), 2);
    ck_assert_str_eq(out,
                     "cnet: error: --epochs expects an integer from 1 to 1000000, got 'x'\n");
    ck_assert_int_eq(tu_run("./cnet summary cfg/ae.cfg --set optim.lr", out, sizeof out), 2);
    ck_assert_str_eq(out, "cnet: error: --set 'optim.lr': expected section.key=value\n");
    ck_assert_int_eq(tu_run("./cnet eval cfg/ae.cfg --split dev", out, sizeof out), 2);
    ck_assert_int_eq(tu_run("./cnet help train", out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "cnet train CFG"));
    ck_assert_int_eq(tu_run("./cnet eval --help", out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "cnet eval CFG"));
}
END_TEST

START_TEST(test_runtime_errors)
{
    char out[8192];
    ck_assert_int_eq(tu_run("./cnet summary no/such.cfg", out, sizeof out), 1);
    ck_assert_str_eq(out, "cnet: error: no/such.cfg: cannot open: No such file or directory\n");
    const char *cfg = tu_write(tu_tmpdir(), "typo.cfg", "[net]\nbatch=2\ninput=4\n"
                               "[optim]\nlerning_rate=0.1\n[dense]\noutput=3\n");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "./cnet summary %s", cfg);
    ck_assert_int_eq(tu_run(cmd, out, sizeof out), 1);
    ck_assert_msg(strstr(out, ":5: unknown key 'lerning_rate' in [optim]"), "%s", out);
    snprintf(cmd, sizeof cmd, "./cnet summary %s --set optim.lr=abc --set optim.lerning_rate=1",
             cfg);
    ck_assert_int_eq(tu_run(cmd, out, sizeof out), 1);
}
END_TEST

/* The options table's messages, each with exit status 2: an unknown option,
 * one the command does not take, a missing value, values out of range, too
 * many arguments. */
START_TEST(test_option_table)
{
    static const struct {
        const char *args, *want;
    } runs[] = {
        {"eval cfg/ae.cfg --bogus", "unknown option '--bogus' (accepted: --set --weights --split "
         "--json --seed --run-dir --probe --probe-epochs --sparsity --jacobian --corrupt "
         "--gaussian --quantize --iw)"},
        {"summary cfg/ae.cfg --epochs 3", "option '--epochs' does not apply to summary "
         "(accepted: --set)"},
        {"kmeans cfg/ae.cfg --to-idx", "option '--to-idx' does not apply to kmeans (accepted: "
         "--set --split --k --seed)"},
        {"doc --json", "option '--json' does not apply to doc (accepted: --types)"},
        {"train cfg/ae.cfg --epochs", "--epochs needs a value"},
        {"eval cfg/ae.cfg --json --weights", "--weights needs a value"},
        {"kmeans cfg/ae.cfg --k 0", "--k expects an integer from 1 to 65536, got '0'"},
        {"train cfg/ae.cfg --seed -1", "--seed expects an integer from 0 to 2147483647, got '-1'"},
        {"train cfg/ae.cfg --seed 2147483648", "--seed expects an integer from 0 to 2147483647, "
         "got '2147483648'"},
        {"train cfg/ae.cfg --epochs 3x", "--epochs expects an integer from 1 to 1000000, got "
         "'3x'"},
        {"train cfg/ae.cfg --epochs 2147483648", "--epochs expects an integer from 1 to 1000000, "
         "got '2147483648'"},
        {"sample cfg/vae.cfg --out s.png --n 100001", "--n expects an integer from 1 to 100000, "
         "got '100001'"},
        {"eval cfg/ae.cfg --iw 0", "--iw expects an integer from 1 to 100000, got '0'"},
        {"eval cfg/ae.cfg --corrupt 1.5", "--corrupt expects a probability in [0, 1], got '1.5'"},
        {"eval cfg/ae.cfg --gaussian 1e", "--gaussian expects a number from 0 to 10, got '1e'"},
        {"pca cfg/ae.cfg --quantize 65537", "--quantize expects an integer from 2 to 65536, got "
         "'65537'"},
        {"plot p.csv", "plot needs --out FILE.png, the picture to write"},
        {"kmeans cfg/ae.cfg --split all", "--split expects test, valid or train, got 'all'"},
        {"train cfg/ae.cfg cfg/vae.cfg", "unexpected argument 'cfg/vae.cfg' (one CFG only)"},
        {"doc extra", "unexpected argument 'extra' (doc takes none)"},
        {"convert a b c d", "unexpected argument 'd' (convert takes 3)"},
        {"sample --n 4", "missing CFG|RUN_DIR (see cnet help sample)"},
    };
    char cmd[4096], out[4096], want[1024];
    for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
        snprintf(cmd, sizeof cmd, "./cnet %s", runs[i].args);
        snprintf(want, sizeof want, "cnet: error: %s\n", runs[i].want);
        ck_assert_msg(tu_run(cmd, out, sizeof out) == 2, "%s: %s", cmd, out);
        ck_assert_str_eq(out, want);
    }
    /* a repeatable option has a limit too */
    int n = snprintf(cmd, sizeof cmd, "./cnet summary cfg/ae.cfg");
    for (int i = 0; i < 65; i++)
        n += snprintf(cmd + n, sizeof cmd - (size_t)n, " --set net.batch=%d", i + 1);
    ck_assert_int_eq(tu_run(cmd, out, sizeof out), 2);
    ck_assert_str_eq(out, "cnet: error: at most 64 --set options\n");
}
END_TEST

/* Help comes from the same tables: a command's synopsis and option lines
 * name what it accepts, required options bare. */
START_TEST(test_help_from_tables)
{
    char out[16384];
    ck_assert_int_eq(tu_run("./cnet help eval", out, sizeof out), 0);
    ck_assert_msg(!strncmp(out, "cnet eval CFG|RUN_DIR [--set section.key=value]... [--weights "
                           "FILE]", 66) && strstr(out, "\noptions:\n"), "%s", out);
    static const char *const eval_opts[] = {"--set section.key=value", "--weights FILE",
        "--split test|valid|train", "--json", "--seed N", "--run-dir DIR", "--probe LAYER",
        "--probe-epochs N", "--sparsity LAYER", "--jacobian LAYER", "--corrupt Q",
        "--gaussian SIGMA", "--quantize Q", "--iw K"};
    for (size_t i = 0; i < sizeof eval_opts / sizeof *eval_opts; i++) {
        char line[64];
        snprintf(line, sizeof line, "\n  %s ", eval_opts[i]);
        ck_assert_msg(strstr(out, line), "no line for %s in:\n%s", eval_opts[i], out);
    }
    ck_assert_int_eq(tu_run("./cnet visualize --help", out, sizeof out), 0);
    ck_assert_msg(!strncmp(out, "cnet visualize CFG|RUN_DIR --out DIR [--set", 43), "%s", out);
    ck_assert_int_eq(tu_run("./cnet help", out, sizeof out), 0);
    static const char *const names[] = {"train", "eval", "kmeans", "pca", "summary", "doc",
                                        "visualize", "plot", "convert", "sample", "help"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char head[32], bare[32]; /* "cnet doc" has no arguments */
        snprintf(head, sizeof head, "\ncnet %s ", names[i]);
        snprintf(bare, sizeof bare, "\ncnet %s\n", names[i]);
        ck_assert_msg(strstr(out, head) || strstr(out, bare), "no %s in:\n%s", names[i], out);
    }
    ck_assert_int_eq(tu_run("./cnet help frobnicate", out, sizeof out), 2);
    ck_assert_str_eq(out, "cnet: error: no help for unknown command 'frobnicate'\n");
}
END_TEST

/* Every shipped cfg builds (cnet summary parses it and builds the net). */
START_TEST(test_shipped_cfgs_build)
{
    DIR *d = opendir("cfg");
    ck_assert_ptr_nonnull(d);
    int count = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".cfg"))
            continue;
        char cmd[600], out[16384];
        snprintf(cmd, sizeof cmd, "./cnet summary cfg/%s", e->d_name);
        ck_assert_msg(tu_run(cmd, out, sizeof out) == 0, "%s: %s", cmd, out);
        count++;
    }
    closedir(d);
    ck_assert_int_ge(count, 5);
}
END_TEST

START_TEST(test_train_eval_round_trip)
{
    const char *data = tu_idx_dataset(128, 64, 8, 8, 4, 9), *dir = tu_tmpdir();
    char text[1024], cmd[2048], out[16384];
    snprintf(text, sizeof text, "[net]\nbatch=16\ninput=1,8,8\nepochs=2\n[data]\ndir=%s\n"
             "valid_fraction=0.25\n[optim]\nlr=0.1\nmomentum=0.9\n[dense]\noutput=4\n"
             "[cce]\ntarget=label\n", data);
    const char *cfg = tu_write(dir, "tiny.cfg", text);
    snprintf(cmd, sizeof cmd, "./cnet train %s --run-dir %s/run < /dev/null", cfg, dir);
    ck_assert_msg(tu_run(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "epoch 2/2 loss "), "%s", out);
    snprintf(cmd, sizeof cmd, "./cnet eval %s --run-dir %s/run --json", cfg, dir);
    ck_assert_msg(tu_run(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strncmp(out, "{\"cfg\": ", 8) == 0 && strstr(out, "\"accuracy\": "), "%s",
                  out);
    snprintf(cmd, sizeof cmd, "./cnet eval %s --weights %s/none.ckpt", cfg, dir);
    ck_assert_int_eq(tu_run(cmd, out, sizeof out), 1);
    ck_assert_ptr_nonnull(strstr(out, "none.ckpt: cannot open checkpoint"));
}
END_TEST

/* summary names the layers that run as Winograd: lenet's 32 -> 64 5x5
 * convolution, not its first (one input channel). */
START_TEST(test_summary_algo)
{
    char out[8192];
    ck_assert_int_eq(tu_run("./cnet summary cfg/lenet.cfg", out, sizeof out), 0);
    ck_assert_msg(strstr(out, "\nconv3 runs as Winograd F(4x4,5x5) (its FLOPs above are the "
                              "direct convolution's)\n") && !strstr(out, "conv1 runs as"),
                  "%s", out);
    ck_assert_int_eq(tu_run("./cnet summary cfg/conv_ae.cfg", out, sizeof out), 0);
    ck_assert_msg(!strstr(out, "runs as"), "%s", out);
}
END_TEST

/* A cfg whose 3rd layer is bad: summary prints the input's and the first
 * two layers' rows, then the error, and exits 1. */
START_TEST(test_summary_partial)
{
    const char *dir = tu_tmpdir();
    char cmd[1024], out[8192], want[2048];
    tu_write(dir, "bad.cfg", "[net]\nbatch=2\ninput=1,4,4\n[dense]\noutput=8\n[reshape]\n"
                             "output=2,2,2\n[conv]\nfilters=2\nsize=7\n[dense]\noutput=3\n");
    snprintf(cmd, sizeof cmd, "./cnet summary %s/bad.cfg", dir);
    ck_assert_int_eq(tu_run(cmd, out, sizeof out), 1);
    snprintf(want, sizeof want,
             "#    name           type         inputs                 output             params "
             "  FLOPs/sample\n"
             "0    input          input        -                      1x4x4                   0 "
             "             0\n"
             "1    dense1         dense        input                  8                     136 "
             "           256\n"
             "2    reshape2       reshape      dense1                 2x2x2                   0 "
             "             0\n"
             "cnet: error: %s/bad.cfg:10: key 'size' = '7': layer 'conv3' (input 2x2x2) with "
             "size 7, pad 0 has an output smaller than 1x1: needs height and width + 2*pad >= "
             "size\n", dir);
    ck_assert_str_eq(out, want);
}
END_TEST

/* --profile names the OpenBLAS kernels, which OPENBLAS_CORETYPE chooses. */
START_TEST(test_profile_names_kernels)
{
    const char *data = tu_idx_dataset(64, 16, 8, 8, 4, 3), *dir = tu_tmpdir();
    char text[1024], cmd[2048], out[16384];
    snprintf(text, sizeof text, "[net]\nbatch=16\ninput=1,8,8\nepochs=1\n[data]\ndir=%s\n"
             "[dense]\noutput=4\n[cce]\ntarget=label\n", data);
    const char *cfg = tu_write(dir, "k.cfg", text);
    snprintf(cmd, sizeof cmd, "OPENBLAS_CORETYPE=Sandybridge ./cnet train %s --run-dir %s/run "
             "--profile < /dev/null", cfg, dir);
    ck_assert_msg(tu_run(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "  profile: data ") &&
                  strstr(out, "| OpenBLAS Sandybridge kernels\n"), "%s", out);
}
END_TEST

/* A tiny VAE: `cnet eval --iw` reports the bound, `cnet sample` writes a
 * picture (its size is checked in check_vae.c), --out is required. */
START_TEST(test_vae_commands)
{
    const char *data = tu_idx_dataset(128, 32, 4, 4, 4, 3), *dir = tu_tmpdir();
    char text[1024], cmd[2048], out[16384];
    snprintf(text, sizeof text, "[net]\nbatch=16\ninput=1,4,4\nepochs=2\n[data]\ndir=%s\n"
             "[optim]\ntype=adam\n[dense]\nname=mu\noutput=2\n[dense]\nname=lv\n"
             "from=input\noutput=2\n[sample]\nfrom=mu,lv\n[kl_gauss]\n[dense]\noutput=16\n"
             "activation=sigmoid\n[bce]\ntarget=input\nreduce=sum\n", data);
    const char *cfg = tu_write(dir, "vae.cfg", text);
    snprintf(cmd, sizeof cmd, "./cnet train %s --run-dir %s/run < /dev/null", cfg, dir);
    ck_assert_msg(tu_run(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(cmd, sizeof cmd, "./cnet eval %s --run-dir %s/run --iw 5", cfg, dir);
    ck_assert_msg(tu_run(cmd, out, sizeof out) == 0 && strstr(out, "  neg_elbo ") &&
                      strstr(out, "  iw_nll "), "%s", out);
    snprintf(cmd, sizeof cmd, "./cnet sample %s --run-dir %s/run --n 9 --out %s/s.png", cfg, dir,
             dir);
    ck_assert_msg(tu_run(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(cmd, sizeof cmd, "%s/s.png", dir);
    FILE *f = fopen(cmd, "rb");
    unsigned char sig[8] = {0};
    ck_assert_msg(f && fread(sig, 1, 8, f) == 8 && !memcmp(sig, "\x89PNG", 4), "no PNG");
    fclose(f);
    snprintf(cmd, sizeof cmd, "./cnet sample %s --run-dir %s/run", cfg, dir);
    ck_assert_int_eq(tu_run(cmd, out, sizeof out), 2);
    ck_assert_str_eq(out, "cnet: error: sample needs --out FILE.png, the picture to write\n");
    snprintf(cmd, sizeof cmd, "./cnet eval %s --run-dir %s/run --iw 0", cfg, dir);
    ck_assert_int_eq(tu_run(cmd, out, sizeof out), 2);
}
END_TEST

/* The README's list of section types is the registries' (cnet doc --types). */
START_TEST(test_readme_types)
{
    size_t gen_size;
    char *gen = tu_generated(cn_doc_types, &gen_size);
    static char readme[1 << 16];
    FILE *f = fopen("README.md", "rb");
    ck_assert_ptr_nonnull(f);
    readme[fread(readme, 1, sizeof readme - 1, f)] = '\0';
    fclose(f);
    ck_assert_msg(strstr(readme, gen), "README.md's list of section types is out of date: put "
                  "the output of `./cnet doc --types` in its place");
    free(gen);
}
END_TEST

/* docs/cfg.md is the generated reference: an undocumented key fails here. */
START_TEST(test_docs_current)
{
    size_t gen_size;
    char *gen = tu_generated(cn_doc_write, &gen_size);
    FILE *f = fopen("docs/cfg.md", "rb");
    ck_assert_msg(f != NULL, "docs/cfg.md is missing: run `./cnet doc > docs/cfg.md`");
    char *file = malloc(gen_size + 2);
    size_t n = fread(file, 1, gen_size + 1, f);
    fclose(f);
    ck_assert_msg(n == gen_size && !memcmp(file, gen, gen_size),
                  "docs/cfg.md is out of date: run `./cnet doc > docs/cfg.md`");
    /* every key of every table has a one-line meaning */
    ck_assert_ptr_null(strstr(gen, " |  |\n"));
    free(file);
    free(gen);
}
END_TEST

Suite *cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_usage_errors);
    tcase_add_test(tc, test_option_table);
    tcase_add_test(tc, test_help_from_tables);
    tcase_add_test(tc, test_runtime_errors);
    tcase_add_test(tc, test_shipped_cfgs_build);
    tcase_add_test(tc, test_train_eval_round_trip);
    tcase_add_test(tc, test_vae_commands);
    tcase_add_test(tc, test_docs_current);
    tcase_add_test(tc, test_readme_types);
    tcase_add_test(tc, test_profile_names_kernels);
    tcase_add_test(tc, test_summary_algo);
    tcase_add_test(tc, test_summary_partial);
    suite_add_tcase(s, tc);
    return s;
}
