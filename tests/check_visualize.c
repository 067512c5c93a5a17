/* check_visualize.c - the pictures of src/vis/visualize.c and `cnet
 * visualize`. Every PNG is read back with stb_image: its size is the one
 * its grid layout implies, and its tiles are not constant. A filter tile is
 * its weight row stretched to [0, 255]; a trained autoencoder's
 * reconstructions sit below their inputs and show the same bar; the library
 * writes the gnuplot script of the curves, and the command runs gnuplot on
 * it (curves.png when gnuplot is installed, a clear report when it is not);
 * the command writes the files and fails on a missing checkpoint or an
 * unusable --out. Several runs' filters side by side (--beside) make a
 * picture as wide as the panels and their gaps and as tall as the tallest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stb/stb_image.h>

#include "util.h"

/* The test AE on 1x8x8 inputs: 8 sigmoid codes, sigmoid reconstruction. */
#define AE_CFG "[net]\nbatch=8\ninput=1,8,8\nepochs=40\nseed=5\n[data]\ndir=%s\n" \
               "valid_fraction=0.25\n[optim]\ntype=adam\nlr=0.02\n[dense]\nname=enc\n" \
               "output=8\nactivation=sigmoid\n[dense]\noutput=64\nactivation=sigmoid\n" \
               "[mse]\ntarget=input\n"

/* The text of path (at most size-1 bytes). */
static void read_text(const char *path, char *text, size_t size)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s is missing", path);
    text[fread(text, 1, size - 1, f)] = 0;
    fclose(f);
}

/* The test AE's cfg (on a fresh dataset) in dir, and an untrained
 * checkpoint of it at ckpt; returns the cfg's path. */
static const char *untrained_ae(const char *dir, char *ckpt, size_t size)
{
    const char *data = tu_idx_dataset(32, 12, 8, 8, 4, 4);
    char text[1024];
    snprintf(text, sizeof text, AE_CFG, data);
    const char *cfg_path = tu_write(dir, "ae.cfg", text);
    cn_cfg *cfg = NULL;
    cn_net *net = NULL;
    cn_error err = {0};
    cn_ckpt_info info = {0};
    snprintf(ckpt, size, "%s/w.ckpt", dir);
    ck_assert_msg(cn_cfg_parse_file(cfg_path, &cfg, &err) == CN_OK &&
                  cn_net_create(cfg, &net, &err) == CN_OK &&
                  cn_ckpt_save(net, ckpt, &info, &err) == CN_OK, "%s", err.msg);
    cn_net_free(net);
    cn_cfg_free(cfg);
    return cfg_path;
}

/* Read path as RGB and check its size; the pixels are the caller's to free. */
static unsigned char *load_png(const char *path, int w, int h)
{
    int gw = 0, gh = 0, comp = 0;
    unsigned char *px = stbi_load(path, &gw, &gh, &comp, 3);
    ck_assert_msg(px != NULL, "%s: %s", path, stbi_failure_reason());
    ck_assert_msg(gw == w && gh == h, "%s is %dx%d, expected %dx%d", path, gw, gh, w, h);
    return px;
}

/* 1 when the tile at (x0, y0) of a w-wide RGB picture has two different bytes. */
static int tile_varies(const unsigned char *px, int w, int x0, int y0, int tw, int th)
{
    const unsigned char *first = px + 3 * ((size_t)y0 * w + x0);
    for (int y = y0; y < y0 + th; y++)
        for (int x = x0; x < x0 + tw; x++)
            if (memcmp(px + 3 * ((size_t)y * w + x), first, 3))
                return 1;
    return 0;
}

/* Row (of h source rows, each s pixels tall) of the tile with the largest mean red. */
static int brightest_row(const unsigned char *px, int w, int x0, int y0, int h, int s)
{
    int best = 0;
    double best_sum = -1;
    for (int r = 0; r < h; r++) {
        double sum = 0;
        for (int x = x0; x < x0 + h * s; x++)
            sum += px[3 * ((size_t)(y0 + r * s) * w + x)];
        if (sum > best_sum)
            best_sum = sum, best = r;
    }
    return best;
}

/* Dense filters: 5 rows of W over 1x8x8 inputs -> 3 x 2 grid of 16-pixel tiles
 * (scale 2); row 0 a ramp, row 1 its negative, each stretched to [0, 255]. */
