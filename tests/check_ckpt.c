/* check_ckpt.c - checkpoints: round trip of parameters, optimizer state and
 * RNG; and every kind of bad file refused with its message, leaving the
 * network as it was: not a regular file, damaged (with and without a right
 * checksum: each field by its offset), another network, another optimizer,
 * non-finite values; version 1 files still read. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
    /* make_net took 3 steps: 1 epoch of 2 batches, then 1 batch more */
    cn_ckpt_info info = {.epoch = 1, .best_valid = 0.25, .batch = 1, .batches = 2,
                         .epoch_loss = 1.5};
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
    ck_assert_int_eq(got.epoch, 1);
    ck_assert_int_eq(got.batch, 1);
    ck_assert_int_eq(got.batches, 2);
    ck_assert_int_eq(got.step, 3);
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
    ck_assert_msg(cn_ckpt_load(net, path, NULL, &err) != CN_OK, "loaded; want: %s", msg_start);
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

    snprintf(msg, sizeof msg, "%s: checkpoint of another network: tensor 1 (offset 184) is "
             "'dense1.W' (5x3), test.cfg has 'dense1.W' (6x3)", path);
    expect_refused(other, path, msg);

    ck_assert_int_eq(truncate(path, size - 10), 0);
    snprintf(msg, sizeof msg, "%s: truncated or padded checkpoint: %ld bytes, its header "
             "declares %ld", path, size - 10, size);
    expect_refused(a, path, msg);

    ck_assert_int_eq(cn_ckpt_save(a, path, NULL, &err), CN_OK);
    patch_byte(path, size / 2, 0x5a); /* a flipped byte inside the parameters */
    snprintf(msg, sizeof msg, "%s: checksum mismatch: the checkpoint is damaged", path);
    expect_refused(a, path, msg);

    ck_assert_int_eq(cn_ckpt_save(a, path, NULL, &err), CN_OK);
    patch_byte(path, 8, 99); /* the version field follows the 8-byte magic */
    snprintf(msg, sizeof msg, "%s: checkpoint format version 99, this cnet reads versions 1 "
             "and 2", path);
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
 * (which starts at byte 184; 144 in version 1) was read past its end. Now
 * the header's sizes are checked against the file's before the table is
 * read. */
START_TEST(test_other_net_truncated)
{
    char path[600];
    snprintf(path, sizeof path, "%s/a.ckpt", tu_tmpdir());
    cn_net *a = make_net(1, 5), *other = make_net(1, 6);
    cn_error err = {0};
    ck_assert_int_eq(cn_ckpt_save(a, path, NULL, &err), CN_OK);
    ck_assert_int_eq(truncate(path, 184 + 40), 0);
    ck_assert_int_eq(cn_ckpt_load(other, path, NULL, &err), CN_ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, ": damaged: its header (offsets 12-39) declares 4 tensors, "
                                  "38 parameter and ") != NULL, "%s", err.msg);
    cn_net_free(a);
    cn_net_free(other);
}
END_TEST

/* Anything but a regular file is refused at once, before any read: a
 * FIFO without a writer must not block, /dev/zero and /dev/urandom must
 * not be read without end. */
START_TEST(test_not_regular)
{
    const char *dir = tu_tmpdir();
    char fifo[600], msg[900];
    snprintf(fifo, sizeof fifo, "%s/fifo.ckpt", dir);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    cn_net *a = make_net(1, 5);
    snprintf(msg, sizeof msg, "%s: not a checkpoint: it is a directory, not a regular file", dir);
    expect_refused(a, dir, msg);
    snprintf(msg, sizeof msg, "%s: not a checkpoint: it is a FIFO, not a regular file", fifo);
    expect_refused(a, fifo, msg);
    expect_refused(a, "/dev/zero", "/dev/zero: not a checkpoint: it is a character device, not "
                                   "a regular file");
    expect_refused(a, "/dev/urandom", "/dev/urandom: not a checkpoint: it is a character "
                                      "device, not a regular file");
    cn_error err = {0};
    ck_assert_int_ne(cn_ckpt_load_weights(a, fifo, &err), CN_OK);
    ck_assert_str_eq(err.msg + strlen(fifo), ": not a checkpoint: it is a FIFO, not a regular "
                                             "file");
    cn_net_free(a);
}
END_TEST

