/* check_ckpt.c - checkpoints: round trip of parameters, optimizer state and
 * RNG; and every kind of bad file refused with its message, leaving the
 * network as it was. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cnet/cnet.h"
#include "net_internal.h"
#include "util.h"

#define CKPT_CFG "[net]\nbatch=4\ninput=3\nseed=%d\n[optim]\ntype=adam\n[dense]\noutput=%d\n" \
                 "activation=tanh\n[dense]\noutput=3\n[mse]\ntarget=input\n"

static cn_net *make_net(int seed, int hidden)
{
    char cfg[512];
    snprintf(cfg, sizeof cfg, CKPT_CFG, seed, hidden);
    cn_net *net = tu_net(cfg);
    const float x[12] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f, 1, 0, 0.5f};
    cn_error err = {0};
    double loss;
    cn_net_set_batch(net, x, NULL, 4);
    for (int i = 0; i < 3; i++) /* non-zero optimizer state, advanced step count */
        ck_assert_int_eq(cn_net_train_step(net, &loss, &err), CN_OK);
    return net;
}

static long file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

static void patch_byte(const char *path, long offset, unsigned char value)
{
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    fseek(f, offset, SEEK_SET);
    fputc(value, f);
    fclose(f);
}

START_TEST(test_round_trip)
{
    char path[600];
    snprintf(path, sizeof path, "%s/a.ckpt", tu_tmpdir());
    cn_net *a = make_net(1, 5), *b = make_net(2, 5);
    cn_error err = {0};
    cn_ckpt_info info = {.epoch = 3, .best_valid = 0.25, .batch = 2, .epoch_loss = 1.5};
    info.epoch_rng[0] = 42;
    ck_assert_int_eq(cn_ckpt_save(a, path, &info, &err), CN_OK);
    cn_ckpt_info got = {0};
    ck_assert_msg(cn_ckpt_load(b, path, &got, &err) == CN_OK, "%s", err.msg);
    size_t na, nb;
    float *pa = cn_net_param_arena(a, &na), *pb = cn_net_param_arena(b, &nb);
    ck_assert_int_eq(memcmp(pa, pb, na * sizeof *pa), 0);
    cn_optim *oa = cn_net_optim(a), *ob = cn_net_optim(b);
    size_t ns = oa->ops->state_floats(oa);
    ck_assert_uint_gt(ns, 0);
    ck_assert_int_eq(memcmp(oa->ops->state_data(oa), ob->ops->state_data(ob), ns * 4), 0);
    ck_assert_int_eq(ob->t, 3);
    ck_assert_int_eq(memcmp(cn_net_rng(a), cn_net_rng(b), sizeof(cn_rng)), 0);
    ck_assert_int_eq(got.epoch, 3);
    ck_assert_int_eq(got.batch, 2);
    ck_assert(got.best_valid == 0.25 && got.epoch_loss == 1.5 && got.epoch_rng[0] == 42);
    /* no temporary file is left behind */
    char tmp[700];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    ck_assert_ptr_null(fopen(tmp, "rb"));
    cn_net_free(a);
    cn_net_free(b);
}
END_TEST

/* A refused checkpoint leaves the network untouched. */
static void expect_refused(cn_net *net, const char *path, const char *msg_start)
{
    size_t n;
    float *p = cn_net_param_arena(net, &n), *before = malloc(n * sizeof *p);
    ck_assert_ptr_nonnull(before);
    memcpy(before, p, n * sizeof *p);
    cn_error err = {0};
    ck_assert_int_ne(cn_ckpt_load(net, path, NULL, &err), CN_OK);
    ck_assert_msg(strncmp(err.msg, msg_start, strlen(msg_start)) == 0, "got: %s\nwant: %s",
                  err.msg, msg_start);
    ck_assert_int_eq(memcmp(before, p, n * sizeof *p), 0);
    free(before);
}

START_TEST(test_bad_files)
{
    const char *dir = tu_tmpdir();
    char path[600], msg[900];
    snprintf(path, sizeof path, "%s/a.ckpt", dir);
    cn_net *a = make_net(1, 5), *other = make_net(1, 6);
    cn_error err = {0};
    ck_assert_int_eq(cn_ckpt_save(a, path, NULL, &err), CN_OK);
    long size = file_size(path);

    snprintf(msg, sizeof msg, "%s: checkpoint of another network: parameter 1 is "
             "'dense1.W' (15 values), test.cfg expects 'dense1.W' (18)", path);
    expect_refused(other, path, msg);

    ck_assert_int_eq(truncate(path, size - 10), 0);
    snprintf(msg, sizeof msg, "%s: truncated or padded checkpoint: %ld bytes, expected %ld",
             path, size - 10, size);
    expect_refused(a, path, msg);

    ck_assert_int_eq(cn_ckpt_save(a, path, NULL, &err), CN_OK);
    patch_byte(path, size / 2, 0x5a); /* a flipped byte inside the parameters */
    snprintf(msg, sizeof msg, "%s: checksum mismatch: the checkpoint is damaged", path);
    expect_refused(a, path, msg);

    ck_assert_int_eq(cn_ckpt_save(a, path, NULL, &err), CN_OK);
    patch_byte(path, 8, 99); /* the version field follows the 8-byte magic */
    snprintf(msg, sizeof msg, "%s: checkpoint format version 99, this cnet reads version 1",
             path);
    expect_refused(a, path, msg);

    patch_byte(path, 0, 'X');
    snprintf(msg, sizeof msg, "%s: not a cnet checkpoint (bad magic)", path);
    expect_refused(a, path, msg);

    snprintf(path, sizeof path, "%s/missing.ckpt", dir);
    snprintf(msg, sizeof msg, "%s: cannot open checkpoint: No such file or directory", path);
    expect_refused(a, path, msg);
    cn_net_free(a);
    cn_net_free(other);
}
END_TEST

START_TEST(test_unwritable)
{
    cn_net *a = make_net(1, 5);
    cn_error err = {0};
    ck_assert_int_eq(cn_ckpt_save(a, "/nonexistent-dir/x.ckpt", NULL, &err), CN_ERR_IO);
    ck_assert_str_eq(err.msg, "/nonexistent-dir/x.ckpt.tmp: cannot write: No such file or "
                              "directory");
    cn_net_free(a);
}
END_TEST

/* Found by fuzz_ckpt: another network's file cut inside its parameter table
 * (which starts at byte 144) was read past its end. */
START_TEST(test_other_net_truncated)
{
    char path[600];
    snprintf(path, sizeof path, "%s/a.ckpt", tu_tmpdir());
    cn_net *a = make_net(1, 5), *other = make_net(1, 6);
    cn_error err = {0};
    ck_assert_int_eq(cn_ckpt_save(a, path, NULL, &err), CN_OK);
    ck_assert_int_eq(truncate(path, 144 + 40), 0);
    ck_assert_int_eq(cn_ckpt_load(other, path, NULL, &err), CN_ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, ": checkpoint of another network (4 parameter tensors, "
                                  "fingerprint ") != NULL, "%s", err.msg);
    cn_net_free(a);
    cn_net_free(other);
}
END_TEST

Suite *ckpt_suite(void)
{
    Suite *s = suite_create("ckpt");
    TCase *tc = tcase_create("ckpt");
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_bad_files);
    tcase_add_test(tc, test_unwritable);
    tcase_add_test(tc, test_other_net_truncated);
    suite_add_tcase(s, tc);
    return s;
}