START_TEST(test_filters_dense)
{
    cn_net *net = tu_net("[net]\nbatch=2\ninput=1,8,8\n[dense]\noutput=5\n[dense]\noutput=64\n"
                         "[mse]\ntarget=input\n");
    cn_param *W = cn_layer_param(cn_vis_first_param_layer(net), "W");
    ck_assert_ptr_nonnull(W);
    for (int j = 0; j < 64; j++)
        W->value[j] = 0.5f * j, W->value[64 + j] = -0.5f * j;
    char path[600];
    cn_error err = {0};
    snprintf(path, sizeof path, "%s/filters.png", tu_tmpdir());
    ck_assert_msg(cn_vis_filters(net, path, &err) == CN_OK, "%s", err.msg);
    int w = 3 * 16 + 2, h = 2 * 16 + 1;
    unsigned char *px = load_png(path, w, h);
    ck_assert_int_eq(px[0], 0);                            /* ramp start */
    ck_assert_int_eq(px[3 * (15 * w + 15)], 255);          /* ramp end (7, 7) scaled by 2 */
    ck_assert_int_eq(px[3 * (0 * w + 2)], 4);              /* 255 * 1/63, rounded */
    ck_assert_int_eq(px[3 * 17], 255);                     /* tile 1 is reversed */
    ck_assert_int_eq(px[3 * (15 * w + 17 + 15)], 0);
    for (int f = 2; f < 5; f++)
        ck_assert_msg(tile_varies(px, w, f % 3 * 17, f / 3 * 17, 16, 16), "tile %d flat", f);
    stbi_image_free(px);
    cn_net_free(net);
}
END_TEST

/* Conv kernels (F=6, C=3, 3x3) are RGB tiles scaled by 6; a dense layer of
 * 300 units shows only the first 256 (16 x 16 grid). */
START_TEST(test_filters_conv_and_cap)
{
    char path[600];
    cn_error err = {0};
    cn_net *net = tu_net("[net]\nbatch=2\ninput=3,8,8\n[conv]\nfilters=6\nsize=3\n");
    snprintf(path, sizeof path, "%s/conv.png", tu_tmpdir());
    ck_assert_msg(cn_vis_filters(net, path, &err) == CN_OK, "%s", err.msg);
    unsigned char *px = load_png(path, 3 * 18 + 2, 2 * 18 + 1);
    int color = 0;
    for (int y = 0; y < 18; y++)
        for (int x = 0; x < 18; x++) {
            const unsigned char *p = px + 3 * (y * 56 + x);
            color |= p[0] != p[1] || p[1] != p[2];
        }
    ck_assert_msg(color, "3-channel kernels should be drawn in colour");
    ck_assert(tile_varies(px, 56, 19, 19, 18, 18));
    stbi_image_free(px);
    cn_net_free(net);

    net = tu_net("[net]\nbatch=2\ninput=1,4,4\n[dense]\noutput=300\n");
    snprintf(path, sizeof path, "%s/cap.png", tu_tmpdir());
    ck_assert_msg(cn_vis_filters(net, path, &err) == CN_OK, "%s", err.msg);
    px = load_png(path, 16 * 16 + 15, 16 * 16 + 15);
    ck_assert(tile_varies(px, 271, 15 * 17, 15 * 17, 16, 16)); /* filter 255 is drawn */
    stbi_image_free(px);
    cn_net_free(net);
}
END_TEST

/* Panels side by side: two nets of 5 filters over 1x8x8 (3 x 2 tiles of 16
 * pixels: 50 x 33) and one of 10 over 1x4x4 (4 x 3 tiles of 16: 67 x 50),
 * CN_VIS_PANEL_GAP apart in separator colour, top-aligned. */
START_TEST(test_filters_side)
{
    const char *small = "[net]\nbatch=2\ninput=1,8,8\nseed=%d\n[dense]\noutput=5\n";
    char text[256], path[600];
    cn_net *net[3];
    for (int i = 0; i < 2; i++) {
        snprintf(text, sizeof text, small, i + 1);
        net[i] = tu_net(text);
    }
    net[2] = tu_net("[net]\nbatch=2\ninput=1,4,4\n[dense]\noutput=10\n");
    cn_error err = {0};
    snprintf(path, sizeof path, "%s/side.png", tu_tmpdir());
    ck_assert_msg(cn_vis_filters_side((const cn_net *const *)net, 3, path, &err) == CN_OK, "%s",
                  err.msg);
    int gap = CN_VIS_PANEL_GAP, w = 50 + gap + 50 + gap + 67, h = 50;
    unsigned char *px = load_png(path, w, h);
    static const unsigned char sep[3] = {70, 90, 130};
    for (int y = 0; y < h; y++)
        for (int x = 50; x < 50 + gap; x++)
            ck_assert_msg(!memcmp(px + 3 * (y * w + x), sep, 3), "gap pixel (%d, %d)", x, y);
    for (int y = 33; y < h; y++) /* below the shorter panels */
        ck_assert(!memcmp(px + 3 * (y * w + 10), sep, 3));
    ck_assert(tile_varies(px, w, 0, 0, 16, 16));
    ck_assert(tile_varies(px, w, 50 + gap, 0, 16, 16));
    ck_assert(tile_varies(px, w, 2 * (50 + gap) + 17, 2 * 17, 16, 16)); /* filter 9 */
    stbi_image_free(px);
    /* one panel is cn_vis_filters */
    ck_assert_msg(cn_vis_filters_side((const cn_net *const *)net, 1, path, &err) == CN_OK, "%s",
                  err.msg);
    stbi_image_free(load_png(path, 50, 33));
    for (int i = 0; i < 3; i++)
        cn_net_free(net[i]);
}
END_TEST

