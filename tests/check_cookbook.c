/* check_cookbook.c - the cfgs and commands of docs/cookbook.md, and the
 * Table 1/2 baselines (cfg/baseline_*.cfg, cfg/independent_cnn.cfg), each run
 * through the cnet binary on a generated 28x28 dataset (256 training and 64
 * test images of 10 classes) instead of Fashion-MNIST: the shipped cfg
 * trained for one epoch (two steps of 128) to a finite loss, then
 * `cnet eval` on its run folder reporting the cookbook's metrics; the
 * beta-VAE override (`--set kl.weight=4`) weighting the KL in the loss but
 * not in the ELBO; the learning-rate sweep's `--set optim.lr`; and LCA's
 * figures with `--probe code`. The baselines report their Table 1 figures:
 * the linear probe of the code and recon_mse (the CNN: accuracy). */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* The cookbook's data: 10 classes of 28x28 images, made once per process. */
static const char *cookbook_data(void)
{
    static char dir[256];
    if (!*dir)
        snprintf(dir, sizeof dir, "%s", tu_idx_dataset(256, 64, 28, 28, 10, 17));
    return dir;
}

/* `cnet train CFG` for one epoch on the cookbook's data into a fresh run
 * folder, with the extra options `sets`; checks the epoch line's loss is
 * finite and returns the run folder (static buffer). */
static const char *train_one_epoch(const char *cfg, const char *sets)
{
    static char run[512];
    char cmd[2048], out[16384];
    snprintf(run, sizeof run, "%s/run", tu_tmpdir());
    snprintf(cmd, sizeof cmd, "./cnet train %s --set data.dir=%s --epochs 1 %s --run-dir %s "
             "< /dev/null", cfg, cookbook_data(), sets, run);
    ck_assert_msg(tu_run(cmd, out, sizeof out) == 0, "%s: %s", cmd, out);
    const char *line = strstr(out, "epoch 1/1 loss ");
    ck_assert_msg(line, "%s: %s", cmd, out);
    double loss = strtod(line + strlen("epoch 1/1 loss "), NULL);
    ck_assert_msg(isfinite(loss) && loss > 0, "%s: loss %g", cmd, loss);
    return run;
}

/* The value of "key" in `cnet eval --json` output; fails when it is
 * missing or not finite. */
static double json_get(const char *json, const char *key)
{
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *at = strstr(json, pat);
    ck_assert_msg(at, "no %s in %s", key, json);
    double v = strtod(at + strlen(pat), NULL);
    ck_assert_msg(isfinite(v), "%s = %g", key, v);
    return v;
}

/* `cnet eval RUN --json` on the test split; the output in out. */
static void eval_run(const char *run, char *out, size_t size)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "./cnet eval %s --split test --json", run);
    ck_assert_msg(tu_run(cmd, out, size) == 0, "%s: %s", cmd, out);
}

/* Recipe 1: the convolutional VAE trains and reports its ELBO and terms. */
START_TEST(test_conv_vae)
{
    char out[16384];
    eval_run(train_one_epoch("cfg/conv_vae.cfg", ""), out, sizeof out);
    double elbo = json_get(out, "neg_elbo"), kl = json_get(out, "neg_elbo_kl");
    double rec = json_get(out, "neg_elbo_recon");
    ck_assert_double_eq_tol(elbo, rec + kl, 1e-3 * elbo);
    ck_assert_double_eq_tol(json_get(out, "loss"), elbo, 1e-3 * elbo); /* weights 1 */
    ck_assert_double_gt(kl, 0);
}
END_TEST

/* Recipe 2: --set kl.weight=4 makes the loss recon + 4 KL while neg_elbo
 * stays recon + KL, and the run folder keeps the override for eval. */
START_TEST(test_beta_vae)
{
    char out[16384];
    eval_run(train_one_epoch("cfg/vae.cfg", "--set kl.weight=4 --set net.name=bvae4"), out,
             sizeof out);
    double kl = json_get(out, "loss_kl"), rec = json_get(out, "loss_recon");
    double loss = json_get(out, "loss");
    ck_assert_double_eq_tol(loss, rec + 4 * kl, 1e-3 * loss);
    ck_assert_double_eq_tol(json_get(out, "neg_elbo"), rec + kl, 1e-3 * loss);
}
END_TEST

/* Recipe 3: one point of the learning-rate sweep; run.cfg keeps its lr. */
START_TEST(test_lr_sweep_point)
{
    char out[16384], path[600];
    const char *run =
        train_one_epoch("cfg/mlp.cfg", "--set optim.lr=0.003 --set net.name=lr_0.003");
    eval_run(run, out, sizeof out);
    ck_assert_double_ge(json_get(out, "accuracy"), 0);
    snprintf(path, sizeof path, "%s/run.cfg", run);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    int found = 0;
    for (char line[256]; fgets(line, sizeof line, f);)
        found |= !strncmp(line, "lr = 0.003", 10);
    fclose(f);
    ck_assert_msg(found, "run.cfg without lr = 0.003");
}
END_TEST

