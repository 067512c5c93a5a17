/* check_errors.c - bad input as a user gives it to `cnet` (docs/errors.md):
 * each row of the table writes its fixture files and cfg to a fresh folder,
 * runs the real ./cnet and asserts the exact stderr line and exit status
 * (1 runtime, 2 usage; a crash or a hang fails). Then a full disk (a file
 * size limit in a forked child) and an unwritable checkpoint, each leaving
 * the previous checkpoint intact; and losses with logs and divisions kept
 * finite on saturated inputs (0, 1, huge logits).
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stb/stb_image_write.h>
#include <zlib.h>

#include "cnet/cnet.h"
#include "internal.h"
#include "util.h"

/* cfg lines 1-8; layers start on line 9 */
#define HEAD "[net]\nbatch=8\ninput=1,4,4\nepochs=1\n[data]\ndir=%D\n[optim]\nlr=0.1\n"
/* [data] with one more key (line 7): layers start on line 10 */
#define HEAD_WITH(key) "[net]\nbatch=8\ninput=1,4,4\nepochs=1\n[data]\ndir=%D\n" key "\n" \
                       "[optim]\nlr=0.1\n"
/* HEAD with other [optim] lines */
#define HEAD_OPTIM(lines) "[net]\nbatch=8\ninput=1,4,4\nepochs=1\n[data]\ndir=%D\n" \
                          "[optim]\n" lines "\n"
#define CLS "[dense]\noutput=3\n[cce]\ntarget=label\n"
/* an image folder %T/train of 4x4 images; a CSV file %T/x.csv of 2 features */
#define IMG_CFG "[net]\nbatch=1\ninput=1,4,4\n[data]\ntype=imgdir\ndir=%T\nheight=4\nwidth=4\n" CLS
#define CSV_CFG "[net]\nbatch=1\ninput=2\n[data]\ntype=csv\ntrain_file=%T/x.csv\n" \
                "test_file=%T/x.csv\n" CLS

static void write_file(const char *dir, const char *name, const void *p, size_t n)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    fclose(f);
}

/* dir/name = a 3-D IDX file of n 4x4 images, or when labels, n labels y. */
static void write_idx(const char *dir, const char *name, int n, const unsigned char *y)
{
    char path[600];
    unsigned char x[64 * 16] = {0};
    int dims[4] = {n, 4, 4, 0};
    cn_error err = {0};
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ck_assert_msg(cn_idx_write(path, y ? 1 : 3, dims, y ? y : x, &err) == CN_OK, "%s", err.msg);
}

static void prep_magic(const char *dir, const char *data)
{
    (void)data;
    write_file(dir, "bad.idx", "\x12\x34\x56\x78\0\0\0\x01\x09", 9);
}

static void prep_short_header(const char *dir, const char *data)
{
    (void)data;
    write_file(dir, "bad.idx", "\0\0\x08\x03\0\0\0\x0a\0\0", 10);
}

/* a header of 10 4x4 images, then 100 of their 160 bytes */
static void prep_short_body(const char *dir, const char *data)
{
    unsigned char b[16 + 100] = {0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 4, 0, 0, 0, 4};
    (void)data;
    write_file(dir, "bad.idx", b, sizeof b);
}

static void prep_empty(const char *dir, const char *data)
{
    (void)data;
    write_file(dir, "bad.idx", "\0\0\x08\x03\0\0\0\0\0\0\0\x04\0\0\0\x04", 16);
}

static void prep_count(const char *dir, const char *data)
{
    unsigned char y[19] = {0};
    (void)data;
    write_idx(dir, "img.idx", 20, NULL);
    write_idx(dir, "lab.idx", 19, y);
}

/* 20 samples labelled i % 10, but sample 7 labelled 12 */
static void prep_label_range(const char *dir, const char *data)
{
    unsigned char y[20];
    (void)data;
    for (int i = 0; i < 20; i++)
        y[i] = (unsigned char)(i == 7 ? 12 : i % 10);
    write_idx(dir, "img.idx", 20, NULL);
    write_idx(dir, "lab.idx", 20, y);
}

static void prep_csv_nan(const char *dir, const char *data)
{
    (void)data;
    tu_write(dir, "x.csv", "label,a,b\n0,0.5,0.5\n1,0.25,nan\n");
}

static void prep_csv_huge(const char *dir, const char *data)
{
    (void)data;
    tu_write(dir, "x.csv", "0,1,1e38\n");
}

static void prep_file(const char *dir, const char *data)
{
    (void)data;
    tu_write(dir, "file", "a file where a folder should be\n");
}

/* last.ckpt.tmp is a folder, so the first checkpoint cannot be written */
static void prep_blocked(const char *dir, const char *data)
{
    char path[600];
    (void)data;
    snprintf(path, sizeof path, "%s/run", dir);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/run/last.ckpt.tmp", dir);
    ck_assert_int_eq(mkdir(path, 0755), 0);
}