START_TEST(test_filters_errors)
{
    char path[600];
    cn_error err = {0};
    snprintf(path, sizeof path, "%s/f.png", tu_tmpdir());
    cn_net *net = tu_net("[net]\nbatch=2\ninput=1,4,4\n[sigmoid]\n");
    ck_assert_int_eq(cn_vis_filters(net, path, &err), CN_ERR_SHAPE);
    ck_assert_msg(strstr(err.msg, "test: no layer has parameters"), "%s", err.msg);
    cn_net_free(net);
    net = tu_net("[net]\nbatch=2\ninput=3,4,4\n[batchnorm]\nname=bn\n[dense]\noutput=2\n");
    ck_assert_int_eq(cn_vis_filters(net, path, &err), CN_ERR_SHAPE);
    ck_assert_msg(strstr(err.msg, "layer 'bn' (batchnorm), the first with parameters, has no "
                                  "weights W"), "%s", err.msg);
    ck_assert_int_eq(cn_vis_reconstructions(net, NULL, 4, path, &err), CN_ERR_CFG);
    ck_assert_msg(strstr(err.msg, "no loss has target=input"), "%s", err.msg);
    ck_assert_int_eq(access(path, F_OK), -1);
    cn_net_free(net);
    net = tu_net("[net]\nbatch=2\ninput=1,4,4\n[dense]\noutput=3\n");
    snprintf(path, sizeof path, "%s/no/such/dir/f.png", tu_tmpdir());
    ck_assert_int_eq(cn_vis_filters(net, path, &err), CN_ERR_IO);
    ck_assert_msg(strstr(err.msg, "f.png: cannot write PNG"), "%s", err.msg);
    cn_net_free(net);
}
END_TEST

/* Train the test AE on horizontal bars, then draw 20 test samples: two
 * bands of 16 columns, each input's bar row also brightest in the
 * reconstruction below it. The run's log.csv feeds the curves. */