/* path gets a's checkpoint with `info`; returns its size. */
static long save(cn_net *a, const char *path, const cn_ckpt_info *info)
{
    cn_error err = {0};
    ck_assert_msg(cn_ckpt_save(a, path, info, &err) == CN_OK, "%s", err.msg);
    return file_size(path);
}

/* One field set to an impossible value with the checksum made right: the
 * error names the field and its byte offset (docs/checkpoint.md). */
typedef struct damage {
    long offset;
    unsigned char bytes[32];
    size_t n;
    const char *msg; /* after "<path>: " */
} damage;

START_TEST(test_damaged_fields)
{
    char path[600], msg[900];
    snprintf(path, sizeof path, "%s/a.ckpt", tu_tmpdir());
    cn_net *a = make_net(1, 5); /* 3 steps */
    const cn_ckpt_info info = {.epoch = 1, .batch = 1, .batches = 2, .epoch_loss = 0.5,
                               .epoch_rng = {1, 2, 3, 4}, .best_valid = 1.0};
    const damage cases[] = {
        {80, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 8,
         "damaged at offset 80: epoch -1 is out of range (0 to 2147483647)"},
        {88, {2}, 1, "damaged at offset 88: batch 2 done of an epoch of 2 batches"},
        {72, {4}, 1, "damaged at offset 72: step 4, but 1 epochs of 2 batches and 1 batches "
                     "more make 3"},
        {72, {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 8,
         "damaged at offset 72: step -2 is negative"},
        {144, {0, 0, 0, 0x80}, 4, "damaged at offset 144: 2147483648 batches an epoch is out "
                                 "of range (0 to 2147483647)"},
        {128, {0, 0, 0, 0, 0, 0, 0xf8, 0x7f}, 8,
         "damaged at offset 128: the epoch's loss so far is nan after 1 batches"},
        {136, {0, 0, 0, 0, 0, 0, 0xf8, 0x7f}, 8,
         "damaged at offset 136: the best validation loss is nan"},
        {40, {0}, 32, "damaged at offset 40: the RNG state is all zeros"},
        {96, {0}, 32, "damaged at offset 96: the epoch's RNG state is all zeros"},
        {152, {'A', 'd', 'a', 'm'}, 4, "damaged at offset 152: the optimizer's type is not 1 to "
                                       "31 characters of [a-z0-9_+]"},
        {184, {'\n'}, 1, "damaged at offset 184: tensor 1's name is not 1 to 63 printable "
                         "characters"},
        {184 + 64, {3}, 1, "damaged at offset 184: tensor 'dense1.W' has shape 3x3 but 15 "
                           "values"},
        /* 6x3 and 18 values: consistent, but more than the header's total */
        {184 + 64, {6, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0}, 16, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        save(a, path, &info);
        tu_ckpt_patch(path, cases[i].offset, cases[i].bytes, cases[i].n);
        if (!cases[i].msg) {
            const unsigned char count[8] = {18};
            tu_ckpt_patch(path, 184 + 80, count, 8);
            snprintf(msg, sizeof msg, "%s: damaged at offset 448: tensor 'dense2.b' has 3 "
                     "values, but the header's 38 parameter values leave 0 for it", path);
        } else {
            snprintf(msg, sizeof msg, "%s: %s", path, cases[i].msg);
        }
        expect_refused(a, path, msg);
    }
    /* without the checksum fixed, any of them is plain damage */
    save(a, path, &info);
    patch_byte(path, 80, 0xff);
    snprintf(msg, sizeof msg, "%s: checksum mismatch: the checkpoint is damaged", path);
    expect_refused(a, path, msg);
    cn_net_free(a);
}
END_TEST

/* Shapes are compared even when the fingerprint is right; a different
 * fingerprint with every tensor the same is another network, but a
 * fingerprint changed by a flipped byte is damage, not another network. */
START_TEST(test_shapes_and_fingerprint)
{
    char path[600], msg[900];
    snprintf(path, sizeof path, "%s/a.ckpt", tu_tmpdir());
    cn_net *a = make_net(1, 5);
    const unsigned char dims[8] = {3, 0, 0, 0, 5, 0, 0, 0}; /* 3x5: the same 15 values */
    save(a, path, NULL);
    tu_ckpt_patch(path, 184 + 64, dims, sizeof dims);
    snprintf(msg, sizeof msg, "%s: checkpoint of another network: tensor 1 (offset 184) is "
             "'dense1.W' (3x5), test.cfg has 'dense1.W' (5x3)", path);
    expect_refused(a, path, msg);

    save(a, path, NULL);
    const unsigned char name[] = "dense1.V";
    tu_ckpt_patch(path, 184, name, sizeof name);
    snprintf(msg, sizeof msg, "%s: checkpoint of another network: tensor 1 (offset 184) is "
             "'dense1.V' (5x3), test.cfg has 'dense1.W' (5x3)", path);
    expect_refused(a, path, msg);

    const unsigned char fp[1] = {0};
    save(a, path, NULL);
    patch_byte(path, 16, 0);
    snprintf(msg, sizeof msg, "%s: checksum mismatch: the checkpoint is damaged", path);
    expect_refused(a, path, msg);
    tu_ckpt_patch(path, 16, fp, 1);
    snprintf(msg, sizeof msg, "%s: checkpoint of another network: its tensors match test.cfg's "
             "but its layers differ (fingerprint ", path);
    expect_refused(a, path, msg);
    cn_net_free(a);
}
END_TEST

/* A NaN parameter is refused by both loads, naming it; a NaN in the
 * optimizer's state by the full load only (eval does not use it). */
START_TEST(test_non_finite)
{
    char path[600], msg[900];
    snprintf(path, sizeof path, "%s/a.ckpt", tu_tmpdir());
    cn_net *a = make_net(1, 5), *b = make_net(2, 5);
    const float nan = NAN, inf = -INFINITY;
    cn_error err = {0};
    save(a, path, NULL);
    /* dense2.b[1]: after dense1.W (15), dense1.b (5), dense2.W (15) */
    tu_ckpt_patch(path, 536 + 36 * 4, &nan, 4);
    snprintf(msg, sizeof msg, "%s: the checkpoint has a non-finite value in parameter "
             "'dense2.b' (nan, element 1 at offset 680)", path);
    expect_refused(a, path, msg);
    ck_assert_int_eq(cn_ckpt_load_weights(b, path, &err), CN_ERR_NUMERIC);
    ck_assert_str_eq(err.msg, msg);

    save(a, path, NULL);
    /* Adam's v (after m, 38 values) of dense1.b[0]: element 38 + 15 */
    tu_ckpt_patch(path, 688 + (38 + 15) * 4, &inf, 4);
    snprintf(msg, sizeof msg, "%s: the checkpoint has a non-finite value in the adam "
             "optimizer's state for parameter 'dense1.b' (-inf, element 53 at offset 900)",
             path);
    expect_refused(a, path, msg);
    ck_assert_msg(cn_ckpt_load_weights(b, path, &err) == CN_OK, "%s", err.msg);
    size_t na, nb;
    float *pa = cn_net_param_arena(a, &na), *pb = cn_net_param_arena(b, &nb);
    ck_assert_int_eq(memcmp(pa, pb, na * sizeof *pa), 0);
    cn_net_free(a);
    cn_net_free(b);
}
END_TEST

/* A checkpoint of another optimizer (or of settings that change its
 * state) gives its weights, not a resume, and says why. */
START_TEST(test_other_optimizer)
{
    char path[600], msg[900];
    snprintf(path, sizeof path, "%s/a.ckpt", tu_tmpdir());
    cn_net *a = make_net(1, 5);
    cn_net *sgd = tu_net("[net]\nbatch=4\ninput=3\n[optim]\ntype=sgd\nmomentum=0.9\n"
                         "[dense]\noutput=5\nactivation=tanh\n[dense]\noutput=3\n"
                         "[mse]\ntarget=input\n");
    cn_net *plain = tu_net("[net]\nbatch=4\ninput=3\n[optim]\ntype=sgd\n"
                           "[dense]\noutput=5\nactivation=tanh\n[dense]\noutput=3\n"
                           "[mse]\ntarget=input\n");
    cn_error err = {0};
    save(a, path, NULL);
    snprintf(msg, sizeof msg, "%s: made with optimizer 'adam', but test.cfg has [optim] "
             "type=sgd: its weights load (cnet eval), its optimizer state cannot continue "
             "another optimizer; resume with type=adam, or start a new run", path);
    expect_refused(sgd, path, msg);
    ck_assert_msg(cn_ckpt_load_weights(sgd, path, &err) == CN_OK, "%s", err.msg);
    size_t na, nb;
    float *pa = cn_net_param_arena(a, &na), *pb = cn_net_param_arena(sgd, &nb);
    ck_assert_int_eq(memcmp(pa, pb, na * sizeof *pa), 0);

    save(sgd, path, NULL);
    snprintf(msg, sizeof msg, "%s: its sgd optimizer state has 38 values, test.cfg's [optim] "
             "keeps 0: a setting that changes the state differs (such as momentum=0); its "
             "weights load (cnet eval)", path);
    expect_refused(plain, path, msg);
    ck_assert_msg(cn_ckpt_load_weights(plain, path, &err) == CN_OK, "%s", err.msg);
    cn_net_free(a);
    cn_net_free(sgd);
    cn_net_free(plain);
}
END_TEST

/* dst = the version 1 form of the version 2 checkpoint src: the first 144
 * bytes of the header, entries without shapes, a new CRC. */
static void to_version1(const char *src, const char *dst, int n_params)
{
    long size = file_size(src);
    unsigned char *in = malloc((size_t)size), *out = malloc((size_t)size);
    ck_assert(in && out);
    FILE *f = fopen(src, "rb");
    ck_assert_uint_eq(fread(in, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    const uint32_t one = 1;
    size_t n = 0;
    memcpy(out, in, 144);
    memcpy(out + 8, &one, 4);
    n = 144;
    for (int i = 0; i < n_params; i++, n += 72) {
        memcpy(out + n, in + 184 + i * 88, 64);
        memcpy(out + n + 64, in + 184 + i * 88 + 80, 8);
    }
    long body = 184 + n_params * 88;
    memcpy(out + n, in + body, (size_t)(size - body));
    n += (size_t)(size - body);
    f = fopen(dst, "wb");
    ck_assert_uint_eq(fwrite(out, 1, n, f), n);
    fclose(f);
    tu_ckpt_patch(dst, 0, out, 8); /* the magic again; fixes the CRC */
    free(in);
    free(out);
}

/* Version 1 files (no shapes, no optimizer type) still load and resume. */
START_TEST(test_version1)
{
    char path[600], v1[600], msg[900];
    snprintf(path, sizeof path, "%s/a.ckpt", tu_tmpdir());
    snprintf(v1, sizeof v1, "%s/v1.ckpt", tu_tmpdir());
    cn_net *a = make_net(1, 5), *b = make_net(2, 5), *other = make_net(1, 6);
    cn_error err = {0};
    cn_ckpt_info info = {0};
    save(a, path, NULL);
    to_version1(path, v1, 4);
    ck_assert_msg(cn_ckpt_load(b, v1, &info, &err) == CN_OK, "%s", err.msg);
    ck_assert_int_eq(info.step, 3);
    ck_assert_int_eq(info.batches, 0);
    size_t na, nb;
    float *pa = cn_net_param_arena(a, &na), *pb = cn_net_param_arena(b, &nb);
    ck_assert_int_eq(memcmp(pa, pb, na * sizeof *pa), 0);
    snprintf(msg, sizeof msg, "%s: checkpoint of another network: tensor 1 (offset 144) is "
             "'dense1.W' (15 values), test.cfg has 'dense1.W' (18 values)", v1);
    expect_refused(other, v1, msg);
    cn_net_free(a);
    cn_net_free(b);
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
    tcase_add_test(tc, test_not_regular);
    tcase_add_test(tc, test_damaged_fields);
    tcase_add_test(tc, test_shapes_and_fingerprint);
    tcase_add_test(tc, test_non_finite);
    tcase_add_test(tc, test_other_optimizer);
    tcase_add_test(tc, test_version1);
    suite_add_tcase(s, tc);
    return s;
}