/* dir/run/last.ckpt of HEAD CLS with [optim] `optim`, trained for one epoch */
static void train_with(const char *dir, const char *data, const char *optim)
{
    char text[1024], cmd[2048];
    snprintf(text, sizeof text, "[net]\nbatch=8\ninput=1,4,4\nepochs=1\n[data]\ndir=%s\n"
             "[optim]\n%s\n" CLS, data, optim);
    tu_write(dir, "a.cfg", text);
    snprintf(cmd, sizeof cmd, "./cnet train %s/a.cfg --run-dir %s/run >/dev/null 2>&1", dir, dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* dir/run/last.ckpt of HEAD CLS (plain SGD), trained for one epoch */
static void prep_trained(const char *dir, const char *data)
{
    train_with(dir, data, "lr=0.1");
}

/* Its checkpoint, n bytes at offset replaced and the checksum made right.
 * The file: a 184-byte header, 2 tensors of 88 bytes (dense1.W 3x16,
 * dense1.b), their 51 values from offset 360, the optimizer's state from 564. */
static void patch_trained(const char *dir, long offset, const void *bytes, size_t n)
{
    char path[600];
    snprintf(path, sizeof path, "%s/run/last.ckpt", dir);
    tu_ckpt_patch(path, offset, bytes, n);
}

static void prep_dir_fifo(const char *dir, const char *data)
{
    char path[600];
    (void)data;
    snprintf(path, sizeof path, "%s/run", dir);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/run/last.ckpt", dir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
}

static void prep_bad_epoch(const char *dir, const char *data)
{
    const int64_t epoch = -1;
    prep_trained(dir, data);
    patch_trained(dir, 80, &epoch, 8);
}

static void prep_bad_step(const char *dir, const char *data)
{
    const int64_t step = 9;
    prep_trained(dir, data);
    patch_trained(dir, 72, &step, 8);
}

/* dense1.W recorded as 16x3: the same 48 values, another shape */
static void prep_transposed(const char *dir, const char *data)
{
    const uint32_t dims[2] = {16, 3};
    prep_trained(dir, data);
    patch_trained(dir, 184 + 64, dims, sizeof dims);
}

static void prep_nan_weight(const char *dir, const char *data)
{
    const float nan = NAN;
    prep_trained(dir, data);
    patch_trained(dir, 360 + 5 * 4, &nan, 4);
}

/* Adam's first moment of dense1.W[2] made NaN */
static void prep_nan_state(const char *dir, const char *data)
{
    const float nan = NAN;
    train_with(dir, data, "type=adam\nlr=0.01");
    patch_trained(dir, 564 + 2 * 4, &nan, 4);
}

/* a checkpoint that does not record its batches an epoch (as version 1) */
/* prep_trained as a run that kept no run.cfg (an older cnet's, or one
 * trained through the library without its cfg): the checkpoint's own
 * checks are all a resume has. */
static void prep_trained_bare(const char *dir, const char *data)
{
    char path[600];
    prep_trained(dir, data);
    snprintf(path, sizeof path, "%s/run/run.cfg", dir);
    ck_assert_int_eq(unlink(path), 0);
}

static void prep_no_batches(const char *dir, const char *data)
{
    const int64_t batches = 0;
    prep_trained_bare(dir, data);
    patch_trained(dir, 144, &batches, 8);
}

/* A trained net (prep_trained) and a labels file with one out of range. */
static void prep_trained_label_range(const char *dir, const char *data)
{
    prep_trained(dir, data);
    prep_label_range(dir, data);
}

static void prep_flipped(const char *dir, const char *data)
{
    char path[600];
    prep_trained(dir, data);
    snprintf(path, sizeof path, "%s/run/last.ckpt", dir);
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    fseek(f, 200, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 200, SEEK_SET);
    fputc(c ^ 0x10, f);
    fclose(f);
}

/* dir/name: a sparse file of size bytes (zeros; no disk used). */
static void write_sparse(const char *dir, const char *name, off_t size)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(ftruncate(fileno(f), size), 0);
    fclose(f);
}

static void prep_big_cfg(const char *dir, const char *data)
{
    (void)data;
    write_sparse(dir, "big.cfg", (off_t)3 << 30);
}

static void prep_fifo(const char *dir, const char *data)
{
    char path[600];
    (void)data;
    snprintf(path, sizeof path, "%s/fifo.idx", dir);
    ck_assert_int_eq(mkfifo(path, 0644), 0);
}

/* dir/name, gzip'd: the n bytes p, then `zeros` zero bytes. */
static void write_gz(const char *dir, const char *name, const void *p, unsigned n, size_t zeros)
{
    char path[600];
    static const unsigned char z[1 << 16];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    gzFile g = gzopen(path, "wb");
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(gzwrite(g, p, n), (int)n);
    for (size_t k = 0; k < zeros; k += sizeof z)
        ck_assert_int_eq(gzwrite(g, z, sizeof z), (int)sizeof z);
    gzclose(g);
}

/* 1000 x 1000 x 1000 images announced by a gzip file of a few dozen bytes */
static void prep_gz_short(const char *dir, const char *data)
{
    static const unsigned char h[16] = {0, 0, 8, 3, 0, 0, 3, 0xe8, 0, 0, 3, 0xe8, 0, 0, 3, 0xe8};
    (void)data;
    write_gz(dir, "short.idx.gz", h, sizeof h, 0);
}

/* one 2x2 image, then 16 MiB of zeros in the same stream */
static void prep_gz_bomb(const char *dir, const char *data)
{
    static const unsigned char h[20] = {0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4};
    (void)data;
    write_gz(dir, "bomb.idx.gz", h, sizeof h, (size_t)16 << 20);
}

/* a CSV whose first line is 2 MiB of "0," */
static void prep_csv_long(const char *dir, const char *data)
{
    size_t n = (size_t)2 << 20;
    char *line = malloc(n + 2);
    ck_assert_ptr_nonnull(line);
    for (size_t k = 0; k < n; k++)
        line[k] = k % 2 ? ',' : '0';
    memcpy(line + n, "0", 2);
    (void)data;
    tu_write(dir, "x.csv", line);
    free(line);
}

static void prep_csv_big(const char *dir, const char *data)
{
    (void)data;
    write_sparse(dir, "x.csv", (off_t)3 << 30);
}

/* dir/train/0/, for one image */
static void prep_class(const char *dir)
{
    char path[600];
    snprintf(path, sizeof path, "%s/train", dir);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/train/0", dir);
    ck_assert_int_eq(mkdir(path, 0755), 0);
}

static void prep_image_big(const char *dir, const char *data)
{
    (void)data;
    prep_class(dir);
    write_sparse(dir, "train/0/a.png", (off_t)20 << 20);
}

static void prep_image_fifo(const char *dir, const char *data)
{
    char path[600];
    (void)data;
    prep_class(dir);
    snprintf(path, sizeof path, "%s/train/0/a.png", dir);
    ck_assert_int_eq(mkfifo(path, 0644), 0);
}

/* a 4x4 grey PNG whose IHDR gives colour type 7, which PNG does not have */
static void prep_png_ctype(const char *dir, const char *data)
{
    char path[600];
    unsigned char px[16] = {0};
    (void)data;
    prep_class(dir);
    snprintf(path, sizeof path, "%s/train/0/a.png", dir);
    ck_assert(stbi_write_png(path, 4, 4, 1, px, 4));
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    fseek(f, 25, SEEK_SET);
    fputc(7, f);
    fclose(f);
}

/* %T/p.csv: a header and a line whose x is not a number */
static void prep_points_bad(const char *dir, const char *data)
{
    static const char text[] = "model,bits,rmse\nae,1,0.5\nae,abc,1\n";
    (void)data;
    write_file(dir, "p.csv", text, sizeof text - 1);
}

/* %T/p.csv: a header only */
static void prep_points_none(const char *dir, const char *data)
{
    static const char text[] = "model,bits,rmse\n\n";
    (void)data;
    write_file(dir, "p.csv", text, sizeof text - 1);
}

/* One bad input: the fixture files (prep), the cfg written to %T/x.cfg,
 * the arguments of ./cnet, the exit status and stderr exactly ('*' matches
 * any text). %T is the test's folder, %D a good dataset (64 training and
 * 16 test images of 4x4, 3 classes), %C the cfg's path. */
typedef struct row {
    const char *name;
    void (*prep)(const char *dir, const char *data);
    const char *cfg, *args;
    int status;
    const char *want;
} row;

static const row rows[] = {
    /* the cfg file */
    {"cfg_device", NULL, HEAD CLS, "summary /dev/zero", 1,
     "/dev/zero: cannot read: it is a character device, not a regular file"},
    {"cfg_too_big", prep_big_cfg, HEAD CLS, "summary %T/big.cfg", 1,
     "%T/big.cfg: cannot read: it holds 3221225472 bytes; a cfg file may hold at most 1 MiB"},
    /* cfg semantics */
    {"negative_size", NULL, HEAD "[dense]\noutput=-5\n", "summary %C", 1,
     "%C:10: key 'output' expects an integer in [1, 16777216], got '-5'"},
    {"zero_size", NULL, HEAD "[conv]\nfilters=0\n", "summary %C", 1,
     "%C:10: key 'filters' expects an integer in [1, 65536], got '0'"},
    {"absurd_size", NULL,
     HEAD "[dense]\nname=wide\noutput=2000000\n[dense]\noutput=100\n[dense]\noutput=2000000\n"
     "[dense]\noutput=100\n", "summary %C", 1, "%C:16: [dense]: layer 'dense4' (output 100, "
     "batch 8) brings the network to 9.7 GiB, more than the 8 GiB a network may use"},
    {"key_out_of_range", NULL, HEAD "[conv]\nfilters=2\nsize=2000\n", "summary %C", 1,
     "%C:11: key 'size' expects an integer in [1, 1024], got '2000'"},
    {"threads_out_of_range", NULL, HEAD CLS, "summary %C --set net.threads=65", 1,
     "--set 'net.threads=65': key 'threads' expects an integer in [0, 64], got '65'"},
    {"epochs_option_range", NULL, HEAD CLS, "train %C --epochs 4294967296", 2,
     "--epochs expects an integer from 1 to 1000000, got '4294967296'"},
    {"tensor_over_cap", NULL, HEAD "[dense]\nname=wide\noutput=16777216\n[dense]\noutput=1000\n",
     "summary %C", 1, "%C:12: [dense]: layer 'dense2': parameter 'W' (1000 x 16777216 x 1 x 1) "
     "has 1.678e+10 values, which with gradient and optimizer state need 250.0 GiB, more than "
     "the 8 GiB a network may use"},
    {"output_too_large", NULL, HEAD "[upsample]\nfactor=1024\n[upsample]\nfactor=1024\n",
     "summary %C", 1, "%C:11: [upsample]: layer 'upsample2' has output 1x4194304x4194304: at "
     "most 16777216 channels and 1048576 rows and columns"},
    {"missing_key", NULL, HEAD "[dense]\n[cce]\n", "summary %C", 1,
     "%C:9: [dense] needs key 'output' (output features (may be left out with tie or share))"},
    {"unknown_value", NULL, HEAD "[dense]\noutput=3\nactivation=relux\n", "summary %C", 1,
     "%C:11: key 'activation' expects one of linear, sigmoid, tanh, relu, leaky, got 'relux'"},
    {"unknown_optimizer", NULL, HEAD "[dense]\noutput=3\n", "summary %C --set optim.type=rms",
     1, "--set 'optim.type=rms': key 'type' expects one of sgd, adam, adamw, got 'rms'"},
    {"bad_float", NULL, HEAD "[dense]\noutput=3\n", "summary %C --set optim.lr=fast", 1,
     "--set 'optim.lr=fast': key 'lr' expects a finite number in (0, inf), got 'fast'"},
    {"self_reference", NULL, HEAD "[dense]\nname=a\noutput=3\nfrom=a\n", "summary %C", 1,
     "%C:12: key 'from' = 'a': layer 'a' cannot read itself (a cycle); a layer may only read "
     "layers above it"},
    {"kernel_too_big", NULL, HEAD "[conv]\nfilters=2\nsize=7\n", "summary %C", 1,
     "%C:11: key 'size' = '7': layer 'conv1' (input 1x4x4) with size 7, pad 0 has an output "
     "smaller than 1x1: needs height and width + 2*pad >= size"},
    {"concat_shapes", NULL, HEAD "[conv]\nfilters=2\nsize=3\n[route]\nfrom=-1,input\n",
     "summary %C", 1, "%C:13: key 'from' = '-1,input': layer 'route2' cannot concatenate "
     "'conv1' (2x2x2) and 'input' (1x4x4): channels join only when height and width are equal"},
    {"tie_wrong_shape", NULL, HEAD "[dense]\nname=e\noutput=3\n[dense]\noutput=7\n"
     "[dense]\ntie=e\n", "summary %C", 1, "%C:15: key 'tie' = 'e': layer 'dense3' (input 7) "
     "cannot use the transpose of 'e' W (3 x 16): needs input 3"},
    {"tie_output", NULL, HEAD "[dense]\nname=e\noutput=3\n[dense]\noutput=5\ntie=e\n",
     "summary %C", 1, "%C:13: key 'output' = '5': layer 'dense2' is tied to 'e' and outputs 16 "
     "(the input size of 'e'); leave output out or set it to 16"},
    {"loss_layer_kind", NULL, HEAD "[dense]\noutput=3\n[kl_sparse]\n", "summary %C", 1,
     "%C:11: [kl_sparse]: layer 'dense1' (dense, 3) has activation linear, so its output is "
     "not bounded in (0, 1); attach kl_sparse to a [sigmoid] or [softmax] layer or to one "
     "with activation=sigmoid"},
    {"loss_target_kind", NULL, HEAD "[dense]\noutput=3\nactivation=sigmoid\n[kl_sparse]\n"
     "target=label\n", "summary %C", 1,
     "%C:13: key 'target' = 'label': [kl_sparse] accepts target none"},
    {"loss_missing_layer", NULL, HEAD "[dense]\noutput=3\n[cce]\nlayer=nope\n", "summary %C",
     1, "%C:12: key 'layer' = 'nope': no layer named 'nope' above this section (layers so "
     "far: input, dense1)"},
    /* authoring (rows 160-) */
    {"reshape_count", NULL, HEAD "[dense]\nname=fc\noutput=12\n[reshape]\noutput=2,2,2\n",
     "summary %C", 1, "%C:13: key 'output' = '2,2,2': layer 'reshape2' cannot give its input "
     "'fc' ([dense], line 9, output 12) the shape 2x2x2: 8 values where the input has 12 (a "
     "reshape keeps every value)"},
    {"softmax_twice", NULL, HEAD "[dense]\noutput=3\n[softmax]\n[entropy]\ninput=logits\n",
     "summary %C", 1, "%C:13: key 'input' = 'logits': [entropy] would apply its own softmax to "
     "layer 'softmax2' ([softmax], line 11, output 3), which already outputs probabilities (a "
     "softmax of a softmax); leave input out (auto reads them as probabilities) or attach the "
     "loss to the layer before the softmax"},
    {"target_flat_spatial", NULL, HEAD "[dense]\nname=fc\noutput=8\n[deconv]\nfilters=1\n"
     "size=2\nstride=2\n[mse]\ntarget=input\n", "summary %C", 1,
     "%C:17: key 'target' = 'input': layer 'deconv2' ([deconv], line 12, output 1x2x2) does not "
     "match target 'input' ([net] input 1x4x4): 4 values against 16; the shapes part at "
     "'deconv2' ([deconv], line 12, output 1x2x2), which reads the flat output of 'fc' "
     "([dense], line 9, output 8) as 8 channels of 1x1: put [reshape] output=C,H,W after 'fc' "
     "to give it height and width"},
    /* adversarial building blocks (rows 180-) */
    {"share_other_type", NULL, HEAD "[sigmoid]\nname=s\n[dense]\nshare=s\n", "summary %C", 1,
     "%C:12: key 'share' = 's': layer 's' is a [sigmoid]; a [dense] layer shares only another "
     "[dense] layer's parameters"},
    {"share_other_size", NULL, HEAD "[dense]\nname=D\noutput=3\n[dense]\noutput=5\n[dense]\n"
     "share=D\n", "summary %C", 1, "%C:15: key 'share' = 'D': layer 'dense3' (input 5) cannot "
     "use the parameters of 'D' ([dense], line 9, output 3), which reads 16 values: a shared "
     "layer's input has the size of its owner's"},
    {"share_later", NULL, HEAD "[dense]\nshare=D\n[dense]\nname=D\noutput=2\n", "summary %C",
     1, "%C:10: key 'share' = 'D': layer 'D' is defined later (line 11); a layer may only read "
     "layers above it"},
    {"share_output", NULL, HEAD "[dense]\nname=D\noutput=3\n[dense]\nfrom=input\nshare=D\n"
     "output=4\n", "summary %C", 1, "%C:15: key 'output' = '4': layer 'dense2' shares 'D' "
     "([dense], line 9, output 3) and takes its output from it (output = 3); leave output out "
     "or set it to 3"},
    {"share_activation", NULL, HEAD "[dense]\nname=D\noutput=3\nactivation=sigmoid\n[dense]\n"
     "from=input\nshare=D\nactivation=relu\n", "summary %C", 1, "%C:16: key 'activation' = "
     "'relu': layer 'dense2' shares 'D' ([dense], line 9, output 3) and takes its activation "
     "from it (activation = sigmoid); leave activation out or set it to sigmoid"},
    {"share_bias", NULL, HEAD "[dense]\nname=D\noutput=3\n[dense]\nfrom=input\nshare=D\n"
     "bias=0\n", "summary %C", 1, "%C:15: key 'bias' = '0': layer 'dense2' shares 'D' ([dense], "
     "line 9, output 3) and takes its bias from it (bias = 1); leave bias out or set it to 1"},
    {"share_and_tie", NULL, HEAD "[dense]\nname=D\noutput=3\n[dense]\nfrom=input\nshare=D\n"
     "tie=D\n", "summary %C", 1, "%C:14: key 'share' = 'D': layer 'dense2' has both tie and "
     "share; it uses either another W transposed (tie) or another layer's parameters as they "
     "are (share)"},
    {"share_conv_channels", NULL, HEAD "[conv]\nname=c\nfilters=2\n[conv]\nshare=c\n",
     "summary %C", 1, "%C:13: key 'share' = 'c': layer 'conv2' (input 2x2x2) cannot use the "
     "parameters of 'c' ([conv], line 9, output 2x2x2), whose input has 1 channels: a shared "
     "layer's input has its owner's channels"},
    {"share_conv_size", NULL, HEAD "[conv]\nname=c\nfilters=2\n[conv]\nfrom=input\nshare=c\n"
     "size=2\n", "summary %C", 1, "%C:15: key 'size' = '2': layer 'conv2' shares 'c' ([conv], "
     "line 9, output 2x2x2) and takes its size from it (size = 3); leave size out or set it "
     "to 3"},
    {"group_unknown", NULL, HEAD "[dense]\noutput=3\ngroup=disc\n", "summary %C", 1,
     "%C:11: key 'group' = 'disc': layer 'dense1': no [optim] section has name = disc (groups: "
     "default)"},
    {"loss_group_unknown", NULL, HEAD "[dense]\noutput=16\n[mse]\ntarget=input\ngroups=gen\n",
     "summary %C", 1, "%C:13: key 'groups' = 'gen': loss 'mse': 'gen' is not a group (groups: "
     "default; a leading - trains the group against the loss)"},
    {"loss_group_twice", NULL, HEAD "[dense]\noutput=16\n[mse]\ntarget=input\n"
     "groups=default, -default\n", "summary %C", 1, "%C:13: key 'groups' = 'default, -default': "
     "loss 'mse': group 'default' is listed twice"},
    {"optim_second_unnamed", NULL, HEAD "[optim]\nlr=0.2\n[dense]\noutput=3\n", "summary %C", 1,
     "%C:9: [optim]: a second [optim] for group 'default' (the first on line 7): each [optim] "
     "after the first needs a name, the group its layers name with group="},
    {"group_trains_nothing", NULL, HEAD "[optim]\nname=disc\n[dense]\noutput=3\n", "summary %C",
     1, "%C:9: [optim] group 'disc' trains nothing: no layer with trainable parameters has "
     "group = disc"},
    {"group_bad_name", NULL, HEAD "[optim]\nname=a-b\n[dense]\noutput=3\n", "summary %C", 1,
     "%C:10: key 'name' = 'a-b': 'a-b' is not a group name: 1 to 31 characters of "
     "[A-Za-z0-9_]"},
    {"group_steps_range", NULL, HEAD "[optim]\nname=disc\nsteps=0\n[dense]\noutput=3\n",
     "summary %C", 1, "%C:11: key 'steps' expects an integer in [1, 1000], got '0'"},
    {"prior_key_of_other_type", NULL, HEAD "[prior]\ntype=categorical\noutput=3\nsigma=2\n",
     "summary %C", 1, "%C:12: key 'sigma' = '2': applies only to type=gaussian and "
     "type=mixture"},
    {"prior_mixture_flat", NULL, HEAD "[prior]\ntype=mixture\noutput=1\n", "summary %C", 1,
     "%C:11: key 'output' = '1': layer 'prior1': type=mixture places its centres in two "
     "dimensions and needs output >= 2"},
    /* [lca] and [l2norm] keys */
    {"lca_no_size", NULL, HEAD "[lca]\nlambda=0.1\n" CLS, "summary %C", 1,
     "%C:9: [lca] needs key 'size' (M: code units, one per dictionary atom)"},
    {"lca_tau_below_one", NULL, HEAD "[lca]\nsize=4\ntau=0.5\n" CLS, "summary %C", 1,
     "%C:11: key 'tau' expects a finite number in [1, inf), got '0.5'"},
    {"lca_threshold_unknown", NULL, HEAD "[lca]\nsize=4\nthreshold=firm\n" CLS, "summary %C",
     1, "%C:11: key 'threshold' expects one of soft, hard, got 'firm'"},
    {"lca_negative_lambda", NULL, HEAD "[lca]\nsize=4\nlambda=-0.1\n" CLS, "summary %C", 1,
     "%C:11: key 'lambda' expects a finite number in [0, inf), got '-0.1'"},
    {"lca_no_steps", NULL, HEAD "[lca]\nsize=4\n" CLS, "summary %C --set lca.steps=0", 1,
     "--set 'lca.steps=0': key 'steps' expects an integer in [1, 100000], got '0'"},
    {"l2norm_eps_zero", NULL, HEAD "[l2norm]\neps=0\n" CLS, "summary %C", 1,
     "%C:10: key 'eps' expects a finite number in (0, inf), got '0'"},
    {"conv_flat_input", NULL, HEAD "[dense]\nname=fc\noutput=8\n[conv]\nfilters=2\nsize=3\n",
     "summary %C", 1, "%C:14: key 'size' = '3': layer 'conv2' (input 8) with size 3, pad 0 has "
     "an output smaller than 1x1: needs height and width + 2*pad >= size; its input 'fc' "
     "([dense], line 9, output 8) is a flat vector (8 channels of 1x1): put [reshape] "
     "output=C,H,W after 'fc' to give it height and width"},
    {"dense_shaped_output", NULL, HEAD "[dense]\noutput=64,7,7\n", "summary %C", 1,
     "%C:10: key 'output' = '64,7,7': a [dense] layer outputs a flat vector (N x 1 x 1); for "
     "this shape set output=3136 and follow the layer with [reshape] output=64,7,7"},
    /* command line and --set */
    {"bad_split", NULL, HEAD CLS, "eval %C --split dev", 2,
     "--split expects test, valid or train, got 'dev'"},
    {"set_unknown_section", NULL, HEAD CLS, "summary %C --set dense1.output=2", 2,
     "--set 'dense1.output=2': no section named or typed 'dense1' in %C"},
    {"set_unknown_key", NULL, HEAD CLS, "summary %C --set net.bogus=1", 1,
     "--set 'net.bogus=1': unknown key 'bogus' in [net] (accepted: batch, input, seed, epochs, "
     "name, threads, monitor, patience, min_delta, alternate)"},
    {"set_bad_value", NULL, HEAD CLS, "summary %C --set net.batch=-3", 1,
     "--set 'net.batch=-3': key 'batch' expects an integer in [1, 65536], got '-3'"},
    /* baselines and rate measurements (rows 132-139) */
    {"pca_k_too_large", NULL, HEAD CLS, "pca %C --k 17", 2,
     "pca: K = 17 components, but a sample has 16 values: K must be from 1 to 16"},
    {"pca_k_zero", NULL, HEAD CLS, "pca %C --k 0", 2,
     "--k expects an integer from 1 to 65536, got '0'"},
    {"quantize_without_code", NULL, HEAD CLS, "eval %C --quantize 4", 2,
     "--quantize needs --sparsity LAYER, the code layer to quantize"},
    {"quantize_one_level", NULL, HEAD CLS, "eval %C --sparsity dense1 --quantize 1", 2,
     "--quantize expects an integer from 2 to 65536, got '1'"},
    {"quantize_no_decoder", prep_trained, HEAD CLS,
     "eval %C --weights %T/run/last.ckpt --sparsity dense1 --quantize 4", 2,
     "quantize: x has no reconstruction loss (target=input) after layer 'dense1' to decode "
     "its code"},
    {"gaussian_range", NULL, HEAD CLS, "eval %C --gaussian -0.5", 2,
     "--gaussian expects a number from 0 to 10, got '-0.5'"},
    {"plot_bad_line", prep_points_bad, HEAD CLS, "plot %T/p.csv --out %T/p.png", 1,
     "%T/p.csv:3: expected series,x,y with numbers x and y, got 'ae,abc,1'"},
    {"plot_no_points", prep_points_none, HEAD CLS, "plot %T/p.csv --out %T/p.png", 1,
     "%T/p.csv: no points (expected lines of series,x,y after the header)"},
    {"plot_out_not_png", prep_points_none, HEAD CLS, "plot %T/p.csv --out %T/p.svg", 2,
     "--out '%T/p.svg': expected a file name ending in .png"},
    /* datasets */
    {"data_dir_missing", NULL, HEAD CLS, "train %C --set data.dir=%T/none", 1,
     "dataset '%T/none' not found: No such file or directory"},
    {"data_file_missing", NULL, HEAD CLS, "train %C --set data.train_labels=nope.gz", 1,
     "%D/nope.gz: cannot open: No such file or directory"},
    {"idx_scale_inf", NULL, HEAD_WITH("scale=-1e37") CLS, "train %C", 1,
     "%C:7: key 'scale' = '-1e37': a byte of 255 would read as -1e+37 * 255, which is not a "
     "finite float: |scale| must be at most 1.33444e+36"},
    {"idx_magic", prep_magic, HEAD_WITH("train_images=%T/bad.idx") CLS, "train %C", 1,
     "%T/bad.idx: not an IDX file of unsigned bytes (magic 0x000008NN expected, NN = 01 to 04 "
     "dimensions; found 0x12345678)"},
    {"idx_short_header", prep_short_header, HEAD_WITH("train_images=%T/bad.idx") CLS,
     "train %C", 1, "%T/bad.idx: truncated header: expected 16 bytes, found 10"},
    {"idx_short_body", prep_short_body, HEAD_WITH("train_images=%T/bad.idx") CLS, "train %C", 1,
     "%T/bad.idx: truncated: expected 160 bytes of data after the 16-byte header, found 100"},
    {"idx_empty", prep_empty, HEAD_WITH("train_images=%T/bad.idx") CLS, "train %C", 1,
     "%T/bad.idx: dimension 1 of 3 is 0, expected 1 to 2147483647"},
    {"label_count", prep_count, HEAD_WITH("train_images=%T/img.idx\ntrain_labels=%T/lab.idx")
     CLS, "train %C", 1, "%T/img.idx holds 20 images but %T/lab.idx holds 19 labels"},
    {"label_range", prep_label_range,
     HEAD_WITH("train_images=%T/img.idx\ntrain_labels=%T/lab.idx")
     "[dense]\noutput=10\n[cce]\ntarget=label\n", "train %C", 1,
     "the labels of %T/img.idx: sample 7 has label 12, but loss 'cce' (line 13) reads layer "
     "'dense1' with 10 outputs, so labels must be 0 to 9"},
    {"eval_label_range", prep_trained_label_range,
     HEAD_WITH("test_images=%T/img.idx\ntest_labels=%T/lab.idx") CLS,
     "eval %C --weights %T/run/last.ckpt", 1,
     "the labels of %T/img.idx: sample 3 has label 3, but loss 'cce' (line 13) reads layer "
     "'dense1' with 3 outputs, so labels must be 0 to 2"},
    {"no_training_left", NULL, HEAD CLS,
     "train %C --set data.limit=1 --set data.valid_fraction=0.9", 1,
     "--set 'data.valid_fraction=0.9': key 'valid_fraction' = '0.9': holding out 1 of 1 "
     "samples leaves none for training"},
    {"no_labelled_sample", NULL, HEAD_WITH("label_fraction=0") CLS, "train %C", 1,
     "loss 'cce' (line 12) needs labels, but none of the 64 training samples of "
     "%D/train-images-idx3-ubyte.gz has one (label_fraction or label_mask keeps none); label "
     "some (the [data] keys label_fraction and label_mask choose which keep theirs) or remove "
     "the loss"},
    {"onehot_label_range", prep_label_range,
     HEAD_WITH("train_images=%T/img.idx\ntrain_labels=%T/lab.idx")
     "[onehot]\nfrom=input\nclasses=10\n[dense]\noutput=16\n[mse]\ntarget=input\n", "train %C",
     1, "the labels of %T/img.idx: sample 7 has label 12, but layer 'onehot1' ([onehot], line "
     "11) reads labels of 10 classes, so labels must be 0 to 9"},
    {"onehot_no_labels", NULL, HEAD_WITH("label_fraction=0") "[onehot]\nfrom=input\nclasses=3\n"
     "[dense]\noutput=16\n[mse]\ntarget=input\n", "train %C", 1,
     "layer 'onehot1' ([onehot], line 10) reads labels, but none of the 64 training samples of "
     "%D/train-images-idx3-ubyte.gz has one (label_fraction or label_mask keeps none); label "
     "some (the [data] keys label_fraction and label_mask choose which keep theirs) or remove "
     "the layer"},
    {"batch_too_large", NULL, HEAD CLS, "train %C --set net.batch=100", 1,
     "%C: batch 100 is larger than the training split (64 samples)"},
    {"input_shape", NULL, HEAD CLS, "train %C --set net.input=1,5,5", 1,
     "%C: [net] input has 25 values per sample but the dataset %D/train-images-idx3-ubyte.gz "
     "has 1x4x4"},
    {"csv_nan", prep_csv_nan, "[net]\nbatch=1\ninput=2\n[data]\ntype=csv\n"
     "train_file=%T/x.csv\ntest_file=%T/x.csv\nheader=1\n" CLS, "train %C", 1,
     "%T/x.csv:3:3: expected a finite number, got 'nan' (sample 1)"},
    {"csv_overflow", prep_csv_huge, "[net]\nbatch=1\ninput=2\n[data]\ntype=csv\n"
     "train_file=%T/x.csv\ntest_file=%T/x.csv\nscale=10\n" CLS, "train %C", 1,
     "%T/x.csv:1: feature 2 times scale 10 is not a finite float (sample 0)"},
    {"data_fifo", prep_fifo, HEAD_WITH("train_images=%T/fifo.idx") CLS, "train %C", 1,
     "%T/fifo.idx: cannot read: it is a FIFO (named pipe), not a regular file"},
    {"data_dir_as_file", NULL, HEAD_WITH("train_images=%T") CLS, "train %C", 1,
     "%T: cannot read: it is a directory, not a regular file"},
    {"label_mask_device", NULL, HEAD_WITH("label_mask=/dev/urandom") CLS, "train %C", 1,
     "label_mask /dev/urandom: cannot read: it is a character device, not a regular file"},
    {"idx_gzip_short", prep_gz_short, HEAD_WITH("train_images=%T/short.idx.gz") CLS,
     "train %C", 1, "%T/short.idx.gz: truncated: expected 1000000000 bytes of data after the "
     "16-byte header, but a gzip file of * bytes inflates to at most *"},
    {"idx_gzip_bomb", prep_gz_bomb, HEAD_WITH("train_images=%T/bomb.idx.gz") CLS, "train %C",
     1, "%T/bomb.idx.gz: at least 65536 bytes of trailing data after the 4 bytes the header "
     "announces"},
    {"csv_long_line", prep_csv_long, CSV_CFG, "train %C", 1,
     "%T/x.csv:1: line longer than 1048576 bytes (the longest a CSV line may be)"},
    {"csv_too_big", prep_csv_big, CSV_CFG, "train %C", 1,
     "%T/x.csv: cannot read: it holds 3221225472 bytes; a CSV file may hold at most 2 GiB"},
    {"image_too_big", prep_image_big, IMG_CFG, "train %C", 1,
     "%T/train/0/a.png: cannot read: it holds 20971520 bytes; an image of 4x4 pixels may hold "
     "at most 16777472 bytes"},
    {"image_fifo", prep_image_fifo, IMG_CFG, "train %C", 1,
     "%T/train/0/a.png: cannot read: it is a FIFO (named pipe), not a regular file"},
    {"png_corrupt", prep_png_ctype, IMG_CFG, "train %C", 1,
     "%T/train/0/a.png: cannot decode image: corrupt or unsupported PNG (stb_image: bad ctype)"},
    {"diverging", NULL, HEAD "[dense]\noutput=3\n[cce]\ntarget=label\n",
     "train %C --set optim.lr=1e38 --set optim.momentum=0.9 --run-dir %T/run", 1,
     "training stopped before its first checkpoint: epoch 1, batch * (step *): the total "
     "loss * is over 1e+06 times the run's first batch's (*): training diverges; loss 'cce' "
     "(line 11) is *; the first layer whose output left its range is 'dense1' ([dense], line "
     "9): largest |output| *, * at the first batch"},
    /* checkpoints and the run folder */
    {"ckpt_other_net", prep_trained, HEAD "[dense]\nname=h\noutput=5\n" CLS,
     "eval %C --weights %T/run/last.ckpt", 1, "%T/run/last.ckpt: checkpoint of another "
     "network: tensor 1 (offset 184) is 'dense1.W' (3x16), %C has 'h.W' (5x16)"},
    {"ckpt_flipped_byte", prep_flipped, HEAD CLS, "eval %C --weights %T/run/last.ckpt", 1,
     "%T/run/last.ckpt: checksum mismatch: the checkpoint is damaged"},
    {"ckpt_not_ckpt", NULL, HEAD CLS, "eval %C --weights %C", 1,
     "%C: not a cnet checkpoint (bad magic)"},
    {"resume_nothing", NULL, HEAD CLS, "train %C --resume --run-dir %T/run", 1,
     "cannot resume: %T/run has no checkpoint (no %T/run/last.ckpt: the run saved none, e.g. "
     "it stopped before its first epoch ended); start it afresh"},
    {"run_dir_file", prep_file, HEAD CLS, "train %C --run-dir %T/file/run", 1,
     "%T/file/run: cannot create run folder: Not a directory"},
    {"ckpt_unwritable", prep_blocked, HEAD CLS, "train %C --run-dir %T/run", 1,
     "%T/run/last.ckpt.tmp: cannot write: Is a directory"},
    /* checkpoints validated before they are trusted (rows 140-) */
    {"ckpt_directory", NULL, HEAD CLS, "eval %C --weights %T", 1,
     "%T: not a checkpoint: it is a directory, not a regular file"},
    {"ckpt_fifo", prep_dir_fifo, HEAD CLS, "train %C --resume --run-dir %T/run", 1,
     "cannot resume: %T/run/last.ckpt: not a checkpoint: it is a FIFO, not a regular file"},
    {"ckpt_dev_zero", NULL, HEAD CLS, "eval %C --weights /dev/zero", 1,
     "/dev/zero: not a checkpoint: it is a character device, not a regular file"},
    {"ckpt_bad_epoch", prep_bad_epoch, HEAD CLS, "eval %C --weights %T/run/last.ckpt", 1,
     "%T/run/last.ckpt: damaged at offset 80: epoch -1 is out of range (0 to 2147483647)"},
    {"ckpt_bad_step", prep_bad_step, HEAD CLS, "train %C --resume --run-dir %T/run", 1,
     "cannot resume: %T/run/last.ckpt: damaged at offset 72: step 9, but 1 epochs of 8 "
     "batches and 0 batches more make 8"},
    {"ckpt_other_shape", prep_transposed, HEAD CLS, "eval %C --weights %T/run/last.ckpt", 1,
     "%T/run/last.ckpt: checkpoint of another network: tensor 1 (offset 184) is 'dense1.W' "
     "(16x3), %C has 'dense1.W' (3x16)"},
    {"ckpt_nan_weight", prep_nan_weight, HEAD CLS, "eval %C --weights %T/run/last.ckpt", 1,
     "%T/run/last.ckpt: the checkpoint has a non-finite value in parameter 'dense1.W' (nan, "
     "element 5 at offset 380)"},
    {"ckpt_nan_state", prep_nan_state, HEAD_OPTIM("type=adam\nlr=0.01") CLS,
     "train %C --resume --run-dir %T/run", 1,
     "cannot resume: %T/run/last.ckpt: the checkpoint has a non-finite value in the adam "
     "optimizer's state for parameter 'dense1.W' (nan, element 2 at offset 572)"},
    {"resume_other_optim", prep_trained_bare, HEAD_OPTIM("type=adam\nlr=0.01") CLS,
     "train %C --resume --run-dir %T/run", 1,
     "cannot resume: %T/run/last.ckpt: made with optimizer 'sgd', but %C has [optim] "
     "type=adam: its weights load (cnet eval), its optimizer state cannot continue another "
     "optimizer; resume with type=sgd, or start a new run"},
    {"resume_other_batches", prep_trained_bare, HEAD CLS,
     "train %C --resume --run-dir %T/run --set net.batch=4", 1,
     "cannot resume: %T/run/last.ckpt was saved with 8 batches an epoch, this run has 16 (64 "
     "samples in batches of 4): the batch size or the training split changed"},
    {"resume_settings_refused", prep_trained, HEAD_OPTIM("type=adam\nlr=0.01") CLS,
     "train %C --resume --run-dir %T/run --set net.batch=4", 1,
     "cannot resume %T/run: %C differs from the run's settings (%T/run/run.cfg) where a resume "
     "would make another run: net.batch 8 -> 4; optim.type (default) -> adam; train afresh "
     "into another folder (--run-dir), or resume with the run's settings"},
    {"resume_position", prep_no_batches, HEAD CLS,
     "train %C --resume --run-dir %T/run --set net.batch=4", 1,
     "cannot resume: %T/run/last.ckpt is at step 8, epoch 1, batch 0, which 16 batches an "
     "epoch (64 samples in batches of 4) do not make: the batch size or the training split "
     "changed"},
};

/* tmpl with %T, %D and %C replaced. */
static void expand(const char *tmpl, const char *dir, const char *data, const char *cfg,
                   char *out, size_t size)
{
    size_t n = 0;
    for (const char *p = tmpl; *p && n + 1 < size; p++) {
        const char *sub = NULL;
        if (p[0] == '%' && (p[1] == 'T' || p[1] == 'D' || p[1] == 'C'))
            sub = p[1] == 'T' ? dir : p[1] == 'D' ? data : cfg;
        if (sub) {
            n += (size_t)snprintf(out + n, size - n, "%s", sub);
            n = n < size ? n : size - 1;
            p++;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
}

/* s matches pattern, where '*' stands for any text. */
static int matches(const char *pat, const char *s)
{
    if (*pat == '*')
        return matches(pat + 1, s) || (*s && matches(pat, s + 1));
    return *pat == *s && (!*s || matches(pat + 1, s + 1));
}

START_TEST(test_bad_input)
{
    const row *r = &rows[_i];
    const char *dir = tu_tmpdir();
    const char *data = tu_idx_dataset(64, 16, 4, 4, 3, 7);
    char cfg[600], text[2048], args[2048], cmd[4096], want[2100], got[2048] = "";
    snprintf(cfg, sizeof cfg, "%s/x.cfg", dir);
    if (r->prep)
        r->prep(dir, data);
    expand(r->cfg, dir, data, cfg, text, sizeof text);
    tu_write(dir, "x.cfg", text);
    expand(r->args, dir, data, cfg, args, sizeof args);
    snprintf(cmd, sizeof cmd, "./cnet %s >/dev/null 2>%s/stderr </dev/null", args, dir);
    int st = system(cmd);
    ck_assert_msg(WIFEXITED(st), "%s: ./cnet %s did not exit (status %d)", r->name, args, st);
    snprintf(text, sizeof text, "%s/stderr", dir);
    FILE *f = fopen(text, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(got, 1, sizeof got - 1, f);
    got[n] = '\0';
    fclose(f);
    expand(r->want, dir, data, cfg, text, sizeof text);
    snprintf(want, sizeof want, "cnet: error: %s\n", text);
    ck_assert_msg(WEXITSTATUS(st) == r->status, "%s: exit %d, expected %d\n%s", r->name,
                  WEXITSTATUS(st), r->status, got);
    ck_assert_msg(matches(want, got), "%s:\n got: %s want: %s", r->name, got, want);
}
END_TEST

static long slurp(const char *path, char *buf, long size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    long n = (long)fread(buf, 1, (size_t)size, f);
    fclose(f);
    return n;
}

/* A full disk while writing the checkpoints of epoch 2: RLIMIT_FSIZE below
 * a checkpoint's size in the child (SIGXFSZ ignored, so write() fails with
 * EFBIG). The error names the file (best.ckpt, written first when the epoch
 * improved, or last.ckpt), the status is 1, both previous checkpoints are
 * intact, last.ckpt loads, and no temporary file is left. */
START_TEST(test_disk_full)
{
    const char *dir = tu_tmpdir(), *data = tu_idx_dataset(64, 16, 4, 4, 3, 7);
    static char before[2][1 << 16], after[1 << 16];
    static const char *const names[2] = {"last.ckpt", "best.ckpt"};
    char path[700], cfg[600], run[600], text[1024];
    long size = 0;
    prep_trained(dir, data);
    snprintf(cfg, sizeof cfg, "%s/a.cfg", dir);
    snprintf(run, sizeof run, "%s/run", dir);
    for (int k = 1; k >= 0; k--) {
        snprintf(path, sizeof path, "%s/%s", run, names[k]);
        size = slurp(path, before[k], sizeof before[k]);
        ck_assert(size > 200 && size < (long)sizeof before[k]);
    }
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct rlimit lim = {(rlim_t)size / 2, (rlim_t)size / 2};
        snprintf(text, sizeof text, "%s/stderr", dir);
        if (!freopen(text, "w", stderr) || !freopen("/dev/null", "w", stdout) ||
            setrlimit(RLIMIT_FSIZE, &lim) != 0)
            _exit(99);
        signal(SIGXFSZ, SIG_IGN);
        execl("./cnet", "cnet", "train", cfg, "--resume", "--epochs", "2", "--run-dir", run,
              (char *)NULL);
        _exit(98);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %d", st);
    char want[1024], got[2048] = "";
    snprintf(text, sizeof text, "%s/stderr", dir);
    got[slurp(text, got, sizeof got - 1)] = '\0';
    snprintf(want, sizeof want, "cnet: error: %s/*.ckpt: write failed (File too large); the "
             "previous checkpoint is kept\n", run);
    ck_assert_msg(matches(want, got), "got: %s", got);
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/%s", run, names[k]);
        ck_assert_int_eq(slurp(path, after, sizeof after), size);
        ck_assert_int_eq(memcmp(before[k], after, (size_t)size), 0);
        snprintf(text, sizeof text, "%s.tmp", path);
        ck_assert_int_ne(access(text, F_OK), 0);
    }
    snprintf(path, sizeof path, "%s/last.ckpt", run);
    cn_cfg *c = NULL;
    cn_net *net = NULL;
    cn_error err = {0};
    cn_ckpt_info info;
    ck_assert_msg(!cn_cfg_parse_file(cfg, &c, &err) && !cn_net_create(c, &net, &err) &&
                  !cn_ckpt_load(net, path, &info, &err), "%s", err.msg);
    ck_assert_int_eq(info.epoch, 1);
    cn_net_free(net);
    cn_cfg_free(c);
}
END_TEST

/* ---- numerical faults: losses on saturated inputs ---- */

/* A net on 4 inputs whose dense layers named y, t, mu, lv and h select
 * inputs (unit i reads x[(i + shift) % 4], weights 0/1, bias 0), so the
 * losses see the extreme values of x exactly. */
typedef struct sat_row {
    const char *name, *layers;
    float x[8];    /* (2, 4) */
    int labels[2];
} sat_row;

#define SAT_NET "[net]\nbatch=2\ninput=1,1,4\n"
#define BIG 1e4f

static const sat_row sat_rows[] = {
    {"bce on probabilities 0 and 1 against the opposite",
     "[dense]\nname=y\noutput=4\n[bce]\ntarget=input\n", {0, 1, 0, 1, 1, 1, 0, 0}, {-1, -1}},
    {"cce on the label's probability 0", "[dense]\nname=y\noutput=4\n[cce]\ninput=probs\n",
     {0, 0, 1, 0, 0, 0, 0, 1}, {0, 3}},
    {"cce on logits of 1e4", "[dense]\nname=y\noutput=4\n[cce]\n",
     {BIG, -BIG, -BIG, BIG, -BIG, BIG, BIG, -BIG}, {0, 1}},
    {"kl on probability 0 where the target has mass",
     "[dense]\nname=t\noutput=4\n[dense]\nname=y\nfrom=input\noutput=4\n[kl]\ninput=probs\n"
     "target=t\ntarget_grad=1\n", {0, 1, 0, 0, 0, 0, 0, 1}, {-1, -1}},
    {"kl_sparse on sigmoid units at 0 and 1 over the batch",
     "[dense]\nname=y\noutput=4\n[sigmoid]\n[kl_sparse]\n",
     {BIG, -BIG, BIG, -BIG, BIG, -BIG, BIG, -BIG}, {-1, -1}},
    {"entropy on logits of 1e4", "[dense]\nname=y\noutput=4\n[entropy]\n",
     {BIG, -BIG, 0, BIG, -BIG, -BIG, -BIG, BIG}, {-1, -1}},
    {"log_sparse on outputs of 1e19 and 1e30", "[dense]\nname=y\noutput=4\n[log_sparse]\n",
     {1e19f, -1e19f, 1e30f, 0, 0, 0, -1e30f, 1}, {-1, -1}},
    {"kl_gauss at |mu| = 1e4 and logvar = +-80",
     "[dense]\nname=mu\noutput=2\n[dense]\nname=lv\nfrom=input\noutput=2\n[sample]\n"
     "from=mu,lv\n[kl_gauss]\n", {BIG, -BIG, 80, -80, 0, 0, 80, 80}, {-1, -1}},
    {"contractive on a saturated sigmoid encoder",
     "[dense]\nname=h\noutput=4\nactivation=sigmoid\n[contractive]\n",
     {BIG, -BIG, BIG, -BIG, -BIG, -BIG, BIG, BIG}, {-1, -1}},
};

static void select_inputs(cn_net *net, const char *name, int shift)
{
    cn_layer *l = cn_net_find_layer(net, name);
    if (!l)
        return;
    cn_param *w = cn_layer_param(l, "W"), *b = cn_layer_param(l, "b");
    int out = (int)(w->count / 4); /* W (out, 4) */
    for (int i = 0; i < out; i++)
        for (int j = 0; j < 4; j++)
            w->value[i * 4 + j] = j == (i + shift) % 4 ? 1.0f : 0.0f;
    memset(b->value, 0, b->count * sizeof *b->value);
}

START_TEST(test_losses_saturated)
{
    const sat_row *r = &sat_rows[_i];
    char text[1024];
    snprintf(text, sizeof text, SAT_NET "%s", r->layers);
    cn_net *net = tu_net(text);
    static const struct {
        const char *name;
        int shift;
    } sel[] = {{"y", 1}, {"t", 0}, {"mu", 0}, {"lv", 2}, {"h", 1}};
    for (size_t i = 0; i < sizeof sel / sizeof sel[0]; i++)
        select_inputs(net, sel[i].name, sel[i].shift);
    cn_error err = {0};
    cn_net_set_train(net, 1);
    cn_net_set_batch(net, r->x, r->labels, 2);
    const cn_step_opts grad = {.kind = CN_STEP_GRAD};
    double loss;
    ck_assert_msg(cn_net_step(net, &grad, &loss, &err) == CN_OK, "%s: %s", r->name, err.msg);
    ck_assert_msg(isfinite(loss), "%s: loss %g", r->name, loss);
    ck_assert_msg(cn_net_check_finite(net, loss, &err) == CN_OK, "%s: %s", r->name, err.msg);
    for (int i = 1; i < cn_net_n_layers(net); i++) {
        const cn_layer *l = cn_net_layer(net, i);
        ck_assert_msg(cn_all_finite(l->dout.data, cn_tensor_count(&l->dout)),
                      "%s: gradient into layer '%s' is not finite", r->name, l->name);
    }
    cn_net_free(net);
}
END_TEST

/* docs/errors.md lists every row of the table above and has at least 40
 * numbered rows. */
/* The other side of row resume_other_optim: `cnet eval` of a checkpoint
 * made with another optimizer loads its weights and exits 0. */
START_TEST(test_other_optim_eval)
{
    const char *dir = tu_tmpdir();
    const char *data = tu_idx_dataset(64, 16, 4, 4, 3, 7);
    char text[1024], cmd[2048];
    prep_trained(dir, data); /* plain SGD */
    snprintf(text, sizeof text, "[net]\nbatch=8\ninput=1,4,4\nepochs=1\n[data]\ndir=%s\n"
             "[optim]\ntype=adam\nlr=0.01\n" CLS, data);
    tu_write(dir, "x.cfg", text);
    snprintf(cmd, sizeof cmd, "./cnet eval %s/x.cfg --weights %s/run/last.ckpt >%s/out "
             "2>&1 </dev/null", dir, dir, dir);
    int st = system(cmd);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "cnet eval exited %d", st);
}
END_TEST

/* A run folder remembers its settings: eval given the folder (or the cfg)
 * needs none of the training's overrides; --resume lists what it changes
 * and says when the run is finished. */
START_TEST(test_run_settings)
{
    const char *dir = tu_tmpdir();
    const char *data = tu_idx_dataset(64, 16, 4, 4, 3, 7);
    char text[1024], cmd[2048], out[4096], want[2048];
    snprintf(text, sizeof text, "[net]\nbatch=8\ninput=1,4,4\nepochs=1\n[data]\ndir=%s\n"
             "[optim]\nlr=0.1\n" CLS, data);
    tu_write(dir, "x.cfg", text);
    /* trained with an override that changes the net: output=3 -> a 5-class head */
    snprintf(cmd, sizeof cmd, "./cnet train %s/x.cfg --run-dir %s/run --set dense.output=5", dir,
             dir);
    ck_assert_int_eq(tu_run(cmd, out, sizeof out), 0);
    snprintf(text, sizeof text, "%s/run/run.cfg", dir);
    ck_assert_int_eq(access(text, R_OK), 0);
    /* the folder alone: its run.cfg builds the 5-output net the checkpoint fits */
    snprintf(cmd, sizeof cmd, "./cnet eval %s/run", dir);
    ck_assert_msg(tu_run(cmd, out, sizeof out) == 0, "%s", out);
    /* the cfg and the folder: the run's settings, with a note on the difference */
    snprintf(cmd, sizeof cmd, "./cnet eval %s/x.cfg --run-dir %s/run", dir, dir);
    ck_assert_msg(tu_run(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(want, sizeof want, "cnet: note: using the run's settings %s/run/run.cfg, which "
             "differ from %s/x.cfg in: dense.output (5, not 3)\n", dir, dir);
    ck_assert_msg(strstr(out, want), "%s", out);
    /* a run folder that does not exist is an error, not another run's checkpoint */
    snprintf(cmd, sizeof cmd, "./cnet eval %s/x.cfg --run-dir %s/none", dir, dir);
    ck_assert_int_eq(tu_run(cmd, out, sizeof out), 1);
    snprintf(want, sizeof want, "cnet: error: no run folder %s/none: train it first (cnet train "
             "%s/x.cfg), or name the run with --run-dir, or give --weights\n", dir, dir);
    ck_assert_str_eq(out, want);
    /* resume: more epochs and a new rate are applied and listed */
    snprintf(cmd, sizeof cmd, "./cnet train %s/x.cfg --run-dir %s/run --set dense.output=5 "
             "--resume --epochs 2 --set optim.lr=0.05", dir, dir);
    ck_assert_msg(tu_run(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(want, sizeof want, "resuming %s/run with changed settings: net.epochs 1 -> 2; "
             "optim.lr 0.1 -> 0.05\nthe learning-rate schedule now spans 16 steps (2 epochs of 8 "
             "batches) and goes on from step 8 with the settings above\n", dir);
    ck_assert_msg(strstr(out, want), "%s", out);
    /* a finished run says so */
    snprintf(cmd, sizeof cmd, "./cnet train %s/run/run.cfg --run-dir %s/run --resume", dir, dir);
    ck_assert_msg(tu_run(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(want, sizeof want, "%s/run is finished: 2 of 2 epochs done, nothing to train (more "
             "epochs: --epochs N with --resume)\n", dir);
    ck_assert_msg(strstr(out, want), "%s", out);
}
END_TEST

START_TEST(test_doc_rows)
{
    static char doc[1 << 17];
    FILE *f = fopen("docs/errors.md", "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[n] = '\0';
    char name[80];
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        snprintf(name, sizeof name, "`%s`", rows[i].name);
        ck_assert_msg(strstr(doc, name), "docs/errors.md does not list %s", name);
    }
    int numbered = 0;
    for (const char *p = strstr(doc, "\n| "); p; p = strstr(p + 1, "\n| "))
        numbered += p[3] >= '0' && p[3] <= '9';
    ck_assert_int_ge(numbered, 40);
}
END_TEST

/* Far-negative inputs through the vectorised sigmoid give 0, not the NaN
 * that 1 / (1 + inf) becomes with a fast-math reciprocal (src/act.c). */
START_TEST(test_sigmoid_far_negative)
{
    float x[32];
    for (int i = 0; i < 32; i++)
        x[i] = i % 2 ? -1e4f : -50.0f;
    cn_act_forward(CN_ACT_SIGMOID, 2.0f, x, 32);
    for (int i = 0; i < 32; i++)
        ck_assert_msg(x[i] >= 0.0f && x[i] < 1e-30f, "sigmoid[%d] = %g", i, x[i]);
}
END_TEST

Suite *errors_suite(void)
{
    Suite *s = suite_create("errors");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_bad_input, 0, (int)(sizeof rows / sizeof rows[0]));
    tcase_add_test(tc, test_disk_full);
    tcase_add_test(tc, test_doc_rows);
    tcase_add_test(tc, test_other_optim_eval);
    tcase_add_test(tc, test_run_settings);
    suite_add_tcase(s, tc);
    tc = tcase_create("numerics");
    tcase_add_loop_test(tc, test_losses_saturated, 0,
                        (int)(sizeof sat_rows / sizeof sat_rows[0]));
    tcase_add_test(tc, test_sigmoid_far_negative);
    suite_add_tcase(s, tc);
    return s;
}