START_TEST(test_reconstructions_and_curves)
{
    const char *data = tu_idx_dataset(64, 20, 8, 8, 4, 3), *dir = tu_tmpdir();
    char text[1024], path[600], run[600];
    snprintf(text, sizeof text, AE_CFG, data);
    cn_cfg *cfg = NULL;
    cn_net *net = NULL;
    cn_data *d = NULL;
    cn_error err = {0};
    ck_assert_msg(cn_cfg_parse_string("ae.cfg", text, &cfg, &err) == CN_OK &&
                  cn_net_create(cfg, &net, &err) == CN_OK &&
                  cn_data_open(cfg, cn_net_seed(net), &d, &err) == CN_OK, "%s", err.msg);
    cn_train_opts o = cn_train_defaults();
    snprintf(run, sizeof run, "%s/run", dir);
    o.run_dir = run;
    ck_assert_msg(cn_train(net, d, &o, &err) == CN_OK, "%s", err.msg);

    snprintf(path, sizeof path, "%s/recon.png", dir);
    ck_assert_msg(cn_vis_reconstructions(net, d->test, 32, path, &err) == CN_OK, "%s", err.msg);
    int w = 16 * 16 + 15, band = 2 * 16 + 1;
    unsigned char *px = load_png(path, w, 2 * band + 4);
    int agree = 0;
    for (int i = 0; i < 20; i++) {
        int x0 = i % 16 * 17, y0 = i / 16 * (band + 4), bar = d->test->labels[i] * 2;
        ck_assert_int_eq(brightest_row(px, w, x0, y0, 8, 2), bar);
        agree += brightest_row(px, w, x0, y0 + 17, 8, 2) == bar;
        ck_assert(tile_varies(px, w, x0, y0 + 17, 16, 16));
        /* 8 codes cannot carry the noise: the reconstruction is not a copy */
        int same = 1;
        for (int y = 0; y < 16; y++)
            same &= !memcmp(px + 3 * ((size_t)(y0 + y) * w + x0),
                            px + 3 * ((size_t)(y0 + 17 + y) * w + x0), 16 * 3);
        ck_assert_msg(!same, "reconstruction %d is a copy of its input", i);
    }
    ck_assert_msg(agree >= 18, "only %d of 20 reconstructions show their input's bar", agree);
    stbi_image_free(px);

    /* the library writes the script of the curves: 40 epochs inline, valid_loss too */
    char log[700], gp[700], script[8192], cmd[2048], out[8192];
    snprintf(log, sizeof log, "%s/log.csv", run);
    snprintf(gp, sizeof gp, "%s/curves.gp", dir);
    ck_assert_msg(cn_vis_curves_script(log, gp, "curves.png", &err) == CN_OK, "%s", err.msg);
    read_text(gp, script, sizeof script);
    ck_assert_msg(strstr(script, "set output 'curves.png'\n") && strstr(script, "\n40 ") &&
                  strstr(script, "title 'valid_loss'\n"), "%s", script);

    /* `cnet visualize` runs gnuplot on it in --out */
    if (system("command -v gnuplot > /dev/null 2>&1") != 0) {
        fprintf(stderr, "check_visualize: gnuplot is not installed, curves.png not tested\n");
    } else {
        const char *cfg_path = tu_write(dir, "ae.cfg", text);
        snprintf(cmd, sizeof cmd, "./cnet visualize %s --run-dir %s --out %s/vis", cfg_path, run,
                 dir);
        ck_assert_msg(tu_run(cmd, out, sizeof out) == 0, "%s", out);
        snprintf(path, sizeof path, "%s/vis/curves.png", dir);
        ck_assert_msg(strstr(out, path), "%s", out);
        px = load_png(path, CN_VIS_CURVES_WIDTH, CN_VIS_CURVES_HEIGHT);
        ck_assert(tile_varies(px, CN_VIS_CURVES_WIDTH, 0, 0, CN_VIS_CURVES_WIDTH,
                              CN_VIS_CURVES_HEIGHT));
        stbi_image_free(px);
        snprintf(path, sizeof path, "%s/vis/curves.gp", dir);
        ck_assert_int_eq(access(path, R_OK), 0);
    }
    cn_data_close(d);
    cn_net_free(net);
    cn_cfg_free(cfg);
}
END_TEST

/* A log without epochs is a format error and leaves no script; without
 * gnuplot on PATH, `cnet visualize` says to install it, still draws the
 * other pictures and keeps the script for a later run. */
START_TEST(test_curves_errors)
{
    const char *dir = tu_tmpdir();
    char gp[600], ckpt[600], cmd[2048], out[8192], path[700], text[2048];
    cn_error err = {0};
    snprintf(gp, sizeof gp, "%s/curves.gp", dir);
    const char *log = tu_write(dir, "empty.csv", "epoch,step,train_loss,valid_loss\n");
    ck_assert_int_eq(cn_vis_curves_script(log, gp, "curves.png", &err), CN_ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, "empty.csv: no epoch logged yet"), "%s", err.msg);
    ck_assert_int_eq(access(gp, F_OK), -1);
    log = tu_write(dir, "other.csv", "a,b\n1,2\n");
    ck_assert_int_eq(cn_vis_curves_script(log, gp, "curves.png", &err), CN_ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, "expected a header with 'epoch' and 'train_loss'"), "%s",
                  err.msg);
    snprintf(path, sizeof path, "%s/none.csv", dir);
    ck_assert_int_eq(cn_vis_curves_script(path, gp, "curves.png", &err), CN_ERR_IO);
    ck_assert_msg(strstr(err.msg, "none.csv: cannot open"), "%s", err.msg);
    log = tu_write(dir, "log.csv", "epoch,step,train_loss,mse,valid_loss,lr\n"
                   "1,10,0.5,0.5,nan,0.1\n2,20,0.3,0.3,nan,0.1\n");
    snprintf(path, sizeof path, "%s/no/such/curves.gp", dir);
    ck_assert_int_eq(cn_vis_curves_script(log, path, "curves.png", &err), CN_ERR_IO);
    ck_assert_msg(strstr(err.msg, "curves.gp: cannot write"), "%s", err.msg);

    const char *cfg_path = untrained_ae(dir, ckpt, sizeof ckpt);
    snprintf(cmd, sizeof cmd, "PATH=%s ./cnet visualize %s --weights %s --run-dir %s --out "
             "%s/vis", dir, cfg_path, ckpt, dir, dir);
    ck_assert_int_eq(tu_run(cmd, out, sizeof out), 1);
    snprintf(text, sizeof text, "cnet: error: gnuplot is not installed (Debian: apt-get install "
             "gnuplot-nox), so %s/vis/curves.png was not drawn\n", dir);
    ck_assert_msg(strstr(out, text), "%s", out);
    snprintf(path, sizeof path, "%s/vis/filters.png", dir);
    ck_assert_msg(access(path, R_OK) == 0 && strstr(out, path), "%s", out);
    /* the script stays: every loss term and the learning rate, each in its
     * panel, but no valid_loss curve when none was logged */
    snprintf(path, sizeof path, "%s/vis/curves.gp", dir);
    read_text(path, text, sizeof text);
    ck_assert_msg(strstr(text, "set output 'curves.png'\n") &&
                  strstr(text, "\n2 0.3 0.3 ? 0.1\n") &&
                  strstr(text, "set multiplot layout 2,1 ") &&
                  strstr(text, "using 1:2 with linespoints title 'train_loss', $log using 1:3 "
                               "with linespoints title 'mse'\n") &&
                  strstr(text, "set ylabel 'learning rate'\nplot $log using 1:5 with "
                               "linespoints title 'lr'\n") &&
                  !strstr(text, "'valid_loss'"), "%s", text);
}
END_TEST