/* Recipe 4: the semi-supervised clustering net (10% of 256 labels) trains
 * and reports accuracy and the clustering metrics of the same head. */
START_TEST(test_semi_cluster)
{
    char out[16384];
    eval_run(train_one_epoch("cfg/semi_cluster.cfg", ""), out, sizeof out);
    double acc = json_get(out, "accuracy"), cacc = json_get(out, "cluster_acc");
    ck_assert(acc >= 0 && acc <= 1 && cacc >= 0 && cacc <= 1);
    ck_assert_double_ge(cacc, acc - 1e-9); /* the matching can only do better */
    json_get(out, "nmi");
    json_get(out, "loss_sup");
    json_get(out, "loss_clu");
    json_get(out, "loss_rec");
}
END_TEST

/* Recipe 5: LCA with the entropy loss trains (inference in every step) and
 * reports the reconstruction, the codes' sparsity, the clusters and the
 * probe on the codes. */
START_TEST(test_lca_entropy)
{
    char out[16384], cmd[1024];
    const char *run = train_one_epoch("cfg/lca_entropy.cfg", "");
    snprintf(cmd, sizeof cmd, "./cnet eval %s --split test --json --probe code", run);
    ck_assert_msg(tu_run(cmd, out, sizeof out) == 0, "%s: %s", cmd, out);
    ck_assert_double_gt(json_get(out, "recon_mse"), 0);
    double zero = json_get(out, "code_near_zero"), cacc = json_get(out, "cluster_acc");
    ck_assert(zero >= 0 && zero <= 1 && cacc >= 0 && cacc <= 1);
    json_get(out, "nmi");
    json_get(out, "loss_entropy");
    double probe = json_get(out, "probe_accuracy");
    ck_assert(probe >= 0 && probe <= 1);
}
END_TEST

/* The baselines of Kamal & Bae's Tables 1 and 2: each cfg, the layer its
 * separability is probed on (NULL: a classifier, scored by accuracy) and a
 * metric only its kind reports (the ELBO of a VAE, D's loss of an AAE). */
static const struct baseline {
    const char *cfg, *probe, *metric;
} baselines[] = {
    {"cfg/baseline_ae.cfg", "z", "loss_rec"},
    {"cfg/baseline_dae.cfg", "z", "loss_rec"},
    {"cfg/baseline_vae.cfg", "mu", "neg_elbo"},
    {"cfg/baseline_dvae.cfg", "mu", "neg_elbo"},
    {"cfg/baseline_beta_vae.cfg", "mu", "neg_elbo"},
    {"cfg/baseline_aae.cfg", "z", "loss_d_fake"},
    {"cfg/baseline_daae.cfg", "z", "loss_d_fake"},
    {"cfg/independent_cnn.cfg", NULL, "macro_f1"},
};
enum { N_BASELINES = sizeof baselines / sizeof *baselines };

/* Each baseline trains one epoch and its eval reports its Table's figures
 * (a probe of two passes: the figure, not its quality, is checked). */
START_TEST(test_baseline)
{
    const struct baseline *b = &baselines[_i];
    char cmd[1024], probe[64] = "", out[16384];
    const char *run = train_one_epoch(b->cfg, "");
    if (b->probe)
        snprintf(probe, sizeof probe, " --probe %s --probe-epochs 2", b->probe);
    snprintf(cmd, sizeof cmd, "./cnet eval %s --split test --json%s", run, probe);
    ck_assert_msg(tu_run(cmd, out, sizeof out) == 0, "%s: %s", cmd, out);
    json_get(out, b->metric);
    double v = json_get(out, b->probe ? "probe_accuracy" : "accuracy");
    ck_assert_msg(v >= 0 && v <= 1, "%s: %g", b->cfg, v);
    if (b->probe)
        ck_assert_double_ge(json_get(out, "recon_mse"), 0);
}
END_TEST

/* Every cfg/baseline_*.cfg has a row above, so none goes untrained. */
START_TEST(test_baselines_listed)
{
    DIR *d = opendir("cfg");
    ck_assert_ptr_nonnull(d);
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, "baseline_", 9))
            continue;
        int found = 0;
        for (int i = 0; i < N_BASELINES; i++)
            found |= !strcmp(baselines[i].cfg + 4, e->d_name);
        ck_assert_msg(found, "cfg/%s has no row in baselines[]", e->d_name);
    }
    closedir(d);
}
END_TEST

Suite *cookbook_suite(void)
{
    Suite *s = suite_create("cookbook");
    TCase *tc = tcase_create("recipes");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_conv_vae);
    tcase_add_test(tc, test_beta_vae);
    tcase_add_test(tc, test_lr_sweep_point);
    tcase_add_test(tc, test_semi_cluster);
    tcase_add_test(tc, test_lca_entropy);
    suite_add_tcase(s, tc);
    TCase *tb = tcase_create("baselines");
    tcase_set_timeout(tb, 60);
    tcase_add_loop_test(tb, test_baseline, 0, N_BASELINES);
    tcase_add_test(tb, test_baselines_listed);
    suite_add_tcase(s, tb);
    return s;
}