START_TEST(test_command)
{
    const char *dir = tu_tmpdir();
    char ckpt[600], cmd[2048], out[8192], path[700];
    const char *cfg_path = untrained_ae(dir, ckpt, sizeof ckpt);

    snprintf(cmd, sizeof cmd, "./cnet visualize %s --weights %s --out %s/vis/deep --run-dir "
             "%s/run", cfg_path, ckpt, dir, dir);
    ck_assert_msg(tu_run(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "skipped ") && strstr(out, "curves.png: no "), "%s", out);
    const char *names[] = {"filters.png", "reconstructions.png"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/vis/deep/%s", dir, names[i]);
        ck_assert_msg(access(path, R_OK) == 0, "%s missing; output:\n%s", path, out);
    }
    /* --beside: a run folder (run.cfg, last.ckpt) twice beside the first run */
    snprintf(cmd, sizeof cmd, "mkdir -p %s/rb && cp %s %s/rb/run.cfg && cp %s %s/rb/last.ckpt",
             dir, cfg_path, dir, ckpt, dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "./cnet visualize %s --weights %s --out %s/vis/side --run-dir "
             "%s/run --beside %s/rb --beside %s/rb", cfg_path, ckpt, dir, dir, dir, dir);
    ck_assert_msg(tu_run(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(path, sizeof path, "%s/vis/side/filters.png", dir);
    stbi_image_free(load_png(path, 3 * 50 + 2 * CN_VIS_PANEL_GAP, 50));
    snprintf(cmd, sizeof cmd, "./cnet visualize %s --weights %s --out %s/vis/side --run-dir "
             "%s/run --beside %s/none", cfg_path, ckpt, dir, dir, dir);
    ck_assert_int_eq(tu_run(cmd, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "/none: cannot open: No such file"), "%s", out);
    snprintf(cmd, sizeof cmd, "./cnet visualize %s --weights %s/none.ckpt --out %s/vis", cfg_path,
             dir, dir);
    ck_assert_int_eq(tu_run(cmd, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "none.ckpt: cannot open checkpoint"), "%s", out);
    snprintf(cmd, sizeof cmd, "./cnet visualize %s --weights %s --out %s/sub", cfg_path, ckpt,
             cfg_path);
    ck_assert_int_eq(tu_run(cmd, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "cannot create the output folder"), "%s", out);
    snprintf(cmd, sizeof cmd, "./cnet visualize %s --weights %s", cfg_path, ckpt);
    ck_assert_int_eq(tu_run(cmd, out, sizeof out), 2);
    ck_assert_msg(strstr(out, "visualize needs --out DIR"), "%s", out);
}
END_TEST

Suite *visualize_suite(void)
{
    Suite *s = suite_create("visualize");
    TCase *tc = tcase_create("visualize");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_filters_dense);
    tcase_add_test(tc, test_filters_conv_and_cap);
    tcase_add_test(tc, test_filters_side);
    tcase_add_test(tc, test_filters_errors);
    tcase_add_test(tc, test_reconstructions_and_curves);
    tcase_add_test(tc, test_curves_errors);
    tcase_add_test(tc, test_command);
    suite_add_tcase(s, tc);
    return s;
}
